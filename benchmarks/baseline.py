"""The no-durability ceiling: the least a service can do per order, to compare Orderwire with.

A minimal app (Starlette on uvicorn, one process, no database) that, per order webhook:
verifies its HMAC-SHA256 signature (X-Hub-Signature-256, constant-time compare), parses the JSON, composes
the confirmation with Orderwire's own pure functions (the API's order schema, `compose`, `template_payload`:
the same work the service does, minus storing anything), forwards it with one POST to the fake Graph
server and answers 200 once Graph accepted it (502 otherwise). Nothing is stored, retried or paced: a
crash loses everything in flight. That is the ceiling; Orderwire's orders/s and CPU per order divided
by this script's are the price of durability and of the rest of its machinery.

The load is closed loop by default (`--concurrency` connections each sending the next order as soon as
the last was answered, for `--duration` seconds: the most it sustains), or open loop with `--rate`.
Reported: orders/s acknowledged, ack latency, CPU ms per order of the app process, requests at the fake
(each order must arrive exactly once) and how busy the machine was.

    .venv/bin/python benchmarks/baseline.py --concurrency 64 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from confirmation import (
    PHONE_NUMBER_ID,
    FakeGraph,
    Post,
    Sent,
    bench_cpu_seconds,
    closed_loop,
    free_port,
    machine_busy_seconds,
    order_body,
    percentile,
    phone_for,
    proc_cpu_seconds,
    replay_posts,
    run_cleanly,
)

SECRET = b"baseline-secret"
SIGNATURE_HEADER = "x-hub-signature-256"


def sign(raw: bytes) -> str:
    """The signature header for a body."""
    return "sha256=" + hmac.new(SECRET, raw, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------------
# The app (runs in its own process: `baseline.py --app`)


def serve_app(port: int, graph_url: str) -> None:
    """Run the minimal app on 127.0.0.1:port until SIGTERM."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from orderwire.domain.lifecycle import MessageKind
    from orderwire.domain.messages import compose
    from orderwire.integrations.whatsapp.client import template_payload
    from orderwire.web.schemas import OrderIn

    client = httpx.AsyncClient(
        base_url=graph_url,
        headers={"Authorization": "Bearer baseline-token"},
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        timeout=10.0,
    )

    async def order(request: Request) -> Response:
        raw = await request.body()
        if not hmac.compare_digest(request.headers.get(SIGNATURE_HEADER, ""), sign(raw)):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        try:
            placed = OrderIn.model_validate_json(raw).to_event(datetime.now(UTC)).order
        except ValueError as exc:
            return JSONResponse({"error": str(exc)[:200]}, status_code=422)
        message = compose(MessageKind.CONFIRMATION, placed, "", secrets.token_urlsafe(16))
        payload = template_payload(placed.customer.phone, message)
        answer = await client.post(f"/{PHONE_NUMBER_ID}/messages", json=payload)
        if not answer.is_success:
            return JSONResponse({"error": f"graph answered {answer.status_code}"}, status_code=502)
        return JSONResponse({"status": "ok"})

    async def healthz(_: Request) -> Response:
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/orders", order, methods=["POST"]), Route("/healthz", healthz)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --------------------------------------------------------------------------------------------------
# The measurement


def start_app(graph_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--app", "--port", str(port), "--graph-url", graph_url],
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"baseline app exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("baseline app not healthy within 60 s")


def post_for(i: int, tag: str, warm: bool = False) -> Post:
    raw = json.dumps(order_body(i, phone_for(i, warm), tag)).encode()
    return Post("/orders", raw, {SIGNATURE_HEADER: sign(raw)})


def run(args: argparse.Namespace) -> bool:
    tag = f"z{secrets.token_hex(3)}"
    graph = FakeGraph(args.graph_latency)
    proc: subprocess.Popen[bytes] | None = None
    try:
        graph.start()
        proc, url = start_app(graph.url)
        warm = [post_for(i, f"{tag}w", warm=True) for i in range(args.warmup)]
        asyncio.run(replay_posts(url, warm, ["warm-up"] * len(warm), 50.0, 4))
        cpu0, me0, busy0 = proc_cpu_seconds(proc.pid), bench_cpu_seconds(graph), machine_busy_seconds()
        wall0 = time.monotonic()
        if args.rate:
            count = max(1, round(args.rate * args.duration))
            posts = [post_for(i, tag) for i in range(count)]
            records = asyncio.run(
                replay_posts(url, posts, [str(i) for i in range(count)], args.rate, args.concurrency)
            )
        else:
            records = asyncio.run(
                closed_loop(
                    url, lambda i: post_for(i, tag), args.concurrency, args.duration, args.max_requests
                )
            )
        wall = time.monotonic() - wall0
        cpu = proc_cpu_seconds(proc.pid) - cpu0
        mine = bench_cpu_seconds(graph) - me0
        busy = machine_busy_seconds() - busy0
        time.sleep(0.5)  # the fake forwards what it saw every 20 ms
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        graph.stop()
    return report(args, records, graph, cpu, mine, busy, wall)


def report(
    args: argparse.Namespace,
    records: list[Sent],
    graph: FakeGraph,
    cpu: float,
    mine: float,
    busy: float,
    wall: float,
) -> bool:
    by_phone, _, rejected = graph.snapshot()
    acked = [r for r in records if r.status == 200]
    phones = [phone_for(int(r.phone)).lstrip("+") for r in acked]
    arrived = sum(1 for p in phones if p in by_phone)
    duplicates = sum(max(0, len(by_phone.get(p, ())) - 1) for p in phones)
    latencies = [(r.acked - r.sent) * 1000 for r in acked]
    first, last = min(r.sent for r in records), max(r.acked for r in records)
    n = max(1, len(acked))
    errors: dict[str, int] = {}
    for r in records:
        if r.status != 200:
            errors[r.error] = errors.get(r.error, 0) + 1
    mode = f"open loop {args.rate:g}/s" if args.rate else f"closed loop, concurrency {args.concurrency}"
    print(
        "\n".join(
            [
                f"== baseline (no database), {mode}, {args.duration:g} s,"
                f" Graph latency {args.graph_latency * 1000:.0f} ms",
                f"   acknowledged {len(acked)} of {len(records)} orders:"
                f" {len(acked) / ((last - first) or 1e-9):.1f}/s",
                f"   ack latency  p50 {percentile(latencies, 50):.1f} ms"
                f"  p90 {percentile(latencies, 90):.1f} ms  p99 {percentile(latencies, 99):.1f} ms"
                f"  max {max(latencies, default=math.nan):.1f} ms",
                f"   at the fake Graph: {arrived} of {len(acked)} acknowledged orders,"
                f" duplicates {duplicates},"
                f" non-2xx answers {rejected}; errors {sum(errors.values())}{f' {errors}' if errors else ''}",
                f"   app CPU {cpu:.1f} s = {cpu * 1000 / n:.2f} ms/order ({cpu / wall:.0%} of one core)",
                f"   benchmark itself (load generator + fake Graph) {mine:.1f} s,"
                f" other processes on the machine {busy - cpu - mine:.1f} s"
                f" (of {os.cpu_count()} x {wall:.1f} s wall)",
            ]
        ),
        flush=True,
    )
    return len(acked) == len(records) and arrived == len(acked) and duplicates == 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concurrency", type=int, default=64, help="connections (closed loop; default 64)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of sending (default 30)")
    p.add_argument("--rate", type=float, default=0.0, help="orders/s, open loop (default: closed loop)")
    p.add_argument("--max-requests", type=int, default=200_000, help="closed loop: stop after this many")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured orders first")
    p.add_argument("--graph-latency", type=float, default=0.0, help="seconds the fake takes to answer")
    p.add_argument("--app", action="store_true", help=argparse.SUPPRESS)  # run the app itself (child process)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--graph-url", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not 1 <= args.concurrency <= 1024 or not 0 < args.duration <= 600 or not 0 <= args.rate <= 5000:
        p.error("--concurrency 1..1024, --duration (0, 600], --rate [0, 5000]")
    bounded = 1 <= args.max_requests <= 1_000_000 and 0 <= args.warmup <= 1000
    if not bounded or not 0 <= args.graph_latency <= 5:
        p.error("--max-requests 1..1000000, --warmup 0..1000, --graph-latency 0..5")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.app:
        serve_app(args.port, args.graph_url)
        return 0
    return run_cleanly(lambda: run(args), "app and fake Graph stopped")


if __name__ == "__main__":
    sys.exit(main())
