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
from dbos import DBOS, SetEnqueueOptions, SetWorkflowID

from orderwire.app import templates
from orderwire.app.runtime import Runtime, current
from orderwire.integrations.whatsapp.client import TEMPLATE_STATUS_FOR_CODE, SendResult, Verdict
from orderwire.store import queries
from orderwire.store.tables import customers, messages

log = logging.getLogger(__name__)

QUEUE_NAME = "whatsapp-send"
SENDABLE = ("queued", "retrying", "scheduled")
FINAL = {
    Verdict.SENT: "accepted",
    Verdict.FAILED: "failed",
    Verdict.UNREACHABLE: "failed",
    Verdict.NEEDS_TEMPLATE: "failed",
    Verdict.AUTH: "failed",
}


class Pacer:
    """Spaces this process's requests at least 1/rate apart.

    DBOS's limiter admits `rate` workflow starts per second across all processes, but it admits them
    in bursts and each start reaches the network a little later; spacing the requests themselves keeps
    every one-second window at or under the per-number limit.
    """

    def __init__(self, rate_per_second: int):
        self._interval = 1.0 / rate_per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this caller's slot comes."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            time.sleep(slot - now)


_pacers: dict[int, Pacer] = {}


def pacer_for(rt: Runtime) -> Pacer:
    """One pacer per runtime."""
    return _pacers.setdefault(id(rt), Pacer(rt.settings.whatsapp_rate_per_second))


def register_queue(rt: Runtime) -> None:
    """The send queue: the rate limit holds across every process sharing the database."""
    DBOS.register_queue(
        QUEUE_NAME,
        limiter={"limit": rt.settings.whatsapp_rate_per_second, "period": 1.0},
        worker_concurrency=32,
        # One message at a time per customer keeps their chat in order (confirmation before dispatch).
        partition_concurrency=1,
        polling_interval_sec=0.05,
    )


def enqueue(message_id: int, recipient: str) -> None:
    """Start (or find) the send workflow of a message, in its recipient's lane."""
    queue = DBOS.retrieve_queue(QUEUE_NAME)
    if queue is None:
        raise RuntimeError(f"queue {QUEUE_NAME} not registered")
    with SetWorkflowID(f"send-{message_id}"), SetEnqueueOptions(queue_partition_key=recipient):
        queue.enqueue(send_message, message_id)


@DBOS.workflow()
def send_message(message_id: int) -> str:
    """Send one message, retrying transient failures with backoff; never loops forever."""
    rt = current()
    for attempt in range(1, rt.settings.send_max_attempts + 1):
        verdict = attempt_send(message_id, attempt)
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
    with rt.engine.connect() as conn:
        row = conn.execute(sa.select(messages).where(messages.c.id == message_id)).first()
    if row is None or row.status not in SENDABLE:
        return "skipped"
    if _opted_out(rt, row.customer_id):
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
    result = rt.whatsapp.send(payload)
    return record_result(rt, row, result, attempt, payload)


def _opted_out(rt: Runtime, customer_id: int) -> bool:
    with rt.engine.connect() as conn:
        return bool(
            conn.execute(sa.select(customers.c.opted_out).where(customers.c.id == customer_id)).scalar()
        )


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
        conn.execute(messages.update().where(messages.c.id == row.id).values(status=status, **values))
    return status if status != "retrying" else str(result.verdict)


@DBOS.step()
def give_up(message_id: int) -> None:
    """After the last attempt: failed, and visible as needing attention."""
    rt = current()
    with rt.engine.begin() as conn:
        conn.execute(
            messages.update()
            .where(messages.c.id == message_id, messages.c.status.in_(SENDABLE))
            .values(status="failed", needs_attention=True, updated_at=rt.clock())
        )


def dispatch_due(rt: Runtime, limit: int = 500, stale_after: timedelta | None = None) -> int:
    """Hand due messages to the send queue; also re-enqueue 'queued' ones a crash may have orphaned."""
    now = rt.clock()
    with rt.engine.begin() as conn:
        due = list(
            conn.execute(
                sa.select(messages.c.id, messages.c.customer_id)
                .where(messages.c.status == "scheduled", messages.c.send_after <= now)
                .order_by(messages.c.send_after, messages.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
        )
        if due:
            conn.execute(
                messages.update()
                .where(messages.c.id.in_([m.id for m in due]))
                .values(status="queued", updated_at=now)
            )
        if stale_after is not None:
            due += conn.execute(
                sa.select(messages.c.id, messages.c.customer_id).where(
                    messages.c.status.in_(("queued", "retrying")),
                    messages.c.updated_at <= now - stale_after,
                )
            ).all()
    for message in due:
        enqueue(message.id, f"customer-{message.customer_id}")
    return len(due)
