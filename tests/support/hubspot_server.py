"""A local fake of HubSpot's CRM v3 contacts, search and notes endpoints, in HubSpot's documented shapes.

- `POST /crm/v3/objects/contacts/search`: `filterGroups` ORed, filters ANDed, `EQ` only; answers
  `{"total", "results": [{"id", "properties", "createdAt", "updatedAt", "archived"}]}`. Contacts created
  less than `search_lag` seconds ago are not found yet (HubSpot's search index lags behind writes).
- `POST /crm/v3/objects/contacts`: 201 with the contact; 409 CONFLICT "Contact already exists. Existing
  ID: <id>" when the email is taken (email is HubSpot's unique contact property; phone is not).
- `PATCH /crm/v3/objects/contacts/{id}`: updates properties; 404 for an unknown id.
- `POST /crm/v3/objects/notes`: needs `hs_timestamp`; associations must name an existing contact with
  association type 202 (note to contact), else 400; 201 with the note.
Every call needs `Authorization: Bearer <token>` (401 otherwise). `fail_next(status, headers)` scripts
the next answers (e.g. 429 with Retry-After and HubSpot's RATE_LIMIT body).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support import loopback
from tests.support.couriers import fixture

TOKEN = "pat-na1-test-token"


@dataclass
class Call:
    """One request as the fake saw it."""

    method: str
    path: str
    body: dict[str, Any]
    status: int


@dataclass
class HubSpotServer:
    """Run with `with HubSpotServer() as hs:`; `hs.url` is the API base to configure."""

    search_lag: float = 0.0
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    created_at: dict[str, float] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    script: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    port: int = 0
    _next_id: int = 151
    _server: uvicorn.Server | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` calls with this status (429: HubSpot's rate-limit body)."""
        self.script.extend([(status, headers or {})] * times)

    def add_contact(self, properties: dict[str, Any]) -> str:
        """A contact that exists before the test (searchable at once)."""
        with self._lock:
            return self._store(properties, searchable_from=0.0)

    def count(self, method: str, path: str) -> int:
        """How many answered calls of this method went to a path starting with `path`."""
        return sum(1 for c in self.calls if c.method == method and c.path.startswith(path) and c.status < 300)

    def _store(self, properties: dict[str, Any], searchable_from: float) -> str:
        contact_id = str(self._next_id)
        self._next_id += 1
        self.contacts[contact_id] = {"hs_object_id": contact_id, **properties}
        self.created_at[contact_id] = searchable_from
        return contact_id

    def _object(self, object_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        stamp = "2026-11-30T04:00:00.000Z"
        return {
            "id": object_id,
            "properties": properties,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
        }

    async def _handle(self, request: Request) -> JSONResponse:
        body = await request.json() if request.method in ("POST", "PATCH") else {}
        with self._lock:
            answer = self._answer(request, body)
            self.calls.append(Call(request.method, request.url.path, body, answer.status_code))
        return answer

    def _answer(self, request: Request, body: dict[str, Any]) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse(fixture("hubspot", "unauthorized.json"), 401)
        if self.script:
            status, headers = self.script.popleft()
            error = (
                fixture("hubspot", "rate_limited.json")
                if status == 429
                else {"status": "error", "message": "scripted"}
            )
            return JSONResponse(error, status, headers=headers)
        path, method = request.url.path, request.method
        if path == "/crm/v3/objects/contacts/search" and method == "POST":
            return self._search(body)
        if path == "/crm/v3/objects/contacts" and method == "POST":
            props = dict(body.get("properties") or {})
            email = props.get("email")
            for cid, existing in self.contacts.items():
                if email and existing.get("email") == email:
                    conflict = fixture("hubspot", "contact_conflict.json")
                    conflict["message"] = f"Contact already exists. Existing ID: {cid}"
                    return JSONResponse(conflict, 409)
            cid = self._store(props, searchable_from=time.time() + self.search_lag)
            return JSONResponse(self._object(cid, self.contacts[cid]), 201)
        if path.startswith("/crm/v3/objects/contacts/") and method == "PATCH":
            cid = path.rsplit("/", 1)[1]
            if cid not in self.contacts:
                return JSONResponse(
                    {"status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"}, 404
                )
            self.contacts[cid].update(body.get("properties") or {})
            return JSONResponse(self._object(cid, self.contacts[cid]))
        if path == "/crm/v3/objects/notes" and method == "POST":
            return self._note(body)
        return JSONResponse({"status": "error", "message": "not found"}, 404)

    def _search(self, body: dict[str, Any]) -> JSONResponse:
        now = time.time()
        wanted = body.get("properties") or [
            "createdate",
            "email",
            "firstname",
            "hs_object_id",
            "lastmodifieddate",
            "lastname",
        ]
        results = []
        for cid, props in self.contacts.items():
            if self.created_at[cid] > now:
                continue
            groups = body.get("filterGroups") or []
            if groups and not any(
                all(
                    f["operator"] == "EQ" and str(props.get(f["propertyName"])) == f["value"]
                    for f in g["filters"]
                )
                for g in groups
            ):
                continue
            results.append(self._object(cid, {k: props.get(k) for k in wanted}))
        limit = int(body.get("limit", 10))
        return JSONResponse({"total": len(results), "results": results[:limit]})

    def _note(self, body: dict[str, Any]) -> JSONResponse:
        props = body.get("properties") or {}
        if "hs_timestamp" not in props:
            return JSONResponse(
                {"status": "error", "message": "hs_timestamp is required", "category": "VALIDATION_ERROR"},
                400,
            )
        for assoc in body.get("associations") or []:
            types = assoc.get("types") or []
            ok = assoc["to"]["id"] in self.contacts and any(
                t.get("associationCategory") == "HUBSPOT_DEFINED" and t.get("associationTypeId") == 202
                for t in types
            )
            if not ok:
                return JSONResponse(
                    {"status": "error", "message": "invalid association", "category": "VALIDATION_ERROR"}, 400
                )
        note_id = str(9001 + len(self.notes))
        self.notes.append(body)
        return JSONResponse(self._object(note_id, props), 201)

    def __enter__(self) -> HubSpotServer:
        app = Starlette(
            routes=[
                Route("/crm/v3/objects/contacts/search", self._handle, methods=["POST"]),
                Route("/crm/v3/objects/contacts", self._handle, methods=["POST"]),
                Route("/crm/v3/objects/contacts/{cid}", self._handle, methods=["PATCH"]),
                Route("/crm/v3/objects/notes", self._handle, methods=["POST"]),
            ]
        )
        self._server, self.port = loopback.serve(app)
        return self

    def __exit__(self, *exc: object) -> None:
        loopback.stop(self._server)
