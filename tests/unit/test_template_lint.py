"""Template lint: each WhatsApp rule catches its mistake and passes good templates; the catalogue is clean."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from orderwire.app.catalogue import load_catalogue
from orderwire.domain.template_lint import (
    ERROR,
    WARNING,
    Finding,
    lint_catalogue,
    lint_template,
    promotional_terms,
)
from orderwire.domain.templates import Button, TemplateDefinition, TemplateLanguage

GOOD = TemplateLanguage(
    body="Hi {{1}}, your order {{2}} is on its way. Tap below to follow it live.",
    header="Order {{1}} shipped",
    header_example="#1001",
    footer="Reply STOP to stop updates",
    buttons=(Button("URL", "Track order", "/t/{{1}}", "AbC123"), Button("QUICK_REPLY", "Help")),
    examples=("Asha", "#1001"),
)


def template(name: str = "order_update", category: str = "UTILITY", **changes: Any) -> TemplateDefinition:
    """A template whose English version is GOOD with `changes` applied."""
    return TemplateDefinition(name, category, "dispatched", {"en": dataclasses.replace(GOOD, **changes)})


def rules(definition: TemplateDefinition, severity: str = ERROR, **catalogue: TemplateDefinition) -> set[str]:
    found = lint_template(definition, {definition.name: definition, **catalogue})
    return {f.rule for f in found if f.severity == severity}


def test_the_catalogue_lints_clean() -> None:
    findings = lint_catalogue(load_catalogue())
    assert findings == [], "\n".join(str(f) for f in findings)


def test_a_good_template_has_no_finding() -> None:
    assert lint_template(template(), {}) == []


@pytest.mark.parametrize(
    ("name", "ok"),
    [("order_update_2", True), ("Order_Update", False), ("order-update", False), ("x" * 513, False)],
)
def test_name(name: str, ok: bool) -> None:
    assert ("name" not in rules(template(name=name))) is ok


def test_category_must_be_known() -> None:
    assert "category" in rules(template(category="TRANSACTIONAL"))
    assert "category" not in rules(template(category="MARKETING"))


def test_language_code() -> None:
    bad = TemplateDefinition("order_update", "UTILITY", "k", {"english": GOOD})
    assert "language" in rules(bad)
    assert "language" not in rules(TemplateDefinition("order_update", "UTILITY", "k", {"en_US": GOOD}))
    assert "languages" in rules(TemplateDefinition("order_update", "UTILITY", "k", {}))


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"body": "  ", "examples": ()}, "body"),
        ({"body": "Hi {{1}}, order {{2}}. " + "x" * 1024}, "body-length"),
        (
            {"body": "Hi {{1}}, your order {{3}} is on its way, tap below to follow it live."},
            "placeholder-sequence",
        ),
        ({"body": "{{1}}, your order {{2}} is on its way. Tap below to follow it live."}, "placeholder-edge"),
        (
            {"body": "Hi there, your order is on its way and tap below to follow {{1}} or {{2}}"},
            "placeholder-edge",
        ),
        (
            {"body": "Hi {{1}} {{2}} your order is on its way. Tap below to follow it live."},
            "placeholder-adjacent",
        ),
        ({"body": "Hi {{ 1 }}, your order {{2}} is on its way. Tap below to follow it live."}, "placeholder"),
        (
            {"body": "Hi {{name}}, your order {{1}} is on its way. Tap below.", "examples": ("#1",)},
            "placeholder",
        ),
        (
            {"body": "Hi {1}, your order {{1}} is on its way. Tap below to follow.", "examples": ("#1",)},
            "placeholder",
        ),
        ({"examples": ("Asha",)}, "examples"),
        ({"examples": ("Asha", "line\nbreak")}, "examples"),
        ({"header": "x" * 61}, "header-length"),
        ({"header": "Order {{1}} for {{2}}"}, "header-variables"),
        ({"header": "Order {{2}} shipped"}, "header-variables"),
        ({"header": "*Order* {{1}} shipped"}, "header-format"),
        ({"header_example": ""}, "examples"),
        ({"footer": "y" * 61}, "footer-length"),
        ({"footer": "Order {{1}}"}, "footer-format"),
        ({"buttons": tuple(Button("QUICK_REPLY", f"Option {i}") for i in range(11))}, "buttons"),
        ({"buttons": tuple(Button("URL", f"Link {i}", "https://example.com") for i in range(3))}, "buttons"),
        (
            {
                "buttons": (
                    Button("QUICK_REPLY", "Yes"),
                    Button("URL", "Open", "https://a.b"),
                    Button("QUICK_REPLY", "No"),
                )
            },
            "buttons-grouping",
        ),
        ({"buttons": (Button("PHONE_NUMBER", "Call us"),)}, "button-type"),
        ({"buttons": (Button("QUICK_REPLY", "A label that is far too long"),)}, "button-text"),
        ({"buttons": (Button("QUICK_REPLY", ""),)}, "button-text"),
        ({"buttons": (Button("QUICK_REPLY", "Yes", "https://a.b"),)}, "button-url"),
        ({"buttons": (Button("URL", "Track", "http://shop.example/t/{{1}}", "x"),)}, "button-url"),
        ({"buttons": (Button("URL", "Track", "https://shop.example/{{1}}/track", "x"),)}, "button-url"),
        ({"buttons": (Button("URL", "Track", "https://shop.example/{{1}}{{2}}", "x"),)}, "button-url"),
        ({"buttons": (Button("URL", "Track", "/t/{{1}}"),)}, "examples"),
    ],
)
def test_each_rule_catches_its_mistake(changes: dict[str, Any], rule: str) -> None:
    assert rule in rules(template(**changes))


def test_too_many_variables_for_the_words_is_a_warning() -> None:
    crowded = template(body="Hi {{1}}, order {{2}} ready.")
    assert "placeholder-ratio" in rules(crowded, WARNING)
    assert "placeholder-ratio" not in rules(crowded, ERROR)
    assert "placeholder-ratio" not in rules(template(), WARNING)


def test_a_variable_before_the_final_full_stop_is_a_warning() -> None:
    ending = template(body="Hi there, your order is on its way and tap below to follow {{1}} or {{2}}.")
    assert "placeholder-edge" in rules(ending, WARNING)
    assert "placeholder-edge" not in rules(ending, ERROR)


def test_header_example_without_variable_is_a_warning() -> None:
    assert "examples" in rules(template(header="Your order"), WARNING)


def test_urls_on_the_public_url_or_https_pass() -> None:
    for url in ("/t/{{1}}", "https://shop.example/t/{{1}}", "https://shop.example/help"):
        example = "x" if "{{" in url else ""
        assert not rules(template(buttons=(Button("URL", "Open", url, example),)))


def test_languages_must_take_the_same_values() -> None:
    hindi = dataclasses.replace(
        GOOD, body="नमस्ते {{1}}, आपका ऑर्डर रवाना हो गया है, लाइव ट्रैक करें।", examples=("आशा",)
    )
    definition = TemplateDefinition("order_update", "UTILITY", "k", {"en": GOOD, "hi": hindi})
    assert "languages-differ" in rules(definition)


@pytest.mark.parametrize(
    "text",
    [
        "Flat 20% off on your next order {{1}}",
        "Use coupon SAVE10 before it ends",
        "Big SALE today only",
        "A free gift with your order",
        "Buy now and save",
        "Limited time deal",
        "अगले ऑर्डर पर 20% छूट पाएँ",
        "खास ऑफ़र सिर्फ़ आज",
        "खास ऑफर सिर्फ़ आज",
        "Abhi kharidein, sasta hai",
    ],
)
def test_promotional_wording_is_found(text: str) -> None:
    assert promotional_terms(text)


@pytest.mark.parametrize(
    "text",
    [
        "Your order {{1}} has been delivered. Reply here if anything is wrong.",
        "Your saleable items and offerings",  # inside other words
        "पार्सल कल आपके पास पहुँचेगा",
        "Total: ₹1,499.00 (18% GST included)",
    ],
)
def test_promotional_matching_respects_word_boundaries(text: str) -> None:
    assert promotional_terms(text) == []


def test_promotional_wording_is_an_error_only_in_utility_templates() -> None:
    pushy = {"body": "Hi {{1}}, your order {{2}} shipped. Use coupon SAVE10 for a discount next time."}
    assert "promotional" in rules(template(**pushy))
    assert "promotional" not in rules(template(category="MARKETING", **pushy))
    assert "promotional" in rules(template(footer="सीमित समय का ऑफ़र"))
    assert "promotional" in rules(template(buttons=(Button("QUICK_REPLY", "Shop now"),)))


def test_fallback_must_exist_and_take_the_same_values() -> None:
    plain = TemplateDefinition(
        "order_update_plain",
        "UTILITY",
        "dispatched",
        {
            "en": TemplateLanguage(
                body="Dear {{1}}, we shipped your order {{2}} today. Reply to ask.", examples=("a", "b")
            )
        },
    )
    primary = dataclasses.replace(template(), fallback="order_update_plain")
    assert "fallback" not in rules(primary, order_update_plain=plain)
    assert "fallback" in rules(primary)  # not in the catalogue
    assert "fallback" in rules(dataclasses.replace(primary, fallback="order_update"))  # itself
    other_kind = dataclasses.replace(plain, kind="delivered")
    assert "fallback" in rules(primary, order_update_plain=other_kind)
    fewer = dataclasses.replace(
        plain,
        languages={"en": TemplateLanguage(body="Dear {{1}}, we shipped your order today.", examples=("a",))},
    )
    assert "fallback" in rules(primary, order_update_plain=fewer)
    no_hindi = dataclasses.replace(primary, languages={**primary.languages, "hi": GOOD})
    assert "fallback" in rules(no_hindi, order_update_plain=plain)


def test_findings_print_as_lines() -> None:
    finding = Finding(ERROR, "order_update", "hi", "body", "body is required")
    assert str(finding) == "ERROR   order_update (hi): [body] body is required"
