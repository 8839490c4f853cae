"""Expected delivery dates: PIN-code zones, working days, holidays, and the delay notice when an EDD slips."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from orderwire.domain.edd import Zone, circle, estimate, promise, zone
from orderwire.domain.events import OrderPlaced, ShipmentUpdated
from orderwire.domain.lifecycle import Decision, MessageKind, decide
from orderwire.domain.model import Address, Order, PaymentMethod
from orderwire.domain.model import ShipmentStatus as S
from orderwire.domain.policy import EddRules, ShopPolicy
from orderwire.settings import Settings
from tests.unit.factories import T0, order

RULES = EddRules(origin_pincode="560001")  # a Bengaluru shop; processing 1 day, transit 1/2/3/5/7


@pytest.mark.parametrize(
    ("origin", "destination", "expected"),
    [
        ("560001", "560095", Zone.SAME_CITY),  # same sorting district
        ("560001", "575001", Zone.SAME_STATE),  # Mangaluru, Karnataka
        ("560001", "400001", Zone.METRO),  # Mumbai
        ("110001", "700001", Zone.METRO),  # Delhi to Kolkata
        ("411001", "400001", Zone.SAME_STATE),  # Pune to Mumbai: same state beats metro
        ("560001", "302001", Zone.REST_OF_INDIA),  # Jaipur
        ("560001", "781001", Zone.NORTH_EAST),  # Guwahati
        ("560001", "797001", Zone.NORTH_EAST),  # Kohima
        ("560001", "190001", Zone.NORTH_EAST),  # Srinagar
        ("560001", "194101", Zone.NORTH_EAST),  # Leh
        ("560001", "744101", Zone.NORTH_EAST),  # Port Blair
        ("560001", "682555", Zone.NORTH_EAST),  # Lakshadweep
        ("560001", "737101", Zone.NORTH_EAST),  # Gangtok
        ("560001", "682001", Zone.REST_OF_INDIA),  # Kochi is Kerala, not Lakshadweep
        ("781001", "785001", Zone.SAME_STATE),  # within Assam
        ("560001", "56000", None),
        ("560001", "060001", None),
        ("", "560001", None),
    ],
)
def test_zones(origin: str, destination: str, expected: Zone | None) -> None:
    assert zone(origin, destination) is expected


def test_circles_from_the_longest_prefix() -> None:
    assert [circle(p) for p in ("403001", "400001", "160017", "140001", "500001", "520001")] == [
        "GA",
        "MH",
        "CH",
        "PB",
        "TG",
        "AP",
    ]
    assert circle("5600 01") == "KA" and circle("abc") is None


# Friday 27 Nov 2026, Bengaluru shop: processing 1 working day, then transit; Sundays never count.
@pytest.mark.parametrize(
    ("destination", "holidays", "expected"),
    [
        ("560095", set(), date(2026, 11, 30)),  # 1 + 1: Sat, (Sun) Mon
        ("575001", set(), date(2026, 12, 1)),  # 1 + 2
        ("400001", set(), date(2026, 12, 2)),  # 1 + 3
        ("302001", set(), date(2026, 12, 4)),  # 1 + 5
        ("781001", set(), date(2026, 12, 7)),  # 1 + 7: two Sundays skipped
        ("560095", {date(2026, 11, 30)}, date(2026, 12, 1)),  # a holiday Monday too
        ("400001", {date(2026, 11, 28), date(2026, 12, 1)}, date(2026, 12, 4)),
    ],
)
def test_estimates(destination: str, holidays: set[date], expected: date) -> None:
    rules = dataclasses.replace(RULES, holidays=frozenset(holidays))
    assert estimate(date(2026, 11, 27), destination, rules) == expected


def test_processing_and_transit_days_are_the_shops() -> None:
    rules = dataclasses.replace(RULES, processing_days=0, metro_days=2)
    assert estimate(date(2026, 11, 27), "400001", rules) == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("origin", "placed_at", "pincode", "expected"),
    [
        ("560001", T0, "400001", date(2026, 12, 2)),
        ("", T0, "400001", date(2026, 12, 3)),  # no origin configured: the default 5 working days
        ("560001", T0, "12345", date(2026, 12, 3)),  # not a PIN code: the default
        # 23:30 on Friday in Kolkata is still Friday there, though Saturday in UTC terms would differ.
        ("560001", datetime(2026, 11, 27, 18, 0, tzinfo=UTC), "560095", date(2026, 11, 30)),
    ],
)
def test_promise_in_shop_time(origin: str, placed_at: datetime, pincode: str, expected: date) -> None:
    policy = ShopPolicy(edd=dataclasses.replace(RULES, origin_pincode=origin))
    assert promise(placed_at, pincode, policy) == expected


def test_the_confirmation_uses_the_rules_when_the_shop_gave_no_date() -> None:
    policy = ShopPolicy(edd=RULES)
    mumbai = dataclasses.replace(order(paid=True), address=Address("1 Marine Drive", "Mumbai", "400020"))
    placed = decide(None, OrderPlaced(mumbai, T0), T0, policy).order
    assert placed.edd == date(2026, 12, 2)
    given = dataclasses.replace(mumbai, edd=date(2026, 12, 10))
    assert decide(None, OrderPlaced(given, T0), T0, policy).order.edd == date(2026, 12, 10)


def test_settings_feed_the_rules() -> None:
    settings = Settings(origin_pincode="560001", holidays="2026-12-25, 2027-01-26", transit_days_metro=4)
    assert settings.holiday_dates == frozenset({date(2026, 12, 25), date(2027, 1, 26)})
    with pytest.raises(ValueError):
        Settings(holidays="25/12/2026")
    with pytest.raises(ValueError):
        Settings(origin_pincode="0123")


# The order is confirmed with Thu 3 Dec (5 working days from Fri 27 Nov).
def run(*events: ShipmentUpdated, paid: bool = True, cod: bool = False) -> tuple[Order, list[Decision]]:
    payment = PaymentMethod.COD if cod else PaymentMethod.PREPAID
    current = decide(None, OrderPlaced(order(payment, paid=paid), T0), T0, ShopPolicy()).order
    decisions = []
    for event in events:
        decisions.append(decide(current, event, T0, ShopPolicy()))
        current = decisions[-1].order
    return current, decisions


def at(
    hours: int, status: S | None = S.IN_TRANSIT, edd: date | None = None, **extra: object
) -> ShipmentUpdated:
    return ShipmentUpdated("AWB1", status, T0 + timedelta(hours=hours), edd=edd, **extra)  # type: ignore[arg-type]


def kinds(decisions: list[Decision]) -> list[MessageKind]:
    return [m.kind for d in decisions for m in d.messages]


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        # The dispatch message states the courier's date: no separate notice, even if later.
        ([at(1, S.DISPATCHED, date(2026, 12, 5))], [MessageKind.DISPATCHED]),
        # Slips a day past what the dispatch message said: one notice.
        (
            [at(1, S.DISPATCHED, date(2026, 12, 3)), at(5, edd=date(2026, 12, 4))],
            [MessageKind.DISPATCHED, MessageKind.DELAYED],
        ),
        # The same slipped date again, or an earlier one: nothing more.
        (
            [
                at(1, S.DISPATCHED, date(2026, 12, 3)),
                at(5, edd=date(2026, 12, 5)),
                at(6, edd=date(2026, 12, 5)),
                at(7, edd=date(2026, 12, 4)),
            ],
            [MessageKind.DISPATCHED, MessageKind.DELAYED],
        ),
        # It slips again past the new date: another notice.
        (
            [
                at(1, S.DISPATCHED, date(2026, 12, 3)),
                at(5, edd=date(2026, 12, 5)),
                at(9, edd=date(2026, 12, 7)),
            ],
            [MessageKind.DISPATCHED, MessageKind.DELAYED, MessageKind.DELAYED],
        ),
        # Earlier than promised is not news.
        ([at(1, S.DISPATCHED, date(2026, 12, 3)), at(5, edd=date(2026, 12, 2))], [MessageKind.DISPATCHED]),
        # Before dispatch, measured against the confirmation's date (3 Dec).
        ([at(1, S.PICKUP_PENDING, date(2026, 12, 4))], [MessageKind.DELAYED]),
        ([at(1, S.PICKUP_PENDING, date(2026, 12, 3))], []),
        # Out for delivery says more than a delay: no notice with it, nor after it.
        (
            [at(1, S.DISPATCHED, date(2026, 12, 3)), at(30, S.OUT_FOR_DELIVERY, date(2026, 12, 5))],
            [MessageKind.DISPATCHED, MessageKind.OUT_FOR_DELIVERY],
        ),
        (
            [
                at(1, S.DISPATCHED, date(2026, 12, 3)),
                at(30, S.DELIVERY_FAILED),
                at(31, edd=date(2026, 12, 6)),
            ],
            [MessageKind.DISPATCHED, MessageKind.DELIVERY_FAILED],
        ),
        # A late scan carries an out-of-date EDD: ignored.
        (
            [at(1, S.DISPATCHED, date(2026, 12, 3)), at(5), at(2, edd=date(2026, 12, 9))],
            [MessageKind.DISPATCHED],
        ),
        # A status we cannot read still brings the courier's new date.
        (
            [at(1, S.DISPATCHED, date(2026, 12, 3)), at(5, None, date(2026, 12, 4), raw_status="HELD")],
            [MessageKind.DISPATCHED, MessageKind.DELAYED],
        ),
        # Returns never message the customer.
        ([at(1, S.DISPATCHED, date(2026, 12, 3), is_return=True), at(5, edd=date(2026, 12, 9))], []),
    ],
)
def test_slips(events: list[ShipmentUpdated], expected: list[MessageKind]) -> None:
    _, decisions = run(*events)
    assert kinds(decisions) == expected


def test_a_notice_is_keyed_by_its_date_and_moves_the_promise() -> None:
    final, decisions = run(at(1, S.DISPATCHED, date(2026, 12, 3)), at(5, edd=date(2026, 12, 5)))
    (notice,) = decisions[-1].messages
    assert notice.key == "AWB1:delayed:2026-12-05" and notice.awb == "AWB1"
    assert final.shipments[0].notified_edd == date(2026, 12, 5) and final.expected_delivery == date(
        2026, 12, 5
    )


def test_no_notice_for_an_order_never_confirmed() -> None:
    _, decisions = run(at(1, S.PICKUP_PENDING, date(2026, 12, 9)), paid=False)
    assert kinds(decisions) == []
    # commerce: a COD order counts as confirmed once the customer confirms it (tests/unit/test_cod.py).
    _, decisions = run(at(1, S.PICKUP_PENDING, date(2026, 12, 9)), paid=False, cod=True)
    assert kinds(decisions) == []


def test_quiet_hours_hold_the_notice() -> None:
    night = T0.replace(hour=17)  # 22:30 in Kolkata
    start, _ = run(at(1, S.DISPATCHED, date(2026, 12, 3)))
    later = ShipmentUpdated("AWB1", S.IN_TRANSIT, night, edd=date(2026, 12, 5))
    (notice,) = decide(start, later, night, ShopPolicy()).messages
    assert notice.not_before == datetime(2026, 11, 28, 3, 30, tzinfo=UTC)
