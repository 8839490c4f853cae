"""The REST API's request bodies, validated at the edge and turned into canonical events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from orderwire.domain import events as ev
from orderwire.domain.model import (
    Address,
    Customer,
    Item,
    Money,
    Order,
    PaymentMethod,
    ShipmentStatus,
)


def e164(value: str) -> str:
    """Normalise a phone number to E.164; Indian numbers may omit +91."""
    try:
        parsed = phonenumbers.parse(value, "IN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


Phone = Annotated[str, AfterValidator(e164)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class Strict(BaseModel):
    """Unknown fields are an error: typos must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


class CustomerIn(Strict):
    phone: Phone
    name: str = Field(default="", max_length=200)
    language: str = Field(default="en", max_length=16, examples=["en", "hi"])


class AddressIn(Strict):
    line1: Text
    line2: str = Field(default="", max_length=500)
    landmark: str = Field(default="", max_length=200)
    city: Text
    state: str = Field(default="", max_length=100)
    pincode: str = Field(min_length=3, max_length=12)
    country: str = Field(default="IN", min_length=2, max_length=2)


class ItemIn(Strict):
    name: Text
    quantity: int = Field(ge=1, le=100_000)
    unit_price: int = Field(ge=0, description="Price in minor units (paise, cents).")
    sku: str = Field(default="", max_length=100)


class OrderIn(Strict):
    """An order as the shop sends it; `order_id` is the shop's own id (the upsert key)."""

    order_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:#-]+$")
    number: str = Field(default="", max_length=64, description="Shown to the customer, e.g. #1001.")
    currency: str = Field(min_length=3, max_length=3, examples=["INR"])
    customer: CustomerIn
    items: list[ItemIn] = Field(min_length=1, max_length=200)
    total: int | None = Field(default=None, ge=0, description="Minor units; default: sum of items.")
    shipping_address: AddressIn
    payment_method: PaymentMethod = PaymentMethod.PREPAID
    paid: bool = False
    placed_at: datetime | None = None
    expected_delivery_date: date | None = None
    references: dict[Annotated[str, Field(max_length=32)], Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict, max_length=20
    )
    # Replenishment offers: the customer agreed to marketing messages on WhatsApp (none are sent without).
    marketing_opt_in: bool = False

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    def to_event(self, now: datetime) -> ev.OrderPlaced:
        """The canonical OrderPlaced event."""
        placed = self.placed_at or now
        if placed.tzinfo is None:
            raise ValueError("placed_at needs a time zone")
        items = tuple(Item(i.name, i.quantity, Money(i.unit_price, self.currency), i.sku) for i in self.items)
        total = self.total if self.total is not None else sum(i.quantity * i.unit_price for i in self.items)
        order = Order(
            shop_id="",
            order_id=self.order_id,
            number=self.number or self.order_id,
            customer=Customer(
                self.customer.phone,
                self.customer.name,
                self.customer.language,
                marketing_opt_in=self.marketing_opt_in,
            ),
            items=items,
            total=Money(total, self.currency),
            address=Address(**self.shipping_address.model_dump()),
            payment=self.payment_method,
            placed_at=placed,
            paid=self.paid,
            edd=self.expected_delivery_date,
            references=dict(self.references),
        )
        return ev.OrderPlaced(order, placed)


class EventBase(Strict):
    event_id: str = Field(default="", max_length=200, description="Your id for this event (dedupe).")
    occurred_at: datetime | None = None


class PaidIn(EventBase):
    type: Literal["paid"]
    payment_id: str = Field(default="", max_length=200)


class PaymentFailedIn(EventBase):
    """commerce: a payment attempt failed; the customer is sent `retry_url` (http/https) if given."""

    type: Literal["payment_failed"]
    payment_id: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=300)
    retry_url: str = Field(default="", max_length=500, pattern=r"^(https?://\S+)?$")


class ProcessingIn(EventBase):
    type: Literal["processing"]


class ShipmentIn(EventBase):
    awb: str = Field(min_length=1, max_length=64)
    location: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=300)
    expected_delivery_date: date | None = None


class DispatchedIn(ShipmentIn):
    type: Literal["dispatched"]
    courier: str = Field(default="", max_length=100)
    tracking_url: str = Field(default="", max_length=500)


class InTransitIn(ShipmentIn):
    type: Literal["in_transit"]


class OutForDeliveryIn(ShipmentIn):
    type: Literal["out_for_delivery"]
    window: str = Field(default="", max_length=60, examples=["between 14:00 and 18:00"])
    agent_phone: str = Field(default="", max_length=20)


class DeliveredIn(ShipmentIn):
    type: Literal["delivered"]


class DeliveryFailedIn(ShipmentIn):
    type: Literal["delivery_failed"]
    reason: str = Field(default="", max_length=200)


class CancelledIn(EventBase):
    type: Literal["cancelled"]
    reason: str = Field(default="", max_length=300)


EventIn = Annotated[
    PaidIn
    | PaymentFailedIn
    | ProcessingIn
    | DispatchedIn
    | InTransitIn
    | OutForDeliveryIn
    | DeliveredIn
    | DeliveryFailedIn
    | CancelledIn,
    Field(discriminator="type"),
]

_SHIPMENT_STATUS = {
    "dispatched": ShipmentStatus.DISPATCHED,
    "in_transit": ShipmentStatus.IN_TRANSIT,
    "out_for_delivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "delivered": ShipmentStatus.DELIVERED,
    "delivery_failed": ShipmentStatus.DELIVERY_FAILED,
}


def to_canonical(body: EventIn, now: datetime) -> ev.Event:
    """The canonical event for an API event body."""
    at = body.occurred_at or now
    if at.tzinfo is None:
        raise ValueError("occurred_at needs a time zone")
    if isinstance(body, PaidIn):
        return ev.PaymentCaptured(at, body.payment_id)
    if isinstance(body, PaymentFailedIn):
        return ev.PaymentFailed(at, body.payment_id, body.reason, body.retry_url)
    if isinstance(body, ProcessingIn):
        return ev.ProcessingStarted(at)
    if isinstance(body, CancelledIn):
        return ev.OrderCancelled(at, body.reason)
    return ev.ShipmentUpdated(
        awb=body.awb,
        status=_SHIPMENT_STATUS[body.type],
        occurred_at=at,
        courier=getattr(body, "courier", ""),
        tracking_url=getattr(body, "tracking_url", ""),
        edd=body.expected_delivery_date,
        location=body.location,
        description=body.description,
        delivery_window=getattr(body, "window", ""),
        agent_phone=getattr(body, "agent_phone", ""),
        reason=getattr(body, "reason", ""),
    )


class Accepted(BaseModel):
    """The answer to a stored request: processing follows in the background."""

    status: Literal["accepted"] = "accepted"
    duplicate: bool
