"""The send pacing rule: whatever the arrival pattern, no window holds more than `rate` grants."""

from __future__ import annotations

import itertools
import math
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderwire.app.sending import SPARE_SECONDS, Pacer, grants_at, next_grant

WINDOW = 1.1


def _grant_all(asks: list[tuple[float, int]], rate: int) -> list[float]:
    """Grant each ask (seconds from start, sends wanted together) in order, each at the first moment the
    rule allows and as many as it allows there; the rest of an ask waits for the next moment."""
    granted: list[float] = []
    clock = 0.0
    for at, wanted in sorted(asks):
        clock = max(clock, at)
        while wanted:
            clock = max(clock, next_grant(granted, clock, rate, WINDOW))
            sends = grants_at(granted, clock, rate, WINDOW, wanted)
            if not sends:  # ready by `next_grant`, but its oldest moment leaves the window an ulp later
                assert next_grant(granted, clock, rate, WINDOW) == clock
                clock = math.nextafter(clock, math.inf)
                continue
            granted += [clock] * sends
            wanted -= sends
    return granted


@settings(max_examples=200, deadline=None)
@given(
    asks=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=5, allow_nan=False), st.integers(min_value=1, max_value=6)
        ),
        min_size=1,
        max_size=200,
    ),
    rate=st.integers(min_value=1, max_value=80),
)
def test_no_window_ever_holds_more_than_the_rate(asks: list[tuple[float, int]], rate: int) -> None:
    granted = _grant_all(asks, rate)
    assert len(granted) == sum(wanted for _, wanted in asks)  # everyone gets a turn
    for i, start in enumerate(granted):
        in_window = [t for t in granted[i:] if t < start + WINDOW]
        assert len(in_window) <= rate
    moments = [(t, len(list(same))) for t, same in itertools.groupby(granted)]
    for (at, together), (after, _) in itertools.pairwise(moments):
        assert after - at >= together / rate - 1e-9  # spaced as one by one, on average never bunched


def test_a_burst_is_spread_over_the_window() -> None:
    granted = _grant_all([(0.0, 1)] * 160, 80)
    assert granted[79] < 1.0 < granted[80]  # the 81st waits for the window to move on
    assert abs(granted[-1] - (WINDOW + 79 / 80)) < 0.02


def test_sends_granted_together_wait_as_long_as_one_by_one() -> None:
    granted = _grant_all([(0.0, 4), (0.001, 4), (0.002, 1)], 80)
    assert granted == pytest.approx([0.0] * 4 + [0.05] * 4 + [0.1])


def test_threads_queued_on_the_pacer_are_let_go_together_within_the_limit() -> None:
    """16 threads on one pacer at 100/s: the thread that asks takes grants for those behind it (fewer
    decisions than sends), and no window of the granted moments holds more than 100."""
    decisions: list[int] = []
    moments: list[float] = []

    class Counting(Pacer):
        def _ask(self, wanted: int) -> tuple[int, float]:
            sends, pause = super()._ask(wanted)
            if sends:
                decisions.append(sends)
                moments.extend(self._granted[-sends:])
            return sends, pause

    pacer = Counting(100)
    released = 0
    lock = threading.Lock()

    def send_ten() -> None:
        nonlocal released
        for _ in range(10):
            pacer.wait()
            with lock:
                released += 1

    threads = [threading.Thread(target=send_ten) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert released == 160 <= sum(decisions)  # never more sends than grants (unused ones are dropped)
    assert len(decisions) < 160 and max(decisions) <= 5  # batched, at most 50 ms of the limit at once
    busiest = max(sum(1 for t in moments[i:] if t < start + WINDOW) for i, start in enumerate(moments))
    assert busiest <= 100


def test_a_spare_grant_not_taken_in_time_is_dropped() -> None:
    """A grant left over from a batch goes to the next thread only while fresh; later it asks anew."""
    asked: list[int] = []

    class Counting(Pacer):
        def _ask(self, wanted: int) -> tuple[int, float]:
            asked.append(wanted)
            return super()._ask(wanted)

    pacer = Counting(80)
    pacer._spare, pacer._spare_at = 3, time.monotonic()
    pacer.wait()
    assert asked == [] and pacer._spare == 2  # fresh: taken without asking
    pacer._spare_at = time.monotonic() - SPARE_SECONDS
    pacer.wait()
    assert asked == [1] and pacer._spare == 0  # stale: this thread asked for itself
