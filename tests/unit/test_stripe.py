"""Stripe: the timestamped signature, the documented events as canonical events, the refund API."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orderwire.app.ports import RefundRequest
from orderwire.domain.events import PaymentCaptured, PaymentFailed, RefundUpdated
from orderwire.integrations.base import PayloadError, Routed
from orderwire.integrations.gateway import GatewayError
from orderwire.integrations.stripe.api import StripeRefunds
from orderwire.integrations.stripe.webhook import ADAPTER, signature_for
from tests.support.couriers import fixture, fixture_bytes
from tests.support.payment_servers import STRIPE_KEY, PaymentServer

SECRET = "whsec_test_8d7f0a2b4c6e"
NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
T = int(NOW.timestamp())
RAW = fixture_bytes("stripe", "payment_intent_succeeded.json")
INTENT = "pi_3MtwBwLkdIwHu7ix28a3tqPa"


def parse(name: str) -> Any:
    raw = fixture_bytes("stripe", name)
    return ADAPTER.parse({"Stripe-Signature": signature_for(SECRET, raw, T)}, raw)


def test_signature_is_hmac_of_timestamp_dot_body() -> None:
    v1 = hmac.new(SECRET.encode(), f"{T}.".encode() + RAW, hashlib.sha256).hexdigest()
    assert ADAPTER.verify(SECRET, {"stripe-signature": f"t={T},v1={v1}"}, RAW, NOW)
    assert signature_for(SECRET, RAW, T) == f"t={T},v1={v1}"


def test_any_v1_may_match_and_v0_is_ignored() -> None:
    good = signature_for(SECRET, RAW, T).split(",")[1]
    rolled = f"t={T},v1={'0' * 64},{good},v0={'1' * 64}"  # during secret rotation Stripe sends two v1
    assert ADAPTER.verify(SECRET, {"Stripe-Signature": rolled}, RAW, NOW)
    v0_only = f"t={T},v0={good.removeprefix('v1=')}"
    assert not ADAPTER.verify(SECRET, {"Stripe-Signature": v0_only}, RAW, NOW)


def test_tampered_body_wrong_secret_and_missing_header_fail() -> None:
    headers = {"Stripe-Signature": signature_for(SECRET, RAW, T)}
    assert not ADAPTER.verify(SECRET, headers, RAW + b" ", NOW)
    assert not ADAPTER.verify("whsec_other", headers, RAW, NOW)
    assert not ADAPTER.verify(SECRET, {}, RAW, NOW)
    assert not ADAPTER.verify(SECRET, {"Stripe-Signature": "v1=abc"}, RAW, NOW)  # no timestamp
    assert not ADAPTER.verify("", headers, RAW, NOW)


@pytest.mark.parametrize(
    ("offset", "ok"), [(-300, True), (300, True), (-301, False), (301, False), (-86400, False)]
)
def test_timestamps_more_than_five_minutes_away_fail(offset: int, ok: bool) -> None:
    headers = {"Stripe-Signature": signature_for(SECRET, RAW, T + offset)}
    assert ADAPTER.verify(SECRET, headers, RAW, NOW) is ok
    # The signature is for its own timestamp: moving the time in the header breaks it.
    forged = headers["Stripe-Signature"].replace(f"t={T + offset}", f"t={T}")
    assert not ADAPTER.verify(SECRET, {"Stripe-Signature": forged}, RAW, NOW)


def test_checkout_session_completed_names_the_shop_order_by_client_reference_id() -> None:
    delivery = parse("checkout_session_completed.json")
    assert delivery.dedupe_key == "event:evt_1QCheckoutCompleted0001"
    captured = PaymentCaptured(
        datetime.fromtimestamp(1764230100, UTC),
        INTENT,
        {"stripe_session": "cs_test_a1b2c3d4e5f6g7h8i9j0", "stripe_payment_intent": INTENT},
    )
    assert delivery.events == (
        Routed("order:shop-1001", captured, "stripe_session:cs_test_a1b2c3d4e5f6g7h8i9j0"),
    )


def test_an_unpaid_checkout_session_is_noted_only() -> None:
    delivery = parse("checkout_session_completed_unpaid.json")
    assert delivery.events == () and "not paid yet" in delivery.note


def test_payment_intent_succeeded_reads_metadata_order_id() -> None:
    (routed,) = parse("payment_intent_succeeded.json").events
    captured = PaymentCaptured(
        datetime.fromtimestamp(1764230101, UTC), INTENT, {"stripe_payment_intent": INTENT}
    )
    assert routed == Routed("order:shop-1001", captured, f"stripe_payment_intent:{INTENT}")


def test_without_metadata_the_payment_intent_names_the_order() -> None:
    body = fixture("stripe", "payment_intent_succeeded.json")
    body["data"]["object"]["metadata"] = {}
    raw = json.dumps(body).encode()
    (routed,) = ADAPTER.parse({}, raw).events
    assert (routed.ref, routed.fallback) == (f"stripe_payment_intent:{INTENT}", "")


def test_payment_failed_carries_the_last_payment_error() -> None:
    (routed,) = parse("payment_intent_payment_failed.json").events
    failed = PaymentFailed(
        datetime.fromtimestamp(1764230060, UTC),
        "pi_3MtwFailedLkdIwHu7ix1",
        "Your card has insufficient funds.",
    )
    assert routed == Routed("order:shop-1001", failed, "stripe_payment_intent:pi_3MtwFailedLkdIwHu7ix1")


def test_refund_updated_carries_the_arn() -> None:
    (routed,) = parse("refund_updated.json").events
    assert routed == Routed(
        f"stripe_payment_intent:{INTENT}",
        RefundUpdated(
            occurred_at=datetime.fromtimestamp(1764400500, UTC),
            refund_ref="re_3MtwBwLkdIwHu7ix0KoGdXy1",
            status="processed",
            amount_minor=500000,
            currency="INR",
            payment_ref=INTENT,
            bank_ref="74836223127060283542861",
        ),
        "",
    )


@pytest.mark.parametrize(
    ("stripe_status", "ours"),
    [
        ("pending", "pending"),
        ("requires_action", "pending"),
        ("succeeded", "processed"),
        ("failed", "failed"),
        ("canceled", "failed"),
    ],
)
def test_refund_statuses(stripe_status: str, ours: str) -> None:
    body = fixture("stripe", "refund_updated.json")
    body["data"]["object"]["status"] = stripe_status
    raw = json.dumps(body).encode()
    (routed,) = ADAPTER.parse({}, raw).events
    assert isinstance(routed.event, RefundUpdated) and routed.event.status == ours


def test_charge_refunded_without_a_refund_list_reports_the_refunded_total() -> None:
    (routed,) = parse("charge_refunded.json").events
    assert routed.ref == f"stripe_payment_intent:{INTENT}" and routed.fallback == "order:shop-1001"
    assert isinstance(routed.event, RefundUpdated)
    assert (routed.event.refund_ref, routed.event.status, routed.event.amount_minor) == (
        "ch_3MtwBwLkdIwHu7ix28a3tqPb",
        "processed",
        500000,
    )


def test_charge_refunded_with_its_refund_list_reports_each_refund() -> None:
    (routed,) = parse("charge_refunded_2022_08_01.json").events
    assert isinstance(routed.event, RefundUpdated)
    assert (routed.event.refund_ref, routed.event.status, routed.event.bank_ref) == (
        "re_3MtwBwLkdIwHu7ix0KoGdXy1",
        "pending",
        "",
    )
    assert routed.fallback == "order:shop-1001"  # the charge's metadata


def test_events_we_do_not_use_are_noted_without_events() -> None:
    delivery = parse("customer_created.json")
    assert delivery.events == () and delivery.note == "customer.created: not used"
    assert delivery.dedupe_key == "event:evt_1NG8Du2eZvKYlo2CUI79vXWy"


def test_a_refund_naming_nothing_we_know_is_noted() -> None:
    body = fixture("stripe", "refund_updated.json")
    body["data"]["object"]["payment_intent"] = None
    delivery = ADAPTER.parse({}, json.dumps(body).encode())
    assert delivery.events == () and "names no order or payment" in delivery.note


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b'{"type": "charge.refunded"}',
        b'{"id": "evt_1", "type": "refund.updated", "created": 1, "data": []}',
    ],
)
def test_bodies_not_in_stripe_shape_are_payload_errors(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        ADAPTER.parse({}, raw)


def request(key: str = "call:shop-1001:refund:1", ref: str = INTENT) -> RefundRequest:
    return RefundRequest(ref, 500000, "INR", key, "Item returned")


def test_refund_request_as_documented() -> None:
    with PaymentServer() as server:
        refund_id = StripeRefunds(server.url, STRIPE_KEY).refund(request())
    (sent,) = server.requests
    assert refund_id.startswith("re_")
    assert (sent.method, sent.path) == ("POST", "/v1/refunds")
    assert sent.headers["authorization"] == f"Bearer {STRIPE_KEY}"
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent.headers["idempotency-key"] == "call:shop-1001:refund:1"  # Stripe takes any key up to 255
    assert sent.form() == {"payment_intent": INTENT, "amount": "500000", "metadata[reason]": "Item returned"}


def test_a_charge_is_refunded_by_charge() -> None:
    with PaymentServer() as server:
        StripeRefunds(server.url, STRIPE_KEY).refund(request(ref="ch_3MtwBwLkdIwHu7ix28a3tqPb"))
    assert server.requests[0].form()["charge"] == "ch_3MtwBwLkdIwHu7ix28a3tqPb"


def test_a_retried_refund_is_made_once() -> None:
    with PaymentServer() as server:
        api = StripeRefunds(server.url, STRIPE_KEY)
        first, again, other = api.refund(request()), api.refund(request()), api.refund(request("call:2"))
    assert first == again != other
    assert server.requests[0].headers["idempotency-key"] == server.requests[1].headers["idempotency-key"]


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (402, False), (404, False), (409, True), (429, True), (500, True)]
)
def test_refusals_say_whether_to_retry(status: int, retryable: bool) -> None:
    with PaymentServer() as server:
        server.fail_next(
            status,
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "charge_already_refunded",
                    "message": "scripted",
                }
            },
        )
        with pytest.raises(GatewayError) as caught:
            StripeRefunds(server.url, STRIPE_KEY).refund(request())
    assert caught.value.retryable is retryable and "charge_already_refunded" in str(caught.value)


def test_a_wrong_key_and_no_answer() -> None:
    with PaymentServer() as server, pytest.raises(GatewayError) as wrong:
        StripeRefunds(server.url, "sk_test_wrong").refund(request())
    assert not wrong.value.retryable and "Invalid API Key" in str(wrong.value)
    with PaymentServer(delay=0.5) as server, pytest.raises(GatewayError) as slow:
        StripeRefunds(server.url, STRIPE_KEY, timeout=0.1).refund(request())
    assert slow.value.retryable


def test_timestamps_near_the_limit_use_the_given_now() -> None:
    later = NOW + timedelta(seconds=299)
    assert ADAPTER.verify(SECRET, {"Stripe-Signature": signature_for(SECRET, RAW, T)}, RAW, later)
