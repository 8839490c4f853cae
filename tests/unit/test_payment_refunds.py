"""Refunds: which gateway is used, what it is asked, and what a captured payment teaches the order."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from orderwire.app import refunds, vendors
from orderwire.app.ports import RefundRequest, VendorError
from orderwire.domain.events import PaymentCaptured
from orderwire.domain.lifecycle import MessageKind, Outcome, decide
from orderwire.domain.policy import ShopPolicy
from orderwire.settings import Settings
from tests.support.payment_servers import CASHFREE_KEY, RAZORPAY_KEY, STRIPE_KEY, PaymentServer
from tests.unit.factories import T0, order

POLICY = ShopPolicy()
RAZORPAY = {"razorpay_key_id": RAZORPAY_KEY[0], "razorpay_key_secret": SecretStr(RAZORPAY_KEY[1])}
STRIPE = {"stripe_secret_key": SecretStr(STRIPE_KEY)}
CASHFREE = {"cashfree_client_id": CASHFREE_KEY[0], "cashfree_client_secret": SecretStr(CASHFREE_KEY[1])}


def settings(**values: object) -> Settings:
    return Settings(database_url="sqlite://", **values)  # type: ignore[arg-type]


def test_no_gateway_without_api_keys() -> None:
    assert vendors.payments(settings()) is None
    # A webhook secret alone does not make the refund API usable.
    assert vendors.payments(settings(stripe_webhook_secret=SecretStr("whsec_1"))) is None
    assert vendors.payments(settings(razorpay_key_id="rzp_test_only_id")) is None


def test_first_configured_gateway_unless_one_is_named() -> None:
    assert getattr(vendors.payments(settings(**STRIPE, **CASHFREE)), "name", "") == "stripe"
    assert getattr(vendors.payments(settings(**RAZORPAY, **STRIPE)), "name", "") == "razorpay"
    chosen = vendors.payments(settings(**RAZORPAY, **CASHFREE, payment_gateway="cashfree"))
    assert getattr(chosen, "name", "") == "cashfree"
    assert vendors.payments(settings(**RAZORPAY, payment_gateway="stripe")) is None  # named, not configured


def test_gateway_refusals_are_vendor_errors() -> None:
    with PaymentServer() as server:
        gateway = vendors.payments(settings(**RAZORPAY, razorpay_api_url=server.url))
        assert gateway is not None
        request = RefundRequest("pay_DESp9bgForNoUd", 100, "INR", "refund-key-0001")
        assert gateway.refund(request).startswith("rfnd_")
        server.fail_next(
            400, {"error": {"code": "BAD_REQUEST_ERROR", "description": "fully refunded already"}}
        )
        with pytest.raises(VendorError) as refused:
            gateway.refund(request)
        server.fail_next(503, {})
        with pytest.raises(VendorError) as busy:
            gateway.refund(request)
    assert not refused.value.retryable and "fully refunded already" in str(refused.value)
    assert busy.value.retryable


def test_refund_request_from_payload_and_order_references() -> None:
    refs = {"cashfree_order": "shop-1001", "cashfree_payment": "1453002795", "payment": "1453002795"}
    payload = {"order_pk": 7, "amount_minor": "50000", "currency": "INR", "reason": "damaged"}
    asked = refunds.request_for("cashfree", payload, refs)
    assert (asked.payment_ref, asked.amount_minor, asked.currency, asked.reason) == (
        "1453002795",
        50000,
        "INR",
        "damaged",
    )
    assert asked.gateway_order == "shop-1001"
    assert asked.idempotency_key == refunds.request_for("cashfree", payload, refs).idempotency_key
    other = refunds.request_for("cashfree", {**payload, "amount_minor": "40000"}, refs)
    assert other.idempotency_key != asked.idempotency_key
    named = refunds.request_for(
        "cashfree", {**payload, "payment_ref": "999", "idempotency_key": "call:7:rfnd:1"}, refs
    )
    assert (named.payment_ref, named.idempotency_key) == ("999", "call:7:rfnd:1")
    stripe = refunds.request_for(
        "stripe", payload, {"stripe_payment_intent": "pi_1", "stripe_session": "cs_1"}
    )
    assert stripe.payment_ref == "pi_1" and stripe.gateway_order == ""


def test_a_capture_teaches_the_order_the_gateway_references_once() -> None:
    refs = {"razorpay_payment": "pay_1", "razorpay_order": "order_1"}
    first = decide(order(), PaymentCaptured(T0, "pay_1", refs), T0, POLICY)
    assert first.outcome is Outcome.APPLIED and [m.kind for m in first.messages] == [MessageKind.CONFIRMATION]
    assert first.order.references == {**refs, "payment": "pay_1"}
    # The same payment again (order.paid after payment.captured) sends nothing, but may add what it knows.
    again = decide(
        first.order, PaymentCaptured(T0, "pay_1", {"razorpay_payment": "pay_2", "extra": "x"}), T0, POLICY
    )
    assert again.outcome is Outcome.DUPLICATE and again.messages == ()
    assert again.order.references == {**refs, "payment": "pay_1", "extra": "x"}  # known ones are kept
    unchanged = decide(first.order, PaymentCaptured(T0, "pay_1", refs), T0, POLICY)
    assert unchanged.order == first.order
