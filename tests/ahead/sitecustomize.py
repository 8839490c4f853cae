"""`make test-ahead`: every Python process started with this folder on PYTHONPATH lives TESTS_DAYS_AHEAD
days in the future: pytest, the `orderwire serve` it starts and that server's worker.

A test whose dates are fixed ages: the live service reads the real clock, so timers computed from old
fixture dates come due during the test and it fails on some later day, whoever is working then (a
follow-up 4 days after a delivery on 2026-12-03 failed every Shopify journey from 2026-12-07 07:50 UTC).
Run ahead, such a test fails the day it is written. Only Python's clocks move (time-machine patches
them); monotonic time, PostgreSQL's clock and Chromium's stay real, which the service never compares
with its own.
"""

import os
from datetime import UTC, datetime, timedelta

_DAYS = float(os.environ.get("TESTS_DAYS_AHEAD", "0"))  # 60.5: twelve hours later in the day too
if _DAYS:
    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(days=_DAYS), tick=True).start()
