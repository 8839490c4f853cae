"""Shiprocket's shipment status codes (`shipment_status_id`, a scan's `sr-status`) and their meaning here.

Source: apidocs.shiprocket.in, "Tracking" → shipment status codes (summarised in shared VENDOR-FACTS.md).
`current_status_id` uses other numbers and is not read. None: known but with no canonical meaning, or
unknown; such scans are recorded and shown, and move nothing.
"""

from __future__ import annotations

from orderwire.domain.model import ShipmentStatus as S

STATUSES: dict[int, tuple[str, S | None]] = {
    5: ("Manifest Generated", S.PICKUP_PENDING),
    6: ("Shipped", S.DISPATCHED),
    7: ("Delivered", S.DELIVERED),
    8: ("Canceled", S.CANCELLED),
    9: ("RTO Initiated", S.RTO_INITIATED),
    10: ("RTO Delivered", S.RTO_DELIVERED),
    12: ("Lost", S.LOST),
    13: ("Pickup Error", S.PICKUP_PENDING),
    # The shop acknowledged the return request; the parcel may still be on its way back.
    14: ("RTO Acknowledged", S.RTO_INITIATED),
    15: ("Pickup Rescheduled", S.PICKUP_PENDING),
    16: ("Cancellation Requested", None),  # a request, not an outcome
    17: ("Out For Delivery", S.OUT_FOR_DELIVERY),
    18: ("In Transit", S.IN_TRANSIT),
    19: ("Out For Pickup", S.PICKUP_PENDING),
    20: ("Pickup Exception", S.PICKUP_PENDING),
    21: ("Undelivered", S.DELIVERY_FAILED),
    22: ("Delayed", S.IN_TRANSIT),  # still moving; a new `etd` says by how much
    23: ("Partial Delivered", None),  # some boxes only: staff must look
    24: ("Destroyed", S.DAMAGED),
    25: ("Damaged", S.DAMAGED),
    26: ("Fulfilled", S.DELIVERED),
    27: ("Pickup Booked", S.PICKUP_PENDING),
    38: ("Reached At Destination Hub", S.IN_TRANSIT),
    39: ("Misrouted", S.IN_TRANSIT),
    40: ("RTO NDR", S.RTO_INITIATED),
    41: ("RTO OFD", S.RTO_INITIATED),
    42: ("Picked Up", S.DISPATCHED),
    43: ("Self Fulfilled", None),  # the shop fulfilled it outside Shiprocket: we cannot tell more
    44: ("Disposed Off", S.DAMAGED),
    45: ("Cancelled Before Dispatched", S.CANCELLED),
    46: ("RTO In Transit", S.RTO_INITIATED),
    47: ("QC Failed", S.PICKUP_PENDING),  # a return pickup refused at the doorstep check
    48: ("Reached Warehouse", S.IN_TRANSIT),
    49: ("Custom Cleared", S.IN_TRANSIT),
    50: ("In Flight", S.IN_TRANSIT),
    51: ("Handover To Courier", S.DISPATCHED),
    52: ("Shipment Booked", S.PICKUP_PENDING),
    54: ("In Transit Overseas", S.IN_TRANSIT),
    55: ("Connection Aligned", S.IN_TRANSIT),
    56: ("Reached Overseas Warehouse", S.IN_TRANSIT),
    57: ("Custom Cleared Overseas", S.IN_TRANSIT),
    59: ("Box Packing", S.PICKUP_PENDING),
    60: ("FC Allocated", S.PICKUP_PENDING),
    61: ("Picklist Generated", S.PICKUP_PENDING),
    62: ("Ready To Pack", S.PICKUP_PENDING),
    63: ("Packed", S.PICKUP_PENDING),
    67: ("FC Manifest Generated", S.PICKUP_PENDING),
    68: ("Processed At Warehouse", S.PICKUP_PENDING),
    71: ("Handover Exception", S.PICKUP_PENDING),
    72: ("Packed Exception", S.PICKUP_PENDING),
    75: ("RTO Lock", S.RTO_INITIATED),
    76: ("Untraceable", S.LOST),
    77: ("Issue Related To The Recipient", S.DELIVERY_FAILED),
    78: ("Reached Back At Seller City", S.RTO_INITIATED),
}


def canonical(code: str) -> S | None:
    """The canonical status of a Shiprocket code ('42', 42, 'NA'); None when it has none."""
    code = code.strip()
    if not code.isdigit():
        return None
    known = STATUSES.get(int(code))
    return known[1] if known else None
