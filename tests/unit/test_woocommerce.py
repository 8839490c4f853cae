"""WooCommerce: the HMAC over the raw body, the unsigned ping, each order status read into events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from orderwire.domain.events import OrderCancelled, OrderPlaced, PaymentFailed, RefundUpdated
from orderwire.domain.model import Address, Customer, Item, Money, PaymentMethod
from orderwire.integrations.base import Delivery, PayloadError
from orderwire.integrations.woocommerce.orders import PHONE_UNUSABLE
from orderwire.integrations.woocommerce.webhook import ADAPTER, ping
from tests.support.couriers import fixture, fixture_bytes

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
SECRET = "wc-webhook-secret"
DELIVERY_ID = "0b4f5f5f7d3c2c7f6bb2f3a8c1a0e9d1"


def headers(topic: str, raw: bytes, secret: str = SECRET, delivery_id: str = DELIVERY_ID) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
        "X-WC-Webhook-Source": "https://shop.example/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.split(".")[-1],
        "X-WC-Webhook-Signature": digest,
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery_id,
    }


def parse(topic: str, body: dict[str, Any] | bytes) -> Delivery:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = headers(topic, raw)
    assert ADAPTER.verify(SECRET, h, raw, NOW)
    return ADAPTER.parse(h, raw)


def paid_order() -> dict[str, Any]:
    """The pending prepaid order after the gateway confirmed payment."""
    return {
        **fixture("woocommerce", "order_prepaid_pending.json"),
        "status": "processing",
        "transaction_id": "pay_29QQoUBi66xm2f",
        "date_paid_gmt": "2026-11-30T05:33:10",
        "date_modified_gmt": "2026-11-30T05:33:11",
    }


def test_signature_is_base64_hmac_of_the_raw_body() -> None:
    raw = fixture_bytes("woocommerce", "order_cod_processing.json")
    h = headers("order.created", raw)
    assert ADAPTER.verify(SECRET, h, raw, NOW)
    assert not ADAPTER.verify(SECRET, h, raw.replace(b"3098.00", b"1.00"), NOW)  # tampered body
    assert not ADAPTER.verify("another-secret", h, raw, NOW)
    assert not ADAPTER.verify("", h, raw, NOW)
    del h["X-WC-Webhook-Signature"]
    assert not ADAPTER.verify(SECRET, h, raw, NOW)


def test_ping_exactly_as_woocommerce_sends_it() -> None:
    ua = {"User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"}
    found = ping({**ua, "Content-Type": "application/x-www-form-urlencoded"}, b"webhook_id=12")
    assert found == Delivery("ping:12", "ping", (), "webhook 12 created (unsigned ping)")
    # Anything else is not the ping and must be signed.
    for other in (b"webhook_id=12&x=1", b"webhook_id=", b"webhook_id=abc", b'{"webhook_id": 12}', b""):
        assert ping(ua, other) is None
    assert ping({**ua, "X-WC-Webhook-Signature": "x"}, b"webhook_id=12") is None


def test_cod_order_created() -> None:
    delivery = parse("order.created", fixture_bytes("woocommerce", "order_cod_processing.json"))
    digest = hashlib.sha256(fixture_bytes("woocommerce", "order_cod_processing.json")).hexdigest()[:32]
    assert delivery.dedupe_key == f"delivery:{DELIVERY_ID}:{digest}"
    ((ref, event, _),) = delivery.events
    assert ref == "order:727" and isinstance(event, OrderPlaced) and delivery.note == ""
    order = event.order
    assert (order.order_id, order.number) == ("727", "#727")
    assert order.customer == Customer("+919812345678", "Asha Rao")  # billing phone: shipping has none
    assert order.items == (Item("Cotton Kurta - Indigo, M", 2, Money(149900, "INR"), "KURTA-IND-M"),)
    assert order.total == Money(309800, "INR")
    assert order.address == Address("12 MG Road", "Bengaluru", "560001", "IN", "Near Metro Station", "KA")
    # WooCommerce stamps date_paid on COD orders reaching processing; no money moved.
    assert order.payment is PaymentMethod.COD and not order.paid and order.references == {}
    assert order.placed_at == datetime(2026, 11, 30, 4, 45, 4, tzinfo=UTC)
    assert event.occurred_at == datetime(2026, 11, 30, 4, 45, 6, tzinfo=UTC)


def test_pending_then_paid() -> None:
    pending = parse("order.created", fixture("woocommerce", "order_prepaid_pending.json"))
    ((_, event, _),) = pending.events
    assert isinstance(event, OrderPlaced) and not event.order.paid
    assert event.order.payment is PaymentMethod.PREPAID
    assert event.order.customer.phone == "+919876543210"  # the shipping phone, 0-prefixed
    assert event.order.items[0].unit_price == Money(129899, "INR")  # 1298.9899999999998
    assert event.order.total == Money(139899, "INR")
    ((ref, paid, _),) = parse("order.updated", paid_order()).events
    assert ref == "order:728" and isinstance(paid, OrderPlaced)
    assert paid.order.paid and paid.order.references == {"payment": "pay_29QQoUBi66xm2f"}


def test_completed_says_nothing_about_delivery() -> None:
    ((_, event, _),) = parse("order.updated", {**paid_order(), "status": "completed"}).events
    assert isinstance(event, OrderPlaced)


def test_cancelled_failed_refunded() -> None:
    base = fixture("woocommerce", "order_prepaid_pending.json")
    at = datetime(2026, 11, 30, 5, 32, 41, tzinfo=UTC)
    (cancel,) = parse("order.updated", {**base, "status": "cancelled"}).events
    assert cancel.ref == "order:728" and cancel.event == OrderCancelled(at, "cancelled in WooCommerce")
    placed, failed = parse("order.updated", {**base, "status": "failed"}).events
    assert isinstance(placed.event, OrderPlaced)
    assert failed.event == PaymentFailed(at, "", "payment failed", base["payment_url"])
    refunds = [{"id": 731, "reason": "damaged in transit", "total": "-1398.99"}]
    placed, refund = parse("order.updated", {**paid_order(), "status": "refunded", "refunds": refunds}).events
    assert refund.event == RefundUpdated(
        occurred_at=datetime(2026, 11, 30, 5, 33, 11, tzinfo=UTC),
        refund_ref="731",
        status="processed",
        amount_minor=139899,
        currency="INR",
        reason="damaged in transit",
    )


def test_unknown_status_and_unusable_phone_are_noted() -> None:
    body = fixture("woocommerce", "order_cod_processing.json")
    body["status"] = "ready-to-ship"  # a plugin's own status
    body["billing"]["phone"] = "12345"
    delivery = parse("order.updated", body)
    ((_, event, _),) = delivery.events
    assert isinstance(event, OrderPlaced) and event.order.customer.phone == ""
    assert delivery.note == f"{PHONE_UNUSABLE}; status 'ready-to-ship': order details only"


@pytest.mark.parametrize(
    "topic", ["product.updated", "customer.created", "order.deleted", "action.woocommerce_add_to_cart"]
)
def test_unused_topics_are_noted(topic: str) -> None:
    delivery = parse(topic, {"id": 93})
    assert delivery.events == () and delivery.note == f"{topic}: not used"


def test_same_delivery_id_with_another_body_is_another_delivery() -> None:
    """WooCommerce's delivery id is wp_hash(webhook id . second): it repeats within one second."""
    a = parse("order.updated", fixture("woocommerce", "order_cod_processing.json"))
    b = parse("order.updated", paid_order())
    assert a.dedupe_key != b.dedupe_key and a.dedupe_key.startswith(f"delivery:{DELIVERY_ID}:")


@pytest.mark.parametrize(
    ("topic", "raw", "reason"),
    [
        ("order.created", b"webhook_id=12", "not JSON"),  # signed, so not the ping: a bad body
        ("", b"{}", "X-WC-Webhook-Topic"),
        ("order.updated", b'{"status": "cancelled"}', "order id"),
        (
            "order.created",
            json.dumps({"id": 1, "date_created_gmt": "2026-11-30T05:32:40", "line_items": "x"}).encode(),
            "line_items",
        ),
        ("order.created", json.dumps({"id": 1}).encode(), "date_modified_gmt or date_created_gmt missing"),
    ],
)
def test_malformed_bodies(topic: str, raw: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(headers(topic, raw), raw)
