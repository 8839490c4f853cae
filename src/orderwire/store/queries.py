"""Small queries shared by the use cases; each takes an open connection (the caller owns the transaction)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from orderwire.store.tables import (
    customers,
    jobs,
    message_statuses,
    messages,
    order_refs,
    orders,
    shops,
    timeline,
)

# Higher wins: webhook statuses arrive late, twice and out of order.
MESSAGE_STATUS_RANK = {
    "scheduled": 0,
    "queued": 1,
    "retrying": 2,
    "accepted": 3,
    "sent": 4,
    "delivered": 5,
    "read": 6,
    "failed": 7,
    "held": 7,
    "cancelled": 8,
    "suppressed": 8,
}


def _insert(dialect_name: str) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


@functools.cache
def _insert_ignore_statement(dialect_name: str, table: sa.Table, keys: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for a table, built once per dialect (values come as parameters:
    building the statement with its values each time cost more CPU than running it)."""
    return (
        _insert(dialect_name)(table)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(*table.primary_key.columns)
    )


def insert_ignore(conn: sa.Connection, table: sa.Table, values: dict[str, Any], keys: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on both dialects; True when a row was inserted."""
    # rowcount is -1 for some drivers here; a returned row is the reliable sign of an insert.
    statement = _insert_ignore_statement(conn.dialect.name, table, tuple(keys))
    return conn.execute(statement, values).first() is not None


def ensure_shop(conn: sa.Connection, shop_id: str, name: str, timezone: str, now: datetime) -> None:
    """Create the shop row once."""
    insert_ignore(
        conn,
        shops,
        {"id": shop_id, "name": name, "timezone": timezone, "created_at": now},
        ["id"],
    )


# The hot statements are built once, with their values as parameters: building a Core statement and its
# cache key on every call cost more CPU than running it (docs/benchmarks.md, "prebuilt statements").
_ORDER_BY_ID = sa.select(orders).where(
    orders.c.shop_id == sa.bindparam("shop_id"), orders.c.order_id == sa.bindparam("value")
)
_ORDER_BY_REF = sa.select(orders).where(
    orders.c.shop_id == sa.bindparam("shop_id"),
    orders.c.id.in_(
        sa.select(order_refs.c.order_pk)
        .where(
            order_refs.c.shop_id == sa.bindparam("shop_id"),
            order_refs.c.kind == sa.bindparam("kind"),
            order_refs.c.value == sa.bindparam("value"),
        )
        .scalar_subquery()
    ),
)
_LOCK_ORDER = {"order": _ORDER_BY_ID.with_for_update(), "ref": _ORDER_BY_REF.with_for_update()}
_ORDER_KNOWN = {
    "order": _ORDER_BY_ID.with_only_columns(orders.c.id),
    "ref": _ORDER_BY_REF.with_only_columns(orders.c.id),
}


def _order_named(
    conn: sa.Connection, statements: dict[str, sa.Select[Any]], shop_id: str, ref: str
) -> sa.Row[Any] | None:
    """The first row of the statement for a reference ('order:<shop order id>' or '<kind>:<value>')."""
    kind, _, value = ref.partition(":")
    statement = statements["order" if kind == "order" else "ref"]
    return conn.execute(statement, {"shop_id": shop_id, "kind": kind, "value": value}).first()


def lock_order(conn: sa.Connection, shop_id: str, ref: str) -> sa.Row[Any] | None:
    """The order a reference names ('order:<shop order id>' or '<kind>:<value>'), locked for update."""
    return _order_named(conn, _LOCK_ORDER, shop_id, ref)


def order_known(conn: sa.Connection, shop_id: str, ref: str) -> bool:
    """Whether a reference names an order we have."""
    return _order_named(conn, _ORDER_KNOWN, shop_id, ref) is not None


@functools.cache
def _upsert_customer_statement(dialect_name: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE for customers, built once per dialect."""
    stmt = _insert(dialect_name)(customers)
    # An inbound message knows no name: it must not erase the one the shop gave.
    keep_unless_named = sa.case((stmt.excluded.name == "", customers.c.name), else_=stmt.excluded.name)
    keep_language = sa.case((stmt.excluded.name == "", customers.c.language), else_=stmt.excluded.language)
    # Returned with the id, what a new order asks next (its first with the shop? STOP said?): two
    # statements fewer per order than asking after (docs/benchmarks.md, "fewer statements per order").
    order_count = (
        sa.select(sa.func.count())
        .select_from(orders)
        .where(orders.c.customer_id == sa.literal_column("customers.id"))
    ).scalar_subquery()
    return stmt.on_conflict_do_update(
        index_elements=["shop_id", "phone"], set_={"name": keep_unless_named, "language": keep_language}
    ).returning(customers.c.id, customers.c.opted_out, order_count.label("orders"))


def upsert_customer(
    conn: sa.Connection, shop_id: str, phone: str, name: str, language: str, now: datetime
) -> sa.Row[Any]:
    """The customer (id, opted_out, orders: how many it has with the shop), created or refreshed with
    the latest name and language, in one statement."""
    values = {
        "shop_id": shop_id,
        "phone": phone,
        "name": name,
        "language": language,
        "opted_out": False,
        "created_at": now,
    }
    return conn.execute(_upsert_customer_statement(conn.dialect.name), values).one()


_OPTED_OUT = sa.select(customers.c.opted_out).where(customers.c.id == sa.bindparam("customer_id"))


def opted_out(conn: sa.Connection, customer_id: int) -> bool:
    """Whether the customer said STOP."""
    return bool(conn.execute(_OPTED_OUT, {"customer_id": customer_id}).scalar())


def add_refs(conn: sa.Connection, shop_id: str, order_pk: int, refs: list[tuple[str, str]]) -> None:
    """Remember other names of the order (number, payment id, AWB) for correlation, in one statement."""
    rows = [
        {"shop_id": shop_id, "kind": kind, "value": value, "order_pk": order_pk}
        for kind, value in refs
        if value and len(kind) <= 32 and len(value) <= 200  # longer names stay in the order's state only
    ]
    if rows:  # one executemany of insert_ignore's statement
        conn.execute(
            _insert_ignore_statement(conn.dialect.name, order_refs, ("shop_id", "kind", "value")), rows
        )


_ANY_PARKED = sa.select(jobs.c.id).where(jobs.c.status == "parked").limit(1)


def any_parked(conn: sa.Connection) -> bool:
    """Whether any job waits for its order."""
    return conn.execute(_ANY_PARKED).first() is not None


def unpark_jobs(conn: sa.Connection, shop_id: str, refs: list[str], now: datetime) -> int:
    """Release events that waited for this order; they run next, in arrival order."""
    result = conn.execute(
        jobs.update()
        .where(
            jobs.c.shop_id == shop_id,
            jobs.c.status == "parked",
            sa.or_(jobs.c.order_ref.in_(refs), jobs.c.alt_ref.in_(refs)),
        )
        .values(status="pending", available_at=now)
    )
    return int(result.rowcount)


def best_status(current: str, *others: str) -> str:
    """The most advanced of the given message statuses."""
    return max((current, *others), key=lambda s: MESSAGE_STATUS_RANK.get(s, 0))


def best_recorded_status(current: str, wamid: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """SQL for `best_status(current, *webhook statuses recorded for wamid)`: a status can arrive before
    our record of the send, and is applied then, in the record's own statement."""
    above = {s: rank for s, rank in MESSAGE_STATUS_RANK.items() if rank > MESSAGE_STATUS_RANK[current]}
    rank = sa.case(above, value=message_statuses.c.status)
    recorded = (
        sa.select(message_statuses.c.status)
        .where(message_statuses.c.wamid == wamid, message_statuses.c.status.in_(above))
        .order_by(rank.desc())
        .limit(1)
        .scalar_subquery()
    )
    return sa.func.coalesce(recorded, current)


def message_by_key(conn: sa.Connection, shop_id: str, key: str) -> sa.Row[Any] | None:
    """One message by its unique key."""
    return conn.execute(
        sa.select(messages).where(messages.c.shop_id == shop_id, messages.c.key == key)
    ).first()


_TIMELINE_ENTRY = timeline.insert()


def add_timeline(
    conn: sa.Connection,
    order_pk: int,
    at: datetime,
    now: datetime,
    kind: str,
    outcome: str,
    note: str,
    detail: dict[str, Any],
) -> None:
    """One entry on an order's timeline: what happened (`at`), when we recorded it, and what it did."""
    conn.execute(
        _TIMELINE_ENTRY,
        {
            "order_pk": order_pk,
            "at": at,
            "recorded_at": now,
            "kind": kind[:32],
            "outcome": outcome,
            "note": note[:500],
            "detail": detail,
        },
    )
