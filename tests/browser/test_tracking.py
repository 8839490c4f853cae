"""The public tracking page /t/{token} on a small phone (360×740): fits, needs no JavaScript, stays small,
and shows no more personal data than a first name.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.support import (
    AWB,
    COURIER,
    LINE1,
    LINE2,
    PHONE,
    PHONE_VIEWPORT,
    TOTAL,
    NewPage,
    Screenshot,
    place_dispatched_order,
    post_event,
    wait_for_stage,
)
from tests.support.live import LiveService

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

MAX_HTML_BYTES = 50_000
HEADLINE = {"en": "Out for delivery today", "hi": "आज डिलीवरी"}


def out_for_delivery(client: httpx.Client, language: str = "en") -> str:
    """An order with a journey of scans, out for delivery; returns its tracking link."""
    order_id = f"shop-1001-{language}"
    place_dispatched_order(client, order_id, language)
    post_event(
        client,
        order_id,
        {
            "type": "in_transit",
            "awb": AWB,
            "location": "Hosur sorting centre",
            "description": "Arrived at the sorting centre",
        },
    )
    post_event(
        client,
        order_id,
        {
            "type": "out_for_delivery",
            "awb": AWB,
            "window": "between 14:00 and 18:00",
            "location": "Indiranagar delivery centre",
        },
    )
    url: str = wait_for_stage(client, "out_for_delivery", order_id)["tracking_url"]
    return url


def phone_page(new_page: NewPage, javascript: bool = True) -> Page:
    return new_page(PHONE_VIEWPORT, is_mobile=True, has_touch=True, java_script_enabled=javascript)


def assert_fits_width(page: Page) -> None:
    """The layout viewport is the phone's width (meta viewport honoured) and nothing scrolls sideways."""
    phone = PHONE_VIEWPORT["width"]
    width = page.evaluate("document.documentElement.clientWidth")
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width == phone, f"layout viewport is {width}px, not the phone's {phone}px"
    assert scroll_width <= phone, f"page is {scroll_width}px wide: it scrolls sideways"


@pytest.mark.parametrize("language", ["en", "hi"])
def test_fits_a_phone_screen(
    client: httpx.Client, new_page: NewPage, screenshot: Screenshot, language: str
) -> None:
    page = phone_page(new_page)
    response = page.goto(out_for_delivery(client, language))
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADLINE[language])
    assert_fits_width(page)
    if language == "en":
        screenshot(page, "tracking.png")


def test_works_without_javascript_and_stays_small(client: httpx.Client, new_page: NewPage) -> None:
    page = phone_page(new_page, javascript=False)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    url = out_for_delivery(client)

    response = page.goto(url)

    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.body()
    assert len(html) < MAX_HTML_BYTES, f"tracking page is {len(html)} bytes"
    assert b"<script" not in html
    assert [r.url for r in requests] == [url], "the page must need nothing but its own HTML"
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADLINE["en"])
    expect(page.get_by_text("Expected by Thu, 3 Dec")).to_be_visible()
    shipment = page.get_by_role("region", name="shipment")
    expect(shipment).to_contain_text(COURIER)
    expect(shipment).to_contain_text(AWB)
    expect(shipment).to_contain_text("Indiranagar delivery centre")
    history = page.get_by_role("region", name="history")
    expect(history.locator("li")).to_have_count(3)
    expect(history.locator("li").first).to_contain_text("out for delivery")
    expect(history).to_contain_text("Arrived at the sorting centre")
    items = page.get_by_role("region", name="items")
    expect(items).to_contain_text("2 × Cotton Kurta")
    expect(items).to_contain_text(TOTAL)
    assert_fits_width(page)


def test_masks_personal_data(client: httpx.Client, new_page: NewPage) -> None:
    page = phone_page(new_page)
    response = page.goto(out_for_delivery(client))
    assert response is not None and response.status == 200
    html = response.text()

    national = PHONE.removeprefix("+91")
    for secret in (PHONE, national, f"{national[:5]} {national[5:]}", LINE1, LINE2, "MG Road"):
        assert secret not in html, f"{secret!r} is on the public tracking page"
    assert "Asha Rao" not in html and "Hi Asha" in html  # first name only
    assert "560001" not in html and "Bengaluru 560***" in html
    expect(page.get_by_role("region", name="status")).to_contain_text("Hi Asha · Order #1001")
    # Whoever holds the link sees it; nobody else should keep or index it.
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-robots-tag"] == "noindex"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(secrets.token_urlsafe(24), id="unknown-token"),
        pytest.param("x" * 65, id="overlong-token"),
    ],
)
def test_unknown_link_gets_a_friendly_404(
    sandbox_service: LiveService, new_page: NewPage, token: str
) -> None:
    page = phone_page(new_page)
    response = page.goto(f"{sandbox_service.url}/t/{token}")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page).to_have_title("Link not found")
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find this order")
    expect(page.get_by_text("open the link from your WhatsApp message again")).to_be_visible()
    assert urlsplit(page.url).path == f"/t/{token}"
    assert_fits_width(page)
