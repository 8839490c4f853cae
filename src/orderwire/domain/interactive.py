"""Session messages (free-form text, interactive lists and reply buttons) and WhatsApp's limits on them.

Only allowed inside the 24-hour customer service window. Limits from Meta's Cloud API docs
(developers.facebook.com/documentation/business-messaging/whatsapp/messages/interactive-list-messages and
.../interactive-reply-buttons-messages, .../text-messages): text body ≤ 4096; interactive body ≤ 1024,
footer ≤ 60; a list's button ≤ 20, at most 10 rows over all sections, row id ≤ 200, row title ≤ 24,
row description ≤ 72; 1 to 3 reply buttons, each id ≤ 256 and title ≤ 20, titles unique.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SessionError(ValueError):
    """The message breaks one of WhatsApp's limits: it would be refused, so it is never stored as sendable."""


class Style(StrEnum):
    """How the message is shown: plain text, a list behind a button, or up to three reply buttons."""

    TEXT = "text"
    LIST = "list"
    BUTTONS = "buttons"
    DOCUMENT = "document"  # a file by link with a caption (`body`), e.g. a return label (returns)


@dataclass(frozen=True)
class Choice:
    """A list row or a reply button; `id` comes back in the customer's reply."""

    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class SessionMessage:
    """A message inside the service window; `button` labels the button that opens a list."""

    style: Style
    body: str
    choices: tuple[Choice, ...] = ()
    button: str = ""
    link: str = ""  # DOCUMENT only: an https URL WhatsApp fetches the file from
    filename: str = ""  # DOCUMENT only: the name the customer sees


def _limit(value: str, most: int, what: str) -> None:
    if not value.strip():
        raise SessionError(f"{what} is empty")
    if len(value) > most:
        raise SessionError(f"{what} is {len(value)} characters (at most {most})")


def check(message: SessionMessage) -> None:
    """Raise SessionError unless WhatsApp would accept the message as it is."""
    if message.style is Style.TEXT:
        _limit(message.body, 4096, "text body")
        if message.choices:
            raise SessionError("a text message has no choices")
        return
    if message.style is Style.DOCUMENT:
        # Caption limit from messages/document-messages (1024); the link must be a web address.
        _limit(message.body, 1024, "document caption")
        _limit(message.filename, 240, "document filename")
        if message.choices or not message.link.startswith(("https://", "http://")):
            raise SessionError("a document needs an http(s) link and has no choices")
        return
    _limit(message.body, 1024, "body")
    if len({c.id for c in message.choices}) != len(message.choices):
        raise SessionError("choice ids repeat")
    if message.style is Style.LIST:
        _limit(message.button, 20, "list button")
        if not 1 <= len(message.choices) <= 10:
            raise SessionError(f"a list has 1 to 10 rows, not {len(message.choices)}")
        for row in message.choices:
            _limit(row.id, 200, "row id")
            _limit(row.title, 24, "row title")
            if len(row.description) > 72:
                raise SessionError(f"row description is {len(row.description)} characters (at most 72)")
        return
    if not 1 <= len(message.choices) <= 3:
        raise SessionError(f"reply buttons are 1 to 3, not {len(message.choices)}")
    if len({c.title for c in message.choices}) != len(message.choices):
        raise SessionError("reply button titles repeat")
    for button in message.choices:
        _limit(button.id, 256, "button id")
        _limit(button.title, 20, "button title")
