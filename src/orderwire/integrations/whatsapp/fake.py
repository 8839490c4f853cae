"""A stand-in for Meta's side of the Cloud API, in Meta's wire format: used by the sandbox and tests.

It answers `POST /{phone_number_id}/messages` as the Graph API does (including error 132000 for a
template whose parameters don't match the approved definition) and builds the webhook bodies Meta would
send: statuses, text messages and quick-reply button taps (webhooks/reference/messages/*).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from orderwire.domain.templates import TemplateDefinition, TemplateError, validate
from orderwire.integrations.whatsapp.client import message_from_payload


def new_wamid() -> str:
    """A message id shaped like Meta's."""
    return "wamid." + secrets.token_urlsafe(30)


def _error(code: int, message: str, details: str) -> tuple[int, dict[str, Any]]:
    return 400, {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": secrets.token_hex(8),
        }
    }


def accept_send(
    payload: Any, catalogue: dict[str, TemplateDefinition], wamid: str
) -> tuple[int, dict[str, Any]]:
    """Meta's answer to a send request: 200 with the message id, or a documented error."""
    if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
        return _error(100, "Invalid parameter", "messaging_product must be whatsapp")
    to = str(payload.get("to", ""))
    if not to.isdigit():
        return _error(100, "Invalid parameter", "to must be a phone number")
    kind = payload.get("type", "text")
    if kind == "template":
        try:
            message = message_from_payload(payload)
        except (KeyError, TypeError, ValueError, IndexError):
            return _error(100, "Invalid parameter", "malformed template object")
        definition = catalogue.get(message.template)
        if definition is None:
            return _error(132001, "Template name does not exist in the translation", message.template)
        try:
            validate(message, definition)
        except TemplateError as exc:
            return _error(132000, "Number of parameters does not match the expected number", str(exc))
    elif kind not in ("text", "interactive", "image", "document", "location", "reaction"):
        return _error(100, "Invalid parameter", f"unsupported type {kind}")
    return 200, {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": wamid, "message_status": "accepted"}],
    }


def _envelope(phone_number_id: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "sandbox-waba",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000000",
                                "phone_number_id": phone_number_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def status_webhook(
    phone_number_id: str, wamid: str, recipient: str, status: str, at: datetime
) -> dict[str, Any]:
    """A statuses webhook (sent, delivered, read) for one message."""
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(at.timestamp())),
        "recipient_id": recipient.lstrip("+"),
    }
    if status == "sent":
        entry["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "category": "utility",
            "type": "regular",
        }
    return _envelope(phone_number_id, {"statuses": [entry]})


def customer_message_webhook(
    phone_number_id: str,
    phone: str,
    name: str,
    at: datetime,
    wamid: str,
    text: str = "",
    button: tuple[str, str] | None = None,
    context_id: str = "",
    choice: tuple[str, str, str] | None = None,
    media: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """An inbound text, a tap on a template quick-reply button (`button` = (text, payload)), a pick in
    an interactive message (`choice` = ("list_reply" or "button_reply", id, title)), or media (`media` =
    ("image" or "document", media id, MIME type), with `text` as its caption).
    """
    digits = phone.lstrip("+")
    message: dict[str, Any] = {"from": digits, "id": wamid, "timestamp": str(int(at.timestamp()))}
    if button is not None:
        message |= {"type": "button", "button": {"text": button[0], "payload": button[1]}}
    elif media is not None:  # webhooks/reference/messages/image: {id, mime_type, sha256, caption}
        kind, media_id, mime = media
        message |= {
            "type": kind,
            kind: {"id": media_id, "mime_type": mime, **({"caption": text} if text else {})},
        }
    elif choice is not None:
        kind, reply_id, title = choice
        message |= {
            "type": "interactive",
            "interactive": {"type": kind, kind: {"id": reply_id, "title": title}},
        }
    else:
        message |= {"type": "text", "text": {"body": text}}
    if context_id:
        message["context"] = {"from": "15550000000", "id": context_id}
    contact = {"profile": {"name": name or "Sandbox customer"}, "wa_id": digits}
    return _envelope(phone_number_id, {"contacts": [contact], "messages": [message]})
