"""STOP and START keywords: only a message that is just the keyword counts."""

from __future__ import annotations

import pytest

from orderwire.domain.consent import consent_change


@pytest.mark.parametrize("text", ["STOP", " stop! ", "Unsubscribe", "opt-out", "band karo", "बंद करो।"])
def test_opt_out(text: str) -> None:
    assert consent_change(text) is False


@pytest.mark.parametrize("text", ["START", "start.", "Opt in", "शुरू करो"])
def test_opt_in(text: str) -> None:
    assert consent_change(text) is True


@pytest.mark.parametrize("text", ["don't stop the delivery", "where is my order", "", "stopped?"])
def test_anything_else(text: str) -> None:
    assert consent_change(text) is None
