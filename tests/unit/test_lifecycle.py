"""decide(): stages move forward only, and each message is asked for once."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from orderwire.domain.events import (
    OrderCancelled,
    OrderPlaced,
    PaymentCaptured,
    ProcessingStarted,
    ShipmentUpdated,
    TimerFired,
)
from orderwire.domain.lifecycle import Decision, MessageKind, Outcome, decide
from orderwire.domain.model import Order, PaymentMethod, ShipmentStatus, Stage
from orderwire.domain.policy import ShopPolicy
from tests.unit.factories import T0, order

POLICY = ShopPolicy()


def run(events: list[object], start: Order | None = None) -> tuple[Order, list[Decision]]:
    current = start
    decisions = []
    for event in events:
        d = decide(current, event, T0, POLICY)  # type: ignore[arg-type]
        decisions.append(d)
        current = d.order
    assert current is not None
    return current, decisions


def kinds(decisions: list[Decision]) -> list[MessageKind]:
    return [m.kind for d in decisions for m in d.messages]


def scan(status: ShipmentStatus, minutes: int, awb: str = "AWB1", **extra: object) -> ShipmentUpdated:
    return ShipmentUpdated(awb, status, T0 + timedelta(minutes=minutes), **extra)  # type: ignore[arg-type]


def test_prepaid_order_is_confirmed_on_payment_only() -> None:
    placed, decisions = run([OrderPlaced(order(), T0)])
    assert placed.stage is Stage.PLACED and kinds(decisions) == []
    paid, decisions = run([PaymentCaptured(T0, "pay_1")], placed)
    assert paid.stage is Stage.CONFIRMED
    assert kinds(decisions) == [MessageKind.CONFIRMATION]
    assert paid.references["payment"] == "pay_1"
    _, decisions = run([PaymentCaptured(T0, "pay_1")], paid)
    assert decisions[0].outcome is Outcome.DUPLICATE and kinds(decisions) == []


def test_cod_order_is_confirmed_when_placed_without_cod_confirmation() -> None:
    # commerce: with COD confirmation on (the default) the customer confirms first (test_cod.py).
    event = OrderPlaced(order(PaymentMethod.COD), T0)
    d = decide(None, event, T0, dataclasses.replace(POLICY, cod_confirmation=False))
    assert d.order.stage is Stage.CONFIRMED
    assert kinds([d]) == [MessageKind.CONFIRMATION]


def test_default_edd_skips_sundays() -> None:
    placed, _ = run([OrderPlaced(order(), T0)])  # Friday 27 Nov 2026; 5 working days, no Sunday
    assert placed.edd == date(2026, 12, 3)


def test_processing_update_only_for_first_orders_or_large_totals() -> None:
    small = order(paid=True, total_minor=50000)
    _, decisions = run([OrderPlaced(small, T0), ProcessingStarted(T0)])
    assert kinds(decisions) == [MessageKind.CONFIRMATION]
    first = order(paid=True, total_minor=50000, first_order=True)
    _, decisions = run([OrderPlaced(first, T0), ProcessingStarted(T0)])
    assert kinds(decisions) == [MessageKind.CONFIRMATION, MessageKind.PROCESSING]
    large = order(paid=True, total_minor=600000)
    _, decisions = run([OrderPlaced(large, T0), ProcessingStarted(T0)])
    assert MessageKind.PROCESSING in kinds(decisions)


def test_processing_update_waits_for_the_end_of_quiet_hours() -> None:
    night = T0.replace(hour=18)  # 23:30 in Kolkata
    start, _ = run([OrderPlaced(order(paid=True, first_order=True), T0)])
    d = decide(start, ProcessingStarted(night), night, POLICY)
    (message,) = d.messages
    assert message.not_before == night.replace(hour=3, minute=30) + timedelta(days=1)  # 09:00 IST


def test_full_journey_and_follow_up_timer() -> None:
    final, decisions = run(
        [
            OrderPlaced(order(paid=True), T0),
            scan(ShipmentStatus.DISPATCHED, 1, courier="Delhivery", edd=date(2026, 12, 2)),
            scan(ShipmentStatus.IN_TRANSIT, 2, location="Hosur"),
            scan(ShipmentStatus.OUT_FOR_DELIVERY, 3, delivery_window="14:00-18:00"),
            scan(ShipmentStatus.DELIVERED, 4),
        ]
    )
    assert final.stage is Stage.DELIVERED
    assert kinds(decisions) == [
        MessageKind.CONFIRMATION,
        MessageKind.DISPATCHED,
        MessageKind.OUT_FOR_DELIVERY,
        MessageKind.DELIVERED,
    ]
    (timer,) = decisions[-1].timers
    assert timer.due_at.date() == (T0 + timedelta(days=4)).date()
    shipment = final.shipments[0]
    assert shipment.last_location == "Hosur" and shipment.courier == "Delhivery"
    assert final.expected_delivery == date(2026, 12, 2)
    followed, decisions = run([TimerFired("follow_up", timer.due_at)], final)
    assert followed.stage is Stage.FOLLOWED_UP and kinds(decisions) == [MessageKind.FOLLOW_UP]
    _, decisions = run([TimerFired("follow_up", timer.due_at)], followed)
    assert decisions[0].outcome is Outcome.STALE and kinds(decisions) == []


def test_late_scan_never_moves_backwards_nor_messages() -> None:
    start, _ = run([OrderPlaced(order(paid=True), T0), scan(ShipmentStatus.DELIVERED, 10)])
    final, decisions = run([scan(ShipmentStatus.OUT_FOR_DELIVERY, 5)], start)
    assert final.stage is Stage.DELIVERED
    assert decisions[0].outcome is Outcome.STALE and kinds(decisions) == []
    assert len(final.shipments[0].scans) == 2  # recorded all the same


def test_failed_attempts_are_counted_and_reattempt_messages_are_distinct() -> None:
    final, decisions = run(
        [
            OrderPlaced(order(paid=True), T0),
            scan(ShipmentStatus.OUT_FOR_DELIVERY, 1),
            scan(ShipmentStatus.DELIVERY_FAILED, 2, reason="customer not available"),
            scan(ShipmentStatus.OUT_FOR_DELIVERY, 24 * 60),
        ]
    )
    assert final.stage is Stage.OUT_FOR_DELIVERY
    assert final.shipments[0].attempt == 1
    keys = [m.key for d in decisions for m in d.messages]
    assert "AWB1:out_for_delivery:2026-11-27" in keys and "AWB1:out_for_delivery:2026-11-28" in keys
    assert "AWB1:delivery_failed:2026-11-27" in keys


def test_repeated_scans_of_one_attempt_message_once() -> None:
    _, decisions = run(
        [
            OrderPlaced(order(paid=True), T0),
            scan(ShipmentStatus.OUT_FOR_DELIVERY, 1),
            scan(ShipmentStatus.OUT_FOR_DELIVERY, 40, location="Indiranagar"),
        ]
    )
    assert kinds(decisions).count(MessageKind.OUT_FOR_DELIVERY) == 1


def test_cancel_before_dispatch_only() -> None:
    placed, _ = run([OrderPlaced(order(paid=True), T0)])
    cancelled, decisions = run([OrderCancelled(T0, "customer asked")], placed)
    assert cancelled.stage is Stage.CANCELLED
    assert kinds(decisions) == [MessageKind.CANCELLED]
    assert "processing" in decisions[0].cancel_messages
    shipped, _ = run([scan(ShipmentStatus.DISPATCHED, 1)], placed)
    kept, decisions = run([OrderCancelled(T0, "too late")], shipped)
    assert kept.stage is Stage.DISPATCHED and decisions[0].alerts


def test_dispatch_cancels_a_pending_processing_update() -> None:
    start, _ = run([OrderPlaced(order(paid=True, first_order=True), T0), ProcessingStarted(T0)])
    _, decisions = run([scan(ShipmentStatus.DISPATCHED, 1)], start)
    assert decisions[0].cancel_messages == ("processing",)


def test_order_with_two_parcels_is_delivered_when_both_are() -> None:
    final, decisions = run(
        [
            OrderPlaced(order(paid=True), T0),
            scan(ShipmentStatus.DISPATCHED, 1, awb="A"),
            scan(ShipmentStatus.DISPATCHED, 1, awb="B"),
            scan(ShipmentStatus.DELIVERED, 5, awb="A"),
        ]
    )
    assert final.stage is Stage.DISPATCHED and not decisions[-1].timers
    final, decisions = run([scan(ShipmentStatus.DELIVERED, 6, awb="B")], final)
    assert final.stage is Stage.DELIVERED and decisions[-1].timers


def test_order_update_keeps_progress_and_payment_in_details() -> None:
    placed, _ = run([OrderPlaced(order(), T0)])
    changed = dataclasses.replace(order(paid=True), number="#1001-B")
    updated, decisions = run([OrderPlaced(changed, T0)], placed)
    assert updated.number == "#1001-B" and updated.paid and updated.stage is Stage.CONFIRMED
    assert kinds(decisions) == [MessageKind.CONFIRMATION]


def test_only_order_placed_can_start_an_order() -> None:
    with pytest.raises(ValueError):
        decide(None, PaymentCaptured(T0), T0, POLICY)
