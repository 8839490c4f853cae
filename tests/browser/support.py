"""Plain helpers for the browser tests: an order to drive through the API, and ways to watch it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from playwright.sync_api import Page, ViewportSize

from orderwire.app.runtime import Runtime
from orderwire.store.tables import inbound, messages
from tests.conftest import wait_for
from tests.support.live import LiveService

DESKTOP_VIEWPORT = ViewportSize(width=1280, height=900)
PHONE_VIEWPORT = ViewportSize(width=360, height=740)

PHONE = "+919812345678"  # E.164 form of ORDER's "+91 98123 45678"
ORDER_ID = "shop-1001"
AWB = "AWB7310042"
COURIER = "Delhivery"
LINE1 = "Flat 4B, 12 MG Road"
LINE2 = "Lakeview Residency"

ORDER: dict[str, Any] = {
    "order_id": ORDER_ID,
    "number": "#1001",
    "currency": "INR",
    "customer": {"phone": "+91 98123 45678", "name": "Asha Rao", "language": "en"},
    "items": [{"name": "Cotton Kurta", "quantity": 2, "unit_price": 6172800}],
    "shipping_address": {"line1": LINE1, "line2": LINE2, "city": "Bengaluru", "pincode": "560001"},
    "expected_delivery_date": "2026-12-03",
}
TOTAL = "₹1,23,456.00"  # 2 × ₹61,728.00, Indian digit grouping


class NewPage(Protocol):
    """The `new_page` fixture: a page in a fresh browser context, closed after the test."""

    def __call__(self, viewport: ViewportSize = DESKTOP_VIEWPORT, **options: Any) -> Page: ...


Screenshot = Callable[[Page, str], Path | None]  # the `screenshot` fixture


def order(language: str = "en", order_id: str = ORDER_ID) -> dict[str, Any]:
    """ORDER, in the customer's language and under its own id."""
    return {**ORDER, "order_id": order_id, "customer": {**ORDER["customer"], "language": language}}


def post(client: httpx.Client, path: str, body: dict[str, Any]) -> None:
    answer = client.post(path, json=body)
    assert answer.status_code == 202, answer.text


def post_event(client: httpx.Client, order_id: str, event: dict[str, Any]) -> None:
    post(client, f"/api/v1/orders/{order_id}/events", event)


def view(client: httpx.Client, order_id: str = ORDER_ID) -> dict[str, Any]:
    """GET /api/v1/orders/{order_id}: stage, timeline, messages and their statuses."""
    found = find(client, order_id)
    assert found is not None, f"unknown order {order_id}"
    return found


def find(client: httpx.Client, order_id: str) -> dict[str, Any] | None:
    """The order's view, or None while the service has not processed its creation yet."""
    answer = client.get(f"/api/v1/orders/{order_id}")
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def wait_for_delivered(
    client: httpx.Client, templates: list[str], order_id: str = ORDER_ID
) -> dict[str, Any]:
    """The order's view once exactly `templates` went out and the sandbox phone reported each delivered."""

    def done() -> dict[str, Any] | None:
        current = find(client, order_id)
        if current is None:
            return None
        sent = current["messages"]
        arrived = all("delivered" in {s["status"] for s in m["statuses"]} for m in sent)
        return current if [m["template"] for m in sent] == templates and arrived else None

    result: dict[str, Any] = wait_for(done, timeout=20)
    return result


def wait_for_stage(client: httpx.Client, stage: str, order_id: str = ORDER_ID) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        current = find(client, order_id)
        return current if current is not None and current["stage"] == stage else None

    result: dict[str, Any] = wait_for(reached, timeout=20)
    return result


def place_dispatched_order(client: httpx.Client, order_id: str = ORDER_ID, language: str = "en") -> None:
    """Placed, paid and handed to the courier: confirmation and dispatch messages follow."""
    post(client, "/api/v1/orders", order(language, order_id))
    post_event(client, order_id, {"type": "paid", "payment_id": "pay_1"})
    post_event(
        client,
        order_id,
        {"type": "dispatched", "awb": AWB, "courier": COURIER, "location": "Bengaluru hub"},
    )


def sandbox_url(base_url: str, phone: str = PHONE) -> str:
    """The sandbox phone page for one chat (the "+" of the E.164 number must be encoded)."""
    return f"{base_url}/sandbox?phone={quote(phone, safe='')}"


def runtime(live: LiveService) -> Runtime:
    assert live.rt is not None, "the service is not running"
    return live.rt


def inbound_messages(live: LiveService) -> list[sa.Row[Any]]:
    """What the customer sent, as the webhook handler stored it."""
    with runtime(live).engine.connect() as conn:
        return list(
            conn.execute(sa.select(messages).where(messages.c.direction == "in").order_by(messages.c.id))
        )


def webhook_delivery_of(live: LiveService, wamid: str) -> sa.Row[Any] | None:
    """The raw WhatsApp webhook delivery that carried a message (written only by POST /webhooks/whatsapp)."""
    with runtime(live).engine.connect() as conn:
        return conn.execute(
            sa.select(inbound).where(
                inbound.c.source == "whatsapp", inbound.c.body.contains(wamid, autoescape=True)
            )
        ).first()
