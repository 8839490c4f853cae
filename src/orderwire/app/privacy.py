"""Personal data on request and by age: erase one customer, purge old conversations.

Erasing keeps the anonymised figures (stages, totals, timestamps, message statuses) the dashboard and
reports count, and removes what names or reaches a person: phone, name, user id, address, message bodies,
raw webhook bodies that mention them, sandbox chats, staff case details. The customer row stays (as an
anonymous, opted-out row) so a later message from the same number starts afresh rather than reviving it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from orderwire.app.runtime import Runtime
from orderwire.store.tables import (
    customers,
    escalations,
    inbound,
    jobs,
    messages,
    orders,
    sandbox_messages,
    timeline,
)

ERASED = "[erased]"


@dataclass
class Erased:
    """What an erase touched, table by table (row counts)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, count: int) -> None:
        """Count rows changed in `table`."""
        self.counts[table] = self.counts.get(table, 0) + max(count, 0)


def anonymous_phone(phone: str) -> str:
    """A stable stand-in for an erased number: it cannot be reversed and never matches a real one."""
    return "x" + hashlib.sha256(phone.encode()).hexdigest()[:19]


def erase_customer(rt: Runtime, phone: str) -> Erased | None:
    """Remove one customer's personal data (E.164 `phone`); None when the shop has no such customer."""
    now = rt.clock()
    done = Erased()
    with rt.engine.begin() as conn:
        customer = conn.execute(
            sa.select(customers).where(customers.c.shop_id == rt.shop_id, customers.c.phone == phone)
        ).first()
        if customer is None:
            return None
        order_rows = conn.execute(
            sa.select(orders.c.id, orders.c.order_id, orders.c.state).where(
                orders.c.customer_id == customer.id
            )
        ).all()
        order_pks = [o.id for o in order_rows]
        for row in order_rows:
            conn.execute(
                orders.update()
                .where(orders.c.id == row.id)
                .values(state=_anonymised(row.state), updated_at=now)
            )
        done.add("orders", len(order_rows))
        refs = [f"order:{o.order_id}" for o in order_rows]
        inbound_ids = set(
            conn.execute(
                sa.select(jobs.c.inbound_id).where(
                    jobs.c.shop_id == rt.shop_id, jobs.c.order_ref.in_(refs), jobs.c.inbound_id.is_not(None)
                )
            ).scalars()
        )
        digits = phone.lstrip("+")
        mentions = sa.or_(*(inbound.c.body.contains(form) for form in _phone_forms(digits)))
        inbound_ids |= set(
            conn.execute(sa.select(inbound.c.id).where(inbound.c.shop_id == rt.shop_id, mentions)).scalars()
        )
        if inbound_ids:
            done.add(
                "inbound",
                conn.execute(
                    inbound.update().where(inbound.c.id.in_(inbound_ids)).values(body=ERASED)
                ).rowcount,
            )
        done.add(
            "jobs",
            conn.execute(
                jobs.update()
                .where(jobs.c.shop_id == rt.shop_id, jobs.c.order_ref.in_(refs), jobs.c.status != "pending")
                .values(payload={})
            ).rowcount,
        )
        done.add(
            "messages",
            conn.execute(
                messages.update()
                .where(messages.c.customer_id == customer.id)
                .values(payload={}, error_detail="", updated_at=now)
            ).rowcount,
        )
        if order_pks:
            done.add(
                "timeline",
                conn.execute(
                    timeline.update().where(timeline.c.order_pk.in_(order_pks)).values(detail={}, note=ERASED)
                ).rowcount,
            )
            done.add(
                "escalations",
                conn.execute(
                    escalations.update().where(escalations.c.order_pk.in_(order_pks)).values(detail={})
                ).rowcount,
            )
        done.add(
            "sandbox_messages",
            conn.execute(
                sandbox_messages.delete().where(sandbox_messages.c.customer_phone == phone)
            ).rowcount,
        )
        conn.execute(
            customers.update()
            .where(customers.c.id == customer.id)
            .values(
                phone=anonymous_phone(phone),
                name="",
                user_id=None,
                opted_out=True,
                window_expires_at=None,
            )
        )
        done.add("customers", 1)
    return done


def purge_older_than(rt: Runtime, days: int, since: datetime | None = None) -> Erased:
    """Clear conversations and raw webhook bodies older than `days` (figures and statuses stay).

    `since` skips what an earlier purge already cleared (rows created before it).
    """
    cutoff = rt.clock() - timedelta(days=days)
    done = Erased()
    with rt.engine.begin() as conn:
        old_messages = [
            messages.c.created_at < cutoff,
            messages.c.status.not_in(("scheduled", "queued", "retrying")),
        ]
        old_inbound = [inbound.c.received_at < cutoff]
        old_sandbox = [sandbox_messages.c.created_at < cutoff]
        if since is not None:
            old_messages.append(messages.c.created_at >= since - timedelta(days=days))
            old_inbound.append(inbound.c.received_at >= since - timedelta(days=days))
        done.add(
            "messages",
            conn.execute(messages.update().where(*old_messages).values(payload={}, error_detail="")).rowcount,
        )
        done.add("inbound", conn.execute(inbound.update().where(*old_inbound).values(body=ERASED)).rowcount)
        done.add("sandbox_messages", conn.execute(sandbox_messages.delete().where(*old_sandbox)).rowcount)
    return done


def _phone_forms(digits: str) -> list[str]:
    """How a number appears in vendors' bodies: with country code (WhatsApp wa_id) or national (couriers)."""
    forms = [digits]
    if digits.startswith("91") and len(digits) == 12:
        forms.append(digits[2:])
    return forms


def _anonymised(state: dict[str, Any]) -> dict[str, Any]:
    """The order's state without the person: no phone, name or street address (city and PIN stay for
    figures by region)."""
    customer = dict(state.get("customer", {}))
    customer |= {"phone": anonymous_phone(str(customer.get("phone", ""))), "name": ""}
    address = dict(state.get("address", {}))
    address |= {"line1": ERASED, "line2": "", "landmark": ""}
    shipments = [
        {
            **s,
            "agent_phone": "",
            "ndr_address": [],
            "scans": [{**sc, "description": ""} for sc in s.get("scans", [])],
        }
        for s in state.get("shipments", [])
    ]
    return {**state, "customer": customer, "address": address, "shipments": shipments}
