"""Razorpay: the HMAC over the raw body, the documented webhooks as canonical events, the refund API."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from orderwire.app.ports import RefundRequest
from orderwire.domain.events import PaymentCaptured, PaymentFailed, RefundUpdated
from orderwire.integrations.base import PayloadError, Routed
from orderwire.integrations.gateway import GatewayError
from orderwire.integrations.razorpay.api import RazorpayRefunds
from orderwire.integrations.razorpay.webhook import ADAPTER, signature_for
from tests.support.couriers import fixture, fixture_bytes
from tests.support.payment_servers import RAZORPAY_KEY, PaymentServer

SECRET = "razorpay-webhook-secret"
NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
RAW = fixture_bytes("razorpay", "payment_captured.json")


def signed(raw: bytes, secret: str = SECRET, event_id: str = "") -> dict[str, str]:
    headers = {"X-Razorpay-Signature": signature_for(secret, raw)}
    return headers | ({"x-razorpay-event-id": event_id} if event_id else {})


def parse(name: str, event_id: str = "") -> Any:
    raw = fixture_bytes("razorpay", name)
    return ADAPTER.parse(signed(raw, event_id=event_id), raw)


def test_signature_is_hex_hmac_of_the_raw_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), RAW, hashlib.sha256).hexdigest()
    assert ADAPTER.verify(SECRET, {"x-razorpay-signature": expected}, RAW, NOW)  # any header case


def test_tampered_body_wrong_secret_and_missing_header_fail() -> None:
    headers = signed(RAW)
    assert ADAPTER.verify(SECRET, headers, RAW, NOW)
    assert not ADAPTER.verify(SECRET, headers, RAW.replace(b"12345600", b"12345601"), NOW)
    assert not ADAPTER.verify("another-secret", headers, RAW, NOW)
    assert not ADAPTER.verify(SECRET, {}, RAW, NOW)
    assert not ADAPTER.verify("", signed(RAW, ""), RAW, NOW)  # no secret: nothing is authentic


def test_payment_captured_goes_to_the_shop_order_and_teaches_it_the_gateway_ids() -> None:
    delivery = parse("payment_captured.json", event_id="evt_Kt5hJ0a0yL3Qx1")
    assert delivery.dedupe_key == "event:evt_Kt5hJ0a0yL3Qx1"
    assert delivery.topic == "payment.captured"
    captured = PaymentCaptured(
        datetime.fromtimestamp(1691735748, UTC),
        "pay_DESp9bgForNoUd",
        {"razorpay_payment": "pay_DESp9bgForNoUd", "razorpay_order": "order_DESlLckIVRkHWj"},
    )
    assert delivery.events == (Routed("order:shop-1001", captured, "razorpay_order:order_DESlLckIVRkHWj"),)


def test_without_the_event_id_header_the_event_and_payment_are_the_key() -> None:
    assert parse("payment_captured.json").dedupe_key == "payment.captured:pay_DESp9bgForNoUd"


def test_order_paid_reads_the_order_notes_when_the_payment_has_none() -> None:
    (routed,) = parse("order_paid.json").events
    assert routed.ref == "order:5501234567"  # the order's notes name the Shopify order; payment notes are []
    assert routed.fallback == "razorpay_order:order_DESlLckIVRkHWj"
    assert isinstance(routed.event, PaymentCaptured) and routed.event.payment_ref == "pay_DESlfW9H8K9uqM"


def test_without_notes_the_razorpay_order_names_the_order() -> None:
    body = fixture("razorpay", "payment_captured.json")
    body["payload"]["payment"]["entity"]["notes"] = []
    raw = json.dumps(body).encode()
    (routed,) = ADAPTER.parse(signed(raw), raw).events
    assert (routed.ref, routed.fallback) == (
        "razorpay_order:order_DESlLckIVRkHWj",
        "razorpay_payment:pay_DESp9bgForNoUd",
    )


def test_payment_failed_carries_the_error_description() -> None:
    (routed,) = parse("payment_failed.json").events
    assert routed == Routed(
        "order:shop-1001",
        PaymentFailed(
            datetime.fromtimestamp(1570697268, UTC),
            "pay_DQpsdlKOpRaGZ1",
            "Payment processing failed because of incorrect OTP",
        ),
        "razorpay_order:order_DQpsVYvnhNH0Bc",
    )


@pytest.mark.parametrize(
    ("name", "status", "arn"),
    [
        ("refund_created.json", "pending", ""),
        ("refund_processed.json", "processed", "74836223127060283542861"),
        ("refund_failed.json", "failed", ""),
    ],
)
def test_refunds_go_by_the_payment_with_the_order_as_fallback(name: str, status: str, arn: str) -> None:
    delivery = parse(name)
    assert delivery.dedupe_key == f"{delivery.topic}:rfnd_FS8TWyPrCsa0OB"
    (routed,) = delivery.events
    assert routed == Routed(
        "razorpay_payment:pay_DESp9bgForNoUd",
        RefundUpdated(
            occurred_at=datetime.fromtimestamp(1597734072, UTC),
            refund_ref="rfnd_FS8TWyPrCsa0OB",
            status=status,
            amount_minor=50000,
            currency="INR",
            payment_ref="pay_DESp9bgForNoUd",
            bank_ref=arn,
        ),
        "order:shop-1001",
    )


def test_refund_bank_reference_falls_back_to_the_rrn() -> None:
    body = fixture("razorpay", "refund_processed.json")
    body["payload"]["refund"]["entity"]["acquirer_data"] = {"rrn": "411512345678"}
    raw = json.dumps(body).encode()
    (routed,) = ADAPTER.parse(signed(raw), raw).events
    assert isinstance(routed.event, RefundUpdated) and routed.event.bank_ref == "411512345678"


def test_events_we_do_not_use_are_noted_without_events() -> None:
    delivery = parse("payment_authorized.json")
    assert delivery.events == ()
    assert delivery.note == "payment.authorized: not used"


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", b'{"entity": "event"}', b'{"event": "payment.captured", "payload": {"payment": 7}}'],
)
def test_bodies_not_in_razorpay_shape_are_payload_errors(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        ADAPTER.parse(signed(raw), raw)


def test_a_captured_payment_without_its_id_is_a_payload_error() -> None:
    body = copy.deepcopy(fixture("razorpay", "payment_captured.json"))
    del body["payload"]["payment"]["entity"]["id"]
    raw = json.dumps(body).encode()
    with pytest.raises(PayloadError):
        ADAPTER.parse(signed(raw), raw)


def request(key: str = "call:shop-1001:refund:1", amount: int = 50000) -> RefundRequest:
    return RefundRequest("pay_DESp9bgForNoUd", amount, "INR", key, "Item returned: wrong size")


def client(server: PaymentServer, secret: str = RAZORPAY_KEY[1], timeout: float = 5.0) -> RazorpayRefunds:
    return RazorpayRefunds(server.url, RAZORPAY_KEY[0], secret, timeout=timeout)


def test_refund_request_as_documented() -> None:
    with PaymentServer() as server:
        refund_id = client(server).refund(request())
    (sent,) = server.requests
    assert refund_id.startswith("rfnd_")
    assert (sent.method, sent.path) == ("POST", "/v1/payments/pay_DESp9bgForNoUd/refund")
    assert (
        sent.headers["authorization"]
        == "Basic " + base64.b64encode(b"rzp_test_1DP5mmOlF5G5ag:rzp-key-secret").decode()
    )
    assert sent.headers["content-type"] == "application/json"
    key = sent.headers["x-refund-idempotency"]
    assert len(key) >= 10 and key.replace("-", "").replace("_", "").isalnum()
    body = sent.json()
    assert body["amount"] == 50000 and body["speed"] == "normal"
    assert body["notes"] == {"reason": "Item returned: wrong size"}
    assert 0 < len(body["receipt"]) <= 40


def test_a_retried_refund_is_made_once() -> None:
    with PaymentServer() as server:
        first = client(server).refund(request())
        again = client(server).refund(request())
        other = client(server).refund(request(key="call:shop-1001:refund:2"))
    assert first == again != other
    assert len({r.headers["x-refund-idempotency"] for r in server.requests}) == 2


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (404, False), (409, True), (429, True), (500, True), (503, True)],
)
def test_refusals_say_whether_to_retry(status: int, retryable: bool) -> None:
    with PaymentServer() as server:
        server.fail_next(status, {"error": {"code": "BAD_REQUEST_ERROR", "description": "scripted"}})
        with pytest.raises(GatewayError) as caught:
            client(server).refund(request())
    assert caught.value.retryable is retryable
    assert f"HTTP {status}" in str(caught.value)


def test_a_wrong_key_is_refused_for_good() -> None:
    with PaymentServer() as server, pytest.raises(GatewayError) as caught:
        client(server, secret="wrong").refund(request())
    assert not caught.value.retryable and "Authentication failed" in str(caught.value)


def test_no_answer_is_worth_retrying() -> None:
    with PaymentServer(delay=0.5) as server, pytest.raises(GatewayError) as caught:
        client(server, timeout=0.1).refund(request())
    assert caught.value.retryable
    with PaymentServer() as server:
        url = server.url
    with pytest.raises(GatewayError) as refused:
        RazorpayRefunds(url, *RAZORPAY_KEY).refund(request())  # nothing listens any more
    assert refused.value.retryable
