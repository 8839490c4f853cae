"""Polling Shiprocket's tracking API for parcels whose courier has gone quiet (see poll_schedule.py).

A poller that dies mid-poll leaves a lease on its rows that expires, and the next round retries them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from datetime import timedelta

import sqlalchemy as sa

from orderwire.app import orders
from orderwire.app.poll_schedule import KIND, WAITING, backoff
from orderwire.app.runtime import Runtime
from orderwire.integrations.base import PayloadError
from orderwire.integrations.shiprocket.api import ShiprocketApi, ShiprocketApiError, parse_tracking
from orderwire.store.tables import jobs

log = logging.getLogger(__name__)

BATCH = 20
LEASE = timedelta(minutes=5)


def poll_due(rt: Runtime, api: ShiprocketApi) -> int:
    """Poll the parcels that are due (at most BATCH); returns how many were polled."""
    now = rt.clock()
    with rt.engine.begin() as conn:
        due = conn.execute(
            sa.select(jobs.c.id, jobs.c.payload, jobs.c.attempts)
            .where(jobs.c.status == WAITING, jobs.c.kind == KIND, jobs.c.available_at <= now)
            .order_by(jobs.c.available_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if due:  # a lease: another poller skips these, and a crash retries them when it ends
            ids = [row.id for row in due]
            conn.execute(jobs.update().where(jobs.c.id.in_(ids)).values(available_at=now + LEASE))
    for row in due:
        _poll_one(rt, api, row.id, str(row.payload["awb"]), int(row.attempts))
    return len(due)


def _poll_one(rt: Runtime, api: ShiprocketApi, job_id: int, awb: str, attempts: int) -> None:
    now = rt.clock()
    try:
        answer = api.track(awb)
        events = parse_tracking(awb, answer)
        error = "" if events else "no activity yet"
    except (ShiprocketApiError, PayloadError) as exc:
        answer, events, error = {}, (), str(exc)
        log.warning("tracking poll of %s failed: %s", awb, exc)
    tried = attempts + 1
    give_up = tried >= rt.settings.tracking_poll_max_attempts
    # Recorded before the news is submitted: applying news resets this row, and must win.
    with rt.engine.begin() as conn:
        conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.status == WAITING)
            .values(
                attempts=tried,
                last_error=error[:2000],
                available_at=now + backoff(rt, tried),
                status="done" if give_up else WAITING,
                done_at=now if give_up else None,
            )
        )
    if events:
        raw = json.dumps(answer, sort_keys=True, separators=(",", ":"))
        key = f"poll:{awb}:{hashlib.sha256(raw.encode()).hexdigest()}"
        orders.submit(rt, "shiprocket-poll", key, raw, list(events), topic="track_awb")


class Poller:
    """Polls due parcels every ORDERWIRE_TRACKING_POLL_EVERY_SECONDS on a daemon thread."""

    def __init__(self, rt: Runtime):
        s = rt.settings
        password = s.shiprocket_api_password.get_secret_value() if s.shiprocket_api_password else ""
        token = s.shiprocket_api_token.get_secret_value() if s.shiprocket_api_token else ""
        self._rt = rt
        self._api = ShiprocketApi(s.shiprocket_api_url, s.shiprocket_api_email, password, token, rt.clock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="orderwire-poller", daemon=True)

    def start(self) -> None:
        """Begin polling."""
        self._thread.start()

    def stop(self) -> None:
        """Finish the current round and stop."""
        self._stop.set()
        self._thread.join(timeout=30)
        self._api.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                poll_due(self._rt, self._api)
            except Exception:  # the database may be down for a moment: carry on next round
                log.exception("tracking poll round failed")
            self._stop.wait(self._rt.settings.tracking_poll_every_seconds)
