"""A local fake of the Graph API's message-template endpoints, in the shapes Meta documents.

- `POST /v23.0/{waba_id}/message_templates` takes `{name, language, category, components}`, checks it as Meta
  does at submission (name format, category, one BODY, a sample for every variable, text header and URL
  rules, button limits, no duplicate name + language) and answers `{"id", "status", "category"}`, or a Graph
  error `{"error": {"message", "type", "code", "error_subcode", "error_user_msg", "fbtrace_id"}}`.
- `GET` on the same path answers `{"data": [{name, language, status, category, id, components}], "paging":
  {"cursors": {"before", "after"}, "next"}}`, `limit` per page, `next` only while more pages follow.
- `POST /v23.0/{template_id}` edits the components (`{"success": true}`); the edit goes back to review.
It also tells the fake messages endpoint how Meta answers a send of a known template: 132015 paused,
132016 disabled, 132001 not approved in that language, 132000 parameters that don't fit the approved version.
The checks are written here from the docs, not borrowed from Orderwire's lint, so the two can disagree.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from orderwire.domain.templates import TemplateDefinition, TemplateError, validate
from orderwire.integrations.whatsapp.client import message_from_payload
from orderwire.integrations.whatsapp.templates import creation_body, version_from_components

VARIABLE = re.compile(r"\{\{(\d+)\}\}")


@dataclass
class StoredTemplate:
    """One template version in the fake account."""

    id: str
    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]]

    def as_item(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "parameter_format": "POSITIONAL",
            "components": self.components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
        }


@dataclass
class Call:
    """One template request as the fake saw it."""

    method: str
    path: str
    authorization: str
    query: dict[str, str]
    body: Any


def graph_error(message: str, subcode: int, code: int = 100, status: int = 400) -> JSONResponse:
    """A Graph API error answer."""
    body = {
        "error": {
            "message": "Invalid parameter",
            "type": "OAuthException",
            "code": code,
            "error_subcode": subcode,
            "is_transient": False,
            "error_user_title": "Message template error",
            "error_user_msg": message,
            "fbtrace_id": "AbCdEfTemplates",
        }
    }
    return JSONResponse(body, status_code=status)


def _review_problem(body: Any) -> str:
    """What Meta would refuse in a creation body, or ''."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if not re.fullmatch(r"[a-z0-9_]{1,512}", str(body.get("name", ""))):
        return "name: lowercase letters, numbers and underscores only"
    if not body.get("language"):
        return "language is required"
    if body.get("category") not in ("UTILITY", "MARKETING", "AUTHENTICATION"):
        return "category must be UTILITY, MARKETING or AUTHENTICATION"
    return _components_problem(body.get("components"))


def _components_problem(components: Any) -> str:
    if not isinstance(components, list):
        return "components must be a list"
    kinds = [c.get("type") for c in components if isinstance(c, dict)]
    if kinds.count("BODY") != 1:
        return "exactly one BODY component"
    for c in components:
        text = str(c.get("text", ""))
        variables = VARIABLE.findall(text)
        if c["type"] == "BODY":
            samples = (c.get("example") or {}).get("body_text") or [[]]
            if len(text) > 1024 or len(samples[0]) != len(set(variables)):
                return "BODY: at most 1024 characters and one sample per variable in example.body_text"
        elif c["type"] == "HEADER":
            samples = (c.get("example") or {}).get("header_text") or []
            if (
                c.get("format") != "TEXT"
                or len(text) > 60
                or len(variables) > 1
                or len(samples) != len(variables)
            ):
                return "HEADER: TEXT of at most 60 characters, one variable at most, with example.header_text"
        elif c["type"] == "FOOTER":
            if len(text) > 60 or variables:
                return "FOOTER: at most 60 characters, no variables"
        elif c["type"] == "BUTTONS":
            problem = _buttons_problem(c.get("buttons") or [])
            if problem:
                return problem
        else:
            return f"unknown component type {c['type']}"
    return ""


def _buttons_problem(buttons: list[dict[str, Any]]) -> str:
    types = [b.get("type") for b in buttons]
    if len(types) > 10 or types.count("URL") > 2:
        return "BUTTONS: at most 10, of which at most 2 URL"
    quick = [i for i, t in enumerate(types) if t == "QUICK_REPLY"]
    if quick and quick != list(range(quick[0], quick[-1] + 1)):
        return "BUTTONS: quick replies must be grouped"
    for b in buttons:
        if not 0 < len(str(b.get("text", ""))) <= 25:
            return "BUTTONS: text of 1 to 25 characters"
        if b.get("type") == "URL":
            url = str(b.get("url", ""))
            variables = VARIABLE.findall(url)
            if not url.startswith(("https://", "http://")):
                return "URL button: a full URL"
            if variables and (variables != ["1"] or not url.endswith("{{1}}") or not b.get("example")):
                return "URL button: one variable {{1}} at the end, with an example URL"
    return ""


class FakeTemplates:
    """The template side of a WhatsApp Business Account, served by GraphServer."""

    def __init__(self, review: str = "PENDING", waba_id: str = "102290129340398"):
        self.review = review  # the status a new or edited template gets
        self.waba_id = waba_id
        self.calls: list[Call] = []
        self._by_key: dict[tuple[str, str], StoredTemplate] = {}
        self._ids = itertools.count(1689556908129832)
        self._lock = threading.Lock()

    def routes(self, version: str = "v23.0") -> list[Route]:
        """The endpoints, to mount beside the messages endpoint."""
        return [
            Route(f"/{version}/{{waba}}/message_templates", self._create, methods=["POST"]),
            Route(f"/{version}/{{waba}}/message_templates", self._list, methods=["GET"]),
            Route(f"/{version}/{{template_id}}", self._edit, methods=["POST"]),
        ]

    def add(
        self, name: str, language: str, category: str, components: list[dict[str, Any]], status: str
    ) -> str:
        """Put a template version in the account as if made elsewhere (WhatsApp Manager); its id."""
        with self._lock:
            stored = StoredTemplate(str(next(self._ids)), name, language, category, status, components)
            self._by_key[(name, language)] = stored
            return stored.id

    def add_catalogue(
        self, catalogue: dict[str, TemplateDefinition], public_url: str, status: str = "APPROVED"
    ) -> None:
        """Every catalogue version, as Orderwire would submit it, in `status`."""
        for definition in catalogue.values():
            for language in definition.languages:
                body = creation_body(definition, language, public_url)
                self.add(body["name"], language, body["category"], body["components"], status)

    def get(self, name: str, language: str) -> StoredTemplate:
        return self._by_key[(name, language)]

    def set_status(self, name: str, language: str, status: str) -> None:
        self._by_key[(name, language)].status = status

    def remove(self, name: str, language: str) -> None:
        """Take a version out of the account (never submitted, or deleted in WhatsApp Manager)."""
        del self._by_key[(name, language)]

    def __len__(self) -> int:
        return len(self._by_key)

    def posts(self) -> list[Call]:
        """Creation and edit requests, in order."""
        return [c for c in self.calls if c.method == "POST"]

    def send_problem(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """Meta's answer to a template send the account knows about, when it refuses it."""
        template = payload.get("template") or {}
        stored = self._by_key.get((template.get("name"), (template.get("language") or {}).get("code")))
        if stored is None:
            return None
        refusals = {"PAUSED": (132015, "Template is Paused"), "DISABLED": (132016, "Template is Disabled")}
        code, title = refusals.get(stored.status, (132001, "Template name does not exist in the translation"))
        if stored.status == "APPROVED":
            approved = version_from_components(stored.components)
            definition = TemplateDefinition(stored.name, stored.category, "", {stored.language: approved})
            try:
                validate(message_from_payload(payload), definition)
                return None
            except TemplateError as exc:
                code, title = 132000, f"Number of parameters does not match the expected number: {exc}"
        error = {"message": title, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfSend"}
        return 400, {"error": error | {"error_data": {"messaging_product": "whatsapp", "details": title}}}

    async def _record(self, request: Request) -> Any:
        raw = await request.body()
        body = json.loads(raw) if raw else None
        call = Call(
            request.method,
            request.url.path,
            request.headers.get("authorization", ""),
            dict(request.query_params),
            body,
        )
        with self._lock:
            self.calls.append(call)
        return body

    async def _create(self, request: Request) -> JSONResponse:
        body = await self._record(request)
        problem = _review_problem(body)
        if problem:
            return graph_error(problem, 2388042)
        with self._lock:
            if (body["name"], body["language"]) in self._by_key:
                return graph_error("Content in this language already exists.", 2388024)
        template_id = self.add(
            body["name"], body["language"], body["category"], body["components"], self.review
        )
        return JSONResponse({"id": template_id, "status": self.review, "category": body["category"]})

    async def _edit(self, request: Request) -> JSONResponse:
        body = await self._record(request)
        template_id = request.path_params["template_id"]
        stored = next((t for t in self._by_key.values() if t.id == template_id), None)
        if stored is None:
            return graph_error("Unsupported post request: object does not exist.", 33, code=100)
        problem = _components_problem((body or {}).get("components"))
        if problem:
            return graph_error(problem, 2388042)
        stored.components, stored.status = body["components"], self.review
        return JSONResponse({"success": True})

    async def _list(self, request: Request) -> JSONResponse:
        await self._record(request)
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return graph_error("An access token is required.", 0, code=190, status=401)
        limit = int(request.query_params.get("limit", "25"))
        after = request.query_params.get("after")
        start = int(base64.b64decode(after)) + 1 if after else 0
        with self._lock:
            items = [t.as_item() for t in self._by_key.values()]
        page = items[start : start + limit]
        fields = request.query_params.get("fields")
        if fields:
            page = [{k: v for k, v in item.items() if k in fields.split(",")} for item in page]
        answer: dict[str, Any] = {"data": page}
        if page:
            cursors = {
                "before": base64.b64encode(str(start).encode()).decode(),
                "after": base64.b64encode(str(start + len(page) - 1).encode()).decode(),
            }
            answer["paging"] = {"cursors": cursors}
            if start + len(page) < len(items):
                query = f"limit={limit}&after={cursors['after']}"
                answer["paging"]["next"] = f"{request.url.replace(query=query)}"
        return JSONResponse(answer)


def template_status_webhook(
    waba_id: str,
    name: str,
    language: str,
    template_id: str,
    event: str,
    at: datetime,
    reason: str = "NONE",
    category: str = "UTILITY",
    other_info: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A `message_template_status_update` delivery, shaped as webhooks/reference documents it."""
    value: dict[str, Any] = {
        "event": event,
        "message_template_id": int(template_id),
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason,
        "message_template_category": category,
    }
    if other_info:
        value["other_info"] = other_info
    return _envelope(waba_id, at, "message_template_status_update", value)


def template_category_webhook(
    waba_id: str, name: str, language: str, template_id: str, previous: str, new: str, at: datetime
) -> dict[str, Any]:
    """A completed `template_category_update` delivery."""
    value = {
        "message_template_id": int(template_id),
        "message_template_name": name,
        "message_template_language": language,
        "previous_category": previous,
        "new_category": new,
    }
    return _envelope(waba_id, at, "template_category_update", value)


def _envelope(waba_id: str, at: datetime, field_name: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "time": int(at.timestamp()),
                "changes": [{"value": value, "field": field_name}],
            }
        ],
    }
