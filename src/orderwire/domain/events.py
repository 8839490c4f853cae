"""Canonical inbound events: every vendor adapter and the REST API speak these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from orderwire.domain.model import Order, ShipmentStatus


@dataclass(frozen=True)
class OrderPlaced:
    """The shop created (or re-sent) an order; carries its full details."""

    order: Order
    occurred_at: datetime


@dataclass(frozen=True)
class PaymentCaptured:
    """The payment gateway captured the money for this order."""

    occurred_at: datetime
    payment_ref: str = ""


@dataclass(frozen=True)
class ProcessingStarted:
    """The shop started packing the order."""

    occurred_at: datetime


@dataclass(frozen=True)
class ShipmentUpdated:
    """A courier scan or a shop's fulfilment update for one parcel (identified by AWB)."""

    awb: str
    status: ShipmentStatus
    occurred_at: datetime
    courier: str = ""
    tracking_url: str = ""
    edd: date | None = None
    location: str = ""
    description: str = ""
    delivery_window: str = ""
    agent_phone: str = ""
    reason: str = ""


@dataclass(frozen=True)
class OrderCancelled:
    """The shop or the customer cancelled the order."""

    occurred_at: datetime
    reason: str = ""


@dataclass(frozen=True)
class TimerFired:
    """A durable timer set by an earlier decision came due (e.g. the follow-up)."""

    kind: str
    occurred_at: datetime


Event = OrderPlaced | PaymentCaptured | ProcessingStarted | ShipmentUpdated | OrderCancelled | TimerFired
