"""The template side of the WhatsApp adapter: creation bodies, fingerprints, approved versions, webhooks."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from orderwire.app.catalogue import load_catalogue
from orderwire.integrations.whatsapp import webhook as wa
from orderwire.integrations.whatsapp.client import Verdict, classify
from orderwire.integrations.whatsapp.templates import (
    UnsupportedTemplate,
    creation_body,
    record_from_item,
    signature,
    version_from_components,
)
from tests.unit.test_whatsapp import fixture

CATALOGUE = load_catalogue()


def test_creation_body_has_samples_for_every_variable() -> None:
    body = creation_body(CATALOGUE["order_confirmation"], "en", "https://shop.example/")
    assert (body["name"], body["language"], body["category"]) == ("order_confirmation", "en", "UTILITY")
    header, main, footer = body["components"]
    assert header == {
        "type": "HEADER",
        "format": "TEXT",
        "text": "Order {{1}} confirmed",
        "example": {"header_text": ["#1001"]},
    }
    assert main["type"] == "BODY" and len(main["example"]["body_text"][0]) == 6
    assert footer == {"type": "FOOTER", "text": "Reply STOP to stop updates"}
    assert "allow_category_change" not in body


def test_url_buttons_live_on_the_public_url() -> None:
    body = creation_body(CATALOGUE["order_dispatched"], "hi", "https://shop.example")
    buttons = body["components"][-1]
    assert buttons == {
        "type": "BUTTONS",
        "buttons": [
            {
                "type": "URL",
                "text": "ऑर्डर ट्रैक करें",
                "url": "https://shop.example/t/{{1}}",
                "example": ["https://shop.example/t/q3kT9xQ2mLw8vR5nZc7Hd1Yf"],
            }
        ],
    }
    quick = creation_body(CATALOGUE["order_delivery_failed"], "en", "https://x")["components"][-1]
    assert [b["type"] for b in quick["buttons"]] == ["QUICK_REPLY"] * 3


def test_signature_ignores_samples_and_order_but_not_text() -> None:
    components = creation_body(CATALOGUE["order_dispatched"], "en", "https://x")["components"]
    echoed = copy.deepcopy(list(reversed(components)))
    for c in echoed:
        c.pop("example", None)
    assert signature(echoed) == signature(components)
    changed = copy.deepcopy(components)
    changed[0]["text"] += " "
    assert signature(changed) != signature(components)
    moved = copy.deepcopy(components)
    moved[-1]["buttons"][0]["url"] = "https://y/t/{{1}}"
    assert signature(moved) != signature(components)


def test_approved_version_reads_back_what_was_submitted() -> None:
    definition = CATALOGUE["order_confirmation"]
    version = version_from_components(creation_body(definition, "hi", "https://x")["components"])
    assert (version.header, version.body, version.footer) == (
        definition.languages["hi"].header,
        definition.languages["hi"].body,
        definition.languages["hi"].footer,
    )


@pytest.mark.parametrize(
    ("components", "why"),
    [
        ([{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Hi"}], "IMAGE header"),
        ([{"type": "BODY", "text": "Hi {{first_name}}, thanks"}], "named parameters"),
        ([{"type": "BODY", "text": "Hi"}, {"type": "CAROUSEL", "cards": []}], "CAROUSEL component"),
    ],
)
def test_approved_versions_orderwire_cannot_fill(components: list[dict[str, object]], why: str) -> None:
    with pytest.raises(UnsupportedTemplate, match=why):
        version_from_components(components)


def test_list_item_is_read_as_documented() -> None:
    item = {
        "name": "order_processing",
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": "Hi {{1}}"}],
        "language": "en",
        "status": "APPROVED",
        "category": "UTILITY",
        "id": "1689556908129832",
    }
    record = record_from_item(item)
    assert (record.name, record.language, record.status, record.category, record.template_id) == (
        "order_processing",
        "en",
        "APPROVED",
        "UTILITY",
        "1689556908129832",
    )
    assert record.components == ({"type": "BODY", "text": "Hi {{1}}"},)


def test_status_update_webhook_is_parsed() -> None:
    parsed = wa.parse(fixture("template_status_paused.json"))
    assert parsed.other_fields == ("message_template_status_update",)
    (update,) = parsed.templates
    assert (update.name, update.language, update.template_id, update.event) == (
        "order_confirmation",
        "en",
        "1689556908129832",
        "PAUSED",
    )
    assert update.at == datetime.fromtimestamp(1764650000, UTC)
    assert update.category == "UTILITY" and not update.impending
    assert update.reason.startswith("Your WhatsApp message template has been paused for 3 hours")
    rejected = wa.parse(fixture("template_status_rejected.json")).templates[0]
    assert rejected.event == "REJECTED"
    assert rejected.reason == "INVALID_FORMAT - Variable parameters are not sequential."


def test_category_update_webhooks_are_parsed() -> None:
    done = wa.parse(fixture("template_category_update.json")).templates[0]
    assert (done.category, done.previous_category, done.impending, done.event) == (
        "MARKETING",
        "UTILITY",
        False,
        "",
    )
    announced = wa.parse(fixture("template_category_impending.json")).templates[0]
    assert announced.impending and announced.category == ""
    assert announced.reason == "category will change to MARKETING"


def test_template_fields_without_a_template_are_kept_but_not_applied() -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "message_template_status_update", "value": {}}]}],
    }
    parsed = wa.parse(body)
    assert parsed.other_fields == ("message_template_status_update",) and parsed.templates == ()


@pytest.mark.parametrize("code", [132001, 132015, 132016])
def test_unavailable_template_answers_are_recognised(code: int) -> None:
    body = {"error": {"message": "m", "type": "OAuthException", "code": code, "error_data": {"details": "d"}}}
    result = classify(400, body)
    assert (result.verdict, result.error_code) == (Verdict.TEMPLATE_UNAVAILABLE, str(code))
