"""Service logs: personal data is masked in text and JSON lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from orderwire.logs import JsonFormatter, MaskPersonalData, mask


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPersonalData())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("orderwire.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_a_phone_number_in_a_log_call_is_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("sending to %s about order %s", "+91 98123 45678", "#1001")
    line = json.loads(stream.getvalue())
    assert "98123" not in stream.getvalue() and "45678" not in stream.getvalue()
    assert line["message"] == "sending to <phone …78> about order #1001"
    assert line["level"] == "INFO" and line["logger"] == "orderwire.test.logs"


def test_emails_and_personal_extra_fields_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.warning(
        "login failed for asha.rao@example.com",
        extra={"customer_name": "Asha Rao", "phone": "919812345678", "case": 7},
    )
    line = json.loads(stream.getvalue())
    assert "asha" not in stream.getvalue().lower()
    assert line["message"] == "login failed for <email>"
    assert line["customer_name"] == "***" and line["phone"] == "***" and line["case"] == 7


def test_exceptions_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise ValueError("no WhatsApp account for 9812345678")
    except ValueError:
        logger.exception("send failed")
    assert "9812345678" not in stream.getvalue()
    assert "<phone …78>" in json.loads(stream.getvalue())["exception"]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+919812345678", "<phone …78>"),
        ("call 98123-45678 today", "call <phone …78> today"),
        ("at 2026-11-27 10:30:00, order 1001, AWB SR300", "at 2026-11-27 10:30:00, order 1001, AWB SR300"),
        ("wamid.HBgMOTE5ODEyMzQ1Njc4FQIAERgSQ", "wamid.HBgMOTE5ODEyMzQ1Njc4FQIAERgSQ"),
        ("mail me: x.y+z@shop.co.in", "mail me: <email>"),
    ],
)
def test_mask(text: str, masked: str) -> None:
    assert mask(text) == masked
