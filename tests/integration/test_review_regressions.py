"""Regressions from the code review: a send step that raises, empty secrets, over-long names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from orderwire.app import templates
from orderwire.app.orders import message_key
from orderwire.bootstrap import _secret
from orderwire.integrations.whatsapp.webhook import signature_for, verify
from orderwire.store.tables import messages
from tests.conftest import api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService


def test_a_send_step_that_raises_is_retried_not_stuck(
    tmp_path: Path, graph: GraphServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_gate = templates.gate
    calls = {"n": 0}

    def flaky_gate(rt: Any, row: Any, known: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("database is locked"))
        return real_gate(rt, row, known)

    monkeypatch.setattr(templates, "gate", flaky_gate)
    with LiveService(service_env(f"sqlite:///{tmp_path}/o.db", graph.url, "")) as live, api(live.url) as c:
        c.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()

        def accepted() -> Any:
            with live.rt.engine.connect() as conn:  # type: ignore[union-attr]
                row = conn.execute(sa.select(messages.c.status, messages.c.attempts)).first()
            return row if row is not None and row.status == "accepted" else None

        row = wait_for(accepted)
    assert calls["n"] == 2 and row.attempts == 2 and len(graph.requests) == 1


def test_empty_secrets_are_never_used() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    assert not verify("", signature_for("", body), body)
    from pydantic import SecretStr

    assert len(_secret(SecretStr(""))) >= 32


def test_long_names_are_refused_or_bounded(tmp_path: Path, graph: GraphServer) -> None:
    assert len(message_key("o" * 128, "A" * 64 + ":out_for_delivery:2026-11-27")) <= 200
    assert message_key("o-1", "confirmation") == "o-1:confirmation"
    with LiveService(service_env(f"sqlite:///{tmp_path}/o.db", graph.url, "")) as live, api(live.url) as c:
        too_long = {**ORDER, "references": {"payment": "x" * 250}}
        assert c.post("/api/v1/orders", json=too_long).status_code == 422
        order_id = "o" * 128
        c.post("/api/v1/orders", json={**ORDER, "order_id": order_id, "paid": True}).raise_for_status()
        event = {"type": "out_for_delivery", "awb": "A" * 64}
        c.post(f"/api/v1/orders/{order_id}/events", json=event).raise_for_status()
        wait_for(lambda: c.get(f"/api/v1/orders/{order_id}").json()["stage"] == "out_for_delivery")
