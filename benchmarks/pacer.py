"""The send pacer alone: does `sending.Pacer` keep every one-second window at or under the limit?

No service: `--threads` threads (the send queue runs 32) share one `Pacer(--limit)`, as the worker's
send threads do (with `--db postgres`, the `SharedPacer` every process on one PostgreSQL shares, on a
fresh database); each takes its slot, notes the moment it got to run (the grant) and POSTs a
confirmation to the fake Graph server (benchmarks/confirmation.py), which notes the arrival. The report
gives the busiest sliding one-second window of the grants and of the arrivals, against the limit, and how
long after its grant each request arrived. Since the pacer is the only rate control between the send
queue and Meta, a busiest window above the limit here is one in production too.

    .venv/bin/python benchmarks/pacer.py --threads 32 --limit 80 --requests 1200
    .venv/bin/python benchmarks/pacer.py --db postgres --limit 1000 --requests 3000   # grants per second
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from orderwire.app.sending import Pacer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from confirmation import PHONE_NUMBER_ID, FakeGraph, database, order_body, percentile
from sending import busiest_window


def payloads(count: int) -> list[dict[str, object]]:
    """Confirmation bodies as the service composes them, one recipient each (+9195...)."""
    from orderwire.domain.lifecycle import MessageKind
    from orderwire.domain.messages import compose
    from orderwire.integrations.whatsapp.client import template_payload
    from orderwire.web.schemas import OrderIn

    now = datetime.now(UTC)
    bodies = []
    for i in range(count):
        order = OrderIn(**order_body(i, f"+9195{i:08d}", "pacer")).to_event(now).order
        bodies.append(
            template_payload(order.customer.phone, compose(MessageKind.CONFIRMATION, order, "", "t"))
        )
    return bodies


def run(args: argparse.Namespace) -> bool:
    if args.db == "memory":
        from orderwire.app.sending import Pacer

        return measure(args, Pacer(args.limit))
    from orderwire.app.sending import SharedPacer
    from orderwire.store.db import make_engine, migrate

    with tempfile.TemporaryDirectory() as tmp, database(args.db, Path(tmp)) as url:
        migrate(url)
        engine = make_engine(url)
        try:
            return measure(args, SharedPacer(engine, "whatsapp:pacer", args.limit))
        finally:
            engine.dispose()


def measure(args: argparse.Namespace, pacer: Pacer) -> bool:
    """Send `--requests` requests from `--threads` threads through `pacer`; report the busiest windows."""
    bodies = payloads(args.requests)
    graph = FakeGraph(args.graph_latency)
    grants: list[float] = []
    lock = threading.Lock()
    queue = iter(range(args.requests))

    def sender() -> None:
        with httpx.Client(
            base_url=graph.url, headers={"Authorization": "Bearer pacer"}, timeout=10
        ) as client:
            while True:
                with lock:
                    i = next(queue, None)
                if i is None:
                    return
                pacer.wait()
                granted = time.time()
                with lock:
                    grants.append(granted)
                client.post(f"/{PHONE_NUMBER_ID}/messages", json=bodies[i])

    graph.start()
    try:
        threads = [threading.Thread(target=sender, daemon=True) for _ in range(args.threads)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
        time.sleep(0.5)  # the fake forwards what it saw every 20 ms
        arrivals = sorted(a.at for seen in graph.snapshot()[0].values() for a in seen)
    finally:
        graph.stop()
    granted_peak, arrived_peak = busiest_window(grants)[0], busiest_window(arrivals)[0]
    lags = [
        (a - g) * 1000 for a, g in zip(arrivals, sorted(grants), strict=False)
    ]  # k-th grant, k-th arrival
    print(
        f"== {type(pacer).__name__}, {args.threads} threads, limit {args.limit}/s,"
        f" {args.requests} requests in {wall:.1f} s"
        f" ({len(arrivals)} arrived, {len(arrivals) / wall:.0f}/s)\n"
        f"   busiest one-second window (sliding): grants {granted_peak}, arrivals {arrived_peak},"
        f" limit {args.limit}: {'within the limit' if arrived_peak <= args.limit else 'LIMIT EXCEEDED'}\n"
        f"   k-th arrival after k-th grant: p50 {percentile(lags, 50):.1f} ms"
        f"  p99 {percentile(lags, 99):.1f} ms  max {max(lags, default=float('nan')):.1f} ms",
        flush=True,
    )
    return bool(arrived_peak <= args.limit and len(arrivals) == args.requests)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--threads", type=int, default=32, help="threads sharing the pacer (default 32, as the queue)"
    )
    p.add_argument("--db", choices=("memory", "postgres"), default="memory", help="the pacer's state")
    p.add_argument("--limit", type=int, default=80, help="per-number messages/s (default 80)")
    p.add_argument("--requests", type=int, default=1200, help="requests in all (default 1200)")
    p.add_argument("--graph-latency", type=float, default=0.02, help="seconds the fake takes (default 0.02)")
    args = p.parse_args(argv)
    if not 1 <= args.threads <= 256 or not 1 <= args.limit <= 1000 or not 1 <= args.requests <= 20_000:
        p.error("--threads 1..256, --limit 1..1000, --requests 1..20000")
    if not 0 <= args.graph_latency <= 5:
        p.error("--graph-latency 0..5 s")
    return 0 if run(args) else 1


if __name__ == "__main__":
    sys.exit(main())
