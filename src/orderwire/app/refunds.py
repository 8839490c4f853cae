"""Refunds through the payment gateway, as durable vendor calls (kind PAYMENT_REFUND).

A decision or a dialogue asks with `VendorCall(PAYMENT_REFUND, key, payload)`; the payload names
`payment_ref` (else the order's own gateway payment reference is used), `amount_minor`, `currency`,
`reason` and, best, `idempotency_key` (the call's own key: two refunds of the same amount on one payment
stay two). Without it the key is derived from the order and the refund's content. The gateway answers with
its refund id (recorded on the timeline); its webhook reports the outcome later (RefundUpdated).
Without a configured gateway API the refund becomes a staff case; it is never pretended.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from orderwire.app import vendor_calls, vendors
from orderwire.app.ports import RefundRequest
from orderwire.app.runtime import Runtime
from orderwire.domain.lifecycle import PAYMENT_REFUND
from orderwire.domain.model import order_from_json
from orderwire.store.tables import orders


def _references(rt: Runtime, order_pk: int) -> tuple[dict[str, str], str]:
    """The order's references and its shop order id."""
    with rt.engine.connect() as conn:
        state = conn.execute(sa.select(orders.c.state).where(orders.c.id == order_pk)).scalar()
    if not state:
        return {}, ""
    order = order_from_json(state)
    return dict(order.references), order.order_id


def request_for(
    gateway: str, payload: dict[str, Any], references: dict[str, str], order_id: str = ""
) -> RefundRequest:
    """The refund to ask `gateway` for, from a call's payload and the order's references.

    The gateway's order is the one the capture named, else the shop's order id (Cashfree's order ids are
    the merchant's own).
    """
    order_pk = str(payload.get("order_pk", ""))
    payment = str(payload.get("payment_ref") or references.get(f"{gateway}_payment") or "")
    payment = payment or references.get(f"{gateway}_payment_intent", "") or references.get("payment", "")
    amount, currency = int(payload["amount_minor"]), str(payload.get("currency", ""))
    reason = str(payload.get("reason", ""))
    content = f"{order_pk}|{payment}|{amount}|{currency}|{reason}"
    key = str(payload.get("idempotency_key") or "")
    key = key or f"refund-{order_pk}-{hashlib.sha256(content.encode()).hexdigest()[:24]}"
    gateway_order = references.get(f"{gateway}_order") or order_id
    return RefundRequest(payment, amount, currency, key, reason, gateway_order)


def _refund(rt: Runtime, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    gateway = vendors.payments(rt.settings)
    what = f"refund of {payload.get('amount_minor')} {payload.get('currency', '')}".strip()
    if gateway is None:
        raise vendor_calls.NotConfigured(f"{what}: no payment gateway API configured; refund by hand")
    request = request_for(gateway.name, payload, *_references(rt, int(payload["order_pk"])))
    # Cashfree refunds by order; the others by payment.
    needed = request.gateway_order if gateway.name == "cashfree" else request.payment_ref
    if not needed:
        raise vendor_calls.NotConfigured(f"{what}: the order has no {gateway.name} payment; refund by hand")
    refund_id = gateway.refund(request)
    return f"{what}: asked {gateway.name} (refund {refund_id})", {"refund_id": refund_id}


vendor_calls.register(
    PAYMENT_REFUND,
    vendor_calls.Performer(_refund, unconfigured_reason="refund_by_hand", refused_reason="refund_refused"),
)
