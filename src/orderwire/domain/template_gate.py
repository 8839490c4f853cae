"""Which template may carry a message right now: the one composed, its fallback sibling, or none (hold).

Meta's word on a template (status, category, the approved components) is consulted when it is known. When
nothing is known about the composed template (the sandbox, or a WhatsApp account never synced) the catalogue
is trusted. A fallback is only ever used on evidence: Meta must have approved it, in the catalogue's category.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orderwire.domain.templates import (
    OutboundMessage,
    TemplateDefinition,
    TemplateError,
    TemplateLanguage,
    adapt,
    validate,
)

USABLE = "APPROVED"


@dataclass(frozen=True)
class RemoteTemplate:
    """What Meta says about one template in one language."""

    status: str
    category: str = ""
    approved: TemplateLanguage | None = None  # the approved components, when synced
    unsupported: str = ""  # why the approved components cannot be filled by Orderwire, if they cannot


@dataclass(frozen=True)
class Choice:
    """The message to send (None: hold it) and, when it is not the one composed, why."""

    message: OutboundMessage | None
    reason: str = ""


Remote = Mapping[tuple[str, str], RemoteTemplate]


def problem(message: OutboundMessage, definition: TemplateDefinition, remote: RemoteTemplate | None) -> str:
    """Why Meta would refuse (or overcharge) this message, or '' when it may go."""
    where = f"{message.template} ({message.language})"
    if remote is None:
        return ""
    if remote.status and remote.status != USABLE:  # '' = status not known, only the category
        return f"{where} is {remote.status}"
    if remote.category and remote.category != definition.category:
        return f"{where} was recategorised {definition.category} -> {remote.category}"
    if remote.unsupported:
        return f"approved {where} cannot be filled: {remote.unsupported}"
    if remote.approved is not None:
        languages = {message.language: remote.approved}
        approved = TemplateDefinition(message.template, remote.category, definition.kind, languages)
        try:
            validate(message, approved)
        except TemplateError as exc:
            return f"payload does not match the approved {where}: {exc}"
    return ""


def choose(message: OutboundMessage, catalogue: Mapping[str, TemplateDefinition], remote: Remote) -> Choice:
    """The composed message if it may go, else the same values in its usable fallback, else hold."""
    definition = catalogue.get(message.template)
    if definition is None:
        return Choice(None, f"no template named {message.template!r} in the catalogue")
    try:
        validate(message, definition)
    except TemplateError as exc:
        return Choice(None, f"template check: {exc}")
    why = problem(message, definition, remote.get((message.template, message.language)))
    if not why:
        return Choice(message)
    sibling = catalogue.get(definition.fallback) if definition.fallback else None
    if sibling is None:
        return Choice(None, f"{why}; no fallback template configured")
    try:
        fallback = adapt(message, sibling)
        validate(fallback, sibling)
    except TemplateError as exc:
        return Choice(None, f"{why}; fallback {sibling.name} does not fit: {exc}")
    known = remote.get((sibling.name, message.language))
    if known is None:
        return Choice(
            None, f"{why}; fallback {sibling.name} ({message.language}) is not known to be approved"
        )
    why_not = problem(fallback, sibling, known)
    if why_not:
        return Choice(None, f"{why}; fallback unusable: {why_not}")
    return Choice(fallback, f"{why}; sent {sibling.name} instead")
