"""Which shop, payment gateway, inventory source and returns courier this deployment talks to.

Each factory reads the settings and returns the configured adapter, or None when none is configured (the
use case then tells staff instead of calling out). One branch per vendor; add yours beside the others.
"""

from __future__ import annotations

from orderwire.app.ports import InventoryPort, PaymentPort, ReturnsPort, ShopPort
from orderwire.settings import Settings


def shop(settings: Settings) -> ShopPort | None:
    """The shop's order API, if configured."""
    return None


def inventory(settings: Settings) -> InventoryPort | None:
    """The stock source, if configured."""
    if settings.stock_feed_url:  # commerce: the generic CSV feed (integrations/stockfeed)
        from orderwire.integrations.stockfeed.feed import StockFeed

        return StockFeed(settings.stock_feed_url, settings.stock_feed_ttl_seconds)
    return None


def payments(settings: Settings) -> PaymentPort | None:
    """The payment gateway's API, if configured."""
    return None


def returns(settings: Settings) -> ReturnsPort | None:
    """The courier that books return pickups, if configured."""
    return None
