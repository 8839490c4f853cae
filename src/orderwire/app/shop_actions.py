"""Cancelling an order and holding its dispatch in the shop, as durable vendor calls.

A decision or a dialogue asks with `VendorCall(SHOP_CANCEL, key, {"reason": …})` or
`VendorCall(SHOP_HOLD, key, {"hold": "1" | "0", "reason": …})`; app/vendor_calls.py queues it and runs it
here, through the configured shop API (app/vendors.py: Shopify or WooCommerce). Without one, staff get a
case to do it by hand; a refusal is retried when it may pass (5xx, 429, timeouts) and otherwise handed
to staff.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from orderwire.app import vendor_calls, vendors
from orderwire.app.ports import ShopPort
from orderwire.app.runtime import Runtime
from orderwire.domain.lifecycle import SHOP_CANCEL, SHOP_HOLD
from orderwire.store.tables import orders


def _shop_order_id(rt: Runtime, payload: dict[str, Any]) -> str:
    """The shop's id of the order the call is about (the order row it was queued for)."""
    with rt.engine.connect() as conn:
        found = conn.execute(
            sa.select(orders.c.order_id).where(orders.c.id == int(payload["order_pk"]))
        ).scalar()
    if found is None:
        raise vendor_calls.NotConfigured(f"order row {payload['order_pk']} is gone")
    return str(found)


def _with_shop(rt: Runtime, what: str) -> ShopPort:
    try:
        shop = vendors.shop(rt.settings)
    except ValueError as exc:  # e.g. a shop URL without HTTPS: staff must fix the settings
        raise vendor_calls.NotConfigured(f"shop API misconfigured ({exc}): {what} by hand") from exc
    if shop is None:
        raise vendor_calls.NotConfigured(f"no shop API configured: {what} by hand")
    return shop


def _close(shop: ShopPort) -> None:
    close = getattr(shop, "close", None)
    if callable(close):
        close()


def _cancel(rt: Runtime, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    order_id = _shop_order_id(rt, payload)
    reason = str(payload.get("reason", ""))
    shop = _with_shop(rt, f"cancel order {order_id}")
    try:
        shop.cancel_order(order_id, reason)
    finally:
        _close(shop)
    return f"order {order_id} cancelled in {shop.name}", {"shop": shop.name}


def _hold(rt: Runtime, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    order_id = _shop_order_id(rt, payload)
    hold = str(payload.get("hold", "1")) == "1"
    what = "held" if hold else "released"
    shop = _with_shop(rt, f"{'hold' if hold else 'release'} dispatch of order {order_id}")
    try:
        shop.hold_dispatch(order_id, hold)
    finally:
        _close(shop)
    return f"order {order_id}: dispatch {what} in {shop.name}", {"shop": shop.name, "hold": hold}


vendor_calls.register(
    SHOP_CANCEL,
    vendor_calls.Performer(
        _cancel, unconfigured_reason="cancel_in_shop", refused_reason="shop_refused_cancel"
    ),
)
vendor_calls.register(
    SHOP_HOLD,
    vendor_calls.Performer(_hold, unconfigured_reason="hold_in_shop", refused_reason="shop_refused_hold"),
)
