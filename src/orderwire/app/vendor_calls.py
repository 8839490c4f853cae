"""Calls to vendors made outside the order's transaction, durably: one `jobs` row per call.

A use case queues a call in its own transaction (`queue`), so the request survives a crash and is made
once per dedupe key. The pump performs due calls (`run_due`) with retries and backoff, records the outcome
on the order's timeline, and opens a staff case when the call finally fails or the vendor is not
configured — it never pretends a call was made. Each kind of call (NDR action, shop cancel, refund,
return pickup…) registers a `Performer` under its job kind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from orderwire.app import escalations
from orderwire.app.ports import VendorError
from orderwire.app.runtime import Runtime
from orderwire.store import queries
from orderwire.store.tables import jobs

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=2)  # a claimed call left unfinished (the process died) is tried again after this


class NotConfigured(Exception):
    """The vendor this call needs is not configured: staff must do it by hand."""


@dataclass(frozen=True)
class Performer:
    """How to make one kind of call and what to do when it cannot be made.

    `perform(rt, payload)` returns (timeline note, vendor answer) or raises VendorError / NotConfigured.
    `after(conn, rt, job, answer, now)` runs in the transaction that records a success (e.g. to queue
    the event the answer implies). The staff case opened on failure is named `unconfigured_reason` or
    `refused_reason`, once per call.
    """

    perform: Callable[[Runtime, dict[str, Any]], tuple[str, dict[str, Any]]]
    unconfigured_reason: str
    refused_reason: str
    after: Callable[[sa.Connection, Runtime, Any, dict[str, Any], datetime], None] | None = None


PERFORMERS: dict[str, Performer] = {}


def register(kind: str, performer: Performer) -> None:
    """Make `kind` a vendor call performed by `performer` (kinds are job kinds: keep them short)."""
    PERFORMERS[kind] = performer


def queue(
    conn: sa.Connection,
    rt: Runtime,
    kind: str,
    *,
    order_id: str,
    order_pk: int | None,
    payload: dict[str, Any],
    dedupe_key: str,
    now: datetime,
    due: datetime | None = None,
) -> bool:
    """Queue a call in the caller's transaction, once per dedupe key; True if newly queued."""
    return queries.insert_ignore(
        conn,
        jobs,
        {
            "shop_id": rt.shop_id,
            "order_ref": f"order:{order_id}",
            "kind": kind,
            "payload": {**payload, "order_pk": order_pk},
            "status": "pending",
            "available_at": due or now,
            "attempts": 0,
            "last_error": "",
            "dedupe_key": dedupe_key[:200],
            "created_at": now,
        },
        ["shop_id", "dedupe_key"],
    )


def run_due(rt: Runtime, limit: int = 10) -> int:
    """Make due calls; returns how many were tried."""
    if not PERFORMERS:
        return 0
    now = rt.clock()
    with rt.engine.begin() as conn:
        due = conn.execute(
            sa.select(jobs)
            .where(jobs.c.kind.in_(list(PERFORMERS)), jobs.c.status == "pending", jobs.c.available_at <= now)
            .order_by(jobs.c.available_at, jobs.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if due:
            conn.execute(
                jobs.update().where(jobs.c.id.in_([j.id for j in due])).values(available_at=now + LEASE)
            )
    for job in due:
        _perform(rt, job, PERFORMERS[job.kind])
    return len(due)


def _perform(rt: Runtime, job: Any, performer: Performer) -> None:
    payload = dict(job.payload)
    attempts = job.attempts + 1
    answer: dict[str, Any] = {}
    case_reason = ""
    try:
        note, answer = performer.perform(rt, payload)
        status, error, outcome = "done", "", "applied"
    except NotConfigured as exc:
        status, error, outcome, note = "done", "", "ignored", str(exc)
        case_reason = performer.unconfigured_reason
    except VendorError as exc:
        log.warning("%s call for job %s failed: %s", job.kind, job.id, exc)
        final = attempts >= MAX_ATTEMPTS or not exc.retryable
        status, error, outcome = ("failed" if final else "pending"), str(exc)[:2000], "failed"
        note = f"{job.kind}: refused ({exc})" + ("; do it by hand" if final else "")
        case_reason = performer.refused_reason if final else ""
    now = rt.clock()
    # None for a call about an order not known yet (commerce: fetching its details from the shop).
    order_pk = int(payload["order_pk"]) if payload.get("order_pk") is not None else None
    with rt.engine.begin() as conn:
        conn.execute(
            jobs.update()
            .where(jobs.c.id == job.id)
            .values(
                status=status,
                attempts=attempts,
                last_error=error,
                done_at=now if status != "pending" else None,
                available_at=now + timedelta(seconds=min(600, 2**attempts)),
            )
        )
        if case_reason:
            detail = {**_printable(payload), "requested_at": job.created_at.isoformat(), "error": error}
            if order_pk is None:  # no timeline to carry the note: the case does
                detail["note"] = note[:500]
            key = f"{job.dedupe_key}:{case_reason}"
            awb = str(payload.get("awb", ""))
            escalations.open_case(conn, rt, order_pk, awb, case_reason, key, detail, now)
        if status == "done" and outcome == "applied" and performer.after is not None:
            performer.after(conn, rt, job, answer, now)
        if order_pk is not None and (status != "pending" or attempts == 1):
            alerts = [note] if case_reason else []
            detail = {"job": job.id, "request": payload, "answer": answer, "alerts": alerts}
            queries.add_timeline(conn, order_pk, now, now, job.kind, outcome, note, detail)


def _printable(payload: dict[str, Any]) -> dict[str, str]:
    return {k: str(v)[:500] for k, v in payload.items() if k != "order_pk"}
