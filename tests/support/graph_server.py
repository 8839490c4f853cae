"""A local fake of the Graph API's send endpoint, in Meta's wire format, recording every request.

Answers follow the Cloud API reference: 200 with `messages[0].id`, or a scripted error body
`{"error": {"message", "type", "code", "error_data": {"details"}, "fbtrace_id"}}`. The account's template
endpoints are served beside it (tests/support/template_server.py); a send of a template the account holds is
answered as Meta would (paused, disabled, parameters that don't fit the approved version).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderwire.app.catalogue import load_catalogue
from orderwire.integrations.whatsapp import fake
from tests.support import loopback
from tests.support.template_server import FakeTemplates


@dataclass
class Received:
    """One request as the fake server saw it."""

    path: str
    authorization: str
    body: dict[str, Any]
    at: float


@dataclass
class GraphServer:
    """Run with `with GraphServer() as graph:`; `graph.url` is the base to configure."""

    latency: float = 0.0
    requests: list[Received] = field(default_factory=list)
    script: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    delays: deque[float] = field(default_factory=deque)
    templates_api: FakeTemplates = field(default_factory=FakeTemplates)
    port: int = 0
    # Media customers sent (returns): media id -> (bytes, MIME type); `media_fetches` counts downloads.
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    media_fetches: list[str] = field(default_factory=list)
    media_sha256: dict[str, str] = field(default_factory=dict)  # a hash to announce instead of the real one
    _server: uvicorn.Server | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v23.0"

    def fail_next(self, status: int, code: int, message: str = "scripted error", times: int = 1) -> None:
        """Answer the next `times` requests with this Meta error."""
        body = {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": message},
                "fbtrace_id": "AbCdEf",
            }
        }
        for _ in range(times):
            self.script.append((status, body))

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Answer the next `times` requests only after `seconds` (to make the client time out)."""
        self.delays.extend([seconds] * times)

    def templates(self) -> list[str]:
        """Template names in the order they were received."""
        return [r.body["template"]["name"] for r in self.requests if r.body.get("type") == "template"]

    async def _send(self, request: Request) -> JSONResponse:
        raw = await request.body()
        body = json.loads(raw)
        with self._lock:
            self.requests.append(
                Received(request.url.path, request.headers.get("authorization", ""), body, time.time())
            )
            scripted = self.script.popleft() if self.script else None
            delay = self.latency + (self.delays.popleft() if self.delays else 0.0)
        if delay:
            await asyncio.sleep(delay)
        if scripted is not None:
            return JSONResponse(scripted[1], status_code=scripted[0])
        refused = self.templates_api.send_problem(body) if body.get("type") == "template" else None
        if refused is not None:
            return JSONResponse(refused[1], status_code=refused[0])
        status, answer = fake.accept_send(body, load_catalogue(), fake.new_wamid())
        return JSONResponse(answer, status_code=status)

    def add_media(self, data: bytes, mime: str = "image/jpeg") -> str:
        """Hold media as if a customer had sent it; returns its media id."""
        media_id = str(1_000_000_000_000 + len(self.media))
        self.media[media_id] = (data, mime)
        return media_id

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization", "").startswith("Bearer ")

    async def _media_url(self, request: Request) -> JSONResponse:
        """GET /{media-id}: Meta's answer, with a download URL on this server."""
        media_id = str(request.path_params["media_id"])
        if not self._authorised(request):
            return JSONResponse(
                {"error": {"message": "no token", "type": "OAuthException", "code": 190}}, 401
            )
        if media_id not in self.media:
            return JSONResponse({"error": {"message": "Unsupported get request", "code": 100}}, 400)
        data, mime = self.media[media_id]
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"http://127.0.0.1:{self.port}/whatsapp_business/attachments/?mid={media_id}",
                "mime_type": mime,
                "sha256": self.media_sha256.get(media_id) or hashlib.sha256(data).hexdigest(),
                "file_size": str(len(data)),
                "id": media_id,
            }
        )

    async def _media_bytes(self, request: Request) -> Response:
        """GET <url>: the bytes, only with the Bearer token (as Meta's lookaside URL)."""
        media_id = request.query_params.get("mid", "")
        if not self._authorised(request) or media_id not in self.media:
            return Response(status_code=404)
        self.media_fetches.append(media_id)
        data, mime = self.media[media_id]
        return Response(data, media_type=mime)

    def __enter__(self) -> GraphServer:
        routes = [
            Route("/v23.0/{number}/messages", self._send, methods=["POST"]),
            Route("/v23.0/{media_id:int}", self._media_url, methods=["GET"]),
            Route("/whatsapp_business/attachments/", self._media_bytes, methods=["GET"]),
            *self.templates_api.routes(),
        ]
        app = Starlette(routes=routes)
        self._server, self.port = loopback.serve(app)
        return self

    def __exit__(self, *exc: object) -> None:
        loopback.stop(self._server)
