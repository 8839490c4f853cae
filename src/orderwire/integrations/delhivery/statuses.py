"""Delhivery's status types and statuses (forward, return-to-origin, reverse pickup) and their meaning here.

Sources: delhivery-express-api-doc.readme.io/reference/package-lifecycle-1 (status types UD, DL, RT, PP,
PU, CN), .../prepaid-and-cod-shipments (forward and RTO flow), .../reverse-pickups (reverse pickup
flow), .../asynchronous-ndr-package-action-api (the NDR status codes). A failed delivery attempt shows
as UD/Pending with one of the NDR codes in `NSLCode`.
"""

from __future__ import annotations

from orderwire.domain.model import ShipmentStatus as S

STATUSES: dict[tuple[str, str], S | None] = {
    ("UD", "Manifested"): S.PICKUP_PENDING,
    ("UD", "Not Picked"): S.PICKUP_PENDING,
    ("UD", "In Transit"): S.IN_TRANSIT,
    ("UD", "Pending"): S.IN_TRANSIT,  # at the delivery centre, not yet out
    ("UD", "Dispatched"): S.OUT_FOR_DELIVERY,
    ("DL", "Delivered"): S.DELIVERED,
    ("RT", "In Transit"): S.RTO_INITIATED,
    ("RT", "Pending"): S.RTO_INITIATED,
    ("RT", "Dispatched"): S.RTO_INITIATED,
    ("DL", "RTO"): S.RTO_DELIVERED,
    # Reverse pickups: from the customer back to the shop.
    ("PP", "Open"): S.PICKUP_PENDING,
    ("PP", "Scheduled"): S.PICKUP_PENDING,
    ("PP", "Dispatched"): S.PICKUP_PENDING,  # the field executive is out to collect it
    ("PU", "In Transit"): S.IN_TRANSIT,
    ("PU", "Pending"): S.IN_TRANSIT,
    ("PU", "Dispatched"): S.OUT_FOR_DELIVERY,  # out for delivery to the shop
    ("DL", "DTO"): S.DELIVERED,  # delivered to the shop
    ("CN", "Canceled"): S.CANCELLED,
    ("CN", "Closed"): S.CANCELLED,
}

RETURN_TYPES = frozenset({"PP", "PU", "CN"})
NDR_CODES = frozenset(
    {
        "EOD-3",
        "EOD-6",
        "EOD-11",
        "EOD-15",
        "EOD-16",
        "EOD-43",
        "EOD-69",
        "EOD-74",
        "EOD-86",
        "EOD-104",
        "ST-108",
    }
)


def canonical(status_type: str, status: str, nsl_code: str = "") -> S | None:
    """The canonical status of a Delhivery scan; None when the pair is not documented."""
    if (status_type, status) == ("UD", "Pending") and nsl_code in NDR_CODES:
        return S.DELIVERY_FAILED
    return STATUSES.get((status_type, status))


def is_return(status_type: str, status: str) -> bool:
    """Reverse pickups (customer to shop) have their own status types; DL/DTO closes them."""
    return status_type in RETURN_TYPES or (status_type, status) == ("DL", "DTO")
