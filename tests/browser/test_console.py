"""The staff console in Chromium against the real service: a failed delivery reported by a (fake) Shiprocket
webhook becomes a case that appears in the open inbox by itself; staff open it, answer the customer (the fake
Graph API receives the text), resolve it, and look at the dashboard. The tracking page fits a phone.

With ORDERWIRE_SCREENSHOTS=1 the main pages are saved to docs/screenshots/console-*.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from orderwire.app import staff
from orderwire.integrations.whatsapp.fake import customer_message_webhook, new_wamid, status_webhook
from orderwire.integrations.whatsapp.webhook import signature_for
from orderwire.settings import Settings
from orderwire.store.tables import escalations, messages
from tests.browser.support import PHONE_VIEWPORT, NewPage, Screenshot
from tests.conftest import TEST_APP_SECRET, api, wait_for
from tests.integration.test_courier_webhooks import courier_env, post_shiprocket
from tests.integration.test_journey import ORDER
from tests.integration.test_ndr import SCANS
from tests.support.couriers import shiprocket_webhook
from tests.support.graph_server import GraphServer
from tests.support.live import LiveService

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

EMAIL = "asha.staff@example.com"
PASSWORD = "a long staff password"
REPLY = "Sorry we missed you! The courier comes again tomorrow before 6 pm."
CUSTOMER_PHONE = "+919812345678"


@pytest.fixture
def service(tmp_path: Path, graph: GraphServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveService]:
    """The service with the fake Graph API and Shiprocket webhooks; unanswered NDRs reach staff in seconds."""
    for name in Settings.model_fields:
        monkeypatch.delenv(f"ORDERWIRE_{name.upper()}", raising=False)
    env = {
        **courier_env(f"sqlite:///{tmp_path}/orderwire.db", graph),
        "ORDERWIRE_NDR_REMINDER_MINUTES": "0.01",
        "ORDERWIRE_NDR_ESCALATE_MINUTES": "0.03",
    }
    with LiveService(env) as live:
        assert live.rt is not None
        staff.create_user(live.rt, EMAIL, PASSWORD, "admin", "Meera")
        yield live


def _log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/console/inbox")
    expect(page).to_have_url(f"{base}/console/login?next=/console/inbox")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/console/inbox")


def _fail_delivery(client: httpx.Client) -> None:
    """An order shipped with Shiprocket whose delivery attempt fails (signed webhooks, documented body)."""
    client.post("/api/v1/orders", json={**ORDER, "paid": True}).raise_for_status()
    for k in range(len(SCANS)):
        assert (
            post_shiprocket(client, shiprocket_webhook("SR300", SCANS[: k + 1], "shop-1001")).status_code
            == 200
        )


def _customer_writes(client: httpx.Client, text: str) -> None:
    body = customer_message_webhook(
        "106540352242922", CUSTOMER_PHONE, "Asha Rao", datetime.now(UTC), new_wamid(), text
    )
    raw = json.dumps(body).encode()
    answer = client.post(
        "/webhooks/whatsapp",
        content=raw,
        headers={"X-Hub-Signature-256": signature_for(TEST_APP_SECRET, raw)},
    )
    assert answer.status_code == 200


def _meta_reports_every_message_read(client: httpx.Client, service: LiveService) -> None:
    """Meta's status webhooks (sent, delivered, read) for every message we sent, as the phone would cause."""
    assert service.rt is not None
    with service.rt.engine.connect() as conn:
        sent = conn.execute(
            sa.select(messages.c.wamid, messages.c.created_at).where(
                messages.c.direction == "out", messages.c.wamid.is_not(None)
            )
        ).all()
    for wamid, created_at in sent:
        for status, after in (("sent", 2), ("delivered", 5), ("read", 60)):
            body = status_webhook(
                "106540352242922", wamid, CUSTOMER_PHONE, status, created_at + timedelta(seconds=after)
            )
            raw = json.dumps(body).encode()
            signature = signature_for(TEST_APP_SECRET, raw)
            answer = client.post(
                "/webhooks/whatsapp", content=raw, headers={"X-Hub-Signature-256": signature}
            )
            assert answer.status_code == 200


def _overflowing(page: Page) -> list[str]:
    """Elements sticking out to the right of a phone's viewport (the page would scroll sideways)."""
    found: list[str] = page.evaluate(
        """width => Array.from(document.querySelectorAll('body *'))
            .filter(el => el.getBoundingClientRect().right > width + 1)
            .map(el => el.tagName + '.' + el.className)""",
        PHONE_VIEWPORT["width"],
    )
    return found


def _case(service: LiveService) -> Any:
    assert service.rt is not None
    with service.rt.engine.connect() as conn:
        return conn.execute(sa.select(escalations).where(escalations.c.reason == "no_answer")).first()


def test_ndr_case_from_webhook_to_reply_and_resolution(
    service: LiveService, graph: GraphServer, new_page: NewPage, screenshot: Screenshot
) -> None:
    page = new_page()
    page.goto(f"{service.url}/console/login")
    screenshot(page, "console-login.png")
    _log_in(page, service.url)
    expect(page.get_by_text("No cases match")).to_be_visible()
    page.evaluate("window.__notReloaded = true")

    with api(service.url) as client:
        _fail_delivery(client)
        case = wait_for(lambda: _case(service), timeout=30)
        # The open inbox shows the new case without a reload (it polls every few seconds).
        row = page.locator(f'tr[data-case="{case.id}"]')
        expect(row).to_contain_text("Failed delivery: the customer did not answer")
        expect(row).to_contain_text("#1001")
        assert page.evaluate("window.__notReloaded") is True
        expect(page.locator("#open-cases")).to_have_text("1")
        screenshot(page, "console-inbox.png")

        _customer_writes(client, "I was at work. Can you come tomorrow?")
        row.get_by_role("link", name="Failed delivery: the customer did not answer").click()
        expect(page.get_by_role("heading", name=f"Case #{case.id}: Failed delivery")).to_be_visible()
        expect(page.locator("#thread")).to_contain_text("I was at work. Can you come tomorrow?")
        expect(page.get_by_text("24-hour window open")).to_be_visible()
        expect(page.get_by_role("heading", name="Failed delivery · AWB SR300")).to_be_visible()
        expect(page.get_by_role("button", name="Request reattempt")).to_be_visible()

        page.get_by_label("Reply (free text, inside the window)").fill(REPLY)
        page.get_by_role("button", name="Send reply").click()
        expect(page.get_by_role("status")).to_have_text("reply queued")
        sent = wait_for(
            lambda: [
                r.body
                for r in graph.requests
                if r.body.get("type") == "text" and r.body["text"]["body"] == REPLY
            ]
        )
        assert sent[0]["to"] == CUSTOMER_PHONE.lstrip("+")
        expect(page.locator("#thread .bubble.out").last).to_contain_text(REPLY)
        expect(page.locator("#thread .bubble.out").last).to_contain_text("sent")  # Meta accepted it: one tick
        # The customer reads it: the open page shows the blue ticks by itself, without a reload.
        page.evaluate("window.__notReloaded = true")
        _meta_reports_every_message_read(client, service)
        expect(page.locator("#thread .bubble.out").last.locator(".tick.read")).to_have_text("✓✓")
        assert page.evaluate("window.__notReloaded") is True
        page.locator("#thread").scroll_into_view_if_needed()
        screenshot(page, "console-case.png")

        page.get_by_role("button", name="Resolve case").click()
        expect(page.locator("#case-status")).to_contain_text("resolved")
        page.get_by_role("link", name="Inbox").click()
        expect(page.locator(f'tr[data-case="{case.id}"]')).to_have_count(0)

        page.get_by_role("link", name="Dashboard").click()
        expect(page.get_by_role("heading", name="Failed-delivery funnel")).to_be_visible()
        expect(page.locator("svg.chart")).to_have_count(6)
        expect(page.get_by_role("img", name="NDR funnel")).to_contain_text("failed delivery")
        expect(page.get_by_text("100% within 30 s (1 measured)")).to_be_visible()
        screenshot(page, "console-dashboard.png")

        # courier_env leaves the public URL empty: the link is relative to this service.
        tracking_url = service.url + client.get("/api/v1/orders/shop-1001").json()["tracking_url"]

    phone = new_page(PHONE_VIEWPORT)
    phone.goto(tracking_url)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Delivery attempt failed")
    assert _overflowing(phone) == []
    screenshot(phone, "console-tracking-phone.png")


def test_console_fits_a_phone(service: LiveService, new_page: NewPage, screenshot: Screenshot) -> None:
    page = new_page(PHONE_VIEWPORT)
    _log_in(page, service.url)
    with api(service.url) as client:
        _fail_delivery(client)
        case = wait_for(lambda: _case(service), timeout=30)
    row = page.locator(f'tr[data-case="{case.id}"]')
    expect(row).to_be_visible()
    assert _overflowing(page) == []
    screenshot(page, "console-inbox-phone.png")
    row.get_by_role("link", name="Failed delivery: the customer did not answer").click()
    expect(page.get_by_role("button", name="Resolve case")).to_be_visible()
    assert _overflowing(page) == []
