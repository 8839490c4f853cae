"""Any ordering or duplication of a shipment's events ends in one state, each message at most once."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from orderwire.domain.events import OrderPlaced, ShipmentUpdated
from orderwire.domain.lifecycle import decide
from orderwire.domain.model import Order, ShipmentStatus
from orderwire.domain.policy import ShopPolicy
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
