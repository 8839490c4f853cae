"""EasyPost: the official webhook test vector (NFKD secret), the documented Event, every tracker status."""

from __future__ import annotations

import copy
import json
import unicodedata
from datetime import UTC, date, datetime
from typing import Any

import pytest

from orderwire.domain.events import ShipmentUpdated
from orderwire.domain.model import ShipmentStatus as S
from orderwire.integrations.base import PayloadError
from orderwire.integrations.easypost.statuses import STATUSES
from orderwire.integrations.easypost.webhook import ADAPTER, signature_for
from tests.support.couriers import fixture, fixture_bytes

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
RAW = fixture_bytes("easypost", "tracker_updated.json")
# From EasyPost's client-library fixtures (official/fixtures/client-library-fixtures.json, "webhooks").
SECRET = "s\u00e9cret"
SIGNATURE = "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"

EXPECTED: list[tuple[str, S | None]] = [
    ("pre_transit", S.PICKUP_PENDING),
    ("in_transit", S.IN_TRANSIT),
    ("out_for_delivery", S.OUT_FOR_DELIVERY),
    ("delivered", S.DELIVERED),
    ("available_for_pickup", None),
    ("return_to_sender", S.RTO_INITIATED),
    ("failure", S.DELIVERY_FAILED),
    ("cancelled", S.CANCELLED),
    ("error", None),
    ("unknown", None),
]


def tracker(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(fixture("easypost", "tracker_updated.json"))
    body["result"].update(changes)
    return body


def parse(body: dict[str, Any]) -> list[ShipmentUpdated]:
    return [r.event for r in ADAPTER.parse({}, json.dumps(body).encode()).events]  # type: ignore[misc]


def test_the_official_test_vector() -> None:
    assert signature_for(SECRET, RAW) == SIGNATURE
    assert ADAPTER.verify(SECRET, {"X-Hmac-Signature": SIGNATURE}, RAW, NOW)
    # The same secret typed with a combining accent normalises to the same key.
    assert ADAPTER.verify(unicodedata.normalize("NFD", SECRET), {"x-hmac-signature": SIGNATURE}, RAW, NOW)


def test_tampered_wrong_secret_or_missing_header_fail() -> None:
    assert not ADAPTER.verify(SECRET, {"X-Hmac-Signature": SIGNATURE}, RAW.replace(b"614.4", b"614.5"), NOW)
    assert not ADAPTER.verify("secret", {"X-Hmac-Signature": SIGNATURE}, RAW, NOW)
    assert not ADAPTER.verify(SECRET, {"X-Hmac-Signature": SIGNATURE.split("=", 1)[1]}, RAW, NOW)
    assert not ADAPTER.verify(SECRET, {}, RAW, NOW)
    assert not ADAPTER.verify("", {"X-Hmac-Signature": signature_for("", RAW)}, RAW, NOW)


def test_documented_event() -> None:
    delivery = ADAPTER.parse({}, RAW)
    assert delivery.dedupe_key == "event:evt_1" and delivery.topic == "tracker.updated"
    events = [r.event for r in delivery.events]
    assert {r.ref for r in delivery.events} == {"awb:1"}
    newest = events[0]
    assert isinstance(newest, ShipmentUpdated)
    assert newest.status is S.IN_TRANSIT and newest.location == "EDISON, NJ, US"
    assert newest.occurred_at == datetime(2024, 8, 2, 18, 50, tzinfo=UTC)
    assert newest.edd == date(2024, 8, 5) and newest.courier == "FedEx"
    assert newest.tracking_url == "https://track.easypost.com/1"
    assert all(e.edd is None for e in events[1:])  # type: ignore[union-attr]
    oldest = events[-1]
    assert isinstance(oldest, ShipmentUpdated)
    assert oldest.status is S.PICKUP_PENDING and oldest.description == "Shipment information sent to FedEx"
    assert len(events) == 7 and not any(e.is_return for e in events)  # type: ignore[union-attr]


@pytest.mark.parametrize(("status", "expected"), EXPECTED)
def test_every_tracker_status(status: str, expected: S | None) -> None:
    (event,) = parse(tracker(status=status, tracking_details=[]))
    assert event.status is expected and event.raw_status == status


def test_the_table_is_the_documented_one() -> None:
    assert list(STATUSES) == [s for s, _ in EXPECTED]


def test_return_labels_are_returns() -> None:
    events = parse(tracker(is_return=True))
    assert all(e.is_return for e in events)


def test_other_events_are_kept_with_a_note() -> None:
    body = fixture("easypost", "tracker_updated.json")
    body["description"] = "batch.updated"
    delivery = ADAPTER.parse({}, json.dumps(body).encode())
    assert delivery.events == () and delivery.note == "batch.updated: not used"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"description": "tracker.updated"}, "id and description"),
        ({"id": "evt_2", "description": "tracker.updated", "result": {}}, "tracking_code"),
    ],
)
def test_not_easypost_shape(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse({}, json.dumps(body).encode())
