"""Template lifecycle: push the catalogue to Meta, sync Meta's word back, apply its webhooks, gate sends.

`template_statuses` holds, per (shop, template, language), what Meta last said: status, category, id and the
approved components. The gate (`gate`, at send time) consults it; with no row at all the catalogue is trusted
(the sandbox, or an account never synced), so a sync also records catalogue templates the account lacks as
MISSING.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderwire.app.runtime import Runtime
from orderwire.domain.template_gate import USABLE, RemoteTemplate, choose
from orderwire.domain.template_lint import ERROR, lint_catalogue
from orderwire.integrations.whatsapp.client import message_from_payload, template_payload
from orderwire.integrations.whatsapp.templates import (
    GraphError,
    RemoteRecord,
    TemplateApiClient,
    UnsupportedTemplate,
    creation_body,
    signature,
    version_from_components,
)
from orderwire.integrations.whatsapp.webhook import TemplateUpdate
from orderwire.store import queries
from orderwire.store.tables import messages, template_statuses

log = logging.getLogger(__name__)

MISSING = "MISSING"  # ours, not Meta's: in the catalogue but not in the WhatsApp Business Account
SENDABLE = ("queued", "retrying", "scheduled")
# The status a webhook `event` leaves a template in; other events (FLAGGED, LOCKED, ...) leave it as it was.
STATUS_AFTER_EVENT = {
    "APPROVED": "APPROVED",
    "REINSTATED": "APPROVED",
    "PENDING": "PENDING",
    "REJECTED": "REJECTED",
    "PAUSED": "PAUSED",
    "DISABLED": "DISABLED",
    "IN_APPEAL": "IN_APPEAL",
    "ARCHIVED": "ARCHIVED",
    "PENDING_DELETION": "PENDING_DELETION",
    "DELETED": "DELETED",
    "LIMIT_EXCEEDED": "LIMIT_EXCEEDED",
}


@dataclass
class PushReport:
    """What `push` did with each template version ('name (language)')."""

    created: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every version is in the account as the catalogue has it (or on its way)."""
        return not self.skipped and not self.failed


def upsert(conn: sa.Connection, shop_id: str, name: str, language: str, now: datetime, **values: Any) -> None:
    """Create or update what is known about one template version."""
    key = {"shop_id": shop_id, "name": name, "language": language}
    fresh = {"status": "", "category": "", "reason": "", "status_at": now, "updated_at": now}
    if not queries.insert_ignore(conn, template_statuses, key | fresh | values, list(key)):
        conn.execute(
            template_statuses.update()
            .where(*(template_statuses.c[k] == v for k, v in key.items()))
            .values(updated_at=now, **values)
        )


def _record_remote(rt: Runtime, records: Iterable[RemoteRecord]) -> dict[tuple[str, str], RemoteRecord]:
    """Store Meta's view of every catalogue template version; versions the account lacks become MISSING."""
    now = rt.clock()
    wanted = {(name, lang) for name, d in rt.catalogue.items() for lang in d.languages}
    found = {(r.name, r.language): r for r in records if (r.name, r.language) in wanted}
    with rt.engine.begin() as conn:
        for (name, language), r in found.items():
            values: dict[str, Any] = {
                "template_id": r.template_id,
                "status": r.status,
                "category": r.category,
                "components": list(r.components),
                "signature": signature(list(r.components)),
                "status_at": now,
            }
            if r.status == USABLE:
                values["reason"] = ""
            upsert(conn, rt.shop_id, name, language, now, **values)
        for name, language in sorted(wanted - set(found)):
            upsert(
                conn,
                rt.shop_id,
                name,
                language,
                now,
                status=MISSING,
                components=None,
                signature=None,
                status_at=now,
                reason="not in the WhatsApp Business Account: run `orderwire templates push`",
            )
    return found


def sync(rt: Runtime, client: TemplateApiClient) -> list[dict[str, Any]]:
    """Pull status, category and approved components of every catalogue template from the account."""
    _record_remote(rt, client.list_templates())
    return overview(rt)


def push(rt: Runtime, client: TemplateApiClient) -> PushReport:
    """Submit new and changed template versions (lint-clean ones only); unchanged ones send nothing."""
    report = PushReport()
    blocked = {(f.template, f.language) for f in lint_catalogue(rt.catalogue) if f.severity == ERROR}
    remote = _record_remote(rt, client.list_templates())
    for name, definition in sorted(rt.catalogue.items()):
        for language in sorted(definition.languages):
            key = f"{name} ({language})"
            if (name, language) in blocked or (name, "") in blocked:
                report.skipped.append(key)
                continue
            body = creation_body(definition, language, rt.settings.public_url)
            mine = signature(body["components"])
            there = remote.get((name, language))
            if there is not None and signature(list(there.components)) == mine:
                report.unchanged.append(key)
                continue
            try:
                values = _submit(client, body, there)
            except GraphError as exc:
                report.failed.append(f"{key}: {exc}")
                continue
            (report.created if there is None else report.edited).append(key)
            with rt.engine.begin() as conn:
                values |= {"components": body["components"], "signature": mine, "status_at": rt.clock()}
                upsert(conn, rt.shop_id, name, language, rt.clock(), reason="", **values)
    return report


def _submit(client: TemplateApiClient, body: dict[str, Any], there: RemoteRecord | None) -> dict[str, Any]:
    if there is None:
        answer = client.create(body)
        return {
            "template_id": str(answer.get("id", "")),
            "status": str(answer.get("status") or "PENDING").upper(),
            "category": str(answer.get("category") or body["category"]).upper(),
        }
    client.edit(there.template_id, body["components"])
    return {"template_id": there.template_id, "status": "PENDING"}  # an edit goes back to review


def record_update(conn: sa.Connection, shop_id: str, update: TemplateUpdate, now: datetime) -> None:
    """Apply a template webhook; a status older than the one stored changes nothing."""
    row = conn.execute(
        sa.select(template_statuses.c.status_at).where(
            template_statuses.c.shop_id == shop_id,
            template_statuses.c.name == update.name,
            template_statuses.c.language == update.language,
        )
    ).first()
    values: dict[str, Any] = {"template_id": update.template_id} if update.template_id else {}
    if update.impending:
        values["reason"] = update.reason  # announced only: routing follows the completed change
    elif update.event:
        # Webhook times have whole seconds: a tie with what a sync stored goes to the webhook.
        if row is not None and update.at is not None and update.at < row.status_at.replace(microsecond=0):
            return
        status = STATUS_AFTER_EVENT.get(update.event)
        if status is not None:
            values |= {"status": status, "status_at": update.at or now}
        said = " - ".join(p for p in (update.event, update.reason) if p)[:500]
        values["reason"] = "" if status == USABLE and not update.reason else said
        if update.category:
            values["category"] = update.category
    else:
        was = update.previous_category or "?"
        values |= {"category": update.category, "reason": f"recategorised {was} -> {update.category}"}
    upsert(conn, shop_id, update.name, update.language, now, **values)


def remote_templates(
    conn: sa.Connection, shop_id: str, names: Iterable[str]
) -> dict[tuple[str, str], RemoteTemplate]:
    """What Meta said about these templates, by (name, language)."""
    rows = conn.execute(
        sa.select(template_statuses).where(
            template_statuses.c.shop_id == shop_id, template_statuses.c.name.in_(list(names))
        )
    ).all()
    known: dict[tuple[str, str], RemoteTemplate] = {}
    for row in rows:
        approved, unsupported = None, ""
        if row.components is not None:
            try:
                approved = version_from_components(row.components)
            except UnsupportedTemplate as exc:
                unsupported = str(exc)
        known[(row.name, row.language)] = RemoteTemplate(row.status, row.category, approved, unsupported)
    return known


Statuses = dict[tuple[str, str], RemoteTemplate]


def _names(rt: Runtime, payload: dict[str, Any]) -> set[str]:
    """The template a stored message uses and its fallback (none for a free-form message)."""
    if payload.get("type") != "template":
        return set()
    # Read without parsing the whole payload: a payload that does not parse fails its own send in `gate`,
    # not the claim of the batch it came with.
    template = payload.get("template")
    used = str(template.get("name", "")) if isinstance(template, dict) else ""
    definition = rt.catalogue.get(used)
    return {used, definition.fallback if definition else ""} - {""}


def statuses_for(conn: sa.Connection, rt: Runtime, rows: Iterable[Any]) -> Statuses:
    """What Meta said about the templates (and fallbacks) of these messages, read once for a claimed batch."""
    names = set().union(*(_names(rt, row.payload) for row in rows))
    return remote_templates(conn, rt.shop_id, names) if names else {}


def gate(rt: Runtime, row: Any, known: Statuses) -> dict[str, Any] | None:
    """The payload to send for a stored message now: as stored, switched to its fallback, or None (held).

    `known` is Meta's word on its templates as of the claim, a moment before the send.
    """
    payload: dict[str, Any] = row.payload
    if payload.get("type") != "template":
        return payload
    message = message_from_payload(payload)
    choice = choose(message, rt.catalogue, known)
    if choice.message == message:
        return payload
    # A switch keeps `updated_at`: while the message is claimed it is the claim's moment, which the send
    # thread checks before the request (sending._renewed_claim).
    switched = None
    values: dict[str, Any]
    if choice.message is None:
        reason = choice.reason[:500]
        values = {"status": "held", "needs_attention": True, "error_detail": reason, "updated_at": rt.clock()}
        log.warning("message %s held: %s", row.id, choice.reason)
    else:
        switched = template_payload(str(payload.get("to", "")), choice.message)
        values = {"template": choice.message.template, "payload": switched}
        log.warning("message %s: %s", row.id, choice.reason)
    with rt.engine.begin() as conn:
        conn.execute(
            messages.update().where(messages.c.id == row.id, messages.c.status.in_(SENDABLE)).values(**values)
        )
    return switched


def overview(rt: Runtime) -> list[dict[str, Any]]:
    """Each catalogue template with Meta's status and category per language (for the API and console)."""
    with rt.engine.connect() as conn:
        known = {
            (r.name, r.language): r
            for r in conn.execute(
                sa.select(template_statuses).where(template_statuses.c.shop_id == rt.shop_id)
            ).all()
        }
    shown = []
    for name, d in sorted(rt.catalogue.items()):
        languages = {}
        for language in sorted(d.languages):
            r = known.get((name, language))
            languages[language] = {
                "status": (r.status if r else "") or "UNKNOWN",
                "category": (r.category if r else "") or "",
                "template_id": r.template_id if r else None,
                "reason": r.reason if r else "",
                "updated_at": r.updated_at.isoformat() if r else None,
                "usable": None if r is None else r.status in (USABLE, "") and r.category in (d.category, ""),
            }
        shown.append(
            {
                "name": name,
                "kind": d.kind,
                "category": d.category,
                "fallback": d.fallback,
                "languages": languages,
            }
        )
    return shown
