"""Personal data: erasing a customer leaves no trace of them in any table; old conversations are purged;
logs never carry phone numbers, names, addresses or secrets."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from orderwire.app.privacy import ERASED, purge_older_than
from orderwire.cli import app
from orderwire.integrations.whatsapp.fake import status_webhook
from orderwire.integrations.whatsapp.webhook import signature_for
from orderwire.store.tables import customers, inbound, messages, metadata, orders
from tests.conftest import TEST_API_KEY, TEST_APP_SECRET, api, service_env, wait_for
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService

PHONE_DIGITS = "919812345678"
NAME = "Asha Rao"
STREET = "12 MG Road"
ORDER: dict[str, Any] = {
    "order_id": "shop-2001",
    "number": "#2001",
    "currency": "INR",
    "customer": {"phone": "+91 98123 45678", "name": NAME, "language": "en"},
    "items": [{"name": "Cotton Kurta", "quantity": 1, "unit_price": 99900}],
    "shipping_address": {"line1": STREET, "city": "Bengaluru", "pincode": "560001"},
}
OTHER = ORDER | {
    "order_id": "shop-2002",
    "number": "#2002",
    "customer": {"phone": "+91 99000 11122", "name": "Ravi Kumar", "language": "en"},
    "shipping_address": {"line1": "7 Park Street", "city": "Kolkata", "pincode": "700016"},
}


def _journey(live: LiveService, graph: GraphServer) -> None:
    """Two customers' orders confirmed; the first customer also writes to us."""
    with api(live.url) as client:
        for order in (ORDER, OTHER):
            assert client.post("/api/v1/orders", json=order).status_code == 202
            events = f"/api/v1/orders/{order['order_id']}/events"
            assert client.post(events, json={"type": "paid", "payment_id": "pay"}).status_code == 202
        wait_for(lambda: len(graph.requests) >= 2)
        inbound_text = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": "106540352242922"},
                                "contacts": [{"profile": {"name": NAME}, "wa_id": PHONE_DIGITS}],
                                "messages": [
                                    {
                                        "from": PHONE_DIGITS,
                                        "id": "wamid.in1",
                                        "timestamp": "1767225600",
                                        "type": "text",
                                        "text": {"body": f"I live at {STREET}, where is it?"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
        raw = json.dumps(inbound_text).encode()
        headers = {"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, raw)}
        assert client.post("/webhooks/whatsapp", content=raw, headers=headers).status_code == 200
        assert live.rt is not None
        wamid = wait_for(lambda: _first_wamid(live.rt.engine))  # type: ignore[union-attr]
        delivered = status_webhook("106540352242922", wamid, PHONE_DIGITS, "delivered", datetime.now(UTC))
        raw = json.dumps(delivered).encode()
        headers = {"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, raw)}
        assert client.post("/webhooks/whatsapp", content=raw, headers=headers).status_code == 200


def _first_wamid(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(messages.c.wamid)
            .join(customers, customers.c.id == messages.c.customer_id)
            .where(messages.c.direction == "out", customers.c.phone == "+" + PHONE_DIGITS)
        ).scalar()


def _every_text(engine: sa.Engine) -> str:
    """Every value of every row of every table, as one string."""
    parts: list[str] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                parts.extend(str(v) for v in row)
    return "\n".join(parts)


def test_erase_removes_the_person_and_keeps_the_figures(database_url: str, graph: GraphServer) -> None:
    env = service_env(database_url, graph.url, "")
    with LiveService(env) as live:
        assert live.rt is not None
        _journey(live, graph)
        engine = live.rt.engine
        before = _every_text(engine)
        assert PHONE_DIGITS in before and NAME in before and STREET in before
        result = CliRunner().invoke(
            app, ["customer", "erase", "9812345678", "--yes"], env={"ORDERWIRE_DATABASE_URL": database_url}
        )
        assert result.exit_code == 0, result.output
        assert "customers 1" in result.output
        after = _every_text(engine)
        for trace in (PHONE_DIGITS, "9812345678", NAME, "Asha", STREET):
            assert trace not in after, trace
        assert "Ravi Kumar" in after  # the other customer is untouched
        with engine.connect() as conn:
            stages = dict(conn.execute(sa.select(orders.c.order_id, orders.c.stage)).all())
            assert stages == {"shop-2001": "confirmed", "shop-2002": "confirmed"}
            statuses = conn.execute(sa.select(messages.c.direction, messages.c.status)).all()
            assert ("out", "delivered") in statuses  # the figures still count the message
            row = conn.execute(sa.select(customers).where(customers.c.name == "")).one()
            assert row.opted_out and row.phone.startswith("x")
        again = CliRunner().invoke(
            app, ["customer", "erase", "+919812345678", "--yes"], env={"ORDERWIRE_DATABASE_URL": database_url}
        )
        assert again.exit_code == 1 and "no customer" in again.output


def test_purge_clears_old_conversations_only(database_url: str, graph: GraphServer) -> None:
    env = service_env(database_url, graph.url, "")
    with LiveService(env) as live:
        assert live.rt is not None
        _journey(live, graph)
        rt = live.rt
        assert sum(purge_older_than(rt, 30).counts.values()) == 0  # nothing is old yet
        real_clock = rt.clock
        rt.clock = lambda: real_clock() + timedelta(days=31)
        try:
            done = purge_older_than(rt, 30)
        finally:
            rt.clock = real_clock
        assert done.counts["messages"] >= 3 and done.counts["inbound"] >= 4
        with rt.engine.connect() as conn:
            assert set(conn.execute(sa.select(inbound.c.body)).scalars()) == {ERASED}
            assert all(p == {} for p in conn.execute(sa.select(messages.c.payload)).scalars())
            assert conn.execute(sa.select(sa.func.count()).select_from(orders)).scalar() == 2


def test_logs_carry_no_personal_data_or_secrets(
    tmp_path: Any, graph: GraphServer, caplog: pytest.LogCaptureFixture
) -> None:
    env = service_env(f"sqlite:///{tmp_path}/o.db", graph.url, "")
    caplog.set_level(logging.DEBUG)
    with LiveService(env) as live:
        _journey(live, graph)
        with api(live.url) as client:  # a failed send and bad input are logged as well
            graph.fail_next(400, 131026, "Message undeliverable")
            third = ORDER | {"order_id": "shop-2003", "number": "#2003"}
            assert client.post("/api/v1/orders", json=third).status_code == 202
            client.post("/api/v1/orders/shop-2003/events", json={"type": "paid", "payment_id": "p3"})
            wait_for(lambda: any("failed" in r.getMessage() for r in caplog.records))
            client.post("/api/v1/orders", json=ORDER | {"customer": {"phone": "12", "name": NAME}})
            client.post("/webhooks/whatsapp", content=b"{}", headers={"X-Hub-Signature-256": "sha256=00"})
    text = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "nothing was logged: the check would prove nothing"
    for secret in (
        PHONE_DIGITS,
        "9812345678",
        NAME,
        STREET,
        TEST_API_KEY,
        TEST_APP_SECRET,
        "test-graph-token",
    ):
        assert secret not in text, secret
