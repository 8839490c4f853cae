"""The public pages' rate limit: a client guessing tracking links is slowed to a crawl; others are not."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from orderwire.web.limits import PublicRateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _app(clock: Clock) -> Starlette:
    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse("not found", status_code=404)

    app = Starlette(routes=[Route("/t/{token}", page), Route("/api/x", page)])
    app.add_middleware(PublicRateLimit, per_minute=60, clock=clock)
    return app


def _client(clock: Clock) -> TestClient:
    return TestClient(_app(clock), client=("203.0.113.9", 50000))


def test_guessing_tracking_links_is_slowed_down() -> None:
    clock = Clock()
    client = _client(clock)
    answers = [client.get(f"/t/guess{n}").status_code for n in range(61)]
    assert answers[:60] == [404] * 60 and answers[60] == 429
    refused = client.get("/t/again")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert client.get("/api/x").status_code == 404  # only the public pages are limited here
    clock.now += 1.0  # one more request's worth refills each second
    assert client.get("/t/later").status_code == 404
    assert client.get("/t/later").status_code == 429


def test_each_client_has_its_own_allowance() -> None:
    app = _app(Clock())
    guesser = TestClient(app, client=("198.51.100.1", 50000))
    customer = TestClient(app, client=("198.51.100.2", 50000))
    assert all(guesser.get(f"/t/{n}").status_code == 404 for n in range(60))
    assert guesser.get("/t/x").status_code == 429
    assert customer.get("/t/mine").status_code == 404
