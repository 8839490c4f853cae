"""Canonical events to and from JSON, for the jobs table."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from orderwire.domain.events import (
    CustomerReplied,
    Event,
    OrderCancelled,
    OrderPlaced,
    PaymentCaptured,
    PaymentFailed,
    ProcessingStarted,
    RefundUpdated,
    ShipmentUpdated,
    TimerFired,
)
from orderwire.domain.model import ShipmentStatus, order_from_json, to_json

_TYPES: dict[str, type[Any]] = {
    "order_placed": OrderPlaced,
    "payment_captured": PaymentCaptured,
    "payment_failed": PaymentFailed,
    "refund_updated": RefundUpdated,
    "processing_started": ProcessingStarted,
    "shipment_updated": ShipmentUpdated,
    "order_cancelled": OrderCancelled,
    "timer_fired": TimerFired,
    "customer_replied": CustomerReplied,
}
_NAMES = {cls: name for name, cls in _TYPES.items()}


def event_kind(event: Event) -> str:
    """The stable name of an event's type ('shipment_updated')."""
    return kind_of(type(event))


def kind_of(event_type: type[Any]) -> str:
    """The stable name of an event type, as stored in `jobs.kind`."""
    return _NAMES[event_type]


def encode(event: Event) -> dict[str, Any]:
    """JSON-ready form of an event."""
    data: dict[str, Any] = to_json(event)
    return data


def decode(kind: str, data: dict[str, Any]) -> Event:
    """Rebuild an event from `encode` output."""
    cls = _TYPES[kind]
    at = datetime.fromisoformat(data["occurred_at"])
    if cls is OrderPlaced:
        return OrderPlaced(order_from_json(data["order"]), at)
    if cls is ShipmentUpdated:
        edd = data.get("edd")
        return ShipmentUpdated(
            **{
                **data,
                "status": ShipmentStatus(data["status"]) if data.get("status") else None,
                "occurred_at": at,
                "edd": date.fromisoformat(edd) if edd else None,
            }
        )
    result: Event = cls(**{**data, "occurred_at": at})
    return result
