"""Webhook ingestion: acknowledgements per second and ack latency of the store-then-ack path.

A vendor webhook is verified, stored (raw body + job, one transaction) and acknowledged; the work it
causes happens later, off the request. This measures that path alone, on the real `orderwire serve`
process (benchmarks/confirmation.py's Service) with a fresh SQLite file or PostgreSQL database:

- closed loop (default): `--concurrency` connections each send the next webhook as soon as the last
  was answered, for `--duration` seconds: the most the service acknowledges;
- open loop (`--rate R`): webhook i is sent at start + i/R for `--duration` seconds: ack latency at a
  given load.

Every webhook is correctly signed and distinct (its own AWB or message id, so none is a redelivery).
After the run the script counts the rows the service stored for the kind (`inbound` table): every
acknowledged webhook must be there ("lost"), and none twice.

The webhook kind is pluggable (`--webhook`, see KINDS): a courier's (Shiprocket: `x-api-key` token) or
WhatsApp's status webhook (X-Hub-Signature-256, HMAC-SHA256 with the app secret). A kind is a name,
the settings it needs, and a function building request i.

    .venv/bin/python benchmarks/ingestion.py --db sqlite --webhook shiprocket --concurrency 32 --duration 30
    .venv/bin/python benchmarks/ingestion.py --db postgres --webhook whatsapp-status --rate 200 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import math
import os
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from confirmation import (
    DEFAULT_SERVER_COMMAND,
    ORDERWIRE,
    BackendCpu,
    FakeGraph,
    Post,
    Sent,
    Service,
    bench_cpu_seconds,
    closed_loop,
    database,
    machine_busy_seconds,
    percentile,
    proc_cpu_seconds,
    replay_posts,
    run_cleanly,
    source_fingerprint,
)

APP_SECRET = "bench-app-secret"  # noqa: S105 - confirmation.Service configures it (loopback only)
SHIPROCKET_TOKEN = "bench-shiprocket-token"  # noqa: S105 - set below for the service (loopback only)
IST = timedelta(hours=5, minutes=30)


@dataclass(frozen=True)
class WebhookKind:
    """A webhook the service accepts: its settings, the `inbound.source` it is stored under, request i."""

    env: dict[str, str]
    source: str
    build: Callable[[int, str], Post]


def shiprocket_post(i: int, tag: str) -> Post:
    """Shiprocket's documented tracking webhook for parcel i (in transit), with the `x-api-key` token."""
    from tests.support.couriers import shiprocket_scan, shiprocket_webhook

    at = (datetime.now(UTC) + IST).replace(tzinfo=None)  # Shiprocket writes India time without an offset
    body = shiprocket_webhook(f"{tag}{i:07d}", [shiprocket_scan(18, "IN TRANSIT", at, "Hosur")], f"{tag}-{i}")
    return Post("/webhooks/shiprocket", json.dumps(body).encode(), {"x-api-key": SHIPROCKET_TOKEN})


@functools.cache
def status_fixture() -> str:
    """Meta's documented status webhook, as JSON text (read once)."""
    from tests.support.couriers import fixture

    return json.dumps(fixture("whatsapp", "statuses.json"))


def whatsapp_status_post(i: int, tag: str) -> Post:
    """Meta's documented status webhook: one 'delivered' status, its own wamid, signed with the app secret."""
    from orderwire.integrations.whatsapp.webhook import SIGNATURE_HEADER, signature_for

    body = json.loads(status_fixture())
    value = body["entry"][0]["changes"][0]["value"]
    status = value["statuses"][0]
    status.update(id=f"wamid.{tag}{i:09d}", timestamp=str(int(time.time())), recipient_id=f"9198{i:08d}")
    value["statuses"] = [status]
    raw = json.dumps(body).encode()
    return Post("/webhooks/whatsapp", raw, {SIGNATURE_HEADER: signature_for(APP_SECRET, raw)})


# Payment webhooks (being added elsewhere) plug in here: settings, inbound source, builder.
KINDS: dict[str, WebhookKind] = {
    "shiprocket": WebhookKind(
        {"ORDERWIRE_SHIPROCKET_WEBHOOK_TOKEN": SHIPROCKET_TOKEN}, "shiprocket", shiprocket_post
    ),
    "whatsapp-status": WebhookKind({}, "whatsapp", whatsapp_status_post),
}


def stored_count(database_url: str, source: str) -> int:
    """Webhooks of this source the service stored."""
    from orderwire.store.db import sqlalchemy_url
    from orderwire.store.tables import inbound

    engine = sa.create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            count = conn.execute(sa.select(sa.func.count()).where(inbound.c.source == source)).scalar_one()
            return int(count)
    finally:
        engine.dispose()


def run(args: argparse.Namespace) -> bool:
    """One measurement; prints the report and returns whether nothing was lost or refused."""
    kind = KINDS[args.webhook]
    tag = f"i{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="orderwire-ingest-"))
    graph = FakeGraph(0.0)  # the service needs a Graph API; ingestion sends nothing to it
    service: Service | None = None
    try:
        graph.start()
        with database(args.db, tmp) as url:
            try:
                service = Service(url, graph.url, tmp, shlex.split(args.server_command), kind.env)
                service.wait_healthy()
                warm = [kind.build(10_000_000 + i, tag) for i in range(args.warmup)]
                asyncio.run(replay_posts(service.url, warm, ["warm-up"] * len(warm), 50.0, 4))
                backends = BackendCpu(url.rsplit("/", 1)[1]) if args.db == "postgres" else None
                if backends is not None:
                    backends.start()
                web0, cpu0, busy0 = (
                    proc_cpu_seconds(service.proc.pid),
                    service.cpu_seconds(),
                    machine_busy_seconds(),
                )
                me0 = bench_cpu_seconds(graph)
                wall0 = time.monotonic()
                if args.rate:
                    count = max(1, round(args.rate * args.duration))
                    posts = [kind.build(i, tag) for i in range(count)]
                    records = asyncio.run(
                        replay_posts(
                            service.url, posts, [str(i) for i in range(count)], args.rate, args.concurrency
                        )
                    )
                else:
                    records = asyncio.run(
                        closed_loop(
                            service.url,
                            lambda i: kind.build(i, tag),
                            args.concurrency,
                            args.duration,
                            args.max_requests,
                        )
                    )
                wall = time.monotonic() - wall0
                web, cpu = proc_cpu_seconds(service.proc.pid) - web0, service.cpu_seconds() - cpu0
                pg = backends.stop() if backends is not None else math.nan
                busy = machine_busy_seconds() - busy0
                mine = bench_cpu_seconds(graph) - me0
                stored = stored_count(url, kind.source) - len(warm)
                errors = service.log_counts()
            finally:
                if service is not None:
                    service.stop()
    finally:
        graph.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(describe(args, records, stored, web, cpu, pg, busy, mine, wall, errors), flush=True)
    acked = sum(1 for r in records if 200 <= r.status < 300)
    return acked == len(records) and stored == acked


def describe(
    args: argparse.Namespace,
    records: Sequence[Sent],
    stored: int,
    web_cpu: float,
    cpu: float,
    pg_cpu: float,
    busy: float,
    mine: float,
    wall: float,
    log: tuple[int, int],
) -> str:
    acked = [r for r in records if 200 <= r.status < 300]
    latencies = [(r.acked - r.sent) * 1000 for r in acked]
    first, last = min(r.sent for r in records), max(r.acked for r in records)
    errors: dict[str, int] = {}
    for r in records:
        if not 200 <= r.status < 300:
            errors[r.error] = errors.get(r.error, 0) + 1
    mode = f"open loop {args.rate:g}/s" if args.rate else f"closed loop, concurrency {args.concurrency}"
    n = max(1, len(acked))
    pg = (
        f", its PostgreSQL backends {pg_cpu:.1f} s = {pg_cpu * 1000 / n:.2f} ms/webhook"
        if not math.isnan(pg_cpu)
        else ""
    )
    lines = [
        f"== ingestion {args.webhook} on {args.db}, {mode}, {args.duration:g} s (src {source_fingerprint()})",
        f"   acknowledged {len(acked)} of {len(records)} webhooks:"
        f" {len(acked) / ((last - first) or 1e-9):.1f}/s",
        f"   ack latency  p50 {percentile(latencies, 50):.1f} ms  p90 {percentile(latencies, 90):.1f} ms"
        f"  p99 {percentile(latencies, 99):.1f} ms  max {max(latencies, default=math.nan):.1f} ms",
        f"   stored {stored} (acknowledged but not stored: {max(0, len(acked) - stored)}; "
        f"stored more than acknowledged: {max(0, stored - len(acked))})"
        f"   errors {sum(errors.values())}{f' {errors}' if errors else ''}",
        f"   server CPU {cpu:.1f} s = {cpu * 1000 / n:.2f} ms/webhook"
        f" (web process {web_cpu * 1000 / n:.2f} ms, the rest is the worker){pg}",
        f"   server log: {log[0]} errors, {log[1]} warnings; benchmark itself {mine:.1f} s, other processes"
        f" on the machine {busy - cpu - mine - (0.0 if math.isnan(pg_cpu) else pg_cpu):.1f} s"
        f" (of {os.cpu_count()} x {wall:.1f} s wall)",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--webhook", choices=sorted(KINDS), default="shiprocket")
    p.add_argument(
        "--concurrency", type=int, default=32, help="connections (closed loop: all busy; default 32)"
    )
    p.add_argument("--duration", type=float, default=30.0, help="seconds of sending (default 30)")
    p.add_argument("--rate", type=float, default=0.0, help="webhooks/s, open loop (default: closed loop)")
    p.add_argument("--max-requests", type=int, default=200_000, help="closed loop: stop after this many")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured webhooks first")
    p.add_argument("--server-command", default=DEFAULT_SERVER_COMMAND)
    args = p.parse_args(argv)
    if not 1 <= args.concurrency <= 1024 or not 0 < args.duration <= 600 or not 0 <= args.rate <= 2000:
        p.error("--concurrency 1..1024, --duration (0, 600], --rate [0, 2000]")
    if not 1 <= args.max_requests <= 1_000_000 or not 0 <= args.warmup <= 1000:
        p.error("--max-requests 1..1000000, --warmup 0..1000")
    if args.server_command == DEFAULT_SERVER_COMMAND and not ORDERWIRE.exists():
        p.error(f"{ORDERWIRE} not found: run `make install` first")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_cleanly(lambda: run(args), "server stopped, temporary files and databases removed")


if __name__ == "__main__":
    sys.exit(main())
