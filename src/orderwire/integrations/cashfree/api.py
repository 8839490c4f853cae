"""Cashfree's refund API: refunds are made against the Cashfree order, named by our own refund id.

Sources: cashfree.com/docs/api-reference/payments/latest/refunds/create (`POST /pg/orders/{order_id}/refunds`
with headers `x-client-id`, `x-client-secret`, `x-api-version` (2025-01-01); JSON `refund_amount` in
rupees, `refund_id` (3-40 characters, unique per order: our idempotency key), `refund_note`,
`refund_speed` STANDARD | INSTANT; answers the refund entity `{"cf_refund_id", "refund_id", "order_id",
"refund_status": "PENDING", …}`; errors `{"message", "code", "type"}`) and
cashfree.com/docs/api-reference/payments/latest/refunds/get (`GET /pg/orders/{order_id}/refunds/{refund_id}`),
which we read when a retried create answers 409 because the first one went through.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from orderwire.integrations.gateway import (
    GatewayError,
    RefundAsk,
    answer_json,
    failure,
    token,
    unreachable,
)

REFUNDS_PATH = "/pg/orders/{order_id}/refunds"
REFUND_PATH = "/pg/orders/{order_id}/refunds/{refund_id}"


class CashfreeRefunds:
    """Refunds through Cashfree's PG API (the PaymentPort for Cashfree)."""

    name = "cashfree"

    def __init__(
        self, base_url: str, client_id: str, client_secret: str, api_version: str, timeout: float = 10.0
    ):
        self._base, self._timeout = base_url.rstrip("/"), timeout
        self._headers = {
            "x-client-id": client_id,
            "x-client-secret": client_secret,
            "x-api-version": api_version,
        }

    def refund(self, request: RefundAsk) -> str:
        """Refund against the payment's Cashfree order; returns the refund id (ours, as Cashfree keeps it)."""
        if not request.gateway_order:
            raise GatewayError("Cashfree refunds by order: the payment's Cashfree order is not known", False)
        order = quote(request.gateway_order, safe="")
        refund_id = token(request.idempotency_key, 40, min_len=3)
        body: dict[str, Any] = {
            "refund_amount": float(Decimal(request.amount_minor) / 100),
            "refund_id": refund_id,
            "refund_speed": "STANDARD",
        }
        if len(request.reason) >= 3:
            body["refund_note"] = request.reason[:100]
        try:
            with httpx.Client(base_url=self._base, headers=self._headers, timeout=self._timeout) as http:
                answer = http.post(REFUNDS_PATH.format(order_id=order), json=body)
                if answer.status_code == 409:  # this refund id exists: a retry of a call that went through
                    answer = http.get(REFUND_PATH.format(order_id=order, refund_id=quote(refund_id, safe="")))
        except httpx.HTTPError as exc:
            raise unreachable("Cashfree", exc) from exc
        if not answer.is_success:
            raise failure("Cashfree", answer, _error(answer))
        found = answer_json("Cashfree", answer)
        return str(found.get("refund_id") or found.get("cf_refund_id") or refund_id)


def _error(answer: httpx.Response) -> str:
    try:
        error = answer.json()
        return f"{error.get('code', '')}: {error.get('message', '')}"
    except (ValueError, AttributeError):
        return answer.text[:200]
