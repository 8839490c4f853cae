"""Shopify Admin REST API: read an order, cancel it, hold its dispatch with a tag, read stock by SKU.

Sources: shopify.dev/docs/api/admin-rest (base `https://{shop}.myshopify.com/admin/api/{version}/`,
header `X-Shopify-Access-Token`, versions `YYYY-MM`, 429 with `Retry-After` when throttled, errors as
`{"errors": …}`; pagination by the `Link` header's `rel="next"`), resources Order (`GET
orders/{id}.json` -> `{"order": …}`, `POST orders/{id}/cancel.json` with `reason` customer | inventory |
fraud | declined | other, `email`, `restock`; `PUT orders/{id}.json` with `{"order": {"id", "tags"}}`),
Product (`GET products.json?fields=variants` — variants carry `sku` and `inventory_item_id`) and
InventoryLevel (`GET inventory_levels.json?inventory_item_ids=…` -> `available` per location).

Shopify calls REST a legacy API and builds new features in GraphQL; REST stays served for custom apps and
its Order resource is exactly the webhook body, so `fetch_order` shares the webhook's mapping (orders.py).
The hold is a tag (`orderwire-hold`) the warehouse filters on; Shopify's fulfillment-order holds would stop
fulfilment apps too, and are the next step if a shop needs that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from orderwire.app.ports import StockLevel, VendorError
from orderwire.domain.events import OrderPlaced
from orderwire.integrations.base import PayloadError, items, mapping, text
from orderwire.integrations.shopify.orders import placed

HOLD_TAG = "orderwire-hold"
LOOPBACK = ("127.0.0.1", "localhost", "::1")  # a local test server may speak plain HTTP
CANCEL_REASONS = ("customer", "inventory", "fraud", "declined")
MAX_PAGES = 40  # products.json pages of 250 read for a stock look-up (10,000 products)


class ShopifyApi:
    """The shop's Admin API with one access token (ShopPort and InventoryPort)."""

    name = "shopify"

    def __init__(self, shop_url: str, token: str, version: str, timeout: float = 10.0) -> None:
        parts = urlsplit(shop_url)
        if parts.scheme != "https" and parts.hostname not in LOOPBACK:
            raise ValueError("Shopify's Admin API takes the access token over HTTPS only")
        base = f"{shop_url.rstrip('/')}/admin/api/{version}"
        headers = {"X-Shopify-Access-Token": token, "Accept": "application/json"}
        self._http = httpx.Client(base_url=base, headers=headers, timeout=timeout)

    def fetch_order(self, shop_order_id: str) -> OrderPlaced | None:
        """The order as the orders/updated webhook would give it; None when Shopify has no such order."""
        answer = self._call("GET", f"/orders/{_id(shop_order_id)}.json", missing_ok=True)
        if answer is None:
            return None
        try:
            return placed(mapping(answer, "order"))[0]
        except PayloadError as exc:
            raise VendorError(f"Shopify order {shop_order_id}: unreadable ({exc})", retryable=False) from exc

    def cancel_order(self, shop_order_id: str, reason: str) -> None:
        """Cancel and restock, without Shopify's own e-mail (the customer hears from us)."""
        word = next((r for r in CANCEL_REASONS if r in reason.lower()), "other")
        body = {"reason": word, "email": False, "restock": True}
        self._call("POST", f"/orders/{_id(shop_order_id)}/cancel.json", body)

    def hold_dispatch(self, shop_order_id: str, hold: bool) -> None:
        """Add (or remove) the `orderwire-hold` tag, keeping the order's other tags."""
        path = f"/orders/{_id(shop_order_id)}.json"
        order = mapping(self._call("GET", path, params={"fields": "id,tags"}) or {}, "order")
        tags = [t.strip() for t in text(order, "tags").split(",") if t.strip()]
        others = [t for t in tags if t.lower() != HOLD_TAG]
        wanted = [*others, HOLD_TAG] if hold else others
        if wanted != tags:
            self._call("PUT", path, {"order": {"id": int(_id(shop_order_id)), "tags": ", ".join(wanted)}})

    def levels(self, skus: list[str]) -> dict[str, StockLevel]:
        """Units available across the shop's locations for each SKU Shopify knows."""
        wanted, by_item = set(skus), dict[str, str]()
        path: str | None = "/products.json"
        params: dict[str, Any] | None = {"fields": "id,variants", "limit": 250}
        for _ in range(MAX_PAGES):
            if path is None or len(by_item) == len(wanted):
                break
            page, path = self._page(path, params)
            params = None  # the next link carries its own query
            for product in items(page, "products"):
                for variant in items(product, "variants"):
                    if text(variant, "sku") in wanted and text(variant, "inventory_item_id"):
                        by_item[text(variant, "inventory_item_id")] = text(variant, "sku")
        if not by_item:
            return {}
        answer = self._call(
            "GET",
            "/inventory_levels.json",
            params={"inventory_item_ids": ",".join(by_item), "limit": 250},
        )
        totals = {sku: 0 for sku in by_item.values()}
        for level in items(answer or {}, "inventory_levels"):
            sku = by_item.get(text(level, "inventory_item_id"))
            if sku is not None and text(level, "available").lstrip("-").isdigit():
                totals[sku] += int(text(level, "available"))
        return {sku: StockLevel(sku, max(0, n)) for sku, n in totals.items()}

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def _page(self, path: str, params: dict[str, Any] | None) -> tuple[dict[str, Any], str | None]:
        response = self._send("GET", path, None, params)
        body = _checked(response, path, missing_ok=False) or {}
        following = response.links.get("next", {}).get("url")
        if following and not following.startswith(str(self._http.base_url).rstrip("/") + "/"):
            following = None  # never send the token anywhere but the shop
        return body, following

    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        missing_ok: bool = False,
    ) -> dict[str, Any] | None:
        return _checked(self._send(method, path, body, params), path, missing_ok)

    def _send(
        self, method: str, path: str, body: Mapping[str, Any] | None, params: dict[str, Any] | None
    ) -> httpx.Response:
        try:
            return self._http.request(
                method, path, json=dict(body) if body is not None else None, params=params
            )
        except httpx.HTTPError as exc:  # timeouts and connection failures: worth another try
            raise VendorError(f"Shopify {method} {path.split('?')[0]}: {type(exc).__name__}") from exc


def _id(shop_order_id: str) -> str:
    if not shop_order_id.isdigit():
        raise VendorError(f"not a Shopify order id: {shop_order_id!r}", retryable=False)
    return quote(shop_order_id, safe="")


def _checked(response: httpx.Response, path: str, missing_ok: bool) -> dict[str, Any] | None:
    """The JSON answer, None for a 404 that is allowed, else VendorError (retryable: 429, 5xx)."""
    status = response.status_code
    if status == 404 and missing_ok:
        return None
    if status >= 400:
        detail = response.text[:200]
        raise VendorError(f"Shopify {path}: HTTP {status} {detail}", retryable=status == 429 or status >= 500)
    try:
        body = response.json() if response.content else {}
    except ValueError as exc:
        raise VendorError(f"Shopify {path}: answer is not JSON") from exc
    if not isinstance(body, dict):
        raise VendorError(f"Shopify {path}: answer is not a JSON object", retryable=False)
    return body
