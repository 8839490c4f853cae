"""Pure parts of the console: percentiles, the WISMO test, SVG charts that escape what they draw."""

from __future__ import annotations

import pytest

from orderwire.app.cases import reason_words
from orderwire.app.dashboard import is_wismo, percentile
from orderwire.web.console import charts


def test_percentiles() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 95) == 7.0
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("Where is my order?", True),
        ("when will my parcel arrive", True),
        ("order kab aayega", True),
        ("मेरा ऑर्डर कहाँ है?", True),
        ("status?", True),
        ("Thank you, got it!", False),
        ("I want to return the kurta", False),
    ],
)
def test_wismo_questions(text: str, asked: bool) -> None:
    assert is_wismo(text) is asked


def test_charts_escape_labels_and_scale_to_the_largest() -> None:
    svg = str(charts.bars([("<script>x</script>", 4), ("two", 2)], "t & t"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "t &amp; t" in svg
    assert 'width="310.0"' in svg and 'width="155.0"' in svg  # 4 fills the track, 2 half of it
    assert "nothing in this period" in str(charts.bars([], "empty"))
    grouped = str(charts.grouped([{"kind": "confirmation", "sent": 3, "failed": 0}], ("sent", "failed"), "m"))
    assert "<title>failed: 0</title>" in grouped and ">3</text>" in grouped


def test_reasons_in_words() -> None:
    assert reason_words("no_answer") == "Failed delivery: the customer did not answer"
    assert reason_words("something_new") == "Something new"
