"""Canonical inbound events: every vendor adapter and the REST API speak these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from orderwire.domain.model import Order, ShipmentStatus


@dataclass(frozen=True)
class OrderPlaced:
    """The shop created (or re-sent) an order; carries its full details."""

    order: Order
    occurred_at: datetime


@dataclass(frozen=True)
class PaymentCaptured:
    """The payment gateway captured the money for this order.

    `references` are the gateway's names for the order and payment ('razorpay_payment' -> 'pay_…'), which
    the order learns so that later events (refunds) naming only them still find it.
    """

    occurred_at: datetime
    payment_ref: str = ""
    references: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentFailed:
    """A payment attempt for this order failed; the customer may retry (at `retry_url`, if any)."""

    occurred_at: datetime
    payment_ref: str = ""
    reason: str = ""
    retry_url: str = ""


@dataclass(frozen=True)
class RefundUpdated:
    """The payment gateway reports on a refund: `status` is 'processed', 'failed' or 'pending'.

    `bank_ref` is the ARN/UTR the customer's bank knows the refund by, when the gateway gives one.
    """

    occurred_at: datetime
    refund_ref: str
    status: str
    amount_minor: int | None = None
    currency: str = ""
    payment_ref: str = ""
    bank_ref: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ProcessingStarted:
    """The shop started packing the order."""

    occurred_at: datetime


@dataclass(frozen=True)
class ShipmentUpdated:
    """A courier scan or a shop's fulfilment update for one parcel (identified by AWB).

    `status` is None for a courier status with no canonical meaning: it is recorded (with the courier's
    own words in `raw_status`) but moves nothing. `is_return` marks a return pickup (customer to shop).
    """

    awb: str
    status: ShipmentStatus | None
    occurred_at: datetime
    courier: str = ""
    tracking_url: str = ""
    edd: date | None = None
    location: str = ""
    description: str = ""
    delivery_window: str = ""
    agent_phone: str = ""
    reason: str = ""
    raw_status: str = ""
    is_return: bool = False


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


@dataclass(frozen=True)
class CustomerReplied:
    """The customer wrote or tapped something; `reply_id` is the id of the button or list row tapped."""

    occurred_at: datetime
    wamid: str
    message_type: str = "text"
    text: str = ""
    reply_id: str = ""
    # An image, document, audio or video: the Graph media id (download it at once, the URL expires) and
    # its MIME type; a caption arrives in `text`.
    media_id: str = ""
    media_mime: str = ""


Event = (
    OrderPlaced
    | PaymentCaptured
    | PaymentFailed
    | RefundUpdated
    | ProcessingStarted
    | ShipmentUpdated
    | OrderCancelled
    | TimerFired
    | CustomerReplied
)
