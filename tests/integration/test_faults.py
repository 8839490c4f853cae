"""Faults at the edges: a Graph API that times out, throttles or closes the window; a database that
goes away. Each is handled by its meaning, nothing acknowledged is lost, and nothing loops forever."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderwire.store.db import make_engine
from orderwire.store.tables import customers, escalations, messages
from tests.conftest import POSTGRES_ADMIN_URL, api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.integration.test_ndr import AWB, _ship_to_failure, _tap, _wamid_of, courier_env
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService


def _confirmation(live: LiveService) -> Any:
    with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
        row = conn.execute(sa.select(messages).where(messages.c.kind == "confirmation")).first()
    return row if row is not None and row.status in ("accepted", "failed") else None


def test_a_timed_out_request_is_retried(tmp_path: Any, graph: GraphServer) -> None:
    graph.delay_next(1.5)
    env = service_env(f"sqlite:///{tmp_path}/o.db", graph.url, "") | {
        "ORDERWIRE_WHATSAPP_TIMEOUT_SECONDS": "0.5"
    }
    with LiveService(env) as live, api(live.url) as client:
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        row = wait_for(lambda: _confirmation(live))
        assert (row.status, row.attempts) == ("accepted", 2)
    # Meta may have taken the timed-out request: this is the documented duplicate window.
    assert len(graph.requests) == 2


def test_throttling_slows_down_then_sends(tmp_path: Any, graph: GraphServer) -> None:
    graph.fail_next(429, 130429, "Rate limit hit", times=1)
    graph.fail_next(400, 131056, "Pair rate limit hit", times=1)
    env = service_env(f"sqlite:///{tmp_path}/o.db", graph.url, "")
    with LiveService(env) as live, api(live.url) as client:
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        row = wait_for(lambda: _confirmation(live))
        assert (row.status, row.attempts) == ("accepted", 3)
    gaps = [b.at - a.at for a, b in zip(graph.requests, graph.requests[1:], strict=False)]
    # Slow-down backs off 4× per attempt (base 0.05 s in tests): 0.05 s, then 0.2 s.
    assert gaps[1] >= 0.2 and gaps[1] > gaps[0]


def test_outside_the_window_the_reply_goes_to_staff(database_url: str, graph: GraphServer) -> None:
    """Meta's 131047 on a session reply: the window is closed for us too, and staff get the text."""
    with LiveService(courier_env(database_url, graph)) as live, api(live.url) as client:
        _ship_to_failure(client, graph)
        graph.fail_next(400, 131047, "Re-engagement message")
        _tap(client, _wamid_of(live, "order_delivery_failed"), button=("Reschedule", f"ndr:reschedule:{AWB}"))

        def case() -> Any:
            with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
                return conn.execute(
                    sa.select(escalations).where(escalations.c.reason == "window_closed")
                ).first()

        found = wait_for(case)
        assert "on which day" in found.detail["unsent"]
        with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
            failed = conn.execute(sa.select(messages).where(messages.c.error_code == "131047")).one()
            assert (failed.status, failed.attempts) == ("failed", 1)  # not retried: it cannot succeed
            window = conn.execute(sa.select(customers.c.window_expires_at)).scalar()
            assert window is not None and window <= live.rt.clock()  # type: ignore[union-attr]


@pytest.mark.postgres
def test_database_outage_gets_503_and_loses_nothing(postgres_url: str, graph: GraphServer) -> None:
    """The database refuses connections for a moment: webhooks get 503 (vendors retry), then succeed."""
    name = postgres_url.rsplit("/", 1)[1]
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def database_reachable(allowed: bool) -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
            if not allowed:
                conn.execute(
                    sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": name},
                )

    try:
        with LiveService(service_env(postgres_url, graph.url, "")) as live, api(live.url) as client:
            database_reachable(False)
            refused = client.post("/api/v1/orders", json={**ORDER, "paid": True})
            assert refused.status_code == 503 and refused.json()["detail"]
            assert client.get("/healthz").status_code == 503
            time.sleep(1.0)  # the pump keeps failing meanwhile; it must carry on afterwards
            database_reachable(True)
            retried = wait_for(lambda: _post_when_up(client))
            assert retried.status_code == 202
            wait_for(lambda: _confirmation(live))
            again = client.post("/api/v1/orders", json={**ORDER, "paid": True})  # the vendor's retry
            assert again.json()["duplicate"] is True
        assert graph.templates() == ["order_confirmation"]
    finally:
        database_reachable(True)
        admin.dispose()


def _post_when_up(client: httpx.Client) -> httpx.Response | None:
    answer = client.post("/api/v1/orders", json={**ORDER, "paid": True})
    return answer if answer.status_code != 503 else None


def _backend_of(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(backend: int) -> None:
    """Close one server session, as a restart or `idle_session_timeout` would (waits until it is gone)."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": backend})
    finally:
        admin.dispose()


@pytest.mark.postgres
def test_a_connection_closed_while_idle_is_replaced_before_use(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=1, ping_after_idle=0.0)
    try:
        first = _backend_of(engine)
        _terminate(first)
        assert _backend_of(engine) != first  # checked, found closed and replaced: no error for the caller
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_connection_in_recent_use_is_used_without_a_check(postgres_url: str) -> None:
    """Under load no round trip goes to pings: a connection closed just after its last use fails its
    next statement (callers answer 503 or retry), and the pool replaces its connections."""
    engine = make_engine(postgres_url, pool_size=1, ping_after_idle=3600.0)
    try:
        first = _backend_of(engine)
        _terminate(first)
        with pytest.raises(sa.exc.OperationalError) as failed:
            _backend_of(engine)
        assert failed.value.connection_invalidated
        assert _backend_of(engine) != first
    finally:
        engine.dispose()
