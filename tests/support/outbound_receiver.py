"""A loopback webhook receiver: records every request and answers scripted status codes.

`script` holds the answers of the next requests (status, extra headers); when it is empty, `default`
answers. `verified(secret)` checks each recorded request the way a Standard Webhooks consumer does.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orderwire.integrations.standardwebhooks.signing import SignatureError, verify
from tests.support import loopback


@dataclass
class Hit:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int

    @property
    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


@dataclass
class Receiver:
    """Run with `with Receiver() as rx:`; `rx.url` is an endpoint to subscribe."""

    default: int = 200
    script: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    hits: list[Hit] = field(default_factory=list)
    port: int = 0
    _server: uvicorn.Server | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/orderwire"

    def answer_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` requests with `status` (and these headers)."""
        self.script.extend([(status, headers or {})] * times)

    def types(self) -> list[str]:
        """The event types delivered successfully, in arrival order."""
        return [h.json["type"] for h in self.hits if 200 <= h.status < 300]

    def verified(self, secret: str) -> bool:
        """True when every request carries a valid signature for its exact bytes."""
        for hit in self.hits:
            try:
                verify(secret, hit.headers, hit.body, datetime.fromtimestamp(hit.at, UTC))
            except SignatureError:
                return False
        return True

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            status, headers = self.script.popleft() if self.script else (self.default, {})
            self.hits.append(Hit(request.url.path, dict(request.headers), body, time.time(), status))
        return Response(b"" if status < 300 else b'{"error":"scripted"}', status, headers=headers)

    def __enter__(self) -> Receiver:
        app = Starlette(routes=[Route("/hooks/{name}", self._receive, methods=["POST"])])
        self._server, self.port = loopback.serve(app)
        return self

    def __exit__(self, *exc: object) -> None:
        loopback.stop(self._server)
