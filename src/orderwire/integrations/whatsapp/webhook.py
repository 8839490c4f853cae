"""Meta WhatsApp Cloud API webhooks: verification handshake, signature, and parsing.

Sources: developers.facebook.com/documentation/business-messaging/whatsapp/webhooks (overview:
`hub.mode`/`hub.verify_token`/`hub.challenge`; `X-Hub-Signature-256: sha256=<hex HMAC of the raw body
with the app secret>`), webhooks/reference/messages (text, button, interactive, media, system, ...) and
webhooks/reference/messages/status. Since 2026 contacts carry a business-scoped user id (`user_id`) beside
or instead of `wa_id`, and messages `from_user_id` beside or instead of `from`; statuses may carry
`recipient_user_id`. Both shapes are accepted. Inbound types follow
developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples and webhooks/reference/messages/*:
text, button (template quick reply), interactive (button_reply, list_reply, nfm_reply with `response_json`),
image/document/audio/video/sticker (`id`, `mime_type`, optional `caption`), location, contacts, reaction
(`message_id`, `emoji`), system (no contacts array; user_changed_number / user_changed_user_id) and
unsupported (`errors[]`); any other type is kept as it came.
Template changes arrive on other fields of the same endpoint:
webhooks/reference/message_template_status_update (`event`, `message_template_id`,
`message_template_name`, `message_template_language`, `reason`, `message_template_category`, `other_info`,
`rejection_info`) and webhooks/reference/template_category_update (completed: `previous_category` +
`new_category`; impending: `correct_category`, `new_category` = the current one, `category_update_timestamp`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from orderwire.integrations.base import PayloadError
from orderwire.integrations.signatures import equal, hmac_sha256_hex

SIGNATURE_HEADER = "x-hub-signature-256"


def handshake(mode: str | None, token: str | None, challenge: str | None, expected: str) -> str | None:
    """The challenge to echo when Meta's subscription check is valid, else None (answer 403)."""
    if mode == "subscribe" and token is not None and challenge is not None and equal(token, expected):
        return challenge
    return None


def signature_for(app_secret: str, raw_body: bytes) -> str:
    """The header value Meta would send for this body."""
    return "sha256=" + hmac_sha256_hex(app_secret.encode(), raw_body)


def verify(app_secret: str, header: str | None, raw_body: bytes) -> bool:
    """True when `X-Hub-Signature-256` matches the raw body (constant time)."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    return equal(header, signature_for(app_secret, raw_body))


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery status for a message we sent: sent, delivered, read or failed."""

    wamid: str
    status: str
    at: datetime
    recipient: str
    errors: tuple[dict[str, Any], ...] = ()
    pricing: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundMessage:
    """A message the customer sent us. `phone` is E.164 when known; `user_id` is the BSUID."""

    wamid: str
    type: str
    at: datetime
    phone: str
    user_id: str
    name: str
    text: str
    reply_id: str
    context_id: str
    raw: dict[str, Any]
    media_id: str = ""
    media_mime: str = ""


@dataclass(frozen=True)
class TemplateUpdate:
    """Meta changed a template: its status (an `event`) or its category (done, or announced as impending)."""

    name: str
    language: str
    template_id: str
    at: datetime | None
    event: str = ""
    category: str = ""
    previous_category: str = ""
    impending: bool = False
    reason: str = ""


@dataclass(frozen=True)
class Parsed:
    """Everything one webhook delivery carried."""

    statuses: tuple[StatusUpdate, ...]
    messages: tuple[InboundMessage, ...]
    other_fields: tuple[str, ...]
    templates: tuple[TemplateUpdate, ...] = ()


MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")  # webhooks/reference/messages/<type>
TEMPLATE_FIELDS = ("message_template_status_update", "template_category_update")


def _when(ts: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(ts), UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:  # OSError: out of the platform's range
        raise PayloadError(f"bad timestamp {ts!r}") from exc


def _e164(digits: str) -> str:
    return "" if not digits else (digits if digits.startswith("+") else "+" + digits)


MEDIA_TYPES = ("image", "video", "document", "audio", "sticker")


@dataclass(frozen=True)
class _Content:
    text: str = ""
    reply_id: str = ""
    media_id: str = ""
    media_mime: str = ""
    context_id: str = ""


def _obj(msg: dict[str, Any], key: str) -> dict[str, Any]:
    value = msg.get(key)
    return value if isinstance(value, dict) else {}


def _items(obj: dict[str, Any], key: str) -> list[Any]:
    """A list field; absent or of another type reads as empty (optional parts are never trusted)."""
    value = obj.get(key)
    return value if isinstance(value, list) else []


def _content_of(msg: dict[str, Any]) -> _Content:
    """A readable text, the id of the button or row tapped, and the media, whatever the message type."""
    kind = msg.get("type", "")
    if kind == "text":
        return _Content(str(_obj(msg, "text").get("body", "")))
    if kind == "button":
        button = _obj(msg, "button")
        return _Content(str(button.get("text", "")), str(button.get("payload", "")))
    if kind == "interactive":
        inner = _obj(msg, "interactive")
        reply = inner.get("button_reply") or inner.get("list_reply")
        if isinstance(reply, dict):
            return _Content(str(reply.get("title", "")), str(reply.get("id", "")))
        if isinstance(inner.get("nfm_reply"), dict):
            return _Content(str(inner["nfm_reply"].get("response_json", "")), "nfm_reply")
        return _Content()
    if kind in MEDIA_TYPES:
        media = _obj(msg, kind)
        text = str(media.get("caption") or (media.get("filename", "") if kind == "document" else ""))
        return _Content(text, "", str(media.get("id", "")), str(media.get("mime_type", "")))
    if kind == "location":
        place = _obj(msg, "location")
        words = [str(place[k]) for k in ("name", "address") if place.get(k)]
        where = f"{place.get('latitude', '')},{place.get('longitude', '')}"
        return _Content(", ".join([*words, where]))
    if kind == "contacts":
        cards = [c for c in _items(msg, "contacts") if isinstance(c, dict)]
        shown = []
        for card in cards:
            name = str(_obj(card, "name").get("formatted_name", ""))
            phones = [str(p.get("phone", "")) for p in _items(card, "phones") if isinstance(p, dict)]
            shown.append(" ".join(filter(None, [name, *phones])))
        return _Content("; ".join(filter(None, shown)))
    if kind == "reaction":
        reaction = _obj(msg, "reaction")
        return _Content(str(reaction.get("emoji", "")), context_id=str(reaction.get("message_id", "")))
    if kind == "system":
        return _Content(str(_obj(msg, "system").get("body", "")))
    return _Content()  # unsupported, or a type newer than this adapter: stored and acknowledged as it came


def _template_update(field: str, value: dict[str, Any], time: Any) -> TemplateUpdate | None:
    """A typed template change, or None when the value names no template (nothing to apply)."""
    name, language = value.get("message_template_name"), value.get("message_template_language")
    if not name or not language:
        return None
    at = _when(time) if time is not None else None
    common = TemplateUpdate(str(name), str(language), str(value.get("message_template_id") or ""), at)
    if field == "template_category_update":
        if "previous_category" in value:
            return replace(
                common,
                category=str(value.get("new_category") or "").upper(),
                previous_category=str(value["previous_category"] or "").upper(),
            )
        correct = str(value.get("correct_category") or "").upper()
        return replace(common, impending=True, reason=f"category will change to {correct}")
    info = value.get("other_info") or value.get("rejection_info") or {}
    detail = str(info.get("description") or info.get("reason") or "") if isinstance(info, dict) else ""
    reason = " - ".join(str(r) for r in (value.get("reason"), detail) if r and r != "NONE")
    return replace(
        common,
        event=str(value.get("event") or "").upper(),
        category=str(value.get("message_template_category") or "").upper(),
        reason=reason[:500],
    )


def parse(body: Any) -> Parsed:
    """Read a webhook body; raise PayloadError for anything that is not Meta's shape."""
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        raise PayloadError("object must be whatsapp_business_account")
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("entry must be a list")
    statuses: list[StatusUpdate] = []
    messages: list[InboundMessage] = []
    others: list[str] = []
    templates: list[TemplateUpdate] = []
    for entry in entries:
        for change in _items(entry, "changes") if isinstance(entry, dict) else []:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                raise PayloadError("each change needs a value object")
            if change.get("field") != "messages":
                field = str(change.get("field"))
                others.append(field)
                update = None
                if field in TEMPLATE_FIELDS:
                    update = _template_update(field, change["value"], entry.get("time"))
                if update is not None:
                    templates.append(update)
                continue
            value = change["value"]
            for s in _items(value, "statuses"):
                if not isinstance(s, dict) or "id" not in s or "status" not in s:
                    raise PayloadError("a status needs id and status")
                statuses.append(
                    StatusUpdate(
                        wamid=str(s["id"]),
                        status=str(s["status"]),
                        at=_when(s.get("timestamp")),
                        recipient=_e164(str(s.get("recipient_id", ""))),
                        errors=tuple(e for e in _items(s, "errors") if isinstance(e, dict)),
                        pricing=_obj(s, "pricing"),
                    )
                )
            contacts = [c for c in _items(value, "contacts") if isinstance(c, dict)]
            for m in _items(value, "messages"):
                if not isinstance(m, dict) or "id" not in m:
                    raise PayloadError("a message needs an id")
                contact = next(
                    (
                        c
                        for c in contacts
                        if (m.get("from") and c.get("wa_id") == m.get("from"))
                        or (m.get("from_user_id") and c.get("user_id") == m.get("from_user_id"))
                    ),
                    contacts[0] if len(contacts) == 1 else {},
                )
                content = _content_of(m)
                messages.append(
                    InboundMessage(
                        wamid=str(m["id"]),
                        type=str(m.get("type", "unknown")),
                        at=_when(m.get("timestamp")),
                        phone=_e164(str(m.get("from") or contact.get("wa_id") or "")),
                        user_id=str(m.get("from_user_id") or contact.get("user_id") or ""),
                        name=str(_obj(contact, "profile").get("name", "")),
                        text=content.text,
                        reply_id=content.reply_id,
                        context_id=str(_obj(m, "context").get("id", "") or content.context_id),
                        raw=m,
                        media_id=content.media_id,
                        media_mime=content.media_mime,
                    )
                )
    return Parsed(tuple(statuses), tuple(messages), tuple(others), tuple(templates))
