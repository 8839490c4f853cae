"""The order aggregate: orders, customers, shipments and the stages they move through."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Stage(StrEnum):
    """Where an order stands in its journey, as the customer would describe it."""

    PLACED = "placed"
    CONFIRMED = "confirmed"
    PROCESSING = "processing"
    DISPATCHED = "dispatched"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    RTO = "rto"
    LOST = "lost"
    DELIVERED = "delivered"
    FOLLOWED_UP = "followed_up"
    CANCELLED = "cancelled"


class ShipmentStatus(StrEnum):
    """Canonical shipment statuses every courier adapter maps into."""

    PICKUP_PENDING = "pickup_pending"  # AWB booked, label or manifest made; the courier has not got it yet
    DISPATCHED = "dispatched"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    RTO_INITIATED = "rto_initiated"
    LOST = "lost"
    DAMAGED = "damaged"  # damaged, destroyed or disposed of: it will not arrive
    DELIVERED = "delivered"
    RTO_DELIVERED = "rto_delivered"
    CANCELLED = "cancelled"  # this AWB was cancelled; the order itself may ship under another


# A shipment only moves forward along these phases. Within the delivery phase (out for delivery and
# failed attempts alternate) the latest scan by time wins, so any arrival order ends in one state.
SHIPMENT_PHASE: dict[ShipmentStatus, int] = {
    ShipmentStatus.PICKUP_PENDING: 5,
    ShipmentStatus.DISPATCHED: 10,
    ShipmentStatus.IN_TRANSIT: 20,
    ShipmentStatus.OUT_FOR_DELIVERY: 30,
    ShipmentStatus.DELIVERY_FAILED: 30,
    ShipmentStatus.RTO_INITIATED: 40,
    ShipmentStatus.LOST: 45,
    ShipmentStatus.DAMAGED: 47,
    ShipmentStatus.DELIVERED: 50,
    ShipmentStatus.RTO_DELIVERED: 55,
    ShipmentStatus.CANCELLED: 60,
}
DELIVERY_PHASE = 30
# Nothing more will happen to a parcel in these states (no courier news is awaited).
SHIPMENT_FINAL = frozenset(
    {
        ShipmentStatus.LOST,
        ShipmentStatus.DAMAGED,
        ShipmentStatus.DELIVERED,
        ShipmentStatus.RTO_DELIVERED,
        ShipmentStatus.CANCELLED,
    }
)

# A cancelled AWB says nothing about the order's progress, so it has no stage (see `Order.forward`).
SHIPMENT_TO_STAGE: dict[ShipmentStatus, Stage] = {
    ShipmentStatus.PICKUP_PENDING: Stage.PROCESSING,
    ShipmentStatus.DISPATCHED: Stage.DISPATCHED,
    ShipmentStatus.IN_TRANSIT: Stage.DISPATCHED,
    ShipmentStatus.OUT_FOR_DELIVERY: Stage.OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERY_FAILED: Stage.DELIVERY_FAILED,
    ShipmentStatus.RTO_INITIATED: Stage.RTO,
    ShipmentStatus.LOST: Stage.LOST,
    ShipmentStatus.DAMAGED: Stage.LOST,
    ShipmentStatus.DELIVERED: Stage.DELIVERED,
    ShipmentStatus.RTO_DELIVERED: Stage.RTO,
}

STAGE_RANK: dict[Stage, int] = {
    Stage.PLACED: 0,
    Stage.CONFIRMED: 10,
    Stage.PROCESSING: 20,
    Stage.DISPATCHED: 30,
    Stage.OUT_FOR_DELIVERY: 40,
    Stage.DELIVERY_FAILED: 40,
    Stage.RTO: 50,
    Stage.LOST: 55,
    Stage.DELIVERED: 60,
    Stage.FOLLOWED_UP: 70,
    Stage.CANCELLED: 80,
}


class PaymentMethod(StrEnum):
    """Prepaid orders are confirmed on payment; cash-on-delivery orders when the customer confirms them."""

    PREPAID = "prepaid"
    COD = "cod"


# commerce: where a cash-on-delivery order stands with the customer's confirmation.
class CodStatus(StrEnum):
    """The customer's answer to a COD confirmation request; NONE when none was asked (prepaid, older rows)."""

    NONE = ""
    AWAITING = "awaiting"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


@dataclass(frozen=True)
class Money:
    """An amount in the currency's minor units (paise, cents) with its ISO 4217 code."""

    minor: int
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.minor + other.minor, self.currency)


@dataclass(frozen=True)
class Address:
    """A delivery address; `pincode` is the postal code (PIN code in India)."""

    line1: str
    city: str
    pincode: str
    country: str = "IN"
    line2: str = ""
    state: str = ""
    landmark: str = ""


@dataclass(frozen=True)
class Item:
    """One order line."""

    name: str
    quantity: int
    unit_price: Money
    sku: str = ""


@dataclass(frozen=True)
class Customer:
    """Who receives the messages; `phone` is E.164 (+919812345678), `language` a BCP 47 tag."""

    phone: str
    name: str = ""
    language: str = "en"
    first_order: bool = False
    # Replenishment offers: the shop says the customer agreed to marketing messages (WhatsApp needs that
    # opt-in for them); False for shops that do not say and for orders stored before it.
    marketing_opt_in: bool = False


@dataclass(frozen=True)
class Scan:
    """One courier scan, kept for the timeline and the tracking page.

    `status` is None when the courier's status (kept in `raw_status`) has no canonical meaning.
    """

    at: datetime
    status: ShipmentStatus | None
    location: str = ""
    description: str = ""
    raw_status: str = ""


@dataclass(frozen=True)
class Shipment:
    """One parcel of an order, identified by its AWB."""

    awb: str
    courier: str = ""
    tracking_url: str = ""
    edd: date | None = None
    status: ShipmentStatus = ShipmentStatus.DISPATCHED
    status_at: datetime | None = None
    failed_attempts: tuple[datetime, ...] = ()
    delivery_window: str = ""
    agent_phone: str = ""
    failure_reason: str = ""
    scans: tuple[Scan, ...] = ()
    is_return: bool = False
    notified_edd: date | None = None  # the date the customer was last told for this parcel
    # The customer's answer to failed attempt `ndr_attempt`: reattempt (on `ndr_date`), return or
    # change_address, and when they gave it.
    ndr_choice: str = ""
    ndr_date: date | None = None
    ndr_chosen_at: datetime | None = None
    ndr_attempt: int = 0
    # A new address being taken step by step (bot/address.py): the step awaited, and the answers so far
    # (address line, PIN code, landmark, phone).
    ndr_step: str = ""
    ndr_address: tuple[str, ...] = ()

    @property
    def forward(self) -> bool:
        """A parcel on its way to the customer (not a return pickup, not a cancelled AWB)."""
        return not self.is_return and self.status is not ShipmentStatus.CANCELLED

    @property
    def in_motion(self) -> bool:
        """True while more courier news is expected."""
        return self.status not in SHIPMENT_FINAL

    @property
    def last_location(self) -> str:
        """Where the parcel was last scanned, or '' when no scan named a place."""
        for scan in sorted(self.scans, key=lambda s: s.at, reverse=True):
            if scan.location:
                return scan.location
        return ""

    @property
    def attempt(self) -> int:
        """The number of delivery attempts that failed so far (one attempt a day at most)."""
        return len({moment.date() for moment in self.failed_attempts})


@dataclass(frozen=True)
class Order:
    """The order aggregate, as decided by `lifecycle.decide`."""

    shop_id: str
    order_id: str
    number: str
    customer: Customer
    items: tuple[Item, ...]
    total: Money
    address: Address
    payment: PaymentMethod
    placed_at: datetime
    stage: Stage = Stage.PLACED
    paid: bool = False
    edd: date | None = None
    shipments: tuple[Shipment, ...] = ()
    cancel_reason: str = ""
    delivered_at: datetime | None = None
    references: dict[str, str] = field(default_factory=dict)
    # Conversations (orderwire.bot): the customer's rating (1-5) and free-text feedback, when they gave
    # them; a question of an order-level dialogue awaiting a typed answer (`bot_step`, e.g. "addr:line")
    # with the answers so far; unclear messages in a row (the second goes to staff); when the bot last
    # asked something (an unanswered question expires).
    rating: int | None = None
    rated_at: datetime | None = None
    feedback: str = ""
    bot_step: str = ""
    bot_answers: tuple[str, ...] = ()
    unclear: int = 0
    bot_asked_at: datetime | None = None
    # commerce: the COD confirmation, the latest payment retry link, and SKUs out of stock at placement
    # (with the day more arrive, when the stock source knows it).
    cod_status: CodStatus = CodStatus.NONE
    payment_retry_url: str = ""
    backordered: dict[str, date | None] = field(default_factory=dict)
    returns: tuple[ReturnCase, ...] = ()  # returns: the customer's return requests, oldest first

    def return_case(self, rma: str) -> ReturnCase | None:
        """The return with this RMA number, if the order has one (returns)."""
        return next((r for r in self.returns if r.rma == rma), None)

    def with_return(self, case: ReturnCase) -> Order:
        """A copy of the order with `case` added or replaced (matched by RMA) (returns)."""
        cases = [r for r in self.returns if r.rma != case.rma]
        position = next((k for k, r in enumerate(self.returns) if r.rma == case.rma), len(cases))
        cases.insert(position, case)
        return dataclasses.replace(self, returns=tuple(cases))

    def shipment(self, awb: str) -> Shipment | None:
        """The shipment with this AWB, if the order has one."""
        return next((s for s in self.shipments if s.awb == awb), None)

    def with_shipment(self, shipment: Shipment) -> Order:
        """A copy of the order with `shipment` added or replaced (matched by AWB)."""
        others = tuple(s for s in self.shipments if s.awb != shipment.awb)
        return dataclasses.replace(self, shipments=(*others, shipment))

    @property
    def item_summary(self) -> str:
        """'2 × Blue Kurta, 1 × Scarf' — short enough for a template parameter."""
        parts = [f"{i.quantity} × {i.name}" for i in self.items]
        summary = ", ".join(parts)
        return summary if len(summary) <= 200 else summary[:197] + "…"

    @property
    def expected_delivery(self) -> date | None:
        """The latest EDD among parcels on their way to the customer, else the order's promise."""
        dates = [s.edd for s in self.shipments if s.edd is not None and s.forward]
        return max(dates) if dates else self.edd


# --- Returns (returns helper): a return request's state lives on the order, decided by pure code. ---
class ReturnStatus(StrEnum):
    """Where a return stands; the dialogue fills `reason` then `resolution` while REQUESTED."""

    REQUESTED = "requested"
    AWAITING_PHOTOS = "awaiting_photos"
    PICKUP_REQUESTED = "pickup_requested"  # the customer chose; the pickup or label is being arranged
    PICKUP_BOOKED = "pickup_booked"
    LABEL_SENT = "label_sent"
    REPLACING = "replacing"  # received (or approved) and a replacement is for staff to send
    REFUND_REQUESTED = "refund_requested"
    REFUNDED = "refunded"
    REJECTED = "rejected"


RETURN_CLOSED = frozenset({ReturnStatus.REPLACING, ReturnStatus.REFUNDED, ReturnStatus.REJECTED})


@dataclass(frozen=True)
class ReturnPhoto:
    """A photo the customer sent for a return: the WhatsApp message and its Graph media id."""

    wamid: str
    media_id: str
    mime: str = ""


@dataclass(frozen=True)
class ReturnCase:
    """One return request (RMA) of an order.

    `awb` is the return parcel's once known; `refund_due` the promised refund date (a timer checks it);
    `refund_ref` the gateway's refund id and `bank_ref` the ARN/UTR the bank knows the refund by.
    """

    rma: str
    opened_at: datetime
    status: ReturnStatus = ReturnStatus.REQUESTED
    reason: str = ""
    resolution: str = ""
    photos: tuple[ReturnPhoto, ...] = ()
    awb: str = ""
    refund_minor: int = 0
    refund_due: datetime | None = None
    refund_ref: str = ""
    bank_ref: str = ""
    note: str = ""

    @property
    def open(self) -> bool:
        """True until the return is refunded, rejected or handed over for a replacement."""
        return self.status not in RETURN_CLOSED


def _return_from_json(d: dict[str, Any]) -> ReturnCase:
    due = d.get("refund_due")
    return ReturnCase(
        rma=d["rma"],
        opened_at=datetime.fromisoformat(d["opened_at"]),
        status=ReturnStatus(d["status"]),
        reason=d.get("reason", ""),
        resolution=d.get("resolution", ""),
        photos=tuple(ReturnPhoto(p["wamid"], p["media_id"], p.get("mime", "")) for p in d.get("photos", ())),
        awb=d.get("awb", ""),
        refund_minor=int(d.get("refund_minor", 0)),
        refund_due=datetime.fromisoformat(due) if due else None,
        refund_ref=d.get("refund_ref", ""),
        bank_ref=d.get("bank_ref", ""),
        note=d.get("note", ""),
    )


# --- end returns ---


def to_json(value: Any) -> Any:
    """Convert domain dataclasses into JSON-ready structures (dates as ISO strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def order_from_json(data: dict[str, Any]) -> Order:
    """Rebuild an Order from `to_json` output."""

    def money(d: dict[str, Any]) -> Money:
        return Money(int(d["minor"]), d["currency"])

    def dt(v: str | None) -> datetime | None:
        return datetime.fromisoformat(v) if v else None

    def d8(v: str | None) -> date | None:
        return date.fromisoformat(v) if v else None

    shipments = tuple(
        Shipment(
            awb=s["awb"],
            courier=s["courier"],
            tracking_url=s["tracking_url"],
            edd=d8(s["edd"]),
            status=ShipmentStatus(s["status"]),
            status_at=dt(s["status_at"]),
            failed_attempts=tuple(datetime.fromisoformat(a) for a in s["failed_attempts"]),
            delivery_window=s["delivery_window"],
            agent_phone=s["agent_phone"],
            failure_reason=s["failure_reason"],
            scans=tuple(
                Scan(
                    at=datetime.fromisoformat(sc["at"]),
                    status=ShipmentStatus(sc["status"]) if sc["status"] else None,
                    location=sc["location"],
                    description=sc["description"],
                    raw_status=sc.get("raw_status", ""),
                )
                for sc in s["scans"]
            ),
            is_return=bool(s.get("is_return", False)),
            notified_edd=d8(s.get("notified_edd")),
            ndr_choice=s.get("ndr_choice", ""),
            ndr_date=d8(s.get("ndr_date")),
            ndr_chosen_at=dt(s.get("ndr_chosen_at")),
            ndr_attempt=int(s.get("ndr_attempt", 0)),
            ndr_step=s.get("ndr_step", ""),
            ndr_address=tuple(s.get("ndr_address", ())),
        )
        for s in data["shipments"]
    )
    return Order(
        shop_id=data["shop_id"],
        order_id=data["order_id"],
        number=data["number"],
        customer=Customer(**data["customer"]),
        items=tuple(
            Item(i["name"], int(i["quantity"]), money(i["unit_price"]), i["sku"]) for i in data["items"]
        ),
        total=money(data["total"]),
        address=Address(**data["address"]),
        payment=PaymentMethod(data["payment"]),
        placed_at=datetime.fromisoformat(data["placed_at"]),
        stage=Stage(data["stage"]),
        paid=bool(data["paid"]),
        edd=d8(data["edd"]),
        shipments=shipments,
        cancel_reason=data["cancel_reason"],
        delivered_at=dt(data["delivered_at"]),
        references=dict(data["references"]),
        # Conversations (orderwire.bot): absent from orders stored before them.
        rating=data.get("rating"),
        rated_at=dt(data.get("rated_at")),
        feedback=data.get("feedback", ""),
        bot_step=data.get("bot_step", ""),
        bot_answers=tuple(data.get("bot_answers", ())),
        unclear=int(data.get("unclear", 0)),
        bot_asked_at=dt(data.get("bot_asked_at")),
        cod_status=CodStatus(data.get("cod_status", "")),
        payment_retry_url=data.get("payment_retry_url", ""),
        backordered={sku: d8(day) for sku, day in data.get("backordered", {}).items()},
        returns=tuple(_return_from_json(r) for r in data.get("returns", ())),  # returns
    )
