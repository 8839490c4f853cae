"""Outbound lifecycle events: an outbox of deliveries, written with the change, sent by the pump.

`emit` queues one `webhook_deliveries` row per subscribed endpoint in the caller's transaction, once per
(endpoint, event): the message id is derived from the event (shop, order, type, occurrence key), so a
redelivered inbound event, a replayed job or a second call emit nothing new. `run_due` (on the pump)
claims due rows and hands them to a small bounded pool of sender threads, one endpoint per thread in
order of creation, so a slow receiver never stalls the pump nor the other endpoints; each attempt is
signed afresh (Standard Webhooks) under the same `webhook-id`. When an endpoint is down (an attempt to
retry), its later deliveries wait with it rather than each spending a timeout.

Answers (the Standard Webhooks spec, "Delivery success and failure"): 2xx delivered. Timeouts, network
errors, 5xx, 408, 409, 425 and 429 are retried with exponential backoff and jitter, honouring
`Retry-After`, up to `outbound_max_attempts`. 410 Gone and every other 3xx/4xx fail at once: the same
bytes would get the same answer. A failed delivery is kept (GET /api/v1/webhook-deliveries?status=failed,
POST …/{id}/retry) and noted on the order's timeline; it opens no staff case, since a case would itself
be an event for the same failing endpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa

from orderwire.app import crm
from orderwire.app.runtime import Runtime
from orderwire.domain.model import Order, order_from_json
from orderwire.domain.outbound_events import (
    ESCALATION_OPENED,
    EVENT_TYPES,
    changes,
    order_data,
)
from orderwire.integrations.standardwebhooks import sender
from orderwire.settings import Settings
from orderwire.store import queries
from orderwire.store.tables import orders, webhook_deliveries

log = logging.getLogger(__name__)

WEBHOOK = "webhook"
HUBSPOT = "hubspot"
RETRYABLE = frozenset({408, 409, 425, 429})
LEASE = timedelta(minutes=10)  # a claimed delivery whose sender died is tried again after this
MAX_WAIT = timedelta(hours=24)
SENDERS = 4  # endpoints served at once per process (threads)
BATCH = 10  # deliveries of one endpoint per turn


@dataclass(frozen=True)
class Endpoint:
    """Where events go: a webhook URL or the CRM, and the event types it wants (empty: all)."""

    kind: str
    target: str
    events: frozenset[str]

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint subscribes to `event_type`."""
        return not self.events or event_type in self.events


def endpoints(settings: Settings) -> list[Endpoint]:
    """The configured subscriptions: each webhook URL (with a secret) and HubSpot (with a token)."""
    found: list[Endpoint] = []
    secret = settings.outbound_webhook_secret
    if secret is not None and secret.get_secret_value():
        events = _names(settings.outbound_webhook_events)
        found += [Endpoint(WEBHOOK, url, events) for url in _names_in_order(settings.outbound_webhook_urls)]
    token = settings.hubspot_token
    if token is not None and token.get_secret_value():
        found.append(Endpoint(HUBSPOT, HUBSPOT, _names(settings.hubspot_events)))
    return found


def _names_in_order(value: str) -> list[str]:
    return list(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))


def _names(value: str) -> frozenset[str]:
    return frozenset(_names_in_order(value))


def message_id(shop_id: str, order_id: str, event_type: str, key: str) -> str:
    """The event's `webhook-id`: stable for one occurrence, no dots, safe to show."""
    digest = hashlib.sha256(f"{shop_id}\x1f{order_id}\x1f{event_type}\x1f{key}".encode()).hexdigest()
    return f"msg_{digest[:40]}"


def emit(
    conn: sa.Connection,
    rt: Runtime,
    event_type: str,
    order: Order,
    data: dict[str, Any],
    now: datetime,
    *,
    key: str = "",
    awb: str = "",
    at: datetime | None = None,
    order_pk: int | None = None,
) -> int:
    """Queue `event_type` about `order` for every subscribed endpoint, in the caller's transaction.

    `data` is merged over the order's standard fields (`order_data`); `key` names the occurrence when an
    order can have several of this type (a feedback id, a refund id); `awb` picks the parcel to
    describe. Emitting the same (type, key) again for the order queues nothing. Returns rows queued.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown outbound event type {event_type!r}")
    targets = [e for e in endpoints(rt.settings) if e.wants(event_type)]
    if not targets:
        return 0
    if order_pk is None:
        order_pk = conn.execute(
            sa.select(orders.c.id).where(orders.c.shop_id == rt.shop_id, orders.c.order_id == order.order_id)
        ).scalar()
    payload = {
        "type": event_type,
        "timestamp": _iso(at or now),
        "data": {**order_data(order, awb), **data},
    }
    msg_id = message_id(rt.shop_id, order.order_id, event_type, key)
    queued = 0
    for target in targets:
        queued += queries.insert_ignore(
            conn,
            webhook_deliveries,
            {
                "shop_id": rt.shop_id,
                "order_pk": order_pk,
                "kind": target.kind,
                "endpoint": target.target,
                "event_type": event_type,
                "msg_id": msg_id,
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
                "created_at": now,
            },
            ["shop_id", "endpoint", "msg_id"],
        )
    if queued:
        rt.wake()
    return queued


def order_changed(
    conn: sa.Connection, rt: Runtime, before: Order | None, after: Order, order_pk: int, now: datetime
) -> None:
    """Emit the lifecycle events the order's change implies (called where the change is saved)."""
    if not endpoints(rt.settings):
        return
    for event in changes(before, after):
        emit(
            conn, rt, event.type, after, {}, now, key=event.key, awb=event.awb, at=event.at, order_pk=order_pk
        )


def escalation_opened(
    conn: sa.Connection, rt: Runtime, order_pk: int | None, awb: str, reason: str, key: str, now: datetime
) -> None:
    """Emit `escalation.opened` for a case just opened (nothing for a case about an order never received)."""
    if order_pk is None or not endpoints(rt.settings):
        return
    state = conn.execute(sa.select(orders.c.state).where(orders.c.id == order_pk)).scalar()
    if state is None:
        return
    order = order_from_json(state)
    extra = {"escalation": {"reason": reason, "awb": awb}}
    emit(conn, rt, ESCALATION_OPENED, order, extra, now, key=key, awb=awb, order_pk=order_pk)


# --- Sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What one attempt got: an HTTP status (None: no answer), its Retry-After, and an error text."""

    status_code: int | None
    retry_after: str = ""
    error: str = ""
    permanent: bool = False  # no attempt can succeed (the endpoint is no longer configured)


@dataclass(frozen=True)
class Verdict:
    """What to do after an attempt: the new status, when to try again, and why."""

    status: str
    next_attempt_at: datetime | None
    reason: str


def judge(answer: Answer, attempts: int, max_attempts: int, base_seconds: float, now: datetime) -> Verdict:
    """Delivered, retried later (backoff or Retry-After), or failed for good."""
    code = answer.status_code
    if code is not None and 200 <= code < 300:
        return Verdict("delivered", None, "")
    reason = answer.error or (f"HTTP {code}" if code is not None else "no answer")
    if answer.permanent:
        return Verdict("failed", None, reason)
    retryable = code is None or code >= 500 or code in RETRYABLE
    if not retryable:
        why = "endpoint gone (410): remove it" if code == 410 else f"refused ({reason}); not retried"
        return Verdict("failed", None, why)
    if attempts >= max_attempts:
        return Verdict("failed", None, f"{reason}; gave up after {attempts} attempts")
    wait = retry_after(answer.retry_after, now) or backoff(attempts, base_seconds)
    return Verdict("pending", now + min(wait, MAX_WAIT), reason)


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """base × 4^(n-1), plus up to 10% jitter: with 5 s, about 5 s, 20 s, 80 s, 5 min, 21 min, 85 min…"""
    seconds = base_seconds * 4 ** max(0, attempts - 1)
    return timedelta(seconds=seconds * (1 + random.random() / 10))


def retry_after(value: str, now: datetime) -> timedelta | None:
    """A Retry-After header (seconds or an HTTP date) as a wait, or None when absent or unreadable."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(timedelta(0), when - now) if when.tzinfo is not None else None


class _Senders:
    """The bounded pool sending one runtime's deliveries, and the endpoints it is busy with."""

    def __init__(self, timeout: float) -> None:
        self.pool = ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="orderwire-outbound")
        self.lock = threading.Lock()
        self.busy: set[str] = set()
        self.client = httpx.Client(timeout=timeout)


_senders: dict[int, _Senders] = {}
_senders_lock = threading.Lock()


def run_due(rt: Runtime) -> int:
    """Hand due deliveries to the sender threads (never waits for them); returns how many were handed.

    One endpoint's deliveries go one at a time, oldest first, so a receiver sees events in order (until
    a retry), and two HubSpot events of a new customer never both create the contact.
    """
    kinds = {e.kind for e in endpoints(rt.settings)}
    if not kinds:
        return 0
    with _senders_lock:
        if id(rt) not in _senders:
            _senders[id(rt)] = _Senders(rt.settings.outbound_timeout_seconds)
        senders = _senders[id(rt)]
    with senders.lock:
        busy, free = set(senders.busy), SENDERS - len(senders.busy)
    if free <= 0:
        return 0
    batches = _claim(rt, kinds, busy, free)
    for endpoint, rows in batches.items():
        with senders.lock:
            senders.busy.add(endpoint)
        senders.pool.submit(_send_batch, rt, senders, endpoint, rows)
    return sum(len(rows) for rows in batches.values())


def close(rt: Runtime) -> None:
    """Stop this runtime's senders (waiting for attempts under way) and release their connections."""
    with _senders_lock:
        senders = _senders.pop(id(rt), None)
    if senders is None:
        return
    senders.pool.shutdown(wait=True, cancel_futures=True)
    senders.client.close()
    crm.close(rt)


def _claim(rt: Runtime, kinds: set[str], busy: set[str], free: int) -> dict[str, list[Any]]:
    """Lease the due deliveries of up to `free` endpoints not busy, grouped by endpoint, oldest first."""
    now = rt.clock()
    query = (
        sa.select(webhook_deliveries)
        .where(
            webhook_deliveries.c.status == "pending",
            webhook_deliveries.c.next_attempt_at <= now,
            webhook_deliveries.c.kind.in_(sorted(kinds)),
            webhook_deliveries.c.shop_id == rt.shop_id,
        )
        .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
        .limit(BATCH * free)
        .with_for_update(skip_locked=True)
    )
    if busy:
        query = query.where(webhook_deliveries.c.endpoint.not_in(sorted(busy)))
    batches: dict[str, list[Any]] = {}
    with rt.engine.begin() as conn:
        for row in conn.execute(query).all():
            batch = batches.get(row.endpoint)
            if batch is None and len(batches) < free:
                batch = batches[row.endpoint] = []
            if batch is not None and len(batch) < BATCH:
                batch.append(row)
        ids = [r.id for rows in batches.values() for r in rows]
        if ids:
            conn.execute(
                webhook_deliveries.update()
                .where(webhook_deliveries.c.id.in_(ids))
                .values(next_attempt_at=now + LEASE)
            )
    return batches


def _send_batch(rt: Runtime, senders: _Senders, endpoint: str, rows: list[Any]) -> None:
    try:
        for n, row in enumerate(rows):
            try:
                answer = _attempt(rt, senders, row)
            except Exception as exc:  # a bug in one delivery must not stop the others
                log.exception("outbound delivery %s failed unexpectedly", row.id)
                answer = Answer(None, error=f"internal error: {type(exc).__name__}")
            verdict = _record(rt, row, answer)
            if verdict.status == "pending" and verdict.next_attempt_at is not None:
                # The endpoint is down or limiting us: its later events wait as long, attempts unspent.
                _postpone(rt, [r.id for r in rows[n + 1 :]], verdict.next_attempt_at)
                break
    finally:
        with senders.lock:
            senders.busy.discard(endpoint)
        rt.wake()


def _attempt(rt: Runtime, senders: _Senders, row: Any) -> Answer:
    settings = rt.settings
    try:
        if row.kind == HUBSPOT:
            crm.deliver(rt, row)
            return Answer(200)
        secret = (
            settings.outbound_webhook_secret.get_secret_value() if settings.outbound_webhook_secret else ""
        )
        if not secret or row.endpoint not in _names(settings.outbound_webhook_urls):
            return Answer(None, error="endpoint no longer configured", permanent=True)
        stamp = int(rt.clock().timestamp())
        response = sender.post(
            senders.client, row.endpoint, secret, row.msg_id, stamp, envelope_bytes(row.payload)
        )
    except crm.NotConfigured as exc:
        return Answer(None, error=str(exc), permanent=True)
    except httpx.HTTPError as exc:
        return failure(exc)
    code = response.status_code
    return Answer(code, response.headers.get("retry-after", ""), "" if 200 <= code < 300 else f"HTTP {code}")


def envelope_bytes(payload: dict[str, Any]) -> bytes:
    """The body of a delivery: compact JSON, `type`, `timestamp`, `data` in that order."""
    ordered = {"type": payload["type"], "timestamp": payload["timestamp"], "data": payload["data"]}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode()


def failure(exc: httpx.HTTPError) -> Answer:
    """What a failed HTTP exchange got: the refusal's status and Retry-After, or no answer at all."""
    if isinstance(exc, httpx.HTTPStatusError):
        code = exc.response.status_code
        return Answer(code, exc.response.headers.get("retry-after", ""), f"HTTP {code}")
    if isinstance(exc, httpx.TimeoutException):
        return Answer(None, error="timed out")
    return Answer(None, error=f"could not connect ({type(exc).__name__})")


def _postpone(rt: Runtime, ids: list[int], until: datetime) -> None:
    if ids:
        with rt.engine.begin() as conn:
            conn.execute(
                webhook_deliveries.update()
                .where(webhook_deliveries.c.id.in_(ids))
                .values(next_attempt_at=until)
            )


def _record(rt: Runtime, row: Any, answer: Answer) -> Verdict:
    now = rt.clock()
    attempts = row.attempts + 1
    verdict = judge(
        answer, attempts, rt.settings.outbound_max_attempts, rt.settings.outbound_retry_base_seconds, now
    )
    if verdict.status != "delivered":
        # The endpoint's host only: a URL may carry a token in its path or query.
        log.warning(
            "outbound %s to %s: %s (attempt %d)",
            row.event_type,
            _host(row.endpoint),
            verdict.reason,
            attempts,
        )
    with rt.engine.begin() as conn:
        conn.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.id == row.id)
            .values(
                status=verdict.status,
                attempts=attempts,
                next_attempt_at=verdict.next_attempt_at or now,
                last_status_code=answer.status_code,
                last_error=verdict.reason[:500],
                delivered_at=now if verdict.status == "delivered" else None,
            )
        )
        if verdict.status == "failed" and row.order_pk is not None:
            note = f"{row.event_type} to {display_endpoint(row.endpoint)} failed: {verdict.reason}"
            detail = {"delivery": row.id, "msg_id": row.msg_id, "alerts": []}
            queries.add_timeline(conn, row.order_pk, now, now, "outbound", "failed", note, detail)
    return verdict


def display_endpoint(endpoint: str) -> str:
    """An endpoint as shown to staff: scheme, host and path; never credentials or a query string."""
    if endpoint == HUBSPOT:
        return HUBSPOT
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{_host(endpoint)}{parts.path}"


def _host(endpoint: str) -> str:
    """Host and port only: no user:password@ a URL may carry."""
    parts = urlsplit(endpoint)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname or "")


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# --- The delivery log ------------------------------------------------------------------------------

STATUSES = ("pending", "delivered", "failed")


def deliveries(rt: Runtime, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The latest deliveries, newest first, optionally of one status."""
    query = (
        sa.select(webhook_deliveries, orders.c.order_id)
        .join(orders, orders.c.id == webhook_deliveries.c.order_pk, isouter=True)
        .where(webhook_deliveries.c.shop_id == rt.shop_id)
        .order_by(webhook_deliveries.c.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(webhook_deliveries.c.status == status)
    with rt.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "id": r.id,
            "endpoint": display_endpoint(r.endpoint),
            "kind": r.kind,
            "event_type": r.event_type,
            "msg_id": r.msg_id,
            "order_id": r.order_id,
            "status": r.status,
            "attempts": r.attempts,
            "next_attempt_at": _iso(r.next_attempt_at) if r.status == "pending" else None,
            "last_status_code": r.last_status_code,
            "last_error": r.last_error,
            "created_at": _iso(r.created_at),
            "delivered_at": _iso(r.delivered_at) if r.delivered_at else None,
            "payload": r.payload,
        }
        for r in rows
    ]


def retry(rt: Runtime, delivery_id: int) -> bool:
    """Send a failed delivery again now (same webhook-id, attempts counted afresh); False if none."""
    now = rt.clock()
    with rt.engine.begin() as conn:
        done = conn.execute(
            webhook_deliveries.update()
            .where(
                webhook_deliveries.c.id == delivery_id,
                webhook_deliveries.c.shop_id == rt.shop_id,
                webhook_deliveries.c.status == "failed",
            )
            .values(status="pending", attempts=0, next_attempt_at=now)
        ).rowcount
    if done:
        rt.wake()
    return bool(done)
