"""The real `orderwire serve`: /metrics in the web process counts what the worker process did too
(prometheus_client's multiprocess mode), and ORDERWIRE_LOG_FORMAT=json makes the logs JSON lines."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import api, free_port, service_env, wait_for
from tests.e2e.test_server_process import start
from tests.integration.test_journey import ORDER
from tests.support.graph_server import GraphServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
def served(tmp_path: Path, graph: GraphServer) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = service_env(f"sqlite:///{tmp_path}/orderwire.db", graph.url, url) | {"ORDERWIRE_LOG_FORMAT": "json"}
    process = start(env, port)
    yield url, process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _sample(exposition: str, series: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_merge_the_worker_and_logs_are_json(
    served: tuple[str, subprocess.Popen[bytes]], graph: GraphServer
) -> None:
    url, process = served
    graph.fail_next(400, 131026, "Message undeliverable")  # the worker logs the failure
    with api(url) as client:
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        assert client.post("/webhooks/whatsapp", content=b"{}").status_code == 401  # unsigned: rejected
        metrics = wait_for(
            lambda: (
                (text := client.get("/metrics").text)
                and _sample(text, "orderwire_send_seconds_count") >= 1
                # the failure's case is written just after the request is timed: wait for both
                and _sample(text, 'orderwire_escalations_open{reason="message_failed"}') >= 1
                and text
            ),
            timeout=30,
        )
    # Counted in the worker process (sending), shown by the web process:
    assert _sample(metrics, 'orderwire_send_errors_total{code="131026"}') == 1
    # Counted in the web process:
    assert _sample(metrics, 'orderwire_webhooks_total{outcome="rejected",vendor="whatsapp"}') == 1
    assert _sample(metrics, 'orderwire_escalations_open{reason="message_failed"}') == 1
    assert 'orderwire_messages_waiting{status="queued"}' in metrics
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert process.stdout is not None
    lines = [json.loads(line) for line in process.stdout.read().splitlines() if line.startswith(b"{")]
    assert any(line["message"] == "message 1 failed: 131026" and line["level"] == "WARNING" for line in lines)
