"""Message templates in the WhatsApp Business Account: submit, edit and list them through the Graph API.

Sources (developers.facebook.com/documentation/business-messaging/whatsapp/...):
- reference/whatsapp-business-account/message-template-api: `POST /{version}/{waba_id}/message_templates`
  with `name`, `language`, `category`, `components`, answered `{"id", "status", "category"}`; `GET` on the
  same path answers `{"data": [{"name", "language", "status", "category", "id", "components",
  "parameter_format"}], "paging": {"cursors": {"before", "after"}, "next"}}` (`next` only while more pages
  follow).
- templates/template-management: get, edit (`POST /{version}/{template_id}` with `components`, answered
  `{"success": true}`; an edit goes back to review) and the statuses APPROVED, PENDING, REJECTED, PAUSED,
  DISABLED, IN_APPEAL, PENDING_DELETION, DELETED, ARCHIVED, LIMIT_EXCEEDED.
- templates/components: `HEADER` (`format: TEXT`, `example.header_text: [..]`), `BODY`
  (`example.body_text: [[..]]`), `FOOTER`, `BUTTONS` with `QUICK_REPLY` and `URL` buttons (`example: [full
  sample URL]` when the URL ends in a variable).
- support/error-codes: 132001 template does not exist (in that language), 132015 paused, 132016 disabled.
`allow_category_change` is never sent: a utility template Meta reads as marketing should be rejected and
fixed, not quietly billed at the marketing price.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from orderwire.domain.templates import PLACEHOLDER, Button, TemplateDefinition, TemplateLanguage

NAMED_PARAMETER = re.compile(r"\{\{\s*[^}\d\s][^}]*\}\}")
_ORDER = {"HEADER": 0, "BODY": 1, "FOOTER": 2, "BUTTONS": 3}


class GraphError(Exception):
    """The Graph API refused a request (or could not be reached: http_status 0)."""

    def __init__(self, http_status: int, code: str, message: str):
        super().__init__(f"{code}: {message}" if code else message)
        self.http_status = http_status
        self.code = code


class UnsupportedTemplate(ValueError):
    """Approved components Orderwire cannot fill (media headers, named parameters, other component types)."""


@dataclass(frozen=True)
class RemoteRecord:
    """One template version as the WhatsApp Business Account holds it."""

    name: str
    language: str
    status: str
    category: str
    template_id: str
    components: tuple[dict[str, Any], ...]


def absolute_url(url: str, public_url: str) -> str:
    """Catalogue URLs like /t/{{1}} live on the service's public URL."""
    return public_url.rstrip("/") + url if url.startswith("/") else url


def creation_components(version: TemplateLanguage, public_url: str) -> list[dict[str, Any]]:
    """The `components` Meta reviews for one language version, with a sample for every variable."""
    components: list[dict[str, Any]] = []
    if version.header:
        header: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": version.header}
        if PLACEHOLDER.search(version.header):
            header["example"] = {"header_text": [version.header_example]}
        components.append(header)
    body: dict[str, Any] = {"type": "BODY", "text": version.body}
    if version.examples:
        body["example"] = {"body_text": [list(version.examples)]}
    components.append(body)
    if version.footer:
        components.append({"type": "FOOTER", "text": version.footer})
    buttons: list[dict[str, Any]] = []
    for b in version.buttons:
        button: dict[str, Any] = {"type": b.type, "text": b.text}
        if b.type == "URL":
            button["url"] = absolute_url(b.url, public_url)
            if PLACEHOLDER.search(b.url):
                sample = b.url.replace(PLACEHOLDER.findall(b.url)[0].join(("{{", "}}")), b.example)
                button["example"] = [absolute_url(sample, public_url)]
        buttons.append(button)
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components


def creation_body(definition: TemplateDefinition, language: str, public_url: str) -> dict[str, Any]:
    """The request body of `POST /{waba_id}/message_templates` for one language version."""
    return {
        "name": definition.name,
        "language": language,
        "category": definition.category,
        "components": creation_components(definition.languages[language], public_url),
    }


def signature(components: Any) -> str:
    """A fingerprint of what review approves (texts, formats, buttons; not the samples), in any order."""
    shapes = []
    for c in components if isinstance(components, list | tuple) else []:
        kind = str(c.get("type", "")).upper()
        shape: list[Any] = [kind, str(c.get("format", "TEXT" if kind == "HEADER" else "")).upper()]
        shape.append(str(c.get("text", "")))
        shape.append(
            [
                [str(b.get("type", "")).upper(), str(b.get("text", "")), str(b.get("url", ""))]
                for b in c.get("buttons", []) or []
            ]
        )
        shapes.append(shape)
    shapes.sort(key=lambda s: (_ORDER.get(s[0], 9), s[0]))
    return hashlib.sha256(json.dumps(shapes, ensure_ascii=False).encode()).hexdigest()


def version_from_components(components: Any) -> TemplateLanguage:
    """The approved version as the domain reads it; UnsupportedTemplate when Orderwire cannot fill it."""
    parts = {"HEADER": "", "BODY": "", "FOOTER": ""}
    buttons: list[Button] = []
    for c in components if isinstance(components, list | tuple) else []:
        kind = str(c.get("type", "")).upper()
        if kind == "HEADER" and str(c.get("format", "TEXT")).upper() != "TEXT":
            raise UnsupportedTemplate(f"{str(c.get('format')).upper()} header")
        if kind in parts:
            parts[kind] = str(c.get("text", ""))
        elif kind == "BUTTONS":
            buttons += [
                Button(str(b.get("type", "")).upper(), str(b.get("text", "")), str(b.get("url", "")))
                for b in c.get("buttons", []) or []
            ]
        else:
            raise UnsupportedTemplate(f"{kind or 'untyped'} component")
    texts = [*parts.values(), *(b.url for b in buttons)]
    if any(NAMED_PARAMETER.search(t) for t in texts):
        raise UnsupportedTemplate("named parameters")
    return TemplateLanguage(
        body=parts["BODY"], header=parts["HEADER"], footer=parts["FOOTER"], buttons=tuple(buttons)
    )


def record_from_item(item: dict[str, Any]) -> RemoteRecord:
    """Read one entry of the list's `data`."""
    return RemoteRecord(
        name=str(item.get("name", "")),
        language=str(item.get("language", "")),
        status=str(item.get("status", "")).upper(),
        category=str(item.get("category", "")).upper(),
        template_id=str(item.get("id", "")),
        components=tuple(c for c in item.get("components", []) or [] if isinstance(c, dict)),
    )


class TemplateApiClient:
    """A small synchronous client for one WhatsApp Business Account's templates."""

    def __init__(
        self,
        base_url: str,
        token: str,
        waba_id: str,
        timeout: float = 15.0,
        page_size: int = 100,
        max_pages: int = 50,
    ):
        self._base = base_url.rstrip("/")
        self._waba = waba_id
        self._page_size = page_size
        self._max_pages = max_pages  # bounded work: 50 pages of 100 is far beyond a WABA's template limit
        self._http = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {token}"})

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """Submit a new template version for review: `{"id", "status", "category"}`."""
        answer = self._call("POST", f"{self._base}/{self._waba}/message_templates", json=body)
        return answer if isinstance(answer, dict) else {}

    def edit(self, template_id: str, components: list[dict[str, Any]]) -> None:
        """Replace an existing template's components (it goes back to review)."""
        self._call("POST", f"{self._base}/{template_id}", json={"components": components})

    def list_templates(self) -> list[RemoteRecord]:
        """Every template version in the account, following the cursor pages."""
        url = f"{self._base}/{self._waba}/message_templates"
        params = {"fields": "name,language,status,category,id,components", "limit": str(self._page_size)}
        records: list[RemoteRecord] = []
        for _ in range(self._max_pages):
            answer = self._call("GET", url, params=params)
            data = answer.get("data", []) if isinstance(answer, dict) else []
            records += [record_from_item(item) for item in data if isinstance(item, dict)]
            paging = answer.get("paging", {}) if isinstance(answer, dict) else {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return records
            params = {**params, "after": str(after)}
        raise GraphError(0, "paging", f"more than {self._max_pages} pages of templates")

    def close(self) -> None:
        """Release pooled connections."""
        self._http.close()

    def __enter__(self) -> TemplateApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise GraphError(0, "network", type(exc).__name__) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.is_success:
            return body
        error = body.get("error", {}) if isinstance(body, dict) else {}
        error = error if isinstance(error, dict) else {}
        message = str(error.get("error_user_msg") or error.get("message") or response.reason_phrase)
        raise GraphError(response.status_code, str(error.get("code") or response.status_code), message[:500])
