"""Delhivery: the configured token, the documented scan push, every documented status type and status."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from orderwire.domain.events import ShipmentUpdated
from orderwire.domain.model import ShipmentStatus as S
from orderwire.integrations.base import PayloadError
from orderwire.integrations.delhivery.statuses import NDR_CODES, STATUSES
from orderwire.integrations.delhivery.webhook import ADAPTER
from tests.support.couriers import fixture, fixture_bytes

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
RAW = fixture_bytes("delhivery", "scan_push.json")

# (StatusType, Status) of the forward, RTO and reverse-pickup flows, what they mean, and if a return.
EXPECTED: list[tuple[str, str, S | None, bool]] = [
    ("UD", "Manifested", S.PICKUP_PENDING, False),
    ("UD", "Not Picked", S.PICKUP_PENDING, False),
    ("UD", "In Transit", S.IN_TRANSIT, False),
    ("UD", "Pending", S.IN_TRANSIT, False),
    ("UD", "Dispatched", S.OUT_FOR_DELIVERY, False),
    ("DL", "Delivered", S.DELIVERED, False),
    ("RT", "In Transit", S.RTO_INITIATED, False),
    ("RT", "Pending", S.RTO_INITIATED, False),
    ("RT", "Dispatched", S.RTO_INITIATED, False),
    ("DL", "RTO", S.RTO_DELIVERED, False),
    ("PP", "Open", S.PICKUP_PENDING, True),
    ("PP", "Scheduled", S.PICKUP_PENDING, True),
    ("PP", "Dispatched", S.PICKUP_PENDING, True),
    ("PU", "In Transit", S.IN_TRANSIT, True),
    ("PU", "Pending", S.IN_TRANSIT, True),
    ("PU", "Dispatched", S.OUT_FOR_DELIVERY, True),
    ("DL", "DTO", S.DELIVERED, True),
    ("CN", "Canceled", S.CANCELLED, True),
    ("CN", "Closed", S.CANCELLED, True),
]


def scan(kind: str, status: str, nsl: str = "X-UCI", **extra: str) -> dict[str, Any]:
    body = copy.deepcopy(fixture("delhivery", "scan_push.json"))
    body["Shipment"]["Status"].update(StatusType=kind, Status=status, **extra)
    body["Shipment"]["NSLCode"] = nsl
    return body


def parse(body: dict[str, Any]) -> ShipmentUpdated:
    (routed,) = ADAPTER.parse({}, json.dumps(body).encode()).events
    assert isinstance(routed.event, ShipmentUpdated)
    return routed.event


@pytest.mark.parametrize(
    ("authorization", "ok"),
    [
        ("Bearer d3lh1very", True),
        ("Token d3lh1very", True),
        ("d3lh1very", True),
        ("Bearer wrong", False),
        ("Bearer ", False),
        ("", False),
    ],
)
def test_token(authorization: str, ok: bool) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    assert ADAPTER.verify("d3lh1very", headers, RAW, NOW) is ok
    assert not ADAPTER.verify("", headers, RAW, NOW)


def test_documented_sample() -> None:
    delivery = ADAPTER.parse({}, RAW)
    assert delivery.dedupe_key.startswith("sha256:") and delivery.topic == "scan"
    (routed,) = delivery.events
    assert (routed.ref, routed.fallback) == ("awb:1490811234567", "order:28")
    event = routed.event
    assert isinstance(event, ShipmentUpdated)
    assert event.status is S.PICKUP_PENDING and event.raw_status == "UD/Manifested (X-UCI)"
    assert event.occurred_at == datetime(2019, 1, 9, 11, 40, 42, 767000, tzinfo=UTC)  # India time
    assert event.location == "Chandigarh_Raiprkln_C (Chandigarh)" and event.description == "Manifest uploaded"
    assert event.courier == "Delhivery" and not event.is_return and event.edd is None


@pytest.mark.parametrize(("kind", "status", "expected", "is_return"), EXPECTED)
def test_every_documented_status(kind: str, status: str, expected: S | None, is_return: bool) -> None:
    event = parse(scan(kind, status))
    assert (event.status, event.is_return) == (expected, is_return)


def test_the_table_is_the_documented_one() -> None:
    assert sorted(STATUSES) == sorted((k, s) for k, s, _, _ in EXPECTED)


@pytest.mark.parametrize("code", sorted(NDR_CODES))
def test_a_pending_scan_with_an_ndr_code_is_a_failed_attempt(code: str) -> None:
    event = parse(scan("UD", "Pending", code, Instructions="Consignee Unavailable"))
    assert event.status is S.DELIVERY_FAILED and event.reason == "Consignee Unavailable"


def test_unknown_pairs_are_recorded_with_their_words() -> None:
    event = parse(scan("UD", "Lost", "LT-100"))
    assert event.status is None and event.raw_status == "UD/Lost (LT-100)"


def test_expected_delivery_date_when_sent() -> None:
    body = scan("UD", "In Transit")
    body["Shipment"]["ExpectedDeliveryDate"] = "2026-12-02T23:59:59"
    assert parse(body).edd == datetime(2026, 12, 2).date()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"Shipment": {"AWB": "1"}}, "required"),
        ({"Shipment": "x"}, "must be an object"),
        ({}, "required"),
    ],
)
def test_not_delhivery_shape(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse({}, json.dumps(body).encode())
