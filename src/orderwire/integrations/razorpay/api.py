"""Razorpay's refund API: refund a captured payment, safely retried.

Sources: razorpay.com/docs/api/refunds/create-normal (`POST /v1/payments/{payment_id}/refund`, HTTP Basic
auth with the key id and key secret, JSON `amount` in paise, `speed`, `notes`, `receipt`; answers the
refund entity `{"id": "rfnd_…", "entity": "refund", "amount", "payment_id", "status", …}`; errors
`{"error": {"code": "BAD_REQUEST_ERROR", "description", "source", "step", "reason"}}`) and
razorpay.com/docs/api/refunds/normal-refunds-idempotent (header `X-Refund-Idempotency`: at least 10
letters, digits, '-' or '_'; the same key with the same body never refunds twice; 409 while the first
request is still being processed).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from orderwire.integrations.gateway import RefundAsk, answer_json, failure, token, unreachable

REFUND_PATH = "/v1/payments/{payment_id}/refund"
IDEMPOTENCY_HEADER = "X-Refund-Idempotency"


class RazorpayRefunds:
    """Refunds through Razorpay's API (the PaymentPort for Razorpay)."""

    name = "razorpay"

    def __init__(self, base_url: str, key_id: str, key_secret: str, timeout: float = 10.0):
        self._base, self._auth, self._timeout = base_url.rstrip("/"), (key_id, key_secret), timeout

    def refund(self, request: RefundAsk) -> str:
        """Ask for a normal-speed refund; returns Razorpay's refund id (`rfnd_…`)."""
        key = token(request.idempotency_key, 64, min_len=10)
        body: dict[str, Any] = {
            "amount": request.amount_minor,
            "speed": "normal",
            "receipt": token(request.idempotency_key, 40),
            "notes": {"reason": request.reason[:256]} if request.reason else {},
        }
        path = REFUND_PATH.format(payment_id=quote(request.payment_ref, safe=""))
        try:
            with httpx.Client(base_url=self._base, auth=self._auth, timeout=self._timeout) as http:
                answer = http.post(path, json=body, headers={IDEMPOTENCY_HEADER: key})
        except httpx.HTTPError as exc:
            raise unreachable("Razorpay", exc) from exc
        if not answer.is_success:
            raise failure("Razorpay", answer, _error(answer))
        refund_id = str(answer_json("Razorpay", answer).get("id") or "")
        if not refund_id:
            raise failure("Razorpay", answer, "answer has no refund id")
        return refund_id


def _error(answer: httpx.Response) -> str:
    try:
        error = answer.json().get("error") or {}
        return f"{error.get('code', '')}: {error.get('description', '')}"
    except (ValueError, AttributeError):
        return answer.text[:200]
