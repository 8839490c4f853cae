"""WhatsApp webhook use case: store the delivery, then record statuses, template changes, inbound messages."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa

from orderwire.app import codec, escalations, templates
from orderwire.app.runtime import Runtime
from orderwire.domain.consent import consent_change
from orderwire.domain.events import CustomerReplied
from orderwire.integrations.whatsapp.webhook import InboundMessage, Parsed
from orderwire.store import queries
from orderwire.store.tables import customers, inbound, jobs, message_statuses, messages, orders

SERVICE_WINDOW = timedelta(hours=24)


def record_whatsapp_delivery(rt: Runtime, raw: bytes, parsed: Parsed | None, note: str = "") -> bool:
    """Persist one webhook delivery and what it says, in one transaction; False if seen before."""
    now = rt.clock()
    replies = 0
    with rt.engine.begin() as conn:
        fresh = queries.insert_ignore(
            conn,
            inbound,
            {
                "shop_id": rt.shop_id,
                "source": "whatsapp",
                "dedupe_key": hashlib.sha256(raw).hexdigest(),
                "topic": "messages" if parsed else "unrecognised",
                "received_at": now,
                "body": raw.decode("utf-8", errors="replace"),
                "note": note[:500],
            },
            ["shop_id", "source", "dedupe_key"],
        )
        if not fresh or parsed is None:
            return fresh
        for status in parsed.statuses:
            queries.insert_ignore(
                conn,
                message_statuses,
                {
                    "wamid": status.wamid,
                    "status": status.status,
                    "at": status.at,
                    "detail": {"errors": list(status.errors), "pricing": status.pricing},
                },
                ["wamid", "status"],
            )
            row = conn.execute(
                sa.select(messages.c.id, messages.c.status).where(messages.c.wamid == status.wamid)
            ).first()
            if row is None:
                continue  # arrived before our own record of the send: applied when that lands
            update: dict[str, object] = {
                "status": queries.best_status(row.status, status.status),
                "updated_at": now,
            }
            if status.status == "failed":
                first = status.errors[0] if status.errors else {}
                update |= {
                    "needs_attention": True,
                    "error_code": str(first.get("code", "")),
                    "error_detail": str(first.get("title") or first.get("message") or "")[:500],
                }
            conn.execute(messages.update().where(messages.c.id == row.id).values(**update))
            if status.status == "failed":  # staff console: a message that failed for good is a case
                escalations.open_message_case(conn, int(row.id), now)
        for change in parsed.templates:
            templates.record_update(conn, rt.shop_id, change, now)
        for message in parsed.messages:
            if not message.phone:
                continue  # username-only contacts are matched by user id once the bot lands
            customer_id = queries.upsert_customer(conn, rt.shop_id, message.phone, "", "en", now)
            values: dict[str, object] = {
                "window_expires_at": sa.case(
                    (
                        customers.c.window_expires_at > message.at + SERVICE_WINDOW,
                        customers.c.window_expires_at,
                    ),
                    else_=message.at + SERVICE_WINDOW,
                ),
                "user_id": message.user_id or customers.c.user_id,
            }
            consent = consent_change(message.text) if message.type in ("text", "button") else None
            if consent is not None:
                values["opted_out"] = not consent  # STOP must work (WhatsApp Business Policy)
            conn.execute(customers.update().where(customers.c.id == customer_id).values(**values))
            stored = queries.insert_ignore(
                conn,
                messages,
                {
                    "shop_id": rt.shop_id,
                    "customer_id": customer_id,
                    "direction": "in",
                    "key": f"in:{message.wamid}",
                    "kind": message.type,
                    "payload": message.raw,
                    "status": "received",
                    "send_after": message.at,
                    "wamid": message.wamid,
                    "error_code": "",
                    "error_detail": "",
                    "attempts": 0,
                    "needs_attention": False,
                    "created_at": now,
                    "updated_at": now,
                },
                ["shop_id", "key"],
            )
            if stored and consent is None:
                replies += _reply_job(conn, rt, customer_id, message, now)
    if replies:
        rt.wake()
    return True


def _reply_job(
    conn: sa.Connection, rt: Runtime, customer_id: int, message: InboundMessage, now: datetime
) -> int:
    """Queue the reply for the bot, against the order it answers (else the customer's latest); 1 if queued."""
    order_id = None
    if message.context_id:
        order_id = conn.execute(
            sa.select(orders.c.order_id)
            .join(messages, messages.c.order_pk == orders.c.id)
            .where(messages.c.shop_id == rt.shop_id, messages.c.wamid == message.context_id)
        ).scalar()
    if order_id is None:
        order_id = conn.execute(
            sa.select(orders.c.order_id)
            .where(orders.c.shop_id == rt.shop_id, orders.c.customer_id == customer_id)
            .order_by(orders.c.id.desc())
            .limit(1)
        ).scalar()
    if order_id is None:
        return 0  # nothing to talk about yet; the message is kept for staff
    reply = CustomerReplied(message.at, message.wamid, message.type, message.text[:1000], message.reply_id)
    inserted = queries.insert_ignore(
        conn,
        jobs,
        {
            "shop_id": rt.shop_id,
            "order_ref": f"order:{order_id}",
            "kind": codec.event_kind(reply),
            "payload": codec.encode(reply),
            "status": "pending",
            "available_at": now,
            "attempts": 0,
            "last_error": "",
            "dedupe_key": f"in:{message.wamid}"[:200],
            "created_at": now,
        },
        ["shop_id", "dedupe_key"],
    )
    return int(inserted)
