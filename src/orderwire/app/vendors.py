"""Which shop, payment gateway, inventory source and returns courier this deployment talks to.

Each factory reads the settings and returns the configured adapter, or None when none is configured (the
use case then tells staff instead of calling out). One branch per vendor; add yours beside the others.
"""

from __future__ import annotations

from orderwire.app.ports import CrmPort, InventoryPort, PaymentPort, ReturnsPort, ShopPort
from orderwire.integrations.hubspot.api import HubSpotApi  # CRM (outbound events)
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
    return None


# --- CRM (outbound events; app/crm.py) ---
def crm(settings: Settings) -> CrmPort | None:
    """The CRM that gets order events as notes, if configured (HubSpot: a private app token)."""
    token = settings.hubspot_token.get_secret_value() if settings.hubspot_token else ""
    if not token:
        return None
    return HubSpotApi(settings.hubspot_api_url, token, settings.outbound_timeout_seconds)
