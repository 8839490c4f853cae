"""Any ordering or duplication of a shipment's events ends in one state, each message at most once."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orderwire.domain.events import OrderPlaced, ShipmentUpdated
from orderwire.domain.lifecycle import MessageKind, decide
from orderwire.domain.model import Order, ShipmentStatus
from orderwire.domain.policy import ShopPolicy
from orderwire.integrations.shiprocket.webhook import ADAPTER as SHIPROCKET
from tests.support.couriers import shiprocket_scan, shiprocket_webhook
from tests.unit.factories import T0, order

S = ShipmentStatus
# A realistic courier history: two failed attempts before delivery, with scans in between.
HISTORY = [
    ShipmentUpdated("AWB1", S.DISPATCHED, T0 + timedelta(hours=1), courier="Delhivery"),
    ShipmentUpdated("AWB1", S.IN_TRANSIT, T0 + timedelta(hours=5), location="Hosur"),
    ShipmentUpdated("AWB1", S.OUT_FOR_DELIVERY, T0 + timedelta(hours=20)),
    ShipmentUpdated("AWB1", S.DELIVERY_FAILED, T0 + timedelta(hours=26), reason="door locked"),
    ShipmentUpdated("AWB1", S.OUT_FOR_DELIVERY, T0 + timedelta(hours=44)),
    ShipmentUpdated("AWB1", S.DELIVERY_FAILED, T0 + timedelta(hours=50), reason="not reachable"),
    ShipmentUpdated("AWB1", S.OUT_FOR_DELIVERY, T0 + timedelta(hours=68)),
    ShipmentUpdated("AWB1", S.DELIVERED, T0 + timedelta(hours=70)),
]


def replay(events: list[ShipmentUpdated]) -> tuple[Order, list[str]]:
    policy = ShopPolicy()
    current = decide(None, OrderPlaced(order(paid=True), T0), T0, policy).order
    keys: list[str] = []
    for event in events:
        decision = decide(current, event, event.occurred_at, policy)
        keys += [m.key for m in decision.messages]
        current = decision.order
    return current, keys


def _state(o: Order) -> tuple[object, ...]:
    (s,) = o.shipments
    return (o.stage, s.status, s.status_at, s.failed_attempts, frozenset(s.scans), o.delivered_at)


IN_ORDER, _ = replay(HISTORY)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(HISTORY), min_size=len(HISTORY), max_size=3 * len(HISTORY)).filter(
        lambda evs: set(map(id, evs)) == set(map(id, HISTORY))
    )
    | st.permutations(HISTORY)
)
def test_any_order_any_duplicates_same_end_state(events: list[ShipmentUpdated]) -> None:
    final, keys = replay(events)
    assert _state(final) == _state(IN_ORDER)
    assert len(keys) == len(set(keys)), f"a message was asked for twice: {keys}"


@settings(max_examples=200, deadline=None)
@given(st.permutations(HISTORY))
def test_no_stale_message_after_delivery(events: list[ShipmentUpdated]) -> None:
    policy = ShopPolicy()
    current = decide(None, OrderPlaced(order(paid=True), T0), T0, policy).order
    delivered = False
    for event in events:
        decision = decide(current, event, event.occurred_at, policy)
        if delivered:
            assert decision.messages == (), "nothing but the follow-up follows delivery"
        delivered = delivered or event.status is S.DELIVERED
        current = decision.order


# The same kind of journey as Shiprocket reports it: one webhook per scan, each repeating the whole
# history so far, the EDD slipping on the way (the order was confirmed for Thu 3 Dec).
DAY0 = datetime(2026, 11, 27)
JOURNEY = [
    (27, "PICKUP BOOKED", 3, ""),
    (19, "OUT FOR PICKUP", 4, "Peenya"),
    (42, "PICKED UP", 7, "Peenya"),
    (6, "SHIPPED", 14, "Bengaluru Hub"),
    (18, "IN TRANSIT", 20, "Hosur"),
    (22, "DELAYED", 33, "Hosur"),
    (38, "REACHED AT DESTINATION HUB", 49, "Chennai"),
    (17, "OUT FOR DELIVERY", 51, "Chennai"),
    (21, "UNDELIVERED", 57, "Chennai"),
    (17, "OUT FOR DELIVERY", 75, "Chennai"),
    (7, "DELIVERED", 78, "Chennai"),
]
SCANS = [shiprocket_scan(code, label, DAY0 + timedelta(hours=h), place) for code, label, h, place in JOURNEY]
WEBHOOKS = [
    json.dumps(
        shiprocket_webhook(
            "SR1", SCANS[: k + 1], "o-1", "2026-12-02 18:00:00" if k < 5 else "2026-12-04 18:00:00"
        )
    ).encode()
    for k in range(len(SCANS))
]


def deliver(webhooks: list[bytes]) -> tuple[Order, list[str], list[list[str]]]:
    """Parse each webhook and apply its events in the order the pump would; the keys asked per webhook."""
    policy = ShopPolicy()
    current = decide(None, OrderPlaced(order(paid=True), T0), T0, policy).order
    asked: list[list[str]] = []
    for raw in webhooks:
        keys: list[str] = []
        for routed in SHIPROCKET.parse({}, raw).events:
            assert isinstance(routed.event, ShipmentUpdated)
            decision = decide(current, routed.event, routed.event.occurred_at, policy)
            keys += [m.key for m in decision.messages]
            current = decision.order
        asked.append(keys)
    return current, [k for keys in asked for k in keys], asked


def _parcel(o: Order) -> tuple[Any, ...]:
    (s,) = o.shipments
    return (o.stage, s.status, s.status_at, s.failed_attempts, frozenset(s.scans), s.edd, o.delivered_at)


SR_FINAL, SR_KEYS, _ = deliver(WEBHOOKS)


def test_shiprocket_journey_in_order() -> None:
    assert SR_FINAL.stage.value == "delivered" and SR_FINAL.shipments[0].edd == date(2026, 12, 4)
    assert SR_KEYS == [
        "SR1:dispatched",
        "SR1:delayed:2026-12-04",
        "SR1:out_for_delivery:2026-11-29",
        "SR1:delivery_failed:2026-11-29",
        "SR1:out_for_delivery:2026-11-30",
        "SR1:delivered",
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(range(len(WEBHOOKS))), min_size=len(WEBHOOKS), max_size=3 * len(WEBHOOKS)
    ).filter(lambda picks: set(picks) == set(range(len(WEBHOOKS))))
    | st.permutations(range(len(WEBHOOKS)))
)
def test_shiprocket_webhooks_in_any_order_and_twice(picks: list[int]) -> None:
    final, keys, asked = deliver([WEBHOOKS[i] for i in picks])
    assert _parcel(final) == _parcel(SR_FINAL)
    assert len(keys) == len(set(keys)), f"a message was asked for twice: {keys}"
    assert set(keys) <= set(SR_KEYS), f"a message the journey never called for: {keys}"
    # Once the delivered webhook is in, nothing else is said (the follow-up is a timer, not asked here).
    first_delivered = picks.index(len(WEBHOOKS) - 1)
    assert all(k == [] for k in asked[first_delivered + 1 :])
    # A history first read late speaks only of where the parcel is now.
    assert not any(k.startswith("SR1:out_for_delivery") for k in asked[first_delivered])
    assert MessageKind.DELIVERED.value in " ".join(keys)
