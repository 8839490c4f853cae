"""The test helper that moves vendor fixtures' dates next to the present (tests/support/timeline.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.support.timeline import FIXTURE_DAY, _shift, day, moved, shown


def test_the_order_day_lands_within_the_coming_week_on_the_same_weekday() -> None:
    for today in (date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 7), date(2027, 3, 1)):
        placed = FIXTURE_DAY + _shift(today)
        assert today < placed <= today + timedelta(days=7)
        assert placed.weekday() == FIXTURE_DAY.weekday()


def test_moved_shifts_every_date_and_keeps_its_format() -> None:
    payload = {
        "created_at": "2026-11-30T11:02:40+05:30",
        "scans": [{"date": "2026-12-03 13:20:00"}, {"date": "2026-12-05"}],
        "name": "#1002",
        "awb": "1490816553312",
        "note": "2026-12-05 is a Saturday",
        "amount": 139900,
    }
    assert moved(payload) == {
        **payload,
        "created_at": f"{day('2026-11-30').isoformat()}T11:02:40+05:30",
        "scans": [
            {"date": f"{day('2026-12-03').isoformat()} 13:20:00"},
            {"date": day("2026-12-05").isoformat()},
        ],
    }
    # The module's own move: into the coming week (`<=`: midnight may pass since SHIFT read the date).
    today = datetime.now(UTC).date()
    assert today <= day(FIXTURE_DAY) <= today + timedelta(days=7)
    assert shown("2026-12-05").startswith("Sat, ")
