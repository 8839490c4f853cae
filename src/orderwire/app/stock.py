"""Stock read before deciding: back-ordered lines of a new order, from the configured inventory source.

The source is asked outside any transaction: `prefetch` runs before the pump's batch and reads the stock
of every SKU in the order events about to be applied; `with_backorders` then only looks the answer up.
A source that fails, or an order event that became due after the prefetch, means no stock news: the
order is promised as if in stock, never held up. One source per runtime (a feed keeps its own cache).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

import sqlalchemy as sa

from orderwire.app import vendors
from orderwire.app.ports import InventoryPort, StockLevel
from orderwire.app.runtime import Runtime
from orderwire.domain.events import OrderPlaced
from orderwire.domain.stock import backordered
from orderwire.store.tables import jobs

log = logging.getLogger(__name__)

_sources: dict[int, InventoryPort | None] = {}
_prefetched: dict[int, dict[str, StockLevel]] = {}
_ORDER_PLACED = "order_placed"  # codec.event_kind of OrderPlaced


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
            sa.select(jobs.c.payload)
            .where(jobs.c.kind == _ORDER_PLACED, jobs.c.status == "pending", jobs.c.available_at <= now)
            .order_by(jobs.c.available_at, jobs.c.id)
            .limit(limit)
        ).scalars()
        skus = sorted({str(i.get("sku") or "") for p in payloads for i in p["order"]["items"]} - {""})
    _prefetched[id(rt)] = _levels(inventory, skus) if skus else {}


def with_backorders(rt: Runtime, event: OrderPlaced) -> OrderPlaced:
    """The new order with its back-ordered SKUs (and their restock days) attached, for the EDD."""
    levels = _prefetched.get(id(rt), {})
    waiting = backordered(event.order.items, levels) if levels else {}
    if not waiting:
        return event
    return dataclasses.replace(event, order=dataclasses.replace(event.order, backordered=waiting))


def forget(rt: Runtime) -> None:
    """Drop this runtime's source and prefetched levels (the service stops)."""
    _sources.pop(id(rt), None)
    _prefetched.pop(id(rt), None)


def _levels(inventory: InventoryPort, skus: list[str]) -> dict[str, StockLevel]:
    try:
        return dict(inventory.levels(skus))
    except Exception:  # a broken stock source must not stop orders: no stock news is no back-order
        log.exception("stock levels not read")
        return {}
