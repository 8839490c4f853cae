"""Cash on delivery confirmed by the customer: the lifecycle rules and the `cod:` dialogue."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from orderwire import bot
from orderwire.app.catalogue import load_catalogue
from orderwire.bot.turn import Turn
from orderwire.domain.events import (
    CustomerReplied,
    OrderCancelled,
    OrderPlaced,
    ProcessingStarted,
    ShipmentUpdated,
    TimerFired,
)
from orderwire.domain.lifecycle import (
    COD_ESCALATE,
    COD_REMIND,
    SHOP_CANCEL,
    SHOP_HOLD,
    Decision,
    MessageKind,
    Outcome,
    VendorCall,
    decide,
)
from orderwire.domain.messages import compose
from orderwire.domain.model import (
    CodStatus,
    Order,
    PaymentMethod,
    ShipmentStatus,
    Stage,
    order_from_json,
    to_json,
)
from orderwire.domain.policy import ShopPolicy
from orderwire.domain.templates import ButtonParameter, validate
from tests.unit.factories import T0, order

POLICY = ShopPolicy()
HOLDING = dataclasses.replace(POLICY, cod_hold_dispatch=True)
CONFIRM = "cod:confirm:o-1"
CANCEL = "cod:cancel:o-1"


def placed(policy: ShopPolicy = POLICY, language: str = "en") -> Decision:
    return decide(None, OrderPlaced(order(PaymentMethod.COD, language=language), T0), T0, policy)


def tap(o: Order, reply_id: str, minutes: int = 5, policy: ShopPolicy = POLICY, window: bool = True) -> Turn:
    at = T0 + timedelta(minutes=minutes)
    reply = CustomerReplied(at, f"wamid.{minutes}", "button", "Confirm order", reply_id)
    return bot.respond(o, reply, at, policy, window)


def fire(o: Order, kind: str, at: timedelta, policy: ShopPolicy = POLICY) -> Decision:
    return decide(o, TimerFired(kind, T0 + at), T0 + at, policy)


def texts(turn: Turn) -> list[str]:
    return [s.message.body for s in turn.sends]


def test_cod_order_asks_for_confirmation_instead_of_confirming() -> None:
    d = placed()
    assert d.order.stage is Stage.PLACED and d.order.cod_status is CodStatus.AWAITING
    assert [(m.kind, m.key, m.not_before) for m in d.messages] == [
        (MessageKind.COD_CONFIRM, "cod_confirm", T0)
    ]
    assert [(t.kind, t.due_at) for t in d.timers] == [(COD_REMIND, T0 + timedelta(minutes=240))]
    assert d.calls == ()


def test_prepaid_orders_are_unchanged() -> None:
    d = decide(None, OrderPlaced(order(paid=True), T0), T0, POLICY)
    assert d.order.cod_status is CodStatus.NONE and d.order.stage is Stage.CONFIRMED
    assert [m.kind for m in d.messages] == [MessageKind.CONFIRMATION] and d.timers == ()


def test_confirm_continues_the_normal_confirmation() -> None:
    turn = tap(placed().order, CONFIRM)
    assert turn.outcome is Outcome.APPLIED
    assert turn.order.stage is Stage.CONFIRMED and turn.order.cod_status is CodStatus.CONFIRMED
    assert [(m.kind, m.key) for m in turn.decision.messages] == [(MessageKind.CONFIRMATION, "confirmation")]
    assert (
        turn.decision.cancel_messages == ("cod_reminder",) and turn.sends == () and turn.decision.calls == ()
    )
    # A second tap changes and says nothing.
    again = tap(turn.order, CONFIRM, 6)
    assert again.outcome is Outcome.DUPLICATE and again.decision.messages == () and again.sends == ()
    # Follow-on stages: a confirmed COD order hears that packing started (first orders).
    first = dataclasses.replace(
        turn.order, customer=dataclasses.replace(turn.order.customer, first_order=True)
    )
    processing = decide(first, ProcessingStarted(T0), T0, POLICY)
    assert [m.kind for m in processing.messages] == [MessageKind.PROCESSING]


def test_no_processing_update_before_the_customer_confirms() -> None:
    o = placed().order
    first = dataclasses.replace(o, customer=dataclasses.replace(o.customer, first_order=True))
    d = decide(first, ProcessingStarted(T0), T0, POLICY)
    assert d.order.stage is Stage.PROCESSING and d.messages == ()
    # Confirmed later: the confirmation still goes, the stage does not move back.
    turn = tap(d.order, CONFIRM)
    assert turn.order.stage is Stage.PROCESSING
    assert [m.kind for m in turn.decision.messages] == [MessageKind.CONFIRMATION]


def test_cancel_cancels_here_and_in_the_shop_and_tells_the_customer() -> None:
    turn = tap(placed().order, CANCEL)
    assert turn.outcome is Outcome.APPLIED
    assert turn.order.stage is Stage.CANCELLED and turn.order.cod_status is CodStatus.DECLINED
    assert turn.order.cancel_reason == "customer declined cash on delivery"
    assert [(m.kind, m.key) for m in turn.decision.messages] == [(MessageKind.CANCELLED, "cancelled")]
    assert "cod_reminder" in turn.decision.cancel_messages and "confirmation" in turn.decision.cancel_messages
    assert turn.decision.calls == (
        VendorCall(SHOP_CANCEL, "cod_cancel", {"reason": "customer declined the cash-on-delivery order"}),
    )
    cancelled = compose(MessageKind.CANCELLED, turn.order, "", "t")
    assert cancelled.body == ("#1001", "Nothing is due from you.")
    assert tap(turn.order, CANCEL, 6).outcome is Outcome.DUPLICATE


def test_confirm_after_cancel_is_explained() -> None:
    cancelled = tap(placed().order, CANCEL).order
    turn = tap(cancelled, CONFIRM, 10)
    assert turn.outcome is Outcome.STALE and turn.order == cancelled
    assert turn.decision.messages == () and turn.decision.calls == ()
    assert texts(turn) == [
        "Order #1001 has already been cancelled, so there is nothing more to do. "
        "You are welcome to place a new order any time."
    ]
    assert turn.sends[0].key == "cod:cancelled"


def test_cancel_after_dispatch_is_explained_and_handed_to_staff() -> None:
    o = placed().order
    shipped = decide(
        o, ShipmentUpdated("AWB1", ShipmentStatus.DISPATCHED, T0 + timedelta(hours=1)), T0, POLICY
    )
    turn = tap(shipped.order, CANCEL, 90)
    assert turn.outcome is Outcome.STALE and turn.order.stage is Stage.DISPATCHED
    assert turn.decision.calls == () and turn.decision.messages == ()
    assert [c.reason for c in turn.decision.escalations] == ["cod_cancel_after_dispatch"]
    assert texts(turn)[0].startswith("Order #1001 is already on its way, so it can no longer be cancelled")


def test_confirm_after_dispatch_is_thanked_without_a_second_confirmation() -> None:
    o = placed().order
    shipped = decide(
        o, ShipmentUpdated("AWB1", ShipmentStatus.DISPATCHED, T0 + timedelta(hours=1)), T0, POLICY
    )
    turn = tap(shipped.order, CONFIRM, 90)
    assert turn.outcome is Outcome.APPLIED and turn.order.cod_status is CodStatus.CONFIRMED
    assert turn.decision.messages == ()
    assert texts(turn) == ["Thank you for confirming. Order #1001 is already on its way."]


def test_hindi_explanation() -> None:
    cancelled = tap(placed(language="hi").order, CANCEL).order
    assert texts(tap(cancelled, CONFIRM, 10))[0].startswith("ऑर्डर #1001 पहले ही रद्द हो चुका है")


def test_no_answer_reminder_then_staff() -> None:
    o = placed().order
    remind = fire(o, COD_REMIND, timedelta(minutes=240))
    due = T0 + timedelta(minutes=240)
    assert [(m.kind, m.key, m.not_before) for m in remind.messages] == [
        (MessageKind.COD_REMINDER, "cod_reminder", due)
    ]
    assert [(t.kind, t.due_at) for t in remind.timers] == [(COD_ESCALATE, due + timedelta(minutes=480))]
    escalate = fire(o, COD_ESCALATE, timedelta(minutes=720))
    (case,) = escalate.escalations
    assert (case.reason, case.key, case.awb) == ("cod_unconfirmed", "cod_unconfirmed", "")
    assert case.detail["placed_at"] == T0.isoformat() and case.detail["dispatch_held"] == "no"
    assert escalate.messages == () and escalate.order == o


def test_reminder_waits_for_the_end_of_quiet_hours() -> None:
    late = T0.replace(hour=17)  # 22:30 in Kolkata
    remind = decide(placed().order, TimerFired(COD_REMIND, late), late, POLICY)
    (reminder,) = remind.messages
    assert reminder.not_before == T0.replace(day=28, hour=3, minute=30)  # 09:00 next day
    assert remind.timers[0].due_at == reminder.not_before + timedelta(minutes=480)


def test_timers_after_an_answer_or_a_cancellation_do_nothing() -> None:
    o = placed().order
    confirmed = tap(o, CONFIRM).order
    declined = tap(o, CANCEL).order
    shop_cancelled = decide(o, OrderCancelled(T0, "out of stock"), T0, POLICY).order
    paid_anyway = decide(o, OrderPlaced(dataclasses.replace(o, paid=True), T0), T0, POLICY).order
    assert paid_anyway.paid and paid_anyway.stage is Stage.CONFIRMED
    for later in (confirmed, declined, shop_cancelled, paid_anyway):
        for kind in (COD_REMIND, COD_ESCALATE):
            d = fire(later, kind, timedelta(hours=5))
            assert d.outcome is Outcome.STALE and d.messages == () and d.escalations == ()


def test_hold_dispatch_until_confirmed() -> None:
    d = placed(HOLDING)
    assert d.calls == (
        VendorCall(SHOP_HOLD, "cod_hold", {"hold": "1", "reason": "cash on delivery not confirmed yet"}),
    )
    turn = tap(d.order, CONFIRM, policy=HOLDING)
    assert turn.decision.calls == (
        VendorCall(SHOP_HOLD, "cod_release", {"hold": "0", "reason": "customer confirmed cash on delivery"}),
    )
    declined = tap(d.order, CANCEL, policy=HOLDING)
    assert [c.kind for c in declined.decision.calls] == [SHOP_CANCEL]  # cancelled, not released
    assert (
        fire(d.order, COD_ESCALATE, timedelta(hours=12), HOLDING).escalations[0].detail["dispatch_held"]
        == "yes"
    )


def test_taps_that_are_not_for_this_order_or_unknown() -> None:
    o = placed().order
    assert tap(o, "cod:confirm:o-2").outcome is Outcome.STALE
    assert tap(o, "cod:maybe:o-1").outcome is Outcome.IGNORED
    prepaid = decide(None, OrderPlaced(order(paid=True), T0), T0, POLICY).order
    assert tap(prepaid, CONFIRM).outcome is Outcome.IGNORED


def test_explanations_wait_for_an_open_window() -> None:
    cancelled = tap(placed().order, CANCEL).order
    assert tap(cancelled, CONFIRM, 10, window=False).sends == ()


def test_cod_state_survives_storage_and_old_rows_default() -> None:
    o = placed().order
    assert order_from_json(to_json(o)) == o
    old = to_json(o)
    for name in ("cod_status", "payment_retry_url", "backordered"):
        del old[name]
    restored = order_from_json(old)
    assert restored.cod_status is CodStatus.NONE and restored.backordered == {}


def test_cod_templates_carry_the_answers() -> None:
    catalogue = load_catalogue()
    o = placed().order
    for kind, template in (
        (MessageKind.COD_CONFIRM, "order_cod_confirm"),
        (MessageKind.COD_REMINDER, "order_cod_reminder"),
    ):
        for language in ("en", "hi"):
            lo = dataclasses.replace(o, customer=dataclasses.replace(o.customer, language=language))
            message = compose(kind, lo, "", "t")
            assert message.template == template
            validate(message, catalogue[template])
            assert message.buttons == (
                ButtonParameter(0, "quick_reply", CONFIRM),
                ButtonParameter(1, "quick_reply", CANCEL),
            )
    confirm = compose(MessageKind.COD_CONFIRM, o, "", "t")
    assert confirm.body == (
        "Asha",
        "#1001",
        "2 × Cotton Kurta",
        "₹1,23,456.00",
        "12 MG Road, Bengaluru, 560001",
        "Thu, 3 Dec",
    )
    assert compose(MessageKind.COD_REMINDER, o, "", "t").body == ("#1001", "₹1,23,456.00")
