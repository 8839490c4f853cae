"""WhatsApp message templates as data, and the checks every outgoing payload must pass.

Limits follow Meta's template and messaging docs (developers.facebook.com/docs/whatsapp/
business-management-api/message-templates and .../cloud-api/reference/messages): body <= 1024
characters, header <= 60, footer <= 60, button text <= 25; a parameter may not hold a newline, a tab or
more than four consecutive spaces (error 132018), and counts must match the definition (error 132000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
BODY_LIMIT = 1024
HEADER_LIMIT = 60
FOOTER_LIMIT = 60
BUTTON_TEXT_LIMIT = 25


class TemplateError(ValueError):
    """A payload that does not fit its template definition (would fail with 132000 or 132018)."""


@dataclass(frozen=True)
class Button:
    """A template button: QUICK_REPLY (with a payload we set) or URL (one trailing variable)."""

    type: str
    text: str
    url: str = ""
    example: str = ""  # a sample URL suffix, required by Meta's review when the URL has a variable


@dataclass(frozen=True)
class TemplateLanguage:
    """One language version of a template."""

    body: str
    header: str = ""
    footer: str = ""
    buttons: tuple[Button, ...] = ()
    examples: tuple[str, ...] = ()
    header_example: str = ""


@dataclass(frozen=True)
class TemplateDefinition:
    """A template by name, with its category and one version per language code."""

    name: str
    category: str
    kind: str
    languages: dict[str, TemplateLanguage] = field(default_factory=dict)
    fallback: str = ""  # a sibling template of the same kind, sent when this one cannot be

    def version(self, language: str) -> tuple[str, TemplateLanguage]:
        """The version for `language`, falling back to English."""
        if language in self.languages:
            return language, self.languages[language]
        return "en", self.languages["en"]


@dataclass(frozen=True)
class ButtonParameter:
    """The value for one button: the URL suffix, or the payload a quick reply sends back."""

    index: int
    sub_type: str
    value: str


@dataclass(frozen=True)
class OutboundMessage:
    """A template message ready to send: which template, which language, which values."""

    template: str
    language: str
    body: tuple[str, ...]
    header: tuple[str, ...] = ()
    buttons: tuple[ButtonParameter, ...] = ()


def placeholder_count(text: str) -> int:
    """How many distinct {{n}} placeholders the text holds."""
    return len(set(PLACEHOLDER.findall(text)))


def fill(text: str, values: tuple[str, ...]) -> str:
    """Replace {{1}}..{{n}} with the values, as WhatsApp renders them."""
    return PLACEHOLDER.sub(lambda m: values[int(m.group(1)) - 1], text)


def _check_value(value: str, where: str) -> None:
    if not value.strip():
        raise TemplateError(f"{where}: empty parameter")
    if "\n" in value or "\t" in value or "     " in value:
        raise TemplateError(f"{where}: newline, tab or 5+ spaces in a parameter")


def validate(message: OutboundMessage, definition: TemplateDefinition) -> None:
    """Raise TemplateError unless `message` fits the approved `definition` exactly."""
    if message.template != definition.name:
        raise TemplateError(f"template {message.template!r} is not {definition.name!r}")
    if message.language not in definition.languages:
        raise TemplateError(f"{definition.name} has no {message.language!r} version")
    version = definition.languages[message.language]
    for part, text, values, limit in (
        ("header", version.header, message.header, HEADER_LIMIT),
        ("body", version.body, message.body, BODY_LIMIT),
    ):
        expected = placeholder_count(text)
        if len(values) != expected:
            raise TemplateError(f"{part}: {len(values)} parameters, template has {expected}")
        for i, value in enumerate(values, start=1):
            _check_value(value, f"{part} {{{{{i}}}}}")
        if len(fill(text, values)) > limit:
            raise TemplateError(f"{part}: longer than {limit} characters once filled")
    given = {b.index: b for b in message.buttons}
    for index, button in enumerate(version.buttons):
        param = given.pop(index, None)
        needs = button.type == "URL" and placeholder_count(button.url) == 1
        needs = needs or button.type == "QUICK_REPLY"
        if needs and param is None:
            raise TemplateError(f"button {index} ({button.type}) needs a parameter")
        if param is not None:
            if not needs:
                raise TemplateError(f"button {index} ({button.type}) takes no parameter")
            if param.sub_type != button.type.lower():
                raise TemplateError(f"button {index} is {button.type}, not {param.sub_type}")
            _check_value(param.value, f"button {index}")
    if given:
        raise TemplateError(f"parameters for buttons the template lacks: {sorted(given)}")


def adapt(message: OutboundMessage, sibling: TemplateDefinition) -> OutboundMessage:
    """The same values addressed to a sibling template: body as is, header and buttons where it has them."""
    if message.language not in sibling.languages:
        raise TemplateError(f"{sibling.name} has no {message.language!r} version")
    version = sibling.languages[message.language]
    buttons = tuple(
        b
        for b in message.buttons
        if b.index < len(version.buttons) and version.buttons[b.index].type.lower() == b.sub_type
    )
    header = message.header if placeholder_count(version.header) else ()
    return replace(message, template=sibling.name, header=header, buttons=buttons)


def render_text(message: OutboundMessage, definition: TemplateDefinition) -> dict[str, Any]:
    """What the customer sees: header, body and footer filled in, and the buttons."""
    _, version = definition.version(message.language)
    urls = {b.index: b.value for b in message.buttons if b.sub_type == "url"}
    return {
        "header": fill(version.header, message.header) if version.header else "",
        "body": fill(version.body, message.body),
        "footer": version.footer,
        "buttons": [
            {
                "type": b.type,
                "text": b.text,
                "url": fill(b.url, (urls[i],)) if b.type == "URL" and i in urls else b.url,
                "payload": next((p.value for p in message.buttons if p.index == i), ""),
            }
            for i, b in enumerate(version.buttons)
        ],
    }


def definition_from_dict(data: dict[str, Any]) -> TemplateDefinition:
    """Build a definition from its data file (see src/orderwire/catalogue/*.toml)."""
    languages = {
        code: TemplateLanguage(
            body=v["body"],
            header=v.get("header", ""),
            footer=v.get("footer", ""),
            buttons=tuple(
                Button(b["type"], b["text"], b.get("url", ""), b.get("example", ""))
                for b in v.get("buttons", [])
            ),
            examples=tuple(v.get("examples", [])),
            header_example=v.get("header_example", ""),
        )
        for code, v in data["languages"].items()
    }
    return TemplateDefinition(
        data["name"], data["category"], data["kind"], languages, fallback=data.get("fallback", "")
    )
