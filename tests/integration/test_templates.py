"""Template lifecycle against a fake of the Graph API's template endpoints, on SQLite and PostgreSQL.

Push (new and changed only), sync (cursor pages, status, category, versions the account lacks), the two
template webhooks, and the send-time gate in real journeys: fallback on a paused template, hold and escalate
when there is none, refusal of a payload that does not fit the approved version, learning from Meta's 132015.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from orderwire.app import templates
from orderwire.app.catalogue import load_catalogue
from orderwire.app.runtime import Runtime
from orderwire.bootstrap import build_runtime
from orderwire.integrations.whatsapp.templates import TemplateApiClient
from orderwire.integrations.whatsapp.webhook import signature_for
from orderwire.settings import Settings
from orderwire.store.tables import inbound, template_statuses
from tests.conftest import TEST_APP_SECRET, api, service_env, wait_for
from tests.integration.test_journey import ORDER
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService
from tests.support.template_server import template_category_webhook, template_status_webhook

CATALOGUE = load_catalogue()
VERSIONS = sorted(f"{name} ({lang})" for name, d in CATALOGUE.items() for lang in d.languages)


def account(graph: GraphServer, page_size: int = 100) -> TemplateApiClient:
    return TemplateApiClient(graph.url, "test-graph-token", graph.templates_api.waba_id, page_size=page_size)


@contextmanager
def runtime(database_url: str, graph: GraphServer) -> Iterator[Runtime]:
    env = service_env(database_url, graph.url, "https://shop.example")
    rt = build_runtime(Settings(**{k.removeprefix("ORDERWIRE_").lower(): v for k, v in env.items()}))
    rt.catalogue = dict(rt.catalogue)  # tests change it; the loaded catalogue is shared
    try:
        yield rt
    finally:
        rt.whatsapp.close()
        rt.engine.dispose()


def stored(rt: Runtime) -> dict[tuple[str, str], Any]:
    with rt.engine.connect() as conn:
        return {(r.name, r.language): r for r in conn.execute(sa.select(template_statuses)).all()}


def deliver(client: httpx.Client, body: dict[str, Any]) -> None:
    """A webhook signed as Meta signs it."""
    raw = json.dumps(body).encode()
    answer = client.post(
        "/webhooks/whatsapp",
        content=raw,
        headers={"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, raw)},
    )
    assert answer.status_code == 200


def test_push_submits_new_and_changed_versions_only(database_url: str, graph: GraphServer) -> None:
    fake = graph.templates_api
    with runtime(database_url, graph) as rt, account(graph) as client:
        first = templates.push(rt, client)
        assert sorted(first.created) == VERSIONS and first.ok
        posts = fake.posts()
        assert len(posts) == len(VERSIONS)
        assert {c.path for c in posts} == {f"/v23.0/{fake.waba_id}/message_templates"}
        assert {c.authorization for c in fake.calls} == {"Bearer test-graph-token"}
        sent = next(
            c.body for c in posts if c.body["name"] == "order_dispatched" and c.body["language"] == "en"
        )
        assert set(sent) == {"name", "language", "category", "components"}
        assert sent["components"][-1]["buttons"][0]["url"] == "https://shop.example/t/{{1}}"
        rows = stored(rt)
        assert {r.status for r in rows.values()} == {"PENDING"}
        assert all(r.template_id for r in rows.values())

        second = templates.push(rt, client)
        assert sorted(second.unchanged) == VERSIONS and not second.created and not second.edited
        assert len(fake.posts()) == len(VERSIONS)  # a second push of unchanged templates sends nothing

        processing = rt.catalogue["order_processing"]
        english = dataclasses.replace(
            processing.languages["en"], body="Hi {{1}}, we are packing order {{2}} now."
        )
        rt.catalogue["order_processing"] = dataclasses.replace(
            processing, languages={**processing.languages, "en": english}
        )
        pushy = dataclasses.replace(
            english, body="Hi {{1}}, order {{2}} ships today. Use coupon SAVE10 next time."
        )
        rt.catalogue["summer_deals"] = dataclasses.replace(
            processing, name="summer_deals", languages={"en": pushy}
        )
        third = templates.push(rt, client)
        assert third.edited == ["order_processing (en)"]
        assert third.skipped == ["summer_deals (en)"] and not third.ok  # promotional wording in a UTILITY
        edit = fake.posts()[-1]
        assert edit.path == f"/v23.0/{fake.get('order_processing', 'en').id}"
        assert edit.body["components"][0]["text"] == "Hi {{1}}, we are packing order {{2}} now."
        assert fake.get("order_processing", "en").components == edit.body["components"]
        assert stored(rt)[("order_processing", "en")].status == "PENDING"  # back in review
        assert ("summer_deals", "en") not in {(c.body["name"], c.body["language"]) for c in fake.posts()[:-1]}


def test_sync_follows_pages_and_records_status_and_category(database_url: str, graph: GraphServer) -> None:
    fake = graph.templates_api
    fake.add_catalogue(CATALOGUE, "https://shop.example")
    fake.set_status("order_processing", "en", "PAUSED")
    fake.get("order_follow_up", "hi").category = "MARKETING"
    fake.add("spring_sale", "en", "MARKETING", [{"type": "BODY", "text": "Sale!"}], "APPROVED")
    fake.remove("order_cancelled", "hi")  # never submitted in Hindi
    with runtime(database_url, graph) as rt, account(graph, page_size=4) as client:
        rows = {row["name"]: row for row in templates.sync(rt, client)}
    lists = [c for c in fake.calls if c.method == "GET"]
    assert len(lists) == -(-len(fake) // 4)  # every page, following the cursors
    assert "after" not in lists[0].query and all("after" in c.query for c in lists[1:])
    assert lists[0].query["fields"] == "name,language,status,category,id,components"
    assert rows["order_processing"]["languages"]["en"]["status"] == "PAUSED"
    assert rows["order_processing"]["languages"]["en"]["usable"] is False
    assert rows["order_processing"]["languages"]["hi"]["status"] == "APPROVED"
    assert rows["order_follow_up"]["languages"]["hi"]["category"] == "MARKETING"
    assert rows["order_follow_up"]["languages"]["hi"]["usable"] is False
    assert rows["order_cancelled"]["languages"]["hi"]["status"] == "MISSING"
    assert rows["order_confirmation"]["languages"]["en"] | {"updated_at": None} == {
        "status": "APPROVED",
        "category": "UTILITY",
        "template_id": fake.get("order_confirmation", "en").id,
        "reason": "",
        "updated_at": None,
        "usable": True,
    }
    assert "spring_sale" not in rows


def test_template_webhooks_keep_statuses_current(database_url: str, graph: GraphServer) -> None:
    with LiveService(service_env(database_url, graph.url, "")) as live, api(live.url) as client:
        rt = live.rt
        assert rt is not None
        now = rt.clock()
        waba = graph.templates_api.waba_id
        pause = {"title": "FIRST_PAUSE", "description": "Paused for 3 hours because of negative feedback."}
        paused = template_status_webhook(
            waba, "order_confirmation", "en", "111", "PAUSED", now, other_info=pause
        )
        deliver(client, paused)
        deliver(client, paused)  # a redelivery changes nothing
        late = template_status_webhook(
            waba, "order_confirmation", "en", "111", "APPROVED", now - timedelta(minutes=5)
        )
        deliver(client, late)  # older than what is stored: ignored
        deliver(
            client,
            template_category_webhook(waba, "order_follow_up", "en", "222", "UTILITY", "MARKETING", now),
        )
        shown = {row["name"]: row["languages"] for row in client.get("/api/v1/templates").json()}
        assert shown["order_confirmation"]["en"]["status"] == "PAUSED"
        assert shown["order_confirmation"]["en"]["template_id"] == "111"
        assert shown["order_confirmation"]["en"]["reason"].startswith("PAUSED - Paused for 3 hours")
        assert shown["order_follow_up"]["en"]["category"] == "MARKETING"
        assert shown["order_follow_up"]["en"]["usable"] is False
        assert shown["order_follow_up"]["en"]["reason"] == "recategorised UTILITY -> MARKETING"
        assert shown["order_delivered"]["en"]["status"] == "UNKNOWN"
        later = template_status_webhook(
            waba, "order_confirmation", "en", "111", "APPROVED", now + timedelta(hours=3)
        )
        deliver(client, later)
        back = stored(rt)[("order_confirmation", "en")]
        assert (back.status, back.reason) == ("APPROVED", "")
        with rt.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(inbound)).scalar_one() == 4


def _view(client: httpx.Client) -> Any:
    return client.get("/api/v1/orders/shop-1001").json()


def _settled(client: httpx.Client, count: int) -> Any:
    view = _view(client)
    messages = view.get("messages", [])
    done = len(messages) == count and all(m["status"] in ("accepted", "held", "failed") for m in messages)
    return messages if done else None


@contextmanager
def approved_service(database_url: str, graph: GraphServer) -> Iterator[tuple[LiveService, httpx.Client]]:
    """A live service whose account holds the whole catalogue, approved and synced."""
    graph.templates_api.add_catalogue(CATALOGUE, "https://shop.example")
    with LiveService(service_env(database_url, graph.url, "")) as live, api(live.url) as client:
        assert live.rt is not None
        with account(graph) as templates_api:
            templates.sync(live.rt, templates_api)
        yield live, client


def test_paused_template_falls_back_to_its_sibling(database_url: str, graph: GraphServer) -> None:
    with approved_service(database_url, graph) as (live, client):
        graph.templates_api.set_status("order_confirmation", "en", "PAUSED")
        waba = graph.templates_api.waba_id
        template_id = graph.templates_api.get("order_confirmation", "en").id
        deliver(
            client,
            template_status_webhook(waba, "order_confirmation", "en", template_id, "PAUSED", live.rt.clock()),  # type: ignore[union-attr]
        )
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        (message,) = wait_for(lambda: _settled(client, 1))
    assert graph.templates() == ["order_confirmation_plain"]
    assert (message["template"], message["status"], message["needs_attention"]) == (
        "order_confirmation_plain",
        "accepted",
        False,
    )
    components = graph.requests[0].body["template"]["components"]
    assert [c["type"] for c in components] == ["body"]  # the plain sibling has no header
    assert [p["text"] for p in components[0]["parameters"]][:2] == ["Asha", "#1001"]


def test_held_and_escalated_when_there_is_no_fallback(database_url: str, graph: GraphServer) -> None:
    with approved_service(database_url, graph) as (live, client):
        waba = graph.templates_api.waba_id
        template_id = graph.templates_api.get("order_processing", "en").id
        deliver(
            client,
            template_status_webhook(waba, "order_processing", "en", template_id, "DISABLED", live.rt.clock()),  # type: ignore[union-attr]
        )
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        wait_for(lambda: _settled(client, 1))
        client.post("/api/v1/orders/shop-1001/events", json={"type": "processing"}).raise_for_status()
        confirmation, processing = wait_for(lambda: _settled(client, 2))
    assert graph.templates() == ["order_confirmation"]
    assert confirmation["status"] == "accepted"
    assert (processing["status"], processing["needs_attention"]) == ("held", True)
    assert processing["error_detail"] == "order_processing (en) is DISABLED; no fallback template configured"


def test_payload_that_does_not_match_the_approved_version_never_goes_out(
    database_url: str, graph: GraphServer
) -> None:
    fake = graph.templates_api
    fake.add_catalogue(CATALOGUE, "https://shop.example")
    edited = fake.get("order_confirmation", "en")
    edited.components = [
        c
        if c["type"] != "BODY"
        else {"type": "BODY", "text": "Hi {{1}}, order {{2}} of {{3}} for {{4}} to {{5}}."}
        for c in edited.components
    ]  # changed in WhatsApp Manager: five values, not six
    fake.remove("order_confirmation_plain", "en")
    with LiveService(service_env(database_url, graph.url, "")) as live, api(live.url) as client:
        with account(graph) as templates_api:
            templates.sync(live.rt, templates_api)  # type: ignore[arg-type]
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        (message,) = wait_for(lambda: _settled(client, 1))
    assert graph.requests == []
    assert (message["status"], message["needs_attention"]) == ("held", True)
    assert message["error_detail"].startswith(
        "payload does not match the approved order_confirmation (en): body: 6 parameters, template has 5"
    )
    assert message["error_detail"].endswith("fallback unusable: order_confirmation_plain (en) is MISSING")


def test_meta_refusing_a_paused_template_is_learned_and_falls_back(
    database_url: str, graph: GraphServer
) -> None:
    with approved_service(database_url, graph) as (live, client):
        graph.templates_api.set_status("order_confirmation", "en", "PAUSED")  # no webhook reached us
        client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
        (message,) = wait_for(lambda: _settled(client, 1))
        assert stored(live.rt)[("order_confirmation", "en")].status == "PAUSED"  # type: ignore[arg-type]
    assert graph.templates() == ["order_confirmation", "order_confirmation_plain"]
    assert (message["template"], message["status"]) == ("order_confirmation_plain", "accepted")


def test_cli_push_then_sync(tmp_path: Any, graph: GraphServer) -> None:
    from typer.testing import CliRunner

    from orderwire.cli import app

    env = service_env(f"sqlite:///{tmp_path}/o.db", graph.url, "https://shop.example")
    env["ORDERWIRE_WHATSAPP_WABA_ID"] = graph.templates_api.waba_id
    first = CliRunner().invoke(app, ["templates", "push"], env=env)
    assert first.exit_code == 0, first.output
    assert sorted(line.split(maxsplit=1)[1] for line in first.output.splitlines()) == VERSIONS
    assert all(line.startswith("created ") for line in first.output.splitlines())
    again = CliRunner().invoke(app, ["templates", "push"], env=env)
    assert again.exit_code == 0 and all(line.startswith("unchanged ") for line in again.output.splitlines())
    graph.templates_api.set_status("order_delivered", "hi", "REJECTED")
    synced = CliRunner().invoke(app, ["templates", "sync"], env=env)
    assert synced.exit_code == 0, synced.output
    rows = [line.split() for line in synced.output.splitlines()]
    assert ["order_delivered", "hi", "REJECTED", "UTILITY"] in rows
    assert ["order_delivered", "en", "PENDING", "UTILITY"] in rows


def test_migration_0002_up_and_down(database_url: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from orderwire.store.db import alembic_config, make_engine, migrate
    from orderwire.store.tables import metadata

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert "template_statuses" in sa.inspect(conn).get_table_names()
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert [d for d in diffs if "template_statuses" in repr(d)] == []
        command.downgrade(alembic_config(database_url), "0001")
        with engine.connect() as conn:
            assert "template_statuses" not in sa.inspect(conn).get_table_names()
        command.upgrade(alembic_config(database_url), "head")
        with engine.connect() as conn:
            assert "template_statuses" in sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()
