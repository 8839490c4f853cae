"""Cashfree: the signature over timestamp + body, the documented webhooks as canonical events, refunds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orderwire.app.ports import RefundRequest
from orderwire.domain.events import PaymentCaptured, PaymentFailed, RefundUpdated
from orderwire.integrations.base import IST, PayloadError, Routed
from orderwire.integrations.cashfree.api import CashfreeRefunds
from orderwire.integrations.cashfree.webhook import ADAPTER, signature_for
from orderwire.integrations.gateway import GatewayError
from tests.support.couriers import fixture, fixture_bytes
from tests.support.payment_servers import CASHFREE_KEY, PaymentServer

SECRET = CASHFREE_KEY[1]
NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp() * 1000))  # Cashfree's timestamps are in milliseconds
RAW = fixture_bytes("cashfree", "payment_success.json")


def signed(raw: bytes, stamp: str = STAMP, secret: str = SECRET, key: str = "") -> dict[str, str]:
    headers = {"x-webhook-signature": signature_for(secret, raw, stamp), "x-webhook-timestamp": stamp}
    return headers | ({"x-idempotency-key": key} if key else {})


def parse(name: str, key: str = "") -> Any:
    raw = fixture_bytes("cashfree", name)
    return ADAPTER.parse(signed(raw, key=key), raw)


def test_signature_is_base64_hmac_of_timestamp_and_body() -> None:
    digest = hmac.new(SECRET.encode(), STAMP.encode() + RAW, hashlib.sha256).digest()
    headers = {"X-Webhook-Signature": base64.b64encode(digest).decode(), "X-Webhook-Timestamp": STAMP}
    assert ADAPTER.verify(SECRET, headers, RAW, NOW)


def test_tampered_body_wrong_secret_moved_timestamp_and_missing_headers_fail() -> None:
    headers = signed(RAW)
    assert not ADAPTER.verify(SECRET, headers, RAW.replace(b"123456.00", b"123456.01"), NOW)
    assert not ADAPTER.verify("another-secret", headers, RAW, NOW)
    moved = {**headers, "x-webhook-timestamp": str(int(STAMP) + 1000)}
    assert not ADAPTER.verify(SECRET, moved, RAW, NOW)  # the timestamp is signed
    assert not ADAPTER.verify(SECRET, {"x-webhook-signature": headers["x-webhook-signature"]}, RAW, NOW)
    assert not ADAPTER.verify(SECRET, {"x-webhook-timestamp": STAMP}, RAW, NOW)
    assert not ADAPTER.verify("", headers, RAW, NOW)


@pytest.mark.parametrize(
    ("seconds", "ok"), [(-300, True), (299, True), (-301, False), (301, False), (-3600, False)]
)
def test_stale_timestamps_fail(seconds: int, ok: bool) -> None:
    stamp = str(int((NOW + timedelta(seconds=seconds)).timestamp() * 1000))
    assert ADAPTER.verify(SECRET, signed(RAW, stamp), RAW, NOW) is ok


def test_payment_success_names_the_merchant_order() -> None:
    delivery = parse("payment_success.json", key="n9rn7079wqXcse3GEDEXCYle9ajXmU0SUQY8zrUNAlc=")
    assert delivery.dedupe_key == "idempotency:n9rn7079wqXcse3GEDEXCYle9ajXmU0SUQY8zrUNAlc="
    captured = PaymentCaptured(
        datetime(2025, 1, 15, 12, 20, 33, tzinfo=IST),
        "1453002795",
        {"cashfree_order": "shop-1001", "cashfree_payment": "1453002795"},
    )
    assert delivery.events == (Routed("order:shop-1001", captured, "cashfree_order:shop-1001"),)


def test_without_the_idempotency_header_the_payment_and_type_are_the_key() -> None:
    assert parse("payment_success.json").dedupe_key == "PAYMENT_SUCCESS_WEBHOOK:1453002795"


def test_payment_failed_prefers_the_order_tags_and_the_error_description() -> None:
    (routed,) = parse("payment_failed.json").events
    failed = PaymentFailed(
        datetime(2023, 1, 6, 20, 0, 13, tzinfo=IST),
        "1504280029",
        "issuer bank or payment service provider declined the transaction",
    )
    assert routed == Routed("order:shop-1001", failed, "cashfree_order:CFPay_g47u3888d0k0_tblfm766qc")


def test_a_dropped_payment_is_recorded_only() -> None:
    delivery = parse("payment_user_dropped.json")
    assert delivery.events == () and delivery.note == "PAYMENT_USER_DROPPED_WEBHOOK: recorded"


def test_refund_success_carries_the_arn_and_amount_in_paise() -> None:
    delivery = parse("refund_status.json")
    assert delivery.dedupe_key == "REFUND_STATUS_WEBHOOK:11325632:SUCCESS"
    (routed,) = delivery.events
    assert routed == Routed(
        "cashfree_payment:1453002795",
        RefundUpdated(
            occurred_at=datetime(2025, 1, 20, 13, 4, 28, tzinfo=IST),
            refund_ref="refund_shop-1001_1",
            status="processed",
            amount_minor=500000,
            currency="INR",
            payment_ref="1453002795",
            bank_ref="205907014017",
        ),
        "order:shop-1001",
    )


@pytest.mark.parametrize(
    ("cashfree", "ours"),
    [("SUCCESS", "processed"), ("PENDING", "pending"), ("ONHOLD", "pending"), ("CANCELLED", "failed")],
)
def test_refund_statuses(cashfree: str, ours: str) -> None:
    body = fixture("cashfree", "refund_status.json")
    body["data"]["refund"]["refund_status"] = cashfree
    body["data"]["refund"]["status_description"] = f"described as {cashfree}"
    raw = json.dumps(body).encode()
    (routed,) = ADAPTER.parse(signed(raw), raw).events
    assert isinstance(routed.event, RefundUpdated) and routed.event.status == ours
    assert routed.event.reason == ("" if cashfree == "SUCCESS" else f"described as {cashfree}")


def test_types_we_do_not_use_are_noted_without_events() -> None:
    body = fixture("cashfree", "payment_success.json") | {"type": "DISPUTE_CREATED"}
    raw = json.dumps(body).encode()
    delivery = ADAPTER.parse(signed(raw), raw)
    assert delivery.events == () and delivery.note == "DISPUTE_CREATED: not used"


@pytest.mark.parametrize(
    "raw", [b"", b"[1]", b'{"data": {}}', b'{"type": "PAYMENT_SUCCESS_WEBHOOK", "data": {"payment": {}}}']
)
def test_bodies_not_in_cashfree_shape_are_payload_errors(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        ADAPTER.parse(signed(raw), raw)


def request(
    key: str = "call:shop-1001:refund:1", order: str = "shop-1001", reason: str = "Item returned"
) -> RefundRequest:
    return RefundRequest("1453002795", 500050, "INR", key, reason, order)


def api(server: PaymentServer, secret: str = SECRET, timeout: float = 5.0) -> CashfreeRefunds:
    return CashfreeRefunds(server.url, CASHFREE_KEY[0], secret, "2025-01-01", timeout=timeout)


def test_refund_request_as_documented() -> None:
    with PaymentServer() as server:
        refund_id = api(server).refund(request())
    (sent,) = server.requests
    assert (sent.method, sent.path) == ("POST", "/pg/orders/shop-1001/refunds")
    assert sent.headers["x-client-id"] == CASHFREE_KEY[0] and sent.headers["x-client-secret"] == SECRET
    assert sent.headers["x-api-version"] == "2025-01-01"
    body = sent.json()
    assert body["refund_amount"] == 5000.50 and body["refund_speed"] == "STANDARD"
    assert body["refund_note"] == "Item returned"
    assert refund_id == body["refund_id"] and 3 <= len(refund_id) <= 40


def test_a_retried_refund_is_made_once() -> None:
    with PaymentServer() as server:
        first, again = api(server).refund(request()), api(server).refund(request())
    assert first == again
    assert [(r.method, r.path.count("/")) for r in server.requests] == [("POST", 4), ("POST", 4), ("GET", 5)]
    assert len(server.cashfree_refunds) == 1


def test_without_the_cashfree_order_nothing_is_sent() -> None:
    with PaymentServer() as server, pytest.raises(GatewayError) as caught:
        api(server).refund(request(order=""))
    assert not caught.value.retryable and server.requests == []


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (404, False), (422, False), (429, True), (500, True), (502, True)],
)
def test_refusals_say_whether_to_retry(status: int, retryable: bool) -> None:
    with PaymentServer() as server:
        server.fail_next(
            status, {"message": "scripted", "code": "refund_amount_invalid", "type": "invalid_request_error"}
        )
        with pytest.raises(GatewayError) as caught:
            api(server).refund(request())
    assert caught.value.retryable is retryable and "refund_amount_invalid" in str(caught.value)


def test_a_wrong_secret_and_no_answer() -> None:
    with PaymentServer() as server, pytest.raises(GatewayError) as wrong:
        api(server, secret="wrong").refund(request())
    assert not wrong.value.retryable and "authentication" in str(wrong.value).lower()
    with PaymentServer(delay=0.5) as server, pytest.raises(GatewayError) as slow:
        api(server, timeout=0.1).refund(request())
    assert slow.value.retryable
