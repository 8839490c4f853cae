"""Bad input gets a clear 4xx: oversized bodies (announced or streamed), absurd nesting, junk JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from orderwire.integrations.whatsapp.webhook import signature_for
from tests.conftest import TEST_APP_SECRET, api, service_env
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService


def test_bodies_over_one_megabyte_get_413(tmp_path: Path, graph: GraphServer) -> None:
    with LiveService(service_env(f"sqlite:///{tmp_path}/o.db", graph.url, "")) as live, api(live.url) as c:
        big = b"x" * (1024 * 1024 + 1)
        headers = {"content-type": "application/json"}
        assert c.post("/api/v1/orders", content=big, headers=headers).status_code == 413

        def streamed() -> Iterator[bytes]:
            for _ in range(11):
                yield b" " * 100_000

        answer = c.post("/webhooks/whatsapp", content=streamed(), headers=headers)
        assert answer.status_code == 413  # chunked: counted as it arrives, never buffered past 1 MB
        deep = ("[" * 50_000 + "]" * 50_000).encode()
        signed = headers | {"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, deep)}
        assert c.post("/webhooks/whatsapp", content=deep, headers=signed).status_code == 400
        assert c.post("/api/v1/orders", content=deep, headers=headers).status_code in (400, 422)
        junk = c.post("/api/v1/orders", content=b"{not json", headers=headers)
        assert junk.status_code in (400, 422) and junk.json()["detail"]
        assert c.get("/healthz").json()["status"] == "ok"
