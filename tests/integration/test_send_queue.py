"""The send queue is the messages table: claims, one message per customer at a time, claims that outlive
their process, and a pump batch that survives a bad job."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import TypeAdapter

from orderwire.app import orders, sending, vendor_calls
from orderwire.app.runtime import Runtime
from orderwire.bootstrap import build_runtime
from orderwire.domain.lifecycle import COD_REMIND, FOLLOW_UP_TIMER
from orderwire.integrations.whatsapp.client import SendResult, Verdict
from orderwire.settings import Settings
from orderwire.store.tables import customers, escalations, jobs, message_statuses, messages, timeline
from orderwire.store.tables import orders as order_table
from orderwire.web.schemas import EventIn, OrderIn, to_canonical
from tests.conftest import service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.support.graph_server import GraphServer


@pytest.fixture
def rt(database_url: str, graph: GraphServer) -> Iterator[Runtime]:
    env = service_env(database_url, graph.url, "")
    settings = Settings(**{k.removeprefix("ORDERWIRE_").lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    runtime = build_runtime(settings)
    yield runtime
    sending.close(runtime)
    runtime.whatsapp.close()
    runtime.engine.dispose()


def _place(rt: Runtime, order_id: str, phone: str, paid: bool = True) -> None:
    body = {**ORDER, "order_id": order_id, "number": f"#{order_id}", "paid": paid}
    body["customer"] = {**ORDER["customer"], "phone": phone}
    order = OrderIn.model_validate(body)
    orders.submit(
        rt, "api", order_id, order.model_dump_json(), [(f"order:{order_id}", order.to_event(rt.clock()))]
    )


def _statuses(rt: Runtime) -> dict[int, tuple[str, str | None]]:
    with rt.engine.connect() as conn:
        rows = conn.execute(sa.select(messages.c.id, messages.c.status, messages.c.claimed_by)).all()
    return {r.id: (r.status, r.claimed_by) for r in rows}


def test_one_message_per_customer_at_a_time_in_order(rt: Runtime, graph: GraphServer) -> None:
    _place(rt, "A-1", "+919812300001")
    _place(rt, "A-2", "+919812300001")  # the same customer: two confirmations, in order
    _place(rt, "B-1", "+919812300002")
    assert orders.process_due_jobs(rt) == 3
    assert sending.dispatch_due(rt) == 2  # A-1 and B-1; A-2 waits for A-1
    wait_for(lambda: len(graph.requests) == 2)
    wait_for(lambda: sum(s == "accepted" for s, _ in _statuses(rt).values()) == 2)
    assert sending.dispatch_due(rt) == 1
    wait_for(lambda: len(graph.requests) == 3)
    sent = [r.body["to"] for r in graph.requests]
    assert sent.count("919812300001") == 2 and sent.index("919812300002") < 2
    wait_for(lambda: all(s == "accepted" and c is None for s, c in _statuses(rt).values()))


def test_a_new_order_reads_its_customers_history_and_stop_with_the_customer(rt: Runtime) -> None:
    _place(rt, "H-1", "+919812300021")  # a customer's first order with the shop
    _place(rt, "S-1", "+919812300022")
    assert orders.process_due_jobs(rt) == 2
    with rt.engine.begin() as conn:  # the second customer says STOP before their next order
        conn.execute(customers.update().where(customers.c.phone == "+919812300022").values(opted_out=True))
    _place(rt, "H-2", "+919812300021")
    _place(rt, "S-2", "+919812300022")
    assert orders.process_due_jobs(rt) == 2
    with rt.engine.connect() as conn:
        first = dict(conn.execute(sa.select(order_table.c.order_id, order_table.c.state)).all())
        confirmations = dict(
            conn.execute(
                sa.select(order_table.c.order_id, messages.c.status)
                .join(order_table, order_table.c.id == messages.c.order_pk)
                .where(messages.c.kind == "confirmation")
            ).all()
        )
    assert {k: v["customer"]["first_order"] for k, v in first.items()} == {
        "H-1": True,
        "S-1": True,
        "H-2": False,
        "S-2": False,
    }
    assert confirmations == {
        "H-1": "scheduled",
        "S-1": "scheduled",
        "H-2": "scheduled",
        "S-2": "suppressed",
    }


def test_statuses_that_came_before_the_record_of_the_send_are_applied(rt: Runtime) -> None:
    for n in (1, 2, 3):
        _place(rt, f"W-{n}", f"+91981230003{n}")
    orders.process_due_jobs(rt)
    rows, _ = sending._claim(rt, rt.clock(), 10, None)
    early = {"wamid.W-1": ["sent", "delivered"], "wamid.W-2": ["sent", "failed"], "wamid.W-3": []}
    with rt.engine.begin() as conn:  # Meta's webhooks, faster than our record of its answer
        for wamid, statuses in early.items():
            for status in statuses:
                conn.execute(
                    message_statuses.insert().values(wamid=wamid, status=status, at=rt.clock(), detail={})
                )
    wamids = dict(zip(sorted(r.id for r in rows), early, strict=True))
    for row in rows:
        sending.record_result(rt, row, SendResult(Verdict.SENT, wamid=wamids[row.id]), 1)
    with rt.engine.connect() as conn:
        stored = conn.execute(
            sa.select(messages.c.wamid, messages.c.status, messages.c.needs_attention)
        ).all()
        flagged = conn.execute(sa.select(escalations.c.reason)).scalars().all()
    assert sorted(map(tuple, stored)) == [
        ("wamid.W-1", "delivered", False),
        ("wamid.W-2", "failed", True),
        ("wamid.W-3", "accepted", False),
    ]
    assert flagged == ["message_failed"]


def test_claims_of_a_dead_process_are_taken_back(rt: Runtime, graph: GraphServer) -> None:
    _place(rt, "C-1", "+919812300011")
    _place(rt, "C-2", "+919812300012")
    orders.process_due_jobs(rt)
    ids = sorted(_statuses(rt))
    old = rt.clock() - timedelta(minutes=5)
    with rt.engine.begin() as conn:  # as a crash leaves them: claimed, never answered
        conn.execute(
            messages.update().where(messages.c.id == ids[0]).values(status="queued", claimed_by="local")
        )
        conn.execute(
            messages.update()
            .where(messages.c.id == ids[1])
            .values(status="queued", claimed_by="gone-for-good", updated_at=old)
        )
    assert sending.dispatch_due(rt) == 1  # starting the sender gives back this executor's own claim
    wait_for(lambda: len(graph.requests) == 1)
    wait_for(lambda: _statuses(rt)[ids[0]] == ("accepted", None))
    assert sending.dispatch_due(rt) == 0  # the other process's claim is not ours while its lease runs
    assert sending.dispatch_due(rt, stale_after=timedelta(minutes=1)) == 1  # ... and is once it ran out
    wait_for(lambda: _statuses(rt)[ids[1]] == ("accepted", None))
    assert sorted(r.body["to"] for r in graph.requests) == ["919812300011", "919812300012"]


def test_a_claim_taken_over_is_not_sent_by_its_first_holder(rt: Runtime, graph: GraphServer) -> None:
    """A send thread that waited past the lease finds its claim taken over, and does not send it too."""
    _place(rt, "L-1", "+919812300021")
    orders.process_due_jobs(rt)
    first, _ = sending._claim(rt, rt.clock(), 1, None)
    later = rt.clock() + timedelta(minutes=2)
    second, known = sending._claim(rt, later, 1, later - timedelta(minutes=1))  # the sweep takes it over
    assert [r.id for r in second] == [r.id for r in first]
    sending.attempt_send(rt, first[0], 1, known)
    assert graph.requests == []
    sending.attempt_send(rt, second[0], 1, known)
    assert [r.body["to"] for r in graph.requests] == ["919812300021"]


class _SlowPacer(sending.Pacer):
    """Grants after 0.3 s; with `take_over`, another attempt takes the claim over meanwhile."""

    def __init__(self, rt: Runtime, take_over: bool):
        super().__init__(1000)
        self._rt, self._take_over = rt, take_over

    def wait(self) -> None:
        if self._take_over:
            later = self._rt.clock() + timedelta(minutes=2)
            sending._claim(self._rt, later, 1, later - timedelta(minutes=1))
        time.sleep(0.3)


@pytest.mark.parametrize("taken_over", [True, False])
def test_a_claim_is_renewed_again_after_a_long_wait_for_the_pacer(
    rt: Runtime, graph: GraphServer, monkeypatch: pytest.MonkeyPatch, taken_over: bool
) -> None:
    """Renewed before the wait, and again when the wait took over a quarter of the lease (1 s here)."""
    monkeypatch.setattr(rt.settings, "send_lease_seconds", 1.0)
    monkeypatch.setitem(sending._pacers, id(rt), _SlowPacer(rt, taken_over))
    _place(rt, "P-1", "+919812300041")
    orders.process_due_jobs(rt)
    rows, known = sending._claim(rt, rt.clock(), 1, None)
    sending.attempt_send(rt, rows[0], 1, known)
    assert len(graph.requests) == (0 if taken_over else 1)


def test_the_pump_leaves_a_vendor_call_registered_after_start_to_its_runner(rt: Runtime) -> None:
    """Modules register vendor calls as they are imported, after the pump's statements may be built: a
    call registered late is still not an event to apply (the statements follow the registry)."""
    _place(rt, "V-1", "+919812300041")
    orders.process_due_jobs(rt)  # the pump's statements are built and in use before the registration
    unreachable = vendor_calls.NotConfigured("never performed in this test")

    def perform(_rt: Runtime, _payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise unreachable

    vendor_calls.register("test_late_call", vendor_calls.Performer(perform, "late", "late"))
    try:
        with rt.engine.begin() as conn:
            vendor_calls.queue(
                conn,
                rt,
                "test_late_call",
                order_id="V-1",
                order_pk=None,
                payload={},
                dedupe_key="call:V-1:late",
                now=rt.clock(),
            )
        orders.process_due_jobs(rt)
        with rt.engine.connect() as conn:
            call = conn.execute(sa.select(jobs).where(jobs.c.kind == "test_late_call")).one()
        assert (call.status, call.attempts, call.last_error) == ("pending", 0, "")
    finally:
        vendor_calls.PERFORMERS.pop("test_late_call", None)


def test_a_message_that_does_not_parse_fails_alone(rt: Runtime, graph: GraphServer) -> None:
    """The claim reads the templates of its whole batch; a garbled payload must not stop the others."""
    _place(rt, "G-1", "+919812300031")
    _place(rt, "G-2", "+919812300032")
    orders.process_due_jobs(rt)
    garbled, fine = sorted(_statuses(rt))
    with rt.engine.begin() as conn:
        conn.execute(
            messages.update()
            .where(messages.c.id == garbled)
            .values(payload={"type": "template", "to": "919812300031", "template": "not an object"})
        )
    assert sending.dispatch_due(rt) == 2
    wait_for(lambda: _statuses(rt)[fine] == ("accepted", None))
    wait_for(lambda: _statuses(rt)[garbled] == ("retrying", None))  # tried, kept, due again later
    assert [r.body["to"] for r in graph.requests] == ["919812300032"]


def test_a_failing_job_does_not_hold_up_its_batch(rt: Runtime) -> None:
    _place(rt, "D-1", "+919812300021")
    _place(rt, "D-2", "+919812300022")
    _place(rt, "D-3", "+919812300023")
    with rt.engine.begin() as conn:  # the middle job cannot be decoded: a bug, or a corrupt row
        middle = conn.execute(sa.select(jobs.c.id).order_by(jobs.c.id).offset(1).limit(1)).scalar_one()
        conn.execute(jobs.update().where(jobs.c.id == middle).values(payload={"garbled": True}))
    assert orders.process_due_jobs(rt) == 3
    with rt.engine.connect() as conn:
        rows: list[Any] = conn.execute(sa.select(jobs).order_by(jobs.c.id)).all()
        made = conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one()
    assert [r.status for r in rows] == ["done", "pending", "done"]
    assert rows[1].attempts == 1 and rows[1].last_error  # kept, with its error
    assert rows[1].available_at > rows[0].done_at  # backed off, tried again later
    assert made == 2


@pytest.mark.postgres
def test_shared_pacers_hold_the_rate_together(postgres_url: str) -> None:
    """Two pacers on one row (two processes), eight threads each: every one-second window of the moments
    the threads were let go holds at most `rate`, and the limit, not the row, is what holds them back;
    a pacer's asking thread takes grants for the threads queued behind it."""
    from orderwire.store.db import make_engine, migrate

    migrate(postgres_url)
    engine = make_engine(postgres_url)
    rate, per_thread = 40, 5
    decisions: list[int] = []

    class Counting(sending.SharedPacer):
        def _ask(self, wanted: int) -> tuple[int, float]:
            sends, pause = super()._ask(wanted)
            if sends:
                decisions.append(sends)
            return sends, pause

    pacers = [Counting(engine, "whatsapp:test", rate) for _ in range(2)]
    released: list[float] = []
    lock = threading.Lock()

    def ask(pacer: sending.SharedPacer) -> None:
        for _ in range(per_thread):
            pacer.wait()
            with lock:
                released.append(time.monotonic())

    threads = [threading.Thread(target=ask, args=(p,)) for p in pacers for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()
    moments = sorted(released)
    assert len(moments) == 2 * 8 * per_thread <= sum(decisions)  # unused grants are dropped
    assert max(decisions) == 2  # 50 ms of the limit at once
    busiest = max(sum(1 for t in moments[i:] if t < start + 1.0) for i, start in enumerate(moments))
    assert busiest <= rate
    assert moments[-1] - moments[0] >= (len(moments) - rate) / rate  # the limit was what held them back


def test_a_park_that_missed_its_release_is_caught_by_the_sweep(rt: Runtime) -> None:
    """Two pump threads: the payment parks in one transaction while its order commits in another, whose
    release ran before the park was visible. The sweep finds the order and releases the payment."""
    _place(rt, "E-1", "+919812300031", paid=False)
    orders.process_due_jobs(rt)
    paid = to_canonical(
        TypeAdapter(EventIn).validate_python({"type": "paid", "payment_id": "pay_E1"}), rt.clock()
    )
    orders.submit(rt, "api", "E-1:paid", "{}", [("order:E-1", paid)])
    with rt.engine.begin() as conn:  # as the race leaves it: parked although its order is there
        conn.execute(jobs.update().where(jobs.c.status == "pending").values(status="parked"))
    assert orders.process_due_jobs(rt) == 0
    assert orders.release_stranded(rt) == 1
    assert orders.release_stranded(rt) == 0
    assert orders.process_due_jobs(rt) == 1
    with rt.engine.connect() as conn:
        assert conn.execute(sa.select(jobs.c.status).order_by(jobs.c.id)).scalars().all() == ["done", "done"]


@pytest.mark.postgres
def test_an_orders_later_events_wait_for_the_one_another_thread_holds(
    postgres_url: str, graph: GraphServer
) -> None:
    """Pump threads take batches with SKIP LOCKED; the events after a held one must not overtake it."""
    env = service_env(postgres_url, graph.url, "")
    settings = Settings(**{k.removeprefix("ORDERWIRE_").lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    rt = build_runtime(settings)
    try:
        _place(rt, "F-1", "+919812300041", paid=False)
        for n, body in enumerate(({"type": "paid", "payment_id": "pay_F1"}, {"type": "processing"})):
            event = to_canonical(TypeAdapter(EventIn).validate_python(body), rt.clock())
            orders.submit(rt, "api", f"F-1:{n}", "{}", [("order:F-1", event)])
        # Another pump thread is applying the order's first job:
        with rt.engine.connect() as other, other.begin():
            first = other.execute(
                sa.select(jobs.c.id).order_by(jobs.c.id).limit(1).with_for_update()
            ).scalar()
            assert orders.process_due_jobs(rt) == 0
        assert orders.process_due_jobs(rt) == 3  # the order, then its events, in one batch
        with rt.engine.connect() as conn:
            steps = conn.execute(sa.select(timeline.c.kind).order_by(timeline.c.id)).scalars().all()
            states = conn.execute(sa.select(jobs.c.id, jobs.c.status).order_by(jobs.c.id)).all()
        assert steps == ["order_placed", "payment_captured", "processing_started"]
        assert states[0].id == first and {s.status for s in states} == {"done"}
    finally:
        rt.engine.dispose()


@pytest.mark.postgres
def test_the_database_grants_by_the_same_rule(postgres_url: str) -> None:
    """`orderwire_next_grant` and `orderwire_grants_at` (the shared pacer's rule, in SQL) answer as
    `next_grant` and `grants_at` do, also when several sends were granted at one moment."""
    from hypothesis import example, given
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st

    from orderwire.store.db import make_engine, migrate

    migrate(postgres_url)
    engine = make_engine(postgres_url)
    start = 1_800_000_000.0  # seconds since the epoch, as the database's clock gives them
    ask = sa.text(
        "SELECT orderwire_next_grant(:granted, :now, :rate, :window),"
        " orderwire_grants_at(:granted, :now, :rate, :window, :wanted)"
    ).bindparams(
        sa.bindparam("granted", type_=sa.ARRAY(sa.Float)),
        sa.bindparam("now", type_=sa.Float),
        sa.bindparam("window", type_=sa.Float),
    )

    @hypothesis_settings(max_examples=300, deadline=None)
    @example(batches=[(0.5, 1)], now=1.6, rate=1, window=1.1, wanted=1)  # the oldest leaves the window
    @example(batches=[(0.5, 3)], now=0.5 + 3 / 8, rate=8, window=1.0, wanted=2)  # a batch's spacing ends
    @given(
        batches=st.lists(st.tuples(st.floats(min_value=0, max_value=3), st.integers(1, 4)), max_size=30),
        now=st.floats(min_value=0, max_value=4),
        rate=st.integers(min_value=1, max_value=30),
        window=st.sampled_from([1.0, 1.1, 2.0]),
        wanted=st.integers(min_value=1, max_value=8),
    )
    def same(batches: list[tuple[float, int]], now: float, rate: int, window: float, wanted: int) -> None:
        granted = sorted(start + at for at, together in batches for _ in range(together))
        expected = (
            sending.next_grant(granted, start + now, rate, window),
            sending.grants_at(granted, start + now, rate, window, wanted),
        )
        values = {"granted": granted, "now": start + now, "rate": rate, "window": window, "wanted": wanted}
        with engine.connect() as conn:
            ready, sends = conn.execute(ask, values).one()
        assert (ready, sends) == expected  # the same float operations in the same order

    try:
        same()
        with pytest.raises(sa.exc.DBAPIError, match="no send_pacing row"), engine.connect() as conn:
            conn.execute(sa.text("SELECT * FROM orderwire_send_grants('never-made', 10, 1.1, 1)"))
    finally:
        engine.dispose()


def test_time_travel_makes_only_the_named_timers_due(rt: Runtime) -> None:
    """`orders.make_due_now` (the sandbox's skip ahead, the soak benchmark) fires a delivered order's
    follow-up now, and leaves timers of another kind where they are."""
    _place(rt, "F-1", "+919812300041")
    for body in ({"type": "dispatched", "awb": "AWBF1"}, {"type": "delivered", "awb": "AWBF1"}):
        event = to_canonical(TypeAdapter(EventIn).validate_python(body), rt.clock())
        orders.submit(rt, "api", f"F-1:{body['type']}", "{}", [("order:F-1", event)])
    while orders.process_due_jobs(rt):
        pass
    with rt.engine.begin() as conn:
        assert orders.make_due_now(conn, rt.clock(), COD_REMIND) == 0
        assert orders.make_due_now(conn, rt.clock(), FOLLOW_UP_TIMER) == 1
    assert orders.process_due_jobs(rt) == 1
    with rt.engine.connect() as conn:
        kinds = conn.execute(sa.select(messages.c.kind).order_by(messages.c.id)).scalars().all()
    assert kinds[-1] == "follow_up"


def test_the_worker_knows_when_autovacuum_is_off(database_url: str) -> None:
    """`autovacuum_off` (the worker warns at start) reads the server's own setting; SQLite has none."""
    from orderwire.store.db import autovacuum_off, make_engine, migrate

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        if engine.dialect.name == "sqlite":
            assert autovacuum_off(engine) is False
        else:
            with engine.connect() as conn:
                setting = conn.execute(
                    sa.text("SELECT setting FROM pg_settings WHERE name = 'autovacuum'")
                ).scalar_one()
            assert autovacuum_off(engine) is (setting == "off")
    finally:
        engine.dispose()
