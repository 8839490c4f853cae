"""Razorpay webhooks: payments, orders and refunds, HMAC-signed with the webhook secret.

Sources: razorpay.com/docs/webhooks/validate-test (`X-Razorpay-Signature` = hex HMAC-SHA256 of the raw
body with the webhook secret, not the API key secret), razorpay.com/docs/payments/payment-gateway/
s2s-integration/test-s2s/best-practices/webhooks-and-fetch-apis ("ignore duplicates using the
x-razorpay-event-id header"), razorpay.com/docs/webhooks/payments (payment.captured, payment.failed:
`payload.payment.entity` with `id`, `order_id`, `amount` in paise, `notes` (an object, or `[]` when
empty), `error_description`), razorpay.com/docs/webhooks/orders (order.paid: `payload.order.entity` too)
and razorpay.com/docs/webhooks/refunds (refund.created / processed / failed: `payload.refund.entity`
with `id`, `payment_id`, `amount`, `acquirer_data.arn` / `rrn`, and the payment entity beside it).
The envelope is `{"entity": "event", "event", "contains", "payload", "created_at"}`.

The shop's order id is read from the payment's (else the order's) notes: `order_id`,
`woocommerce_order_id` (Razorpay's WooCommerce plugin) or `shopify_order_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from orderwire.domain.events import PaymentCaptured, PaymentFailed, RefundUpdated
from orderwire.integrations.base import (
    Delivery,
    PayloadError,
    Routed,
    body_key,
    header,
    header_matches,
    json_object,
    text,
)
from orderwire.integrations.gateway import Unroutable, at_unix, loose_mapping, route, shop_order_id, whole
from orderwire.integrations.signatures import hmac_sha256_hex

SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "x-razorpay-event-id"
CAPTURED = ("payment.captured", "order.paid")
REFUND_STATUS = {"refund.created": "pending", "refund.processed": "processed", "refund.failed": "failed"}


def signature_for(secret: str, raw: bytes) -> str:
    """The header value Razorpay would send for this body."""
    return hmac_sha256_hex(secret.encode(), raw)


class RazorpayWebhook:
    """The Razorpay webhook adapter."""

    name = "razorpay"

    def verify(self, secret: str, headers: Mapping[str, str], raw: bytes, now: datetime) -> bool:
        """`X-Razorpay-Signature` matches the raw body (constant time)."""
        return bool(secret) and header_matches(headers, SIGNATURE_HEADER, signature_for(secret, raw))

    def parse(self, headers: Mapping[str, str], raw: bytes) -> Delivery:
        """Captures, failures and refunds as canonical events; other events are noted."""
        body = json_object(raw)
        event = text(body, "event")
        if not event:
            raise PayloadError("event is required")
        payload = loose_mapping(body, "payload")
        payment = _entity(payload, "payment")
        refund = _entity(payload, "refund")
        subject = text(refund, "id") or text(payment, "id") or text(_entity(payload, "order"), "id")
        event_id = header(headers, EVENT_ID_HEADER) or text(body, "id")
        key = f"event:{event_id}" if event_id else (f"{event}:{subject}" if subject else body_key(raw))
        try:
            return _delivery(key, event, body, payload, payment, refund)
        except Unroutable as exc:
            return Delivery(key, event, (), f"{event}: {exc}")


def _delivery(
    key: str,
    event: str,
    body: Mapping[str, Any],
    payload: Mapping[str, Any],
    payment: Mapping[str, Any],
    refund: Mapping[str, Any],
) -> Delivery:
    if event in CAPTURED or event == "payment.failed":
        if not text(payment, "id"):
            raise PayloadError("payload.payment.entity.id missing")
        occurred = at_unix(body.get("created_at", payment.get("created_at")))
        return Delivery(key, event, (_payment_event(event, payment, _entity(payload, "order"), occurred),))
    if event in REFUND_STATUS:
        if not text(refund, "id"):
            raise PayloadError("payload.refund.entity.id missing")
        occurred = at_unix(body.get("created_at", refund.get("created_at")))
        return Delivery(key, event, (_refund_event(event, refund, payment, occurred),))
    return Delivery(key, event, (), f"{event}: not used")


def _entity(payload: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return loose_mapping(loose_mapping(payload, name), "entity")


def _payment_event(
    event: str, payment: Mapping[str, Any], order: Mapping[str, Any], occurred: datetime
) -> Routed:
    pay_id, rzp_order = text(payment, "id"), text(payment, "order_id") or text(order, "id")
    shop_id = shop_order_id(loose_mapping(payment, "notes"), loose_mapping(order, "notes"))
    ref, fallback = route(f"order:{shop_id}", f"razorpay_order:{rzp_order}", f"razorpay_payment:{pay_id}")
    if event == "payment.failed":
        reason = text(payment, "error_description") or text(payment, "error_reason")
        return Routed(ref, PaymentFailed(occurred, pay_id, reason), fallback)
    references = {"razorpay_payment": pay_id, "razorpay_order": rzp_order}
    captured = PaymentCaptured(occurred, pay_id, {k: v for k, v in references.items() if v})
    return Routed(ref, captured, fallback)


def _refund_event(
    event: str, refund: Mapping[str, Any], payment: Mapping[str, Any], occurred: datetime
) -> Routed:
    pay_id = text(refund, "payment_id") or text(payment, "id")
    shop_id = shop_order_id(loose_mapping(payment, "notes"))
    ref, fallback = route(
        f"razorpay_payment:{pay_id}", f"order:{shop_id}", f"razorpay_order:{text(payment, 'order_id')}"
    )
    bank = loose_mapping(refund, "acquirer_data")
    updated = RefundUpdated(
        occurred_at=occurred,
        refund_ref=text(refund, "id"),
        status=REFUND_STATUS[event],
        amount_minor=whole(refund.get("amount")),
        currency=text(refund, "currency"),
        payment_ref=pay_id,
        bank_ref=text(bank, "arn") or text(bank, "rrn") or text(bank, "utr"),
    )
    return Routed(ref, updated, fallback)


ADAPTER = RazorpayWebhook()
