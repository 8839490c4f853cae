"""What the payment gateway adapters (Razorpay, Stripe, Cashfree) share: routing, keys and HTTP errors.

Their webhooks name an order in two ways: the shop's own order id, when the checkout passed it along
(notes, metadata, order tags), and the gateway's ids. An event goes to `order:<shop order id>` when known,
else to the gateway's reference, which the order learned from its PaymentCaptured.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import httpx

from orderwire.integrations.base import PayloadError, text

# Keys under which shops pass their order id to the gateway (notes, metadata, order tags): plain
# `order_id`, the WooCommerce plugins' `woocommerce_order_id`, and `shopify_order_id`.
SHOP_ORDER_KEYS = ("order_id", "woocommerce_order_id", "shopify_order_id")
_SAFE_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


class Unroutable(PayloadError):
    """A well-formed event naming no order or payment we could link it to (stored, acknowledged, noted)."""


class GatewayError(RuntimeError):
    """A gateway API refused or failed a call; `retryable` says whether trying again may help."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class RefundAsk(Protocol):
    """A refund to make (app/ports.RefundRequest has this shape; integrations do not import app)."""

    @property
    def payment_ref(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def idempotency_key(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def gateway_order(self) -> str: ...


def loose_mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An object field that gateways write as `[]` or null when empty ({} then)."""
    value = data.get(key)
    if isinstance(value, dict):
        return value
    if value in (None, [], ""):
        return {}
    raise PayloadError(f"{key} must be an object")


def shop_order_id(*sources: Mapping[str, Any]) -> str:
    """The shop's order id from the first source (notes, metadata, tags) naming one under SHOP_ORDER_KEYS."""
    for source in sources:
        for key in SHOP_ORDER_KEYS:
            if found := text(source, key):
                return found
    return ""


def route(*refs: str) -> tuple[str, str]:
    """The first two references that are known ('' for an unknown value), as (ref, fallback)."""
    known = [r for r in refs if r and not r.endswith(":")]
    if not known:
        raise Unroutable("names no order or payment")
    return known[0], (known[1] if len(known) > 1 else "")


def at_unix(value: Any) -> datetime:
    """An aware UTC datetime from a Unix timestamp in seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PayloadError("timestamp must be a number")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError) as exc:  # out of the range a datetime can hold
        raise PayloadError(f"timestamp {value!r} out of range") from exc


def whole(value: Any) -> int | None:
    """An amount already in minor units (Razorpay's paise, Stripe's cents); None when absent or not whole."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def minor_units(value: Any) -> int | None:
    """An amount in rupees with decimals (Cashfree's 2.00) as paise; None when absent."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int((Decimal(str(value)) * 100).to_integral_value())
    except InvalidOperation as exc:
        raise PayloadError(f"unreadable amount {value!r}") from exc


def token(key: str, max_len: int, min_len: int = 1) -> str:
    """An idempotency key as gateways accept it (letters, digits, '-', '_'; bounded); long keys are hashed."""
    if min_len <= len(key) <= max_len and _SAFE_TOKEN.fullmatch(key):
        return key
    return ("ow-" + hashlib.sha256(key.encode()).hexdigest())[:max_len]


def failure(vendor: str, answer: httpx.Response, message: str) -> GatewayError:
    """The error for a refused call: 5xx, 429 and 409 (a request still in progress) may succeed later."""
    retryable = answer.status_code >= 500 or answer.status_code in (409, 429)
    return GatewayError(f"{vendor} HTTP {answer.status_code}: {message[:300]}", retryable)


def unreachable(vendor: str, exc: httpx.HTTPError) -> GatewayError:
    """The error for a call that got no answer (timeout, connection refused): worth retrying."""
    return GatewayError(f"{vendor}: no answer ({type(exc).__name__})", retryable=True)


def answer_json(vendor: str, answer: httpx.Response) -> dict[str, Any]:
    """A 2xx answer's JSON object."""
    try:
        body = answer.json()
    except ValueError as exc:
        raise GatewayError(f"{vendor}: answer is not JSON", retryable=True) from exc
    if not isinstance(body, dict):
        raise GatewayError(f"{vendor}: answer is not a JSON object", retryable=True)
    return body
