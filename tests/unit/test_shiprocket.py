"""Shiprocket: the webhook token, the documented payload, every status code, and the track-by-AWB answer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from orderwire.domain.events import ShipmentUpdated
from orderwire.domain.model import ShipmentStatus as S
from orderwire.integrations.base import PayloadError
from orderwire.integrations.shiprocket.api import parse_tracking
from orderwire.integrations.shiprocket.statuses import STATUSES, canonical
from orderwire.integrations.shiprocket.webhook import ADAPTER
from tests.support.couriers import fixture, fixture_bytes, shiprocket_scan, shiprocket_webhook

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
RAW = fixture_bytes("shiprocket", "tracking_webhook.json")

# Every documented code (apidocs.shiprocket.in, shipment status codes) and what it must mean here.
EXPECTED: list[tuple[int, S | None]] = [
    (5, S.PICKUP_PENDING),
    (6, S.DISPATCHED),
    (7, S.DELIVERED),
    (8, S.CANCELLED),
    (9, S.RTO_INITIATED),
    (10, S.RTO_DELIVERED),
    (12, S.LOST),
    (13, S.PICKUP_PENDING),
    (14, S.RTO_INITIATED),
    (15, S.PICKUP_PENDING),
    (16, None),
    (17, S.OUT_FOR_DELIVERY),
    (18, S.IN_TRANSIT),
    (19, S.PICKUP_PENDING),
    (20, S.PICKUP_PENDING),
    (21, S.DELIVERY_FAILED),
    (22, S.IN_TRANSIT),
    (23, None),
    (24, S.DAMAGED),
    (25, S.DAMAGED),
    (26, S.DELIVERED),
    (27, S.PICKUP_PENDING),
    (38, S.IN_TRANSIT),
    (39, S.IN_TRANSIT),
    (40, S.RTO_INITIATED),
    (41, S.RTO_INITIATED),
    (42, S.DISPATCHED),
    (43, None),
    (44, S.DAMAGED),
    (45, S.CANCELLED),
    (46, S.RTO_INITIATED),
    (47, S.PICKUP_PENDING),
    (48, S.IN_TRANSIT),
    (49, S.IN_TRANSIT),
    (50, S.IN_TRANSIT),
    (51, S.DISPATCHED),
    (52, S.PICKUP_PENDING),
    (54, S.IN_TRANSIT),
    (55, S.IN_TRANSIT),
    (56, S.IN_TRANSIT),
    (57, S.IN_TRANSIT),
    (59, S.PICKUP_PENDING),
    (60, S.PICKUP_PENDING),
    (61, S.PICKUP_PENDING),
    (62, S.PICKUP_PENDING),
    (63, S.PICKUP_PENDING),
    (67, S.PICKUP_PENDING),
    (68, S.PICKUP_PENDING),
    (71, S.PICKUP_PENDING),
    (72, S.PICKUP_PENDING),
    (75, S.RTO_INITIATED),
    (76, S.LOST),
    (77, S.DELIVERY_FAILED),
    (78, S.RTO_INITIATED),
]


def events(body: dict[str, object]) -> list[ShipmentUpdated]:
    delivery = ADAPTER.parse({}, json.dumps(body).encode())
    return [r.event for r in delivery.events]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("headers", "secret", "ok"),
    [
        ({"x-api-key": "tok3n"}, "tok3n", True),
        ({"X-Api-Key": "tok3n"}, "tok3n", True),  # header names are case-insensitive
        ({"x-api-key": "tok3n "}, "tok3n", False),
        ({"x-api-key": "other"}, "tok3n", False),
        ({}, "tok3n", False),
        ({"x-api-key": ""}, "", False),  # no token configured: nothing passes
    ],
)
def test_token(headers: dict[str, str], secret: str, ok: bool) -> None:
    assert ADAPTER.verify(secret, headers, RAW, NOW) is ok


@pytest.mark.parametrize(("code", "expected"), EXPECTED)
def test_every_documented_status(code: int, expected: S | None) -> None:
    assert canonical(str(code)) is expected
    at = datetime(2026, 11, 27, 10, 0)
    (event,) = events(shiprocket_webhook("AWB9", [shiprocket_scan(code, STATUSES[code][0].upper(), at)]))
    assert event.status is expected
    assert event.raw_status == f"{STATUSES[code][0].upper()} ({code})"


def test_the_table_is_the_documented_one() -> None:
    assert sorted(STATUSES) == [code for code, _ in EXPECTED]
    assert canonical("NA") is None and canonical("99") is None and canonical("") is None


def test_documented_payload() -> None:
    delivery = ADAPTER.parse({"x-api-key": "t"}, RAW)
    assert delivery.dedupe_key.startswith("sha256:") and delivery.topic == "tracking"
    refs = {(r.ref, r.fallback) for r in delivery.events}
    assert refs == {("awb:19041424751540", "order:1373900_150876814")}
    current, picked, manifested = (r.event for r in delivery.events)  # newest first
    # The current status (18, in transit at 11:43:52 IST) is not among the two published scans.
    assert current.status is S.IN_TRANSIT and current.raw_status == "IN TRANSIT (18)"
    assert current.occurred_at == datetime(2023, 5, 23, 6, 13, 52, tzinfo=UTC)
    assert current.edd == date(2023, 5, 23) and picked.edd is None and manifested.edd is None
    assert picked.status is S.DISPATCHED and picked.location == "Chomu_SamodRd_D (Rajasthan)"
    assert picked.description == "In Transit - Shipment picked up"
    assert manifested.status is S.PICKUP_PENDING
    assert {e.courier for e in (current, picked, manifested)} == {"Delhivery Surface"}
    assert not any(e.is_return for e in (current, picked, manifested))


def test_a_redelivery_has_the_same_key_and_any_change_another() -> None:
    assert ADAPTER.parse({}, RAW).dedupe_key == ADAPTER.parse({}, RAW).dedupe_key
    assert (
        ADAPTER.parse({}, RAW).dedupe_key
        != ADAPTER.parse({}, RAW.replace(b"IN TRANSIT", b"DELAYED")).dedupe_key
    )


def test_returns_failed_attempts_and_unknown_codes() -> None:
    at = datetime(2026, 11, 27, 15, 0)
    (back,) = events(shiprocket_webhook("R1", [shiprocket_scan(7, "DELIVERED", at)], is_return=1))
    assert back.is_return and back.status is S.DELIVERED
    (ndr,) = events(
        shiprocket_webhook("A1", [shiprocket_scan(21, "UNDELIVERED", at, activity="Door locked")])
    )
    assert ndr.status is S.DELIVERY_FAILED and ndr.reason == "Door locked"
    (odd,) = events(shiprocket_webhook("A1", [shiprocket_scan(99, "SHIPMENT HELD", at)]))
    assert odd.status is None and odd.raw_status == "SHIPMENT HELD (99)"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"current_status": "IN TRANSIT"}', "awb missing"),
        (b'{"awb": "1"}', "neither"),
        (b'{"awb": "1", "scans": [{"date": "yesterday", "sr-status": "6"}]}', "unreadable time"),
        (b'{"awb": "1", "scans": "none"}', "list of objects"),
    ],
)
def test_not_shiprocket_shape(raw: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse({}, raw)


def test_track_by_awb_answer() -> None:
    routed = parse_tracking("141123221084922", fixture("shiprocket", "track_awb.json"))
    statuses = [r.event.status for r in routed]  # type: ignore[union-attr]
    assert statuses == [
        S.DELIVERED,
        S.OUT_FOR_DELIVERY,
        S.IN_TRANSIT,
        S.IN_TRANSIT,
        S.DISPATCHED,
        S.DISPATCHED,
        S.PICKUP_PENDING,
        None,  # "NA": Shiprocket's own "no mapping"
    ]
    first = routed[0].event
    assert isinstance(first, ShipmentUpdated)
    assert first.courier == "Xpressbees Surface" and first.edd == date(2022, 7, 20)
    assert first.tracking_url == "https://shiprocket.co//tracking/141123221084922"
    assert {r.ref for r in routed} == {"awb:141123221084922"} and {r.fallback for r in routed} == {""}
    assert parse_tracking("X", fixture("shiprocket", "track_awb_no_activity.json")) == ()
