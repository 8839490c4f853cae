"""WhatsApp webhook use case: store the delivery, then record statuses, template changes, inbound messages."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from orderwire import bot
from orderwire.app import codec, escalations, templates
from orderwire.app.runtime import Runtime
from orderwire.bot.chat import CLOSED_STAGES, Chat, OrderBrief, is_open, order_named
from orderwire.domain.consent import confirmation, consent_change
from orderwire.domain.events import CustomerReplied
from orderwire.domain.interactive import SessionMessage, Style
from orderwire.domain.model import Stage, order_from_json
from orderwire.integrations.whatsapp.client import session_payload
from orderwire.integrations.whatsapp.webhook import InboundMessage, Parsed
from orderwire.store import queries
from orderwire.store.tables import customers, inbound, jobs, message_statuses, messages, orders

SERVICE_WINDOW = timedelta(hours=24)
RECENT_ORDERS = 20  # a customer's orders looked at to route a message (newest first)
OPEN_ORDERS_SHOWN = 10  # a WhatsApp list holds at most 10 rows


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
                escalations.open_message_case(conn, rt, int(row.id), now)
        for change in parsed.templates:
            templates.record_update(conn, rt.shop_id, change, now)
        for message in parsed.messages:
            replies += _record_message(conn, rt, message, now)
    if replies:
        rt.wake()
    return True


# Conversations (orderwire.bot): who wrote, the service window, STOP/START, and which order a message is
# about. Messages are deduplicated by their id (`in:<wamid>`): a redelivery changes nothing.
def _record_message(conn: sa.Connection, rt: Runtime, message: InboundMessage, now: datetime) -> int:
    """Store one inbound message once, open the window, apply STOP/START, queue the bot's turn."""
    customer_id = _customer_for(conn, rt, message, now)
    if customer_id is None:
        return 0  # a business-scoped id we never met, and no phone: kept in `inbound` for staff
    payload = dict(message.raw)
    stored = queries.insert_ignore(
        conn,
        messages,
        {
            "shop_id": rt.shop_id,
            "customer_id": customer_id,
            "direction": "in",
            "key": f"in:{message.wamid}"[:200],
            "kind": message.type[:32],
            "payload": payload,
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
    if not stored:
        return 0
    values: dict[str, object] = {"user_id": message.user_id or customers.c.user_id}
    if message.type != "system":  # a number change notice is not the customer writing to us
        values["window_expires_at"] = sa.case(
            (
                customers.c.window_expires_at > message.at + SERVICE_WINDOW,
                customers.c.window_expires_at,
            ),
            else_=message.at + SERVICE_WINDOW,
        )
    conn.execute(customers.update().where(customers.c.id == customer_id).values(**values))
    consent = consent_change(message.text) if message.type in ("text", "button") else None
    if consent is not None:  # STOP must work (WhatsApp Business Policy), with or without an order
        latest = conn.execute(
            sa.select(orders.c.id)
            .where(orders.c.shop_id == rt.shop_id, orders.c.customer_id == customer_id)
            .order_by(orders.c.id.desc())
            .limit(1)
        ).scalar()
        return int(set_consent(conn, rt, customer_id, consent, message.wamid, latest, now))
    return _reply_job(conn, rt, customer_id, message, now)


def _customer_for(conn: sa.Connection, rt: Runtime, message: InboundMessage, now: datetime) -> int | None:
    """The customer by phone (created when new), else by business-scoped user id (username-only users)."""
    if message.phone:
        return int(queries.upsert_customer(conn, rt.shop_id, message.phone, "", "en", now).id)
    if not message.user_id:
        return None
    found = conn.execute(
        sa.select(customers.c.id)
        .where(customers.c.shop_id == rt.shop_id, customers.c.user_id == message.user_id)
        .order_by(customers.c.id.desc())
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def set_consent(
    conn: sa.Connection,
    rt: Runtime,
    customer_id: int,
    opted_in: bool,
    wamid: str,
    order_pk: int | None,
    now: datetime,
) -> bool:
    """Record STOP (False) or START (True); a change, and only a change, is confirmed to the customer once.

    The confirmation is a session message: the customer's own message opened the window, and it is sent
    even after STOP (answers to the customer are not the updates they stopped)."""
    row = conn.execute(
        sa.select(customers.c.opted_out, customers.c.phone, customers.c.language).where(
            customers.c.id == customer_id
        )
    ).first()
    if row is None or bool(row.opted_out) == (not opted_in):
        return False
    conn.execute(customers.update().where(customers.c.id == customer_id).values(opted_out=not opted_in))
    text = confirmation(opted_in, row.language)
    return queries.insert_ignore(
        conn,
        messages,
        {
            "shop_id": rt.shop_id,
            "order_pk": order_pk,
            "customer_id": customer_id,
            "direction": "out",
            "key": f"consent:{customer_id}:{wamid}"[:200],
            "kind": "consent",
            "template": "",
            "language": row.language,
            "payload": session_payload(row.phone, SessionMessage(Style.TEXT, text)),
            "status": "scheduled",
            "send_after": now,
            "error_code": "",
            "error_detail": "",
            "attempts": 0,
            "needs_attention": False,
            "created_at": now,
            "updated_at": now,
        },
        ["shop_id", "key"],
    )


def chat_for(conn: sa.Connection, rt: Runtime, row: sa.Row[Any]) -> Chat:
    """What the bot may know around a message routed to order `row`: its tracking link and the customer's
    open orders (read, not locked: the bot only names them)."""
    open_rows = conn.execute(
        sa.select(orders.c.order_id, orders.c.stage, orders.c.state)
        .where(
            orders.c.shop_id == rt.shop_id,
            orders.c.customer_id == row.customer_id,
            orders.c.stage.not_in([s.value for s in CLOSED_STAGES]),
        )
        .order_by(orders.c.id.desc())
        .limit(OPEN_ORDERS_SHOWN)
    ).all()
    briefs = tuple(
        OrderBrief(r.order_id, str(r.state.get("number", r.order_id)), Stage(r.stage)) for r in open_rows
    )
    settings = rt.settings
    return Chat(
        tracking_url=f"{settings.public_url.rstrip('/')}/t/{row.tracking_token}",
        open_orders=briefs,
        review_url=settings.review_url,
        human_reply_hours=settings.human_reply_hours,
    )


def _route(
    conn: sa.Connection, rt: Runtime, customer_id: int, message: InboundMessage, now: datetime
) -> tuple[int, str] | None:
    """The order a message is about: the one its reply id names, the one it quotes, the one waiting for a
    typed answer, the one we last wrote about (within the window), else the latest open, else the latest."""
    mine = sa.and_(orders.c.shop_id == rt.shop_id, orders.c.customer_id == customer_id)
    named = order_named(message.reply_id)
    if named:
        found = conn.execute(
            sa.select(orders.c.id, orders.c.order_id).where(mine, orders.c.order_id == named)
        ).first()
        if found is not None:
            return int(found.id), str(found.order_id)
    if message.context_id:
        found = conn.execute(
            sa.select(orders.c.id, orders.c.order_id)
            .join(messages, messages.c.order_pk == orders.c.id)
            .where(mine, messages.c.shop_id == rt.shop_id, messages.c.wamid == message.context_id)
        ).first()
        if found is not None:
            return int(found.id), str(found.order_id)
    recent = conn.execute(
        sa.select(orders.c.id, orders.c.order_id, orders.c.stage, orders.c.state)
        .where(mine)
        .order_by(orders.c.id.desc())
        .limit(RECENT_ORDERS)
    ).all()
    if not recent:
        return None
    if message.type == "text" and not message.reply_id:
        for r in recent:
            if bot.awaits_text(order_from_json(r.state), now):
                return int(r.id), str(r.order_id)
    last_pk = conn.execute(
        sa.select(messages.c.order_pk)
        .where(
            messages.c.customer_id == customer_id,
            messages.c.direction == "out",
            messages.c.order_pk.is_not(None),
            messages.c.created_at >= now - SERVICE_WINDOW,
        )
        .order_by(messages.c.id.desc())
        .limit(1)
    ).scalar()
    by_pk = {r.id: r for r in recent}
    chosen = by_pk.get(last_pk) or next((r for r in recent if is_open(Stage(r.stage))), recent[0])
    return int(chosen.id), str(chosen.order_id)


def _reply_job(
    conn: sa.Connection, rt: Runtime, customer_id: int, message: InboundMessage, now: datetime
) -> int:
    """Queue the message for the bot, against the order it is about; 1 if queued."""
    routed = _route(conn, rt, customer_id, message, now)
    if routed is None:
        return 0  # nothing to talk about yet; the message is kept for staff
    order_pk, order_id = routed
    conn.execute(  # shown with the order it is about (GET /api/v1/orders/{order_id})
        messages.update()
        .where(messages.c.shop_id == rt.shop_id, messages.c.key == f"in:{message.wamid}"[:200])
        .values(order_pk=order_pk)
    )
    reply = CustomerReplied(
        message.at,
        message.wamid,
        message.type[:32],
        message.text[:1000],
        message.reply_id[:256],
        message.media_id[:200],
        message.media_mime[:100],
    )
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
