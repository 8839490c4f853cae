"""Durable sending: one DBOS workflow per message, on a rate-limited queue shared by all processes.

The workflow id is `send-<message id>`, so enqueueing twice (a sweep after a crash) starts nothing new.
Each attempt is a step; between attempts the workflow sleeps durably. A message is sent twice only if
the process dies after Meta accepted it and before the step's result was checkpointed (see
docs/operations.md, "duplicate window").
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from dbos import DBOS, Queue, SetWorkflowID

from orderwire.app import escalations, metrics, templates
from orderwire.app.runtime import Runtime, current
from orderwire.integrations.whatsapp.client import TEMPLATE_STATUS_FOR_CODE, SendResult, Verdict
from orderwire.store import queries
from orderwire.store.db import reading
from orderwire.store.tables import customers, messages, send_pacing

log = logging.getLogger(__name__)

QUEUE_NAME = "whatsapp-send"
INFLIGHT = messages.alias("in_flight")
SENDABLE = ("queued", "retrying", "scheduled")
FINAL = {
    Verdict.SENT: "accepted",
    Verdict.FAILED: "failed",
    Verdict.UNREACHABLE: "failed",
    Verdict.NEEDS_TEMPLATE: "failed",
    Verdict.AUTH: "failed",
}


def next_grant(granted: list[float], now: float, rate: int, window: float) -> float:
    """When the next send may go, given the moments of the sends granted in the last `window` seconds:
    fewer than `rate` in any window, and at least 1/rate after the previous one."""
    recent = [t for t in granted if t > now - window]
    ready = (recent[-1] + 1.0 / rate) if recent else now
    if len(recent) >= rate:
        ready = max(ready, recent[-rate] + window)
    return ready


class Pacer:
    """Keeps this process's requests within `rate` in every one-second window, spaced 1/rate apart.

    DBOS's limiter admits `rate` workflow starts per second across all processes, but in bursts, and each
    start reaches the network a little later. A fixed schedule of slots is not enough either: with 32
    send threads a thread that wakes late (the GIL) still holds an early slot and bunches up with the
    next ones (benchmarks/pacer.py measured 89 sends in one second at 80/s). So a request goes only when
    fewer than `rate` went out in the last `window` seconds (the moments actually granted) and at least
    1/rate after the previous one. The window is a little over a second: a granted request reaches Meta
    a moment later.
    """

    def __init__(self, rate_per_second: int, window: float = 1.05):
        self._rate = rate_per_second
        self._window = window
        self._granted: list[float] = []
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this caller may send."""
        while True:
            with self._lock:
                now = time.monotonic()
                ready = next_grant(self._granted, now, self._rate, self._window)
                if ready <= now:
                    self._granted = [t for t in self._granted if t > now - self._window] + [now]
                    return
            time.sleep(ready - now)


class SharedPacer(Pacer):
    """The same rule for every process on one PostgreSQL: the granted moments live in one row
    (`send_pacing`), taken FOR UPDATE and timed by the database's clock, so two or more processes stay
    within the per-number limit together (each process's own threads queue on a local lock first)."""

    def __init__(self, engine: sa.Engine, name: str, rate_per_second: int, window: float = 1.05):
        super().__init__(rate_per_second, window)
        self._engine = engine
        self._name = name[:100]
        with engine.begin() as conn:
            queries.insert_ignore(conn, send_pacing, {"name": self._name, "granted": []}, ["name"])

    def wait(self) -> None:
        """Block until this caller may send, counting every process's sends."""
        with self._lock:
            while True:
                with self._engine.begin() as conn:
                    # A pacing write lost in a database crash costs nothing worth a WAL flush per send.
                    conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                    row = conn.execute(
                        sa.select(send_pacing.c.granted, sa.func.extract("epoch", sa.func.clock_timestamp()))
                        .where(send_pacing.c.name == self._name)
                        .with_for_update()
                    ).one()
                    granted, now = [float(t) for t in row[0]], float(row[1])
                    ready = next_grant(granted, now, self._rate, self._window)
                    if ready <= now:
                        kept = [t for t in granted if t > now - self._window] + [now]
                        conn.execute(
                            send_pacing.update().where(send_pacing.c.name == self._name).values(granted=kept)
                        )
                        return
                time.sleep(ready - now)


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


_queues: dict[str, Queue] = {}


def register_queue(rt: Runtime) -> None:
    """The send queue: the rate limit holds across every process sharing the database.

    Not partitioned: DBOS's limiter on a partitioned queue claims one partition per transaction, which
    measured ~1 s of queueing per message at 50/s (docs/benchmarks.md). Chat order is kept instead by
    `dispatch_due`, which hands a customer's next message over only when the previous one is settled.
    """
    _queues[QUEUE_NAME] = DBOS.register_queue(
        QUEUE_NAME,
        limiter={"limit": rt.settings.whatsapp_rate_per_second, "period": 1.0},
        worker_concurrency=32,
        polling_interval_sec=0.05,
    )


def enqueue(message_id: int) -> None:
    """Start (or find) the send workflow of a message."""
    queue = _queues.get(QUEUE_NAME)
    if queue is None:
        raise RuntimeError(f"queue {QUEUE_NAME} not registered")
    with SetWorkflowID(f"send-{message_id}"):
        queue.enqueue(send_message, message_id)


@DBOS.workflow()
def send_message(message_id: int) -> str:
    """Send one message, retrying transient failures with backoff; never loops forever."""
    rt = current()
    for attempt in range(1, rt.settings.send_max_attempts + 1):
        try:
            verdict = attempt_send(message_id, attempt)
        except Exception as exc:  # e.g. the database blinked: retry, never leave the row 'queued' for good
            log.warning("message %s attempt %s raised %s", message_id, attempt, type(exc).__name__)
            verdict = Verdict.RETRY
        if verdict in ("skipped", "held", *FINAL.values()):
            return verdict
        base = rt.settings.send_retry_base_seconds
        factor = 4 if verdict == Verdict.SLOW_DOWN else 2
        DBOS.sleep(min(600.0, base * factor ** (attempt - 1)))
    give_up(message_id)
    return "failed"


@DBOS.step()
def attempt_send(message_id: int, attempt: int) -> str:
    """One request to the Cloud API, and its result recorded against the message.

    The template gate runs here, not when the message is created: a template's status can change in between
    (pauses last hours, quiet hours defer messages), and only the status at send time matters.
    """
    rt = current()
    with reading(rt.engine) as conn:
        row = conn.execute(
            sa.select(messages, customers.c.opted_out)
            .join(customers, customers.c.id == messages.c.customer_id)
            .where(messages.c.id == message_id)
        ).first()
    if row is None or row.status not in SENDABLE:
        return "skipped"
    if row.opted_out and row.template:  # STOP stops our updates; answers to the customer still go
        with rt.engine.begin() as conn:
            conn.execute(
                messages.update()
                .where(messages.c.id == row.id)
                .values(status="suppressed", error_detail="customer opted out", updated_at=rt.clock())
            )
        return "skipped"
    payload = templates.gate(rt, row)
    if payload is None:
        return "held"
    pacer_for(rt).wait()
    started = time.monotonic()
    result = rt.whatsapp.send(payload)
    metrics.record_send(
        time.monotonic() - started, "" if result.verdict is Verdict.SENT else result.error_code
    )
    return record_result(rt, row, result, attempt, payload)


def record_result(
    rt: Runtime, row: Any, result: SendResult, attempt: int, payload: dict[str, Any] | None = None
) -> str:
    """Store what Meta answered; a final failure is flagged for staff."""
    now = rt.clock()
    values: dict[str, Any] = {
        "attempts": attempt,
        "updated_at": now,
        "error_code": result.error_code,
        "error_detail": result.error_detail,
    }
    status = FINAL.get(result.verdict, "retrying")
    with rt.engine.begin() as conn:
        if result.verdict is Verdict.SENT:
            status = queries.best_status("accepted", *queries.statuses_for(conn, result.wamid))
            values["wamid"] = result.wamid
        elif status == "failed":
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
        conn.execute(messages.update().where(messages.c.id == row.id).values(status=status, **values))
        if status == "failed":
            escalations.open_message_case(conn, rt, int(row.id), now)
    if status != "retrying":
        rt.wake()  # the customer's next message may go now
    if result.verdict is Verdict.SENT:
        return "accepted"  # even when a status webhook already moved the row further
    return status if status != "retrying" else str(result.verdict)


@DBOS.step()
def give_up(message_id: int) -> None:
    """After the last attempt: failed, and visible as needing attention."""
    rt = current()
    with rt.engine.begin() as conn:
        failed = conn.execute(
            messages.update()
            .where(messages.c.id == message_id, messages.c.status.in_(SENDABLE))
            .values(status="failed", needs_attention=True, updated_at=rt.clock())
        ).rowcount
        if failed:
            escalations.open_message_case(conn, rt, message_id, rt.clock())


def dispatch_due(rt: Runtime, limit: int = 500, stale_after: timedelta | None = None) -> int:
    """Hand due messages to the send queue, one per customer at a time so each chat stays in order.

    With `stale_after`, also re-enqueue 'queued' messages a crash may have orphaned (idempotent by id).
    """
    now = rt.clock()
    in_flight = sa.select(sa.literal(1)).where(
        INFLIGHT.c.customer_id == messages.c.customer_id, INFLIGHT.c.status.in_(("queued", "retrying"))
    )
    with rt.engine.begin() as conn:
        candidates = conn.execute(
            sa.select(messages.c.id, messages.c.customer_id)
            .where(messages.c.status == "scheduled", messages.c.send_after <= now, ~in_flight.exists())
            .order_by(messages.c.send_after, messages.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        first_per_customer = {m.customer_id: m.id for m in reversed(candidates)}
        due = sorted(first_per_customer.values())
        if due:
            conn.execute(
                messages.update().where(messages.c.id.in_(due)).values(status="queued", updated_at=now)
            )
        if stale_after is not None:
            orphans = list(
                conn.execute(
                    sa.select(messages.c.id)
                    .where(
                        messages.c.status.in_(("queued", "retrying")),
                        messages.c.updated_at <= now - stale_after,
                    )
                    .order_by(messages.c.updated_at)
                    .limit(limit)
                ).scalars()
            )
            if orphans:  # touched, so the next sweep looks at others first
                conn.execute(messages.update().where(messages.c.id.in_(orphans)).values(updated_at=now))
            due += orphans
    for message_id in due:
        enqueue(message_id)
    return len(due)
