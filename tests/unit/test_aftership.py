"""AfterShip: the HMAC over the raw body, the documented webhook, every tag and subtag."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from orderwire.domain.events import ShipmentUpdated
from orderwire.domain.model import ShipmentStatus as S
from orderwire.integrations.aftership.statuses import SUBTAGS, TAGS, canonical
from orderwire.integrations.aftership.webhook import ADAPTER, signature_for
from orderwire.integrations.base import PayloadError
from tests.support.couriers import fixture, fixture_bytes

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
SECRET = "aftership-webhook-secret"
RAW = fixture_bytes("aftership", "tracking_update.json")

# AfterShip's documented delivery statuses and sub-statuses (docs/tracking/enum/...; new ones of 2026).
EXPECTED_TAGS: list[tuple[str, S | None]] = [
    ("Pending", S.PICKUP_PENDING),
    ("InfoReceived", S.PICKUP_PENDING),
    ("InTransit", S.IN_TRANSIT),
    ("OutForDelivery", S.OUT_FOR_DELIVERY),
    ("AttemptFail", S.DELIVERY_FAILED),
    ("Delivered", S.DELIVERED),
    ("AvailableForPickup", None),
    ("Exception", None),
    ("Expired", None),
]
EXPECTED_SUBTAGS: list[tuple[str, S | None]] = [
    *((f"Delivered_00{n}", S.DELIVERED) for n in range(1, 6)),
    ("AvailableForPickup_001", None),
    ("Exception_001", None),
    ("Exception_002", S.DELIVERY_FAILED),
    ("Exception_003", S.DELIVERY_FAILED),
    ("Exception_004", S.IN_TRANSIT),
    ("Exception_005", S.IN_TRANSIT),
    ("Exception_006", None),
    ("Exception_007", S.DELIVERY_FAILED),
    ("Exception_008", S.DELIVERY_FAILED),
    ("Exception_009", None),
    ("Exception_010", S.RTO_INITIATED),
    ("Exception_011", S.RTO_DELIVERED),
    ("Exception_012", S.DAMAGED),
    ("Exception_013", S.LOST),
    ("Exception_016", S.IN_TRANSIT),
    ("Exception_017", S.IN_TRANSIT),
    ("Exception_018", None),
    ("Exception_019", S.IN_TRANSIT),
    ("Exception_020", S.CANCELLED),
    ("Exception_021", S.DAMAGED),
    *((f"AttemptFail_00{n}", S.DELIVERY_FAILED) for n in range(1, 4)),
    ("InTransit_001", S.IN_TRANSIT),
    ("InTransit_002", S.DISPATCHED),
    *((f"InTransit_00{n}", S.IN_TRANSIT) for n in range(3, 10)),
    ("InfoReceived_001", S.PICKUP_PENDING),
    ("OutForDelivery_001", S.OUT_FOR_DELIVERY),
    ("OutForDelivery_003", S.OUT_FOR_DELIVERY),
    ("OutForDelivery_004", S.IN_TRANSIT),
    *((f"Pending_00{n}", S.PICKUP_PENDING) for n in range(1, 7)),
    ("Expired_001", None),
]


def body_with(**msg: Any) -> dict[str, Any]:
    body = copy.deepcopy(fixture("aftership", "tracking_update.json"))
    body["msg"].update(msg)
    return body


def parse(body: dict[str, Any]) -> list[ShipmentUpdated]:
    return [r.event for r in ADAPTER.parse({}, json.dumps(body).encode()).events]  # type: ignore[misc]


def test_signature_as_documented() -> None:
    expected = base64.b64encode(hmac.new(SECRET.encode(), RAW, hashlib.sha256).digest()).decode()
    assert signature_for(SECRET, RAW) == expected
    assert ADAPTER.verify(SECRET, {"Aftership-Hmac-Sha256": expected}, RAW, NOW)
    assert not ADAPTER.verify(SECRET, {"aftership-hmac-sha256": expected}, RAW + b" ", NOW)  # tampered
    assert not ADAPTER.verify("another-secret", {"aftership-hmac-sha256": expected}, RAW, NOW)
    assert not ADAPTER.verify(SECRET, {}, RAW, NOW)
    assert not ADAPTER.verify("", {"aftership-hmac-sha256": signature_for("", RAW)}, RAW, NOW)


def test_documented_payload() -> None:
    delivery = ADAPTER.parse({}, RAW)
    assert delivery.dedupe_key == "event:94dadd60-ed26-46d0-aa52-3ced925a50ff"
    assert delivery.topic == "tracking_update"
    (routed,) = delivery.events
    assert routed.ref == "awb:0000000000000000" and routed.fallback == "number:string"
    event = routed.event
    assert isinstance(event, ShipmentUpdated)
    assert event.status is S.IN_TRANSIT and event.raw_status == "InTransit_001" and event.courier == "usps"
    assert event.occurred_at == datetime(2021, 1, 13, 19, 22, tzinfo=UTC)  # no offset: read as India time
    assert event.description == "Departed Shipping Partner Facility, USPS Awaiting Item"


@pytest.mark.parametrize(("tag", "expected"), EXPECTED_TAGS)
def test_every_tag(tag: str, expected: S | None) -> None:
    assert canonical(tag, "") is expected
    (event,) = parse(body_with(checkpoints=[{"checkpoint_time": "2026-11-27T10:00:00+05:30", "tag": tag}]))
    assert event.status is expected


@pytest.mark.parametrize(("subtag", "expected"), EXPECTED_SUBTAGS)
def test_every_subtag(subtag: str, expected: S | None) -> None:
    tag = subtag.split("_")[0]
    assert canonical(tag, subtag) is expected


def test_the_tables_are_the_documented_ones() -> None:
    assert list(TAGS) == [t for t, _ in EXPECTED_TAGS]
    assert sorted(SUBTAGS) == sorted(s for s, _ in EXPECTED_SUBTAGS)
    assert canonical("Exception", "Exception_099") is None  # an unknown subtag: its tag decides
    assert canonical("InTransit", "InTransit_099") is S.IN_TRANSIT
    assert canonical("Teleported", "") is None


def test_returning_to_sender_turns_moves_into_the_way_back() -> None:
    checkpoints = [
        {"checkpoint_time": "2026-11-27T10:00:00+05:30", "tag": "InTransit", "subtag": "InTransit_001"},
        {"checkpoint_time": "2026-11-29T10:00:00+05:30", "tag": "Delivered", "subtag": "Delivered_001"},
    ]
    back, transit = parse(body_with(checkpoints=checkpoints, return_to_sender=True))
    assert back.status is S.RTO_DELIVERED and transit.status is S.RTO_INITIATED


def test_newest_first_edd_on_the_newest_and_the_courier_estimate_wins() -> None:
    checkpoints = [
        {"checkpoint_time": "2026-11-27T10:00:00", "tag": "InTransit", "city": "Hosur", "state": "TN"},
        {"checkpoint_time": "2026-11-28T08:00:00", "tag": "OutForDelivery", "location": "Bengaluru"},
    ]
    msg = {
        "checkpoints": checkpoints,
        "order_id": "1001",
        "courier_estimated_delivery_date": {"estimated_delivery_date": "2026-11-28"},
        "aftership_estimated_delivery_date": {"estimated_delivery_date": "2026-11-30"},
    }
    ofd, transit = parse(body_with(**msg))
    assert (ofd.status, ofd.location, ofd.edd) == (S.OUT_FOR_DELIVERY, "Bengaluru", date(2026, 11, 28))
    assert (transit.location, transit.edd) == ("Hosur, TN", None)
    routed = ADAPTER.parse({}, json.dumps(body_with(**msg)).encode()).events[0]
    assert routed.fallback == "order:1001"
    del msg["courier_estimated_delivery_date"]
    assert parse(body_with(**msg))[0].edd == date(2026, 11, 30)


def test_a_tracking_without_checkpoints_is_read_from_its_tag() -> None:
    (event,) = parse(body_with(checkpoints=[], tag="InfoReceived", subtag="InfoReceived_001"))
    assert event.status is S.PICKUP_PENDING and event.occurred_at == datetime.fromtimestamp(1712741696, UTC)


def test_events_we_do_not_use_are_kept_with_a_note() -> None:
    delivery = ADAPTER.parse({}, fixture_bytes("aftership", "tracking_pending_time.json"))
    assert delivery.events == () and delivery.topic == "tracking_pending_time"
    assert delivery.note == "tracking_pending_time: not used"
    assert delivery.dedupe_key == "event:6f1d2c3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"msg": {}}, "event and event_id"),
        ({"event": "tracking_update", "event_id": "e1", "msg": {}}, "tracking_number"),
        ({"event": "tracking_update", "event_id": "e1", "msg": "x"}, "must be an object"),
    ],
)
def test_not_aftership_shape(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse({}, json.dumps(body).encode())
