"""EasyPost Tracker statuses and their meaning here.

Source: docs.easypost.com/docs/trackers (Tracker `status`: unknown, pre_transit, in_transit,
out_for_delivery, delivered, available_for_pickup, return_to_sender, failure, cancelled, error).
None: no canonical meaning (recorded and shown only).
"""

from __future__ import annotations

from orderwire.domain.model import ShipmentStatus as S

STATUSES: dict[str, S | None] = {
    "pre_transit": S.PICKUP_PENDING,  # label created, not yet with the carrier
    "in_transit": S.IN_TRANSIT,
    "out_for_delivery": S.OUT_FOR_DELIVERY,
    "delivered": S.DELIVERED,
    "available_for_pickup": None,  # waits at a pickup point: staff are told
    "return_to_sender": S.RTO_INITIATED,
    "failure": S.DELIVERY_FAILED,
    "cancelled": S.CANCELLED,
    "error": None,  # the tracker itself failed
    "unknown": None,
}


def canonical(status: str) -> S | None:
    """The canonical status of an EasyPost tracker status."""
    return STATUSES.get(status)
