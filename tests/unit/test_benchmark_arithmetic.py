"""The benchmarks' own arithmetic: the sliding one-second window (rate limit check) and the RSS slope."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from sending import busiest_window
from soak import Sample, growth_per_10k


def brute_force(times: list[float], width: float = 1.0) -> int:
    """Every busiest window starts at an event: count each one's [t, t + width)."""
    return max((sum(1 for u in times if t <= u < t + width) for t in times), default=0)


def test_window_is_half_open() -> None:
    assert busiest_window([0.0, 0.5, 0.999, 1.0, 1.5]) == (3, 0.0)
    assert busiest_window([0.0, 1.0, 2.0])[0] == 1


def test_evenly_paced_requests_fill_the_window_to_the_rate_and_one_early_request_exceeds_it() -> None:
    paced = [i * (1 / 80 + 1e-9) for i in range(400)]
    assert busiest_window(paced)[0] == 80
    assert busiest_window([*paced, 2.5 + 1e-6])[0] == 81


def test_no_events() -> None:
    count, _ = busiest_window([])
    assert count == 0


@given(st.lists(st.floats(min_value=0, max_value=20, allow_nan=False), max_size=200))
def test_sliding_window_matches_brute_force(times: list[float]) -> None:
    count, start = busiest_window(times)
    assert count == brute_force(times)
    if times:
        assert sum(1 for u in times if start <= u < start + 1.0) == count


def test_rss_slope_ignores_the_first_tenth_and_reports_mb_per_10k_orders() -> None:
    warming = [Sample(0, 0, 100.0, 50.0), Sample(1, 50, 100.0, 90.0)]  # before 10 % of 1000 orders
    steady = [Sample(t, n, 100.0, 100.0 + n / 100) for t, n in ((2, 200), (3, 500), (4, 800), (5, 1000))]
    samples = warming + steady
    assert abs(growth_per_10k(samples, 1000, "worker_mb") - 100.0) < 1e-9  # 0.01 MB per order
    assert growth_per_10k(samples, 1000, "web_mb") == 0.0
