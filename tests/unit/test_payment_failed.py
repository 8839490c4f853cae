"""A failed payment: a retry message (once a day), never a confirmation; a later capture confirms."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from orderwire.app.catalogue import load_catalogue
from orderwire.domain.events import OrderCancelled, OrderPlaced, PaymentCaptured, PaymentFailed
from orderwire.domain.lifecycle import MessageKind, Outcome, decide
from orderwire.domain.messages import compose
from orderwire.domain.model import Order, PaymentMethod, Stage
from orderwire.domain.policy import ShopPolicy
from orderwire.domain.templates import validate
from orderwire.web.schemas import PaymentFailedIn, to_canonical
from tests.unit.factories import T0, order

POLICY = ShopPolicy()
LINK = "https://rzp.io/i/nxrHnLJ"


def waiting(language: str = "en") -> Order:
    return decide(None, OrderPlaced(order(language=language), T0), T0, POLICY).order


def test_failure_sends_the_retry_link_and_never_confirms() -> None:
    d = decide(waiting(), PaymentFailed(T0, "pay_1", "card declined", LINK), T0, POLICY)
    assert d.outcome is Outcome.APPLIED and d.order.stage is Stage.PLACED and not d.order.paid
    assert [(m.kind, m.key) for m in d.messages] == [
        (MessageKind.PAYMENT_FAILED, "payment_failed:2026-11-27")
    ]
    assert d.order.payment_retry_url == LINK
    message = compose(MessageKind.PAYMENT_FAILED, d.order, "", "t")
    assert message.body == ("Asha", "#1001", "₹1,23,456.00", f"You can pay again here: {LINK}")
    validate(message, load_catalogue()["order_payment_failed"])
    # The customer pays after all: the normal confirmation.
    paid = decide(d.order, PaymentCaptured(T0 + timedelta(minutes=3), "pay_2"), T0, POLICY)
    assert paid.order.stage is Stage.CONFIRMED
    assert [m.kind for m in paid.messages] == [MessageKind.CONFIRMATION]


def test_without_a_link_the_customer_is_told_where_to_retry() -> None:
    d = decide(waiting("hi"), PaymentFailed(T0), T0, POLICY)
    message = compose(MessageKind.PAYMENT_FAILED, d.order, "", "t")
    assert message.body[3] == "आप हमारी वेबसाइट पर अपने ऑर्डर पेज से फिर से भुगतान कर सकते हैं।"
    validate(message, load_catalogue()["order_payment_failed"])
    english = compose(
        MessageKind.PAYMENT_FAILED, dataclasses.replace(d.order, customer=order().customer), "", "t"
    )
    assert english.body[3] == "You can try again from your order page on our website."


def test_one_message_a_day() -> None:
    first = decide(waiting(), PaymentFailed(T0), T0, POLICY)
    later = T0 + timedelta(hours=2)
    second = decide(first.order, PaymentFailed(later, retry_url=LINK), later, POLICY)
    assert second.messages[0].key == first.messages[0].key  # unique per order: stored once
    assert second.order.payment_retry_url == LINK  # the newest link is kept
    tomorrow = T0 + timedelta(days=1)
    assert decide(second.order, PaymentFailed(tomorrow), tomorrow, POLICY).messages[0].key == (
        "payment_failed:2026-11-28"
    )


def test_only_for_prepaid_orders_not_paid_yet() -> None:
    paid = decide(None, OrderPlaced(order(paid=True), T0), T0, POLICY).order
    cod = decide(None, OrderPlaced(order(PaymentMethod.COD), T0), T0, POLICY).order
    cancelled = decide(waiting(), OrderCancelled(T0), T0, POLICY).order
    for o in (paid, cod, cancelled):
        d = decide(o, PaymentFailed(T0, retry_url=LINK), T0, POLICY)
        assert d.outcome is Outcome.IGNORED and d.messages == () and d.order == o


def test_rest_api_event() -> None:
    body = PaymentFailedIn(type="payment_failed", payment_id="pay_9", reason="upi timeout", retry_url=LINK)
    assert to_canonical(body, T0) == PaymentFailed(T0, "pay_9", "upi timeout", LINK)


def test_rest_api_refuses_links_that_are_not_web_addresses() -> None:
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError):
        PaymentFailedIn(type="payment_failed", retry_url="javascript:alert(1)")
