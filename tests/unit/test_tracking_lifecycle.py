"""Courier statuses in the lifecycle: unknown statuses, returns, cancelled AWBs, pickup, damage."""

from __future__ import annotations

from datetime import timedelta

from orderwire.domain.events import OrderPlaced, ShipmentUpdated
from orderwire.domain.lifecycle import Decision, MessageKind, Outcome, decide
from orderwire.domain.model import Order, ShipmentStatus, Stage, order_from_json, to_json
from orderwire.domain.policy import ShopPolicy
from tests.unit.factories import T0, order

S = ShipmentStatus


def run(*events: ShipmentUpdated, start: Order | None = None) -> tuple[Order, list[Decision]]:
    current = start or decide(None, OrderPlaced(order(paid=True), T0), T0, ShopPolicy()).order
    decisions = []
    for event in events:
        decisions.append(decide(current, event, T0, ShopPolicy()))
        current = decisions[-1].order
    return current, decisions


def scan(status: S | None, hours: int, awb: str = "AWB1", **extra: object) -> ShipmentUpdated:
    return ShipmentUpdated(awb, status, T0 + timedelta(hours=hours), **extra)  # type: ignore[arg-type]


def kinds(decisions: list[Decision]) -> list[MessageKind]:
    return [m.kind for d in decisions for m in d.messages]


def test_an_unknown_status_is_recorded_shown_and_moves_nothing() -> None:
    start, _ = run(scan(S.IN_TRANSIT, 1, location="Hosur"))
    final, (decision,) = run(scan(None, 2, raw_status="HELD AT GATE (99)", location="Attibele"), start=start)
    assert decision.outcome is Outcome.IGNORED and decision.messages == ()
    assert "HELD AT GATE (99)" in decision.note and decision.alerts
    (shipment,) = final.shipments
    assert shipment.status is S.IN_TRANSIT and final.stage is Stage.DISPATCHED
    assert [s.raw_status for s in shipment.scans] == ["", "HELD AT GATE (99)"]
    assert shipment.last_location == "Attibele"  # the last scan's place, for the page and the bot
    _, (repeat,) = run(scan(None, 2, raw_status="HELD AT GATE (99)"), start=final)
    assert repeat.outcome is Outcome.DUPLICATE
    assert order_from_json(to_json(final)) == final  # stored and read back alike


def test_an_unknown_status_first_books_the_parcel_without_a_message() -> None:
    final, decisions = run(scan(None, 1, raw_status="NA"), scan(S.IN_TRANSIT, 2))
    assert kinds(decisions) == [MessageKind.DISPATCHED]
    assert final.shipments[0].status is S.IN_TRANSIT


def test_pickup_states_wait_quietly_and_the_pickup_itself_is_the_dispatch() -> None:
    _, decisions = run(scan(S.PICKUP_PENDING, 1), scan(S.PICKUP_PENDING, 2), scan(S.DISPATCHED, 3))
    assert kinds(decisions) == [MessageKind.DISPATCHED]
    assert decisions[0].cancel_messages == () and decisions[-1].cancel_messages == ("processing",)
    assert [d.order.stage for d in decisions] == [Stage.PROCESSING, Stage.PROCESSING, Stage.DISPATCHED]


def test_returns_message_staff_not_the_customer() -> None:
    delivered, _ = run(scan(S.DISPATCHED, 1), scan(S.DELIVERED, 20))
    final, decisions = run(
        scan(S.PICKUP_PENDING, 100, awb="RET1", is_return=True),
        scan(S.OUT_FOR_DELIVERY, 120, awb="RET1", is_return=True),
        scan(S.DELIVERED, 130, awb="RET1", is_return=True),
        start=delivered,
    )
    assert kinds(decisions) == [] and final.stage is Stage.DELIVERED
    assert decisions[-1].alerts == ("return RET1 delivered back to the shop",)
    assert final.shipment("RET1").is_return  # type: ignore[union-attr]
    assert final.expected_delivery == delivered.expected_delivery


def test_a_cancelled_awb_neither_holds_nor_moves_the_order() -> None:
    final, decisions = run(
        scan(S.PICKUP_PENDING, 1, awb="OLD"),
        scan(S.CANCELLED, 2, awb="OLD"),
        scan(S.DISPATCHED, 3, awb="NEW"),
        scan(S.DELIVERED, 20, awb="NEW"),
    )
    assert final.stage is Stage.DELIVERED and decisions[-1].timers
    assert (
        decisions[1].alerts == ("shipment OLD: cancelled",)
        and decisions[1].order.stage is not Stage.CANCELLED
    )


def test_damage_and_loss_are_for_staff_and_final() -> None:
    final, decisions = run(scan(S.IN_TRANSIT, 1), scan(S.LOST, 5), scan(S.DAMAGED, 6), scan(S.LOST, 7))
    assert kinds(decisions) == [MessageKind.DISPATCHED]
    assert final.shipments[0].status is S.DAMAGED and final.stage is Stage.LOST
    assert not final.shipments[0].in_motion
    assert decisions[1].alerts == ("shipment AWB1: lost",)


def test_a_newer_scan_of_the_same_status_is_recorded_as_news() -> None:
    start, _ = run(scan(S.IN_TRANSIT, 1))
    final, (decision,) = run(scan(S.IN_TRANSIT, 5, location="Krishnagiri"), start=start)
    assert decision.outcome is Outcome.APPLIED and decision.messages == ()
    assert final.shipments[0].last_location == "Krishnagiri"
