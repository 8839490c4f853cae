"""Quiet hours, follow-up timing and working-day arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from orderwire.domain.policy import (
    ShopPolicy,
    add_delivery_days,
    follow_up_due,
    in_quiet_hours,
    outside_quiet_hours,
)

POLICY = ShopPolicy()


@pytest.mark.parametrize(
    ("utc", "quiet"),
    [
        (datetime(2026, 11, 27, 15, 29, tzinfo=UTC), False),  # 20:59 IST
        (datetime(2026, 11, 27, 15, 30, tzinfo=UTC), True),  # 21:00 IST
        (datetime(2026, 11, 27, 20, 0, tzinfo=UTC), True),  # 01:30 IST
        (datetime(2026, 11, 28, 3, 29, tzinfo=UTC), True),  # 08:59 IST
        (datetime(2026, 11, 28, 3, 30, tzinfo=UTC), False),  # 09:00 IST
    ],
)
def test_quiet_hours_in_shop_time(utc: datetime, quiet: bool) -> None:
    assert in_quiet_hours(utc, POLICY) is quiet


def test_deferred_to_nine_next_morning() -> None:
    late = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # 21:30 IST
    assert outside_quiet_hours(late, POLICY) == datetime(2026, 11, 28, 3, 30, tzinfo=UTC)
    early = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # 06:30 IST same morning
    assert outside_quiet_hours(early, POLICY) == datetime(2026, 11, 27, 3, 30, tzinfo=UTC)


def test_daytime_quiet_window_and_disabled_window() -> None:
    siesta = ShopPolicy(quiet_start=13, quiet_end=15)
    assert in_quiet_hours(datetime(2026, 11, 27, 8, 0, tzinfo=UTC), siesta)  # 13:30 IST
    assert not in_quiet_hours(
        datetime(2026, 11, 27, 16, 0, tzinfo=UTC), ShopPolicy(quiet_start=0, quiet_end=0)
    )


def test_follow_up_is_n_days_later_outside_quiet_hours() -> None:
    delivered = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # 22:30 IST
    assert follow_up_due(delivered, POLICY) == datetime(2026, 12, 2, 3, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        ShopPolicy(follow_up_days=8)


@pytest.mark.parametrize(
    ("start", "days", "holidays", "expected"),
    [
        (date(2026, 11, 27), 1, set(), date(2026, 11, 28)),  # Fri -> Sat
        (date(2026, 11, 28), 1, set(), date(2026, 11, 30)),  # Sat -> Mon (Sunday skipped)
        (date(2026, 11, 27), 5, set(), date(2026, 12, 3)),
        (date(2026, 11, 27), 1, {date(2026, 11, 28)}, date(2026, 11, 30)),  # holiday and Sunday
    ],
)
def test_delivery_days_skip_sundays_and_holidays(
    start: date, days: int, holidays: set[date], expected: date
) -> None:
    assert add_delivery_days(start, days, frozenset(holidays)) == expected
