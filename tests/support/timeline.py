"""Fixture dates moved next to the present, for tests that run the live service on the real clock.

The vendor fixtures (integrations/*/fixtures) place their orders on 2026-11-30 and deliver them days
later. A live `orderwire serve` reads the real clock, so once those dates fall behind it the timers they
set (the follow-up 4 days after delivery) come due during a test, and a test that passed on the day it
was written fails weeks later (`make test-ahead` finds such tests). `moved` shifts every date in a payload by
whole weeks, so Sundays stay Sundays (working-day arithmetic is unchanged) and the fixtures' order day
falls within the coming week, as it did when the tests were written. Unit tests of the pure core pass
their own clock and keep the literal dates.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from orderwire.domain.messages import format_day

FIXTURE_DAY = date(2026, 11, 30)  # the day the vendor fixtures' orders are placed


def _shift(today: date) -> timedelta:
    """Whole weeks that move FIXTURE_DAY to the same weekday, on a day after `today`."""
    weeks = max(0, (today - FIXTURE_DAY).days // 7 + 1)
    return timedelta(weeks=weeks)


SHIFT = _shift(datetime.now(UTC).date())
# 2026-11-30, 2026-12-03 13:20, 2026-12-01 09:30:00, with any fraction and offset after the date.
_DATED = re.compile(r"\d{4}-\d{2}-\d{2}(?=$|[T ]\d{2}:\d{2})")


def day(value: str | date) -> date:
    """A fixture's calendar day, moved like `moved` moves it."""
    return (date.fromisoformat(value) if isinstance(value, str) else value) + SHIFT


def _stamp(value: str) -> str:
    """An ISO date or date-time string moved by SHIFT and written as before; other strings unchanged."""
    if not _DATED.match(value):
        return value
    return day(value[:10]).isoformat() + value[10:]


def moved(payload: Any) -> Any:
    """A copy of a JSON payload with every ISO date and date-time string moved by SHIFT."""
    if isinstance(payload, dict):
        return {key: moved(value) for key, value in payload.items()}
    if isinstance(payload, list):
        return [moved(value) for value in payload]
    return _stamp(payload) if isinstance(payload, str) else payload


def shown(value: str | date) -> str:
    """A fixture day as the customer's messages show it ("Sat, 5 Dec"), after the move."""
    return format_day(day(value), "en")
