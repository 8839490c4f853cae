"""Sending: messages per second to the Cloud API, and whether the per-number limit ever was exceeded.

The send path is: the pump claims due messages from the messages table (`sending.dispatch_due`) and a
send thread runs `attempt_send` for each (opt-out and template gate, paces itself, POSTs to Graph,
records Meta's answer). Orders are not part of
it: at the rates measured here (80/s and up) the order pipeline in front of it would be the bottleneck
(docs/benchmarks.md: 60-70 orders/s), and a benchmark of sending would measure order processing.

So the script loads the send path directly, and honestly: it starts the real `orderwire serve` (fresh
SQLite or PostgreSQL database, fake Graph server answering after `--graph-latency`, 20 ms by default,
per-number limit `--limit`), then inserts N due outgoing messages in one transaction, exactly the rows
the order pipeline writes (status 'scheduled', send_after now, each for its own customer, the payload
composed by the service's own `compose` + `template_payload` for a confirmation). From then on the
service does everything itself. The fake records when each request arrived; the script reports:

- throughput: messages / (last arrival - first arrival), and from the commit of the rows;
- the busiest one-second window, sliding (any [t, t+1 s) over all requests to the number), vs the limit;
- lost (no request for a message), duplicates (more than one), non-2xx answers, CPU per message.

    .venv/bin/python benchmarks/sending.py --db sqlite --messages 3000 --limit 80
    .venv/bin/python benchmarks/sending.py --db postgres --messages 20000 --limit 1000
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from confirmation import (
    DEFAULT_SERVER_COMMAND,
    ORDERWIRE,
    BackendCpu,
    FakeGraph,
    Service,
    bench_cpu_seconds,
    database,
    machine_busy_seconds,
    order_body,
    percentile,
    run_cleanly,
    source_fingerprint,
)


def busiest_window(times: Sequence[float], width: float = 1.0) -> tuple[int, float]:
    """The most events in any half-open window [t, t + width), and where it starts (sliding, exact)."""
    ordered = sorted(times)
    best, start, lo = 0, math.nan, 0
    for hi, t in enumerate(ordered):
        while ordered[lo] + width <= t:  # the same float arithmetic as "t < start + width"
            lo += 1
        if hi - lo + 1 > best:
            best, start = hi - lo + 1, ordered[lo]
    return best, start


def phone(i: int, prefix: int) -> str:
    """A distinct Indian mobile number per message of one run (+9197... measured, +9196... warm-up)."""
    return f"+91{prefix}{i:08d}"


def insert_due_messages(database_url: str, count: int, prefix: int, run_tag: str) -> float:
    """`count` customers with one due confirmation each, as the order pipeline stores them; returns the
    wall-clock time of the commit (the messages are due from then on)."""
    from orderwire.bootstrap import DEFAULT_SHOP
    from orderwire.domain.lifecycle import MessageKind
    from orderwire.domain.messages import compose
    from orderwire.integrations.whatsapp.client import template_payload
    from orderwire.store.db import make_engine, sqlalchemy_url
    from orderwire.store.tables import customers, messages
    from orderwire.web.schemas import OrderIn

    now = datetime.now(UTC)
    people: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for i in range(count):
        number = phone(i, prefix)
        order = OrderIn(**order_body(i, number, run_tag)).to_event(now).order
        outbound = compose(MessageKind.CONFIRMATION, order, "", secrets.token_urlsafe(16))
        people.append(
            {"shop_id": DEFAULT_SHOP, "phone": number, "name": order.customer.name, "created_at": now}
        )
        rows.append(
            {
                "shop_id": DEFAULT_SHOP,
                "direction": "out",
                "key": f"bench:{run_tag}:{i}",
                "kind": MessageKind.CONFIRMATION.value,
                "template": outbound.template,
                "language": outbound.language,
                "payload": template_payload(number, outbound),
                "status": "scheduled",
                "send_after": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    engine = make_engine(sqlalchemy_url(database_url), pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(customers.insert(), people)
            ids = {
                number: customer_id
                for customer_id, number in conn.execute(
                    sa.select(customers.c.id, customers.c.phone).where(
                        customers.c.phone.like(f"+91{prefix}%")
                    )
                )
            }
            for person, row in zip(people, rows, strict=True):
                row["customer_id"] = ids[person["phone"]]
            conn.execute(messages.insert(), rows)
        return time.time()
    finally:
        engine.dispose()


SEND_STAGES = (("total: committed -> request at Graph", "committed", "arrived"),)


def send_stages(
    database_url: str,
    run_tag: str,
    arrived: dict[str, float],
    committed: float,
) -> str:
    """Where the messages waited, from the timestamps the service stored: per stage the median and p99
    lag, and per moment the rate at which messages passed it (the slowest one is the bottleneck)."""
    from orderwire.store.db import sqlalchemy_url
    from orderwire.store.tables import customers, messages

    moments: dict[int, dict[str, float]] = {}
    engine = sa.create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            for message_id, number in conn.execute(
                sa.select(messages.c.id, customers.c.phone)
                .join(customers, customers.c.id == messages.c.customer_id)
                .where(messages.c.key.like(f"bench:{run_tag}:%"))
            ):
                at = arrived.get(str(number).lstrip("+"))
                moments[int(message_id)] = {"committed": committed, **({"arrived": at} if at else {})}
    finally:
        engine.dispose()
    lines = [f"   {'stage':<38} {'p50 ms':>9} {'p99 ms':>9}"]
    for label, start, end in SEND_STAGES:
        spans = [(m[end] - m[start]) * 1000 for m in moments.values() if start in m and end in m]
        if spans:
            lines.append(f"   {label:<38} {percentile(spans, 50):>9.1f} {percentile(spans, 99):>9.1f}")
    rates = []
    for moment in ("arrived",):
        times = sorted(m[moment] for m in moments.values() if moment in m)
        if len(times) > 1:
            rates.append(f"{moment} {(len(times) - 1) / ((times[-1] - times[0]) or 1e-9):.1f}/s")
    lines.append(f"   messages passed each moment at: {', '.join(rates)} (first to last)")
    return "\n".join(lines)


def wait_for(graph: FakeGraph, targets: Sequence[str], timeout: float, service: Service) -> None:
    deadline = time.monotonic() + timeout
    while graph.count_arrived(targets) < len(targets) and time.monotonic() < deadline:
        if service.proc.poll() is not None:
            raise RuntimeError(f"service died:\n{service.log_tail()}")
        time.sleep(0.05)


def run(args: argparse.Namespace) -> bool:
    """One measurement; prints the report, returns whether the limit held and nothing was lost or doubled."""
    tag = f"s{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="orderwire-send-"))
    graph = FakeGraph(args.graph_latency)
    service: Service | None = None
    env = {"ORDERWIRE_WHATSAPP_RATE_PER_SECOND": str(args.limit)}
    try:
        graph.start()
        with database(args.db, tmp) as url:
            try:
                service = Service(url, graph.url, tmp, shlex.split(args.server_command), env)
                service.wait_healthy()
                insert_due_messages(url, args.warmup, 96, f"{tag}w")
                wait_for(graph, [phone(i, 96).lstrip("+") for i in range(args.warmup)], 60, service)
                backends = BackendCpu(url.rsplit("/", 1)[1]) if args.db == "postgres" else None
                if backends is not None:
                    backends.start()
                cpu0, me0, busy0 = service.cpu_seconds(), bench_cpu_seconds(graph), machine_busy_seconds()
                wall0 = time.monotonic()
                committed = insert_due_messages(url, args.messages, 97, tag)
                targets = [phone(i, 97).lstrip("+") for i in range(args.messages)]
                wait_for(graph, targets, args.messages / args.limit * 3 + 60, service)
                time.sleep(args.settle)  # late duplicates would show up here
                wall = time.monotonic() - wall0
                cpu = service.cpu_seconds() - cpu0
                pg = backends.stop() if backends is not None else math.nan
                mine = bench_cpu_seconds(graph) - me0
                busy = machine_busy_seconds() - busy0
                log = service.log_counts()
                service.stop()
                by_phone, accepted, rejected = graph.snapshot()
                firsts_by_phone = {t: min(a.at for a in by_phone[t]) for t in targets if t in by_phone}
                stages = send_stages(url, tag, firsts_by_phone, committed)
            finally:
                if service is not None:
                    service.stop()
    finally:
        graph.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    every = [a.at for arrivals in by_phone.values() for a in arrivals]
    firsts = list(firsts_by_phone.values())
    lost = len(targets) - len(firsts)
    duplicates = sum(len(by_phone[t]) - 1 for t in targets if t in by_phone)
    refused = len(targets) - len(accepted.intersection(targets))
    peak, peak_at = busiest_window(every)
    span = (max(firsts) - min(firsts)) if len(firsts) > 1 else math.nan
    pg_line = f" + its PostgreSQL backends {pg:.1f} s" if not math.isnan(pg) else ""
    n = max(1, len(firsts))
    verdict = "within the limit" if peak <= args.limit else "LIMIT EXCEEDED"
    print(
        "\n".join(
            [
                f"== sending on {args.db}: {args.messages} messages, limit {args.limit}/s, Graph latency"
                f" {args.graph_latency * 1000:.0f} ms (src {source_fingerprint()})",
                f"   throughput {(len(firsts) - 1) / span:.1f} messages/s (first to last arrival);"
                f" {len(firsts) / (max(firsts, default=committed) - committed):.1f}/s from the commit",
                f"   first request {min(firsts, default=math.nan) - committed:.2f} s after the commit,"
                f" last {max(firsts, default=math.nan) - committed:.2f} s",
                f"   busiest one-second window (sliding, all {len(every)} requests): {peak} requests,"
                f" limit {args.limit}: {verdict}"
                f" (at +{peak_at - committed:.2f} s)",
                f"   lost {lost}   duplicates {duplicates}   not answered 2xx {refused}"
                f" (non-2xx answers {rejected})",
                f"   server CPU {cpu:.1f} s = {cpu * 1000 / n:.2f} ms/message"
                f" ({cpu / wall:.0%} of one core){pg_line}",
                f"   server log: {log[0]} errors, {log[1]} warnings; benchmark itself {mine:.1f} s, other"
                f" processes on the machine {busy - cpu - mine - (0.0 if math.isnan(pg) else pg):.1f} s"
                f" (of {os.cpu_count()} x {wall:.1f} s wall)",
                stages,
            ]
        ),
        flush=True,
    )
    return peak <= args.limit and lost == 0 and duplicates == 0 and refused == 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--messages", type=int, default=3000, help="due messages inserted at once (default 3000)")
    p.add_argument("--limit", type=int, default=80, help="per-number messages/s, 1..1000 (default 80)")
    p.add_argument("--graph-latency", type=float, default=0.02, help="seconds the fake takes (default 0.02)")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured messages first")
    p.add_argument("--settle", type=float, default=2.0, help="seconds to wait for late duplicates")
    p.add_argument("--server-command", default=DEFAULT_SERVER_COMMAND)
    args = p.parse_args(argv)
    if not 1 <= args.messages <= 100_000 or not 1 <= args.limit <= 1000 or not 0 <= args.warmup <= 1000:
        p.error("--messages 1..100000, --limit 1..1000, --warmup 0..1000")
    if not 0 <= args.graph_latency <= 5:
        p.error("--graph-latency 0..5 s")
    if args.server_command == DEFAULT_SERVER_COMMAND and not ORDERWIRE.exists():
        p.error(f"{ORDERWIRE} not found: run `make install` first")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_cleanly(lambda: run(args), "server stopped, temporary files and databases removed")


if __name__ == "__main__":
    sys.exit(main())
