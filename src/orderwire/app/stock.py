"""Stock read before deciding: back-ordered lines of a new order, from the configured inventory source.

One source per runtime (it keeps its own cache). `warm` runs before the pump's transaction, so a stale
feed is re-read there; inside the transaction `with_backorders` then reads the fresh copy.
"""

from __future__ import annotations

import dataclasses
import logging

from orderwire.app import vendors
from orderwire.app.ports import InventoryPort, StockLevel
from orderwire.app.runtime import Runtime
from orderwire.domain.events import OrderPlaced
from orderwire.domain.stock import backordered

log = logging.getLogger(__name__)

_sources: dict[int, InventoryPort | None] = {}


def source(rt: Runtime) -> InventoryPort | None:
    """This runtime's inventory source, or None when none is configured."""
    if id(rt) not in _sources:
        _sources[id(rt)] = vendors.inventory(rt.settings)
    return _sources[id(rt)]


def warm(rt: Runtime) -> None:
    """Let the source refresh its cache now, outside any transaction."""
    inventory = source(rt)
    if inventory is not None:
        _levels(inventory, [])


def with_backorders(rt: Runtime, event: OrderPlaced) -> OrderPlaced:
    """The new order with its back-ordered SKUs (and their restock days) attached, for the EDD."""
    inventory = source(rt)
    skus = sorted({item.sku for item in event.order.items if item.sku})
    if inventory is None or not skus:
        return event
    waiting = backordered(event.order.items, _levels(inventory, skus))
    if not waiting:
        return event
    return dataclasses.replace(event, order=dataclasses.replace(event.order, backordered=waiting))


def _levels(inventory: InventoryPort, skus: list[str]) -> dict[str, StockLevel]:
    try:
        return dict(inventory.levels(skus))
    except Exception:  # a broken stock source must not stop orders: no stock news is no back-order
        log.exception("stock levels not read")
        return {}
