"""A customer's conversation for staff (the console): the thread, the service window, what staff may send.

Free text goes only inside the 24-hour window; outside it, only a template the send-time gate would let
through (domain/template_gate.choose over what Meta last said). Both are stored through app/orders.py's
staff entry points, the same path the bot's and the lifecycle's messages take, and sent by the worker.
NDR actions go to the courier through app/courier_actions.request, as the bot's do.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from orderwire.app import courier_actions, orders, templates, views
from orderwire.app.runtime import Runtime
from orderwire.bot.turn import CourierRequest, Outgoing
from orderwire.domain.interactive import SessionError, SessionMessage, Style, check
from orderwire.domain.lifecycle import MessageIntent, MessageKind
from orderwire.domain.messages import compose
from orderwire.domain.model import Order, ShipmentStatus, order_from_json
from orderwire.domain.template_gate import choose
from orderwire.domain.templates import render_text
from orderwire.integrations.whatsapp.client import message_from_payload
from orderwire.store import queries
from orderwire.store.db import reading
from orderwire.store.tables import customers, jobs, message_statuses, messages
from orderwire.store.tables import orders as orders_table

THREAD_LIMIT = 300
TICKS = {
    "scheduled": ("waiting", "🕓"),
    "queued": ("waiting", "🕓"),
    "retrying": ("retrying", "🕓"),
    "held": ("held", "⏸"),
    "accepted": ("sent", "✓"),
    "sent": ("sent", "✓"),
    "delivered": ("delivered", "✓✓"),
    "read": ("read", "✓✓"),
    "failed": ("failed", "!"),
    "cancelled": ("cancelled", "–"),
    "suppressed": ("not sent (opted out)", "–"),
}


class ReplyRefused(ValueError):
    """The reply would not reach the customer (window closed, template unusable, empty text, opted out)."""


@dataclass(frozen=True)
class Conversation:
    """Everything the conversation page shows."""

    order: dict[str, Any]
    order_pk: int
    customer: dict[str, Any]
    thread: list[dict[str, Any]]
    window_open: bool
    window_left: timedelta | None
    templates: list[dict[str, str]]
    ndr: dict[str, Any] | None
    newest_message: int


def _order_row(conn: sa.Connection, rt: Runtime, order_id: str) -> sa.Row[Any] | None:
    return conn.execute(
        sa.select(orders_table).where(
            orders_table.c.shop_id == rt.shop_id, orders_table.c.order_id == order_id
        )
    ).first()


def conversation(rt: Runtime, order_id: str) -> Conversation | None:
    """The thread with the order's customer, the order's view, the window, and the possible replies."""
    view = views.order_view(rt, order_id)
    if view is None:
        return None
    now = rt.clock()
    with reading(rt.engine) as conn:
        row = _order_row(conn, rt, order_id)
        if row is None:
            return None
        customer = conn.execute(sa.select(customers).where(customers.c.id == row.customer_id)).one()
        rows = conn.execute(
            sa.select(messages)
            .where(messages.c.customer_id == row.customer_id, messages.c.shop_id == rt.shop_id)
            .order_by(messages.c.id.desc())
            .limit(THREAD_LIMIT)
        ).all()
        wamids = [m.wamid for m in rows if m.wamid]
        reached = conn.execute(
            sa.select(message_statuses.c.wamid, message_statuses.c.status, message_statuses.c.at).where(
                message_statuses.c.wamid.in_(wamids)
            )
        ).all()
        order = order_from_json(row.state)
        offered = template_choices(conn, rt, order, str(row.tracking_token))
    status_times: dict[str, dict[str, datetime]] = {}
    for s in reached:
        status_times.setdefault(s.wamid, {})[s.status] = s.at
    thread = [_entry(rt, m, status_times.get(m.wamid or "", {})) for m in reversed(rows)]
    expires = customer.window_expires_at
    window_open = expires is not None and expires > now
    return Conversation(
        order=view,
        order_pk=int(row.id),
        customer={
            "name": customer.name,
            "phone": customer.phone,
            "language": customer.language,
            "opted_out": customer.opted_out,
            "window_expires_at": expires,
        },
        thread=thread,
        window_open=window_open,
        window_left=(expires - now) if window_open and expires is not None else None,
        templates=offered,
        ndr=_ndr_state(order),
        newest_message=max((m.id for m in rows), default=0),
    )


def newest_message_id(rt: Runtime, order_id: str) -> int:
    """The highest message id in the customer's thread (live pages poll it)."""
    with reading(rt.engine) as conn:
        customer_id = conn.execute(
            sa.select(orders_table.c.customer_id).where(
                orders_table.c.shop_id == rt.shop_id, orders_table.c.order_id == order_id
            )
        ).scalar()
        if customer_id is None:
            return 0
        newest = conn.execute(
            sa.select(sa.func.max(messages.c.id)).where(messages.c.customer_id == customer_id)
        ).scalar()
    return int(newest or 0)


def _entry(rt: Runtime, m: Any, reached: dict[str, datetime]) -> dict[str, Any]:
    label, tick = TICKS.get(m.status, (m.status, ""))
    return {
        "id": m.id,
        "direction": m.direction,
        "kind": m.kind,
        "template": m.template,
        "text": message_text(rt, m.direction, m.payload),
        "at": m.send_after if m.direction == "in" else m.created_at,
        "status": m.status,
        "status_label": label,
        "tick": tick if m.direction == "out" else "",
        "error": f"{m.error_code} {m.error_detail}".strip() if m.status in ("failed", "held") else "",
        "reached": {k: v for k, v in sorted(reached.items(), key=lambda kv: kv[1])},
    }


def message_text(rt: Runtime, direction: str, payload: dict[str, Any]) -> str:
    """What the message says, as the customer saw or wrote it."""
    kind = payload.get("type", "")
    if direction == "in":
        if kind == "text":
            return str(payload.get("text", {}).get("body", ""))
        if kind == "button":
            return str(payload.get("button", {}).get("text", ""))
        if kind == "interactive":
            inner = payload.get("interactive", {})
            picked = inner.get("button_reply") or inner.get("list_reply") or {}
            return str(picked.get("title", ""))
        caption = payload.get(kind, {}).get("caption", "") if isinstance(payload.get(kind), dict) else ""
        return f"[{kind}] {caption}".strip()
    if kind == "text":
        return str(payload.get("text", {}).get("body", ""))
    if kind == "interactive":
        return str(payload.get("interactive", {}).get("body", {}).get("text", ""))
    if kind == "template":
        message = message_from_payload(payload)
        definition = rt.catalogue.get(message.template)
        if definition is None:
            return f"[template {message.template}]"
        shown = render_text(message, definition)
        return "\n".join(p for p in (shown["header"], shown["body"]) if p)
    return f"[{kind}]"


def _latest_awb(order: Order) -> str:
    return order.shipments[-1].awb if order.shipments else ""


def template_choices(conn: sa.Connection, rt: Runtime, order: Order, token: str) -> list[dict[str, str]]:
    """Templates staff may send now: those that compose for this order and that the gate would let go."""
    awb = _latest_awb(order)
    known = templates.remote_templates(conn, rt.shop_id, list(rt.catalogue))
    offered = []
    for kind in MessageKind:
        try:
            message = compose(kind, order, awb, token)
        except ValueError:
            continue  # e.g. a shipment template for an order not shipped yet
        verdict = choose(message, rt.catalogue, known)
        if verdict.message is None:
            continue
        definition = rt.catalogue[verdict.message.template]
        if definition.category.upper() == "MARKETING" and not order.customer.marketing_opt_in:
            continue  # marketing needs the customer's opt-in (WhatsApp Business Policy)
        preview = render_text(verdict.message, definition)["body"]
        offered.append({"kind": kind.value, "template": verdict.message.template, "preview": preview})
    return offered


def _ndr_state(order: Order) -> dict[str, Any] | None:
    failed = [s for s in order.shipments if s.status is ShipmentStatus.DELIVERY_FAILED]
    if not failed:
        return None
    s = failed[-1]
    return {"awb": s.awb, "attempt": s.attempt, "courier": s.courier, "reason": s.failure_reason}


def reply_text(rt: Runtime, order_id: str, text: str, staff_id: int) -> None:
    """Free text from staff to the customer; refused unless the window is open (checked again here)."""
    text = text.strip()
    message = SessionMessage(Style.TEXT, text)
    try:
        check(message)
    except SessionError as exc:
        raise ReplyRefused(str(exc)) from exc
    now = rt.clock()
    with rt.engine.begin() as conn:
        row = _order_row(conn, rt, order_id)
        if row is None:
            raise ReplyRefused("unknown order")
        customer = conn.execute(sa.select(customers).where(customers.c.id == row.customer_id)).one()
        if customer.opted_out:
            raise ReplyRefused("the customer opted out (STOP)")
        if customer.window_expires_at is None or customer.window_expires_at <= now:
            raise ReplyRefused("the 24-hour window is closed: send an approved template instead")
        key = f"staff:{staff_id}:{secrets.token_hex(8)}"
        orders.send_staff_session_message(conn, rt, int(row.id), Outgoing("staff", key, message), now)
        _note(conn, int(row.id), now, "staff replied on WhatsApp", staff_id)


def send_template(rt: Runtime, order_id: str, kind: str, staff_id: int) -> None:
    """An approved template chosen by staff; refused unless it is on offer for this order right now."""
    now = rt.clock()
    with rt.engine.begin() as conn:
        row = _order_row(conn, rt, order_id)
        if row is None:
            raise ReplyRefused("unknown order")
        customer = conn.execute(sa.select(customers).where(customers.c.id == row.customer_id)).one()
        if customer.opted_out:
            raise ReplyRefused("the customer opted out (STOP)")
        order = order_from_json(row.state)
        offered = {t["kind"] for t in template_choices(conn, rt, order, str(row.tracking_token))}
        if kind not in offered:
            raise ReplyRefused(f"template {kind!r} cannot be delivered for this order now")
        key = f"staff:{staff_id}:{kind}:{secrets.token_hex(8)}"
        intent = MessageIntent(MessageKind(kind), key, now, _latest_awb(order))
        orders.send_staff_template(conn, rt, int(row.id), intent, now)
        _note(conn, int(row.id), now, f"staff sent the {kind} template", staff_id)


def request_courier_action(
    rt: Runtime,
    order_id: str,
    staff_id: int,
    action: str,
    reattempt_on: date | None = None,
    address1: str = "",
    address2: str = "",
    phone: str = "",
) -> bool:
    """Ask the courier to re-attempt (on a day, or at a new address) for the latest failed attempt.

    Once per parcel and attempt, like the bot's request: False when one was already queued.
    """
    now = rt.clock()
    with rt.engine.begin() as conn:
        row = _order_row(conn, rt, order_id)
        if row is None:
            raise ReplyRefused("unknown order")
        ndr = _ndr_state(order_from_json(row.state))
        if ndr is None:
            raise ReplyRefused("no failed delivery to act on")
        if action == "reattempt":
            comments = "Staff asked for a re-attempt" + (f" on {reattempt_on}" if reattempt_on else "")
            request = CourierRequest(ndr["awb"], ndr["attempt"], "re-attempt", comments, reattempt_on)
        elif action == "change_address":
            if not address1.strip():
                raise ReplyRefused("give the new address")
            request = CourierRequest(
                ndr["awb"],
                ndr["attempt"],
                "re-attempt",
                "Staff updated the delivery address",
                phone=phone.strip(),
                address1=address1.strip()[:200],
                address2=address2.strip()[:200],
            )
        else:
            raise ReplyRefused(f"unknown action {action!r}")
        key = f"ndr:{row.id}:{request.awb}:{request.attempt}"  # courier_actions.request's dedupe key
        asked = conn.execute(
            sa.select(jobs.c.id).where(jobs.c.shop_id == rt.shop_id, jobs.c.dedupe_key == key)
        ).first()
        if asked is not None:
            return False
        courier_actions.request(conn, rt, str(row.order_id), int(row.id), request, now)
        _note(conn, int(row.id), now, f"staff asked the courier: {action} for {ndr['awb']}", staff_id)
    return True


def _note(conn: sa.Connection, order_pk: int, now: datetime, note: str, staff_id: int) -> None:
    """Staff actions are on the order's timeline too."""
    queries.add_timeline(conn, order_pk, now, now, "staff", "applied", note, {"staff_id": staff_id})
