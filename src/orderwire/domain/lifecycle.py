"""decide(order, event, now): the one place that moves an order forward and says what to send."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from orderwire.domain.edd import promise
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
from orderwire.domain.model import (
    DELIVERY_PHASE,
    SHIPMENT_PHASE,
    SHIPMENT_TO_STAGE,
    STAGE_RANK,
    CodStatus,
    Order,
    PaymentMethod,
    ReturnStatus,
    Scan,
    Shipment,
    ShipmentStatus,
    Stage,
)
from orderwire.domain.policy import (
    ShopPolicy,
    follow_up_due,
    outside_quiet_hours,
    wants_processing_update,
)
from orderwire.domain.stock import Stocked, backorder_edd, in_stock


class MessageKind(StrEnum):
    """Every business-initiated message the lifecycle can ask for."""

    CONFIRMATION = "confirmation"
    PROCESSING = "processing"
    DISPATCHED = "dispatched"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERY_FAILED_AGAIN = "delivery_failed_again"
    NDR_REMINDER = "ndr_reminder"
    RTO_INITIATED = "rto_initiated"
    DELIVERED = "delivered"
    FOLLOW_UP = "follow_up"
    CANCELLED = "cancelled"
    DELAYED = "delayed"
    # commerce
    COD_CONFIRM = "cod_confirm"
    COD_REMINDER = "cod_reminder"
    PAYMENT_FAILED = "payment_failed"
    # Returns (returns helper): the refund went through; news of a return (received, refund started,
    # replacement, rejected).
    REFUND_COMPLETED = "refund_completed"
    RETURN_UPDATE = "return_update"
    # Replenishment offers (MARKETING): a delivered product, in stock again, for opted-in customers.
    REPLENISH = "replenish"


class Outcome(StrEnum):
    """What an event did to the order; every outcome is recorded on the timeline."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    IGNORED = "ignored"


@dataclass(frozen=True)
class MessageIntent:
    """A message to send once: `key` is unique within the order; `not_before` defers it."""

    kind: MessageKind
    key: str
    not_before: datetime
    awb: str = ""


@dataclass(frozen=True)
class TimerIntent:
    """A durable timer: fire `kind` for this order at `due_at`."""

    kind: str
    due_at: datetime


@dataclass(frozen=True)
class Escalation:
    """A case for staff, opened once per `key` (parcel, attempt, reason) within the order."""

    reason: str
    awb: str
    key: str
    detail: dict[str, str]


# Calls to vendors a decision or a dialogue can ask for (performed by app/vendor_calls.py).
SHOP_CANCEL = "shop_cancel"  # cancel the order in the shop
SHOP_HOLD = "shop_hold"  # hold (payload hold="1") or release dispatch in the shop
PAYMENT_REFUND = "payment_refund"  # refund through the payment gateway
RETURN_PICKUP = "return_pickup"  # book a reverse pickup with the courier
MEDIA_DOWNLOAD = "media_download"  # fetch a photo the customer sent from the Graph API (returns)


@dataclass(frozen=True)
class VendorCall:
    """A call to a vendor, made once per `key` within the order, outside the order's transaction."""

    kind: str
    key: str
    payload: dict[str, str]


@dataclass(frozen=True)
class Decision:
    """The new order state and everything that follows from the event."""

    order: Order
    outcome: Outcome
    note: str = ""
    messages: tuple[MessageIntent, ...] = ()
    cancel_messages: tuple[str, ...] = ()
    timers: tuple[TimerIntent, ...] = ()
    alerts: tuple[str, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    calls: tuple[VendorCall, ...] = ()


FOLLOW_UP_TIMER = "follow_up"
# Failed-delivery timers are named `<kind>:<AWB>:<attempt>`: the reminder and the escalation when the
# customer does not answer, and the end-of-day check after a re-attempt they asked for.
NDR_REMIND = "ndr_remind"
NDR_ESCALATE = "ndr_escalate"
NDR_CHECK = "ndr_check"
# commerce: a COD order the customer has not confirmed: one reminder, then staff.
COD_REMIND = "cod_remind"
COD_ESCALATE = "cod_escalate"
# Replenishment offers: `replenish:<SKU>`, due the shop's period for that SKU after delivery.
REPLENISH = "replenish"


@dataclass(frozen=True)
class OfferContext:
    """What the app read before a replenishment timer's decision (the domain reads nothing itself).

    `levels` are the stock levels read from the inventory source, None when no source is configured
    (stock unknown: no offer); `opted_out` is True once the customer said STOP; `reordered` when they
    placed another order with the SKU after this one was delivered (that order makes its own offer);
    `marketing_opt_in` is the shop's word on the customer's newest order, when that is not this one (it
    can withdraw this order's opt-in, never give one this order lacks).
    """

    levels: Mapping[str, Stocked] | None = None
    opted_out: bool = False
    reordered: bool = False
    marketing_opt_in: bool | None = None


_BEFORE_DISPATCH = STAGE_RANK[Stage.DISPATCHED]


def decide(
    order: Order | None,
    event: Event,
    now: datetime,
    policy: ShopPolicy,
    offer: OfferContext | None = None,
) -> Decision:
    """Apply `event` to `order` (None only for a first OrderPlaced) and say what follows.

    `offer` is what the app read for a replenishment timer (stock, STOP); other events ignore it.
    """
    if isinstance(event, OrderPlaced):
        return _order_placed(order, event, now, policy)
    if order is None:
        raise ValueError("only OrderPlaced can start an order")
    if isinstance(event, PaymentCaptured):
        return _payment_captured(order, event, now)
    if isinstance(event, ProcessingStarted):
        return _processing_started(order, now, policy)
    if isinstance(event, ShipmentUpdated):
        if not event.awb:  # shops: a fulfilment event naming its order but not the parcel (Shopify)
            return _parcel_of_order(order, event, now, policy)
        return _shipment_updated(order, event, now, policy)
    if isinstance(event, OrderCancelled):
        return _cancelled(order, event, now)
    if isinstance(event, CustomerReplied):
        return Decision(order, Outcome.IGNORED, "customer replies are the bot's (orderwire.bot)")
    if isinstance(event, PaymentFailed):
        return _payment_failed(order, event, now, policy)
    if isinstance(event, RefundUpdated):
        # Returns: the refund of a return; other refunds are only recorded.
        from orderwire.domain import returns  # imports this module: bound late to avoid a cycle

        return returns.refund_updated(order, event, now)
    if event.kind.startswith(f"{REPLENISH}:"):
        return _replenish_due(order, event.kind, now, policy, offer or OfferContext())
    return _timer_fired(order, event, now, policy)


def _confirmation(order: Order, now: datetime) -> MessageIntent:
    return MessageIntent(MessageKind.CONFIRMATION, "confirmation", now)


def _order_placed(order: Order | None, event: OrderPlaced, now: datetime, policy: ShopPolicy) -> Decision:
    incoming = event.order
    if incoming.edd is None:
        edd = promise(incoming.placed_at, incoming.address.pincode, policy)
        incoming = dataclasses.replace(incoming, edd=edd)
    if incoming.backordered and incoming.edd is not None:
        later = backorder_edd(incoming.edd, incoming.backordered, incoming.address.pincode, policy)
        incoming = dataclasses.replace(incoming, edd=later)
    if order is None:
        new = dataclasses.replace(incoming, stage=Stage.PLACED, shipments=(), cod_status=CodStatus.NONE)
        if new.payment is PaymentMethod.COD and not new.paid and policy.cod_confirmation:
            return _cod_requested(new, now, policy)
        if new.payment is PaymentMethod.COD or new.paid:
            new = dataclasses.replace(new, stage=Stage.CONFIRMED)
            return Decision(new, Outcome.APPLIED, "order placed", (_confirmation(new, now),))
        return Decision(new, Outcome.APPLIED, "order placed, waiting for payment")
    if STAGE_RANK[order.stage] >= _BEFORE_DISPATCH:
        consent = incoming.customer.marketing_opt_in
        if consent != order.customer.marketing_opt_in:  # replenishment offers: the shop's latest word counts
            customer = dataclasses.replace(order.customer, marketing_opt_in=consent)
            note = f"marketing opt-in {'given' if consent else 'withdrawn'}; order kept as shipped"
            return Decision(dataclasses.replace(order, customer=customer), Outcome.APPLIED, note)
        return Decision(order, Outcome.STALE, "order details changed after dispatch: kept as shipped")
    merged = dataclasses.replace(
        order,
        number=incoming.number,
        customer=incoming.customer,
        items=incoming.items,
        total=incoming.total,
        address=incoming.address,
        edd=order.edd or incoming.edd,
        references={**order.references, **incoming.references},
    )
    if incoming.paid and not order.paid:
        return _payment_captured(merged, PaymentCaptured(event.occurred_at), now)
    if merged == order:
        return Decision(order, Outcome.DUPLICATE, "same order details again")
    return Decision(merged, Outcome.APPLIED, "order details updated")


def _payment_captured(order: Order, event: PaymentCaptured, now: datetime) -> Decision:
    # Payments: the gateway's references (even from a second capture notice) let later refunds find the order.
    learned = {kind: ref for kind, ref in event.references.items() if ref and kind not in order.references}
    if order.paid:
        known = dataclasses.replace(order, references={**order.references, **learned}) if learned else order
        return Decision(known, Outcome.DUPLICATE, "payment already recorded")
    refs = {**order.references, **learned}
    if event.payment_ref:
        refs["payment"] = event.payment_ref
    paid = dataclasses.replace(order, paid=True, references=refs)
    if order.stage is Stage.CANCELLED:
        return Decision(
            paid,
            Outcome.APPLIED,
            "paid after cancellation",
            alerts=("payment on a cancelled order",),
        )
    if STAGE_RANK[order.stage] >= _BEFORE_DISPATCH:
        return Decision(paid, Outcome.APPLIED, "payment recorded after dispatch")
    stage = Stage.CONFIRMED if order.stage is Stage.PLACED else order.stage
    confirmed = dataclasses.replace(paid, stage=stage)
    return Decision(confirmed, Outcome.APPLIED, "payment captured", (_confirmation(order, now),))


def _processing_started(order: Order, now: datetime, policy: ShopPolicy) -> Decision:
    if STAGE_RANK[order.stage] >= STAGE_RANK[Stage.PROCESSING]:
        return Decision(order, Outcome.STALE, f"already {order.stage.value}")
    new = dataclasses.replace(order, stage=Stage.PROCESSING)
    confirmed = _confirmed(order)
    if not (confirmed and wants_processing_update(order, policy)):
        return Decision(new, Outcome.APPLIED, "processing (no update for this order)")
    send_at = outside_quiet_hours(now, policy)
    return Decision(
        new,
        Outcome.APPLIED,
        "processing",
        (MessageIntent(MessageKind.PROCESSING, "processing", send_at),),
    )


def _progress(status: ShipmentStatus, at: datetime | None) -> tuple[int, float, int]:
    """Total order on scans: phase first; inside the delivery phase, the latest scan wins."""
    phase = SHIPMENT_PHASE[status]
    moment = at.timestamp() if (at is not None and phase == DELIVERY_PHASE) else 0.0
    failed_last = 1 if status is ShipmentStatus.DELIVERY_FAILED else 0
    return (phase, moment, failed_last)


def _same_scan(a: Scan, b: Scan) -> bool:
    return a.at == b.at and a.status == b.status and (a.status is not None or a.raw_status == b.raw_status)


def _shipment_updated(order: Order, event: ShipmentUpdated, now: datetime, policy: ShopPolicy) -> Decision:
    existing = order.shipment(event.awb)
    scan = Scan(event.occurred_at, event.status, event.location, event.description, event.raw_status)
    what = event.status.value if event.status is not None else repr(event.raw_status)
    if existing is not None and any(_same_scan(s, scan) for s in existing.scans):
        return Decision(order, Outcome.DUPLICATE, f"{what} scan seen before")
    # A parcel first heard of through a status we cannot read is at least booked with the courier.
    before = existing or Shipment(awb=event.awb, status=ShipmentStatus.PICKUP_PENDING, status_at=None)
    # Only the courier's latest word on the EDD counts: a late scan carries an out-of-date one.
    newest = all(s.at <= event.occurred_at for s in before.scans)
    failures = before.failed_attempts
    if event.status is ShipmentStatus.DELIVERY_FAILED:
        failures = tuple(sorted({*failures, event.occurred_at}))
    shipment = dataclasses.replace(
        before,
        courier=event.courier or before.courier,
        tracking_url=event.tracking_url or before.tracking_url,
        edd=event.edd if (event.edd and newest) else before.edd,
        is_return=before.is_return or event.is_return,
        failed_attempts=failures,
        scans=tuple(sorted((*before.scans, scan), key=lambda s: s.at)),
    )
    if order.stage is Stage.CANCELLED:
        return Decision(
            order.with_shipment(shipment),
            Outcome.APPLIED,
            "shipment scan on a cancelled order",
            alerts=("shipment moving for a cancelled order",),
        )
    if event.status is None:
        decision = Decision(
            order.with_shipment(shipment),
            Outcome.IGNORED,
            f"courier status {event.raw_status!r} not understood: recorded",
            alerts=(f"shipment {event.awb}: unknown courier status {event.raw_status!r}",),
        )
        return _delay_notice(decision, before, shipment.awb, now, policy)
    status = event.status
    moves = (
        existing is None
        or existing.status_at is None
        or _progress(status, event.occurred_at) > _progress(existing.status, existing.status_at)
    )
    if not moves:
        if not newest:
            return Decision(order.with_shipment(shipment), Outcome.STALE, "older than the latest scan")
        decision = Decision(order.with_shipment(shipment), Outcome.APPLIED, f"{status.value} scan, no change")
        return _delay_notice(decision, before, shipment.awb, now, policy)
    shipment = dataclasses.replace(
        shipment,
        status=status,
        status_at=event.occurred_at,
        delivery_window=event.delivery_window or shipment.delivery_window,
        agent_phone=event.agent_phone or shipment.agent_phone,
        failure_reason=event.reason if status is ShipmentStatus.DELIVERY_FAILED else "",
    )
    if shipment.is_return:
        from orderwire.domain import returns  # returns helper: the parcel of a return request

        return returns.on_return_parcel(
            Decision(
                order.with_shipment(shipment),
                Outcome.APPLIED,
                f"return shipment {status.value}",
                alerts=_return_alerts(shipment),
            ),
            shipment,
            event.occurred_at,
            policy,
        )
    return _delay_notice(
        _forward_moved(order, shipment, existing, event, now, policy), before, shipment.awb, now, policy
    )


# Shops (Shopify fulfilment events): an update naming no AWB is about the order's one forward parcel.
def _parcel_of_order(order: Order, event: ShipmentUpdated, now: datetime, policy: ShopPolicy) -> Decision:
    parcels = [s for s in order.shipments if s.forward]
    if len(parcels) == 1:
        return _shipment_updated(order, dataclasses.replace(event, awb=parcels[0].awb), now, policy)
    what = event.status.value if event.status is not None else repr(event.raw_status)
    note = f"shipment update ({what}) names no parcel and the order has {len(parcels)}: recorded"
    return Decision(order, Outcome.IGNORED, note, alerts=(note,))


def _return_alerts(shipment: Shipment) -> tuple[str, ...]:
    """Returns are the shop's business: staff hear of their end, the customer hears nothing."""
    if shipment.status is ShipmentStatus.DELIVERED:
        return (f"return {shipment.awb} delivered back to the shop",)
    if not shipment.in_motion:
        return (f"return {shipment.awb}: {shipment.status.value}",)
    return ()


def _forward_moved(
    order: Order,
    shipment: Shipment,
    existing: Shipment | None,
    event: ShipmentUpdated,
    now: datetime,
    policy: ShopPolicy,
) -> Decision:
    """A parcel on its way to the customer moved on: the stage, the messages and the timers."""
    awb, status = shipment.awb, shipment.status
    messages: list[MessageIntent] = []
    timers: list[TimerIntent] = []
    alerts: list[str] = []
    phase = SHIPMENT_PHASE[status]
    if status in (ShipmentStatus.DISPATCHED, ShipmentStatus.IN_TRANSIT):
        # The first news of this parcel leaving the shop, whichever scan brings it.
        if existing is None or SHIPMENT_PHASE[existing.status] < SHIPMENT_PHASE[ShipmentStatus.DISPATCHED]:
            messages.append(MessageIntent(MessageKind.DISPATCHED, f"{awb}:dispatched", now, awb))
            promised = shipment.edd or order.with_shipment(shipment).expected_delivery
            shipment = dataclasses.replace(shipment, notified_edd=promised)
    elif status in (ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERY_FAILED):
        # Couriers make one attempt a day: one message per parcel, kind and local day, so repeated
        # scans of one attempt (and any arrival order) never message twice.
        zone = ZoneInfo(policy.timezone)
        day = event.occurred_at.astimezone(zone).date()
        repeat = (
            existing is not None
            and existing.status is status
            and existing.status_at is not None
            and existing.status_at.astimezone(zone).date() == day
        )
        if not repeat:
            key = f"{awb}:{status.value}:{day.isoformat()}"
            kind = MessageKind(status.value)
            if status is ShipmentStatus.DELIVERY_FAILED:
                attempt = shipment.attempt
                kind = MessageKind.DELIVERY_FAILED_AGAIN if attempt > 1 else kind
                timers += _ndr_timers(awb, attempt, now, policy)
            messages.append(MessageIntent(kind, key, now, awb))
    elif status is ShipmentStatus.DELIVERED:
        messages.append(MessageIntent(MessageKind.DELIVERED, f"{awb}:delivered", now, awb))
    elif status is ShipmentStatus.RTO_INITIATED:
        messages.append(MessageIntent(MessageKind.RTO_INITIATED, f"{awb}:rto_initiated", now, awb))
        alerts.append(f"shipment {awb}: {status.value}")
    elif status is not ShipmentStatus.PICKUP_PENDING:
        alerts.append(f"shipment {awb}: {status.value}")
    updated = order.with_shipment(shipment)
    stage = _stage_from_shipments(updated) or order.stage
    if STAGE_RANK[stage] < STAGE_RANK[order.stage]:
        stage = order.stage
    updated = dataclasses.replace(updated, stage=stage)
    if stage is Stage.DELIVERED and order.stage is not Stage.DELIVERED:
        updated = dataclasses.replace(updated, delivered_at=event.occurred_at)
        timers.append(TimerIntent(FOLLOW_UP_TIMER, follow_up_due(event.occurred_at, policy)))
        timers += _replenish_timers(updated, event.occurred_at, policy)
    return Decision(
        updated,
        Outcome.APPLIED,
        f"shipment {status.value}",
        tuple(messages),
        cancel_messages=("processing",) if phase >= SHIPMENT_PHASE[ShipmentStatus.DISPATCHED] else (),
        timers=tuple(timers),
        alerts=tuple(alerts),
    )


def _ndr_timers(awb: str, attempt: int, now: datetime, policy: ShopPolicy) -> list[TimerIntent]:
    """A first failure gets a reminder, then staff; a second goes to staff sooner, without a reminder."""
    if attempt > 1:
        return [
            TimerIntent(
                f"{NDR_ESCALATE}:{awb}:{attempt}", now + timedelta(minutes=policy.ndr_escalate_again_minutes)
            )
        ]
    return [
        TimerIntent(f"{NDR_REMIND}:{awb}:{attempt}", now + timedelta(minutes=policy.ndr_reminder_minutes)),
        TimerIntent(f"{NDR_ESCALATE}:{awb}:{attempt}", now + timedelta(minutes=policy.ndr_escalate_minutes)),
    ]


def _delay_notice(
    decision: Decision, before: Shipment, awb: str, now: datetime, policy: ShopPolicy
) -> Decision:
    """One short message when the courier's EDD slips a day or more past what the customer was told.

    Not when the decision already sends something (that message carries the news), not once the parcel
    is out for delivery or beyond, and never for returns or orders the customer was not confirmed.
    """
    order = decision.order
    shipment = order.shipment(awb)
    if decision.messages or shipment is None or shipment.edd is None or shipment.edd == before.edd:
        return decision
    confirmed = _confirmed(order)
    if not (shipment.forward and confirmed) or SHIPMENT_PHASE[shipment.status] >= DELIVERY_PHASE:
        return decision
    told = shipment.notified_edd or order.edd
    if told is None or shipment.edd < told + timedelta(days=1):
        return decision
    key = f"{awb}:delayed:{shipment.edd.isoformat()}"
    notice = MessageIntent(MessageKind.DELAYED, key, outside_quiet_hours(now, policy), awb)
    informed = order.with_shipment(dataclasses.replace(shipment, notified_edd=shipment.edd))
    return dataclasses.replace(
        decision, order=informed, messages=(notice,), note=f"{decision.note}; EDD slipped"
    )


def _stage_from_shipments(order: Order) -> Stage | None:
    """The order is as far as its least advanced parcel on its way to the customer."""
    stages = [SHIPMENT_TO_STAGE[s.status] for s in order.shipments if s.forward]
    return min(stages, key=lambda st: STAGE_RANK[st]) if stages else None


def _cancelled(order: Order, event: OrderCancelled, now: datetime) -> Decision:
    if order.stage is Stage.CANCELLED:
        return Decision(order, Outcome.DUPLICATE, "already cancelled")
    if STAGE_RANK[order.stage] >= _BEFORE_DISPATCH:
        return Decision(
            order,
            Outcome.IGNORED,
            "cancel requested after dispatch",
            alerts=("cancellation after dispatch: arrange a return",),
        )
    new = dataclasses.replace(order, stage=Stage.CANCELLED, cancel_reason=event.reason)
    return Decision(
        new,
        Outcome.APPLIED,
        "order cancelled",
        (MessageIntent(MessageKind.CANCELLED, "cancelled", now),),
        cancel_messages=("confirmation", "processing", "cod_reminder"),
    )


def _timer_fired(order: Order, event: TimerFired, now: datetime, policy: ShopPolicy) -> Decision:
    if event.kind in (COD_REMIND, COD_ESCALATE):
        return _cod_unanswered(order, event, now, policy)
    if event.kind.startswith("refund_late:"):
        from orderwire.domain import returns  # returns helper: a refund past its promised date

        return returns.refund_late(order, event.kind, now)
    if event.kind.startswith(f"{NDR_REMIND}:") or event.kind.startswith(f"{NDR_ESCALATE}:"):
        return _ndr_unanswered(order, event, now)
    if event.kind.startswith(f"{NDR_CHECK}:"):
        return _ndr_check(order, event, policy)
    if event.kind == FOLLOW_UP_TIMER and order.stage is Stage.DELIVERED:
        new = dataclasses.replace(order, stage=Stage.FOLLOWED_UP)
        return Decision(
            new,
            Outcome.APPLIED,
            "follow-up",
            (MessageIntent(MessageKind.FOLLOW_UP, "follow_up", now),),
        )
    return Decision(order, Outcome.STALE, f"timer {event.kind} no longer applies")


def _ndr_timer(order: Order, kind: str) -> tuple[Shipment, int] | None:
    """The parcel and attempt a failed-delivery timer is about, if that parcel still exists."""
    awb, _, attempt = kind.partition(":")[2].rpartition(":")
    shipment = order.shipment(awb)
    return None if shipment is None or not attempt.isdigit() else (shipment, int(attempt))


def _ndr_unanswered(order: Order, event: TimerFired, now: datetime) -> Decision:
    """No answer to a failed attempt: remind once, then hand it to staff, unless things moved on."""
    found = _ndr_timer(order, event.kind)
    if found is None:
        return Decision(order, Outcome.STALE, f"timer {event.kind}: no such parcel")
    shipment, attempt = found
    answered = shipment.ndr_attempt >= attempt and bool(shipment.ndr_choice)
    if shipment.status is not ShipmentStatus.DELIVERY_FAILED or shipment.attempt != attempt or answered:
        return Decision(order, Outcome.STALE, f"timer {event.kind}: answered or moved on")
    awb = shipment.awb
    if event.kind.startswith(NDR_REMIND):
        if shipment.ndr_step:
            return Decision(order, Outcome.STALE, f"NDR {awb}: the customer is answering; no reminder")
        reminder = MessageIntent(MessageKind.NDR_REMINDER, f"{awb}:ndr_reminder:{attempt}", now, awb)
        return Decision(order, Outcome.APPLIED, f"NDR {awb}: reminder", (reminder,))
    detail = {
        "attempt": str(attempt),
        "failed_at": shipment.failed_attempts[-1].isoformat() if shipment.failed_attempts else "",
        "courier": shipment.courier,
        "courier_reason": shipment.failure_reason,
    }
    case = Escalation("no_answer", awb, f"{awb}:ndr{attempt}:no_answer", detail)
    return Decision(order, Outcome.APPLIED, f"NDR {awb}: no answer, handed to staff", escalations=(case,))


def _ndr_check(order: Order, event: TimerFired, policy: ShopPolicy) -> Decision:
    """After the day the customer chose: no attempt scanned that day is a case to dispute with the courier."""
    found = _ndr_timer(order, event.kind)
    if found is None:
        return Decision(order, Outcome.STALE, f"timer {event.kind}: no such parcel")
    shipment, attempt = found
    day = shipment.ndr_date
    if shipment.ndr_choice != "reattempt" or shipment.ndr_attempt != attempt or day is None:
        return Decision(order, Outcome.STALE, f"timer {event.kind}: no re-attempt was asked")
    zone = ZoneInfo(policy.timezone)
    tried = any(s.status in _ATTEMPT_SCANS and s.at.astimezone(zone).date() >= day for s in shipment.scans)
    if tried or shipment.status is ShipmentStatus.DELIVERED:
        return Decision(order, Outcome.STALE, f"NDR {shipment.awb}: re-attempted as asked")
    detail = {
        "choice": "reattempt",
        "date": day.isoformat(),
        "chosen_at": shipment.ndr_chosen_at.isoformat() if shipment.ndr_chosen_at else "",
        "courier": shipment.courier,
    }
    case = Escalation(
        "reattempt_missed", shipment.awb, f"{shipment.awb}:ndr{attempt}:reattempt_missed", detail
    )
    note = f"NDR {shipment.awb}: no attempt on {day}; dispute with the courier"
    return Decision(order, Outcome.APPLIED, note, escalations=(case,))


_ATTEMPT_SCANS = frozenset(
    {ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERY_FAILED, ShipmentStatus.DELIVERED}
)


# commerce: cash on delivery confirmed by the customer, and failed payments.


def _confirmed(order: Order) -> bool:
    """Paid, or cash on delivery the customer did not leave unanswered or decline."""
    if order.paid:
        return True
    unconfirmed = order.cod_status in (CodStatus.AWAITING, CodStatus.DECLINED)
    return order.payment is PaymentMethod.COD and not unconfirmed


def _cod_requested(order: Order, now: datetime, policy: ShopPolicy) -> Decision:
    """A new COD order: ask the customer to confirm it (and hold dispatch in the shop meanwhile)."""
    new = dataclasses.replace(order, cod_status=CodStatus.AWAITING)
    ask = MessageIntent(MessageKind.COD_CONFIRM, "cod_confirm", now)
    remind = TimerIntent(COD_REMIND, now + timedelta(minutes=policy.cod_reminder_minutes))
    hold = VendorCall(SHOP_HOLD, "cod_hold", {"hold": "1", "reason": "cash on delivery not confirmed yet"})
    calls = (hold,) if policy.cod_hold_dispatch else ()
    note = "COD order placed: confirmation asked"
    return Decision(new, Outcome.APPLIED, note, (ask,), timers=(remind,), calls=calls)


def _cod_open(order: Order) -> bool:
    """Still waiting for the customer's COD answer, with nothing shipped or cancelled yet."""
    return (
        order.cod_status is CodStatus.AWAITING
        and not order.paid
        and order.stage is not Stage.CANCELLED
        and STAGE_RANK[order.stage] < _BEFORE_DISPATCH
    )


def _cod_unanswered(order: Order, event: TimerFired, now: datetime, policy: ShopPolicy) -> Decision:
    """No answer to the COD request: remind once (outside quiet hours), then hand it to staff."""
    if not _cod_open(order):
        return Decision(order, Outcome.STALE, f"timer {event.kind}: answered or moved on")
    if event.kind == COD_REMIND:
        send_at = outside_quiet_hours(now, policy)
        reminder = MessageIntent(MessageKind.COD_REMINDER, "cod_reminder", send_at)
        escalate = TimerIntent(COD_ESCALATE, send_at + timedelta(minutes=policy.cod_escalate_minutes))
        return Decision(order, Outcome.APPLIED, "COD: reminder", (reminder,), timers=(escalate,))
    detail = {
        "placed_at": order.placed_at.isoformat(),
        "total_minor": str(order.total.minor),
        "currency": order.total.currency,
        "dispatch_held": "yes" if policy.cod_hold_dispatch else "no",
    }
    case = Escalation("cod_unconfirmed", "", "cod_unconfirmed", detail)
    return Decision(order, Outcome.APPLIED, "COD: no answer, handed to staff", escalations=(case,))


def cod_answer(order: Order, confirm: bool, at: datetime, now: datetime, policy: ShopPolicy) -> Decision:
    """The customer confirmed (`confirm`) or declined their COD order at `at`: what follows.

    Confirmed: the normal confirmation (and dispatch released). Declined before dispatch: cancelled here
    and in the shop, and the customer told. Taps that come too late change nothing (the bot explains).
    """
    shipped = STAGE_RANK[order.stage] >= _BEFORE_DISPATCH
    if order.stage is Stage.CANCELLED:
        repeat = not confirm and order.cod_status is CodStatus.DECLINED
        outcome = Outcome.DUPLICATE if repeat else Outcome.STALE
        return Decision(order, outcome, "COD answer for a cancelled order")
    if confirm:
        if order.cod_status is CodStatus.CONFIRMED:
            return Decision(order, Outcome.DUPLICATE, "COD already confirmed")
        stage = Stage.CONFIRMED if order.stage is Stage.PLACED else order.stage
        new = dataclasses.replace(order, cod_status=CodStatus.CONFIRMED, stage=stage)
        if shipped:
            return Decision(new, Outcome.APPLIED, "COD confirmed after dispatch")
        release = order.cod_status is CodStatus.AWAITING and policy.cod_hold_dispatch
        payload = {"hold": "0", "reason": "customer confirmed cash on delivery"}
        calls = (VendorCall(SHOP_HOLD, "cod_release", payload),) if release else ()
        return Decision(
            new,
            Outcome.APPLIED,
            "COD confirmed by the customer",
            (_confirmation(new, now),),
            cancel_messages=("cod_reminder",),
            calls=calls,
        )
    if shipped:
        detail = {"asked_at": at.isoformat(), "stage": order.stage.value}
        case = Escalation("cod_cancel_after_dispatch", "", "cod_cancel_after_dispatch", detail)
        return Decision(order, Outcome.STALE, "COD cancel asked after dispatch", escalations=(case,))
    cancelled = _cancelled(order, OrderCancelled(at, "customer declined cash on delivery"), now)
    new = dataclasses.replace(cancelled.order, cod_status=CodStatus.DECLINED)
    call = VendorCall(SHOP_CANCEL, "cod_cancel", {"reason": "customer declined the cash-on-delivery order"})
    return dataclasses.replace(
        cancelled, order=new, note="COD declined by the customer: order cancelled", calls=(call,)
    )


def _payment_failed(order: Order, event: PaymentFailed, now: datetime, policy: ShopPolicy) -> Decision:
    """A prepaid order not paid yet: one retry message a day (with the gateway's retry link, if any)."""
    if order.payment is not PaymentMethod.PREPAID or order.paid:
        return Decision(order, Outcome.IGNORED, "payment failure recorded (paid or cash on delivery)")
    if order.stage is Stage.CANCELLED or STAGE_RANK[order.stage] >= _BEFORE_DISPATCH:
        return Decision(order, Outcome.IGNORED, f"payment failure recorded ({order.stage.value})")
    new = dataclasses.replace(order, payment_retry_url=event.retry_url or order.payment_retry_url)
    day = now.astimezone(ZoneInfo(policy.timezone)).date().isoformat()
    retry = MessageIntent(MessageKind.PAYMENT_FAILED, f"payment_failed:{day}", now)
    reason = f" ({event.reason})" if event.reason else ""
    return Decision(new, Outcome.APPLIED, f"payment failed{reason}: retry message", (retry,))


# Replenishment offers: one timer per delivered SKU the shop set a period for; when it fires, one
# MARKETING message, only to a customer who opted in to marketing and did not say STOP, only in stock.


def _replenish_timers(order: Order, delivered_at: datetime, policy: ShopPolicy) -> list[TimerIntent]:
    """A `replenish:<SKU>` timer for each configured SKU of the order, due its period after delivery."""
    skus = dict.fromkeys(i.sku for i in order.items if i.sku in policy.replenish_days)
    return [
        TimerIntent(
            f"{REPLENISH}:{sku}",
            outside_quiet_hours(delivered_at + timedelta(days=policy.replenish_days[sku]), policy),
        )
        for sku in skus
    ]


def _replenish_due(
    order: Order, kind: str, now: datetime, policy: ShopPolicy, offer: OfferContext
) -> Decision:
    """Offer the SKU again, or record why not (the reason is the timeline's note)."""
    sku = kind.partition(":")[2]
    if order.delivered_at is None or not any(i.sku == sku for i in order.items):
        return Decision(order, Outcome.STALE, f"timer {kind}: no delivered item {sku!r}")
    reason = ""
    if offer.opted_out:
        reason = "the customer opted out (STOP)"
    elif not order.customer.marketing_opt_in or offer.marketing_opt_in is False:
        reason = "no marketing opt-in from the shop"
    elif any(r.status is not ReturnStatus.REJECTED for r in order.returns):
        reason = "the order has a return"
    elif offer.reordered:
        reason = "the customer ordered it again since"
    elif offer.levels is None:
        reason = "stock unknown (no inventory source configured)"
    elif not in_stock([sku], offer.levels):
        reason = "not in stock" if sku in offer.levels else "not listed by the stock source"
    if reason:
        return Decision(order, Outcome.IGNORED, f"replenishment offer for {sku} skipped: {reason}")
    intent = MessageIntent(MessageKind.REPLENISH, f"{REPLENISH}:{sku}", outside_quiet_hours(now, policy), sku)
    return Decision(order, Outcome.APPLIED, f"replenishment offer for {sku}", (intent,))
