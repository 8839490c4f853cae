"""Returns after the dialogue (bot/returns.py): the return parcel, the refund, its promised date, staff.

Pure: (order, what happened, now, policy) -> Decision. The refund is asked of the payment gateway as a
`PAYMENT_REFUND` vendor call once per RMA; the promise made to the customer ("within N days of pickup")
is a durable timer `refund_late:<RMA>` that hands the case to staff if the refund has not gone through.
"""

from __future__ import annotations

import dataclasses
import hashlib
from base64 import b32encode
from datetime import datetime, timedelta

from orderwire.domain.events import RefundUpdated
from orderwire.domain.lifecycle import (
    PAYMENT_REFUND,
    Decision,
    Escalation,
    MessageIntent,
    MessageKind,
    Outcome,
    TimerIntent,
    VendorCall,
)
from orderwire.domain.model import (
    SHIPMENT_PHASE,
    Order,
    ReturnCase,
    ReturnStatus,
    Shipment,
    ShipmentStatus,
)
from orderwire.domain.policy import ShopPolicy

REFUND_LATE = "refund_late"
REFUND = "refund"
REPLACEMENT = "replacement"
# Gateway ids a refund can be made against, most specific first (see DESIGN: order references).
PAYMENT_REFERENCES = ("payment", "razorpay_payment", "stripe_payment_intent", "cashfree_order")
_AWAITING_PARCEL = frozenset(
    {ReturnStatus.PICKUP_REQUESTED, ReturnStatus.PICKUP_BOOKED, ReturnStatus.LABEL_SENT}
)
_ARRIVED = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RTO_DELIVERED})


def new_rma(order: Order) -> str:
    """A short RMA number, the same for the same order and count of returns (no clock, no randomness)."""
    seed = f"{order.shop_id}:{order.order_id}:{len(order.returns)}".encode()
    return "RMA" + b32encode(hashlib.sha256(seed).digest()).decode()[:9]


def payment_ref(order: Order) -> str:
    """The gateway payment a refund goes against, or '' (a cash-on-delivery order has none)."""
    return next((order.references[k] for k in PAYMENT_REFERENCES if order.references.get(k)), "")


def refund_timer(case: ReturnCase) -> TimerIntent | None:
    """The check that the refund went through by the date promised."""
    return None if case.refund_due is None else TimerIntent(f"{REFUND_LATE}:{case.rma}", case.refund_due)


def _case_for_parcel(order: Order, awb: str) -> ReturnCase | None:
    """The return this parcel carries: the one booked with its AWB, else the only one awaiting a parcel."""
    named = next((r for r in order.returns if r.awb == awb), None)
    if named is not None:
        return named
    waiting = [r for r in order.returns if r.status in _AWAITING_PARCEL and not r.awb]
    return waiting[0] if len(waiting) == 1 else None


def on_return_parcel(decision: Decision, shipment: Shipment, at: datetime, policy: ShopPolicy) -> Decision:
    """A return parcel moved: the refund clock starts at pickup; arrival settles the return."""
    order = decision.order
    case = _case_for_parcel(order, shipment.awb)
    if case is None:
        return decision
    case = dataclasses.replace(case, awb=shipment.awb)
    timers: list[TimerIntent] = []
    picked_up = SHIPMENT_PHASE[shipment.status] >= SHIPMENT_PHASE[ShipmentStatus.DISPATCHED]
    if (
        case.resolution == REFUND
        and case.refund_due is None
        and picked_up
        and shipment.status is not ShipmentStatus.CANCELLED
    ):
        case = dataclasses.replace(case, refund_due=at + timedelta(days=policy.refund_days))
        timers += [t for t in (refund_timer(case),) if t is not None]
    order = order.with_return(case)
    decision = dataclasses.replace(decision, order=order, timers=(*decision.timers, *timers))
    if shipment.status in _ARRIVED and case.status in _AWAITING_PARCEL:
        settled = settle(order, case.rma, at, policy, "return parcel arrived")
        if settled.outcome is not Outcome.APPLIED:
            return decision
        return dataclasses.replace(
            settled,
            note=f"{decision.note}; {settled.note}",
            alerts=decision.alerts,
            timers=(*decision.timers, *settled.timers),
        )
    return decision


def settle(order: Order, rma: str, at: datetime, policy: ShopPolicy, why: str) -> Decision:
    """The return is accepted (arrived, or approved by staff): refund it or hand the replacement to staff."""
    case = order.return_case(rma)
    if case is None or not case.open or not case.resolution:
        return Decision(order, Outcome.STALE, f"return {rma}: nothing to settle")
    if case.status is ReturnStatus.REFUND_REQUESTED:  # settled already (approved, or the parcel arrived)
        return Decision(order, Outcome.DUPLICATE, f"return {rma}: refund already asked for")
    if case.resolution == REFUND:
        return _refund(order, case, at, policy, order.total.minor, why)
    replacing = dataclasses.replace(case, status=ReturnStatus.REPLACING)
    detail = {"rma": rma, "reason": case.reason, "return_awb": case.awb, "why": why}
    return Decision(
        order.with_return(replacing),
        Outcome.APPLIED,
        f"return {rma}: {why}; replacement to send",
        (MessageIntent(MessageKind.RETURN_UPDATE, f"{rma}:replacing", at, rma),),
        escalations=(Escalation("send_replacement", case.awb, f"{rma}:replacement", detail),),
    )


def issue_refund(
    order: Order, rma: str, at: datetime, policy: ShopPolicy, amount_minor: int | None = None
) -> Decision:
    """Staff refund a return whatever the customer chose (e.g. no replacement in stock), in full or part."""
    case = order.return_case(rma)
    if case is None or case.status in (ReturnStatus.REFUNDED, ReturnStatus.REJECTED):
        return Decision(order, Outcome.STALE, f"return {rma}: cannot be refunded now")
    if case.status is ReturnStatus.REFUND_REQUESTED:
        return Decision(order, Outcome.DUPLICATE, f"return {rma}: refund already asked for")
    amount = order.total.minor if amount_minor is None else amount_minor
    if not 0 < amount <= order.total.minor:
        raise ValueError(f"refund amount must be between 1 and {order.total.minor}")
    case = dataclasses.replace(case, resolution=REFUND)
    return _refund(order.with_return(case), case, at, policy, amount, "refund issued by staff")


def _refund(
    order: Order, case: ReturnCase, at: datetime, policy: ShopPolicy, amount: int, why: str
) -> Decision:
    due = case.refund_due or at + timedelta(days=policy.refund_days)
    case = dataclasses.replace(
        case, status=ReturnStatus.REFUND_REQUESTED, refund_minor=amount, refund_due=due
    )
    call = VendorCall(
        PAYMENT_REFUND,
        f"{case.rma}:refund",
        {
            "payment_ref": payment_ref(order),
            "amount_minor": str(amount),
            "currency": order.total.currency,
            "reason": f"Return {case.rma}: {case.reason or 'return'}",
            "rma": case.rma,
        },
    )
    timer = refund_timer(case)
    return Decision(
        order.with_return(case),
        Outcome.APPLIED,
        f"return {case.rma}: {why}; refund of {amount} asked",
        (MessageIntent(MessageKind.RETURN_UPDATE, f"{case.rma}:refund_started", at, case.rma),),
        timers=(timer,) if timer is not None else (),
        calls=(call,),
    )


def reject(order: Order, rma: str, at: datetime, note: str) -> Decision:
    """Staff turn the return down; the customer is told why."""
    case = order.return_case(rma)
    if case is None or not case.open or case.status is ReturnStatus.REFUND_REQUESTED:
        return Decision(order, Outcome.STALE, f"return {rma}: cannot be rejected now")
    rejected = dataclasses.replace(case, status=ReturnStatus.REJECTED, note=note[:300])
    return Decision(
        order.with_return(rejected),
        Outcome.APPLIED,
        f"return {rma}: rejected by staff",
        (MessageIntent(MessageKind.RETURN_UPDATE, f"{rma}:rejected", at, rma),),
    )


def _case_for_refund(order: Order, event: RefundUpdated) -> ReturnCase | None:
    """The return a gateway's refund news is about: by refund id, else the one refund we asked for."""
    if event.refund_ref:
        named = next((r for r in order.returns if r.refund_ref == event.refund_ref), None)
        if named is not None:
            return named
    asked = [r for r in order.returns if r.status is ReturnStatus.REFUND_REQUESTED and not r.refund_ref]
    if event.amount_minor is not None and len(asked) > 1:
        asked = [r for r in asked if r.refund_minor == event.amount_minor]
    return asked[0] if len(asked) == 1 else None


def refund_updated(order: Order, event: RefundUpdated, now: datetime) -> Decision:
    """The gateway reports on a return's refund: done (tell the customer), failed (staff), or pending."""
    case = _case_for_refund(order, event)
    if case is None:
        return Decision(order, Outcome.IGNORED, f"refund {event.status} recorded (not a return's refund)")
    rma = case.rma
    if case.status is ReturnStatus.REFUNDED:
        return Decision(order, Outcome.DUPLICATE, f"return {rma}: refund already completed")
    known = dataclasses.replace(case, refund_ref=event.refund_ref or case.refund_ref)
    if event.status == "processed":
        done = dataclasses.replace(known, status=ReturnStatus.REFUNDED, bank_ref=event.bank_ref[:100])
        return Decision(
            order.with_return(done),
            Outcome.APPLIED,
            f"return {rma}: refund completed",
            (MessageIntent(MessageKind.REFUND_COMPLETED, f"{rma}:refunded", now, rma),),
        )
    if event.status == "failed":
        detail = {"rma": rma, "refund_ref": event.refund_ref, "reason": event.reason[:300]}
        case_key = f"{rma}:refund_failed:{event.refund_ref}"
        return Decision(
            order.with_return(known),
            Outcome.APPLIED,
            f"return {rma}: refund failed",
            escalations=(Escalation("refund_failed", case.awb, case_key, detail),),
        )
    if known == case:
        return Decision(order, Outcome.DUPLICATE, f"return {rma}: refund {event.status}")
    return Decision(order.with_return(known), Outcome.APPLIED, f"return {rma}: refund {event.status}")


def refund_late(order: Order, kind: str, now: datetime) -> Decision:
    """The promised refund date passed: staff chase it, unless it went through."""
    rma = kind.partition(":")[2]
    case = order.return_case(rma)
    if case is None or case.status is not ReturnStatus.REFUND_REQUESTED:
        return Decision(order, Outcome.STALE, f"timer {kind}: refunded or no longer due")
    detail = {
        "rma": rma,
        "due": case.refund_due.isoformat() if case.refund_due else "",
        "refund_ref": case.refund_ref,
        "amount_minor": str(case.refund_minor),
    }
    escalation = Escalation(REFUND_LATE, case.awb, f"{rma}:{REFUND_LATE}", detail)
    return Decision(order, Outcome.APPLIED, f"return {rma}: refund late", escalations=(escalation,))


def refund_asked(order: Order, rma: str, refund_ref: str) -> Decision:
    """The gateway accepted the refund request and named it: later news is matched by this id."""
    case = order.return_case(rma)
    if case is None or not refund_ref or case.refund_ref == refund_ref:
        return Decision(order, Outcome.DUPLICATE, f"return {rma}: refund id known")
    named = dataclasses.replace(case, refund_ref=refund_ref[:100])
    return Decision(order.with_return(named), Outcome.APPLIED, f"return {rma}: gateway refund {refund_ref}")
