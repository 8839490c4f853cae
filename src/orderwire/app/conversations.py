"""WhatsApp webhook use case: store the delivery, then record statuses, template changes, inbound messages."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from orderwire.app import templates
from orderwire.app.runtime import Runtime
from orderwire.domain.consent import consent_change
from orderwire.integrations.whatsapp.webhook import Parsed
from orderwire.store import queries
from orderwire.store.tables import customers, inbound, message_statuses, messages

SERVICE_WINDOW = timedelta(hours=24)


def record_whatsapp_delivery(rt: Runtime, raw: bytes, parsed: Parsed | None, note: str = "") -> bool:
    """Persist one webhook delivery and what it says, in one transaction; False if seen before."""
    now = rt.clock()
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
        for change in parsed.templates:
            templates.record_update(conn, rt.shop_id, change, now)
        for message in parsed.messages:
            if not message.phone:
                continue  # username-only contacts are matched by user id once the bot lands
            customer_id = queries.upsert_customer(conn, rt.shop_id, message.phone, "", "en", now)
            values: dict[str, object] = {
                "window_expires_at": message.at + SERVICE_WINDOW,
                "user_id": message.user_id or customers.c.user_id,
            }
            consent = consent_change(message.text) if message.type in ("text", "button") else None
            if consent is not None:
                values["opted_out"] = not consent  # STOP must work (WhatsApp Business Policy)
            conn.execute(customers.update().where(customers.c.id == customer_id).values(**values))
            queries.insert_ignore(
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
    return True
