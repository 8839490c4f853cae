"""Shopify: the HMAC over the raw body, each documented topic read into canonical events."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from orderwire.domain.events import (
    OrderCancelled,
    OrderPlaced,
    PaymentCaptured,
    ShipmentUpdated,
)
from orderwire.domain.lifecycle import Outcome, decide
from orderwire.domain.model import Address, Customer, Item, Money, PaymentMethod, ShipmentStatus, Stage
from orderwire.domain.policy import ShopPolicy
from orderwire.integrations.base import Delivery, PayloadError
from orderwire.integrations.shopify.orders import PHONE_UNUSABLE, is_cod
from orderwire.integrations.shopify.webhook import ADAPTER, SHIPMENT_STATUSES
from tests.support.couriers import fixture, fixture_bytes

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
SECRET = "shpss_client_secret"


def headers(
    topic: str, raw: bytes, secret: str = SECRET, webhook_id: str = "b54557e4-bdd9-4b37"
) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": "demo-shop.myshopify.com",
        "X-Shopify-API-Version": "2025-10",
    }


def parse(topic: str, body: dict[str, Any] | bytes) -> Delivery:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = headers(topic, raw)
    assert ADAPTER.verify(SECRET, h, raw, NOW)
    return ADAPTER.parse(h, raw)


def test_signature_is_base64_hmac_of_the_raw_body() -> None:
    raw = fixture_bytes("shopify", "orders_create_cod.json")
    h = headers("orders/create", raw)
    assert ADAPTER.verify(SECRET, h, raw, NOW)
    assert ADAPTER.verify(SECRET, {k.lower(): v for k, v in h.items()}, raw, NOW)  # any header case
    assert not ADAPTER.verify(SECRET, h, raw.replace(b"1499.00", b"1.00"), NOW)  # tampered body
    assert not ADAPTER.verify("another-secret", h, raw, NOW)
    assert not ADAPTER.verify("", h, raw, NOW)  # unconfigured: nothing passes
    del h["X-Shopify-Hmac-Sha256"]
    assert not ADAPTER.verify(SECRET, h, raw, NOW)


def test_cod_order_created() -> None:
    delivery = parse("orders/create", fixture_bytes("shopify", "orders_create_cod.json"))
    assert delivery.dedupe_key == "webhook:b54557e4-bdd9-4b37" and delivery.topic == "orders/create"
    assert delivery.note == ""
    ((ref, event, fallback),) = delivery.events
    assert (ref, fallback) == ("order:5903728165151", "")
    assert isinstance(event, OrderPlaced)
    order = event.order
    assert (order.order_id, order.number) == ("5903728165151", "#1001")
    assert order.customer == Customer("+919812345678", "Asha Rao", "hi-IN")
    assert order.items == (Item("Cotton Kurta - Indigo / M", 2, Money(149900, "INR"), "KURTA-IND-M"),)
    assert order.total == Money(309800, "INR")
    assert order.address == Address(
        "12 MG Road", "Bengaluru", "560001", "IN", "Near Metro Station", "Karnataka"
    )
    assert order.payment is PaymentMethod.COD and not order.paid
    assert order.placed_at == datetime(2026, 11, 30, 4, 45, 4, tzinfo=UTC)
    assert event.occurred_at == datetime(2026, 11, 30, 4, 45, 5, tzinfo=UTC)


def test_documented_example_keeps_the_order_and_flags_the_phone() -> None:
    delivery = parse("orders/create", fixture("shopify", "orders_create_example.json"))
    assert delivery.note == PHONE_UNUSABLE  # "555-555-SHIP" is not a number
    ((_, event, _),) = delivery.events
    assert isinstance(event, OrderPlaced)
    order = event.order
    assert order.customer.phone == "" and order.customer.name == "Steve Shipper"
    assert order.number == "#9999" and order.total == Money(39800, "USD")
    assert order.payment is PaymentMethod.PREPAID and not order.paid  # visa, bogus; pending
    assert [i.unit_price for i in order.items] == [Money(19900, "USD")] * 2


def test_order_without_any_phone_is_not_noted_as_unreadable() -> None:
    body = fixture("shopify", "orders_create_example.json")
    body["shipping_address"]["phone"] = body["billing_address"]["phone"] = None
    delivery = parse("orders/create", body)
    assert delivery.note == ""


def test_phone_comes_from_the_customer_when_the_address_has_none() -> None:
    delivery = parse("orders/updated", fixture("shopify", "orders_paid.json"))
    ((ref, event, _),) = delivery.events
    assert ref == "order:5903728165152" and isinstance(event, OrderPlaced)
    assert event.order.customer.phone == "+919876543210"
    assert event.order.paid and event.order.payment is PaymentMethod.PREPAID
    assert event.order.total == Money(139900, "INR")


def test_orders_paid_and_cancelled() -> None:
    ((ref, paid, _),) = parse("orders/paid", fixture("shopify", "orders_paid.json")).events
    assert ref == "order:5903728165152"
    assert paid == PaymentCaptured(datetime(2026, 11, 30, 5, 32, 44, tzinfo=UTC))
    ((ref, cancelled, _),) = parse("orders/cancelled", fixture("shopify", "orders_cancelled.json")).events
    assert ref == "order:5903728165151"
    assert cancelled == OrderCancelled(datetime(2026, 11, 30, 7, 10, tzinfo=UTC), "customer")


@pytest.mark.parametrize(
    ("names", "gateway", "financial", "cod"),
    [
        (["Cash on Delivery (COD)"], "Cash on Delivery (COD)", "pending", True),
        (["cash_on_delivery"], "", "pending", True),
        (["COD"], "", "pending", True),
        (["manual"], "manual", "pending", True),  # checkout apps' COD orders
        (["manual"], "manual", "paid", False),
        (["Bank Deposit"], "Bank Deposit", "pending", False),
        (["Razorpay Secure"], "", "paid", False),
        (None, "Cash on Delivery (COD)", "pending", True),  # the deprecated field alone
    ],
)
def test_cash_on_delivery_rule(names: list[str] | None, gateway: str, financial: str, cod: bool) -> None:
    assert is_cod({"payment_gateway_names": names, "gateway": gateway, "financial_status": financial}) is cod


def test_fulfillment_created_is_dispatched_with_tracking() -> None:
    delivery = parse("fulfillments/create", fixture("shopify", "fulfillments_create.json"))
    ((ref, event, fallback),) = delivery.events
    assert (ref, fallback) == ("awb:1490816553312", "order:5903728165151")
    assert event == ShipmentUpdated(
        awb="1490816553312",
        status=ShipmentStatus.DISPATCHED,
        occurred_at=datetime(2026, 12, 1, 4, 0, tzinfo=UTC),
        courier="Delhivery",
        tracking_url="https://www.delhivery.com/track/package/1490816553312",
        raw_status="success",
    )


@pytest.mark.parametrize(
    ("own", "shipment_status", "expected"),
    [
        ("success", "in_transit", ShipmentStatus.IN_TRANSIT),
        ("success", "out_for_delivery", ShipmentStatus.OUT_FOR_DELIVERY),
        ("success", "delivered", ShipmentStatus.DELIVERED),
        ("success", "label_printed", ShipmentStatus.DISPATCHED),
        ("success", "failure", None),
        ("open", None, ShipmentStatus.PICKUP_PENDING),
        ("cancelled", None, ShipmentStatus.CANCELLED),
        ("error", None, None),
    ],
)
def test_fulfillment_updated(own: str, shipment_status: str | None, expected: ShipmentStatus | None) -> None:
    body = {
        **fixture("shopify", "fulfillments_create.json"),
        "status": own,
        "shipment_status": shipment_status,
    }
    ((_, event, _),) = parse("fulfillments/update", body).events
    assert isinstance(event, ShipmentUpdated) and event.status is expected
    assert event.raw_status == (shipment_status or own)


def test_fulfillment_without_tracking_number_waits() -> None:
    body = {**fixture("shopify", "fulfillments_create.json"), "tracking_number": None, "tracking_numbers": []}
    delivery = parse("fulfillments/create", body)
    assert delivery.events == () and "tracking number" in delivery.note


# Every documented FulfillmentEventStatus (GraphQL enum FulfillmentEventStatus, lowercased in REST).
FULFILLMENT_EVENTS: list[tuple[str, ShipmentStatus | None]] = [
    ("attempted_delivery", ShipmentStatus.DELIVERY_FAILED),
    ("carrier_picked_up", ShipmentStatus.DISPATCHED),
    ("confirmed", ShipmentStatus.DISPATCHED),
    ("delayed", ShipmentStatus.IN_TRANSIT),
    ("delivered", ShipmentStatus.DELIVERED),
    ("failure", None),
    ("in_transit", ShipmentStatus.IN_TRANSIT),
    ("label_printed", ShipmentStatus.DISPATCHED),
    ("label_purchased", ShipmentStatus.DISPATCHED),
    ("out_for_delivery", ShipmentStatus.OUT_FOR_DELIVERY),
    ("picked_up", ShipmentStatus.DELIVERED),
    ("ready_for_pickup", None),
]


def test_every_documented_status_is_mapped() -> None:
    assert sorted(SHIPMENT_STATUSES) == [s for s, _ in FULFILLMENT_EVENTS]


@pytest.mark.parametrize(("status", "expected"), FULFILLMENT_EVENTS)
def test_fulfillment_event(status: str, expected: ShipmentStatus | None) -> None:
    body = {**fixture("shopify", "fulfillment_events_create.json"), "status": status}
    ((ref, event, fallback),) = parse("fulfillment_events/create", body).events
    assert (ref, fallback) == ("order:5903728165151", "")
    assert isinstance(event, ShipmentUpdated)
    assert event.awb == "" and event.status is expected and event.raw_status == status
    assert event.occurred_at == datetime(2026, 12, 3, 2, 35, tzinfo=UTC)
    assert event.location == "Bengaluru, Karnataka, India"
    assert event.edd == date(2026, 12, 3)
    assert event.reason == ("Out for delivery from Indiranagar hub" if status == "attempted_delivery" else "")


def test_unused_topic_is_noted() -> None:
    delivery = parse("products/update", fixture_bytes("shopify", "products_update.json"))
    assert delivery.events == () and delivery.note == "products/update: not used"


@pytest.mark.parametrize(
    ("topic", "raw", "reason"),
    [
        ("orders/create", b"<order/>", "not JSON"),
        ("orders/create", b"[]", "not a JSON object"),
        ("", b"{}", "X-Shopify-Topic"),
        ("orders/create", json.dumps({"name": "#1"}).encode(), "order id"),
        ("orders/paid", b"{}", "id missing"),
        ("fulfillment_events/create", json.dumps({"order_id": 1}).encode(), "status"),
    ],
)
def test_malformed_bodies(topic: str, raw: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        ADAPTER.parse(headers(topic, raw), raw)


def test_malformed_order_fields() -> None:
    body = fixture("shopify", "orders_create_cod.json")
    for broken in (
        {"line_items": {"a": 1}},
        {"total_price": "lots", "current_total_price": None},
        {"created_at": "yesterday"},
    ):
        with pytest.raises(PayloadError):
            parse("orders/create", {**copy.deepcopy(body), **broken})
    body["line_items"][0]["quantity"] = "two"
    with pytest.raises(PayloadError, match="quantity"):
        parse("orders/create", body)


def test_fulfillment_event_goes_to_the_orders_one_parcel() -> None:
    policy = ShopPolicy()
    placed = parse("orders/create", fixture("shopify", "orders_create_cod.json")).events[0].event
    assert isinstance(placed, OrderPlaced)
    order = decide(None, placed, NOW, policy).order
    dispatched = parse("fulfillments/create", fixture("shopify", "fulfillments_create.json")).events[0].event
    order = decide(order, dispatched, NOW, policy).order
    ofd = parse("fulfillment_events/create", fixture("shopify", "fulfillment_events_create.json"))
    decision = decide(order, ofd.events[0].event, NOW, policy)
    assert decision.outcome is Outcome.APPLIED and decision.order.stage is Stage.OUT_FOR_DELIVERY
    assert [m.kind.value for m in decision.messages] == ["out_for_delivery"]
    assert decision.order.shipment("1490816553312") is not None
    # With two parcels the event cannot say which: recorded for staff, nothing moves.
    second = dataclasses.replace(dispatched, awb="SECOND-AWB")  # type: ignore[type-var]
    two = decide(order, second, NOW, policy).order
    unclear = decide(two, ofd.events[0].event, NOW, policy)
    assert unclear.outcome is Outcome.IGNORED and unclear.order == two and unclear.alerts
    # Before any fulfillment there is no parcel either.
    early = decide(decide(None, placed, NOW, policy).order, ofd.events[0].event, NOW, policy)
    assert early.outcome is Outcome.IGNORED and early.messages == ()
