"""Stock read before deciding: back-ordered lines of a new order, and whether a replenishment offer's SKU
is in stock, from the configured inventory source.

The source is asked outside any transaction: `prefetch` runs before the pump's batch and reads the stock
of every SKU in the order events and replenishment timers about to be applied; `with_backorders` and
`offer_context` then only look the answer up. A source that fails, or an order event that became due
after the prefetch, means no stock news: the order is promised as if in stock, never held up; an offer
is not made (nothing says the SKU can be sold). One source per runtime (a feed keeps its own cache).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderwire.app import codec, vendors
from orderwire.app.ports import InventoryPort, StockLevel
from orderwire.app.runtime import Runtime
from orderwire.domain.events import OrderPlaced, TimerFired
from orderwire.domain.lifecycle import REPLENISH, OfferContext
from orderwire.domain.model import Order, Stage
from orderwire.domain.stock import backordered
from orderwire.store import queries
from orderwire.store.tables import jobs, orders

log = logging.getLogger(__name__)

_sources: dict[int, InventoryPort | None] = {}
# Per runtime and pump thread (each thread prefetches for the batch it is about to apply).
_prefetched: dict[tuple[int, int], dict[str, StockLevel]] = {}
_asked: dict[tuple[int, int], set[str]] = {}  # the SKUs the last prefetch asked the source about


def _batch_key(rt: Runtime) -> tuple[int, int]:
    return id(rt), threading.get_ident()


_ORDER_PLACED = codec.kind_of(OrderPlaced)
_TIMER_FIRED = codec.kind_of(TimerFired)  # replenishment offers


def source(rt: Runtime) -> InventoryPort | None:
    """This runtime's inventory source, or None when none is configured."""
    if id(rt) not in _sources:
        _sources[id(rt)] = vendors.inventory(rt.settings)
    return _sources[id(rt)]


def prefetch(rt: Runtime, now: datetime, limit: int) -> None:
    """Read the stock of the SKUs in the next `limit` due order events (no transaction is open)."""
    inventory = source(rt)
    if inventory is None:
        return
    with rt.engine.connect() as conn:
        payloads = conn.execute(
            sa.select(jobs.c.kind, jobs.c.payload)
            .where(
                jobs.c.kind.in_([_ORDER_PLACED, _TIMER_FIRED]),
                jobs.c.status == "pending",
                jobs.c.available_at <= now,
            )
            .order_by(jobs.c.available_at, jobs.c.id)
            .limit(limit)
        ).all()
        placed = [p["order"] for k, p in payloads if k == _ORDER_PLACED]
        wanted = {str(i.get("sku") or "") for o in placed for i in o["items"]}
        wanted |= {_offered_sku(str(p.get("kind", ""))) for k, p in payloads if k == _TIMER_FIRED}
        skus = sorted(wanted - {""})
    _prefetched[_batch_key(rt)] = _levels(inventory, skus) if skus else {}
    _asked[_batch_key(rt)] = set(skus)


def with_backorders(rt: Runtime, event: OrderPlaced) -> OrderPlaced | None:
    """The new order with its back-ordered SKUs (and their restock days) attached, for the EDD; None when
    the order arrived after this batch's stock read (decide it on the next round, with its stock)."""
    skus = {item.sku for item in event.order.items} - {""}
    if source(rt) is not None and not skus <= _asked.get(_batch_key(rt), set()):
        return None
    levels = _prefetched.get(_batch_key(rt), {})
    waiting = backordered(event.order.items, levels) if levels else {}
    if not waiting:
        return event
    return dataclasses.replace(event, order=dataclasses.replace(event.order, backordered=waiting))


def offer_context(
    conn: sa.Connection, rt: Runtime, row: sa.Row[Any], order: Order, timer_kind: str
) -> OfferContext | None:
    """What a replenishment timer's decision needs; None when its SKU was not read yet (run it later)."""
    sku = _offered_sku(timer_kind)
    opted_out = queries.opted_out(conn, int(row.customer_id))
    later = conn.execute(  # the customer's orders since this one, oldest first
        sa.select(orders.c.state, orders.c.created_at)
        .where(
            orders.c.shop_id == rt.shop_id,
            orders.c.customer_id == row.customer_id,
            orders.c.created_at > row.created_at,
            orders.c.id != row.id,
        )
        .order_by(orders.c.created_at, orders.c.id)
    ).all()
    # The shop's latest word on marketing consent is on the customer's newest order.
    latest = bool(later[-1].state["customer"].get("marketing_opt_in", False)) if later else None
    since = order.delivered_at
    reordered = since is not None and any(
        o.created_at > since
        and o.state["stage"] != Stage.CANCELLED.value
        and any(str(item.get("sku") or "") == sku for item in o.state["items"])
        for o in later
    )
    context = OfferContext(None, opted_out, reordered, latest)
    if source(rt) is None:
        return context  # no inventory source: stock unknown, no offer
    if not (opted_out or reordered) and sku not in _asked.get(_batch_key(rt), set()):
        return None
    return dataclasses.replace(context, levels=_prefetched.get(_batch_key(rt), {}))


def _offered_sku(timer_kind: str) -> str:
    """The SKU of a `replenish:<SKU>` timer ('' for other timers)."""
    prefix, _, sku = timer_kind.partition(":")
    return sku if prefix == REPLENISH else ""


def forget(rt: Runtime) -> None:
    """Drop this runtime's source and prefetched levels (the service stops)."""
    _sources.pop(id(rt), None)
    for key in [k for k in _prefetched if k[0] == id(rt)]:
        _prefetched.pop(key, None)
        _asked.pop(key, None)


def _levels(inventory: InventoryPort, skus: list[str]) -> dict[str, StockLevel]:
    try:
        return dict(inventory.levels(skus))
    except Exception:  # a broken stock source must not stop orders: no stock news is no back-order
        log.exception("stock levels not read")
        return {}
