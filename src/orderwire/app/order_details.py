"""Order details that never came: a payment waiting for its order fetches the order from the shop.

A PaymentCaptured or PaymentFailed for an order we do not know is parked (orders._apply). If the order's
details do not follow within `order_details_wait_seconds`, a durable vendor call (`shop_fetch_order`, see
app/vendor_calls.py) asks the shop's API for the order and submits the answer like any inbound
OrderPlaced, so the parked payment then applies. No shop API configured, no shop order id to ask by, or
the shop has no such order: a staff case `order_details_missing` (the payment stays parked).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from orderwire.app import vendor_calls, vendors
from orderwire.app.ports import VendorError
from orderwire.app.runtime import Runtime
from orderwire.domain.events import Event, PaymentCaptured, PaymentFailed
from orderwire.store.tables import jobs

KIND = "shop_fetch_order"
SOURCE = "shop_fetch"
REASON = "order_details_missing"


def shop_order_id(ref: str, alt_ref: str) -> str:
    """The shop's order id a parked event names (`order:<id>`, first or as its fallback), or ''."""
    for candidate in (ref, alt_ref):
        kind, _, value = candidate.partition(":")
        if kind == "order" and value:
            return value
    return ""


def await_details(conn: sa.Connection, rt: Runtime, job: Any, event: Event, now: datetime) -> None:
    """A payment event was parked: fetch its order from the shop unless the details come in time."""
    if not isinstance(event, (PaymentCaptured, PaymentFailed)):
        return
    ref, alt_ref = str(job.order_ref), str(job.alt_ref or "")
    order_id = shop_order_id(ref, alt_ref)
    vendor_calls.queue(
        conn,
        rt,
        KIND,
        order_id=order_id or ref,
        order_pk=None,
        payload={"ref": ref, "alt_ref": alt_ref, "order_id": order_id},
        dedupe_key=f"fetch:{ref}",
        now=now,
        due=now + timedelta(seconds=rt.settings.order_details_wait_seconds),
    )


def _still_parked(rt: Runtime, ref: str) -> bool:
    with rt.engine.connect() as conn:
        waiting = conn.execute(
            sa.select(sa.func.count())
            .select_from(jobs)
            .where(jobs.c.shop_id == rt.shop_id, jobs.c.order_ref == ref, jobs.c.status == "parked")
        ).scalar_one()
    return bool(waiting)


def _fetch(rt: Runtime, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from orderwire.app import orders  # orders imports this module (to park and register): import late

    ref, alt_ref = str(payload["ref"]), str(payload.get("alt_ref", ""))
    if not _still_parked(rt, ref):
        return f"order details for {ref} arrived in time", {"arrived": True}
    order_id = shop_order_id(ref, alt_ref)
    if not order_id:
        raise vendor_calls.NotConfigured(
            f"a payment waits for an order we never heard of ({ref}) and names no shop order id: "
            "find the order in the shop"
        )
    shop = vendors.shop(rt.settings)
    if shop is None:
        raise vendor_calls.NotConfigured(
            f"a payment waits for order {order_id}, whose details never came, and no shop API is "
            "configured to fetch them: check the order in the shop"
        )
    try:
        placed = shop.fetch_order(order_id)
    finally:
        close = getattr(shop, "close", None)  # HTTP clients hold connections
        if callable(close):
            close()
    if placed is None:
        raise VendorError(f"the shop has no order {order_id}", retryable=False)
    event_ref = f"order:{placed.order.order_id}"
    body = json.dumps({"order_id": placed.order.order_id, "fetched_for": ref})
    orders.submit(rt, SOURCE, f"fetch:{order_id}", body, [(event_ref, placed)], topic="order")
    return f"order {order_id} fetched from the shop ({shop.name})", {"order_id": placed.order.order_id}


vendor_calls.register(KIND, vendor_calls.Performer(_fetch, unconfigured_reason=REASON, refused_reason=REASON))
