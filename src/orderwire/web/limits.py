"""Refuse oversized request bodies (413) before any handler reads them; slow down page guessing (429)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024


class BodyLimit:
    """ASGI middleware: bodies over `limit` bytes get 413, whether announced or streamed (chunked)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.limit:
                await _reject(send)
                return
            await self.app(scope, receive, send)
            return
        # No length announced: read it here, up to the limit, then hand it on in one piece.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await _reject(send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


async def _reject(send: Send) -> None:
    body = b'{"detail":"request body larger than 1 MB"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class PublicRateLimit:
    """ASGI middleware: at most `per_minute` requests per client address to the public pages (`prefixes`),
    then 429 with Retry-After. Tracking links are unguessable; this makes guessing them slow as well.

    Counted per process, in memory (a token bucket per address, at most `max_clients` remembered), which
    is enough to stop one client hammering; signed webhooks and the keyed API are not limited here.
    """

    def __init__(
        self,
        app: ASGIApp,
        per_minute: int,
        prefixes: tuple[str, ...] = ("/t/",),
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.app = app
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0
        self.prefixes = prefixes
        self.max_clients = max_clients
        self.clock = clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.prefixes) or self._allow(scope):
            await self.app(scope, receive, send)
            return
        body = b'{"detail":"too many requests, slow down"}'
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(max(1, round(1 / self.refill))).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _allow(self, scope: Scope) -> bool:
        client = scope.get("client")
        key = str(client[0]) if client else "unknown"
        now = self.clock()
        tokens, at = self.buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.refill)
        allowed = tokens >= 1.0
        self.buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self.buckets) > self.max_clients:
            self.buckets.popitem(last=False)  # forget the least recently seen client
        return allowed
