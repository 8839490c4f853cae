"""Which shop, payment gateway, inventory source and returns courier this deployment talks to.

Each factory reads the settings and returns the configured adapter, or None when none is configured (the
use case then tells staff instead of calling out). One branch per vendor; add yours beside the others.
"""

from __future__ import annotations

from orderwire.app import gateways
from orderwire.app.ports import CrmPort, InventoryPort, PaymentPort, ReturnsPort, ShopPort
from orderwire.integrations.hubspot.api import HubSpotApi  # CRM (outbound events)
from orderwire.integrations.shiprocket.returns import ShiprocketReturns, Warehouse  # returns
from orderwire.integrations.shopify.api import ShopifyApi
from orderwire.integrations.woocommerce.api import WooCommerceApi
from orderwire.settings import Settings


def shop(settings: Settings) -> ShopPort | None:
    """The shop's order API, if configured."""
    # Shops: Shopify when its Admin API is configured, else WooCommerce's REST API.
    if (found := _shopify(settings)) is not None:
        return found
    if (
        settings.woocommerce_url
        and settings.woocommerce_consumer_key
        and settings.woocommerce_consumer_secret
    ):
        secret = settings.woocommerce_consumer_secret.get_secret_value()
        if secret:
            return WooCommerceApi(settings.woocommerce_url, settings.woocommerce_consumer_key, secret)
    return None


def inventory(settings: Settings) -> InventoryPort | None:
    """The stock source, if configured."""
    if settings.stock_feed_url:  # commerce: the generic CSV feed (integrations/stockfeed)
        from orderwire.integrations.stockfeed.feed import StockFeed

        return StockFeed(settings.stock_feed_url, settings.stock_feed_ttl_seconds)
    return _shopify(settings)  # shops: Shopify's inventory levels


def _shopify(settings: Settings) -> ShopifyApi | None:
    token = settings.shopify_admin_token.get_secret_value() if settings.shopify_admin_token else ""
    if not (settings.shopify_shop_url and token):
        return None
    return ShopifyApi(settings.shopify_shop_url, token, settings.shopify_api_version)


def payments(settings: Settings) -> PaymentPort | None:
    """The payment gateway's API, if configured."""
    return gateways.build(settings)  # payments work: Razorpay, Stripe or Cashfree (app/gateways.py)


def returns(settings: Settings) -> ReturnsPort | None:
    """The courier that books return pickups, if configured."""
    if settings.shiprocket_returns:  # returns helper: Shiprocket return orders
        length, breadth, height = (float(x) for x in settings.return_parcel_cm.split("x"))
        lines = [p.strip() for p in settings.return_address.split("|") if p.strip()]
        warehouse = Warehouse(
            name=lines[0] if len(lines) > 1 else settings.shop_name,
            address=", ".join(lines[1:] if len(lines) > 1 else lines),
            city=settings.return_city,
            state=settings.return_state,
            pincode=settings.return_pincode,
            phone=settings.return_phone,
            weight_kg=settings.return_parcel_weight_kg,
            length_cm=length,
            breadth_cm=breadth,
            height_cm=height,
        )
        password = (
            settings.shiprocket_api_password.get_secret_value() if settings.shiprocket_api_password else ""
        )
        token = settings.shiprocket_api_token.get_secret_value() if settings.shiprocket_api_token else ""
        return ShiprocketReturns(
            settings.shiprocket_api_url, settings.shiprocket_api_email, password, token, warehouse
        )
    return None


# --- CRM (outbound events; app/crm.py) ---
def crm(settings: Settings) -> CrmPort | None:
    """The CRM that gets order events as notes, if configured (HubSpot: a private app token)."""
    token = settings.hubspot_token.get_secret_value() if settings.hubspot_token else ""
    if not token:
        return None
    return HubSpotApi(settings.hubspot_api_url, token, settings.outbound_timeout_seconds)
