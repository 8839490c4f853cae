"""The pump: one thread per process that applies due jobs (events, timers) and hands messages to sending.

Jobs are claimed with FOR UPDATE SKIP LOCKED, so several processes on one PostgreSQL share the work.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from orderwire.app import orders, outbound, privacy, sending, vendor_calls
from orderwire.app.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 200
JOBS_PER_TRANSACTION = 20
IDLE_WAIT = 0.05  # a separate web process cannot wake this one: poll often (cheap when idle)
SWEEP_EVERY = 30.0  # at most; more often when the send lease is shorter
PURGE_EVERY = 3600.0


def run_once(rt: Runtime, sweep: bool = False) -> int:
    """Apply up to BATCH due jobs and dispatch due messages; returns how much was done."""
    done = 0
    while done < BATCH:
        applied = orders.process_due_jobs(rt, JOBS_PER_TRANSACTION)
        done += applied
        # Hand messages over between batches, so a backlog of events does not delay the first of them.
        done += sending.dispatch_due(rt)
        if applied < JOBS_PER_TRANSACTION:
            break
    done += vendor_calls.run_due(rt)
    done += outbound.run_due(rt)  # outbound webhooks and CRM notes
    lease = timedelta(seconds=rt.settings.send_lease_seconds)
    done += sending.dispatch_due(rt, stale_after=lease if sweep else None)  # claims of dead processes
    if sweep:
        done += orders.release_stranded(rt)
    return done


class Pump:
    """Runs `run_once` in a loop on a daemon thread until stopped; on PostgreSQL, more threads apply jobs.

    Jobs are claimed with SKIP LOCKED, so the threads take different batches; one order's events still
    apply in arrival order (`orders.process_due_jobs`), and `orders.release_stranded` catches the one
    race left, a park and a release crossing in two transactions.
    """

    def __init__(self, rt: Runtime):
        self._rt = rt
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, name="orderwire-pump", daemon=True)]
        extra = rt.settings.pump_threads - 1 if rt.engine.dialect.name == "postgresql" else 0
        self._threads += [
            threading.Thread(target=self._apply_loop, name=f"orderwire-jobs-{n}", daemon=True)
            for n in range(1, extra + 1)
        ]

    def start(self) -> None:
        """Begin pumping."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Finish the current round and stop."""
        self._stop.set()
        self._rt.wake()
        for thread in self._threads:
            thread.join(timeout=10)

    def _apply_loop(self) -> None:
        while not self._stop.is_set():
            try:
                applied = orders.process_due_jobs(self._rt, JOBS_PER_TRANSACTION)
            except Exception:  # as in `_loop`: the database may be down for a moment
                log.exception("job round failed")
                self._stop.wait(1.0)
                continue
            if applied < JOBS_PER_TRANSACTION:
                self._stop.wait(IDLE_WAIT)

    def _loop(self) -> None:
        last_sweep = last_purge = 0.0
        purged_until: datetime | None = None
        sweep_every = min(SWEEP_EVERY, self._rt.settings.send_lease_seconds / 2)
        while not self._stop.is_set():
            sweep = time.monotonic() - last_sweep > sweep_every
            try:
                done = run_once(self._rt, sweep=sweep)
                if sweep:
                    last_sweep = time.monotonic()
                days = self._rt.settings.retention_days
                if days and time.monotonic() - last_purge > PURGE_EVERY:
                    started = self._rt.clock()
                    privacy.purge_older_than(self._rt, days, since=purged_until)
                    last_purge, purged_until = time.monotonic(), started
            except Exception:  # the database may be down for a moment: wait and carry on
                log.exception("pump round failed")
                done = 0
                self._stop.wait(1.0)
            if done == 0:
                self._rt.work_available.wait(IDLE_WAIT)
                self._rt.work_available.clear()
