"""Which shop, payment gateway, inventory source and returns courier this deployment talks to.

Each factory reads the settings and returns the configured adapter, or None when none is configured (the
use case then tells staff instead of calling out). One branch per vendor; add yours beside the others.
"""

from __future__ import annotations

from orderwire.app.ports import InventoryPort, PaymentPort, ReturnsPort, ShopPort
from orderwire.integrations.shiprocket.returns import ShiprocketReturns, Warehouse  # returns helper
from orderwire.settings import Settings


def shop(settings: Settings) -> ShopPort | None:
    """The shop's order API, if configured."""
    return None


def inventory(settings: Settings) -> InventoryPort | None:
    """The stock source, if configured."""
    return None


def payments(settings: Settings) -> PaymentPort | None:
    """The payment gateway's API, if configured."""
    return None


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
