"""The send pacing rule: whatever the arrival pattern, no window holds more than `rate` grants."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from orderwire.app.sending import next_grant

WINDOW = 1.1


def _grant_all(asks: list[float], rate: int) -> list[float]:
    """Grant each ask (seconds from start, in order) at the first moment the rule allows."""
    granted: list[float] = []
    clock = 0.0
    for ask in sorted(asks):
        clock = max(clock, ask)
        clock = max(clock, next_grant(granted, clock, rate, WINDOW))
        granted.append(clock)
    return granted


@settings(max_examples=200, deadline=None)
@given(
    asks=st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=1, max_size=300),
    rate=st.integers(min_value=1, max_value=80),
)
def test_no_window_ever_holds_more_than_the_rate(asks: list[float], rate: int) -> None:
    granted = _grant_all(asks, rate)
    assert len(granted) == len(asks)  # everyone gets a turn
    for i, start in enumerate(granted):
        in_window = [t for t in granted[i:] if t < start + WINDOW]
        assert len(in_window) <= rate
    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert all(g >= 1.0 / rate - 1e-9 for g in gaps)  # spaced, never bunched


def test_a_burst_is_spread_over_the_window() -> None:
    granted = _grant_all([0.0] * 160, 80)
    assert granted[79] < 1.0 < granted[80]  # the 81st waits for the window to move on
    assert abs(granted[-1] - (WINDOW + 79 / 80)) < 0.02
