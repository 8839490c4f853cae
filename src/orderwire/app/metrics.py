"""Prometheus metrics: counters where things happen, gauges read from the database at scrape time.

The web process receives webhooks; the worker process sends messages. Gauges (queue depth, open cases)
are computed from the shared database when /metrics is scraped, so they are the same whichever process
answers. Counters and the send-latency histogram live in the process that counts them: `orderwire serve`
points both processes at one PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode), and the web
process's /metrics merges the files of both. Without that variable (one process, e.g. `serve --inline`
or tests) the default registry is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from orderwire.app.runtime import Runtime
from orderwire.store.db import reading
from orderwire.store.tables import escalations, jobs, messages

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

WEBHOOKS = Counter(
    "orderwire_webhooks_total",
    "Webhook deliveries by vendor and outcome (accepted, rejected).",
    ["vendor", "outcome"],
)
SEND_SECONDS = Histogram(
    "orderwire_send_seconds",
    "Time of one request to the WhatsApp Cloud API (per attempt).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SEND_ERRORS = Counter(
    "orderwire_send_errors_total",
    "Send attempts that did not succeed, by Meta error code (or HTTP status).",
    ["code"],
)


def record_webhook(vendor: str, accepted: bool) -> None:
    """Count one webhook delivery (vendor names come from our own routes, never from the request)."""
    WEBHOOKS.labels(vendor=vendor, outcome="accepted" if accepted else "rejected").inc()


def record_send(seconds: float, error_code: str) -> None:
    """Count one send attempt: its duration, and its error code when it failed."""
    SEND_SECONDS.observe(seconds)
    if error_code:
        SEND_ERRORS.labels(code=error_code[:16]).inc()


class DatabaseGauges(Collector):
    """Queue depth and open cases, read at scrape time: the same answer from any process."""

    def __init__(self, rt: Runtime):
        self._rt = rt

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Read the current figures."""
        with reading(self._rt.engine) as conn:
            job_rows = conn.execute(
                sa.select(jobs.c.status, sa.func.count())
                .where(jobs.c.status.in_(("pending", "parked")))
                .group_by(jobs.c.status)
            ).all()
            message_rows = conn.execute(
                sa.select(messages.c.status, sa.func.count())
                .where(messages.c.status.in_(("scheduled", "queued", "retrying", "held")))
                .group_by(messages.c.status)
            ).all()
            case_rows = conn.execute(
                sa.select(escalations.c.reason, sa.func.count())
                .where(escalations.c.status == "open")
                .group_by(escalations.c.reason)
            ).all()
        queued_jobs = GaugeMetricFamily(
            "orderwire_jobs_waiting", "Jobs waiting to run, by status.", labels=["status"]
        )
        for status in ("pending", "parked"):
            queued_jobs.add_metric([status], {str(k): int(v) for k, v in job_rows}.get(status, 0))
        yield queued_jobs
        outbox = GaugeMetricFamily(
            "orderwire_messages_waiting",
            "Outgoing messages not yet handed to Meta, by status.",
            labels=["status"],
        )
        for status in ("scheduled", "queued", "retrying", "held"):
            outbox.add_metric([status], {str(k): int(v) for k, v in message_rows}.get(status, 0))
        yield outbox
        cases = GaugeMetricFamily(
            "orderwire_escalations_open", "Open staff cases, by reason.", labels=["reason"]
        )
        for reason, count in sorted(case_rows):
            cases.add_metric([reason], count)
        yield cases


def exposition(rt: Runtime) -> bytes:
    """The text exposition: this process's (or all processes') counters, then the database gauges."""
    if os.environ.get(MULTIPROC_ENV):
        merged = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        counted = generate_latest(merged)
    else:
        from prometheus_client import REGISTRY

        counted = generate_latest(REGISTRY)
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(DatabaseGauges(rt))
    return counted + generate_latest(gauges)
