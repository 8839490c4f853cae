"""Durable sending: the `messages` table is the send queue, and a bounded pool of threads sends from it.

The pump claims due messages in one transaction (`dispatch_due`: FOR UPDATE SKIP LOCKED, so several
processes share the work): status 'queued', `claimed_by` this process's executor id. One attempt is one
request to the Cloud API, and its answer is recorded in one transaction: accepted, failed (with a staff
case), or 'retrying' with `send_after` moved back by the backoff, to be claimed again when due. A claim
outlives its process: a process with the same executor id releases it when it starts, and any process
takes it over after `ORDERWIRE_SEND_LEASE_SECONDS`. A message is sent twice only if the process dies after
Meta accepted it and before the answer was recorded (docs/operations.md, "duplicate window").

Until 2026-11 each message was a DBOS workflow on a rate-limited queue; that cost about five system-database
transactions and two thread hand-offs per message; the service peaked near 48 orders/s on
PostgreSQL (docs/benchmarks.md, "What changed this session, measured").
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from orderwire.app import escalations, metrics, templates
from orderwire.app.runtime import Runtime
from orderwire.integrations.whatsapp.client import TEMPLATE_STATUS_FOR_CODE, SendResult, Verdict
from orderwire.store import queries
from orderwire.store.tables import customers, messages, send_pacing

log = logging.getLogger(__name__)

INFLIGHT = messages.alias("in_flight")
SEND_THREADS = 32
# The pacing window is over a second: a granted request reaches Meta a moment later, and on a busy machine
# that moment varies (benchmarks/pacer.py saw 81 arrivals in one second at 80/s with 1.05 s; three
# processes on a slow, overloaded 2-core machine put 16 into one second at 15/s with 1.1 s; 1.25 s left
# 14, docs/operations.md "Rate limit").
WINDOW = 1.25
# One thread asks for the send threads queued behind it too, up to this much of the limit at once (4 sends
# at 80/s; none below 40/s). A grant not taken this long after the ask is dropped (it still counts): a
# late send would take its lateness out of the window's 250 ms margin.
BATCH_SECONDS = 0.05
SPARE_SECONDS = 0.02
FINAL = {
    Verdict.SENT: "accepted",
    Verdict.FAILED: "failed",
    Verdict.UNREACHABLE: "failed",
    Verdict.NEEDS_TEMPLATE: "failed",
    Verdict.AUTH: "failed",
}


def next_grant(granted: list[float], now: float, rate: int, window: float) -> float:
    """When the next send may go, given the moments of the sends granted in the last `window` seconds:
    fewer than `rate` in any window, and the last grant spaced as its sends would be one by one (k sends
    granted together at one moment: k/rate after it)."""
    recent = [t for t in granted if t > now - window]
    ready = (recent[-1] + recent.count(recent[-1]) / rate) if recent else now
    if len(recent) >= rate:
        ready = max(ready, recent[-rate] + window)
    return ready


def grants_at(granted: list[float], now: float, rate: int, window: float, wanted: int) -> int:
    """How many of `wanted` sends may go together at `now` (0: wait until `next_grant`)."""
    if next_grant(granted, now, rate, window) > now:
        return 0
    # never below 0: processes sharing one row may briefly disagree on the rate (a restart with a new one)
    return max(0, min(wanted, rate - sum(1 for t in granted if t > now - window)))


class Pacer:
    """Keeps this process's requests within `rate` in every one-second window.

    DBOS's limiter admits `rate` workflow starts per second across all processes, but in bursts, and each
    start reaches the network a little later. A fixed schedule of slots is not enough either: with 32
    send threads a thread that wakes late (the GIL) still holds an early slot and bunches up with the
    next ones (benchmarks/pacer.py measured 89 sends in one second at 80/s). So requests go only when
    fewer than `rate` went out in the last `window` seconds (the moments actually granted), spaced 1/rate
    apart on average. The window is a little over a second: a granted request reaches Meta a moment later.

    One thread asks at a time, for itself and the threads queued behind it (at most `BATCH_SECONDS` of
    sends): a grant for several is one decision (on PostgreSQL one round trip), and the threads behind
    take the spare grants at once instead of each asking again.
    """

    def __init__(self, rate_per_second: int, window: float = WINDOW):
        self._rate = rate_per_second
        self._window = window
        self._most = max(1, int(rate_per_second * BATCH_SECONDS))
        self._granted: list[float] = []
        self._lock = threading.Lock()  # held by the thread that asks
        self._asking = 0  # threads in wait(), the asker included
        self._asking_lock = threading.Lock()
        self._spare = 0
        self._spare_at = 0.0

    def wait(self) -> None:
        """Block until this caller may send."""
        with self._asking_lock:
            self._asking += 1
        with self._lock:
            try:
                while True:
                    if self._spare > 0 and time.monotonic() - self._spare_at < SPARE_SECONDS:
                        self._spare -= 1
                        return
                    asked = time.monotonic()  # the grant's moment is no earlier than this
                    granted, pause = self._ask(min(self._asking, self._most))
                    if granted > 0:
                        self._spare, self._spare_at = granted - 1, asked
                        return
                    time.sleep(min(pause, self._window))  # a clock stepping back never stalls sends long
            finally:  # still under the lock: the next asker counts only the threads really waiting
                with self._asking_lock:
                    self._asking -= 1

    def _ask(self, wanted: int) -> tuple[int, float]:
        """Grant up to `wanted` sends now: how many, or none and how long to wait."""
        now = time.monotonic()
        granted = grants_at(self._granted, now, self._rate, self._window, wanted)
        if granted == 0:
            return 0, next_grant(self._granted, now, self._rate, self._window) - now
        self._granted = [t for t in self._granted if t > now - self._window] + [now] * granted
        return granted, 0.0


class SharedPacer(Pacer):
    """The same rule for every process on one PostgreSQL: the granted moments live in one row
    (`send_pacing`), taken FOR UPDATE and timed by the database's clock, so two or more processes stay
    within the per-number limit together.

    Sends are granted at the database's present moment (`orderwire_send_grants`, the rule of
    `grants_at` in SQL) and go at once. Reserving future moments for several threads in one transaction
    was tried: mapping the database's clock onto each process's clock is off by up to a round trip, and
    on a loaded machine two processes then put 16 requests into one second at 15/s (docs/benchmarks.md).
    """

    def __init__(self, engine: sa.Engine, name: str, rate_per_second: int, window: float = WINDOW):
        super().__init__(rate_per_second, window)
        self._engine = engine
        self._name = name[:100]
        self._grant = sa.text(
            "SELECT sends, pause FROM orderwire_send_grants(:name, :rate, :window, :wanted)"
        ).bindparams(name=self._name, rate=rate_per_second, window=window)
        with engine.begin() as conn:
            queries.insert_ignore(conn, send_pacing, {"name": self._name, "granted": []}, ["name"])

    def _ask(self, wanted: int) -> tuple[int, float]:
        # One statement in its own transaction (migrations 0013, 0014): the five round trips of a
        # begin/select-for-update/update/commit made the pacer the send path's queue under load.
        with self._engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            sends, pause = conn.execute(self._grant, {"wanted": wanted}).one()
        return int(sends), float(pause)


_pacers: dict[int, Pacer] = {}


def pacer_for(rt: Runtime) -> Pacer:
    """One pacer per runtime: shared through the database on PostgreSQL, in memory on SQLite (one process)."""
    if id(rt) not in _pacers:
        rate = rt.settings.whatsapp_rate_per_second
        if rt.engine.dialect.name == "postgresql":
            name = f"whatsapp:{rt.settings.whatsapp_phone_number_id}"
            _pacers[id(rt)] = SharedPacer(rt.engine, name, rate)
        else:
            _pacers[id(rt)] = Pacer(rate)
    return _pacers[id(rt)]


class Sender:
    """A bounded pool of send threads for one runtime; knows how many claimed messages it still holds."""

    def __init__(self, rt: Runtime, threads: int = SEND_THREADS):
        self._rt = rt
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="orderwire-send")
        self._held = 0
        self._lock = threading.Lock()

    def free(self) -> int:
        """How many more messages may be claimed now (never more than the threads can start at once)."""
        with self._lock:
            return max(0, self._threads - self._held)

    def submit(self, rows: list[Any], known: templates.Statuses) -> None:
        """Send each claimed row on a pool thread (`known`: Meta's word on their templates)."""
        with self._lock:
            self._held += len(rows)
        for row in rows:
            self._pool.submit(self._send, row, known)

    def _send(self, row: Any, known: templates.Statuses) -> None:
        try:
            send_claimed(self._rt, row, known)
        finally:
            with self._lock:
                self._held -= 1
            self._rt.wake()  # a thread is free, and the customer's next message may go

    def close(self) -> None:
        """Finish the requests in flight, then give back the claims not started."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        release_claims(self._rt)


_senders: dict[int, Sender] = {}


def sender_for(rt: Runtime) -> Sender:
    """The runtime's sender; the first call gives back the claims a previous run of this executor left."""
    if id(rt) not in _senders:
        release_claims(rt)
        _senders[id(rt)] = Sender(rt)
    return _senders[id(rt)]


def close(rt: Runtime) -> None:
    """Stop the runtime's sender (after the pump: nothing new is claimed)."""
    sender = _senders.pop(id(rt), None)
    if sender is not None:
        sender.close()


def release_claims(rt: Runtime) -> int:
    """Make this executor's claims due again (at start: its previous run died holding them)."""
    with rt.engine.begin() as conn:
        return conn.execute(
            messages.update()
            .where(messages.c.status == "queued", messages.c.claimed_by == rt.settings.executor_id)
            .values(status="retrying", claimed_by=None)
        ).rowcount


def dispatch_due(rt: Runtime, limit: int = 500, stale_after: timedelta | None = None) -> int:
    """Claim due messages, one per customer at a time so each chat stays in order, and start sending them.

    With `stale_after`, also take over claims older than that (their process died without coming back).
    """
    sender = sender_for(rt)
    room = min(limit, sender.free())
    if room == 0:
        return 0
    now = rt.clock()
    rows, known = _claim(rt, now, room, now - stale_after if stale_after is not None else None)
    sender.submit(rows, known)
    return len(rows)


def _claim_statement(with_stale: bool) -> sa.Select[Any]:
    """Due messages, oldest first, locked; with `with_stale`, also claims older than `stale_before`."""
    in_flight = sa.select(sa.literal(1)).where(
        INFLIGHT.c.customer_id == messages.c.customer_id,
        INFLIGHT.c.id != messages.c.id,
        INFLIGHT.c.status.in_(("queued", "retrying")),
    )
    due = sa.and_(
        messages.c.status.in_(("scheduled", "retrying")),
        messages.c.send_after <= sa.bindparam("now"),
        ~in_flight.exists(),
    )
    if with_stale:
        stale = sa.and_(messages.c.status == "queued", messages.c.updated_at <= sa.bindparam("stale_before"))
        due = sa.or_(due, stale)
    return (
        sa.select(messages.c.id, messages.c.customer_id)
        .where(due)
        .order_by(messages.c.send_after, messages.c.id)
        .limit(sa.bindparam("limit"))
        .with_for_update(skip_locked=True)
    )


# Built once (see store/queries.py): the claim runs many times a second under load.
_DUE = {False: _claim_statement(False), True: _claim_statement(True)}
_CLAIM = (
    messages.update()
    .where(messages.c.id.in_(sa.bindparam("chosen", expanding=True)))
    .values(status="queued", claimed_by=sa.bindparam("executor"), updated_at=sa.bindparam("now"))
)
_CLAIMED = (
    sa.select(messages, customers.c.opted_out)
    .join(customers, customers.c.id == messages.c.customer_id)
    .where(messages.c.id.in_(sa.bindparam("chosen", expanding=True)))
    .order_by(messages.c.id)
)


def _claim(
    rt: Runtime, now: datetime, limit: int, stale_before: datetime | None
) -> tuple[list[Any], templates.Statuses]:
    """Mark up to `limit` due messages as this executor's; read them with the customer's opt-out, and
    Meta's word on their templates."""
    with rt.engine.begin() as conn:
        candidates = conn.execute(
            _DUE[stale_before is not None],
            # several due for one customer count once
            {"now": now, "stale_before": stale_before, "limit": limit * 4},
        ).all()
        first_per_customer = {m.customer_id: m.id for m in reversed(candidates)}
        chosen = sorted(first_per_customer.values())[:limit]
        if not chosen:
            return [], {}
        conn.execute(_CLAIM, {"chosen": chosen, "executor": rt.settings.executor_id, "now": now})
        rows = list(conn.execute(_CLAIMED, {"chosen": chosen}).all())
        return rows, templates.statuses_for(conn, rt, rows)


def send_claimed(rt: Runtime, row: Any, known: templates.Statuses) -> None:
    """One attempt at a claimed message; whatever happens, the row leaves 'queued' (or its lease runs out)."""
    attempt = row.attempts + 1
    try:
        attempt_send(rt, row, attempt, known)
    except Exception as exc:  # e.g. the database blinked: retry later, never hold the claim for good
        log.warning("message %s attempt %s raised %s", row.id, attempt, type(exc).__name__)
        try:
            record_result(rt, row, SendResult(Verdict.RETRY, error_detail=type(exc).__name__), attempt)
        except Exception:
            log.warning("message %s: result not recorded; another process takes it after the lease", row.id)


def attempt_send(rt: Runtime, row: Any, attempt: int, known: templates.Statuses) -> None:
    """One request to the Cloud API, and its result recorded against the message.

    The template gate runs here, on Meta's word as of the claim (`known`, read with the batch a moment
    before), not when the message is created: a template's status can change in between (pauses last
    hours, quiet hours defer messages), and only the status at send time matters.
    """
    if row.opted_out and row.template:  # STOP stops our updates; answers to the customer still go
        with rt.engine.begin() as conn:
            conn.execute(
                messages.update()
                .where(messages.c.id == row.id)
                .values(
                    status="suppressed",
                    error_detail="customer opted out",
                    claimed_by=None,
                    updated_at=rt.clock(),
                )
            )
        return
    payload = templates.gate(rt, row, known)
    if payload is None:
        return  # held for staff (the gate recorded why)
    # The claim is renewed before the pacer's grant, not after: between the grant and the request there
    # must be nothing slow (a database round trip there, under load, put 16 requests into one second at
    # 15/s). After a long wait for the pacer it is renewed again (rare; the lease is far longer).
    claimed_at = _renewed_claim(rt, row, row.updated_at)
    if claimed_at is None:
        return  # the claim outlived its lease while this thread waited, and another attempt took it over
    waiting = time.monotonic()
    pacer_for(rt).wait()
    long_wait = time.monotonic() - waiting > rt.settings.send_lease_seconds / 4
    if long_wait and _renewed_claim(rt, row, claimed_at) is None:
        return
    started = time.monotonic()
    result = rt.whatsapp.send(payload)
    metrics.record_send(
        time.monotonic() - started, "" if result.verdict is Verdict.SENT else result.error_code
    )
    record_result(rt, row, result, attempt, payload)


_RENEW_CLAIM = (
    messages.update()
    .where(
        messages.c.id == sa.bindparam("message_id"),
        messages.c.status == "queued",
        messages.c.claimed_by == sa.bindparam("claimed_by_then"),
        messages.c.updated_at == sa.bindparam("claimed_at"),
    )
    .values(updated_at=sa.bindparam("now"))
)


def _renewed_claim(rt: Runtime, row: Any, claimed_at: datetime) -> datetime | None:
    """The claim's new moment if this attempt still holds it (as of `claimed_at`), else None.

    A claim older than the lease is taken over (`dispatch_due` with `stale_after`), also from a live
    process whose thread waited that long for the pacer or a connection; both attempts would then send.
    The likely cause of 2 duplicates in 385,000 messages in a PostgreSQL soak (docs/operations.md).
    """
    now = rt.clock()
    with rt.engine.begin() as conn:
        renewed = conn.execute(
            _RENEW_CLAIM,
            {"message_id": row.id, "claimed_by_then": row.claimed_by, "claimed_at": claimed_at, "now": now},
        )
        return now if renewed.rowcount == 1 else None


def retry_delay(rt: Runtime, attempt: int, verdict: str) -> float:
    """Seconds before the next attempt: doubling from the base (×4 if Meta says slow down), ≤ 10 min."""
    factor = 4 if verdict == Verdict.SLOW_DOWN else 2
    return float(min(600.0, rt.settings.send_retry_base_seconds * factor ** (attempt - 1)))


# The SET clause comes from the parameters' keys (those vary with the answer), compiled once per set.
_RESULT = messages.update().where(messages.c.id == sa.bindparam("message_id"))
# Accepted, unless Meta's webhooks already told more ("sent_wamid": SQLAlchemy reserves "wamid" for SET).
_ACCEPTED = _RESULT.values(
    status=queries.best_recorded_status("accepted", sa.bindparam("sent_wamid"))
).returning(messages.c.status)


def record_result(
    rt: Runtime, row: Any, result: SendResult, attempt: int, payload: dict[str, Any] | None = None
) -> None:
    """Store what Meta answered: accepted, failed (flagged for staff) or retrying after the backoff."""
    now = rt.clock()
    values: dict[str, Any] = {
        "attempts": attempt,
        "updated_at": now,
        "claimed_by": None,
        "error_code": result.error_code,
        "error_detail": result.error_detail,
    }
    status = FINAL.get(result.verdict, "retrying")
    if status == "retrying" and attempt >= rt.settings.send_max_attempts:
        status = "failed"  # never loops forever: after the last attempt, staff see it
    elif status == "retrying":
        values["send_after"] = now + timedelta(seconds=retry_delay(rt, attempt, result.verdict))
    with rt.engine.begin() as conn:
        if status == "failed":
            values["needs_attention"] = True
            log.warning("message %s failed: %s", row.id, result.error_code)
        if result.verdict is Verdict.TEMPLATE_UNAVAILABLE:
            # Meta knows better than our records: remember it, and the next attempt falls back or holds.
            sent = (payload or row.payload).get("template", {})
            name, language = str(sent.get("name", "")), str(sent.get("language", {}).get("code", ""))
            meta_says = TEMPLATE_STATUS_FOR_CODE[result.error_code]
            templates.upsert(conn, rt.shop_id, name, language, now, status=meta_says, status_at=now)
        if result.verdict is Verdict.UNREACHABLE:
            conn.execute(
                customers.update().where(customers.c.id == row.customer_id).values(unreachable_at=now)
            )
        if result.verdict is Verdict.NEEDS_TEMPLATE and row.order_pk is not None:
            # Meta says the service window is closed (131047): trust it, and hand the unsent reply to
            # staff, who can answer with an approved template.
            conn.execute(
                customers.update().where(customers.c.id == row.customer_id).values(window_expires_at=now)
            )
            sent = payload or row.payload
            body = sent.get("text") or sent.get("interactive", {}).get("body") or {}
            text = str(body.get("body") or body.get("text") or "")[:500]
            detail = {
                "message": row.kind,
                "message_id": str(row.id),
                "unsent": text,
                "error": result.error_code,
            }
            key = f"{row.key}:window_closed"
            escalations.open_case(conn, rt, row.order_pk, "", "window_closed", key, detail, now)
        if result.verdict is Verdict.AUTH:
            log.error(
                "WhatsApp refused the access token (%s): renew ORDERWIRE_WHATSAPP_TOKEN", result.error_code
            )
        if result.verdict is Verdict.SENT:
            accepted = {"message_id": row.id, "wamid": result.wamid, "sent_wamid": result.wamid, **values}
            status = conn.execute(_ACCEPTED, accepted).scalar_one()
            if status == "failed":  # Meta's "failed" came first: flagged as if it had come after
                conn.execute(_RESULT, {"message_id": row.id, "needs_attention": True})
        else:
            conn.execute(_RESULT, {"message_id": row.id, "status": status, **values})
        if status == "failed":
            escalations.open_message_case(conn, rt, int(row.id), now)
