"""Shared fixtures: a database per test on SQLite and on PostgreSQL, a fake Graph server, a live service."""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.support.graph_server import GraphServer

POSTGRES_ADMIN_URL = os.environ.get(
    "ORDERWIRE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_reachable() -> bool:
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    ok = _postgres_reachable()
    if not ok and os.environ.get("CI"):
        pytest.fail(f"PostgreSQL must be reachable in CI at {POSTGRES_ADMIN_URL}")
    return ok


@pytest.fixture
def postgres_url(postgres_available: bool) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not postgres_available:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} (start it, or run in CI)")
    name = f"ow_test_{secrets.token_hex(6)}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}".replace("postgresql+psycopg://", "postgresql://")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/orderwire.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def graph() -> Iterator[GraphServer]:
    """A fake Graph API server on a free loopback port."""
    with GraphServer() as server:
        yield server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll until `condition()` is truthy; fail the test with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


TEST_APP_SECRET = "test-app-secret"
TEST_API_KEY = "test-api-key"


def service_env(database_url: str, graph_url: str, public_url: str) -> dict[str, str]:
    """Environment for a service talking to the fake Graph server (not the sandbox)."""
    return {
        "ORDERWIRE_DATABASE_URL": database_url,
        "ORDERWIRE_API_KEY": TEST_API_KEY,
        "ORDERWIRE_WHATSAPP_API_URL": graph_url,
        "ORDERWIRE_WHATSAPP_TOKEN": "test-graph-token",
        "ORDERWIRE_WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "ORDERWIRE_WHATSAPP_APP_SECRET": TEST_APP_SECRET,
        "ORDERWIRE_WHATSAPP_VERIFY_TOKEN": "test-verify-token",
        "ORDERWIRE_PUBLIC_URL": public_url,
        "ORDERWIRE_SEND_RETRY_BASE_SECONDS": "0.05",
        "ORDERWIRE_QUIET_HOURS_START": "0",
        "ORDERWIRE_QUIET_HOURS_END": "0",
    }


def api(base_url: str) -> httpx.Client:
    """An API client with the test key."""
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TEST_API_KEY}"}, timeout=10)
