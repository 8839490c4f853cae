"""Lint the template catalogue against WhatsApp's template rules before anything is submitted to Meta.

Rules follow Meta's template docs (developers.facebook.com/documentation/business-messaging/whatsapp/
templates: components, template guidelines and common rejection reasons, template categorization): name of
lowercase letters, digits and underscores (<= 512); body <= 1024 characters, not starting or ending with a
variable, variables numbered {{1}}..{{n}} without gaps and never side by side; text header <= 60 with at most
one variable and no newline or formatting; footer <= 60 without variables; a sample value for every
variable; at most 10 buttons with quick replies grouped together, at most 2 URL buttons, button text <= 25,
a URL button's one variable at the very end of its URL. A utility template with promotional wording is
recategorised as marketing (four times the price), so such wording is an error in UTILITY templates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from orderwire.domain.templates import (
    BODY_LIMIT,
    BUTTON_TEXT_LIMIT,
    FOOTER_LIMIT,
    HEADER_LIMIT,
    PLACEHOLDER,
    ButtonParameter,
    OutboundMessage,
    TemplateDefinition,
    TemplateError,
    TemplateLanguage,
    adapt,
    validate,
)

ERROR = "error"
WARNING = "warning"
NAME_LIMIT = 512
URL_LIMIT = 2000
BUTTON_LIMIT = 10
URL_BUTTON_LIMIT = 2
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
BUTTON_TYPES = ("QUICK_REPLY", "URL")  # what compose() and validate() know how to fill
NAME = re.compile(r"[a-z0-9_]+")
LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
ANY_BRACES = re.compile(r"\{\{(.*?)\}\}")
ADJACENT = re.compile(r"\}\}\s*\{\{")
HEADER_MARKUP = re.compile(r"[*_~`\n]")

# A small curated list; words a reviewer reads as promotion. Hindi is matched without nukta (ऑफ़र = ऑफर).
PROMOTIONAL = (
    "offer", "offers", "discount", "discounts", "sale", "% off", "flat off", "buy now", "shop now",
    "limited time", "limited period", "free gift", "coupon", "coupons", "promo code", "promocode", "deal",
    "deals", "cashback", "cash back", "hurry", "don't miss", "best price", "lowest price", "clearance",
    "chhoot", "chhut", "sasta", "muft", "jaldi karein", "abhi kharidein",
    "छूट", "ऑफ़र", "सेल", "डिस्काउंट", "कूपन", "मुफ़्त उपहार", "फ़्री गिफ़्ट", "कैशबैक", "डील", "सीमित समय",
    "अभी ख़रीदें", "जल्दी करें",
)  # fmt: skip
_WORDISH = r"[\w\u0900-\u097F]"


@dataclass(frozen=True)
class Finding:
    """One problem: `error` would be rejected or recategorised by Meta, `warning` risks it."""

    severity: str
    template: str
    language: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.template} ({self.language})" if self.language else self.template
        return f"{self.severity.upper():7} {where}: [{self.rule}] {self.message}"


def _normal(text: str) -> str:
    return unicodedata.normalize("NFD", text).replace("\u093c", "").lower()


def _term_pattern(term: str) -> re.Pattern[str]:
    body = re.escape(_normal(term))
    before = f"(?<!{_WORDISH})" if re.match(_WORDISH, term[0]) else ""
    after = f"(?!{_WORDISH})" if re.match(_WORDISH, term[-1]) else ""
    return re.compile(before + body + after)


_PROMOTIONAL = [(term, _term_pattern(term)) for term in PROMOTIONAL]


def promotional_terms(text: str) -> list[str]:
    """The promotional words and phrases found in `text`."""
    normal = _normal(text)
    return [term for term, pattern in _PROMOTIONAL if pattern.search(normal)]


def lint_catalogue(catalogue: Mapping[str, TemplateDefinition]) -> list[Finding]:
    """Every finding for every template in the catalogue, errors first."""
    findings: list[Finding] = []
    for definition in catalogue.values():
        findings += lint_template(definition, catalogue)
    return sorted(findings, key=lambda f: (f.severity != ERROR, f.template, f.language))


def lint_template(
    definition: TemplateDefinition, catalogue: Mapping[str, TemplateDefinition]
) -> list[Finding]:
    """The findings for one template, in all its languages (and its fallback, if it names one)."""
    out = _Findings(definition.name)
    if not NAME.fullmatch(definition.name) or len(definition.name) > NAME_LIMIT:
        out.error("", "name", f"name must be lowercase letters, digits and underscores, <= {NAME_LIMIT}")
    if definition.category not in CATEGORIES:
        out.error("", "category", f"category {definition.category!r} is not one of {', '.join(CATEGORIES)}")
    if not definition.languages:
        out.error("", "languages", "no language version")
    for code, version in definition.languages.items():
        if not LANGUAGE.fullmatch(code):
            out.error(code, "language", f"{code!r} is not a WhatsApp language code (en, hi, en_US, ...)")
        _lint_version(out, code, version, definition.category)
    _lint_shape_across_languages(out, definition)
    if definition.fallback:
        _lint_fallback(out, definition, catalogue)
    return out.items


class _Findings:
    def __init__(self, template: str):
        self.template = template
        self.items: list[Finding] = []

    def error(self, language: str, rule: str, message: str) -> None:
        self.items.append(Finding(ERROR, self.template, language, rule, message))

    def warning(self, language: str, rule: str, message: str) -> None:
        self.items.append(Finding(WARNING, self.template, language, rule, message))


def _numbers(out: _Findings, code: str, part: str, text: str) -> list[int]:
    """The placeholder numbers in `text`, reporting malformed ones ({{ 1 }}, {{name}}, {1})."""
    for inner in ANY_BRACES.findall(text):
        if not inner.isdigit() or inner.startswith("0"):
            out.error(
                code,
                "placeholder",
                f"{part}: malformed placeholder {{{{{inner}}}}}; use {{{{1}}}}, {{{{2}}}}...",
            )
    if text.count("{{") != text.count("}}") or re.search(r"(?<!\{)\{\d+\}(?!\})", text):
        out.error(code, "placeholder", f"{part}: unbalanced braces around a placeholder")
    return [int(n) for n in PLACEHOLDER.findall(text)]


def _lint_version(out: _Findings, code: str, v: TemplateLanguage, category: str) -> None:
    _lint_body(out, code, v)
    _lint_header_footer(out, code, v)
    _lint_buttons(out, code, v)
    if category == "UTILITY":
        texts = [v.header, v.body, v.footer, *(b.text for b in v.buttons)]
        terms = sorted({t for text in texts for t in promotional_terms(text)})
        if terms:
            out.error(code, "promotional", f"promotional wording in a UTILITY template: {', '.join(terms)}")


def _lint_body(out: _Findings, code: str, v: TemplateLanguage) -> None:
    if not v.body.strip():
        out.error(code, "body", "body is required")
        return
    if len(v.body) > BODY_LIMIT:
        out.error(code, "body-length", f"body is {len(v.body)} characters, limit {BODY_LIMIT}")
    numbers = _numbers(out, code, "body", v.body)
    n = len(set(numbers))
    if set(numbers) != set(range(1, n + 1)):
        out.error(
            code, "placeholder-sequence", f"body variables {sorted(set(numbers))} must be 1..{n} without gaps"
        )
    stripped = v.body.strip()
    if PLACEHOLDER.match(stripped) or stripped.endswith("}}"):
        out.error(code, "placeholder-edge", "body may not start or end with a variable")
    elif re.search(r"\{\{\d+\}\}[.!?।]$", stripped):
        out.warning(code, "placeholder-edge", "body ends with a variable and a full stop: end with words")
    if ADJACENT.search(v.body):
        out.error(code, "placeholder-adjacent", "two variables side by side need words between them")
    if n and len(stripped.split()) < 3 * n + 1:
        out.warning(
            code, "placeholder-ratio", f"{n} variables in {len(stripped.split())} words: add more text"
        )
    if len(v.examples) != n:
        out.error(code, "examples", f"body has {n} variables but {len(v.examples)} examples")
    for i, example in enumerate(v.examples, start=1):
        if not example.strip() or "\n" in example:
            out.error(code, "examples", f"body example {i} is empty or holds a newline")


def _lint_header_footer(out: _Findings, code: str, v: TemplateLanguage) -> None:
    if v.header:
        if len(v.header) > HEADER_LIMIT:
            out.error(code, "header-length", f"header is {len(v.header)} characters, limit {HEADER_LIMIT}")
        numbers = _numbers(out, code, "header", v.header)
        if len(numbers) > 1 or any(n != 1 for n in numbers):
            out.error(code, "header-variables", "a text header holds at most one variable, {{1}}")
        if HEADER_MARKUP.search(v.header):
            out.error(code, "header-format", "a text header may not hold newlines or * _ ~ ` formatting")
        if numbers and not v.header_example.strip():
            out.error(code, "examples", "the header variable needs a header_example")
    if v.header_example and not PLACEHOLDER.search(v.header):
        out.warning(code, "examples", "header_example given but the header has no variable")
    if v.footer:
        if len(v.footer) > FOOTER_LIMIT:
            out.error(code, "footer-length", f"footer is {len(v.footer)} characters, limit {FOOTER_LIMIT}")
        if "{{" in v.footer or "\n" in v.footer:
            out.error(code, "footer-format", "a footer holds no variables and no newlines")


def _lint_buttons(out: _Findings, code: str, v: TemplateLanguage) -> None:
    types = [b.type for b in v.buttons]
    if len(types) > BUTTON_LIMIT:
        out.error(code, "buttons", f"{len(types)} buttons, limit {BUTTON_LIMIT}")
    if types.count("URL") > URL_BUTTON_LIMIT:
        out.error(code, "buttons", f"{types.count('URL')} URL buttons, limit {URL_BUTTON_LIMIT}")
    quick = [i for i, t in enumerate(types) if t == "QUICK_REPLY"]
    if quick and quick != list(range(quick[0], quick[-1] + 1)):
        out.error(code, "buttons-grouping", "quick-reply buttons must be grouped together")
    for i, b in enumerate(v.buttons):
        where = f"button {i}"
        if b.type not in BUTTON_TYPES:
            out.error(
                code, "button-type", f"{where}: type {b.type!r} is not one of {', '.join(BUTTON_TYPES)}"
            )
        if not b.text.strip() or len(b.text) > BUTTON_TEXT_LIMIT or "{{" in b.text or "\n" in b.text:
            out.error(
                code, "button-text", f"{where}: text must be 1..{BUTTON_TEXT_LIMIT} characters, no variables"
            )
        if b.type == "URL":
            _lint_url(out, code, where, b.url, b.example)
        elif b.url:
            out.error(code, "button-url", f"{where}: only URL buttons have a url")


def _lint_url(out: _Findings, code: str, where: str, url: str, example: str) -> None:
    if not (url.startswith("https://") or url.startswith("/")) or len(url) > URL_LIMIT:
        out.error(
            code,
            "button-url",
            f"{where}: url must be https://... or /path (on the public URL), <= {URL_LIMIT}",
        )
    numbers = _numbers(out, code, where, url)
    if numbers and (numbers != [1] or not url.endswith("{{1}}")):
        out.error(code, "button-url", f"{where}: a URL holds one variable, {{{{1}}}}, at its very end")
    if numbers and not example.strip():
        out.error(code, "examples", f"{where}: the URL variable needs an example")


def _shape(v: TemplateLanguage) -> tuple[int, int, tuple[str, ...]]:
    return (
        len(set(PLACEHOLDER.findall(v.header))),
        len(set(PLACEHOLDER.findall(v.body))),
        tuple(b.type for b in v.buttons),
    )


def _lint_shape_across_languages(out: _Findings, definition: TemplateDefinition) -> None:
    """One set of values fills every language, so every language needs the same variables and buttons."""
    shapes = {code: _shape(v) for code, v in definition.languages.items()}
    if len(set(shapes.values())) > 1:
        detail = "; ".join(f"{c}: header {h}, body {b}, buttons {list(t)}" for c, (h, b, t) in shapes.items())
        out.error("", "languages-differ", f"languages take different values ({detail})")


def sample_message(definition: TemplateDefinition, language: str) -> OutboundMessage:
    """A message filled with the template's own examples (what review sees)."""
    v = definition.languages[language]
    buttons = tuple(
        ButtonParameter(i, b.type.lower(), b.example or "example")
        for i, b in enumerate(v.buttons)
        if b.type == "QUICK_REPLY" or (b.type == "URL" and PLACEHOLDER.search(b.url))
    )
    header = (v.header_example,) if PLACEHOLDER.search(v.header) else ()
    return OutboundMessage(definition.name, language, v.examples, header, buttons)


def _lint_fallback(
    out: _Findings, definition: TemplateDefinition, catalogue: Mapping[str, TemplateDefinition]
) -> None:
    sibling = catalogue.get(definition.fallback)
    if sibling is None or sibling.name == definition.name:
        out.error(
            "", "fallback", f"fallback {definition.fallback!r} is not another template in the catalogue"
        )
        return
    if (sibling.kind, sibling.category) != (definition.kind, definition.category):
        out.error("", "fallback", f"fallback {sibling.name} must have the same kind and category")
    for code in definition.languages:
        try:
            validate(adapt(sample_message(definition, code), sibling), sibling)
        except TemplateError as exc:
            out.error(code, "fallback", f"fallback {sibling.name} cannot take this template's values: {exc}")
