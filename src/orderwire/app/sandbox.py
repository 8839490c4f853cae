"""The sandbox phone: what each customer's WhatsApp would show, kept in the sandbox_messages table."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from orderwire.app import orders
from orderwire.app.media_store import LocalMediaStore
from orderwire.app.runtime import Runtime
from orderwire.domain.templates import render_text
from orderwire.integrations.whatsapp.client import message_from_payload
from orderwire.store.tables import customers, messages, sandbox_messages


def store(rt: Runtime, phone: str, direction: str, wamid: str, payload: dict[str, Any]) -> None:
    """Keep one message on the sandbox phone."""
    status = "delivered" if direction == "out" else "sent"
    with rt.engine.begin() as conn:
        conn.execute(
            sandbox_messages.insert().values(
                phone_number_id=rt.settings.whatsapp_phone_number_id,
                customer_phone=phone,
                direction=direction,
                wamid=wamid,
                payload=payload,
                status=status,
                created_at=rt.clock(),
            )
        )


def chats(rt: Runtime) -> list[dict[str, Any]]:
    """Every customer the sandbox phone has talked to, newest first, with their name."""
    with rt.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                sandbox_messages.c.customer_phone,
                sa.func.max(sandbox_messages.c.id).label("last"),
                sa.func.count().label("n"),
            )
            .group_by(sandbox_messages.c.customer_phone)
            .order_by(sa.desc("last"))
        ).all()
        names = dict(
            conn.execute(
                sa.select(customers.c.phone, customers.c.name).where(
                    customers.c.phone.in_([r.customer_phone for r in rows])
                )
            ).all()
        )
    return [
        {
            "phone": r.customer_phone,
            "name": names.get(r.customer_phone) or r.customer_phone,
            "count": r.n,
        }
        for r in rows
    ]


def conversation(rt: Runtime, phone: str) -> list[dict[str, Any]]:
    """The chat with one customer, each template rendered as WhatsApp shows it."""
    with rt.engine.connect() as conn:
        rows = conn.execute(
            sa.select(sandbox_messages)
            .where(sandbox_messages.c.customer_phone == phone)
            .order_by(sandbox_messages.c.id)
        ).all()
    shown = []
    zone = ZoneInfo(rt.settings.timezone)
    for row in rows:
        payload = row.payload
        item: dict[str, Any] = {
            "direction": row.direction,
            "wamid": row.wamid,
            "status": row.status,
            "at": row.created_at.astimezone(zone).strftime("%H:%M"),
        }
        if payload.get("type") == "template":
            message = message_from_payload(payload)
            definition = rt.catalogue.get(message.template)
            item |= (
                render_text(message, definition)
                if definition
                else {"body": f"[template {message.template}]", "buttons": []}
            )
            for button in item["buttons"]:
                if button["type"] == "URL" and button["url"].startswith("/"):
                    button["url"] = rt.settings.public_url.rstrip("/") + button["url"]
        elif payload.get("type") == "button":
            item |= {"body": payload["button"]["text"], "buttons": []}
        elif payload.get("type") == "interactive":
            item |= _interactive(payload["interactive"], row.direction)
        elif payload.get("type") in ("image", "document"):  # returns helper: photos in, labels out
            item |= _media(payload)
        else:
            item |= {
                "body": payload.get("text", {}).get("body", f"[{payload.get('type')}]"),
                "buttons": [],
            }
        shown.append(item)
    return shown


def _interactive(inner: dict[str, Any], direction: str) -> dict[str, Any]:
    """A list or reply-button message with its choices as tappable buttons; a customer's pick as its title."""
    if direction == "in":
        picked = inner.get("list_reply") or inner.get("button_reply") or {}
        return {"body": picked.get("title", "[interactive]"), "buttons": []}
    action = inner.get("action", {})
    if inner.get("type") == "list":
        rows = [r for section in action.get("sections", []) for r in section.get("rows", [])]
        choices = [
            {"type": "LIST_ROW", "text": r["title"], "payload": r["id"], "reply_kind": "list_reply"}
            for r in rows
        ]
        return {
            "body": inner.get("body", {}).get("text", ""),
            "footer": f"☰ {action.get('button', '')}",
            "buttons": choices,
        }
    choices = [
        {
            "type": "REPLY",
            "text": b["reply"]["title"],
            "payload": b["reply"]["id"],
            "reply_kind": "button_reply",
        }
        for b in action.get("buttons", [])
    ]
    return {"body": inner.get("body", {}).get("text", ""), "buttons": choices}


def _media(payload: dict[str, Any]) -> dict[str, Any]:
    """A photo the customer sent, or a document (a return label) with a link to open it."""
    media = payload.get(payload["type"], {})
    caption = str(media.get("caption", ""))
    if payload["type"] == "image":
        return {"body": f"📷 Photo {caption}".strip(), "buttons": []}
    link = {
        "type": "URL",
        "text": str(media.get("filename") or "document"),
        "url": str(media.get("link", "")),
    }
    return {"body": caption or "📄 Document", "buttons": [link]}


# --- Returns (returns helper): photos sent from the sandbox phone, served like Graph media. ---


def keep_photo(rt: Runtime, data: bytes, mime: str) -> str:
    """Keep a photo the visitor sends as the customer; returns its sandbox media id."""
    sha256 = hashlib.sha256(data).hexdigest()
    key = LocalMediaStore(rt.settings.media_dir).put(data, sha256, mime)
    return key.rsplit("/", 1)[-1]  # '<sha256><extension>': the file's own name


def photo(rt: Runtime, media_id: str) -> tuple[bytes, str] | None:
    """A sandbox photo's bytes and MIME type, or None for an unknown id."""
    if not re.fullmatch(r"[0-9a-f]{64}\.[a-z0-9]{1,5}", media_id):
        return None
    data = LocalMediaStore(rt.settings.media_dir).get(f"{media_id[:2]}/{media_id}")
    mime = mimetypes.guess_type(media_id)[0] or "application/octet-stream"
    return None if data is None else (data, mime)


def unread(rt: Runtime, phone: str) -> list[str]:
    """Mark the business's messages in this chat as read; returns their ids (for read receipts)."""
    with rt.engine.begin() as conn:
        ids = list(
            conn.execute(
                sa.select(sandbox_messages.c.wamid).where(
                    sandbox_messages.c.customer_phone == phone,
                    sandbox_messages.c.direction == "out",
                    sandbox_messages.c.status != "read",
                )
            ).scalars()
        )
        if ids:
            conn.execute(
                sandbox_messages.update().where(sandbox_messages.c.wamid.in_(ids)).values(status="read")
            )
    return ids


def skip_ahead(rt: Runtime) -> int:
    """Make every waiting timer and deferred message due now (time travel for demos)."""
    now = rt.clock()
    with rt.engine.begin() as conn:
        timers = orders.make_due_now(conn, now)
        deferred = conn.execute(
            messages.update()
            .where(messages.c.status == "scheduled", messages.c.send_after > now)
            .values(send_after=now)
        ).rowcount
    rt.wake()
    return int(timers + deferred)
