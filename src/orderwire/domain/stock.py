"""Stock in decisions: order lines waiting for a restock, the later EDD they bring, in-stock suggestions.

The app reads the levels (app/stock.py) before deciding; these functions only compare numbers and dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Protocol

from orderwire.domain.edd import estimate
from orderwire.domain.model import Item
from orderwire.domain.policy import ShopPolicy, add_delivery_days


class Stocked(Protocol):
    """A SKU's stock: units sellable now and, when known, the day more arrive (app.ports.StockLevel)."""

    @property
    def available(self) -> int: ...

    @property
    def restock_date(self) -> date | None: ...


def backordered(items: Iterable[Item], levels: Mapping[str, Stocked]) -> dict[str, date | None]:
    """SKUs the order wants more of than is available, with their restock day (None when unknown).

    A SKU the stock source does not list is taken as in stock: no news is not a shortage.
    """
    wanted: dict[str, int] = {}
    for item in items:
        if item.sku:
            wanted[item.sku] = wanted.get(item.sku, 0) + item.quantity
    return {
        sku: levels[sku].restock_date
        for sku, quantity in wanted.items()
        if sku in levels and levels[sku].available < quantity
    }


def backorder_edd(
    edd: date, waiting: Mapping[str, date | None], destination: str, policy: ShopPolicy
) -> date:
    """The EDD once every back-ordered SKU is in: its restock day plus processing and transit, or `edd`
    plus the shop's `backorder_extra_days` working days when the restock day is unknown; never earlier."""
    holidays = policy.edd.holidays
    candidates = [edd]
    for restock in waiting.values():
        if restock is None:
            candidates.append(add_delivery_days(edd, policy.backorder_extra_days, holidays))
        else:
            by_zone = estimate(restock, destination, policy.edd)
            candidates.append(by_zone or add_delivery_days(restock, policy.default_delivery_days, holidays))
    return max(candidates)


def in_stock(candidates: Sequence[str], levels: Mapping[str, Stocked], quantity: int = 1) -> list[str]:
    """The candidate SKUs (in their order) of which at least `quantity` can be sold now.

    For offers (replenishment, cross-sell): an unlisted SKU is left out, as nothing says it can be sold.
    """
    return [sku for sku in candidates if sku in levels and levels[sku].available >= quantity]
