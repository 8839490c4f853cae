"""The send-time gate: what Meta says of a template picks the composed message, its fallback, or hold."""

from __future__ import annotations

import dataclasses

import pytest

from orderwire.app.catalogue import load_catalogue
from orderwire.domain.lifecycle import MessageKind
from orderwire.domain.messages import compose
from orderwire.domain.template_gate import RemoteTemplate, choose
from orderwire.domain.templates import OutboundMessage, TemplateLanguage
from orderwire.integrations.whatsapp.templates import creation_components, version_from_components
from tests.unit.test_messages import placed, shipped

CATALOGUE = load_catalogue()
APPROVED = RemoteTemplate("APPROVED", "UTILITY")


def confirmation(language: str = "en") -> OutboundMessage:
    return compose(MessageKind.CONFIRMATION, placed(language), "", "tok3n")


def approved_version(name: str, language: str = "en") -> TemplateLanguage:
    """What sync stores for a version approved as the catalogue has it."""
    return version_from_components(creation_components(CATALOGUE[name].languages[language], "https://x.in"))


def test_nothing_known_trusts_the_catalogue() -> None:
    message = confirmation()
    assert choose(message, CATALOGUE, {}).message == message


def test_approved_as_composed_goes_as_is() -> None:
    message = confirmation()
    remote = {
        ("order_confirmation", "en"): dataclasses.replace(
            APPROVED, approved=approved_version("order_confirmation")
        )
    }
    choice = choose(message, CATALOGUE, remote)
    assert (choice.message, choice.reason) == (message, "")


@pytest.mark.parametrize("status", ["PAUSED", "REJECTED", "DISABLED", "PENDING", "MISSING"])
def test_unusable_template_falls_back_to_its_approved_sibling(status: str) -> None:
    message = confirmation("hi")
    remote = {
        ("order_confirmation", "hi"): RemoteTemplate(status, "UTILITY"),
        ("order_confirmation_plain", "hi"): APPROVED,
    }
    choice = choose(message, CATALOGUE, remote)
    assert choice.message is not None
    assert choice.message.template == "order_confirmation_plain"
    assert choice.message.body == message.body and choice.message.header == ()
    assert choice.reason == f"order_confirmation (hi) is {status}; sent order_confirmation_plain instead"


def test_recategorised_template_falls_back() -> None:
    remote = {
        ("order_confirmation", "en"): RemoteTemplate("APPROVED", "MARKETING"),
        ("order_confirmation_plain", "en"): APPROVED,
    }
    choice = choose(confirmation(), CATALOGUE, remote)
    assert choice.message is not None and choice.message.template == "order_confirmation_plain"
    assert "recategorised UTILITY -> MARKETING" in choice.reason


def test_fallback_drops_the_button_it_lacks() -> None:
    dispatched = compose(MessageKind.DISPATCHED, shipped(), "AWB1", "tok3n")
    remote = {
        ("order_dispatched", "en"): RemoteTemplate("PAUSED", "UTILITY"),
        ("order_dispatched_plain", "en"): APPROVED,
    }
    choice = choose(dispatched, CATALOGUE, remote)
    assert choice.message is not None
    assert (choice.message.template, choice.message.buttons) == ("order_dispatched_plain", ())


def test_fallback_never_used_blindly() -> None:
    paused = {("order_confirmation", "en"): RemoteTemplate("PAUSED", "UTILITY")}
    unknown = choose(confirmation(), CATALOGUE, paused)
    assert unknown.message is None and "not known to be approved" in unknown.reason
    also_paused = paused | {("order_confirmation_plain", "en"): RemoteTemplate("PAUSED", "UTILITY")}
    held = choose(confirmation(), CATALOGUE, also_paused)
    assert held.message is None
    assert held.reason == (
        "order_confirmation (en) is PAUSED; fallback unusable: order_confirmation_plain (en) is PAUSED"
    )


def test_no_fallback_configured_holds() -> None:
    processing = compose(MessageKind.PROCESSING, placed(), "", "t")
    choice = choose(
        processing, CATALOGUE, {("order_processing", "en"): RemoteTemplate("DISABLED", "UTILITY")}
    )
    assert choice.message is None
    assert choice.reason == "order_processing (en) is DISABLED; no fallback template configured"


def test_payload_that_does_not_fit_the_approved_version_is_refused() -> None:
    edited = dataclasses.replace(
        approved_version("order_processing"), body="Hi {{1}}, order {{2}} is packed at {{3}}."
    )
    processing = compose(MessageKind.PROCESSING, placed(), "", "t")
    choice = choose(
        processing, CATALOGUE, {("order_processing", "en"): dataclasses.replace(APPROVED, approved=edited)}
    )
    assert choice.message is None
    assert (
        "payload does not match the approved order_processing (en): body: 2 parameters, template has 3"
        in (choice.reason)
    )


def test_approved_version_orderwire_cannot_fill_is_refused() -> None:
    remote = {("order_processing", "en"): dataclasses.replace(APPROVED, unsupported="IMAGE header")}
    choice = choose(compose(MessageKind.PROCESSING, placed(), "", "t"), CATALOGUE, remote)
    assert choice.message is None and "cannot be filled: IMAGE header" in choice.reason


def test_category_only_knowledge_does_not_block() -> None:
    message = confirmation()
    assert (
        choose(message, CATALOGUE, {("order_confirmation", "en"): RemoteTemplate("", "UTILITY")}).message
        == message
    )


def test_a_message_that_no_longer_fits_the_catalogue_is_held() -> None:
    broken = dataclasses.replace(confirmation(), body=("only one",))
    choice = choose(broken, CATALOGUE, {})
    assert choice.message is None and choice.reason.startswith("template check:")
