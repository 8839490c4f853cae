"""Templates and composition: every stage's message fits its definition, in English and Hindi."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from orderwire.app.catalogue import load_catalogue
from orderwire.domain.events import OrderPlaced, ShipmentUpdated
from orderwire.domain.lifecycle import MessageKind, decide
from orderwire.domain.messages import TEMPLATE_FOR, compose, format_money, language_for
from orderwire.domain.model import Money, ReturnCase, ShipmentStatus
from orderwire.domain.policy import ShopPolicy
from orderwire.domain.templates import (
    ButtonParameter,
    OutboundMessage,
    TemplateError,
    placeholder_count,
    render_text,
    validate,
)
from orderwire.integrations.whatsapp.client import template_payload
from tests.unit.factories import T0, order

CATALOGUE = load_catalogue()


def shipped(language: str = "en"):  # type: ignore[no-untyped-def]
    o = decide(None, OrderPlaced(order(paid=True, language=language), T0), T0, ShopPolicy()).order
    for status in (ShipmentStatus.DISPATCHED, ShipmentStatus.DELIVERY_FAILED):
        event = ShipmentUpdated(
            "AWB1",
            status,
            T0 + timedelta(hours=1),
            courier="Delhivery",
            edd=date(2026, 12, 2),
            reason="customer not available",
        )
        o = decide(o, event, T0, ShopPolicy()).order
    return o


@pytest.mark.parametrize("language", ["en", "hi"])
@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_fits_its_template(kind: MessageKind, language: str) -> None:
    o, ref = shipped(language), "AWB1"
    if kind in (MessageKind.REFUND_COMPLETED, MessageKind.RETURN_UPDATE):  # returns: about an RMA
        o, ref = o.with_return(ReturnCase("RMAABCDEFGHI", T0, refund_minor=100)), "RMAABCDEFGHI"
    message = compose(kind, o, ref, "tok3n")
    assert message.template == TEMPLATE_FOR[kind]
    assert message.language == language
    validate(message, CATALOGUE[message.template])
    shown = render_text(message, CATALOGUE[message.template])
    assert "{{" not in shown["body"]


def test_catalogue_covers_both_languages_with_valid_examples() -> None:
    fallbacks = {d.fallback for d in CATALOGUE.values() if d.fallback}
    assert set(CATALOGUE) == set(TEMPLATE_FOR.values()) | fallbacks
    for definition in CATALOGUE.values():
        assert set(definition.languages) == {"en", "hi"}
        for version in definition.languages.values():
            assert len(version.examples) == placeholder_count(version.body)
            assert not version.body.rstrip().endswith("}}"), "Meta rejects a body ending in a variable"
            assert len(version.buttons) <= 3
            assert all(len(b.text) <= 25 for b in version.buttons)


def placed(language: str = "en"):  # type: ignore[no-untyped-def]
    return decide(None, OrderPlaced(order(paid=True, language=language), T0), T0, ShopPolicy()).order


def test_confirmation_values() -> None:
    message = compose(MessageKind.CONFIRMATION, placed(), "", "t")
    assert message.header == ("#1001",)
    assert message.body == (
        "Asha",
        "#1001",
        "2 × Cotton Kurta",
        "₹1,23,456.00",
        "12 MG Road, Bengaluru, 560001",
        "Thu, 3 Dec",
    )


def test_hindi_dates_and_indian_grouping() -> None:
    message = compose(MessageKind.CONFIRMATION, placed("hi"), "", "t")
    assert message.body[3] == "₹1,23,456.00"
    assert message.body[5] == "गुरु, 3 दिस॰"
    assert language_for("hi-IN") == "hi" and language_for("ta") == "en"
    assert format_money(Money(1999, "USD"), "en") == "$19.99"
    assert format_money(Money(500, "JPY"), "en") == "JP¥500"


def test_dispatch_has_tracking_button_with_token_suffix() -> None:
    message = compose(MessageKind.DISPATCHED, shipped(), "AWB1", "secret-token")
    assert message.buttons == (ButtonParameter(0, "url", "secret-token"),)
    assert message.body == ("#1001", "Delhivery", "AWB1", "Wed, 2 Dec")
    payload = template_payload("+919812345678", message)
    assert payload["to"] == "919812345678"
    assert payload["template"]["components"][-1] == {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "secret-token"}],
    }


def test_validation_refuses_mismatched_payloads() -> None:
    good = compose(MessageKind.PROCESSING, shipped(), "", "t")
    definition = CATALOGUE[good.template]
    with pytest.raises(TemplateError, match="1 parameters"):
        validate(dataclasses.replace(good, body=good.body[:1]), definition)
    with pytest.raises(TemplateError, match="newline"):
        validate(dataclasses.replace(good, body=("Asha\nRao", "#1")), definition)
    with pytest.raises(TemplateError, match="empty"):
        validate(dataclasses.replace(good, body=(" ", "#1")), definition)
    with pytest.raises(TemplateError, match="lacks"):
        validate(dataclasses.replace(good, buttons=(ButtonParameter(0, "url", "x"),)), definition)
    with pytest.raises(TemplateError, match="no 'ta' version"):
        validate(dataclasses.replace(good, language="ta"), definition)
    dispatched = compose(MessageKind.DISPATCHED, shipped(), "AWB1", "t")
    with pytest.raises(TemplateError, match="needs a parameter"):
        validate(dataclasses.replace(dispatched, buttons=()), CATALOGUE[dispatched.template])
    too_long = OutboundMessage(good.template, "en", ("A" * 1100, "#1"))
    with pytest.raises(TemplateError, match="longer than 1024"):
        validate(too_long, definition)
