"""Pushing the customer's NDR choice to the courier, durably: a `jobs` row per parcel and failed attempt.

The dialogue (orderwire.bot.ndr) asks; this module delivers the request to Shiprocket's NDR action API
outside the order's transaction, retrying with backoff, and records the outcome on the order's timeline.
Without Shiprocket's API configured (the sandbox, or a courier we cannot reach) the choice is recorded and
flagged for staff to push by hand rather than pretending it was sent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from orderwire.app import escalations
from orderwire.app.runtime import Runtime
from orderwire.bot.turn import CourierRequest
from orderwire.integrations.shiprocket.api import ShiprocketApi, ShiprocketApiError
from orderwire.store import queries
from orderwire.store.tables import jobs, timeline

log = logging.getLogger(__name__)

KIND = "courier_action"
MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=2)  # a claimed request left unfinished (the process died) is tried again after this

_apis: dict[int, ShiprocketApi | None] = {}


def api_for(rt: Runtime) -> ShiprocketApi | None:
    """One Shiprocket client per runtime, or None when its API is not configured."""
    if id(rt) not in _apis:
        s = rt.settings
        if not s.shiprocket_polling:
            _apis[id(rt)] = None
        else:
            password = s.shiprocket_api_password.get_secret_value() if s.shiprocket_api_password else ""
            token = s.shiprocket_api_token.get_secret_value() if s.shiprocket_api_token else ""
            _apis[id(rt)] = ShiprocketApi(
                s.shiprocket_api_url, s.shiprocket_api_email, password, token, rt.clock
            )
    return _apis[id(rt)]


def close(rt: Runtime) -> None:
    """Release this runtime's Shiprocket client, if one was made."""
    api = _apis.pop(id(rt), None)
    if api is not None:
        api.close()


def request(
    conn: sa.Connection, rt: Runtime, order_id: str, order_pk: int, req: CourierRequest, now: datetime
) -> None:
    """Queue the request in the caller's transaction; once per (order, AWB, failed attempt)."""
    body = {"action": req.action, "comments": req.comments}
    if req.deferred_date is not None:
        body["deferred_date"] = req.deferred_date.isoformat()
    body |= {
        k: v for k, v in (("phone", req.phone), ("address1", req.address1), ("address2", req.address2)) if v
    }
    queries.insert_ignore(
        conn,
        jobs,
        {
            "shop_id": rt.shop_id,
            "order_ref": f"order:{order_id}",
            "kind": KIND,
            "payload": {"order_pk": order_pk, "awb": req.awb, "attempt": req.attempt, "body": body},
            "status": "pending",
            "available_at": now,
            "attempts": 0,
            "last_error": "",
            "dedupe_key": f"ndr:{order_pk}:{req.awb}:{req.attempt}"[:200],
            "created_at": now,
        },
        ["shop_id", "dedupe_key"],
    )


def run_due(rt: Runtime, limit: int = 10) -> int:
    """Push due requests to the courier; returns how many were tried."""
    now = rt.clock()
    with rt.engine.begin() as conn:
        due = conn.execute(
            sa.select(jobs)
            .where(jobs.c.kind == KIND, jobs.c.status == "pending", jobs.c.available_at <= now)
            .order_by(jobs.c.available_at, jobs.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if due:
            conn.execute(
                jobs.update().where(jobs.c.id.in_([j.id for j in due])).values(available_at=now + LEASE)
            )
    for job in due:
        _push(rt, job)
    return len(due)


def _push(rt: Runtime, job: Any) -> None:
    api = api_for(rt)
    awb, body = str(job.payload["awb"]), dict(job.payload["body"])
    attempts = job.attempts + 1
    answer: dict[str, Any] = {}
    if api is None:
        status, error = "done", ""
        outcome, note = "ignored", f"NDR {awb}: courier API not configured; push {body['action']} by hand"
    else:
        try:
            answer = api.ndr_action(awb, body)
            status, error, outcome, note = (
                "done",
                "",
                "applied",
                f"NDR {awb}: courier accepted {body['action']}",
            )
        except ShiprocketApiError as exc:
            log.warning("NDR action for %s failed: %s", awb, exc)
            final = attempts >= MAX_ATTEMPTS
            status, error = ("failed" if final else "pending"), str(exc)[:2000]
            outcome = "failed"
            note = f"NDR {awb}: courier refused {body['action']} ({exc})" + (
                "; push it by hand" if final else ""
            )
    now = rt.clock()
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
        if status != "pending" and outcome != "applied":
            reason = "push_to_courier" if api is None else "courier_refused"
            detail = {**body, "requested_at": job.created_at.isoformat(), "error": error}
            key = f"{job.order_ref}:{awb}:ndr{job.payload['attempt']}:{reason}"
            escalations.open_case(
                conn, rt.shop_id, int(job.payload["order_pk"]), awb, reason, key, detail, now
            )
        if status != "pending" or attempts == 1:
            alerts = [note] if outcome != "applied" and status != "pending" else []
            conn.execute(
                timeline.insert().values(
                    order_pk=int(job.payload["order_pk"]),
                    at=now,
                    recorded_at=now,
                    kind=KIND,
                    outcome=outcome,
                    note=note[:500],
                    detail={"job": job.id, "request": body, "answer": answer, "alerts": alerts},
                )
            )
