"""Property-based fuzzing of every webhook parser: whatever arrives, a parser either reads it or raises
PayloadError (a clear 400), never anything else (a 500).

Inputs start from each vendor's documented fixtures and are mutated (keys dropped, values swapped for
other JSON of any type), plus arbitrary bytes, so the parsers are driven deep into their branches.
New vendors are covered as soon as they are registered in app/inbound.py with fixtures beside them.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderwire.app.inbound import VENDORS
from orderwire.integrations.base import Delivery, PayloadError
from orderwire.integrations.whatsapp import webhook as wa

INTEGRATIONS = Path(wa.__file__).parent.parent
FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
# Header names the adapters read (topics, event ids, timestamps); values are fuzzed too.
HEADER_NAMES = [
    "content-type",
    "x-shopify-topic",
    "x-shopify-webhook-id",
    "x-shopify-shop-domain",
    "x-wc-webhook-topic",
    "x-wc-webhook-resource",
    "x-wc-webhook-event",
    "x-wc-webhook-delivery-id",
    "x-razorpay-event-id",
    "x-webhook-timestamp",
    "x-webhook-version",
    "x-webhook-id",
    "x-idempotency-key",
    "stripe-signature",
    "x-api-key",
    "aftership-hmac-sha256",
    "x-easypost-hmac-signature",
]
headers = st.dictionaries(st.sampled_from(HEADER_NAMES), st.text(max_size=40), max_size=4)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replace(copy[head], rest, new, delete)
        return copy
    copy_list = list(value)
    if delete and not rest:
        copy_list.pop(head)
    else:
        copy_list[head] = _replace(copy_list[head], rest, new, delete)
    return copy_list


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """The document with a few of its values replaced by other JSON, or removed."""
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        document = _replace(document, path, draw(json_values), delete=draw(st.booleans()) and bool(path))
    return document


def _fixtures(folder: str) -> list[Path]:
    return sorted((INTEGRATIONS / folder / "fixtures").glob("*.json"))


VENDOR_FIXTURES = [
    pytest.param(name, path, id=f"{name}-{path.stem}")
    for name, vendor in VENDORS.items()
    for path in _fixtures(vendor.adapter.name)
]


def test_every_vendor_has_fixtures_to_fuzz() -> None:
    covered = {p.values[0] for p in VENDOR_FIXTURES}
    assert covered == set(VENDORS), f"vendors without fixtures: {set(VENDORS) - covered}"


def _parse_or_refuse(name: str, head: dict[str, str], raw: bytes) -> None:
    try:
        delivery = VENDORS[name].adapter.parse(head, raw)
    except PayloadError:
        return
    assert isinstance(delivery, Delivery) and delivery.dedupe_key


@pytest.mark.parametrize(("name", "path"), VENDOR_FIXTURES)
def test_vendor_parsers_read_or_refuse_mutated_payloads(name: str, path: Path) -> None:
    document = json.loads(path.read_text())

    @FUZZ
    @given(body=mutated(document), head=headers)
    def check(body: Any, head: dict[str, str]) -> None:
        _parse_or_refuse(name, head, json.dumps(body).encode())

    check()


@pytest.mark.parametrize("name", sorted(VENDORS))
@FUZZ
@given(raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()), head=headers)
def test_vendor_parsers_read_or_refuse_anything(name: str, raw: bytes, head: dict[str, str]) -> None:
    _parse_or_refuse(name, head, raw)


@pytest.mark.parametrize("path", _fixtures("whatsapp"), ids=lambda p: p.stem)
def test_whatsapp_parser_reads_or_refuses_mutated_payloads(path: Path) -> None:
    document = json.loads(path.read_text())

    @FUZZ
    @given(body=mutated(document))
    def check(body: Any) -> None:
        with contextlib.suppress(PayloadError):
            wa.parse(body)

    check()
