"""The WhatsApp adapter: signatures, handshake, webhook shapes (with and without BSUID), error meanings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orderwire.integrations.base import PayloadError
from orderwire.integrations.whatsapp import webhook as wa
from orderwire.integrations.whatsapp.client import Verdict, classify

FIXTURES = Path(__file__).resolve().parents[2] / "src/orderwire/integrations/whatsapp/fixtures"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def test_signature_over_raw_bytes() -> None:
    raw = b'{"object":"whatsapp_business_account","entry":[]}'
    header = wa.signature_for("s3cret", raw)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert wa.verify("s3cret", header, raw)
    assert not wa.verify("s3cret", header, raw + b" ")
    assert not wa.verify("other", header, raw)
    assert not wa.verify("s3cret", None, raw)
    assert not wa.verify("s3cret", header.removeprefix("sha256="), raw)


def test_handshake() -> None:
    assert wa.handshake("subscribe", "tok", "1158201444", "tok") == "1158201444"
    assert wa.handshake("subscribe", "bad", "1158201444", "tok") is None
    assert wa.handshake("unsubscribe", "tok", "1", "tok") is None
    assert wa.handshake(None, None, None, "tok") is None


def test_status_webhook_with_pricing_and_failure() -> None:
    parsed = wa.parse(fixture("statuses.json"))
    delivered, failed = parsed.statuses
    assert delivered.status == "delivered" and delivered.recipient == "+919812345678"
    assert delivered.pricing["category"] == "utility"
    assert failed.status == "failed" and failed.errors[0]["code"] == 131026
    assert parsed.messages == ()


def test_inbound_text_with_and_without_business_scoped_id() -> None:
    classic = wa.parse(fixture("text_message.json")).messages[0]
    assert (classic.phone, classic.user_id, classic.text) == ("+919812345678", "", "where is my order?")
    assert classic.name == "Asha"
    bsuid = wa.parse(fixture("text_message_bsuid.json")).messages[0]
    assert bsuid.user_id == "IN.13491208655302741918"
    assert bsuid.phone == "+919812345678"
    username_only = wa.parse(fixture("text_message_username_only.json")).messages[0]
    assert username_only.phone == "" and username_only.user_id == "IN.99999208655302741918"


def test_button_tap_carries_payload_and_context() -> None:
    tap = wa.parse(fixture("button_reply.json")).messages[0]
    assert tap.type == "button" and tap.reply_id == "ndr:reschedule:AWB1"
    assert tap.context_id.startswith("wamid.")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"object": "page"},
        {"object": "whatsapp_business_account", "entry": {}},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]},
    ],
)
def test_malformed_bodies_are_refused(body: Any) -> None:
    with pytest.raises(PayloadError):
        wa.parse(body)


def test_other_fields_are_kept_not_dropped() -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "message_template_status_update", "value": {}}]}],
    }
    assert wa.parse(body).other_fields == ("message_template_status_update",)


def _error(code: int) -> dict[str, Any]:
    return {"error": {"message": "m", "type": "OAuthException", "code": code, "error_data": {"details": "d"}}}


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        (200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}]}, Verdict.SENT),
        (200, {}, Verdict.RETRY),
        (500, {}, Verdict.RETRY),
        (503, _error(131000), Verdict.RETRY),
        (429, _error(130429), Verdict.SLOW_DOWN),
        (400, _error(131056), Verdict.SLOW_DOWN),
        (400, _error(131047), Verdict.NEEDS_TEMPLATE),
        (400, _error(131026), Verdict.UNREACHABLE),
        (401, _error(190), Verdict.AUTH),
        (400, _error(132000), Verdict.FAILED),
    ],
)
def test_errors_by_meaning(status: int, body: dict[str, Any], verdict: Verdict) -> None:
    result = classify(status, body)
    assert result.verdict is verdict
    if verdict is Verdict.SENT:
        assert result.wamid == "wamid.X"
