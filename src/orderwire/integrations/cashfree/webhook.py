"""Cashfree Payments (PG) webhooks: payment and refund notices signed with the PG client secret.

Sources: cashfree.com/docs/payments/online/webhooks/signature-verification (`x-webhook-signature` =
Base64(HMAC-SHA256(x-webhook-timestamp + raw body, client secret)); the timestamp is in milliseconds,
e.g. 1617695238078), cashfree.com/docs/api-reference/payments/latest/payments/webhooks (headers
`x-webhook-attempt`, `x-idempotency-key`, `x-webhook-version`; bodies `{"data": {"order", "payment",
"customer_details", "error_details", "payment_gateway_details"}, "event_time", "type"}` with types
PAYMENT_SUCCESS_WEBHOOK, PAYMENT_FAILED_WEBHOOK, PAYMENT_USER_DROPPED_WEBHOOK) and
cashfree.com/docs/api-reference/payments/latest/refunds/webhooks (REFUND_STATUS_WEBHOOK and
AUTO_REFUND_STATUS_WEBHOOK: `data.refund` with `cf_refund_id`, `cf_payment_id`, `refund_id`, `order_id`,
`refund_amount` in rupees, `refund_status` SUCCESS | PENDING | CANCELLED | ONHOLD, `refund_arn`,
`status_description`).

Cashfree documents no tolerance for the signed timestamp; we refuse one more than 5 minutes from our
clock (TOLERANCE_SECONDS), as Stripe does, so a captured delivery cannot be replayed later.
Dedupe: the documented `x-idempotency-key` header; without it (older webhook versions) the payment or
refund id with the type and status.
`data.order.order_id` is the merchant's own order id: we take it as the shop's order id unless the
order tags name one (`order_id`, `woocommerce_order_id`, `shopify_order_id`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from orderwire.domain.events import PaymentCaptured, PaymentFailed, RefundUpdated
from orderwire.integrations.base import (
    IST,
    Delivery,
    PayloadError,
    Routed,
    body_key,
    header,
    json_object,
    mapping,
    moment,
    text,
)
from orderwire.integrations.gateway import Unroutable, loose_mapping, minor_units, route, shop_order_id
from orderwire.integrations.signatures import equal, hmac_sha256_base64

SIGNATURE_HEADER = "x-webhook-signature"
TIMESTAMP_HEADER = "x-webhook-timestamp"
IDEMPOTENCY_HEADER = "x-idempotency-key"
TOLERANCE_SECONDS = 300
SUCCESS = "PAYMENT_SUCCESS_WEBHOOK"
FAILED = "PAYMENT_FAILED_WEBHOOK"
DROPPED = "PAYMENT_USER_DROPPED_WEBHOOK"
REFUNDS = ("REFUND_STATUS_WEBHOOK", "AUTO_REFUND_STATUS_WEBHOOK")
REFUND_STATUS = {
    "SUCCESS": "processed",
    "PENDING": "pending",
    "ONHOLD": "pending",
    "CANCELLED": "failed",
    "FAILED": "failed",
}


def signature_for(secret: str, raw: bytes, timestamp: str) -> str:
    """The `x-webhook-signature` Cashfree would send for this body and timestamp."""
    return hmac_sha256_base64(secret.encode(), timestamp.encode() + raw)


class CashfreeWebhook:
    """The Cashfree Payments webhook adapter."""

    name = "cashfree"

    def verify(self, secret: str, headers: Mapping[str, str], raw: bytes, now: datetime) -> bool:
        """The signature over timestamp + raw body matches, and the timestamp is within 5 minutes."""
        stamp, presented = header(headers, TIMESTAMP_HEADER).strip(), header(headers, SIGNATURE_HEADER)
        if not (secret and stamp.isdigit() and presented):
            return False
        seconds = int(stamp) / 1000 if len(stamp) > 11 else int(stamp)  # documented in milliseconds
        if abs(now.timestamp() - seconds) > TOLERANCE_SECONDS:
            return False
        return equal(presented, signature_for(secret, raw, stamp))

    def parse(self, headers: Mapping[str, str], raw: bytes) -> Delivery:
        """Payments captured or failed and refund updates as canonical events; others are noted."""
        body = json_object(raw)
        kind = text(body, "type")
        if not kind:
            raise PayloadError("type is required")
        data = mapping(body, "data")
        payment, refund = loose_mapping(data, "payment"), loose_mapping(data, "refund")
        key = _dedupe_key(headers, kind, payment, refund) or body_key(raw)
        try:
            events = _events(kind, data, payment, refund, text(body, "event_time"))
        except Unroutable as exc:
            return Delivery(key, kind, (), f"{kind}: {exc}")
        if events is None:
            return Delivery(key, kind, (), f"{kind}: {'recorded' if kind == DROPPED else 'not used'}")
        return Delivery(key, kind, events)


def _dedupe_key(
    headers: Mapping[str, str], kind: str, payment: Mapping[str, Any], refund: Mapping[str, Any]
) -> str:
    if idempotency := header(headers, IDEMPOTENCY_HEADER).strip():
        return f"idempotency:{idempotency}"
    if refund_id := text(refund, "cf_refund_id") or text(refund, "refund_id"):
        return f"{kind}:{refund_id}:{text(refund, 'refund_status')}"
    if payment_id := text(payment, "cf_payment_id"):
        return f"{kind}:{payment_id}"
    return ""


def _events(
    kind: str, data: Mapping[str, Any], payment: Mapping[str, Any], refund: Mapping[str, Any], at: str
) -> tuple[Routed, ...] | None:
    if kind in (SUCCESS, FAILED):
        payment_id = text(payment, "cf_payment_id")
        if not payment_id:
            raise PayloadError("data.payment.cf_payment_id missing")
        occurred = moment(at or text(payment, "payment_time"), IST)
        return (_payment_event(kind, loose_mapping(data, "order"), payment, data, occurred),)
    if kind in REFUNDS:
        if not (text(refund, "refund_id") or text(refund, "cf_refund_id")):
            raise PayloadError("data.refund.refund_id missing")
        occurred = moment(at or text(refund, "processed_at") or text(refund, "created_at"), IST)
        return (_refund_event(refund, occurred),)
    return None


def _payment_event(
    kind: str, order: Mapping[str, Any], payment: Mapping[str, Any], data: Mapping[str, Any], at: datetime
) -> Routed:
    payment_id, cf_order = text(payment, "cf_payment_id"), text(order, "order_id")
    shop_id = shop_order_id(loose_mapping(order, "order_tags")) or cf_order
    ref, fallback = route(f"order:{shop_id}", f"cashfree_order:{cf_order}", f"cashfree_payment:{payment_id}")
    if kind == FAILED:
        errors = loose_mapping(data, "error_details")
        reason = text(errors, "error_description") or text(payment, "payment_message")
        return Routed(ref, PaymentFailed(at, payment_id, reason), fallback)
    references = {"cashfree_order": cf_order, "cashfree_payment": payment_id}
    return Routed(ref, PaymentCaptured(at, payment_id, {k: v for k, v in references.items() if v}), fallback)


def _refund_event(refund: Mapping[str, Any], at: datetime) -> Routed:
    payment_id, cf_order = text(refund, "cf_payment_id"), text(refund, "order_id")
    ref, fallback = route(f"cashfree_payment:{payment_id}", f"order:{cf_order}")
    raw_status = text(refund, "refund_status")
    updated = RefundUpdated(
        occurred_at=at,
        refund_ref=text(refund, "refund_id") or text(refund, "cf_refund_id"),
        status=REFUND_STATUS.get(raw_status, "pending"),
        amount_minor=minor_units(refund.get("refund_amount")),
        currency=text(refund, "refund_currency"),
        payment_ref=payment_id,
        bank_ref=text(refund, "refund_arn"),
        reason=text(refund, "status_description") if raw_status != "SUCCESS" else "",
    )
    return Routed(ref, updated, fallback)


ADAPTER = CashfreeWebhook()
