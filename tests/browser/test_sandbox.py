"""The sandbox phone in Chromium: an order's messages as the customer sees them, and the customer's answers.

The order is driven through the REST API; the service sends to its own sandbox Graph endpoint; the page
at /sandbox shows the chat and polls /sandbox/chat; what the customer taps or types goes back through a
signed POST /webhooks/whatsapp, like Meta's deliveries.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    AWB,
    COURIER,
    ORDER_ID,
    PHONE,
    TOTAL,
    Screenshot,
    inbound_messages,
    order,
    place_dispatched_order,
    post,
    post_event,
    sandbox_url,
    view,
    wait_for_delivered,
    webhook_delivery_of,
)
from tests.conftest import wait_for
from tests.support.live import LiveService

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

FIRST_TWO = ["order_confirmation", "order_dispatched"]


def _statuses(message: dict[str, Any]) -> set[str]:
    return {s["status"] for s in message["statuses"]}


def _replies_posted(page: Page) -> Any:
    """Wait for the form post that answers as the customer (a 303 back to the chat)."""
    return page.expect_response(
        lambda r: r.request.method == "POST" and urlsplit(r.url).path == "/sandbox/reply"
    )


def test_chat_shows_the_order_and_links_to_tracking(
    sandbox_service: LiveService, client: httpx.Client, page: Page
) -> None:
    place_dispatched_order(client)
    before = wait_for_delivered(client, FIRST_TWO)
    assert not any("read" in _statuses(m) for m in before["messages"]), "read before anyone looked"
    token = urlsplit(before["tracking_url"]).path.rsplit("/", 1)[1]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(sandbox_url(sandbox_service.url))

    chat = page.locator("#chat")
    expect(page.locator(".bar")).to_have_text(PHONE)
    confirmation = chat.locator(".msg.out").filter(has_text="Order #1001 confirmed")
    expect(confirmation).to_contain_text("Hi Asha, thank you for your order #1001.")
    expect(confirmation).to_contain_text(f"Total: {TOTAL}")
    dispatch = chat.locator(".msg.out").filter(has_text="is on its way")
    expect(dispatch).to_contain_text(f"Courier: {COURIER}")
    expect(dispatch).to_contain_text(f"Tracking number (AWB): {AWB}")
    track = dispatch.get_by_role("link", name="Track order")
    assert track.get_attribute("href") == before["tracking_url"] == f"{sandbox_service.url}/t/{token}"

    with page.context.expect_page() as opened:  # the button opens a new tab, as WhatsApp opens a browser
        track.click()
    tracking = opened.value
    tracking.wait_for_load_state()
    assert urlsplit(tracking.url).path == f"/t/{token}"
    shipment = tracking.get_by_role("region", name="shipment")
    expect(shipment).to_contain_text(AWB)
    expect(shipment).to_contain_text(COURIER)
    tracking.close()

    # Opening the chat sent read receipts for both messages, back through the webhook.
    def all_read() -> dict[str, Any] | None:
        current = view(client)
        return current if all("read" in _statuses(m) for m in current["messages"]) else None

    after = wait_for(all_read)
    assert [m["status"] for m in after["messages"]] == ["read", "read"]
    # The page learns of it on its next poll: blue ticks, without a reload.
    expect(chat.locator(".msg.out .tick-read")).to_have_count(2)
    assert errors == []


def test_chat_updates_live_and_customer_answers_arrive_as_webhooks(
    sandbox_service: LiveService, client: httpx.Client, page: Page, screenshot: Screenshot
) -> None:
    place_dispatched_order(client)
    wait_for_delivered(client, FIRST_TWO)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(sandbox_url(sandbox_service.url))
    chat = page.locator("#chat")
    expect(chat.locator(".msg")).to_have_count(2)
    page.evaluate("window.sameDocument = true")

    # A new event while the page is open: its message appears by polling, not by reloading.
    post_event(client, ORDER_ID, {"type": "delivery_failed", "awb": AWB, "reason": "customer not available"})
    failed = chat.locator(".msg.out").filter(has_text="We could not deliver your order #1001 today.")
    expect(failed).to_contain_text("The courier reported: customer not available.")
    assert page.evaluate("window.sameDocument") is True
    sent = wait_for_delivered(client, [*FIRST_TWO, "order_delivery_failed"])
    failed_wamid = sent["messages"][2]["wamid"]
    expect(failed).to_have_attribute("data-wamid", failed_wamid)

    # The customer taps the quick-reply button.
    with _replies_posted(page) as tapped:
        failed.get_by_role("button", name="Reschedule").click()
    assert tapped.value.status == 303
    tap = wait_for(lambda: next((m for m in inbound_messages(sandbox_service) if m.kind == "button"), None))
    assert (tap.direction, tap.status) == ("in", "received")
    assert tap.payload["from"] == PHONE.removeprefix("+")
    assert tap.payload["button"] == {"text": "Reschedule", "payload": f"ndr:reschedule:{AWB}"}
    assert tap.payload["context"]["id"] == failed_wamid  # an answer to that very message
    assert webhook_delivery_of(sandbox_service, tap.wamid) is not None, "not received by /webhooks/whatsapp"
    tap_bubble = chat.locator(f'.msg.in[data-wamid="{tap.wamid}"] .bubble')
    expect(tap_bubble).to_contain_text("Reschedule")
    # Text, then the time on the next line: no stray blank lines from the template's own whitespace.
    assert re.fullmatch(r"Reschedule\n\d\d:\d\d", tap_bubble.inner_text()), repr(tap_bubble.inner_text())

    # The tap opened the service window: the next delivery days come as a list, and the customer picks one.
    days = chat.locator(".msg.out").filter(has_text="on which day should the courier try again?")
    expect(days).to_have_count(1)
    first_day = days.get_by_role("button").first
    label = first_day.inner_text()
    with _replies_posted(page) as picked:
        first_day.click()
    assert picked.value.status == 303
    pick = wait_for(
        lambda: next((m for m in inbound_messages(sandbox_service) if m.kind == "interactive"), None)
    )
    assert pick.payload["interactive"]["type"] == "list_reply"
    assert pick.payload["interactive"]["list_reply"]["title"] == label
    assert pick.payload["interactive"]["list_reply"]["id"].startswith(f"ndr:day:{AWB}:")
    expect(chat.locator(f'.msg.in[data-wamid="{pick.wamid}"] .bubble')).to_contain_text(label)
    expect(chat.locator(".msg.out").filter(has_text="Done: the courier will try again")).to_have_count(1)

    # The customer types a message.
    text = "Please come after 6 pm, I'm at work till then"
    reply = _type_as_customer(page, sandbox_service, text)
    assert (reply.direction, reply.kind, reply.payload["text"]) == ("in", "text", {"body": text})
    expect(chat.locator(f'.msg.in[data-wamid="{reply.wamid}"] .bubble')).to_contain_text(text)
    # The bot did not understand it: it asks once, with the quick options.
    unclear = chat.locator(".msg.out").filter(has_text="Sorry, I did not quite get that.")
    expect(unclear).to_have_count(1)
    expect(unclear.get_by_role("button", name="Talk to a person")).to_have_count(1)
    expect(chat.locator(".msg.out .tick-read")).to_have_count(6)  # all six read: blue ticks
    expect(page.get_by_label("message", exact=True)).to_have_value("")
    screenshot(page, "sandbox.png")

    # What the customer types is shown as text, never as markup.
    markup = "<b>not</b> before 6 & <i>ring twice</i>"
    escaped = _type_as_customer(page, sandbox_service, markup)
    bubble = chat.locator(f'.msg.in[data-wamid="{escaped.wamid}"] .bubble')
    expect(bubble).to_contain_text(markup)
    expect(bubble.locator("b, i")).to_have_count(0)
    assert [m.kind for m in inbound_messages(sandbox_service)] == ["button", "interactive", "text", "text"]
    # Not understood twice in a row: handed to staff, and the customer is told so.
    handed = chat.locator(".msg.out").filter(has_text="Let me pass this to our team")
    expect(handed).to_have_count(1)
    assert errors == []


def test_stop_reply_stops_further_updates(
    sandbox_service: LiveService, client: httpx.Client, page: Page
) -> None:
    post(client, "/api/v1/orders", order())
    post_event(client, ORDER_ID, {"type": "paid", "payment_id": "pay_1"})
    wait_for_delivered(client, ["order_confirmation"])
    page.goto(sandbox_url(sandbox_service.url))
    expect(page.locator("#chat .msg.out .foot")).to_have_text("Reply STOP to stop updates")

    _type_as_customer(page, sandbox_service, "STOP")
    post_event(client, ORDER_ID, {"type": "dispatched", "awb": AWB, "courier": COURIER})

    def dispatch_settled() -> dict[str, Any] | None:
        sent = [m for m in view(client)["messages"] if m["template"] == "order_dispatched"]
        return sent[0] if sent and sent[0]["status"] not in ("scheduled", "queued") else None

    assert wait_for(dispatch_settled)["status"] == "suppressed"


def _type_as_customer(page: Page, live: LiveService, text: str) -> Any:
    """Type in the compose box and send; returns the inbound message row the webhook stored."""
    known = {m.wamid for m in inbound_messages(live)}
    box = page.get_by_label("message", exact=True)
    box.fill(text)
    with _replies_posted(page) as sent:
        box.press("Enter")
    assert sent.value.status == 303
    reply = wait_for(lambda: next((m for m in inbound_messages(live) if m.wamid not in known), None))
    assert webhook_delivery_of(live, reply.wamid) is not None, "not received by /webhooks/whatsapp"
    return reply
