"""Sending through the WhatsApp Cloud API, and what each answer means.

Source: developers.facebook.com/documentation/business-messaging/whatsapp/reference/whatsapp-business-
phone-number/message-api (`POST /{version}/{phone_number_id}/messages`, Bearer token; success
`{"messaging_product","contacts":[{"input","wa_id"}],"messages":[{"id"}]}`; error
`{"error":{"message","type","code","error_data":{"details"},"fbtrace_id"}}`) and the error-code table
(.../support/error-codes): 131047 re-engagement (outside 24 h), 131026 undeliverable, 130429 throughput,
131056 pair rate, 131049 marketing cap, 132000 parameter count, 132001 template missing, 132015 template
paused, 132016 template disabled, 190 expired token.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from orderwire.domain.interactive import SessionMessage, Style
from orderwire.domain.templates import ButtonParameter, OutboundMessage


class Verdict(StrEnum):
    """What to do after one send attempt."""

    SENT = "sent"
    RETRY = "retry"  # transient: 5xx, timeout, network
    SLOW_DOWN = "slow_down"  # 130429, 131056, HTTP 429: retry later, longer
    NEEDS_TEMPLATE = "needs_template"  # 131047: outside the customer service window
    UNREACHABLE = "unreachable"  # 131026: the number cannot receive WhatsApp messages
    AUTH = "auth"  # 190 or 401: the token expired; an operator must act
    TEMPLATE_UNAVAILABLE = "template_unavailable"  # 132001/132015/132016: learn it, then fall back or hold
    FAILED = "failed"  # anything else: a definite rejection (e.g. 132000)


SLOW_DOWN_CODES = {130429, 131056, 131049, 80007}
RETRY_CODES = {1, 2, 131000, 131016, 133004}
# What Meta's answer says about the template: it does not exist in that language, it is paused, disabled.
TEMPLATE_STATUS_FOR_CODE = {"132001": "MISSING", "132015": "PAUSED", "132016": "DISABLED"}


@dataclass(frozen=True)
class SendResult:
    """The outcome of one request to the Cloud API."""

    verdict: Verdict
    wamid: str = ""
    http_status: int = 0
    error_code: str = ""
    error_detail: str = ""


def template_payload(to: str, message: OutboundMessage) -> dict[str, Any]:
    """The Cloud API body for a template message (components only for parts with values)."""
    components: list[dict[str, Any]] = []
    if message.header:
        components.append(
            {"type": "header", "parameters": [{"type": "text", "text": v} for v in message.header]}
        )
    if message.body:
        components.append({"type": "body", "parameters": [{"type": "text", "text": v} for v in message.body]})
    for button in message.buttons:
        param = (
            {"type": "payload", "payload": button.value}
            if button.sub_type == "quick_reply"
            else {"type": "text", "text": button.value}
        )
        components.append(
            {
                "type": "button",
                "sub_type": button.sub_type,
                "index": str(button.index),
                "parameters": [param],
            }
        )
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
        "type": "template",
        "template": {
            "name": message.template,
            "language": {"code": message.language},
            "components": components,
        },
    }


def session_payload(to: str, message: SessionMessage) -> dict[str, Any]:
    """The Cloud API body for a text, list or reply-button message (messages/interactive-*-messages)."""
    head: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
    }
    if message.style is Style.TEXT:
        return head | {"type": "text", "text": {"preview_url": False, "body": message.body}}
    if message.style is Style.DOCUMENT:  # messages/document-messages: by link, with caption and filename
        document = {"link": message.link, "caption": message.body, "filename": message.filename}
        return head | {"type": "document", "document": document}
    if message.style is Style.LIST:
        rows = [
            {"id": c.id, "title": c.title, **({"description": c.description} if c.description else {})}
            for c in message.choices
        ]
        action: dict[str, Any] = {
            "button": message.button,
            "sections": [{"title": message.button, "rows": rows}],
        }
    else:
        action = {
            "buttons": [{"type": "reply", "reply": {"id": c.id, "title": c.title}} for c in message.choices]
        }
    kind = "list" if message.style is Style.LIST else "button"
    return head | {
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": message.body}, "action": action},
    }


def message_from_payload(payload: dict[str, Any]) -> OutboundMessage:
    """Read a template send request back into an OutboundMessage."""
    template = payload["template"]
    header: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    buttons: list[ButtonParameter] = []
    for c in template.get("components", []):
        values = [p.get("text") or p.get("payload") or "" for p in c.get("parameters", [])]
        if c["type"] == "header":
            header = tuple(values)
        elif c["type"] == "body":
            body = tuple(values)
        elif c["type"] == "button":
            buttons.append(ButtonParameter(int(c["index"]), c["sub_type"], values[0]))
    return OutboundMessage(template["name"], template["language"]["code"], body, header, tuple(buttons))


def classify(status: int, body: Any) -> SendResult:
    """Turn an HTTP answer into a verdict by the meaning of Meta's error code."""
    if 200 <= status < 300:
        try:
            wamid = str(body["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            return SendResult(Verdict.RETRY, http_status=status, error_detail="2xx without id")
        return SendResult(Verdict.SENT, wamid=wamid, http_status=status)
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code = error.get("code") if isinstance(error, dict) else None
    details = ""
    if isinstance(error, dict):
        details = str((error.get("error_data") or {}).get("details") or error.get("message") or "")
    result = {
        "http_status": status,
        "error_code": str(code or status),
        "error_detail": details[:500],
    }
    if code in SLOW_DOWN_CODES or status == 429:
        return SendResult(Verdict.SLOW_DOWN, **result)  # type: ignore[arg-type]
    if str(code) in TEMPLATE_STATUS_FOR_CODE:
        return SendResult(Verdict.TEMPLATE_UNAVAILABLE, **result)  # type: ignore[arg-type]
    if code == 131047:
        return SendResult(Verdict.NEEDS_TEMPLATE, **result)  # type: ignore[arg-type]
    if code == 131026:
        return SendResult(Verdict.UNREACHABLE, **result)  # type: ignore[arg-type]
    if code == 190 or status == 401:
        return SendResult(Verdict.AUTH, **result)  # type: ignore[arg-type]
    if status >= 500 or code in RETRY_CODES:
        return SendResult(Verdict.RETRY, **result)  # type: ignore[arg-type]
    return SendResult(Verdict.FAILED, **result)  # type: ignore[arg-type]


class CloudApiClient:
    """A small synchronous client for `/{phone_number_id}/messages` (used from worker threads)."""

    def __init__(self, base_url: str, token: str, phone_number_id: str, timeout: float = 10.0):
        self._url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self._http = httpx.Client(
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    def send(self, payload: dict[str, Any]) -> SendResult:
        """POST one message; network trouble and timeouts come back as RETRY."""
        try:
            response = self._http.post(self._url, json=payload)
        except httpx.HTTPError as exc:
            return SendResult(Verdict.RETRY, error_code="network", error_detail=type(exc).__name__)
        try:
            body = response.json()
        except ValueError:
            body = {}
        return classify(response.status_code, body)

    def close(self) -> None:
        """Release pooled connections."""
        self._http.close()
