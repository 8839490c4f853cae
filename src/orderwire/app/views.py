"""Read models: what the REST API, the tracking page and the sandbox show."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from orderwire.app import escalations, vendor_calls
from orderwire.app.runtime import Runtime
from orderwire.domain.model import Order, order_from_json, to_json
from orderwire.store.db import reading
from orderwire.store.tables import customers, jobs, message_statuses, messages, orders, timeline


def pending_events(rt: Runtime, order_id: str) -> int:
    """Events that wait for an order not known yet."""
    with reading(rt.engine) as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(jobs)
                .where(
                    jobs.c.shop_id == rt.shop_id,
                    sa.or_(jobs.c.order_ref == f"order:{order_id}", jobs.c.alt_ref == f"order:{order_id}"),
                    jobs.c.status.in_(("parked", "pending")),
                    jobs.c.kind.not_in(list(vendor_calls.PERFORMERS)),  # commerce: calls are not events
                )
            ).scalar_one()
        )


def order_view(rt: Runtime, order_id: str) -> dict[str, Any] | None:
    """State, timeline and messages (with delivery statuses) of one order."""
    # One snapshot for the order and everything around it: read one by one, a change committed in
    # between could show a timeline note whose scan the order does not have yet.
    with reading(rt.engine) as conn:
        row = conn.execute(
            sa.select(orders).where(orders.c.shop_id == rt.shop_id, orders.c.order_id == order_id)
        ).first()
        if row is None:
            return None
        events = conn.execute(
            sa.select(timeline).where(timeline.c.order_pk == row.id).order_by(timeline.c.id)
        ).all()
        sent = conn.execute(
            sa.select(messages).where(messages.c.order_pk == row.id).order_by(messages.c.id)
        ).all()
        window = conn.execute(
            sa.select(customers.c.window_expires_at).where(customers.c.id == row.customer_id)
        ).scalar()
        wamids = [m.wamid for m in sent if m.wamid]
        history = conn.execute(
            sa.select(message_statuses)
            .where(message_statuses.c.wamid.in_(wamids))
            .order_by(message_statuses.c.at)
        ).all()
        cases = escalations.open_cases(rt, int(row.id), conn)
    order = order_from_json(row.state)
    by_wamid: dict[str, list[dict[str, Any]]] = {}
    for h in history:
        by_wamid.setdefault(h.wamid, []).append({"status": h.status, "at": h.at.isoformat()})
    state = to_json(order)
    return {
        "order_id": order.order_id,
        "number": order.number,
        "stage": order.stage.value,
        "paid": order.paid,
        "payment_method": order.payment.value,
        "cod_status": order.cod_status.value,  # commerce
        "expected_delivery_date": state["edd"],
        "tracking_url": f"{rt.settings.public_url.rstrip('/')}/t/{row.tracking_token}",
        # When WhatsApp's 24-hour window with the customer closes (None: they never wrote): after it, only
        # templates reach them, so staff know whether a free-form reply is still possible.
        "customer": {**state["customer"], "window_expires_at": window.isoformat() if window else None},
        "rating": order.rating,
        "feedback": order.feedback,
        "items": state["items"],
        "total": state["total"],
        "shipping_address": state["address"],
        "shipments": state["shipments"],
        "returns": state["returns"],  # returns helper: return requests (RMA, status, photos, refund)
        "timeline": [
            {
                "at": e.at.isoformat(),
                "recorded_at": e.recorded_at.isoformat(),
                "event": e.kind,
                "outcome": e.outcome,
                "note": e.note,
                "alerts": e.detail.get("alerts", []),
            }
            for e in events
        ],
        "messages": [
            {
                "direction": m.direction,
                "kind": m.kind,
                "template": m.template,
                "language": m.language,
                "status": m.status,
                "send_after": m.send_after.isoformat(),
                "wamid": m.wamid,
                "error_code": m.error_code,
                "error_detail": m.error_detail,
                "needs_attention": m.needs_attention,
                "statuses": by_wamid.get(m.wamid or "", []),
            }
            for m in sent
        ],
        "escalations": cases,
    }


def order_by_token(rt: Runtime, token: str) -> tuple[Order, list[sa.Row[Any]]] | None:
    """The order behind a tracking link, with its timeline."""
    with rt.engine.connect() as conn:
        row = conn.execute(sa.select(orders).where(orders.c.tracking_token == token)).first()
        if row is None:
            return None
        events = conn.execute(
            sa.select(timeline).where(timeline.c.order_pk == row.id).order_by(timeline.c.at)
        ).all()
    return order_from_json(row.state), list(events)
