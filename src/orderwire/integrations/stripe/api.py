"""Stripe's refund API: refund a PaymentIntent (or a Charge), safely retried.

Sources: docs.stripe.com/api/refunds/create (`POST /v1/refunds`, form-encoded, `payment_intent` or
`charge`, `amount` in the smallest currency unit, `reason` limited to duplicate | fraudulent |
requested_by_customer, `metadata[...]`; answers the Refund object `{"id": "re_…", "object": "refund",
"status", …}`), docs.stripe.com/api/authentication (`Authorization: Bearer <secret key>`),
docs.stripe.com/api/idempotent_requests (`Idempotency-Key` header, up to 255 characters; a retry with
the same key returns the first result) and docs.stripe.com/api/errors (`{"error": {"type", "code",
"message"}}`; 400/402/404 are the request's fault, 409 an idempotency conflict in progress, 429 and 5xx
worth retrying).
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

from orderwire.integrations.gateway import RefundAsk, answer_json, failure, token, unreachable

REFUNDS_PATH = "/v1/refunds"


class StripeRefunds:
    """Refunds through Stripe's API (the PaymentPort for Stripe)."""

    name = "stripe"

    def __init__(self, base_url: str, secret_key: str, timeout: float = 10.0):
        self._base, self._key, self._timeout = base_url.rstrip("/"), secret_key, timeout

    def refund(self, request: RefundAsk) -> str:
        """Refund the payment; returns Stripe's refund id (`re_…`)."""
        target = "charge" if request.payment_ref.startswith(("ch_", "py_")) else "payment_intent"
        form = [(target, request.payment_ref), ("amount", str(request.amount_minor))]
        if request.reason:
            # Stripe's own `reason` takes three fixed words; the shop's words go in the metadata.
            form.append(("metadata[reason]", request.reason[:500]))
        headers = {
            "Authorization": f"Bearer {self._key}",
            "Idempotency-Key": _idempotency(request.idempotency_key),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        try:
            with httpx.Client(base_url=self._base, timeout=self._timeout) as http:
                answer = http.post(REFUNDS_PATH, content=urlencode(form), headers=headers)
        except httpx.HTTPError as exc:
            raise unreachable("Stripe", exc) from exc
        if not answer.is_success:
            raise failure("Stripe", answer, _error(answer))
        refund_id = str(answer_json("Stripe", answer).get("id") or "")
        if not refund_id:
            raise failure("Stripe", answer, "answer has no refund id")
        return refund_id


def _idempotency(key: str) -> str:
    """Stripe takes any printable key up to 255 characters; others are hashed."""
    return key if len(key) <= 255 and key.isascii() and key.isprintable() else token(key, 255)


def _error(answer: httpx.Response) -> str:
    try:
        error = answer.json().get("error") or {}
        return f"{error.get('code') or error.get('type', '')}: {error.get('message', '')}"
    except (ValueError, AttributeError):
        return answer.text[:200]
