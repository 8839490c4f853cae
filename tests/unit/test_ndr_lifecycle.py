"""Failed deliveries in decide(): wording per attempt, reminder and escalation timers, follow-through, RTO;
and the NDR figures."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

from orderwire.domain.events import OrderPlaced, ShipmentUpdated, TimerFired
from orderwire.domain.lifecycle import Decision, MessageKind, Outcome, decide
from orderwire.domain.model import Order, Scan, Shipment, ShipmentStatus, Stage
from orderwire.domain.ndr_figures import ndr_figures
from orderwire.domain.policy import ShopPolicy
from tests.unit.factories import T0, order

S = ShipmentStatus
POLICY = ShopPolicy(ndr_reminder_minutes=60, ndr_escalate_minutes=240, ndr_escalate_again_minutes=30)


def apply(
    events: list[ShipmentUpdated | TimerFired], start: Order | None = None
) -> tuple[Order, list[Decision]]:
    current = start or decide(None, OrderPlaced(order(paid=True), T0), T0, POLICY).order
    out = []
    for event in events:
        d = decide(current, event, event.occurred_at, POLICY)
        out.append(d)
        current = d.order
    return current, out


JOURNEY: list[ShipmentUpdated | TimerFired] = [
    ShipmentUpdated("A1", S.DISPATCHED, T0 + timedelta(hours=1), courier="Delhivery"),
    ShipmentUpdated("A1", S.OUT_FOR_DELIVERY, T0 + timedelta(hours=24)),
    ShipmentUpdated("A1", S.DELIVERY_FAILED, T0 + timedelta(hours=27), reason="door locked"),
]
FAILED_AT = T0 + timedelta(hours=27)


def test_first_failure_sets_a_reminder_then_an_escalation() -> None:
    _, decisions = apply(JOURNEY)
    last = decisions[-1]
    assert [m.kind for m in last.messages] == [MessageKind.DELIVERY_FAILED]
    assert [(t.kind, t.due_at - FAILED_AT) for t in last.timers] == [
        ("ndr_remind:A1:1", timedelta(minutes=60)),
        ("ndr_escalate:A1:1", timedelta(minutes=240)),
    ]


def test_no_answer_reminds_once_then_escalates() -> None:
    after, _ = apply(JOURNEY)
    _, (remind, escalate) = apply(
        [
            TimerFired("ndr_remind:A1:1", FAILED_AT + timedelta(hours=1)),
            TimerFired("ndr_escalate:A1:1", FAILED_AT),
        ],
        after,
    )
    assert [(m.kind, m.key) for m in remind.messages] == [(MessageKind.NDR_REMINDER, "A1:ndr_reminder:1")]
    (case,) = escalate.escalations
    assert (case.reason, case.awb, case.key) == ("no_answer", "A1", "A1:ndr1:no_answer")
    assert case.detail["courier_reason"] == "door locked"


def test_an_answer_or_a_new_scan_stops_the_timers() -> None:
    after, _ = apply(JOURNEY)
    (shipment,) = after.shipments
    answered = after.with_shipment(dataclasses.replace(shipment, ndr_choice="return", ndr_attempt=1))
    _, (d,) = apply([TimerFired("ndr_escalate:A1:1", FAILED_AT)], answered)
    assert d.outcome is Outcome.STALE and d.escalations == ()
    delivered, _ = apply([ShipmentUpdated("A1", S.DELIVERED, FAILED_AT + timedelta(days=1))], after)
    _, (d,) = apply([TimerFired("ndr_remind:A1:1", FAILED_AT)], delivered)
    assert d.outcome is Outcome.STALE and d.messages == ()


def test_second_failure_has_other_wording_and_escalates_sooner_without_reminder() -> None:
    second_at = FAILED_AT + timedelta(days=1)
    _, decisions = apply(
        [
            *JOURNEY,
            ShipmentUpdated("A1", S.OUT_FOR_DELIVERY, second_at - timedelta(hours=2)),
            ShipmentUpdated("A1", S.DELIVERY_FAILED, second_at, reason="address not found"),
        ]
    )
    last = decisions[-1]
    assert [m.kind for m in last.messages] == [MessageKind.DELIVERY_FAILED_AGAIN]
    assert [(t.kind, t.due_at - second_at) for t in last.timers] == [
        ("ndr_escalate:A1:2", timedelta(minutes=30))
    ]


def _reattempt_on(day: date) -> Order:
    after, _ = apply(JOURNEY)
    (shipment,) = after.shipments
    return after.with_shipment(
        dataclasses.replace(
            shipment, ndr_choice="reattempt", ndr_date=day, ndr_attempt=1, ndr_chosen_at=FAILED_AT
        )
    )


def test_follow_through_escalates_a_missed_reattempt_with_the_choice() -> None:
    chosen = _reattempt_on(date(2026, 11, 30))
    end = datetime(2026, 11, 30, 20, 30, tzinfo=T0.tzinfo)  # 2 am on 1 December in Kolkata
    _, (d,) = apply([TimerFired("ndr_check:A1:1", end)], chosen)
    (case,) = d.escalations
    assert (case.reason, case.key) == ("reattempt_missed", "A1:ndr1:reattempt_missed")
    assert case.detail == {
        "choice": "reattempt",
        "date": "2026-11-30",
        "chosen_at": FAILED_AT.isoformat(),
        "courier": "Delhivery",
    }
    tried, _ = apply(
        [ShipmentUpdated("A1", S.OUT_FOR_DELIVERY, datetime(2026, 11, 30, 4, 0, tzinfo=T0.tzinfo))], chosen
    )
    _, (d,) = apply([TimerFired("ndr_check:A1:1", end)], tried)
    assert d.outcome is Outcome.STALE and d.escalations == ()


def test_rto_initiated_tells_the_customer_once_and_rto_delivered_closes_quietly() -> None:
    after, _ = apply(JOURNEY)
    final, decisions = apply(
        [
            ShipmentUpdated("A1", S.RTO_INITIATED, FAILED_AT + timedelta(days=2)),
            ShipmentUpdated("A1", S.RTO_INITIATED, FAILED_AT + timedelta(days=2, hours=1)),
            ShipmentUpdated("A1", S.RTO_DELIVERED, FAILED_AT + timedelta(days=5)),
        ],
        after,
    )
    assert [m.key for d in decisions for m in d.messages] == ["A1:rto_initiated"]
    assert final.stage is Stage.RTO and not final.shipments[0].in_motion


def _parcel(
    awb: str, courier: str, scans: list[tuple[ShipmentStatus, datetime]], **extra: object
) -> Shipment:
    failures = tuple(at for status, at in scans if status is S.DELIVERY_FAILED)
    last_status, last_at = scans[-1]
    return Shipment(
        awb,
        courier,
        status=last_status,
        status_at=last_at,
        failed_attempts=failures,
        scans=tuple(Scan(at, status) for status, at in scans),
        **extra,  # type: ignore[arg-type]
    )


def test_figures_per_courier_and_pincode() -> None:
    day1, day2 = T0 + timedelta(days=1), T0 + timedelta(days=2)
    honest = _parcel(
        "P1", "Delhivery", [(S.OUT_FOR_DELIVERY, day1), (S.DELIVERY_FAILED, day1 + timedelta(hours=3))]
    )
    retried = _parcel(
        "P2",
        "Delhivery",
        [(S.DELIVERY_FAILED, day1), (S.OUT_FOR_DELIVERY, day2), (S.DELIVERED, day2 + timedelta(hours=1))],
        ndr_choice="reattempt",
        ndr_date=day2.date(),
    )
    smooth = _parcel("P3", "Ekart", [(S.OUT_FOR_DELIVERY, day1), (S.DELIVERED, day1 + timedelta(hours=1))])
    missed = _parcel(
        "P4",
        "Ekart",
        [(S.OUT_FOR_DELIVERY, day1), (S.DELIVERY_FAILED, day1)],
        ndr_choice="reattempt",
        ndr_date=day2.date(),
    )
    orders = [order().with_shipment(s) for s in (honest, retried, smooth, missed)]
    figures = ndr_figures(orders, "Asia/Kolkata", (day2 + timedelta(days=1)).date())
    delhivery, ekart = figures["courier"]["Delhivery"], figures["courier"]["Ekart"]
    assert (delhivery.parcels, delhivery.failed, delhivery.ndr_rate) == (2, 2, 1.0)
    assert (delhivery.reattempts, delhivery.reattempt_success) == (1, 1.0)
    assert delhivery.suspected_fake == 1  # P2 failed on a day with no out-for-delivery scan
    assert (ekart.parcels, ekart.ndr_rate, ekart.reattempt_success, ekart.suspected_fake) == (2, 0.5, 0.0, 1)
    assert figures["pincode"]["560001"].parcels == 4
