"""Durable sending against a fake Graph server: retries, errors by meaning, the rate limit."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from orderwire.store.tables import customers, messages
from tests.conftest import api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService


def _message(live: LiveService) -> Any:
    with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
        return conn.execute(sa.select(messages).where(messages.c.direction == "out")).first()


def _final(live: LiveService) -> Any:
    row = _message(live)
    return row if row is not None and row.status in ("accepted", "failed") else None


def test_server_errors_are_retried_until_accepted(database_url: str, graph: GraphServer) -> None:
    graph.fail_next(500, 1, "Unknown error", times=1)
    graph.fail_next(503, 131000, "Something went wrong", times=1)
    with LiveService(service_env(database_url, graph.url, "")) as live, api(live.url) as client:
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        row = wait_for(lambda: _final(live))
        assert row.status == "accepted" and row.attempts == 3 and row.wamid
        assert len(graph.requests) == 3
        assert {r.body["template"]["name"] for r in graph.requests} == {"order_confirmation"}


def test_undeliverable_number_fails_once_and_is_flagged(database_url: str, graph: GraphServer) -> None:
    graph.fail_next(400, 131026, "Message undeliverable")
    with LiveService(service_env(database_url, graph.url, "")) as live, api(live.url) as client:
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        row = wait_for(lambda: _final(live))
        assert (row.status, row.error_code, row.needs_attention) == ("failed", "131026", True)
        with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
            assert conn.execute(sa.select(customers.c.unreachable_at)).scalar() is not None
        view = client.get("/api/v1/orders/shop-1001").json()
        assert view["messages"][0]["needs_attention"] is True
    assert len(graph.requests) == 1


def test_expired_token_is_not_retried(database_url: str, graph: GraphServer) -> None:
    graph.fail_next(401, 190, "Error validating access token: Session has expired")
    with LiveService(service_env(database_url, graph.url, "")) as live, api(live.url) as client:
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        row = wait_for(lambda: _final(live))
        assert (row.status, row.error_code) == ("failed", "190")
    assert len(graph.requests) == 1


def test_persistent_outage_gives_up_after_the_last_attempt(tmp_path: Any, graph: GraphServer) -> None:
    graph.fail_next(500, 2, "Service temporarily unavailable", times=50)
    env = service_env(f"sqlite:///{tmp_path}/o.db", graph.url, "") | {"ORDERWIRE_SEND_MAX_ATTEMPTS": "4"}
    with LiveService(env) as live, api(live.url) as client:
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        row = wait_for(lambda: _final(live))
        assert (row.status, row.needs_attention, row.attempts) == ("failed", True, 4)
    assert len(graph.requests) == 4


def test_rate_limit_holds_in_every_second(tmp_path: Any, graph: GraphServer) -> None:
    env = service_env(f"sqlite:///{tmp_path}/o.db", graph.url, "") | {
        "ORDERWIRE_WHATSAPP_RATE_PER_SECOND": "5"
    }
    with LiveService(env) as live, api(live.url) as client:
        for n in range(15):
            order = {**ORDER, "order_id": f"o-{n}", "paid": True}
            order["customer"] = {**ORDER["customer"], "phone": f"+9198100000{n:02d}"}
            client.post("/api/v1/orders", json=order).raise_for_status()
        wait_for(lambda: len(graph.requests) >= 15, timeout=20)
    arrivals = sorted(r.at for r in graph.requests)
    for i, start in enumerate(arrivals):
        in_window = [t for t in arrivals[i:] if t < start + 1.0]
        # Requests are spaced 0.2 s apart; a window may touch both ends of five intervals.
        assert len(in_window) <= 6, f"{len(in_window)} sends within one second"
    assert arrivals[-1] - arrivals[0] >= 1.8  # 15 messages at 5/s cannot finish in under ~2 s
