"""Soak: N orders through every stage in compressed time; memory of the service over time; nothing lost.

The real `orderwire serve` (web process + worker process) runs on a fresh SQLite file or PostgreSQL
database against the fake Graph server (benchmarks/confirmation.py). Each order goes through the generic
REST API exactly as a shop and a courier integration would drive it, with the days between stages
compressed to "as soon as the previous message reached WhatsApp":

    POST /api/v1/orders (prepaid, not yet paid)  -> no message
    event paid                                   -> order_confirmation
    event processing                             -> order_processing (each order is a first-time customer)
    event dispatched (AWB)                       -> order_dispatched
    event out_for_delivery                       -> order_out_for_delivery
    event delivered                              -> order_delivered
    its follow-up timer, moved to now            -> order_follow_up

`--in-flight` orders are in progress at a time (closed loop; default 50): enough to keep the service
busy. Every `--sample-every` seconds the script samples the resident memory (VmRSS) of the web process
and of its worker process; memory should be flat once warm (the report fits MB per 10,000 orders over
the samples after the first 10 % of orders). At the end it checks at the fake Graph server that every
order got each of its six messages exactly once (lost, duplicates, unexpected).

The follow-up timer is due `ORDERWIRE_FOLLOW_UP_DAYS` (3..7) after delivery; the script compresses that
wait the way the sandbox's "skip ahead" does: a thread moves every pending follow-up timer's due time to
now in the database (on SQLite it takes the write lock for a moment every 0.5 s), and the worker fires
it like any other timer. Customer replies, NDR and returns are not exercised: this is the happy path at
volume.

On a PostgreSQL server whose autovacuum is off (some test machines run that way; no deployment should,
see docs/operations.md), dead rows pile up in the queue tables and the claim queries slow down hour by
hour. The script then does autovacuum's job itself: `VACUUM (ANALYZE)` of the database every
`--vacuum-every` seconds (default 120; 0 leaves the database alone), and says so in the report.

    .venv/bin/python benchmarks/soak.py --db sqlite --orders 100000
    .venv/bin/python benchmarks/soak.py --db postgres --orders 2000 --sample-every 5   # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import shlex
import shutil
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from orderwire.app import orders
from orderwire.domain.lifecycle import FOLLOW_UP_TIMER
from orderwire.store.db import autovacuum_off, make_engine

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
    one_connection_client,
    order_body,
    percentile,
    phone_for,
    run_cleanly,
    source_fingerprint,
)

# (REST API event, the template it must cause); the order itself is posted first and causes nothing.
STAGES = (
    ({"type": "paid", "payment_id": "pay"}, "order_confirmation"),
    ({"type": "processing"}, "order_processing"),
    ({"type": "dispatched", "courier": "Delhivery Surface"}, "order_dispatched"),
    ({"type": "out_for_delivery", "location": "Indiranagar"}, "order_out_for_delivery"),
    ({"type": "delivered", "location": "Indiranagar"}, "order_delivered"),
)
FOLLOW_UP = "order_follow_up"
EXPECTED = (*(template for _, template in STAGES), FOLLOW_UP)
POST_ATTEMPTS = 3


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS from /proc/<pid>/status); NaN when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return math.nan


@dataclass
class Progress:
    """Shared between the order tasks and the memory sampler."""

    started: int = 0
    completed: int = 0  # orders whose last message (the follow-up) arrived
    api_errors: dict[str, int] = field(default_factory=dict)
    late: int = 0  # awaited messages that did not arrive within --message-timeout
    order_seconds: list[float] = field(default_factory=list)  # first POST -> follow-up at Graph


@dataclass
class Sample:
    at: float  # seconds since the start
    completed: int
    web_mb: float
    worker_mb: float


class Every:
    """Calls `step` every `seconds` on a daemon thread, from `start` until `stop`."""

    def __init__(self, seconds: float, step: Callable[[], object], name: str) -> None:
        self._seconds, self._step = seconds, step
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._seconds):
            self._step()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class Sampler:
    """Samples the service's RSS every `every` seconds on a thread."""

    def __init__(self, service: Service, progress: Progress, every: float) -> None:
        self.samples: list[Sample] = []
        self._service, self._progress = service, progress
        self._start = time.monotonic()
        self._every = Every(every, self._report, "rss-sampler")

    def sample(self) -> Sample:
        web = self._service.proc.pid
        workers = [pid for pid in self._service.pids() if pid != web]
        s = Sample(
            time.monotonic() - self._start,
            self._progress.completed,
            rss_mb(web),
            sum(rss_mb(pid) for pid in workers) if workers else math.nan,
        )
        self.samples.append(s)
        return s

    def _report(self) -> None:
        s = self.sample()
        print(
            f"   +{s.at:7.0f} s  {s.completed:>7} orders done  web {s.web_mb:6.1f} MB"
            f"  worker {s.worker_mb:6.1f} MB",
            file=sys.stderr,
            flush=True,
        )

    def start(self) -> None:
        self.sample()
        self._every.start()

    def stop(self) -> None:
        self._every.stop()
        self.sample()


def vacuum(engine: sa.Engine) -> None:
    """`VACUUM (ANALYZE)` the whole database, as autovacuum would (VACUUM runs outside a transaction)."""
    began = time.monotonic()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM (ANALYZE)"))
    print(f"   vacuumed in {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)


def follow_ups_now(engine: sa.Engine) -> None:
    """Make the pending follow-up timers due now (`orders.make_due_now`, the sandbox's "skip ahead")."""
    try:
        with engine.begin() as conn:
            orders.make_due_now(conn, datetime.now(UTC), FOLLOW_UP_TIMER)
    except sa.exc.OperationalError as exc:  # a busy database: try again next round
        print(f"   follow-ups not moved this round: {type(exc.orig).__name__}", file=sys.stderr)


async def drive(
    base_url: str,
    graph: FakeGraph,
    args: argparse.Namespace,
    tag: str,
    progress: Progress,
    orders: int,
    warmup: bool = False,
) -> None:
    """`in_flight` connections, each taking the next of `orders` orders through every stage."""
    tls = ssl.create_default_context()
    end = time.monotonic() + args.max_seconds

    async def post(client: httpx.AsyncClient, path: str, body: Mapping[str, object]) -> None:
        # A shop's platform retries a request that got no answer (the service dedupes a repeat); a
        # connection the server closed as idle just as the request went out is the usual cause here.
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                response = await client.post(path, content=json.dumps(body).encode())
                if response.status_code == 202:
                    return
                error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            label = error if attempt == POST_ATTEMPTS else f"{error} (retried)"
            progress.api_errors[label] = progress.api_errors.get(label, 0) + 1

    async def arrived(to: str, template: str) -> bool:
        deadline = time.monotonic() + args.message_timeout
        while time.monotonic() < deadline:
            if any(a.template == template for a in graph.arrivals(to)):
                return True
            await asyncio.sleep(0.05)
        progress.late += 1
        return False

    async def one_connection() -> None:
        async with one_connection_client(base_url, tls) as client:
            while progress.started < orders and time.monotonic() < end:
                i = progress.started
                progress.started += 1
                phone = phone_for(i, warmup)
                to, order_id, awb = phone.lstrip("+"), f"{tag}-{i:06d}", f"{tag.upper()}{i:07d}"
                began = time.time()
                await post(client, "/api/v1/orders", {**order_body(i, phone, tag), "paid": False})
                for event, template in STAGES:
                    body = {**event, "event_id": f"{order_id}:{event['type']}"}
                    if event["type"] not in ("paid", "processing"):
                        body["awb"] = awb
                    await post(client, f"/api/v1/orders/{order_id}/events", body)
                    await arrived(to, template)
                await arrived(to, FOLLOW_UP)
                if any(a.template == EXPECTED[-1] for a in graph.arrivals(to)):
                    progress.completed += 1
                    progress.order_seconds.append(time.time() - began)

    await asyncio.gather(*(one_connection() for _ in range(args.in_flight)))


def account(graph: FakeGraph, orders: int) -> tuple[int, int, int, int]:
    """Lost (expected, never sent), duplicates, unexpected messages, non-2xx answers, over the orders."""
    by_phone, _, rejected = graph.snapshot()
    lost = duplicates = unexpected = 0
    for i in range(orders):
        templates = [a.template for a in by_phone.get(phone_for(i).lstrip("+"), ())]
        lost += sum(1 for t in EXPECTED if t not in templates)
        duplicates += sum(max(0, templates.count(t) - 1) for t in EXPECTED)
        unexpected += sum(1 for t in templates if t not in EXPECTED)
    return lost, duplicates, unexpected, rejected


def growth_per_10k(samples: Sequence[Sample], orders: int, name: str) -> float:
    """Least-squares slope of RSS against orders completed, in MB per 10,000 orders, after the first 10 %."""
    points = [(s.completed, float(getattr(s, name))) for s in samples if s.completed >= orders * 0.1]
    points = [(x, y) for x, y in points if not math.isnan(y)]
    if len(points) < 3 or len({x for x, _ in points}) < 2:
        return math.nan
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return slope * 10_000


def run(args: argparse.Namespace) -> bool:
    tag = f"k{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="orderwire-soak-"))
    graph = FakeGraph(args.graph_latency)
    service: Service | None = None
    follow_ups: Every | None = None
    vacuums: Every | None = None
    progress = Progress()
    try:
        graph.start()
        with database(args.db, tmp) as url:
            try:
                service = Service(url, graph.url, tmp, shlex.split(args.server_command))
                service.wait_healthy()
                side = make_engine(url, pool_size=2)  # the follow-up mover and VACUUM
                follow_ups = Every(0.5, lambda: follow_ups_now(side), "follow-ups-now")
                follow_ups.start()
                if args.vacuum_every and autovacuum_off(side):
                    vacuums = Every(args.vacuum_every, lambda: vacuum(side), "vacuum")
                    vacuums.start()
                backends = BackendCpu(url.rsplit("/", 1)[1]) if args.db == "postgres" else None
                if backends is not None:
                    backends.start()
                warm_up = Progress()
                asyncio.run(drive(service.url, graph, args, f"{tag}w", warm_up, args.warmup, warmup=True))
                if warm_up.completed < args.warmup:
                    raise RuntimeError(f"warm-up orders did not complete:\n{service.log_tail()}")
                sampler = Sampler(service, progress, args.sample_every)
                cpu0, me0, busy0 = service.cpu_seconds(), bench_cpu_seconds(graph), machine_busy_seconds()
                wall0 = time.monotonic()
                sampler.start()
                try:
                    asyncio.run(drive(service.url, graph, args, tag, progress, args.orders))
                    time.sleep(args.settle)  # late duplicates would show up here
                finally:
                    sampler.stop()
                wall = time.monotonic() - wall0
                cpu = service.cpu_seconds() - cpu0
                pg = backends.stop() if backends is not None else math.nan
                mine = bench_cpu_seconds(graph) - me0
                busy = machine_busy_seconds() - busy0
                log = service.log_counts()
            finally:
                if vacuums is not None:
                    vacuums.stop()
                if follow_ups is not None:
                    follow_ups.stop()
                    side.dispose()
                if service is not None:
                    service.stop()
    finally:
        graph.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    lost, duplicates, unexpected, rejected = account(graph, progress.started)
    samples = sampler.samples
    warm = next((s for s in samples if s.completed >= progress.started * 0.1), samples[0])
    last = samples[-1]
    n = max(1, progress.completed)
    pg_line = f" + its PostgreSQL backends {pg:.1f} s" if not math.isnan(pg) else ""
    print(
        "\n".join(
            [
                f"== soak on {args.db}: {progress.started} orders started, {progress.completed} delivered"
                f" in {wall:.0f} s, {args.in_flight} in flight (src {source_fingerprint()})",
                f"   {progress.completed / wall:.1f} orders/s,"
                f" {progress.completed * len(EXPECTED) / wall:.1f} messages/s; per order (6 API calls,"
                f" {len(EXPECTED)} messages) p50 {percentile(progress.order_seconds, 50):.1f} s"
                f" p99 {percentile(progress.order_seconds, 99):.1f} s",
                f"   messages: lost {lost}   duplicates {duplicates}   unexpected {unexpected}"
                f"   non-2xx answers {rejected}"
                f"   awaited longer than {args.message_timeout:g} s {progress.late}",
                f"   API errors {sum(progress.api_errors.values())}"
                f"{f' {progress.api_errors}' if progress.api_errors else ''};"
                f" server log: {log[0]} errors, {log[1]} warnings",
                f"   RSS web process: {samples[0].web_mb:.1f} MB at start, {warm.web_mb:.1f} MB at"
                f" {warm.completed} orders, {last.web_mb:.1f} MB at the end;"
                f" slope {growth_per_10k(samples, progress.started, 'web_mb'):+.1f} MB per 10k orders",
                f"   RSS worker:      {samples[0].worker_mb:.1f} MB at start, {warm.worker_mb:.1f} MB at"
                f" {warm.completed} orders, {last.worker_mb:.1f} MB at the end;"
                f" slope {growth_per_10k(samples, progress.started, 'worker_mb'):+.1f} MB per 10k orders",
                f"   server CPU {cpu:.1f} s = {cpu * 1000 / n:.1f} ms/order{pg_line};"
                f" benchmark itself {mine:.1f} s,"
                f" other processes on the machine {busy - cpu - mine - (0.0 if math.isnan(pg) else pg):.1f} s"
                f" (of {os.cpu_count()} x {wall:.0f} s wall); {len(samples)} memory samples",
                *(
                    [
                        "   PostgreSQL's autovacuum is off: the script ran VACUUM (ANALYZE)"
                        f" every {args.vacuum_every:g} s"
                    ]
                    if vacuums is not None
                    else []
                ),
            ]
        ),
        flush=True,
    )
    if args.samples_csv is not None:
        with args.samples_csv.open("w", encoding="utf-8") as f:
            f.write("seconds,orders_completed,web_rss_mb,worker_rss_mb\n")
            f.writelines(f"{s.at:.1f},{s.completed},{s.web_mb:.1f},{s.worker_mb:.1f}\n" for s in samples)
    failed = [k for k in progress.api_errors if not k.endswith("(retried)")]
    clean = not (lost or duplicates or unexpected or rejected or failed)
    return clean and progress.completed == progress.started


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--orders", type=int, default=100_000, help="orders (default 100000)")
    p.add_argument("--in-flight", type=int, default=50, help="orders in progress at a time (default 50)")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured orders through every stage first")
    p.add_argument("--sample-every", type=float, default=10.0, help="seconds between RSS samples")
    p.add_argument("--message-timeout", type=float, default=60.0, help="seconds to await each message")
    p.add_argument("--max-seconds", type=float, default=6 * 3600, help="start no order after this (6 h)")
    p.add_argument("--graph-latency", type=float, default=0.0, help="seconds the fake takes to answer")
    p.add_argument("--settle", type=float, default=3.0, help="seconds to wait for late duplicates")
    p.add_argument("--samples-csv", type=Path, help="write the RSS samples to this CSV file")
    p.add_argument(
        "--vacuum-every",
        type=float,
        default=120.0,
        help="seconds between VACUUMs when autovacuum is off (0: none)",
    )
    p.add_argument("--server-command", default=DEFAULT_SERVER_COMMAND)
    args = p.parse_args(argv)
    if not 1 <= args.orders <= 100_000 or not 1 <= args.in_flight <= 1000 or not 1 <= args.warmup <= 1000:
        p.error("--orders 1..100000, --in-flight 1..1000, --warmup 1..1000")
    if not 0.5 <= args.sample_every <= 600 or not 1 <= args.message_timeout <= 600:
        p.error("--sample-every 0.5..600, --message-timeout 1..600")
    if not 1 <= args.max_seconds <= 24 * 3600 or not 0 <= args.graph_latency <= 5:
        p.error("--max-seconds 1..86400, --graph-latency 0..5")
    if args.vacuum_every and not 10 <= args.vacuum_every <= 3600:
        p.error("--vacuum-every 0 or 10..3600")
    if args.server_command == DEFAULT_SERVER_COMMAND and not ORDERWIRE.exists():
        p.error(f"{ORDERWIRE} not found: run `make install` first")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_cleanly(lambda: run(args), "server stopped, temporary files and databases removed")


if __name__ == "__main__":
    sys.exit(main())
