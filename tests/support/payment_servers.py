"""A local fake of the three payment gateways' refund endpoints, in their documented wire formats.

One ThreadingHTTPServer answers all three, recording every request:
- Razorpay `POST /v1/payments/{id}/refund`: HTTP Basic key id:secret, JSON body, `X-Refund-Idempotency`
  (the same key and body answer the first refund again; another body is a BAD_REQUEST_ERROR); errors as
  `{"error": {"code", "description", "source", "step", "reason", "metadata"}}`.
- Stripe `POST /v1/refunds`: Bearer secret key, form-encoded, `Idempotency-Key` replaying the first answer;
  errors as `{"error": {"type", "code", "message"}}`.
- Cashfree `POST /pg/orders/{order_id}/refunds` and `GET /pg/orders/{order_id}/refunds/{refund_id}`:
  `x-client-id`, `x-client-secret`, `x-api-version`; `refund_id` unique per order (409 when reused);
  errors as `{"message", "code", "type"}`.
`fail_next` scripts the next answers (any gateway), e.g. a 500 or a 429; `delay` slows every answer.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

RAZORPAY_KEY = ("rzp_test_1DP5mmOlF5G5ag", "rzp-key-secret")
STRIPE_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
CASHFREE_KEY = ("CF-client-id", "cf-client-secret")
NOW = 1764400000


@dataclass
class Recorded:
    """One request as the fake server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class PaymentServer:
    """Run with `with PaymentServer() as pay:`; `pay.url` is the base URL for every gateway."""

    requests: list[Recorded] = field(default_factory=list)
    script: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    delay: float = 0.0
    refunds: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # key -> (body, answer)
    cashfree_refunds: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, status: int, body: dict[str, Any], times: int = 1) -> None:
        """Answer the next `times` requests with this status and body."""
        self.script.extend([(status, body)] * times)

    def __enter__(self) -> PaymentServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        request = Recorded(method, handler.path, headers, body)
        with self._lock:
            self.requests.append(request)
            scripted = self.script.popleft() if self.script else None
        if self.delay:
            time.sleep(self.delay)
        if scripted is not None:
            status, answer = scripted
        else:
            status, answer = self._answer(request)
        raw = json.dumps(answer).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(raw)))
            handler.end_headers()
            handler.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test)

    def _answer(self, r: Recorded) -> tuple[int, dict[str, Any]]:
        parts = r.path.strip("/").split("/")
        if (
            r.method == "POST"
            and len(parts) == 4
            and parts[:2] == ["v1", "payments"]
            and parts[3] == "refund"
        ):
            return self._razorpay(r, parts[2])
        if r.method == "POST" and parts == ["v1", "refunds"]:
            return self._stripe(r)
        if len(parts) >= 4 and parts[:2] == ["pg", "orders"] and parts[3] == "refunds":
            return self._cashfree(r, parts[2], parts[4] if len(parts) > 4 else "")
        return 404, {"error": "no such endpoint"}

    def _razorpay(self, r: Recorded, payment_id: str) -> tuple[int, dict[str, Any]]:
        expected = "Basic " + base64.b64encode(":".join(RAZORPAY_KEY).encode()).decode()
        if r.headers.get("authorization") != expected:
            return 401, _razorpay_error("Authentication failed")
        key = r.headers.get("x-refund-idempotency", "")
        if key and (seen := self.refunds.get(f"razorpay:{key}")) is not None:
            if seen[0] != r.body.decode():
                return 400, _razorpay_error(
                    "Different request with the same idempotency key has already been processed."
                )
            return 200, seen[1]
        body = r.json()
        if not payment_id.startswith("pay_"):
            return 400, _razorpay_error("The id provided does not exist")
        answer = {
            "id": f"rfnd_{len(self.requests):014d}",
            "entity": "refund",
            "amount": body.get("amount"),
            "currency": "INR",
            "payment_id": payment_id,
            "notes": body.get("notes") or [],
            "receipt": body.get("receipt"),
            "acquirer_data": {"arn": None},
            "created_at": NOW,
            "batch_id": None,
            "status": "pending",
            "speed_processed": "normal",
            "speed_requested": body.get("speed", "normal"),
        }
        if key:
            self.refunds[f"razorpay:{key}"] = (r.body.decode(), answer)
        return 200, answer

    def _stripe(self, r: Recorded) -> tuple[int, dict[str, Any]]:
        if r.headers.get("authorization") != f"Bearer {STRIPE_KEY}":
            return 401, {
                "error": {
                    "type": "invalid_request_error",
                    "message": "Invalid API Key provided: sk_test_****",
                }
            }
        key = r.headers.get("idempotency-key", "")
        if key and (seen := self.refunds.get(f"stripe:{key}")) is not None:
            return 200, seen[1]
        form = r.form()
        target = form.get("payment_intent") or form.get("charge")
        if not target:
            return 400, {
                "error": {
                    "type": "invalid_request_error",
                    "code": "parameter_missing",
                    "message": "One of the following params should be provided for this request: "
                    "payment_intent or charge.",
                }
            }
        metadata = {k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")}
        answer = {
            "id": f"re_{len(self.requests):020d}",
            "object": "refund",
            "amount": int(form.get("amount", "0")),
            "charge": form.get("charge") or "ch_3MtwBwLkdIwHu7ix28a3tqPb",
            "created": NOW,
            "currency": "inr",
            "metadata": metadata,
            "payment_intent": form.get("payment_intent"),
            "reason": form.get("reason"),
            "receipt_number": None,
            "status": "pending",
        }
        if key:
            self.refunds[f"stripe:{key}"] = (r.body.decode(), answer)
        return 200, answer

    def _cashfree(self, r: Recorded, order_id: str, refund_id: str) -> tuple[int, dict[str, Any]]:
        if (r.headers.get("x-client-id"), r.headers.get("x-client-secret")) != CASHFREE_KEY:
            return 401, {
                "message": "authentication Failed",
                "code": "request_failed",
                "type": "authentication_error",
            }
        if not r.headers.get("x-api-version"):
            return 400, {
                "message": "x-api-version missing",
                "code": "request_failed",
                "type": "invalid_request_error",
            }
        if r.method == "GET":
            found = self.cashfree_refunds.get((order_id, refund_id))
            if found is None:
                return 404, {
                    "message": "Refund does not exist",
                    "code": "refund_not_found",
                    "type": "invalid_request_error",
                }
            return 200, found
        body = r.json()
        refund_id = str(body.get("refund_id", ""))
        if (order_id, refund_id) in self.cashfree_refunds:
            return 409, {
                "message": "refund_id already exists",
                "code": "refund_id_duplicate",
                "type": "invalid_request_error",
            }
        answer = {
            "cf_payment_id": "1453002795",
            "cf_refund_id": str(len(self.requests) + 11325600),
            "refund_id": refund_id,
            "order_id": order_id,
            "entity": "refund",
            "refund_amount": body.get("refund_amount"),
            "refund_currency": "INR",
            "refund_note": body.get("refund_note"),
            "refund_status": "PENDING",
            "refund_arn": None,
            "refund_charge": 0,
            "status_description": "In Progress",
            "metadata": None,
            "refund_splits": [],
            "refund_type": "MERCHANT_INITIATED",
            "refund_mode": body.get("refund_speed", "STANDARD"),
            "created_at": "2025-11-29T12:54:25+05:30",
            "processed_at": None,
        }
        self.cashfree_refunds[(order_id, refund_id)] = answer
        return 200, answer


def _razorpay_error(description: str) -> dict[str, Any]:
    return {
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": description,
            "source": "NA",
            "step": "NA",
            "reason": "NA",
            "metadata": {},
        }
    }
