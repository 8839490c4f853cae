"""Shopify webhooks: orders, fulfillments and fulfillment events, HMAC-signed with the app's client secret.

Sources: shopify.dev/docs/apps/build/webhooks/verify-deliveries (`X-Shopify-Hmac-Sha256`: base64
HMAC-SHA256 of the raw body, keyed with the app's client secret), .../webhooks/delivery-structure (headers
`X-Shopify-Topic`, `X-Shopify-Webhook-Id` — the same on every retry of one delivery, shopify.dev/docs/api/
shopify-app-remix "webhookId … the idempotency key" — `X-Shopify-Event-Id`, `X-Shopify-Triggered-At`),
.../webhooks/ignore-duplicates, the webhook topic reference shopify.dev/docs/api/webhooks (orders/create,
orders/updated, orders/paid, orders/cancelled, fulfillments/create, fulfillments/update,
fulfillment_events/create; bodies are the REST resources), the REST resources Order (orders.py),
Fulfillment (shopify.dev/docs/api/admin-rest/latest/resources/fulfillment: `id`, `order_id`, `status`
pending | open | success | cancelled | error | failure, `shipment_status`, `tracking_company`,
`tracking_number(s)`, `tracking_url(s)`, `created_at`, `updated_at`) and FulfillmentEvent
(.../resources/fulfillmentevent: `id`, `fulfillment_id`, `order_id`, `status`, `message`, `happened_at`,
`city`, `province`, `country`, `estimated_delivery_at`), and the FulfillmentEventStatus enum
(shopify.dev/docs/api/admin-graphql/latest/enums/FulfillmentEventStatus).

Dedupe: on `X-Shopify-Webhook-Id` (one delivery, retried); not on `X-Shopify-Event-Id`, which one event
shares across the topics it triggers (orders/updated and orders/paid for one payment).

A fulfillment event names its order and fulfillment, not the tracking number, so its ShipmentUpdated
carries no AWB and goes to `order:<id>`; the lifecycle applies it to the order's one parcel (and records
it for staff when the order has several). A fulfillment without a tracking number gives the customer
nothing to follow: it is recorded, and the dispatch message waits for the fulfillments/update that adds
one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from orderwire.domain.events import OrderCancelled, PaymentCaptured, ShipmentUpdated
from orderwire.domain.model import ShipmentStatus
from orderwire.integrations.base import (
    Delivery,
    PayloadError,
    Routed,
    body_key,
    day,
    first_moment,
    header,
    header_matches,
    json_object,
    text,
)
from orderwire.integrations.shopify.orders import PHONE_UNUSABLE, placed
from orderwire.integrations.signatures import hmac_sha256_base64

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
ORDER_TOPICS = ("orders/create", "orders/updated")
FULFILLMENT_TOPICS = ("fulfillments/create", "fulfillments/update")

# FulfillmentEventStatus (and a fulfillment's `shipment_status`, which takes the same values).
# A fulfillment exists once the merchant marked the goods shipped (Shopify then sends its own shipping
# confirmation), so "confirmed" and the label states count as dispatched. `picked_up` is the customer
# collecting the parcel. `ready_for_pickup` and `failure` have no canonical meaning: recorded for staff.
SHIPMENT_STATUSES: dict[str, ShipmentStatus | None] = {
    "confirmed": ShipmentStatus.DISPATCHED,
    "label_purchased": ShipmentStatus.DISPATCHED,
    "label_printed": ShipmentStatus.DISPATCHED,
    "carrier_picked_up": ShipmentStatus.DISPATCHED,
    "in_transit": ShipmentStatus.IN_TRANSIT,
    "delayed": ShipmentStatus.IN_TRANSIT,
    "out_for_delivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "attempted_delivery": ShipmentStatus.DELIVERY_FAILED,
    "delivered": ShipmentStatus.DELIVERED,
    "picked_up": ShipmentStatus.DELIVERED,
    "ready_for_pickup": None,
    "failure": None,
}
# A fulfillment's own `status`: only `success` is goods on their way; `cancelled` voids its tracking.
FULFILLMENT_STATUSES: dict[str, ShipmentStatus | None] = {
    "pending": ShipmentStatus.PICKUP_PENDING,
    "open": ShipmentStatus.PICKUP_PENDING,
    "cancelled": ShipmentStatus.CANCELLED,
    "error": None,
    "failure": None,
}


def signature_for(secret: str, raw: bytes) -> str:
    """The header value Shopify would send for this body."""
    return hmac_sha256_base64(secret.encode(), raw)


def shipment_status(raw: str) -> ShipmentStatus | None:
    """The canonical status of a FulfillmentEventStatus (None: recorded only)."""
    return SHIPMENT_STATUSES.get(raw.lower())


class ShopifyWebhook:
    """The Shopify webhook adapter."""

    name = "shopify"

    def verify(self, secret: str, headers: Mapping[str, str], raw: bytes, now: datetime) -> bool:
        """`X-Shopify-Hmac-Sha256` matches the raw body (constant time)."""
        return bool(secret) and header_matches(headers, SIGNATURE_HEADER, signature_for(secret, raw))

    def parse(self, headers: Mapping[str, str], raw: bytes) -> Delivery:
        """The canonical events of one delivery; topics we do not use are noted."""
        topic = header(headers, TOPIC_HEADER).strip()
        body = json_object(raw)
        delivery_id = header(headers, WEBHOOK_ID_HEADER).strip()
        key = f"webhook:{delivery_id}" if delivery_id else body_key(raw)
        if not topic:
            raise PayloadError(f"{TOPIC_HEADER} missing")
        if topic in ORDER_TOPICS:
            event, unusable = placed(body)
            note = PHONE_UNUSABLE if unusable else ""
            return Delivery(key, topic, (Routed(f"order:{event.order.order_id}", event),), note)
        if topic == "orders/paid":
            ref = _order_ref(body, "id")
            paid = PaymentCaptured(first_moment(body, "updated_at", "processed_at", "created_at"))
            return Delivery(key, topic, (Routed(ref, paid),))
        if topic == "orders/cancelled":
            ref = _order_ref(body, "id")
            cancelled = OrderCancelled(
                first_moment(body, "cancelled_at", "updated_at"), text(body, "cancel_reason")
            )
            return Delivery(key, topic, (Routed(ref, cancelled),))
        if topic in FULFILLMENT_TOPICS:
            return _fulfillment(key, topic, body)
        if topic == "fulfillment_events/create":
            return Delivery(key, topic, (_fulfillment_event(body),))
        return Delivery(key, topic, (), f"{topic}: not used")


def _order_ref(body: Mapping[str, Any], field: str) -> str:
    order_id = text(body, field)
    if not order_id:
        raise PayloadError(f"{field} missing")
    return f"order:{order_id}"


def _fulfillment(key: str, topic: str, body: Mapping[str, Any]) -> Delivery:
    order_ref = _order_ref(body, "order_id")
    awb = text(body, "tracking_number") or _first(body, "tracking_numbers")
    if not awb:
        return Delivery(key, topic, (), "fulfillment without a tracking number: nothing to follow yet")
    raw_status = text(body, "shipment_status")
    own = text(body, "status").lower()
    if own in FULFILLMENT_STATUSES:
        status, raw_status = FULFILLMENT_STATUSES[own], raw_status or own
    elif raw_status:
        status = shipment_status(raw_status)
    else:
        status, raw_status = ShipmentStatus.DISPATCHED, own or "success"
    event = ShipmentUpdated(
        awb=awb,
        status=status,
        occurred_at=first_moment(body, "updated_at", "created_at"),
        courier=text(body, "tracking_company"),
        tracking_url=text(body, "tracking_url") or _first(body, "tracking_urls"),
        raw_status=raw_status,
    )
    return Delivery(key, topic, (Routed(f"awb:{awb}", event, order_ref),))


def _fulfillment_event(body: Mapping[str, Any]) -> Routed:
    raw_status = text(body, "status")
    if not raw_status:
        raise PayloadError("status missing")
    place = ", ".join(p for p in (text(body, "city"), text(body, "province"), text(body, "country")) if p)
    status = shipment_status(raw_status)
    message = text(body, "message")
    event = ShipmentUpdated(
        awb="",  # the order's one parcel: a fulfillment event does not carry the tracking number
        status=status,
        occurred_at=first_moment(body, "happened_at", "created_at"),
        edd=day(text(body, "estimated_delivery_at")),
        location=place,
        description=message,
        reason=message if status is ShipmentStatus.DELIVERY_FAILED else "",
        raw_status=raw_status,
    )
    return Routed(_order_ref(body, "order_id"), event)


def _first(body: Mapping[str, Any], key: str) -> str:
    values = body.get(key)
    if isinstance(values, list) and values and isinstance(values[0], (str, int)):
        return str(values[0]).strip()
    return ""


ADAPTER = ShopifyWebhook()
