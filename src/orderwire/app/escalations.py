"""Cases handed to staff: opened by the dialogues and the courier pushes, listed by the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderwire.app import outbound
from orderwire.app.runtime import Runtime
from orderwire.store import queries
from orderwire.store.db import reading
from orderwire.store.tables import escalations, messages, orders


def open_case(
    conn: sa.Connection,
    rt: Runtime,
    order_pk: int | None,
    awb: str,
    reason: str,
    key: str,
    detail: dict[str, Any],
    now: datetime,
) -> bool:
    """Open an escalation once per key, in the caller's transaction; True when it is new."""
    opened = queries.insert_ignore(
        conn,
        escalations,
        {
            "shop_id": rt.shop_id,
            "order_pk": order_pk,
            "awb": awb,
            "reason": reason,
            "key": key[:200],
            "detail": detail,
            "status": "open",
            "created_at": now,
        },
        ["shop_id", "key"],
    )
    if opened:
        outbound.escalation_opened(conn, rt, order_pk, awb, reason, key, now)
    return opened


def resolve(rt: Runtime, case_id: int, by: int | None = None) -> bool:
    """Mark an open escalation of this shop resolved (by a staff user, if known); False when not open."""
    with rt.engine.begin() as conn:
        done = conn.execute(
            escalations.update()
            .where(
                escalations.c.id == case_id,
                escalations.c.shop_id == rt.shop_id,
                escalations.c.status == "open",
            )
            .values(status="resolved", resolved_at=rt.clock(), resolved_by=by)
        ).rowcount
    return bool(done)


def open_cases(
    rt: Runtime, order_pk: int | None = None, conn: sa.Connection | None = None
) -> list[dict[str, Any]]:
    """Open escalations, oldest first (of one order when `order_pk` is given; read on `conn` if given)."""
    query = (
        sa.select(escalations, orders.c.order_id)
        .outerjoin(orders, orders.c.id == escalations.c.order_pk)
        .where(escalations.c.shop_id == rt.shop_id, escalations.c.status == "open")
        .order_by(escalations.c.id)
    )
    if order_pk is not None:
        query = query.where(escalations.c.order_pk == order_pk)
    if conn is None:
        with reading(rt.engine) as own:
            rows = own.execute(query).all()
    else:
        rows = conn.execute(query).all()
    return [
        {
            "id": r.id,
            # commerce: a case about an order we never received names the reference it was expected by.
            "order_id": r.order_id if r.order_id is not None else str(r.detail.get("order_id", "")),
            "awb": r.awb,
            "reason": r.reason,
            "detail": r.detail,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]


def open_message_case(conn: sa.Connection, rt: Runtime, message_id: int, now: datetime) -> bool:
    """A message that failed for good becomes a case ('message_failed'), once per message.

    Only messages about an order can be cases (a case belongs to an order); in the caller's transaction.
    """
    row = conn.execute(
        sa.select(
            messages.c.shop_id,
            messages.c.order_pk,
            messages.c.kind,
            messages.c.template,
            messages.c.error_code,
            messages.c.error_detail,
        ).where(messages.c.id == message_id)
    ).first()
    if row is None or row.order_pk is None or row.shop_id != rt.shop_id:
        return False
    detail = {
        "message_id": message_id,
        "kind": row.kind,
        "template": row.template,
        "error_code": row.error_code,
        "error": (row.error_detail or "")[:300],
    }
    key = f"message_failed:{message_id}"
    return open_case(conn, rt, int(row.order_pk), "", "message_failed", key, detail, now)
