"""Engines for SQLite (WAL, one writer at a time) and PostgreSQL, and schema migration."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY = "orderwire_read_only"
# A pooled PostgreSQL connection idle longer than this is checked before use (see `_ping_after_idle`).
PING_AFTER_IDLE_SECONDS = 10.0


def reading(engine: sa.Engine) -> sa.Connection:
    """A connection for reads only, one snapshot per transaction; on SQLite it takes no write lock."""
    conn = engine.connect().execution_options(**{READ_ONLY: True})
    if engine.dialect.name == "postgresql":
        # Read committed gives each statement its own snapshot; a read-only repeatable-read transaction
        # sees one moment and never fails to serialize (postgresql.org/docs/current/transaction-iso.html).
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return conn


def sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, pool_size: int = 20, ping_after_idle: float = PING_AFTER_IDLE_SECONDS) -> sa.Engine:
    """An engine tuned for this service: WAL and immediate transactions on SQLite."""
    url = sqlalchemy_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Autocommit at the driver level; SQLAlchemy's "begin" below opens each transaction.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(connection: sa.Connection) -> None:
            # Take the write lock up front: a deferred transaction that later writes can fail with
            # "database is locked" instead of waiting (https://sqlite.org/lang_transaction.html).
            # Reads (see `reading`) need no lock: WAL lets them run beside the writer.
            read_only = connection.get_execution_options().get(READ_ONLY, False)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    # hide_parameters: errors are logged, and their SQL parameters would carry personal data.
    # No overflow: a connection opened beyond the pool is closed when returned, and the worker's 32 send
    # threads then made PostgreSQL start ~16 backends a second (soak); the pool keeps what it opens.
    engine = sa.create_engine(url, pool_size=pool_size, max_overflow=0, hide_parameters=True)
    _ping_after_idle(engine, ping_after_idle)
    return engine


def _ping_after_idle(engine: sa.Engine, seconds: float) -> None:
    """Check a pooled connection before use only if it sat idle for `seconds` or more.

    SQLAlchemy's `pool_pre_ping` checks every checkout: a round trip per transaction, about 3 % of the
    service's CPU per order (docs/benchmarks.md, "Two small cuts"). Under load a connection is back in
    use within milliseconds; one that sat idle may have been closed by the server meanwhile (a restart,
    `idle_session_timeout`, a proxy). One that breaks in use raises there, and SQLAlchemy then replaces
    the whole pool (docs.sqlalchemy.org/en/20/core/pooling.html, "Disconnect Handling - Optimistic");
    callers answer 503 or retry, as for any database error.
    """

    @sa.event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")  # none yet: connected just now
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool closes this connection and takes a new one (or raises why it cannot).
            raise sa.exc.DisconnectionError("idle connection closed by the server") from exc


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def autovacuum_off(engine: sa.Engine) -> bool:
    """Whether PostgreSQL's autovacuum is switched off (the queue tables then bloat; never on SQLite)."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        return bool(conn.execute(sa.text("SELECT current_setting('autovacuum')")).scalar_one() == "off")


def migrate(url: str) -> None:
    """Upgrade the schema to the newest migration."""
    command.upgrade(alembic_config(url), "head")
