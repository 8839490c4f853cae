"""Confirmation latency and throughput of the real service, end to end, on loopback only.

What it does, for each run:

1. starts a fake Graph API server (tests/support/graph_server.py) in a child process; it records the
   wall-clock arrival time of every Cloud API request and streams (to, template, time) back here;
2. starts the real service as its own process, `.venv/bin/orderwire serve --port P`, on a fresh SQLite
   file (temp dir) or a fresh PostgreSQL database (`bench_<random>`), pointed at the fake;
3. waits for GET /healthz, sends a few unmeasured warm-up orders, then replays N prepaid, paid orders
   at R orders/s on an open-loop schedule (order i is sent at start + i/R whatever happened before),
   each with its own customer phone;
4. per order, confirmation latency = arrival of the Cloud API request for that phone at the fake
   minus the moment the API request was sent; it also reports the API's acknowledgement latency,
   throughput, lost and duplicate confirmations and the CPU the server process used (/proc/<pid>/stat),
   with PostgreSQL the CPU of the backends serving the run's database, and how busy the rest of the
   machine was (it is shared: compare runs only when that number is small); for overload, the
   confirmations per second while orders were offered, the backlog when the offer stopped and the rate
   it drained at afterwards (benchmarks/overload.py runs this at twice the sustainable rate);
5. unless --no-breakdown, splits the latency into stages from the timestamps the service itself wrote
   (jobs: stored, applied), which shows where orders wait.

With --repeat K each run gets a fresh database and server; the last line gives the medians over runs.
Everything is stopped and deleted at the end, also on Ctrl-C or errors.

    .venv/bin/python benchmarks/confirmation.py --db sqlite --orders 1500 --rate 50 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import hashlib
import itertools
import json
import math
import multiprocessing as mp
import os
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # `tests.support.graph_server` is imported from the repo checkout

ORDERWIRE = REPO / ".venv" / "bin" / "orderwire"
DEFAULT_SERVER_COMMAND = f"{shlex.quote(str(ORDERWIRE))} serve"
POSTGRES_ADMIN_URL = os.environ.get(
    "ORDERWIRE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
API_KEY = "bench-api-key"
PHONE_NUMBER_ID = "106540352242922"
CONFIRMATION_TEMPLATE = "order_confirmation"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MAX_ORDERS = 100_000
MAX_RATE = 2_000.0


# --------------------------------------------------------------------------------------------------
# The fake Graph server, in a child process so that its work and the load generator's do not share a GIL


@dataclass(frozen=True)
class Arrival:
    """One Cloud API request as the fake server saw it."""

    to: str
    template: str
    at: float  # wall clock (time.time()) when the fake read the request


def _graph_child(out: Connection, stop: MpEvent, latency: float) -> None:
    """Child process: run GraphServer, forward each request and each answer's status every 20 ms."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    from starlette.requests import Request
    from starlette.responses import Response
    from tests.support.graph_server import GraphServer

    answers: list[tuple[str, int]] = []

    class AnsweringGraphServer(GraphServer):
        """GraphServer that also remembers the HTTP status it answered to each recipient."""

        async def _send(self, request: Request) -> Response:  # type: ignore[override]
            response = await super()._send(request)
            body = json.loads(await request.body())
            with self._lock:
                answers.append((str(body.get("to", "")), response.status_code))
            return response

    with AnsweringGraphServer(latency=latency) as graph:
        out.send(("ready", graph.url))
        forwarded = answered = 0
        while True:
            stopping = stop.wait(0.02)
            with graph._lock:
                new = graph.requests[forwarded:]
                statuses = answers[answered:]
            forwarded, answered = forwarded + len(new), answered + len(statuses)
            if new:
                batch = []
                for r in new:
                    template = r.body.get("template") or {}
                    batch.append((str(r.body.get("to", "")), str(template.get("name", "")), r.at))
                out.send(("arrivals", batch))
            if statuses:
                out.send(("answers", statuses))
            if stopping:
                break
    out.send(("stopped", None))
    out.close()


class FakeGraph:
    """Parent side of the fake: start, collect arrivals by recipient, stop."""

    def __init__(self, latency: float) -> None:
        ctx = mp.get_context("spawn")
        self._recv, send = ctx.Pipe(duplex=False)
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_graph_child, args=(send, self._stop, latency), daemon=True)
        self._send_end = send
        self._lock = threading.Lock()
        self.by_phone: dict[str, list[Arrival]] = {}
        self.accepted: set[str] = set()  # recipients the fake answered 2xx at least once
        self.rejected = 0  # non-2xx answers
        self.url = ""
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        self._proc.start()
        self._send_end.close()  # only the child writes
        if not self._recv.poll(30):
            raise RuntimeError("fake Graph server did not start")
        kind, url = self._recv.recv()
        assert kind == "ready"
        self.url = str(url)
        self._reader = threading.Thread(target=self._read, name="graph-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                kind, payload = self._recv.recv()
            except (EOFError, OSError):
                return
            if kind == "stopped":
                return
            with self._lock:
                if kind == "arrivals":
                    for to, template, at in payload:
                        self.by_phone.setdefault(to, []).append(Arrival(to, template, at))
                else:
                    for to, status in payload:
                        if 200 <= status < 300:
                            self.accepted.add(to)
                        else:
                            self.rejected += 1

    @property
    def pid(self) -> int:
        assert self._proc.pid is not None
        return self._proc.pid

    def arrivals(self, to: str) -> list[Arrival]:
        with self._lock:
            return list(self.by_phone.get(to, ()))

    def count_arrived(self, phones: Sequence[str]) -> int:
        with self._lock:
            return sum(1 for p in phones if p in self.by_phone)

    def snapshot(self) -> tuple[dict[str, list[Arrival]], set[str], int]:
        """Arrivals by recipient, recipients answered 2xx, and how many answers were not 2xx."""
        with self._lock:
            return {k: list(v) for k, v in self.by_phone.items()}, set(self.accepted), self.rejected

    def stop(self) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.join(timeout=10)
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=5)
        self._recv.close()


# --------------------------------------------------------------------------------------------------
# Databases, the service process, CPU accounting


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A fresh database URL for one run; a PostgreSQL database is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp}/orderwire.db"
        return
    name = f"bench_{secrets.token_hex(6)}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
            yield f"{base}/{name}"
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
        fields = f.read().rpartition(")")[2].split()
    # after the ")" that closes comm, fields[0] is field 3 (state): utime (14) and stime (15) are 11 and 12
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def child_pids(pid: int) -> list[int]:
    """Direct children of a process, from /proc/<pid>/task/*/children."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(FileNotFoundError):
            found += [int(c) for c in task.read_text().split()]
    return found


class BackendCpu:
    """CPU of the PostgreSQL backends serving one database, sampled every 0.25 s from /proc.

    A backend's process title names its database; one that exits between samples loses at most its
    last 0.25 s. Other databases on the same server (other users of the machine) are not counted.
    """

    def __init__(self, database_name: str) -> None:
        self._needle = f" {database_name} ".encode()
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="backend-cpu", daemon=True)

    def _scan(self, baseline: bool) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if self._needle not in f.read().replace(b"\0", b" ") + b" ":
                        continue
                cpu = proc_cpu_seconds(pid)
            except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError, ValueError):
                continue
            self._first.setdefault(pid, cpu if baseline else 0.0)
            self._last[pid] = cpu

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            self._scan(baseline=False)

    def start(self) -> None:
        self._scan(baseline=True)
        self._thread.start()

    def stop(self) -> float:
        """Stop sampling; CPU seconds used since start."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._scan(baseline=False)
        return sum(self._last[pid] - self._first[pid] for pid in self._last)


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: everything but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK


class Service:
    """`orderwire serve` as a separate process, in its own session (Ctrl-C here is ours to handle)."""

    def __init__(
        self,
        database_url: str,
        graph_url: str,
        tmp: Path,
        command: Sequence[str],
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "server.log"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("ORDERWIRE_")}
        env = {
            **inherited,  # no stray ORDERWIRE_* setting of the caller's shell changes what is measured
            "ORDERWIRE_DATABASE_URL": database_url,
            "ORDERWIRE_PUBLIC_URL": self.url,
            "ORDERWIRE_WHATSAPP_API_URL": graph_url,
            "ORDERWIRE_WHATSAPP_TOKEN": "bench-graph-token",
            "ORDERWIRE_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "ORDERWIRE_WHATSAPP_APP_SECRET": "bench-app-secret",
            "ORDERWIRE_WHATSAPP_VERIFY_TOKEN": "bench-verify-token",
            "ORDERWIRE_API_KEY": API_KEY,
            "ORDERWIRE_WHATSAPP_RATE_PER_SECOND": "1000",
            "ORDERWIRE_QUIET_HOURS_START": "0",
            "ORDERWIRE_QUIET_HOURS_END": "0",
            **(extra_env or {}),  # e.g. a webhook secret, or the per-number rate a benchmark measures
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                r = httpx.get(f"{self.url}/healthz", timeout=2)
                if r.status_code == 200:
                    if r.json().get("sandbox"):
                        raise RuntimeError("service runs in sandbox mode; the fake Graph server is unused")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"service not healthy within {timeout}s:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        """The web process and its live child processes (`serve` runs its worker as a child)."""
        return [self.proc.pid, *child_pids(self.proc.pid)]

    def cpu_seconds(self) -> float:
        """CPU of the web process and its live child processes."""
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                total += proc_cpu_seconds(pid)
        return total

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def log_counts(self) -> tuple[int, int]:
        """Lines in the server log reporting an error (or a traceback), and warnings."""
        self._log.flush()
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        errors = sum(1 for line in lines if " ERROR " in line or line.startswith("Traceback"))
        return errors, sum(1 for line in lines if " WARNING " in line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # uvicorn shuts down gracefully (pump, sends in flight)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


# --------------------------------------------------------------------------------------------------
# Load


def phone_for(i: int, warmup: bool = False) -> str:
    """A distinct, valid Indian mobile number per order (+9198... measured, +9199... warm-up)."""
    return f"+91{99 if warmup else 98}{i:08d}"


CITIES = ("Bengaluru", "Mumbai", "Pune", "Chennai", "Jaipur", "Kochi")
NAMES = ("Asha Rao", "Vikram Singh", "Meera Iyer", "Rahul Verma", "Fatima Khan", "Arjun Nair")


def order_body(i: int, phone: str, tag: str) -> dict[str, Any]:
    """A prepaid order that is already paid: its confirmation is due at once."""
    return {
        "order_id": f"{tag}-{i:06d}",
        "number": f"#{tag.upper()}{i}",
        "currency": "INR",
        "customer": {"phone": phone, "name": NAMES[i % len(NAMES)], "language": "en"},
        "items": [
            {"name": "Cotton Kurta", "quantity": 1 + i % 3, "unit_price": 149_900, "sku": "KUR-1"},
            {"name": "Silk Dupatta", "quantity": 1, "unit_price": 89_900},
        ],
        "shipping_address": {"line1": f"{i % 300 + 1} MG Road", "city": CITIES[i % 6], "pincode": "560001"},
        "payment_method": "prepaid",
        "paid": True,
    }


@dataclass
class Sent:
    """One API request of the measured phase."""

    phone: str  # the order's customer; for other requests, a label of the benchmark's choosing
    scheduled: float  # wall clock when it should have been sent
    sent: float = math.nan  # wall clock just before the request was written
    acked: float = math.nan  # wall clock when the answer was read
    status: int = 0
    error: str = ""


@dataclass(frozen=True)
class Post:
    """One request to send: path, exact body bytes, and headers of its own (e.g. a webhook signature)."""

    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def one_connection_client(base_url: str, tls: ssl.SSLContext) -> httpx.AsyncClient:
    """An async client on a single keep-alive connection, authorised for the order API."""
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30.0, limits=limits, verify=tls)


async def send_one(client: httpx.AsyncClient, record: Sent, post: Post) -> None:
    """POST and note when it was written and answered; any answer but 2xx is an error."""
    record.sent = time.time()
    try:
        response = await client.post(post.path, content=post.body, headers=post.headers)
        record.status = response.status_code
        if not 200 <= response.status_code < 300:
            record.error = f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        record.error = type(exc).__name__
    record.acked = time.time()


class Senders:
    """`concurrency` connections, each sending one request at a time; the most recently idle one goes next.

    Each sender has its own single-connection client: one shared pool of hundreds of connections costs
    httpcore an O(connections) scan per request, which made the load generator CPU-bound under overload.
    Reusing the most recently idle sender keeps a small hot set of connections, so none sits idle long
    enough to meet uvicorn's keep-alive timeout (5 s) just as a request is written on it.
    """

    def __init__(self, base_url: str, concurrency: int) -> None:
        self._base_url = base_url
        self._concurrency = concurrency
        self._tls = ssl.create_default_context()  # unused on http://, but built once, not per client
        self._idle: list[asyncio.Queue[tuple[Sent, Post] | None]] = []
        self._backlog: collections.deque[tuple[Sent, Post]] = collections.deque()
        self._tasks: list[asyncio.Task[None]] = []
        self._all_idle = asyncio.Event()

    async def __aenter__(self) -> Senders:
        for _ in range(self._concurrency):
            inbox: asyncio.Queue[tuple[Sent, Post] | None] = asyncio.Queue(maxsize=1)
            self._idle.append(inbox)
            self._tasks.append(asyncio.create_task(self._run(inbox)))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def submit(self, record: Sent, post: Post) -> None:
        """Send now on an idle connection, or as soon as one is free (the wait is the send lag)."""
        self._all_idle.clear()
        if self._idle:
            self._idle.pop().put_nowait((record, post))
        else:
            self._backlog.append((record, post))

    async def drain(self) -> None:
        """Wait until every submitted request has been answered."""
        if len(self._idle) < self._concurrency or self._backlog:
            await self._all_idle.wait()

    async def _run(self, inbox: asyncio.Queue[tuple[Sent, Post] | None]) -> None:
        async with one_connection_client(self._base_url, self._tls) as client:
            while (item := await inbox.get()) is not None:
                while item is not None:
                    await send_one(client, *item)
                    item = self._backlog.popleft() if self._backlog else None
                self._idle.append(inbox)
                if len(self._idle) == self._concurrency:
                    self._all_idle.set()


async def replay_posts(
    base_url: str, posts: Sequence[Post], labels: Sequence[str], rate: float, concurrency: int
) -> list[Sent]:
    """Open loop: request i is due at start + i/rate, whatever happened to the others; at most
    `concurrency` are in flight, and a request that finds them all busy waits (reported as send lag)."""
    records: list[Sent] = []
    async with Senders(base_url, concurrency) as senders:
        loop = asyncio.get_running_loop()
        start_mono = loop.time() + 0.2
        start_wall = time.time() + (start_mono - loop.time())
        for i, (post, label) in enumerate(zip(posts, labels, strict=True)):
            delay = start_mono + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            record = Sent(phone=label, scheduled=start_wall + i / rate)
            records.append(record)
            senders.submit(record, post)
        await senders.drain()
    return records


async def replay(
    base_url: str, bodies: list[dict[str, Any]], phones: list[str], rate: float, concurrency: int
) -> list[Sent]:
    """Open-loop replay of orders to POST /api/v1/orders (see replay_posts)."""
    posts = [Post("/api/v1/orders", json.dumps(body).encode()) for body in bodies]
    return await replay_posts(base_url, posts, phones, rate, concurrency)


async def closed_loop(
    base_url: str, make: Callable[[int], Post], concurrency: int, duration: float, limit: int
) -> list[Sent]:
    """Closed loop: `concurrency` connections each send their next request as soon as the last is
    answered, for `duration` seconds or until `limit` requests were started, whichever comes first."""
    tls = ssl.create_default_context()
    records: list[Sent] = []
    counter = itertools.count()
    end = time.monotonic() + duration

    async def one_connection() -> None:
        async with one_connection_client(base_url, tls) as client:
            while time.monotonic() < end and (i := next(counter)) < limit:
                record = Sent(phone=str(i), scheduled=time.time())
                records.append(record)
                await send_one(client, record, make(i))

    await asyncio.gather(*(one_connection() for _ in range(concurrency)))
    return records


def warm_up(service: Service, graph: FakeGraph, count: int, tag: str) -> None:
    """A few orders one at a time, each until its confirmation arrived (imports, pools, caches)."""
    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30) as c:
        for i in range(count):
            phone = phone_for(i, warmup=True)
            r = c.post("/api/v1/orders", json=order_body(i, phone, f"{tag}w"))
            r.raise_for_status()
            deadline = time.monotonic() + 30
            while not graph.arrivals(phone.lstrip("+")):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"warm-up confirmation {i} did not arrive:\n{service.log_tail()}")
                time.sleep(0.01)


# --------------------------------------------------------------------------------------------------
# Statistics and reporting


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass
class RunResult:
    """What one run measured; latencies in milliseconds, CPU in seconds."""

    db: str
    rate: float
    orders: int
    run: int
    source: str  # fingerprint of src/orderwire at the time of the run
    p50_ms: float  # confirmation latency: arrival at the fake minus the moment the order was sent
    p90_ms: float
    p99_ms: float
    max_ms: float
    sched_p50_ms: float  # the same from the moment the order was due (adds client-side waiting)
    sched_p99_ms: float
    ack_p50_ms: float
    ack_p99_ms: float
    send_lag_p99_ms: float
    offered_per_s: float
    throughput_per_s: float
    lost: int
    duplicates: int
    unexpected: int
    api_errors: int
    errors: dict[str, int] = field(default_factory=dict)
    server_cpu_s: float = math.nan
    cpu_ms_per_order: float = math.nan
    server_cores: float = math.nan  # server CPU / wall: 1.0 is one core busy all the time
    postgres_cpu_s: float = math.nan
    bench_cpu_s: float = math.nan
    others_cpu_s: float = math.nan  # busy CPU on the machine not used by the server, its database or us
    wall_s: float = math.nan
    log_errors: int = 0
    log_warnings: int = 0
    timeline: list[tuple[int, int, float]] = field(default_factory=list)
    # Overload and drain: confirmations per second while orders were offered and after the last was sent.
    offer_s: float = math.nan  # first send -> last send
    under_load_per_s: float = math.nan
    backlog_at_stop: int = 0  # orders sent but not yet confirmed when the last order was sent
    drain_per_s: float = math.nan  # confirmations after the last send / (last confirmation - last send)
    confirmed_timeline: list[tuple[int, int]] = field(default_factory=list)  # confirmations per 5 s
    stages: list[tuple[str, float, float, float]] = field(default_factory=list)


def confirmed_within(
    records: list[Sent], arrivals: dict[str, list[Arrival]], accepted: set[str], timeout: float
) -> dict[int, float]:
    """Order index -> arrival time of its first confirmation, for orders confirmed within `timeout`."""
    confirmed = {}
    for i, r in enumerate(records):
        to = r.phone.lstrip("+")
        times = [a.at for a in arrivals.get(to, ()) if a.template == CONFIRMATION_TEMPLATE]
        if r.status == 202 and to in accepted and times and min(times) - r.sent <= timeout:
            confirmed[i] = min(times)
    return confirmed


def analyse(
    db: str,
    rate: float,
    run: int,
    records: list[Sent],
    seen: tuple[dict[str, list[Arrival]], set[str], int],
    timeout: float,
) -> RunResult:
    arrivals, accepted, rejected = seen
    confirmed = confirmed_within(records, arrivals, accepted, timeout)
    first_sent = min(r.sent for r in records)
    latencies = [confirmed[i] - records[i].sent for i in confirmed]
    from_schedule = [confirmed[i] - records[i].scheduled for i in confirmed]
    by_window: dict[int, list[float]] = {}
    for i, at in confirmed.items():
        by_window.setdefault(int((records[i].sent - first_sent) // 5) * 5, []).append(at - records[i].sent)
    ours = {r.phone.lstrip("+") for r in records}
    duplicates = sum(max(0, len(arrivals.get(to, ())) - 1) for to in ours)
    strangers = sum(len(v) for k, v in arrivals.items() if k not in ours and not k.startswith("9199"))
    acks = [r.acked - r.sent for r in records if r.status == 202]
    last_sent = max(r.sent for r in records)
    span = (last_sent - first_sent) or 1e-9
    during = sum(1 for at in confirmed.values() if at <= last_sent)
    after = len(confirmed) - during
    last_confirmed = max(confirmed.values(), default=last_sent)
    per_window = collections.Counter(int((at - first_sent) // 5) * 5 for at in confirmed.values())
    errors: dict[str, int] = {}
    for r in records:
        if r.status != 202:
            errors[r.error or f"HTTP {r.status}"] = errors.get(r.error or f"HTTP {r.status}", 0) + 1
    return RunResult(
        db=db,
        rate=rate,
        orders=len(records),
        run=run,
        source=source_fingerprint(),
        p50_ms=percentile(latencies, 50) * 1000,
        p90_ms=percentile(latencies, 90) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        max_ms=max(latencies, default=math.nan) * 1000,
        sched_p50_ms=percentile(from_schedule, 50) * 1000,
        sched_p99_ms=percentile(from_schedule, 99) * 1000,
        ack_p50_ms=percentile(acks, 50) * 1000,
        ack_p99_ms=percentile(acks, 99) * 1000,
        send_lag_p99_ms=percentile([r.sent - r.scheduled for r in records], 99) * 1000,
        offered_per_s=(len(records) - 1) / span,
        throughput_per_s=len(confirmed) / ((max(confirmed.values(), default=0.0) - first_sent) or 1e-9),
        lost=len(records) - len(confirmed),
        duplicates=duplicates,
        unexpected=strangers + rejected,
        api_errors=sum(errors.values()),
        errors=errors,
        timeline=[(s, len(v), statistics.median(v) * 1000) for s, v in sorted(by_window.items())],
        offer_s=span,
        under_load_per_s=during / span,
        backlog_at_stop=len(records) - during,
        drain_per_s=after / (last_confirmed - last_sent) if after else math.nan,
        confirmed_timeline=sorted(per_window.items()),
    )


def source_fingerprint() -> str:
    """Short sha256 over src/orderwire's files: which code a result belongs to (no git needed)."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "src" / "orderwire").rglob("*")):
        if path.is_file() and path.suffix in {".py", ".toml", ".ini", ".mako"}:
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def describe(r: RunResult, show_timeline: bool) -> str:
    pg = f" + its PostgreSQL backends {r.postgres_cpu_s:.1f} s" if not math.isnan(r.postgres_cpu_s) else ""
    errors = ", ".join(f"{k} x{v}" for k, v in r.errors.items())
    lines = [
        f"== {r.db} {r.rate:g}/s, {r.orders} orders, run {r.run} (src {r.source})",
        f"   confirmation latency  p50 {r.p50_ms:.0f} ms  p90 {r.p90_ms:.0f} ms  p99 {r.p99_ms:.0f} ms"
        f"  max {r.max_ms:.0f} ms",
        f"   from the due time     p50 {r.sched_p50_ms:.0f} ms  p99 {r.sched_p99_ms:.0f} ms (adds send lag)",
        f"   API acknowledgement   p50 {r.ack_p50_ms:.1f} ms  p99 {r.ack_p99_ms:.1f} ms"
        f"  (send lag p99 {r.send_lag_p99_ms:.1f} ms, offered {r.offered_per_s:.1f}/s)",
        f"   throughput {r.throughput_per_s:.1f} confirmations/s   lost {r.lost}   duplicates {r.duplicates}"
        f"   unexpected {r.unexpected}   API errors {r.api_errors}{f' ({errors})' if errors else ''}",
        f"   while offered ({r.offer_s:.0f} s): {r.under_load_per_s:.1f} confirmations/s; backlog when the"
        f" offer stopped {r.backlog_at_stop}; drained after it at {r.drain_per_s:.1f}/s",
        f"   server log during the run: {r.log_errors} errors, {r.log_warnings} warnings",
        f"   server CPU {r.server_cpu_s:.1f} s = {r.cpu_ms_per_order:.2f} ms/order"
        f" ({r.server_cores:.0%} of one core){pg}",
        f"   benchmark itself {r.bench_cpu_s:.1f} s, other processes on the machine {r.others_cpu_s:.1f} s"
        f" (of {os.cpu_count()} x {r.wall_s:.1f} s wall)",
    ]
    if show_timeline:
        lines.append("   sent at +s: orders, median latency ms")
        lines += [f"     +{s:>4}s  {n:>5}  {m:>8.0f}" for s, n, m in r.timeline]
        lines.append("   confirmed at +s: confirmations in those 5 s (per second)")
        lines += [f"     +{s:>4}s  {n:>5}  ({n / 5:.1f}/s)" for s, n in r.confirmed_timeline]
    if r.stages:
        lines.append(describe_breakdown(r.stages))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Where the time goes: stage timestamps the service itself stored


STAGES = (
    ("API: sent -> job stored", "sent", "stored"),
    ("pump: stored -> job applied", "stored", "applied"),
    ("sender: applied -> at Graph", "applied", "arrived"),
)


def stage_breakdown(
    database_url: str,
    tag: str,
    records: list[Sent],
    seen: tuple[dict[str, list[Arrival]], set[str], int],
    timeout: float,
) -> list[tuple[str, float, float, float]]:
    """Per stage (median, p90, p99) in ms over the orders confirmed within the timeout, from the rows the
    service wrote: jobs (stored, applied); the last stage is claim, pacing and the request."""
    from orderwire.store.db import sqlalchemy_url
    from orderwire.store.tables import jobs

    confirmed = confirmed_within(records, seen[0], seen[1], timeout)
    moments = {f"{tag}-{i:06d}": {"sent": records[i].sent, "arrived": at} for i, at in confirmed.items()}
    engine = sa.create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            for ref, created, done in conn.execute(
                sa.select(jobs.c.order_ref, jobs.c.created_at, jobs.c.done_at).where(
                    jobs.c.kind == "order_placed"
                )
            ):
                m = moments.get(ref.removeprefix("order:"))
                if m is not None and done is not None:
                    m["stored"], m["applied"] = created.timestamp(), done.timestamp()
    finally:
        engine.dispose()
    rows = []
    for label, start, end in (
        *STAGES,
        ("total: sent -> at Graph", "sent", "arrived"),
    ):
        spans = [
            (m[end] - m[start]) * 1000
            for m in moments.values()
            if start in m and end in m and not math.isnan(m[end] - m[start])
        ]
        rows.append((label, percentile(spans, 50), percentile(spans, 90), percentile(spans, 99)))
    return rows


def describe_breakdown(rows: list[tuple[str, float, float, float]]) -> str:
    lines = [f"   {'stage':<36} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9}"]
    lines += [f"   {label:<36} {p50:>9.1f} {p90:>9.1f} {p99:>9.1f}" for label, p50, p90, p99 in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# One run, several runs


def bench_cpu_seconds(graph: FakeGraph) -> float:
    """CPU of this process (load generator) and of the fake Graph child."""
    return proc_cpu_seconds(os.getpid()) + proc_cpu_seconds(graph.pid)


def one_run(args: argparse.Namespace, run: int) -> RunResult:
    tag = f"b{secrets.token_hex(3)}"
    tmp = Path(tempfile.mkdtemp(prefix="orderwire-bench-"))
    graph = FakeGraph(args.graph_latency)
    service: Service | None = None
    try:
        graph.start()
        with database(args.db, tmp) as url:
            try:
                service = Service(url, graph.url, tmp, shlex.split(args.server_command))
                service.wait_healthy()
                if args.verbose:
                    print(f"server pid {service.proc.pid} on {service.url}", file=sys.stderr, flush=True)
                warm_up(service, graph, args.warmup, tag)
                phones = [phone_for(i) for i in range(args.orders)]
                bodies = [order_body(i, p, tag) for i, p in enumerate(phones)]
                targets = [p.lstrip("+") for p in phones]
                backends = BackendCpu(url.rsplit("/", 1)[1]) if args.db == "postgres" else None
                if backends is not None:
                    backends.start()
                cpu0, me0, busy0 = service.cpu_seconds(), bench_cpu_seconds(graph), machine_busy_seconds()
                wall0 = time.monotonic()
                records = asyncio.run(replay(service.url, bodies, phones, args.rate, args.concurrency))
                deadline = time.monotonic() + args.timeout
                # Wait for the acknowledged orders only: one the service refused (an API error, reported)
                # was never stored, so no confirmation can come for it.
                acked = [t for t, r in zip(targets, records, strict=True) if r.status == 202]
                while graph.count_arrived(acked) < len(acked) and time.monotonic() < deadline:
                    if service.proc.poll() is not None:
                        raise RuntimeError(f"service died:\n{service.log_tail()}")
                    time.sleep(0.05)
                time.sleep(args.settle)  # late duplicates would show up here
                wall = time.monotonic() - wall0
                cpu = service.cpu_seconds() - cpu0
                pg = backends.stop() if backends is not None else math.nan
                mine = bench_cpu_seconds(graph) - me0
                busy = machine_busy_seconds() - busy0
                seen = graph.snapshot()
                result = analyse(args.db, args.rate, run, records, seen, args.timeout)
                result.server_cpu_s, result.cpu_ms_per_order = cpu, cpu * 1000 / args.orders
                result.server_cores = cpu / wall
                result.postgres_cpu_s, result.bench_cpu_s, result.wall_s = pg, mine, wall
                result.others_cpu_s = busy - cpu - mine - (0.0 if math.isnan(pg) else pg)
                result.log_errors, result.log_warnings = service.log_counts()
                if args.breakdown:
                    result.stages = stage_breakdown(url, tag, records, seen, args.timeout)
                if result.log_errors and args.verbose:
                    print(service.log_tail(), file=sys.stderr)
                return result
            finally:
                if service is not None:
                    service.stop()
                    if args.log_dir is not None:
                        args.log_dir.mkdir(parents=True, exist_ok=True)
                        name = f"server-{args.db}-{args.rate:g}-run{run}.log"
                        shutil.copyfile(service.log_path, args.log_dir / name)
    finally:
        graph.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def summary(results: list[RunResult]) -> str:
    def med(name: str) -> float:
        return float(statistics.median(getattr(r, name) for r in results))

    r0 = results[0]
    return (
        f"== median of {len(results)} run(s), {r0.db} {r0.rate:g}/s x {r0.orders} orders: "
        f"p50 {med('p50_ms'):.0f} ms, p99 {med('p99_ms'):.0f} ms, max {med('max_ms'):.0f} ms, "
        f"ack p50 {med('ack_p50_ms'):.1f} ms / p99 {med('ack_p99_ms'):.1f} ms, "
        f"throughput {med('throughput_per_s'):.1f}/s, CPU {med('cpu_ms_per_order'):.2f} ms/order, "
        f"lost {sum(r.lost for r in results)}, duplicates {sum(r.duplicates for r in results)}"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--orders", type=int, default=1500, help="orders per run (default 1500)")
    p.add_argument("--rate", type=float, default=50.0, help="orders per second, open loop (default 50)")
    p.add_argument("--repeat", type=int, default=1, help="runs, each on a fresh database and server")
    p.add_argument("--warmup", type=int, default=10, help="unmeasured orders sent first, one at a time")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds a confirmation may take")
    p.add_argument("--settle", type=float, default=2.0, help="seconds to wait for late duplicates")
    p.add_argument("--concurrency", type=int, default=256, help="API requests in flight at most")
    p.add_argument("--graph-latency", type=float, default=0.0, help="seconds the fake takes to answer")
    p.add_argument(
        "--server-command",
        default=DEFAULT_SERVER_COMMAND,
        help="how to start the service; --host and --port are appended (default: .venv/bin/orderwire serve)",
    )
    p.add_argument("--timeline", action="store_true", help="median latency per 5 s of sending")
    p.add_argument("--no-breakdown", dest="breakdown", action="store_false", help="skip the stage table")
    p.add_argument("--log-dir", type=Path, help="keep each run's server log in this directory")
    p.add_argument("--json", type=Path, help="append each run's result as a JSON line to this file")
    p.add_argument("--verbose", action="store_true", help="print the server log tail on errors")
    args = p.parse_args(argv)
    if not 1 <= args.orders <= MAX_ORDERS:
        p.error(f"--orders must be within 1..{MAX_ORDERS}")
    if not 0 < args.rate <= MAX_RATE:
        p.error(f"--rate must be within (0, {MAX_RATE:g}]")
    if not 1 <= args.repeat <= 20 or not 1 <= args.concurrency <= 1024 or not 0 < args.timeout <= 600:
        p.error("--repeat 1..20, --concurrency 1..1024, --timeout (0, 600]")
    if args.server_command == DEFAULT_SERVER_COMMAND and not ORDERWIRE.exists():
        p.error(f"{ORDERWIRE} not found: run `make install` first")
    return args


def run_cleanly(run: Callable[[], bool], interrupted: str) -> int:
    """Exit code of a benchmark run: 0 if it met its checks, 1 if not, 130 when stopped by a signal
    (SIGTERM and SIGINT unwind through every `finally`, so servers, files and databases are removed)."""
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored (`&`)
    try:
        return 0 if run() else 1
    except KeyboardInterrupt:
        print(f"interrupted: {interrupted}", file=sys.stderr)
        return 130


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through every `finally` (cleanup)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored (`&`)
    results: list[RunResult] = []
    try:
        for run in range(1, args.repeat + 1):
            result = one_run(args, run)
            results.append(result)
            print(describe(result, args.timeline), flush=True)
            if args.json is not None:
                with args.json.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(asdict(result)) + "\n")
    except KeyboardInterrupt:
        print("interrupted: server stopped, temporary files and databases removed", file=sys.stderr)
        return 130
    print(summary(results), flush=True)
    ok = all(r.lost == 0 and r.duplicates == 0 and r.api_errors == 0 for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
