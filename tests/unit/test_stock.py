"""Back-ordered items push the EDD; suggestions keep only what is in stock; the feed is read strictly."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from orderwire.app.ports import StockLevel
from orderwire.domain.events import OrderPlaced, PaymentCaptured
from orderwire.domain.lifecycle import MessageKind, decide
from orderwire.domain.messages import compose
from orderwire.domain.model import Item, Money, order_from_json, to_json
from orderwire.domain.policy import EddRules, ShopPolicy
from orderwire.domain.stock import backorder_edd, backordered, in_stock
from orderwire.integrations.stockfeed.feed import StockFeedError, parse
from tests.unit.factories import T0, order

POLICY = ShopPolicy()  # no origin PIN code: EDDs are the default 5 working days
LEVELS = {
    "KURTA-M": StockLevel("KURTA-M", 12),
    "KURTA-L": StockLevel("KURTA-L", 1, date(2026, 12, 7)),
    "SCARF": StockLevel("SCARF", 0),
}


def items(*lines: tuple[str, int]) -> tuple[Item, ...]:
    return tuple(Item(sku, qty, Money(100, "INR"), sku) for sku, qty in lines)


def test_backordered_lines() -> None:
    assert backordered(items(("KURTA-M", 2), ("UNLISTED", 5)), LEVELS) == {}
    assert backordered(items(("KURTA-L", 2), ("SCARF", 1)), LEVELS) == {
        "KURTA-L": date(2026, 12, 7),
        "SCARF": None,
    }
    # Two lines of one SKU count together.
    assert backordered(items(("KURTA-L", 1), ("KURTA-L", 1)), LEVELS) == {"KURTA-L": date(2026, 12, 7)}
    assert backordered((Item("No SKU", 3, Money(1, "INR")),), LEVELS) == {}


def test_backorder_edd() -> None:
    base = date(2026, 12, 3)
    assert backorder_edd(base, {}, "560001", POLICY) == base
    # Restock Mon 7 Dec + 5 working days (no zone known) = Sat 12 Dec.
    assert backorder_edd(base, {"KURTA-L": date(2026, 12, 7)}, "560001", POLICY) == date(2026, 12, 12)
    # Unknown restock day: base + 7 working days (Sun 6 Dec skipped) = Fri 11 Dec.
    assert backorder_edd(base, {"SCARF": None}, "560001", POLICY) == date(2026, 12, 11)
    # The latest wins; a restock before the normal promise changes nothing.
    both = {"KURTA-L": date(2026, 12, 7), "SCARF": None}
    assert backorder_edd(base, both, "560001", POLICY) == date(2026, 12, 12)
    assert backorder_edd(base, {"X": date(2026, 11, 20)}, "560001", POLICY) == base
    # With zones: restock day + processing + transit (Bengaluru to Bengaluru: 1 + 1 working days).
    zoned = dataclasses.replace(POLICY, edd=EddRules(origin_pincode="560034"))
    assert backorder_edd(base, {"KURTA-L": date(2026, 12, 7)}, "560001", zoned) == date(2026, 12, 9)


def test_confirmation_shows_the_later_edd() -> None:
    placed = order()
    waiting = dataclasses.replace(placed, backordered={"KURTA-L": date(2026, 12, 7)})
    d = decide(None, OrderPlaced(waiting, T0), T0, POLICY)
    assert d.order.edd == date(2026, 12, 12)
    paid = decide(d.order, PaymentCaptured(T0), T0, POLICY).order
    assert compose(MessageKind.CONFIRMATION, paid, "", "t").body[5] == "Sat, 12 Dec"
    assert order_from_json(to_json(d.order)) == d.order
    unknown_day = dataclasses.replace(placed, backordered={"SCARF": None})
    stored = decide(None, OrderPlaced(unknown_day, T0), T0, POLICY).order
    assert order_from_json(to_json(stored)).backordered == {"SCARF": None}
    # Without back-orders the promise is unchanged.
    assert decide(None, OrderPlaced(placed, T0), T0, POLICY).order.edd == date(2026, 12, 3)
    # The shop's own EDD is pushed too when an item waits for a restock.
    given = dataclasses.replace(waiting, edd=date(2026, 12, 4))
    assert decide(None, OrderPlaced(given, T0), T0, POLICY).order.edd == date(2026, 12, 12)


def test_in_stock_suggestions() -> None:
    candidates = ["SCARF", "KURTA-L", "UNLISTED", "KURTA-M"]
    assert in_stock(candidates, LEVELS) == ["KURTA-L", "KURTA-M"]
    assert in_stock(candidates, LEVELS, quantity=2) == ["KURTA-M"]
    assert in_stock([], LEVELS) == []


def test_parse_feed() -> None:
    text = (
        "\ufeffSKU,Available,Restock_Date,warehouse\n"
        "A,3,,BLR\nB,0,2026-12-07,BLR\nC,many,,BLR\n,4,,\nD,-1,soon,BLR\nA,5,,DEL\n"
    )
    levels, skipped = parse(text)
    assert levels == {"A": StockLevel("A", 5), "B": StockLevel("B", 0, date(2026, 12, 7))}
    assert skipped == 3
    with pytest.raises(StockFeedError, match="sku"):
        parse("product,qty\nA,1\n")
