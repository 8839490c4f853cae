"""Inbound webhook vendors: which adapter serves which path and which setting holds its secret.

The shop and payment vendors of later work register here too; the web layer stays one generic route.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from orderwire.app import orders
from orderwire.app.runtime import Runtime
from orderwire.integrations.aftership.webhook import ADAPTER as AFTERSHIP
from orderwire.integrations.base import Delivery, WebhookAdapter
from orderwire.integrations.cashfree.webhook import ADAPTER as CASHFREE
from orderwire.integrations.delhivery.webhook import ADAPTER as DELHIVERY
from orderwire.integrations.easypost.webhook import ADAPTER as EASYPOST
from orderwire.integrations.razorpay.webhook import ADAPTER as RAZORPAY
from orderwire.integrations.shiprocket.webhook import ADAPTER as SHIPROCKET
from orderwire.integrations.shopify.webhook import ADAPTER as SHOPIFY
from orderwire.integrations.stripe.webhook import ADAPTER as STRIPE
from orderwire.integrations.woocommerce.webhook import ADAPTER as WOOCOMMERCE
from orderwire.integrations.woocommerce.webhook import ping as woocommerce_ping


@dataclass(frozen=True)
class Vendor:
    """A vendor's adapter and the name of the setting holding its secret."""

    adapter: WebhookAdapter
    secret_setting: str
    # A delivery the vendor sends unsigned by design, recognised exactly (WooCommerce's creation ping);
    # None for anything else, which must be signed.
    unsigned: Callable[[Mapping[str, str], bytes], Delivery | None] | None = None


VENDORS: dict[str, Vendor] = {
    "shiprocket": Vendor(SHIPROCKET, "shiprocket_webhook_token"),
    "aftership": Vendor(AFTERSHIP, "aftership_webhook_secret"),
    "delhivery": Vendor(DELHIVERY, "delhivery_webhook_token"),
    "easypost": Vendor(EASYPOST, "easypost_webhook_secret"),
    # Payment gateways (payments work); Cashfree signs with the PG client secret.
    "razorpay": Vendor(RAZORPAY, "razorpay_webhook_secret"),
    "stripe": Vendor(STRIPE, "stripe_webhook_secret"),
    "cashfree": Vendor(CASHFREE, "cashfree_client_secret"),
    # Shops
    "shopify": Vendor(SHOPIFY, "shopify_webhook_secret"),
    "woocommerce": Vendor(WOOCOMMERCE, "woocommerce_webhook_secret", unsigned=woocommerce_ping),
}


def vendor_for(rt: Runtime, path: str) -> Vendor | None:
    """The vendor a webhook path names; Shiprocket also answers on its configured alias."""
    if path == rt.settings.shiprocket_webhook_alias:
        return VENDORS["shiprocket"]
    return VENDORS.get(path)


def secret_for(rt: Runtime, vendor: Vendor) -> str:
    """The vendor's configured secret, '' when unset (its endpoint then refuses everything)."""
    value = getattr(rt.settings, vendor.secret_setting, None)
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter else ""


def record(rt: Runtime, vendor: Vendor, raw: bytes, delivery: Delivery) -> orders.Submitted:
    """Store the delivery and its events in one transaction (a redelivery changes nothing)."""
    return orders.submit(
        rt,
        vendor.adapter.name,
        delivery.dedupe_key,
        raw.decode("utf-8", errors="replace"),
        list(delivery.events),
        topic=delivery.topic[:100],
        note=delivery.note[:500],
    )
