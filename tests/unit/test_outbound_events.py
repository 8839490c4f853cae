"""Which lifecycle events an order's change implies, what they carry, and how an attempt is judged."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import timedelta

from orderwire.app.outbound import Answer, envelope_bytes, judge, message_id, retry_after
from orderwire.domain.model import Order, Shipment, ShipmentStatus, Stage
from orderwire.domain.outbound_events import changes, note_text, order_data
from tests.unit.factories import T0, order


def _with(o: Order, stage: Stage, *parcels: Shipment) -> Order:
    return dataclasses.replace(o, stage=stage, shipments=parcels)


def _types(before: Order | None, after: Order) -> list[str]:
    return [e.type for e in changes(before, after)]


def test_each_stage_change_is_one_event() -> None:
    placed = order()
    confirmed = _with(placed, Stage.CONFIRMED)
    sent = Shipment("AWB1", "Delhivery", status=ShipmentStatus.IN_TRANSIT, status_at=T0)
    dispatched = _with(placed, Stage.DISPATCHED, sent)
    ofd = _with(
        placed, Stage.OUT_FOR_DELIVERY, dataclasses.replace(sent, status=ShipmentStatus.OUT_FOR_DELIVERY)
    )
    done = _with(placed, Stage.DELIVERED, dataclasses.replace(sent, status=ShipmentStatus.DELIVERED))
    assert _types(None, placed) == []
    assert _types(None, confirmed) == ["order.confirmed"]  # a COD order is confirmed when placed
    assert _types(placed, confirmed) == ["order.confirmed"]
    assert _types(confirmed, dispatched) == ["shipment.dispatched"]
    assert _types(dispatched, ofd) == ["shipment.out_for_delivery"]
    assert _types(ofd, done) == ["shipment.delivered"]
    # Nothing changed (a redelivered event): nothing to say.
    assert _types(done, done) == [] and _types(dispatched, dispatched) == []
    # Straight from placed to delivered (a late shop): every step is still told once.
    assert _types(placed, done) == ["order.confirmed", "shipment.dispatched", "shipment.delivered"]


def test_failed_attempts_and_new_rounds_are_separate_occurrences() -> None:
    out = Shipment("AWB1", status=ShipmentStatus.OUT_FOR_DELIVERY, status_at=T0)
    failed1 = dataclasses.replace(out, status=ShipmentStatus.DELIVERY_FAILED, failed_attempts=(T0,))
    out2 = dataclasses.replace(failed1, status=ShipmentStatus.OUT_FOR_DELIVERY)
    failed2 = dataclasses.replace(
        out2, status=ShipmentStatus.DELIVERY_FAILED, failed_attempts=(T0, T0 + timedelta(days=1))
    )
    base = order()
    steps = [_with(base, Stage.OUT_FOR_DELIVERY, s) for s in (out, failed1, out2, failed2)]
    keys = [e.key for a, b in itertools.pairwise(steps) for e in changes(a, b)]
    assert keys == ["failed:AWB1:1", "ofd:AWB1:1", "failed:AWB1:2"]


def test_cancelled_rto_lost_and_return_parcels() -> None:
    confirmed = _with(order(), Stage.CONFIRMED)
    assert _types(confirmed, dataclasses.replace(confirmed, stage=Stage.CANCELLED)) == ["order.cancelled"]
    sent = Shipment("AWB1", status=ShipmentStatus.IN_TRANSIT)
    rto = dataclasses.replace(sent, status=ShipmentStatus.RTO_INITIATED)
    dispatched = _with(order(), Stage.DISPATCHED, sent)
    assert _types(dispatched, _with(order(), Stage.RTO, rto)) == ["shipment.rto"]
    back = dataclasses.replace(rto, status=ShipmentStatus.RTO_DELIVERED)
    assert _types(_with(order(), Stage.RTO, rto), _with(order(), Stage.RTO, back)) == []
    lost = dataclasses.replace(sent, status=ShipmentStatus.LOST)
    assert _types(dispatched, _with(order(), Stage.LOST, lost)) == ["shipment.lost"]
    pickup = Shipment("RET1", status=ShipmentStatus.IN_TRANSIT, is_return=True)
    assert _types(dispatched, dataclasses.replace(dispatched, shipments=(sent, pickup))) == []


def test_data_carries_ids_and_contact_but_no_street_address() -> None:
    parcel = Shipment("AWB1", "Delhivery", "https://track.example/AWB1", status=ShipmentStatus.IN_TRANSIT)
    data = order_data(_with(order(), Stage.DISPATCHED, parcel), "AWB1")
    assert data["order_id"] == "o-1" and data["order_number"] == "#1001" and data["stage"] == "dispatched"
    assert data["shipment"]["awb"] == "AWB1" and data["shipment"]["courier"] == "Delhivery"
    assert data["customer"] == {"phone": "+919812345678", "name": "Asha Rao", "language": "en"}
    assert data["delivery_area"] == {"city": "Bengaluru", "pincode": "560001", "country": "IN"}
    assert "12 MG Road" not in json.dumps(data)
    assert "shipment" not in order_data(order())


def test_note_text_names_the_order_and_parcel() -> None:
    parcel = Shipment(
        "AWB1", "Delhivery", status=ShipmentStatus.DELIVERY_FAILED, failure_reason="Customer not available"
    )
    data = order_data(_with(order(), Stage.DELIVERY_FAILED, parcel), "AWB1")
    assert note_text("delivery.failed", data) == (
        "Orderwire: Order #1001: delivery attempt failed (AWB AWB1, Delhivery): Customer not available."
    )
    assert (
        note_text("order.confirmed", order_data(order()))
        == "Orderwire: Order #1001 confirmed (123456.00 INR)."
    )


def test_message_ids_are_stable_per_occurrence() -> None:
    one = message_id("default", "o-1", "shipment.dispatched", "dispatched:AWB1")
    assert one == message_id("default", "o-1", "shipment.dispatched", "dispatched:AWB1")
    assert one != message_id("default", "o-1", "shipment.dispatched", "dispatched:AWB2")
    assert one != message_id("other-shop", "o-1", "shipment.dispatched", "dispatched:AWB1")
    assert one.startswith("msg_") and "." not in one


def test_body_is_compact_json_in_envelope_order() -> None:
    body = envelope_bytes({"data": {"b": 1}, "timestamp": "2026-11-30T04:00:00Z", "type": "order.confirmed"})
    assert body == b'{"type":"order.confirmed","timestamp":"2026-11-30T04:00:00Z","data":{"b":1}}'


def test_answers_are_judged_as_the_spec_advises() -> None:
    now = T0
    assert judge(Answer(204), 1, 5, 1.0, now).status == "delivered"
    for code in (500, 502, 503, 408, 409, 429, None):
        verdict = judge(Answer(code), 1, 5, 1.0, now)
        assert verdict.status == "pending", code
        assert verdict.next_attempt_at is not None and now + timedelta(seconds=1) <= verdict.next_attempt_at
    for code in (400, 401, 403, 404, 410, 422, 301):
        assert judge(Answer(code), 1, 5, 1.0, now).status == "failed", code
    assert "410" in judge(Answer(410), 1, 5, 1.0, now).reason
    assert judge(Answer(500), 5, 5, 1.0, now).status == "failed"  # the last attempt
    gone = judge(Answer(None, error="endpoint no longer configured", permanent=True), 1, 5, 1.0, now)
    assert (gone.status, gone.reason) == ("failed", "endpoint no longer configured")
    later = judge(Answer(503), 2, 5, 1.0, now).next_attempt_at
    assert later is not None and timedelta(seconds=4) <= later - now <= timedelta(
        seconds=4.4
    )  # 1 × 4^1 + jitter
    honoured = judge(Answer(429, "120"), 1, 5, 1.0, now).next_attempt_at
    assert honoured == now + timedelta(seconds=120)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("30", T0) == timedelta(seconds=30)
    assert retry_after("Fri, 27 Nov 2026 06:01:00 GMT", T0) == timedelta(minutes=1)
    assert retry_after("", T0) is None and retry_after("soon", T0) is None


def test_endpoints_are_shown_without_credentials_or_query() -> None:
    from orderwire.app.outbound import display_endpoint

    assert (
        display_endpoint("https://user:pw@crm.example:8443/hooks/a?token=t")
        == "https://crm.example:8443/hooks/a"
    )
    assert display_endpoint("hubspot") == "hubspot"


def test_subscriptions_come_from_the_settings() -> None:
    from orderwire.app.outbound import endpoints
    from orderwire.settings import Settings

    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    urls = "https://crm.example/a, https://wh.example/b,https://crm.example/a"
    assert endpoints(Settings(outbound_webhook_urls=urls)) == []  # no secret: nothing is sent unsigned
    both = endpoints(
        Settings(
            outbound_webhook_urls=urls,
            outbound_webhook_secret=secret,
            outbound_webhook_events="order.confirmed, shipment.delivered",
            hubspot_token="pat-1",
        )
    )
    assert [(e.kind, e.target) for e in both] == [
        ("webhook", "https://crm.example/a"),
        ("webhook", "https://wh.example/b"),
        ("hubspot", "hubspot"),
    ]
    assert both[0].wants("shipment.delivered") and not both[0].wants("shipment.dispatched")
    assert both[2].wants("shipment.dispatched")  # no HubSpot filter: every event
    assert endpoints(Settings(outbound_webhook_urls=urls, outbound_webhook_secret="", hubspot_token="")) == []


def test_a_rating_a_return_asked_for_and_its_refund_are_events() -> None:
    from orderwire.domain.model import ReturnCase, ReturnStatus

    delivered = _with(order(), Stage.DELIVERED)
    rated = dataclasses.replace(delivered, rating=5, rated_at=T0 + timedelta(days=4))
    assert _types(delivered, rated) == ["feedback.received"]
    assert _types(rated, rated) == []  # the same rating, seen again
    again = dataclasses.replace(rated, rating=2, rated_at=T0 + timedelta(days=5))
    assert _types(rated, again) == ["feedback.received"]
    asking = rated.with_return(ReturnCase("RMA-1", T0, ReturnStatus.AWAITING_PHOTOS, reason="damaged"))
    assert _types(rated, asking) == []  # still choosing: nothing to tell yet
    chosen = asking.with_return(dataclasses.replace(asking.returns[0], status=ReturnStatus.PICKUP_REQUESTED))
    assert _types(asking, chosen) == ["return.requested"]
    refunded = chosen.with_return(dataclasses.replace(chosen.returns[0], status=ReturnStatus.REFUNDED))
    assert _types(chosen, refunded) == ["refund.processed"]
    data = order_data(refunded)
    assert data["rating"] == 5 and data["returns"][0]["rma"] == "RMA-1"
    assert "feedback" not in json.dumps(data)  # what the customer wrote is never sent out
