"""Stripe webhooks: Event objects signed with the endpoint's secret (`whsec_…`).

Sources: docs.stripe.com/webhooks#verify-manually and stripe-python's `WebhookSignature.verify_header`
(`Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`; signed payload `"<t>." + raw body`; HMAC-SHA256 with the
endpoint secret as-is; any `v1` may match, `v0` is ignored; a timestamp more than 300 s away is
refused), docs.stripe.com/api/events/object (`id` to dedupe on, `type`, `created`, `data.object`),
docs.stripe.com/api/checkout/sessions/object (`id`, `payment_status` paid | unpaid |
no_payment_required, `client_reference_id`, `metadata`, `payment_intent`),
docs.stripe.com/api/payment_intents/object (`id`, `metadata`, `latest_charge`, `last_payment_error.message`),
docs.stripe.com/api/charges/object (`payment_intent`, `refunds.data[]`, included only when expanded
since API version 2022-11-15) and docs.stripe.com/api/refunds/object (`id`, `status` pending |
requires_action | succeeded | failed | canceled, `payment_intent`, `failure_reason`,
`destination_details.card.reference`: the ARN).

The shop's order id is read from `metadata.order_id` (or `woocommerce_order_id`, `shopify_order_id`),
else the Checkout Session's `client_reference_id`.
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
    header,
    items,
    json_object,
    mapping,
    text,
)
from orderwire.integrations.gateway import Unroutable, at_unix, loose_mapping, route, shop_order_id, whole
from orderwire.integrations.signatures import equal, hmac_sha256_hex

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
SESSION_PAID = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")
REFUND_STATUS = {
    "pending": "pending",
    "requires_action": "pending",
    "succeeded": "processed",
    "failed": "failed",
    "canceled": "failed",
}


def signature_for(secret: str, raw: bytes, timestamp: int) -> str:
    """The header value Stripe would send for this body at `timestamp`."""
    signed = str(timestamp).encode() + b"." + raw
    return f"t={timestamp},v1={hmac_sha256_hex(secret.encode(), signed)}"


class StripeWebhook:
    """The Stripe webhook adapter."""

    name = "stripe"

    def verify(self, secret: str, headers: Mapping[str, str], raw: bytes, now: datetime) -> bool:
        """A `v1` signature over `"<t>." + body` matches and `t` is within 300 s of `now`."""
        if not secret:
            return False
        timestamp, candidates = _signature_parts(header(headers, SIGNATURE_HEADER))
        if timestamp is None or abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
            return False
        expected = hmac_sha256_hex(secret.encode(), str(timestamp).encode() + b"." + raw)
        # Compare against every candidate (no early exit), so timing says nothing about which matched.
        return sum(equal(c, expected) for c in candidates) > 0

    def parse(self, headers: Mapping[str, str], raw: bytes) -> Delivery:
        """Payments captured or failed and refunds as canonical events; other event types are noted."""
        body = json_object(raw)
        event_id, kind = text(body, "id"), text(body, "type")
        if not event_id or not kind:
            raise PayloadError("id and type are required")
        obj = mapping(mapping(body, "data"), "object")
        occurred = at_unix(body.get("created"))
        key = f"event:{event_id}"
        try:
            return _delivery(key, kind, obj, occurred)
        except Unroutable as exc:
            return Delivery(key, kind, (), f"{kind}: {exc}")


def _delivery(key: str, kind: str, obj: Mapping[str, Any], occurred: datetime) -> Delivery:
    if kind in SESSION_PAID:
        if text(obj, "payment_status") != "paid":
            note = f"{kind}: payment_status {text(obj, 'payment_status') or 'missing'}, not paid yet"
            return Delivery(key, kind, (), note)
        return Delivery(key, kind, (_session_paid(obj, occurred),))
    if kind in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        return Delivery(key, kind, (_intent_event(kind, obj, occurred),))
    if kind == "charge.refunded":
        return Delivery(key, kind, _charge_refunded(obj, occurred))
    if kind in REFUND_EVENTS:
        return Delivery(key, kind, (_refund(obj, occurred, kind),))
    return Delivery(key, kind, (), f"{kind}: not used")


def _signature_parts(value: str) -> tuple[int | None, list[str]]:
    timestamp: int | None = None
    candidates: list[str] = []
    for part in value.split(","):
        name, _, item = part.strip().partition("=")
        if name == "t" and item.isdigit():
            timestamp = int(item)
        elif name == "v1" and item:
            candidates.append(item)
    return timestamp, candidates


def _required_id(obj: Mapping[str, Any]) -> str:
    found = text(obj, "id")
    if not found:
        raise PayloadError("data.object.id missing")
    return found


def _session_paid(session: Mapping[str, Any], occurred: datetime) -> Routed:
    session_id = _required_id(session)
    intent = text(session, "payment_intent")
    shop_id = shop_order_id(loose_mapping(session, "metadata")) or text(session, "client_reference_id")
    ref, fallback = route(
        f"order:{shop_id}", f"stripe_session:{session_id}", f"stripe_payment_intent:{intent}"
    )
    references = {"stripe_session": session_id, "stripe_payment_intent": intent}
    captured = PaymentCaptured(occurred, intent or session_id, {k: v for k, v in references.items() if v})
    return Routed(ref, captured, fallback)


def _intent_event(kind: str, intent: Mapping[str, Any], occurred: datetime) -> Routed:
    intent_id = _required_id(intent)
    shop_id = shop_order_id(loose_mapping(intent, "metadata"))
    ref, fallback = route(f"order:{shop_id}", f"stripe_payment_intent:{intent_id}")
    if kind == "payment_intent.payment_failed":
        reason = text(loose_mapping(intent, "last_payment_error"), "message")
        return Routed(ref, PaymentFailed(occurred, intent_id, reason), fallback)
    return Routed(ref, PaymentCaptured(occurred, intent_id, {"stripe_payment_intent": intent_id}), fallback)


def _charge_refunded(charge: Mapping[str, Any], occurred: datetime) -> tuple[Routed, ...]:
    """Each refund the charge lists; without the list (newer API versions), the charge's refunded total."""
    charge_id = _required_id(charge)
    listed = items(loose_mapping(charge, "refunds"), "data")
    if listed:
        return tuple(_refund(r, occurred, "charge.refunded", charge) for r in listed)
    intent = text(charge, "payment_intent")
    ref, fallback = route(
        f"stripe_payment_intent:{intent}", f"order:{shop_order_id(loose_mapping(charge, 'metadata'))}"
    )
    total = RefundUpdated(
        occurred_at=occurred,
        refund_ref=charge_id,
        status="processed",
        amount_minor=whole(charge.get("amount_refunded")),
        currency=text(charge, "currency").upper(),
        payment_ref=intent,
    )
    return (Routed(ref, total, fallback),)


def _refund(
    refund: Mapping[str, Any], occurred: datetime, kind: str, charge: Mapping[str, Any] | None = None
) -> Routed:
    refund_id = _required_id(refund)
    intent = text(refund, "payment_intent") or text(charge or {}, "payment_intent")
    metadata = (loose_mapping(refund, "metadata"), loose_mapping(charge or {}, "metadata"))
    ref, fallback = route(f"stripe_payment_intent:{intent}", f"order:{shop_order_id(*metadata)}")
    status = "failed" if kind == "refund.failed" else REFUND_STATUS.get(text(refund, "status"), "pending")
    card = loose_mapping(loose_mapping(refund, "destination_details"), "card")
    updated = RefundUpdated(
        occurred_at=occurred,
        refund_ref=refund_id,
        status=status,
        amount_minor=whole(refund.get("amount")),
        currency=text(refund, "currency").upper(),
        payment_ref=intent,
        bank_ref=text(card, "reference"),
        reason=text(refund, "failure_reason"),
    )
    return Routed(ref, updated, fallback)


ADAPTER = StripeWebhook()
