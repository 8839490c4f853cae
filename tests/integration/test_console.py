"""The staff console: access control on every route, CSRF, login throttling, replies, cases, dashboard."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from orderwire.app import dashboard, staff
from orderwire.app.runtime import Runtime
from orderwire.bootstrap import build_runtime
from orderwire.integrations.whatsapp.fake import customer_message_webhook, new_wamid, status_webhook
from orderwire.integrations.whatsapp.webhook import signature_for
from orderwire.settings import Settings
from orderwire.store.tables import escalations, messages, template_statuses
from orderwire.web.app import create_app
from orderwire.web.console import render
from tests.conftest import TEST_API_KEY, TEST_APP_SECRET, api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService

PASSWORD = "correct horse battery"
PHONE = "+919812345678"
NUMBER_ID = "106540352242922"

# Every console route and who may use it. A route missing here fails test_every_route_is_listed: a new
# route cannot be added without deciding (and testing) its access.
PUBLIC, STAFF, ADMIN, STAFF_API, API_KEY = "public", "staff", "admin", "staff_api", "api_key"
POLICY: dict[tuple[str, str], str] = {
    ("GET", "/console/login"): PUBLIC,
    ("POST", "/console/login"): PUBLIC,
    ("POST", "/console/logout"): STAFF,
    ("GET", "/console"): STAFF,
    ("GET", "/console/inbox"): STAFF,
    ("GET", "/console/cases/{case_id}"): STAFF,
    ("POST", "/console/cases/{case_id}/assign"): STAFF,
    ("POST", "/console/cases/{case_id}/resolve"): STAFF,
    ("POST", "/console/cases/{case_id}/notes"): STAFF,
    ("GET", "/console/orders/{order_id}"): STAFF,
    ("GET", "/console/orders/{order_id}/thread"): STAFF,
    ("POST", "/console/orders/{order_id}/reply"): STAFF,
    ("POST", "/console/orders/{order_id}/template"): STAFF,
    ("POST", "/console/orders/{order_id}/ndr"): STAFF,
    ("GET", "/console/returns/{rma}/photos/{photo_id}"): STAFF,
    ("POST", "/console/returns/{rma}/{action}"): STAFF,
    ("GET", "/console/dashboard"): ADMIN,
    ("GET", "/console/users"): ADMIN,
    ("POST", "/console/users"): ADMIN,
    ("POST", "/console/users/{user_id}/disable"): ADMIN,
    ("POST", "/console/users/{user_id}/enable"): ADMIN,
    ("GET", "/console/api/pulse"): STAFF_API,
    ("GET", "/console/api/cases"): STAFF_API,
    ("GET", "/metrics"): API_KEY,
}
STAFF_AREAS = ("/console", "/metrics")


@dataclass
class Console:
    """A console app on a fresh SQLite database (no worker), with an admin and an agent."""

    rt: Runtime
    http: TestClient
    admin_id: int
    agent_id: int

    def log_in(self, email: str) -> str:
        """Log in through the form; returns the session's CSRF token."""
        page = self.http.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = self.http.post(
            "/console/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        inbox = self.http.get("/console/inbox")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', inbox.text)
        assert csrf is not None
        return csrf.group(1)


@pytest.fixture
def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"ORDERWIRE_{name.upper()}", raising=False)
    settings = Settings(database_url=f"sqlite:///{tmp_path}/ow.db", api_key=TEST_API_KEY)  # type: ignore[arg-type]
    rt = build_runtime(settings)
    admin_id = staff.create_user(rt, "admin@example.com", PASSWORD, "admin", "Ada Admin")
    agent_id = staff.create_user(rt, "agent@example.com", PASSWORD, "agent", "Arun Agent")
    with TestClient(create_app(runtime=rt, with_worker=False)) as http:
        yield Console(rt, http, admin_id, agent_id)
    rt.engine.dispose()


def _all_routes(routes: list[Any]) -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route, inside included routers too (FastAPI keeps those nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, set(route.methods)
        elif hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                yield context.path, set(context.methods or ())
        elif hasattr(route, "methods") and hasattr(route, "path"):
            yield route.path, set(route.methods or ())


def _routes(console: Console) -> list[tuple[str, str]]:
    found = []
    for path, methods in _all_routes(console.http.app.routes):  # type: ignore[attr-defined]
        if path.startswith(STAFF_AREAS):
            found += [(method, path) for method in sorted(methods) if method != "HEAD"]
    return found


def _concrete(path: str) -> str:
    values = {
        "case_id": "1",
        "order_id": "shop-1001",
        "rma": "RMAABCDEFGHI",
        "photo_id": "1",
        "action": "approve",
        "user_id": "2",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def test_every_route_is_listed(console: Console) -> None:
    assert sorted(_routes(console)) == sorted(POLICY)


def test_anonymous_is_sent_to_login_or_refused(console: Console) -> None:
    for method, path in _routes(console):
        access = POLICY[(method, path)]
        if access == PUBLIC:
            continue
        answer = console.http.request(method, _concrete(path), follow_redirects=False)
        if access in (STAFF_API, API_KEY):
            assert answer.status_code == 401, (method, path)
        else:
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/console/login"), (method, path)


def test_agents_cannot_use_admin_routes(console: Console) -> None:
    csrf = console.log_in("agent@example.com")
    for method, path in _routes(console):
        if POLICY[(method, path)] != ADMIN:
            continue
        answer = console.http.request(
            method,
            _concrete(path),
            data={"csrf_token": csrf} if method == "POST" else None,
            follow_redirects=False,
        )
        assert answer.status_code == 403, (method, path)
    assert console.http.get("/console/inbox").status_code == 200


def test_every_post_needs_the_sessions_csrf_token(console: Console) -> None:
    console.log_in("admin@example.com")
    for method, path in _routes(console):
        if method != "POST" or POLICY[(method, path)] == PUBLIC:
            continue
        missing = console.http.post(_concrete(path), data={"text": "hi"}, follow_redirects=False)
        assert missing.status_code == 403, (path, missing.status_code)
        wrong = console.http.post(
            _concrete(path), data={"csrf_token": "x" * 43, "text": "hi"}, follow_redirects=False
        )
        assert wrong.status_code == 403, path
        header = console.http.post(_concrete(path), headers={"X-CSRF-Token": "nope"}, follow_redirects=False)
        assert header.status_code == 403, path
    # The login form has its own token, bound to a cookie.
    no_token = console.http.post(
        "/console/login", data={"email": "admin@example.com", "password": PASSWORD}, follow_redirects=False
    )
    assert no_token.status_code == 403


def test_admin_manages_users_and_a_disabled_user_is_signed_out(console: Console) -> None:
    agent = TestClient(console.http.app)
    agent_console = Console(console.rt, agent, console.admin_id, console.agent_id)
    agent_console.log_in("agent@example.com")
    assert agent.get("/console/inbox").status_code == 200
    csrf = console.log_in("admin@example.com")
    done = console.http.post(
        f"/console/users/{console.agent_id}/disable", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    assert agent.get("/console/inbox", follow_redirects=False).status_code == 303
    created = console.http.post(
        "/console/users",
        data={"csrf_token": csrf, "email": "New@Example.com", "password": PASSWORD, "role": "agent"},
        follow_redirects=False,
    )
    assert created.status_code == 303 and "error" not in created.headers["location"]
    assert "new@example.com" in console.http.get("/console/users").text


def test_session_cookie_flags_and_logout_revokes(console: Console) -> None:
    page = console.http.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    answer = console.http.post(
        "/console/login",
        data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("ow_staff="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # http:// here
    inbox = console.http.get("/console/inbox")
    assert inbox.headers["x-frame-options"] == "DENY" and inbox.headers["cache-control"] == "no-store"
    # After logging in, only console paths are followed: never another site.
    assert render.safe_next("//evil.example/console") == "/console/inbox"
    assert render.safe_next("https://evil.example/") == "/console/inbox"
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(value) >= 43  # 256 bits, url-safe base64
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', console.http.get("/console/inbox").text)
    assert csrf is not None
    console.http.post("/console/logout", data={"csrf_token": csrf.group(1)})
    assert staff.session_for(console.rt, value) is None


def test_login_is_throttled_per_email_and_address(console: Console) -> None:
    rt = console.rt
    for _ in range(staff.LOGIN_FAILURES_ALLOWED):
        with pytest.raises(staff.LoginError):
            staff.log_in(rt, "agent@example.com", "wrong password", "10.0.0.1")
    with pytest.raises(staff.TooManyAttempts):
        staff.log_in(rt, "agent@example.com", PASSWORD, "10.0.0.1")  # even the right password
    staff.log_in(rt, "agent@example.com", PASSWORD, "10.0.0.2")  # another address is not blocked
    # Through the form: the sixth attempt is answered 429.
    for n in range(staff.LOGIN_FAILURES_ALLOWED + 1):
        page = console.http.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = console.http.post(
            "/console/login",
            data={"email": "admin@example.com", "password": "nope", "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert answer.status_code == (429 if n == staff.LOGIN_FAILURES_ALLOWED else 303)


def test_login_failures_expire_after_the_window(console: Console) -> None:
    rt = console.rt
    start = datetime.now(UTC)
    rt.clock = lambda: start
    for _ in range(staff.LOGIN_FAILURES_ALLOWED):
        with pytest.raises(staff.LoginError):
            staff.log_in(rt, "agent@example.com", "wrong password", "10.0.0.1")
    rt.clock = lambda: start + staff.LOGIN_WINDOW + timedelta(seconds=1)
    staff.log_in(rt, "agent@example.com", PASSWORD, "10.0.0.1")


def test_passwords_are_argon2id_hashes(console: Console) -> None:
    with console.rt.engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT password_hash FROM users WHERE email = 'agent@example.com'")
        ).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert staff.password_matches(stored, PASSWORD)
    assert not staff.password_matches(stored, PASSWORD + "!")
    assert not staff.password_matches("not a hash", PASSWORD)
    with pytest.raises(staff.UserError):
        staff.create_user(console.rt, "AGENT@example.com", PASSWORD, "agent")  # same email, other case
    with pytest.raises(staff.UserError):
        staff.create_user(console.rt, "short@example.com", "short", "agent")


def test_metrics_need_the_api_key(console: Console) -> None:
    assert console.http.get("/metrics").status_code == 401
    answer = console.http.get("/metrics", headers={"Authorization": f"Bearer {TEST_API_KEY}"})
    assert answer.status_code == 200
    assert "orderwire_escalations_open" in answer.text
    assert 'orderwire_messages_waiting{status="queued"} 0.0' in answer.text


def test_cli_creates_the_first_admin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from orderwire.cli import app

    for name in Settings.model_fields:
        monkeypatch.delenv(f"ORDERWIRE_{name.upper()}", raising=False)
    monkeypatch.setenv("ORDERWIRE_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("ORDERWIRE_NEW_USER_PASSWORD", PASSWORD)
    result = CliRunner().invoke(app, ["user", "create", "Boss@Example.com", "--role", "admin"])
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(app, ["user", "create", "boss@example.com", "--role", "admin"])
    assert again.exit_code == 1
    rt = build_runtime(Settings())
    try:
        staff.log_in(rt, "boss@example.com", PASSWORD, "127.0.0.1")
    finally:
        rt.engine.dispose()


# --- through the real service (worker, fake Graph API), on SQLite and PostgreSQL ---


def _sample(exposition: str, series: str) -> float:
    """The value of one series (name and labels as printed) in a Prometheus text exposition; 0 if absent."""
    for line in exposition.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _signed(client: httpx.Client, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    answer = client.post(
        "/webhooks/whatsapp",
        content=raw,
        headers={"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, raw)},
    )
    assert answer.status_code == 200


def _staff_client(live: LiveService, email: str) -> tuple[httpx.Client, str]:
    http = httpx.Client(base_url=live.url, timeout=10, follow_redirects=True)
    page = http.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    http.post("/console/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/console/inbox").text)
    assert csrf is not None
    return http, csrf.group(1)


def test_reply_inside_the_window_only_and_templates_the_gate_allows(
    database_url: str, graph: GraphServer
) -> None:
    with LiveService(service_env(database_url, graph.url, "")) as live, api(live.url) as client:
        rt = live.rt
        assert rt is not None
        staff.create_user(rt, "agent@example.com", PASSWORD, "agent")
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        wait_for(lambda: graph.templates() == ["order_confirmation"])
        http, csrf = _staff_client(live, "agent@example.com")
        page = http.get("/console/orders/shop-1001")
        assert page.status_code == 200 and "24-hour window closed" in page.text
        assert 'name="text"' not in page.text  # no free-text form while the window is closed
        refused = http.post("/console/orders/shop-1001/reply", data={"csrf_token": csrf, "text": "Hello"})
        assert "window" in str(refused.url) and "closed" in refused.text
        # A paused template is neither offered nor accepted.
        with rt.engine.begin() as conn:
            conn.execute(
                template_statuses.insert().values(
                    shop_id=rt.shop_id,
                    name="order_confirmation",
                    language="en",
                    status="PAUSED",
                    category="UTILITY",
                    reason="",
                    status_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC),
                )
            )
        page = http.get("/console/orders/shop-1001")
        assert 'value="confirmation"' not in page.text and 'value="processing"' in page.text
        http.post("/console/orders/shop-1001/template", data={"csrf_token": csrf, "kind": "confirmation"})
        http.post("/console/orders/shop-1001/template", data={"csrf_token": csrf, "kind": "processing"})
        wait_for(lambda: graph.templates() == ["order_confirmation", "order_processing"])
        # The customer writes: the window opens, free text goes out through the send queue.
        _signed(
            client, customer_message_webhook(NUMBER_ID, PHONE, "Asha", datetime.now(UTC), new_wamid(), "hi?")
        )
        wait_for(lambda: "24-hour window open" in http.get("/console/orders/shop-1001").text)
        http.post(
            "/console/orders/shop-1001/reply", data={"csrf_token": csrf, "text": "Your kurta ships today."}
        )
        texts = lambda: [r.body for r in graph.requests if r.body.get("type") == "text"]  # noqa: E731
        wait_for(lambda: any(b["text"]["body"] == "Your kurta ships today." for b in texts()))
        thread = http.get("/console/orders/shop-1001/thread").text
        assert "Your kurta ships today." in thread and "hi?" in thread
        view = client.get("/api/v1/orders/shop-1001").json()
        assert any(e["event"] == "staff" for e in view["timeline"])


def test_final_failure_opens_a_case_and_the_inbox_shows_it(database_url: str, graph: GraphServer) -> None:
    graph.fail_next(400, 131026, "Message undeliverable")
    errors = 'orderwire_send_errors_total{code="131026"}'
    with LiveService(service_env(database_url, graph.url, "")) as live, api(live.url) as client:
        before = _sample(client.get("/metrics").text, errors)  # counters are per process, across tests
        rt = live.rt
        assert rt is not None
        staff.create_user(rt, "agent@example.com", PASSWORD, "agent")
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()

        def case() -> Any:
            with rt.engine.connect() as conn:
                return conn.execute(
                    sa.select(escalations).where(escalations.c.reason == "message_failed")
                ).first()

        found = wait_for(case)
        assert found.detail["error_code"] == "131026"
        http, csrf = _staff_client(live, "agent@example.com")
        inbox = http.get("/console/inbox")
        assert "A message to the customer failed for good" in inbox.text
        assert http.get("/console/api/cases").json()[0]["reason"] == "message_failed"
        http.post(f"/console/cases/{found.id}/assign", data={"csrf_token": csrf, "assignee": "me"})
        http.post(
            f"/console/cases/{found.id}/notes", data={"csrf_token": csrf, "body": "Called her instead."}
        )
        mine = http.get("/console/inbox", params={"assignee": "me"}).text
        assert f"/console/cases/{found.id}" in mine
        http.post(f"/console/cases/{found.id}/resolve", data={"csrf_token": csrf})
        page = http.get(f"/console/cases/{found.id}").text
        assert "Called her instead." in page and "resolved" in page
        assert f"/console/cases/{found.id}" not in http.get("/console/inbox").text
        with rt.engine.connect() as conn:
            row = conn.execute(sa.select(escalations).where(escalations.c.id == found.id)).one()
        assert row.resolved_at is not None and row.resolved_by is not None
        metrics = client.get("/metrics").text
        assert _sample(metrics, errors) == before + 1
        assert _sample(metrics, 'orderwire_escalations_open{reason="message_failed"}') == 0  # resolved


def test_dashboard_measures_confirmation_latency_and_wismo(database_url: str, graph: GraphServer) -> None:
    with LiveService(service_env(database_url, graph.url, "")) as live, api(live.url) as client:
        rt = live.rt
        assert rt is not None
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        wait_for(lambda: graph.templates() == ["order_confirmation"])

        def confirmation() -> Any:
            with rt.engine.connect() as conn:
                return conn.execute(
                    sa.select(messages).where(
                        messages.c.kind == "confirmation", messages.c.wamid.is_not(None)
                    )
                ).first()

        sent = wait_for(confirmation)
        at = sent.created_at + timedelta(seconds=4)
        _signed(client, status_webhook(NUMBER_ID, sent.wamid, PHONE, "sent", at))
        _signed(client, status_webhook(NUMBER_ID, sent.wamid, PHONE, "delivered", at))
        _signed(
            client,
            customer_message_webhook(
                NUMBER_ID, PHONE, "Asha", datetime.now(UTC), new_wamid(), "where is my order?"
            ),
        )
        now = datetime.now(UTC)
        period = dashboard.Period(now - timedelta(hours=1), now + timedelta(hours=1))
        figures = wait_for(lambda: (f := dashboard.figures(rt, period))["confirmation"]["measured"] and f)
        assert figures["orders"] == 1
        assert 3.0 <= figures["confirmation"]["p50"] <= 5.0
        assert figures["confirmation"]["within_promise"] == 1
        assert figures["wismo"]["questions"] == 1 and figures["wismo"]["per_100_orders"] == 100
        assert figures["cost"]["lines"] == [
            {"category": "utility", "delivered": 1, "price": 0.115, "cost": 0.115}
        ]
        confirmation_row = next(r for r in figures["messages_by_kind"] if r["kind"] == "confirmation")
        assert confirmation_row["sent"] == 1 and confirmation_row["delivered"] == 1
        assert figures["returns"] == {}  # no return in this period
        staff.create_user(rt, "admin@example.com", PASSWORD, "admin")
        http, _ = _staff_client(live, "admin@example.com")
        page = http.get("/console/dashboard", params={"days": 1})
        assert page.status_code == 200 and page.text.count("<svg") >= 5
        assert f"{figures['confirmation']['p50']:.1f} s" in page.text and "100% within 30 s" in page.text
        metrics = client.get("/metrics").text
        assert _sample(metrics, 'orderwire_webhooks_total{outcome="accepted",vendor="whatsapp"}') >= 3
        assert "orderwire_send_seconds_count" in metrics


def test_migration_0010_matches_the_tables(database_url: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from orderwire.store.db import alembic_config, make_engine, migrate
    from orderwire.store.tables import metadata

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diffs == []
        command.downgrade(alembic_config(database_url), "0005")
        with engine.connect() as conn:
            assert "users" not in sa.inspect(conn).get_table_names()
        command.upgrade(alembic_config(database_url), "head")
    finally:
        engine.dispose()


def test_secure_cookie_when_published_over_https(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"ORDERWIRE_{name.upper()}", raising=False)
    settings = Settings(  # type: ignore[arg-type]
        database_url=f"sqlite:///{tmp_path}/ow.db", public_url="https://shop.example.com"
    )
    rt = build_runtime(settings)
    staff.create_user(rt, "agent@example.com", PASSWORD, "agent")
    with TestClient(create_app(runtime=rt, with_worker=False), base_url="https://testserver") as http:
        page = http.get("/console/login")
        assert "Secure" in page.headers["set-cookie"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = http.post(
            "/console/login",
            data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("ow_staff="))
        assert "Secure" in cookie and "HttpOnly" in cookie
    rt.engine.dispose()
