"""Order use cases: accept events durably, then apply them one at a time through `lifecycle.decide`.

Accepting (`submit`) only stores: the raw request with its dedupe key and one job per canonical event, in
one transaction. Applying (`process_due_jobs`) runs later on the pump: lock the order, decide, persist the
new state, the timeline, the messages (unique per key) and the timers, all in one transaction.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

import orderwire.app.refunds
import orderwire.app.shop_actions  # noqa: F401  (shops: registers the shop vendor calls)
from orderwire import bot
from orderwire.app import (
    codec,
    conversations,
    courier_actions,
    escalations,
    order_details,
    outbound,
    poll_schedule,
    return_rows,
    stock,
    vendor_calls,
)
from orderwire.app.runtime import Runtime
from orderwire.bot.turn import Outgoing, Turn
from orderwire.domain.events import CustomerReplied, Event, OrderPlaced, ShipmentUpdated, TimerFired
from orderwire.domain.interactive import SessionError, check
from orderwire.domain.lifecycle import (
    REPLENISH,
    Decision,
    Escalation,
    MessageIntent,
    Outcome,
    TimerIntent,
    VendorCall,
    decide,
)
from orderwire.domain.messages import compose, language_for
from orderwire.domain.model import Order, order_from_json, to_json
from orderwire.domain.templates import TemplateError, validate
from orderwire.integrations.base import Routed
from orderwire.integrations.whatsapp.client import session_payload, template_payload
from orderwire.store import queries
from orderwire.store.tables import customers, inbound, jobs, messages, orders

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submitted:
    """What `submit` did: stored as new, or recognised as a redelivery."""

    inbound_id: int
    duplicate: bool


_INBOUND_INSERT = inbound.insert()
_JOB_INSERT = jobs.insert()


def submit(
    rt: Runtime,
    source: str,
    dedupe_key: str,
    body: str,
    events: Sequence[tuple[str, Event] | Routed],
    topic: str = "",
    note: str = "",
) -> Submitted:
    """Store a request and its events in one transaction; a repeated dedupe key changes nothing."""
    now = rt.clock()
    try:
        with rt.engine.begin() as conn:
            # Values as parameters, not in the statement: compiled once, this path is the acknowledgement's.
            result = conn.execute(
                _INBOUND_INSERT,
                {
                    "shop_id": rt.shop_id,
                    "source": source,
                    "dedupe_key": dedupe_key[:200],
                    "topic": topic,
                    "received_at": now,
                    "body": body,
                    "note": note,
                },
            )
            inbound_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            for item in events:
                # A Routed event may name a second reference, tried when the first names no known order.
                ref, event = item[0], item[1]
                conn.execute(
                    _JOB_INSERT,
                    {
                        "shop_id": rt.shop_id,
                        "inbound_id": inbound_id,
                        "order_ref": ref,
                        "alt_ref": (item.fallback or None) if isinstance(item, Routed) else None,
                        "kind": codec.event_kind(event),
                        "payload": codec.encode(event),
                        "status": "pending",
                        "available_at": now,
                        "attempts": 0,
                        "last_error": "",
                        "created_at": now,
                    },
                )
    except sa.exc.IntegrityError:
        with rt.engine.connect() as conn:
            existing = conn.execute(
                sa.select(inbound.c.id).where(
                    inbound.c.shop_id == rt.shop_id,
                    inbound.c.source == source,
                    inbound.c.dedupe_key == dedupe_key[:200],
                )
            ).scalar()
        if existing is None:
            raise
        return Submitted(int(existing), duplicate=True)
    if events:
        rt.wake()
    return Submitted(inbound_id, duplicate=False)


LOOK_AGAIN = "look_again"  # a job for an order not known yet, too young to park: pending a moment more
LOOK_AGAIN_AFTER = timedelta(seconds=0.25)
PARK_AFTER = timedelta(seconds=2)


class _BatchFailed(Exception):
    """A job of an optimistic batch raised: the batch is rolled back and run again, one savepoint per job."""


def process_due_jobs(rt: Runtime, limit: int = 20) -> int:
    """Apply up to `limit` due jobs, oldest first, in one transaction; returns how many.

    One commit per batch rather than per job: on PostgreSQL each commit waits for the WAL flush, which
    made a one-job-per-transaction pump the bottleneck at 50 orders/s (docs/benchmarks.md). Jobs run
    without savepoints (two statements each) until one raises; then the batch runs again with a savepoint
    per job, so a bad job is kept with its error and the others go through.
    """
    now = rt.clock()
    stock.prefetch(rt, now, limit)  # commerce: the stock source is asked here, outside the transaction
    try:
        return _run_batch(rt, limit, now, isolated=False)
    except _BatchFailed:
        return _run_batch(rt, limit, now, isolated=True)


TIMER_KIND = codec.kind_of(TimerFired)


def _in_arrival_order(conn: sa.Connection, due: Sequence[sa.Row[Any]]) -> list[sa.Row[Any]]:
    """The due jobs that may run now, oldest first: one order's events in arrival order.

    A job waits while an earlier event for its reference is pending outside this batch: held by another
    pump thread (SKIP LOCKED hands the later one over), looking again for its order, or backing off after
    an error. Timers and calls to vendors are not events: a follow-up due in four days holds nothing up.
    Checked here with one indexed query rather than a NOT EXISTS in the claim, which PostgreSQL planned
    as an anti-join over every pending job and which collapsed under a backlog (docs/benchmarks.md).
    """
    if not due:
        return []
    pending = conn.execute(
        _pending_before(tuple(vendor_calls.PERFORMERS)),
        {
            "shop_ids": sorted({j.shop_id for j in due}),
            "refs": sorted({j.order_ref for j in due}),
            "newest": max(j.id for j in due),
        },
    ).all()
    here = {j.id for j in due}
    held: dict[tuple[str, str], int] = {}  # per reference, the oldest pending event outside this batch
    for shop_id, ref, job_id in pending:
        if job_id not in here:
            held[shop_id, ref] = min(job_id, held.get((shop_id, ref), job_id))
    free = [j for j in due if held.get((j.shop_id, j.order_ref), j.id + 1) > j.id]
    return sorted(free, key=lambda j: j.id)


# Built once per set of vendor calls (modules register theirs on import), values as parameters (see
# store/queries.py): the pump runs these many times a second.
@functools.cache
def _pending_before(calls: tuple[str, ...]) -> sa.Select[Any]:
    """Pending events of the given references older than a job id (vendor calls and timers aside)."""
    return sa.select(jobs.c.shop_id, jobs.c.order_ref, jobs.c.id).where(
        jobs.c.shop_id.in_(sa.bindparam("shop_ids", expanding=True)),
        jobs.c.order_ref.in_(sa.bindparam("refs", expanding=True)),
        jobs.c.status == "pending",
        jobs.c.id < sa.bindparam("newest"),
        jobs.c.kind.not_in([*calls, TIMER_KIND]),
    )


@functools.cache
def _due_jobs(calls: tuple[str, ...]) -> sa.Select[Any]:
    """Due jobs that are not vendor calls, oldest first, locked (others' locks skipped)."""
    return (
        sa.select(jobs)
        .where(
            jobs.c.status == "pending",
            jobs.c.available_at <= sa.bindparam("now"),
            jobs.c.kind.not_in(list(calls)),
        )
        .order_by(jobs.c.available_at, jobs.c.id)
        .limit(sa.bindparam("limit"))
        .with_for_update(skip_locked=True)
    )


def _run_batch(rt: Runtime, limit: int, now: datetime, isolated: bool) -> int:
    with rt.engine.begin() as conn:
        due = conn.execute(_due_jobs(tuple(vendor_calls.PERFORMERS)), {"now": now, "limit": limit}).all()
        batch = _in_arrival_order(conn, due)
        outcomes = []
        parked = bool(batch) and queries.any_parked(conn)  # usually none: then no job looks for any
        for job in batch:
            outcome = _run_job(conn, rt, job, now, isolated, parked)
            if outcome["new_status"] == "parked":  # at once: a later job of this batch may release it
                conn.execute(JOB_OUTCOME, outcome)
                parked = True
            else:
                outcomes.append(outcome)
        if outcomes:
            conn.execute(JOB_OUTCOME, outcomes)  # one executemany: a single round trip on psycopg
    return len(batch)


JOB_OUTCOME = (
    jobs.update()
    .where(jobs.c.id == sa.bindparam("job_id"))
    .values(
        status=sa.bindparam("new_status"),
        attempts=sa.bindparam("new_attempts"),
        last_error=sa.bindparam("error"),
        done_at=sa.bindparam("done"),
        available_at=sa.bindparam("next_at"),
    )
)


def _run_job(
    conn: sa.Connection, rt: Runtime, job: sa.Row[Any], now: datetime, isolated: bool, parked: bool
) -> dict[str, Any]:
    """Apply one job (releasing the jobs parked for its order, if any are parked); the parameters of
    its `JOB_OUTCOME` update."""
    try:
        if isolated:
            with conn.begin_nested():
                status = _apply(conn, rt, job, now, parked)
        else:
            status = _apply(conn, rt, job, now, parked)
        error = ""
    except Exception as exc:  # a bad job must not stop the pump; it is kept with its error
        if not isolated:
            raise _BatchFailed from exc
        log.exception("job %s failed", job.id)
        status, error = ("failed" if job.attempts >= 4 else "pending"), repr(exc)[:2000]
    looking = status == LOOK_AGAIN  # not an attempt: the order may simply not be committed yet
    next_at = now
    if error:
        next_at += _backoff(job.attempts)
    elif looking:
        next_at += LOOK_AGAIN_AFTER
    return {
        "job_id": job.id,
        "new_status": "pending" if looking else status,
        "new_attempts": job.attempts + (0 if looking else 1),
        "error": error,
        "done": now if status == "done" else None,
        "next_at": next_at,
    }


def release_stranded(rt: Runtime, limit: int = 200) -> int:
    """Release parked jobs whose order exists after all.

    A job parks when its order is not there yet, and the order's job releases it. When the two run at the
    same time in different transactions (two pump threads or processes on PostgreSQL), the release can
    come before the park is committed and miss it; the pump's sweep calls this to catch those.
    """
    now = rt.clock()
    with rt.engine.begin() as conn:
        waiting = conn.execute(
            sa.select(jobs.c.id, jobs.c.order_ref, jobs.c.alt_ref)
            .where(jobs.c.status == "parked")
            .order_by(jobs.c.id)
            .limit(limit)
        ).all()
        found = [
            j.id
            for j in waiting
            if any(ref and queries.order_known(conn, rt.shop_id, ref) for ref in (j.order_ref, j.alt_ref))
        ]
        if found:
            conn.execute(
                jobs.update()
                .where(jobs.c.id.in_(found), jobs.c.status == "parked")
                .values(status="pending", available_at=now)
            )
    if found:
        log.info("released %s parked jobs whose order had arrived", len(found))
        rt.wake()
    return len(found)


def message_key(order_id: str, key: str) -> str:
    """The unique key of an order's message; hashed when too long for its column (ids are unbounded)."""
    raw = f"{order_id}:{key}"
    return raw if len(raw) <= 200 else raw[:130] + ":" + hashlib.sha256(raw.encode()).hexdigest()


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** (attempts + 1)))


def _apply(conn: sa.Connection, rt: Runtime, job: sa.Row[Any], now: datetime, parked: bool) -> str:
    event = codec.decode(job.kind, job.payload)
    row = queries.lock_order(conn, rt.shop_id, job.order_ref)
    if row is None and job.alt_ref:
        row = queries.lock_order(conn, rt.shop_id, job.alt_ref)
    if row is None and not isinstance(event, OrderPlaced):
        if now - job.created_at < PARK_AFTER:
            # Its order may be in a batch another pump thread or process is committing right now, whose
            # release of parked jobs could not see this one: look again shortly before parking.
            return LOOK_AGAIN
        order_details.await_details(conn, rt, job, event, now)  # commerce: fetched if they never come
        return "parked"  # the order is not known yet: wait for it (unpark_jobs)
    current = order_from_json(row.state) if row is not None else None
    customer: sa.Row[Any] | None = None  # a new order's, once stored
    if isinstance(event, CustomerReplied) and row is not None and current is not None:
        _customer_replied(conn, rt, job, row, current, event, now)
        return "done"
    if isinstance(event, OrderPlaced):
        event = dataclasses.replace(event, order=dataclasses.replace(event.order, shop_id=rt.shop_id))
        if row is None:
            stocked = stock.with_backorders(rt, event)  # commerce
            if stocked is None:
                return "pending"
            event, customer = _with_customer_history(conn, rt, stocked, now)
    offer = None  # replenishment offers: stock (read before the batch), STOP, later orders, for the decision
    if (
        isinstance(event, TimerFired)
        and event.kind.startswith(f"{REPLENISH}:")
        and row is not None
        and current is not None
    ):
        offer = stock.offer_context(conn, rt, row, current, event.kind)
        if offer is None:
            return "pending"  # due after this batch's stock read: decided on the next round
    decision = decide(current, event, now, rt.policy, offer)
    order_pk, token, customer_id = _save_order(
        conn, rt, row, decision.order, now, None if customer is None else int(customer.id)
    )
    kind = job.kind if not isinstance(event, TimerFired) else f"timer:{event.kind.split(':')[0]}"
    alerts = [*decision.alerts, *(f"for staff: {c.reason}" for c in decision.escalations)]
    detail = {"job": job.id, "alerts": alerts}
    queries.add_timeline(
        conn, order_pk, event.occurred_at, now, kind, decision.outcome, decision.note, detail
    )
    opted_out = None if customer is None else bool(customer.opted_out)
    _record_effects(conn, rt, decision, order_pk, token, customer_id, now, opted_out)
    outbound.order_changed(conn, rt, current, decision.order, order_pk, now)  # outbound lifecycle events
    if isinstance(event, ShipmentUpdated) and decision.outcome in (Outcome.APPLIED, Outcome.IGNORED):
        shipment = decision.order.shipment(event.awb)
        if shipment is not None:
            poll_schedule.watch(conn, rt, shipment, now)
    if parked:
        queries.unpark_jobs(conn, rt.shop_id, _ref_names(decision.order), now)
    return "done"


def _customer_replied(
    conn: sa.Connection,
    rt: Runtime,
    job: sa.Row[Any],
    row: sa.Row[Any],
    order: Order,
    event: CustomerReplied,
    now: datetime,
) -> None:
    """The bot answers a reply: new state, session messages, and a request for the courier if any."""
    window = conn.execute(
        sa.select(customers.c.window_expires_at).where(customers.c.id == row.customer_id)
    ).scalar()
    chat = conversations.chat_for(conn, rt, row)  # conversations (orderwire.bot): the customer's other orders
    turn = bot.respond(order, event, now, rt.policy, window is not None and window > now, chat)
    detail: dict[str, Any] = {"job": job.id, "reply_id": event.reply_id}
    if event.media_id:
        detail |= {"media_id": event.media_id, "media_mime": event.media_mime}
    at = event.occurred_at
    _persist_turn(conn, rt, row, order, turn, kind=job.kind, at=at, detail=detail, now=now, wamid=event.wamid)


def _persist_turn(
    conn: sa.Connection,
    rt: Runtime,
    row: sa.Row[Any],
    before: Order,
    turn: Turn,
    *,
    kind: str,
    at: datetime,
    detail: dict[str, Any],
    now: datetime,
    wamid: str = "",
) -> None:
    """Save a dialogue's Turn for the locked order `row`: new state, timeline, and all it asks for."""
    order_pk, token, customer_id = _save_order(conn, rt, row, turn.order, now)
    outbound.order_changed(conn, rt, before, turn.order, order_pk, now)  # outbound lifecycle events
    alerts = [f"for staff: {c.reason}" for c in turn.escalations]
    queries.add_timeline(conn, order_pk, at, now, kind, turn.outcome, turn.note, {**detail, "alerts": alerts})
    # A lifecycle decision the customer asked for (e.g. a cancellation) has the effects of any other
    # event; consent asked in other words than STOP/START is recorded the same way.
    if turn.decision is not None:
        decided = dataclasses.replace(turn.decision, order=turn.order)
        _record_effects(conn, rt, decided, order_pk, token, customer_id, now)
    if turn.consent is not None:
        conversations.set_consent(
            conn, rt, customer_id, turn.consent, str(detail.get("wamid", "")), order_pk, now
        )
    for outgoing in turn.sends:
        # Answers to what the customer said or asked for: sent even after STOP (that stopped our updates).
        _create_session_message(conn, rt, turn.order, outgoing, order_pk, customer_id, False, now)
    if turn.courier is not None:
        courier_actions.request(conn, rt, turn.order.order_id, order_pk, turn.courier, now)
    _open_cases(conn, rt, turn.order, order_pk, turn.escalations, now)
    _queue_calls(conn, rt, turn.order, order_pk, turn.calls, now)
    for timer in turn.timers:
        _set_timer(conn, rt, turn.order, order_pk, timer, now)
    if turn.sends or turn.consent is not None:
        rt.wake()


def _create_session_message(
    conn: sa.Connection,
    rt: Runtime,
    order: Order,
    outgoing: Outgoing,
    order_pk: int,
    customer_id: int,
    opted_out: bool,
    now: datetime,
) -> None:
    """Store a session message once per key, checked against WhatsApp's limits first."""
    status, error = ("suppressed", "customer opted out") if opted_out else ("scheduled", "")
    try:
        check(outgoing.message)
    except SessionError as exc:
        status, error = "failed", f"session message check: {exc}"
    _store_outgoing(
        conn,
        rt,
        order,
        order_pk,
        customer_id,
        key=outgoing.key,
        kind=outgoing.dialogue,
        template="",
        language=language_for(order.customer.language),
        payload=session_payload(order.customer.phone, outgoing.message),
        status=status,
        error=error,
        send_after=now,
        now=now,
    )


def _with_customer_history(
    conn: sa.Connection, rt: Runtime, event: OrderPlaced, now: datetime
) -> tuple[OrderPlaced, sa.Row[Any]]:
    """A new order learns whether it is the customer's first with the shop (and the customer's row)."""
    c = event.order.customer
    stored = queries.upsert_customer(conn, rt.shop_id, c.phone, c.name, c.language, now)
    customer = dataclasses.replace(c, first_order=c.first_order or stored.orders == 0)
    return dataclasses.replace(event, order=dataclasses.replace(event.order, customer=customer)), stored


CUSTOMER_FIELDS = ("phone", "name", "language")


def _references(order: Order) -> list[tuple[str, str]]:
    """The order's other names (number, payment ids, AWBs), as (kind, value), for correlation."""
    refs = [("number", order.number), *((k, v) for k, v in order.references.items() if v)]
    return refs + [("awb", s.awb) for s in order.shipments]


def _ref_names(order: Order) -> list[str]:
    """Every reference a parked event could have used for this order."""
    return [f"order:{order.order_id}", *(f"{kind}:{value}" for kind, value in _references(order))]


_ORDER_INSERT = orders.insert()
_ORDER_UPDATE = orders.update().where(orders.c.id == sa.bindparam("order_pk"))  # SET from the parameters


def _save_order(
    conn: sa.Connection,
    rt: Runtime,
    row: sa.Row[Any] | None,
    order: Order,
    now: datetime,
    customer_id: int | None = None,
) -> tuple[int, str, int]:
    c = order.customer
    state = to_json(order)
    if customer_id is None:
        stored = row.state["customer"] if row is not None else {}
        if row is not None and all(stored.get(f) == state["customer"][f] for f in CUSTOMER_FIELDS):
            customer_id = int(row.customer_id)  # the same customer as before: nothing to refresh
        else:
            customer_id = int(queries.upsert_customer(conn, rt.shop_id, c.phone, c.name, c.language, now).id)
    if row is None:
        token = secrets.token_urlsafe(24)  # 192 bits: tracking links cannot be guessed
        result = conn.execute(
            _ORDER_INSERT,
            {
                "shop_id": rt.shop_id,
                "order_id": order.order_id,
                "customer_id": customer_id,
                "stage": order.stage.value,
                "tracking_token": token,
                "state": state,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            },
        )
        order_pk = int(result.inserted_primary_key[0])  # type: ignore[index]
    else:
        order_pk, token = int(row.id), str(row.tracking_token)
        if state != row.state:
            conn.execute(
                _ORDER_UPDATE,
                {
                    "order_pk": order_pk,
                    "stage": order.stage.value,
                    "state": state,
                    "customer_id": customer_id,
                    "version": row.version + 1,
                    "updated_at": now,
                },
            )
    if order.returns:  # returns helper: keep the returns table in step with the order's return requests
        return_rows.sync(conn, rt.shop_id, order_pk, customer_id, order, now)
    known = set(_references(order_from_json(row.state))) if row is not None else set()
    queries.add_refs(conn, rt.shop_id, order_pk, [r for r in _references(order) if r not in known])
    return order_pk, token, customer_id


# "in_shop", not "shop_id": SQLAlchemy reserves a column's name for the SET clause of an UPDATE.
_CANCEL_SCHEDULED = (
    messages.update()
    .where(
        messages.c.shop_id == sa.bindparam("in_shop"),
        messages.c.key.in_(sa.bindparam("keys", expanding=True)),
        messages.c.status == "scheduled",
    )
    .values(status="cancelled", updated_at=sa.bindparam("now"))
)


def _record_effects(
    conn: sa.Connection,
    rt: Runtime,
    decision: Decision,
    order_pk: int,
    token: str,
    customer_id: int,
    now: datetime,
    opted_out: bool | None = None,
) -> None:
    """Store a decision's messages, timers, cases and vendor calls (`opted_out`: read when not known)."""
    order = decision.order
    if decision.cancel_messages:
        keys = [message_key(order.order_id, k) for k in decision.cancel_messages]
        conn.execute(_CANCEL_SCHEDULED, {"in_shop": rt.shop_id, "keys": keys, "now": now})
    if opted_out is None:
        opted_out = queries.opted_out(conn, customer_id)
    for intent in decision.messages:
        _create_message(conn, rt, order, intent, order_pk, token, customer_id, opted_out, now)
    for timer in decision.timers:
        _set_timer(conn, rt, order, order_pk, timer, now)
    _open_cases(conn, rt, order, order_pk, decision.escalations, now)
    _queue_calls(conn, rt, order, order_pk, decision.calls, now)
    if decision.messages and any(i.not_before <= now for i in decision.messages):
        rt.wake()


def _timer_key(order_pk: int | str, kind: str) -> str:
    """A timer's dedupe key: one timer per order and kind."""
    return f"timer:{order_pk}:{kind}"[:200]


def make_due_now(conn: sa.Connection, now: datetime, timer_kind: str | None = None) -> int:
    """Time travel: pending jobs that wait for a later moment (only timers of `timer_kind`, if given) are
    due now. For the sandbox's "skip ahead" and the soak benchmark, never for real orders."""
    query = jobs.update().where(jobs.c.status == "pending", jobs.c.available_at > now)
    if timer_kind is not None:
        query = query.where(jobs.c.dedupe_key.like(_timer_key("%", timer_kind)))
    return int(conn.execute(query.values(available_at=now)).rowcount)


def _set_timer(
    conn: sa.Connection, rt: Runtime, order: Order, order_pk: int, timer: TimerIntent, now: datetime
) -> None:
    """A durable timer: a job due at `timer.due_at`, once per order and timer kind."""
    queries.insert_ignore(
        conn,
        jobs,
        {
            "shop_id": rt.shop_id,
            "order_ref": f"order:{order.order_id}",
            "kind": TIMER_KIND,
            "payload": codec.encode(TimerFired(timer.kind, timer.due_at)),
            "status": "pending",
            "available_at": timer.due_at,
            "attempts": 0,
            "last_error": "",
            "dedupe_key": _timer_key(order_pk, timer.kind),
            "created_at": now,
        },
        ["shop_id", "dedupe_key"],
    )


def _open_cases(
    conn: sa.Connection,
    rt: Runtime,
    order: Order,
    order_pk: int,
    cases: Sequence[Escalation],
    now: datetime,
) -> None:
    for case in cases:
        key = message_key(order.order_id, case.key)
        escalations.open_case(conn, rt, order_pk, case.awb, case.reason, key, case.detail, now)


def _queue_calls(
    conn: sa.Connection,
    rt: Runtime,
    order: Order,
    order_pk: int,
    calls: Sequence[VendorCall],
    now: datetime,
) -> None:
    for call in calls:
        key = f"call:{message_key(order.order_id, call.key)}"
        vendor_calls.queue(
            conn,
            rt,
            call.kind,
            order_id=order.order_id,
            order_pk=order_pk,
            payload=dict(call.payload),
            dedupe_key=key,
            now=now,
        )


def _create_message(
    conn: sa.Connection,
    rt: Runtime,
    order: Order,
    intent: MessageIntent,
    order_pk: int,
    token: str,
    customer_id: int,
    opted_out: bool,
    now: datetime,
) -> None:
    outbound = compose(intent.kind, order, intent.awb, token, rt.policy.reorder_url)
    definition = rt.catalogue.get(outbound.template)
    status, error = ("suppressed", "customer opted out") if opted_out else ("scheduled", "")
    if definition is not None and definition.category == "MARKETING" and not order.customer.marketing_opt_in:
        status, error = "suppressed", "no marketing opt-in"  # replenishment offers: whoever asks to send it
    try:
        if definition is None:
            raise TemplateError(f"no template named {outbound.template!r} in the catalogue")
        validate(outbound, definition)
    except TemplateError as exc:
        status, error = "failed", f"template check: {exc}"
    _store_outgoing(
        conn,
        rt,
        order,
        order_pk,
        customer_id,
        key=intent.key,
        kind=intent.kind.value,
        template=outbound.template,
        language=outbound.language,
        payload=template_payload(order.customer.phone, outbound),
        status=status,
        error=error,
        send_after=intent.not_before,
        now=now,
    )


def _store_outgoing(
    conn: sa.Connection,
    rt: Runtime,
    order: Order,
    order_pk: int,
    customer_id: int,
    *,
    key: str,
    kind: str,
    template: str,
    language: str,
    payload: dict[str, Any],
    status: str,
    error: str,
    send_after: datetime,
    now: datetime,
) -> None:
    """One outgoing message row, at most once per key; a failed check is flagged for staff."""
    # Shops: an order whose phone could not be read (kept with none) has nobody to message: flag it.
    if not order.customer.phone and status != "failed":
        status, error = "failed", "no valid customer phone: correct it in the shop"
    queries.insert_ignore(
        conn,
        messages,
        {
            "shop_id": rt.shop_id,
            "order_pk": order_pk,
            "customer_id": customer_id,
            "direction": "out",
            "key": message_key(order.order_id, key),
            "kind": kind,
            "template": template,
            "language": language,
            "payload": payload,
            "status": status,
            "send_after": send_after,
            "error_detail": error[:500],
            "error_code": "",
            "attempts": 0,
            "needs_attention": status == "failed",
            "created_at": now,
            "updated_at": now,
        },
        ["shop_id", "key"],
    )


# --- Returns (returns helper): decisions and turns made outside an event job (staff actions, a vendor's
# answer) are persisted exactly like an event's: new state, timeline, messages, timers, cases, calls.
def apply_decision(
    conn: sa.Connection, rt: Runtime, row: sa.Row[Any], decision: Decision, kind: str, now: datetime
) -> None:
    """Persist a Decision for the locked order `row` in the caller's transaction."""
    order_pk, token, customer_id = _save_order(conn, rt, row, decision.order, now)
    outbound.order_changed(conn, rt, order_from_json(row.state), decision.order, order_pk, now)
    alerts = [*decision.alerts, *(f"for staff: {c.reason}" for c in decision.escalations)]
    queries.add_timeline(conn, order_pk, now, now, kind, decision.outcome, decision.note, {"alerts": alerts})
    _record_effects(conn, rt, decision, order_pk, token, customer_id, now)


def apply_turn(
    conn: sa.Connection, rt: Runtime, row: sa.Row[Any], turn: Turn, kind: str, now: datetime
) -> None:
    """Persist a dialogue Turn for the locked order `row` in the caller's transaction."""
    _persist_turn(conn, rt, row, order_from_json(row.state), turn, kind=kind, at=now, detail={}, now=now)


# --- staff console: staff messages go through the same path as the bot's and the lifecycle's ---
def send_staff_session_message(
    conn: sa.Connection, rt: Runtime, order_pk: int, outgoing: Outgoing, now: datetime
) -> None:
    """Store a session message written by staff for the order's customer (checked, once per key)."""
    _, order, customer_id, opted_out = _staff_target(conn, rt, order_pk)
    _create_session_message(conn, rt, order, outgoing, order_pk, customer_id, opted_out, now)
    rt.wake()


def send_staff_template(
    conn: sa.Connection, rt: Runtime, order_pk: int, intent: MessageIntent, now: datetime
) -> None:
    """Store a template message chosen by staff, composed from the order as the lifecycle composes it."""
    row, order, customer_id, opted_out = _staff_target(conn, rt, order_pk)
    _create_message(conn, rt, order, intent, order_pk, str(row.tracking_token), customer_id, opted_out, now)
    rt.wake()


def _staff_target(conn: sa.Connection, rt: Runtime, order_pk: int) -> tuple[sa.Row[Any], Order, int, bool]:
    row = conn.execute(sa.select(orders).where(orders.c.id == order_pk, orders.c.shop_id == rt.shop_id)).one()
    customer_id = int(row.customer_id)
    return row, order_from_json(row.state), customer_id, queries.opted_out(conn, customer_id)
