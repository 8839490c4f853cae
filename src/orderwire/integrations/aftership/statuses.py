"""AfterShip delivery statuses (`tag`) and sub-statuses (`subtag`) and their meaning here.

Source: aftership.com/docs/tracking/enum/delivery-statuses and .../enum/delivery-sub-statuses
(versions 2025-04 to 2026-07), and the help-centre list of sub-statuses added on 27 March 2026. A subtag
decides when listed; otherwise its tag does. None: no canonical meaning (recorded and shown only).
"""

from __future__ import annotations

from orderwire.domain.model import ShipmentStatus as S

TAGS: dict[str, S | None] = {
    "Pending": S.PICKUP_PENDING,  # added, no courier information yet
    "InfoReceived": S.PICKUP_PENDING,  # the courier has the details, not the parcel
    "InTransit": S.IN_TRANSIT,
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    "AttemptFail": S.DELIVERY_FAILED,
    "Delivered": S.DELIVERED,
    "AvailableForPickup": None,  # waits at a pickup point: no message of ours fits, staff are told
    "Exception": None,  # see the subtags; an unexplained exception is for staff
    "Expired": None,  # no news for 30 days
}

SUBTAGS: dict[str, S | None] = {
    "Delivered_001": S.DELIVERED,  # delivered
    "Delivered_002": S.DELIVERED,  # picked up by the customer
    "Delivered_003": S.DELIVERED,  # signed by the customer
    "Delivered_004": S.DELIVERED,  # delivered, cash on delivery collected
    "Delivered_005": S.DELIVERED,  # delivered to a neighbour
    "AvailableForPickup_001": None,
    "Exception_001": None,  # unexplained exception
    "Exception_002": S.DELIVERY_FAILED,  # customer moved
    "Exception_003": S.DELIVERY_FAILED,  # customer refused delivery
    "Exception_004": S.IN_TRANSIT,  # delayed: customs clearance
    "Exception_005": S.IN_TRANSIT,  # delayed: external factors
    "Exception_006": None,  # held for payment (duties)
    "Exception_007": S.DELIVERY_FAILED,  # incorrect address
    "Exception_008": S.DELIVERY_FAILED,  # not collected from the pickup point
    "Exception_009": None,  # rejected by the carrier
    "Exception_010": S.RTO_INITIATED,  # returning to sender
    "Exception_011": S.RTO_DELIVERED,  # returned to sender
    "Exception_012": S.DAMAGED,  # shipment damaged
    "Exception_013": S.LOST,  # shipment lost
    "Exception_016": S.IN_TRANSIT,  # delayed: processing issue
    "Exception_017": S.IN_TRANSIT,  # delayed: extreme weather
    "Exception_018": None,  # incorrect or missing documents
    "Exception_019": S.IN_TRANSIT,  # delayed: late flight
    "Exception_020": S.CANCELLED,  # cancelled by the sender or the carrier
    "Exception_021": S.DAMAGED,  # disposed of
    "AttemptFail_001": S.DELIVERY_FAILED,  # failed attempt
    "AttemptFail_002": S.DELIVERY_FAILED,  # recipient not available
    "AttemptFail_003": S.DELIVERY_FAILED,  # business closed
    "InTransit_001": S.IN_TRANSIT,  # on the way
    "InTransit_002": S.DISPATCHED,  # accepted by the carrier
    "InTransit_003": S.IN_TRANSIT,  # arrival scan
    "InTransit_004": S.IN_TRANSIT,  # arrived in the destination country
    "InTransit_005": S.IN_TRANSIT,  # customs clearance completed
    "InTransit_006": S.IN_TRANSIT,  # customs clearance started
    "InTransit_007": S.IN_TRANSIT,  # departure scan
    "InTransit_008": S.IN_TRANSIT,  # problem resolved
    "InTransit_009": S.IN_TRANSIT,  # forwarded to a different delivery address
    "InfoReceived_001": S.PICKUP_PENDING,
    "OutForDelivery_001": S.OUT_FOR_DELIVERY,
    "OutForDelivery_003": S.OUT_FOR_DELIVERY,  # customer contacted before delivery
    "OutForDelivery_004": S.IN_TRANSIT,  # delivery appointment scheduled: not today
    "Pending_001": S.PICKUP_PENDING,
    "Pending_002": S.PICKUP_PENDING,
    "Pending_003": S.PICKUP_PENDING,
    "Pending_004": S.PICKUP_PENDING,
    "Pending_005": S.PICKUP_PENDING,
    "Pending_006": S.PICKUP_PENDING,
    "Expired_001": None,
}

# Once AfterShip says the parcel goes back (`return_to_sender`), its moves are the way back.
TO_SENDER: dict[S, S] = {
    S.DISPATCHED: S.RTO_INITIATED,
    S.IN_TRANSIT: S.RTO_INITIATED,
    S.OUT_FOR_DELIVERY: S.RTO_INITIATED,
    S.DELIVERY_FAILED: S.RTO_INITIATED,
    S.DELIVERED: S.RTO_DELIVERED,
}


def canonical(tag: str, subtag: str, returning: bool = False) -> S | None:
    """The canonical status of a tag and subtag; `returning`: the tracking's `return_to_sender`."""
    status = SUBTAGS[subtag] if subtag in SUBTAGS else TAGS.get(tag)
    if returning and status is not None:
        return TO_SENDER.get(status, status)
    return status
