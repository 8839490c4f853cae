"""Lifecycle events other systems (CRMs, data warehouses, Zapier) can subscribe to, and what they carry.

Pure: which events a change of an order implies (`changes`), and the event's `data` (`order_data`).
Each event has a `key` naming the occurrence (the parcel, the failed attempt), so an event that is
derived twice — a redelivered courier push, a replayed job — is still sent once (app/outbound.py).

Personal data: the customer's phone, name and language (a CRM files the contact under them) and the
delivery city and PIN code (enough for segmentation and courier analytics). Never the street address,
landmark, or anything the customer typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderwire.domain.model import STAGE_RANK, Order, ReturnStatus, Shipment, ShipmentStatus, Stage

ORDER_CONFIRMED = "order.confirmed"
ORDER_CANCELLED = "order.cancelled"
SHIPMENT_DISPATCHED = "shipment.dispatched"
SHIPMENT_OUT_FOR_DELIVERY = "shipment.out_for_delivery"
SHIPMENT_DELIVERED = "shipment.delivered"
DELIVERY_FAILED = "delivery.failed"
SHIPMENT_RTO = "shipment.rto"
SHIPMENT_LOST = "shipment.lost"
ESCALATION_OPENED = "escalation.opened"
# From the conversation: a rating, a return the customer asked for, its refund.
FEEDBACK_RECEIVED = "feedback.received"
RETURN_REQUESTED = "return.requested"
REFUND_PROCESSED = "refund.processed"

EVENT_TYPES: tuple[str, ...] = (
    ORDER_CONFIRMED,
    ORDER_CANCELLED,
    SHIPMENT_DISPATCHED,
    SHIPMENT_OUT_FOR_DELIVERY,
    SHIPMENT_DELIVERED,
    DELIVERY_FAILED,
    SHIPMENT_RTO,
    SHIPMENT_LOST,
    ESCALATION_OPENED,
    FEEDBACK_RECEIVED,
    RETURN_REQUESTED,
    REFUND_PROCESSED,
)

_ON_ITS_WAY = frozenset(
    {
        ShipmentStatus.DISPATCHED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERY_FAILED,
        ShipmentStatus.DELIVERED,
    }
)
_RTO = frozenset({ShipmentStatus.RTO_INITIATED, ShipmentStatus.RTO_DELIVERED})
_GONE = frozenset({ShipmentStatus.LOST, ShipmentStatus.DAMAGED})
_RETURN_BEING_ASKED = frozenset({ReturnStatus.REQUESTED, ReturnStatus.AWAITING_PHOTOS})


@dataclass(frozen=True)
class LifecycleEvent:
    """One event to publish: its type, the occurrence `key` within the order, the parcel, and when."""

    type: str
    key: str
    awb: str = ""
    at: datetime | None = None


def changes(before: Order | None, after: Order) -> list[LifecycleEvent]:
    """The events the move from `before` (None: a new order) to `after` implies, in a sensible order."""
    events: list[LifecycleEvent] = []
    was = before.stage if before is not None else Stage.PLACED
    if after.stage is Stage.CANCELLED:
        if was is not Stage.CANCELLED:
            events.append(LifecycleEvent(ORDER_CANCELLED, "cancelled"))
        return events
    if STAGE_RANK[was] < STAGE_RANK[Stage.CONFIRMED] <= STAGE_RANK[after.stage]:
        events.append(LifecycleEvent(ORDER_CONFIRMED, "confirmed"))
    for parcel in after.shipments:
        if parcel.is_return:
            continue
        old = before.shipment(parcel.awb) if before is not None else None
        events += _shipment_changes(old, parcel)
    if after.rated_at is not None and (before is None or before.rated_at != after.rated_at):
        events.append(LifecycleEvent(FEEDBACK_RECEIVED, f"rating:{after.rated_at.isoformat()}"))
    for case in after.returns:
        old_case = before.return_case(case.rma) if before is not None else None
        was_status = old_case.status if old_case is not None else ReturnStatus.REQUESTED
        # The customer has chosen what they want: the return is asked for (photos, reason, resolution).
        if case.status is ReturnStatus.PICKUP_REQUESTED and was_status in _RETURN_BEING_ASKED:
            events.append(LifecycleEvent(RETURN_REQUESTED, f"return:{case.rma}", case.awb, case.opened_at))
        if case.status is ReturnStatus.REFUNDED and was_status is not ReturnStatus.REFUNDED:
            events.append(LifecycleEvent(REFUND_PROCESSED, f"refund:{case.rma}", case.awb))
    return events


def _shipment_changes(old: Shipment | None, new: Shipment) -> list[LifecycleEvent]:
    status, awb, at = new.status, new.awb, new.status_at
    prior = old.status if old is not None else None
    found: list[LifecycleEvent] = []
    if status in _ON_ITS_WAY and prior not in _ON_ITS_WAY:
        found.append(LifecycleEvent(SHIPMENT_DISPATCHED, f"dispatched:{awb}", awb, at))
    attempt_grew = old is None or new.attempt > old.attempt
    if status is ShipmentStatus.OUT_FOR_DELIVERY and (prior is not status or attempt_grew):
        # Out for delivery again after a failed attempt is a new occurrence: keyed by the attempt.
        found.append(LifecycleEvent(SHIPMENT_OUT_FOR_DELIVERY, f"ofd:{awb}:{new.attempt}", awb, at))
    if status is ShipmentStatus.DELIVERY_FAILED and (prior is not status or attempt_grew):
        found.append(LifecycleEvent(DELIVERY_FAILED, f"failed:{awb}:{new.attempt}", awb, at))
    if status is ShipmentStatus.DELIVERED and prior is not status:
        found.append(LifecycleEvent(SHIPMENT_DELIVERED, f"delivered:{awb}", awb, at))
    if status in _RTO and prior not in _RTO:
        found.append(LifecycleEvent(SHIPMENT_RTO, f"rto:{awb}", awb, at))
    if status in _GONE and prior not in _GONE:
        found.append(LifecycleEvent(SHIPMENT_LOST, f"lost:{awb}", awb, at))
    return found


def order_data(order: Order, awb: str = "") -> dict[str, Any]:
    """The order as subscribers see it: ids, stage, money, items, the customer's contact, one parcel."""
    data: dict[str, Any] = {
        "shop_id": order.shop_id,
        "order_id": order.order_id,
        "order_number": order.number,
        "stage": order.stage.value,
        "payment_method": order.payment.value,
        "paid": order.paid,
        "total": {"amount_minor": order.total.minor, "currency": order.total.currency},
        "items": [
            {"name": i.name, "sku": i.sku, "quantity": i.quantity, "unit_price_minor": i.unit_price.minor}
            for i in order.items
        ],
        "customer": {
            "phone": order.customer.phone,
            "name": order.customer.name,
            "language": order.customer.language,
        },
        "delivery_area": {
            "city": order.address.city,
            "pincode": order.address.pincode,
            "country": order.address.country,
        },
        "placed_at": _iso(order.placed_at),
        "expected_delivery": _day(order.expected_delivery),
    }
    if order.cancel_reason:
        data["cancel_reason"] = order.cancel_reason
    if order.delivered_at is not None:
        data["delivered_at"] = _iso(order.delivered_at)
    if order.rating is not None:
        data["rating"] = order.rating  # the score only: what the customer wrote stays with us
    if order.returns:
        data["returns"] = [
            {
                "rma": r.rma,
                "status": r.status.value,
                "reason": r.reason,
                "resolution": r.resolution,
                "refund": {"amount_minor": r.refund_minor, "bank_ref": r.bank_ref},
            }
            for r in order.returns
        ]
    parcel = order.shipment(awb) if awb else None
    if parcel is not None:
        data["shipment"] = {
            "awb": parcel.awb,
            "courier": parcel.courier,
            "status": parcel.status.value,
            "status_at": _iso(parcel.status_at),
            "tracking_url": parcel.tracking_url,
            "edd": _day(parcel.edd),
            "failed_attempts": parcel.attempt,
            "failure_reason": parcel.failure_reason,
            "last_location": parcel.last_location,
        }
    return data


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


_NOTE_LINES = {
    ORDER_CONFIRMED: "Order {number} confirmed ({total}).",
    ORDER_CANCELLED: "Order {number} cancelled{reason}.",
    SHIPMENT_DISPATCHED: "Order {number} dispatched{parcel}.",
    SHIPMENT_OUT_FOR_DELIVERY: "Order {number} out for delivery{parcel}.",
    SHIPMENT_DELIVERED: "Order {number} delivered{parcel}.",
    DELIVERY_FAILED: "Order {number}: delivery attempt failed{parcel}{reason}.",
    SHIPMENT_RTO: "Order {number}: parcel returning to the shop{parcel}.",
    SHIPMENT_LOST: "Order {number}: parcel lost or damaged{parcel}.",
    ESCALATION_OPENED: "Order {number}: handed to staff{reason}.",
    FEEDBACK_RECEIVED: "Order {number}: customer feedback received.",
    RETURN_REQUESTED: "Order {number}: customer asked for a return.",
    REFUND_PROCESSED: "Order {number}: refund processed.",
}


def note_text(event_type: str, data: dict[str, Any]) -> str:
    """One line for a CRM timeline: what happened to which order (no more than the event carries)."""
    parcel = data.get("shipment") or {}
    total = data.get("total") or {}
    amount = f"{int(total.get('amount_minor', 0)) / 100:.2f} {total.get('currency', '')}".strip()
    reason = (
        data.get("cancel_reason")
        or parcel.get("failure_reason")
        or (data.get("escalation") or {}).get("reason")
    )
    awb = parcel.get("awb")
    courier = parcel.get("courier")
    text = _NOTE_LINES.get(event_type, "Order {number}: " + event_type + ".").format(
        number=data.get("order_number") or data.get("order_id", ""),
        total=amount,
        parcel=f" (AWB {awb}{', ' + courier if courier else ''})" if awb else "",
        reason=f": {reason}" if reason else "",
    )
    return f"Orderwire: {text}"
