"""Replenishment offers: timers at delivery for configured SKUs, offers only with opt-in, in stock, once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from orderwire.app.catalogue import load_catalogue
from orderwire.app.ports import StockLevel
from orderwire.domain.events import OrderPlaced, ShipmentUpdated, TimerFired
from orderwire.domain.lifecycle import MessageKind, OfferContext, Outcome, decide
from orderwire.domain.messages import compose
from orderwire.domain.model import Customer, Item, Money, Order, ReturnCase, ReturnStatus, ShipmentStatus
from orderwire.domain.policy import ShopPolicy, parse_replenish_days
from orderwire.domain.templates import render_text, validate
from orderwire.integrations.shopify.orders import marketing_opt_in, placed
from orderwire.settings import Settings
from orderwire.web.schemas import OrderIn
from tests.support.couriers import fixture
from tests.unit.factories import T0, order

POLICY = ShopPolicy(replenish_days={"TEA-250": 30, "SOAP-3": 45})
IN_STOCK = OfferContext({"TEA-250": StockLevel("TEA-250", 5)})


def delivered(opted_in: bool = True, policy: ShopPolicy = POLICY) -> tuple[Order, tuple[Any, ...]]:
    """A paid order of tea, soap and an unconfigured mug, delivered at T0 + 2 days; and its timers."""
    base = order(paid=True)
    items = (
        Item("Assam Tea 250 g", 2, Money(25000, "INR"), "TEA-250"),
        Item("Neem Soap (3)", 1, Money(15000, "INR"), "SOAP-3"),
        Item("Mug", 1, Money(30000, "INR"), "MUG-1"),
        Item("Assam Tea 250 g", 1, Money(25000, "INR"), "TEA-250"),  # the same SKU on a second line
    )
    customer = dataclasses.replace(base.customer, marketing_opt_in=opted_in)
    new = dataclasses.replace(base, items=items, customer=customer)
    o = decide(None, OrderPlaced(new, T0), T0, policy).order
    shipped = ShipmentUpdated("AWB1", ShipmentStatus.DISPATCHED, T0 + timedelta(hours=2))
    o = decide(o, shipped, T0, policy).order
    at = T0 + timedelta(days=2)
    decision = decide(o, ShipmentUpdated("AWB1", ShipmentStatus.DELIVERED, at), at, policy)
    return decision.order, decision.timers


def fire(o: Order, sku: str, offer: OfferContext | None, days: int = 30) -> Any:
    at = T0 + timedelta(days=2 + days)
    return decide(o, TimerFired(f"replenish:{sku}", at), at, POLICY, offer)


def test_delivery_sets_one_timer_per_configured_sku_after_its_period() -> None:
    o, timers = delivered()
    by_kind = {t.kind: t.due_at for t in timers}
    assert set(by_kind) == {"follow_up", "replenish:TEA-250", "replenish:SOAP-3"}  # not the mug
    assert by_kind["replenish:TEA-250"] == o.delivered_at + timedelta(days=30)  # type: ignore[operator]
    assert by_kind["replenish:SOAP-3"] == o.delivered_at + timedelta(days=45)  # type: ignore[operator]


def test_no_timers_without_configured_skus_and_due_outside_quiet_hours() -> None:
    _, timers = delivered(policy=ShopPolicy())
    assert [t.kind for t in timers] == ["follow_up"]
    _, timers = delivered(policy=dataclasses.replace(POLICY, quiet_start=0, quiet_end=23))
    due = next(t.due_at for t in timers if t.kind == "replenish:TEA-250")
    # Delivered 29 Nov 11:30 in Kolkata; 30 days on falls in the quiet hours (00-23): moved to 23:00.
    assert due == datetime(2026, 12, 29, 17, 30, tzinfo=UTC)


def test_offer_for_an_opted_in_customer_in_stock() -> None:
    o, _ = delivered()
    decision = fire(o, "TEA-250", IN_STOCK)
    assert decision.outcome is Outcome.APPLIED
    (intent,) = decision.messages
    assert (intent.kind, intent.key, intent.awb) == (MessageKind.REPLENISH, "replenish:TEA-250", "TEA-250")
    assert decision.order == o  # an offer changes nothing on the order


@pytest.mark.parametrize(
    ("opted_in", "offer", "reason"),
    [
        (False, IN_STOCK, "no marketing opt-in"),
        (True, dataclasses.replace(IN_STOCK, opted_out=True), "opted out (STOP)"),
        (True, OfferContext({"TEA-250": StockLevel("TEA-250", 0, date(2027, 1, 5))}), "not in stock"),
        (True, OfferContext({}), "not listed by the stock source"),
        (True, OfferContext(None), "stock unknown (no inventory source configured)"),
        (True, None, "stock unknown"),
        (True, dataclasses.replace(IN_STOCK, reordered=True), "the customer ordered it again since"),
        (True, dataclasses.replace(IN_STOCK, marketing_opt_in=False), "no marketing opt-in"),
    ],
)
def test_no_offer_is_recorded_with_its_reason(
    opted_in: bool, offer: OfferContext | None, reason: str
) -> None:
    o, _ = delivered(opted_in)
    decision = fire(o, "TEA-250", offer)
    assert (decision.outcome, decision.messages) == (Outcome.IGNORED, ())
    assert decision.note.startswith("replenishment offer for TEA-250 skipped: ")
    assert reason in decision.note


def test_a_newer_order_can_withdraw_the_opt_in_but_not_give_it() -> None:
    o, _ = delivered(opted_in=True)
    assert fire(o, "TEA-250", dataclasses.replace(IN_STOCK, marketing_opt_in=True)).messages
    assert not fire(o, "TEA-250", dataclasses.replace(IN_STOCK, marketing_opt_in=False)).messages
    without, _ = delivered(opted_in=False)
    assert not fire(without, "TEA-250", dataclasses.replace(IN_STOCK, marketing_opt_in=True)).messages


def test_stop_wins_over_the_shops_opt_in() -> None:
    o, _ = delivered(opted_in=True)
    decision = fire(o, "TEA-250", OfferContext({"TEA-250": StockLevel("TEA-250", 9)}, opted_out=True))
    assert decision.messages == () and "STOP" in decision.note


def test_no_offer_after_a_return_and_stale_for_unknown_items() -> None:
    o, _ = delivered()
    returned = o.with_return(ReturnCase("RMA1", T0, status=ReturnStatus.REFUNDED))
    assert "return" in fire(returned, "TEA-250", IN_STOCK).note
    rejected = o.with_return(ReturnCase("RMA1", T0, status=ReturnStatus.REJECTED))
    assert fire(rejected, "TEA-250", IN_STOCK).messages
    assert fire(o, "OTHER", IN_STOCK).outcome is Outcome.STALE


def test_offer_composes_into_the_marketing_template() -> None:
    catalogue = load_catalogue()
    assert catalogue["order_replenish"].category == "MARKETING"
    o, _ = delivered()
    (intent,) = fire(o, "TEA-250", IN_STOCK).messages
    linked = compose(intent.kind, o, intent.awb, "tok", "https://shop.example/search?q={sku}")
    assert linked.body == (
        "Asha",
        "Assam Tea 250 g",
        "Order it again here: https://shop.example/search?q=TEA-250",
    )
    validate(linked, catalogue["order_replenish"])
    plain = compose(intent.kind, o, intent.awb, "tok")
    assert plain.body[2] == "Reply to this message and we will help you order it again."
    hindi = dataclasses.replace(o, customer=dataclasses.replace(o.customer, language="hi"))
    shown = render_text(compose(intent.kind, hindi, "SOAP-3", "tok"), catalogue["order_replenish"])
    assert "Neem Soap (3)" in shown["body"] and "STOP" in shown["body"]


def test_parse_replenish_days() -> None:
    assert parse_replenish_days("") == {}
    assert parse_replenish_days(" SKU-1=30, SKU-2 = 45 ,") == {"SKU-1": 30, "SKU-2": 45}
    for bad in ("SKU-1", "SKU-1=", "=30", "SKU-1=thirty", "SKU-1=0", "SKU-1=731", "A=3,A=4", "A=-3"):
        with pytest.raises(ValueError):
            parse_replenish_days(bad)
    assert Settings(replenish_days="TEA-250=30").replenish_days == "TEA-250=30"
    with pytest.raises(ValueError):
        Settings(replenish_days="TEA-250=0")
    with pytest.raises(ValueError):
        Settings(reorder_url="shop.example")


def test_old_orders_have_no_opt_in() -> None:
    assert Customer("+919812345678").marketing_opt_in is False
    from orderwire.domain.model import order_from_json, to_json

    data = to_json(order())
    del data["customer"]["marketing_opt_in"]
    assert order_from_json(data).customer.marketing_opt_in is False


def test_shopify_opt_in_is_the_sms_marketing_consent() -> None:
    body = fixture("shopify", "orders_create_example.json")
    assert body["buyer_accepts_marketing"] is True  # consent to e-mail: not to WhatsApp marketing
    event, _ = placed(body)
    assert event.order.customer.marketing_opt_in is False
    body["customer"]["sms_marketing_consent"] = {
        "state": "subscribed",
        "opt_in_level": "single_opt_in",
        "consent_updated_at": "2026-11-20T10:00:00+05:30",
        "consent_collected_from": "SHOPIFY",
    }
    event, _ = placed(body)
    assert event.order.customer.marketing_opt_in is True
    for state in ("not_subscribed", "pending", "unsubscribed", "redacted"):
        assert not marketing_opt_in({"sms_marketing_consent": {"state": state}})
    email_only = {"sms_marketing_consent": None, "email_marketing_consent": {"state": "subscribed"}}
    assert not marketing_opt_in(email_only)


def test_rest_api_opt_in() -> None:
    body: dict[str, Any] = {
        "order_id": "shop-1",
        "currency": "INR",
        "customer": {"phone": "+919812345678"},
        "items": [{"name": "Tea", "quantity": 1, "unit_price": 100, "sku": "TEA-250"}],
        "shipping_address": {"line1": "12 MG Road", "city": "Bengaluru", "pincode": "560001"},
    }
    assert OrderIn.model_validate(body).to_event(T0).order.customer.marketing_opt_in is False
    opted = OrderIn.model_validate({**body, "marketing_opt_in": True})
    assert opted.to_event(T0).order.customer.marketing_opt_in is True


def test_opt_in_withdrawn_in_the_shop_after_dispatch_is_kept() -> None:
    o, _ = delivered(opted_in=True)
    update = dataclasses.replace(o, customer=dataclasses.replace(o.customer, marketing_opt_in=False))
    decision = decide(o, OrderPlaced(update, T0), T0, POLICY)
    assert decision.outcome is Outcome.APPLIED and "withdrawn" in decision.note
    assert decision.order.customer.marketing_opt_in is False
    assert decision.order.stage == o.stage and decision.order.items == o.items
    assert "no marketing opt-in" in fire(decision.order, "TEA-250", IN_STOCK).note
    assert (
        decide(o, OrderPlaced(o, T0), T0, POLICY).outcome is Outcome.STALE
    )  # nothing else changes after dispatch
