"""WooCommerce REST API v3: read an order, cancel it, hold its dispatch with a private note and a flag.

Sources: woocommerce.github.io/woocommerce-rest-api-docs (#authentication: over HTTPS the consumer key and
secret as HTTP Basic auth; #retrieve-an-order `GET /wp-json/wc/v3/orders/{id}`, 404 with code
`woocommerce_rest_shop_order_invalid_id`; #update-an-order `PUT /wp-json/wc/v3/orders/{id}` with
`status` or `meta_data[{key, value}]`; #create-an-order-note `POST /wp-json/wc/v3/orders/{id}/notes` with
`note` and `customer_note` (false: private)); errors as `{"code", "message", "data": {"status"}}`.

The hold is a private order note for the warehouse plus the order meta `orderwire_hold` = yes | no (for
fulfilment plugins to filter on); the status is left alone: moving a processing order to on-hold and
back makes WooCommerce e-mail the customer "your order is being processed" again, and on-hold means
"awaiting payment" to everyone else reading the order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from orderwire.app.ports import VendorError
from orderwire.domain.events import OrderPlaced
from orderwire.integrations.base import PayloadError
from orderwire.integrations.woocommerce.orders import placed

HOLD_META = "orderwire_hold"
LOOPBACK = ("127.0.0.1", "localhost", "::1")  # a local test server may speak plain HTTP


class WooCommerceApi:
    """The store's REST API with one consumer key (ShopPort)."""

    name = "woocommerce"

    def __init__(self, site_url: str, key: str, secret: str, timeout: float = 10.0) -> None:
        parts = urlsplit(site_url)
        if parts.scheme != "https" and parts.hostname not in LOOPBACK:
            raise ValueError("WooCommerce's API takes the consumer key over HTTPS only")
        base = f"{site_url.rstrip('/')}/wp-json/wc/v3"
        self._http = httpx.Client(base_url=base, auth=(key, secret), timeout=timeout)

    def fetch_order(self, shop_order_id: str) -> OrderPlaced | None:
        """The order as the order.updated webhook would give it; None when the store has no such order."""
        answer = self._call("GET", f"/orders/{_id(shop_order_id)}", missing_ok=True)
        if answer is None:
            return None
        try:
            return placed(answer)[0]
        except PayloadError as exc:
            raise VendorError(
                f"WooCommerce order {shop_order_id}: unreadable ({exc})", retryable=False
            ) from exc

    def cancel_order(self, shop_order_id: str, reason: str) -> None:
        """Set the order cancelled (WooCommerce restocks it) and say why in a private note."""
        order = _id(shop_order_id)
        self._call("PUT", f"/orders/{order}", {"status": "cancelled"})
        self._note(order, f"Cancelled by Orderwire: {reason}" if reason else "Cancelled by Orderwire")

    def hold_dispatch(self, shop_order_id: str, hold: bool) -> None:
        """Flag (or clear) the hold in the order's meta and leave the warehouse a private note."""
        order = _id(shop_order_id)
        meta = {"meta_data": [{"key": HOLD_META, "value": "yes" if hold else "no"}]}
        self._call("PUT", f"/orders/{order}", meta)
        text = "Orderwire: HOLD — do not dispatch yet" if hold else "Orderwire: hold released, dispatch"
        self._note(order, text)

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def _note(self, order: str, note: str) -> None:
        self._call("POST", f"/orders/{order}/notes", {"note": note, "customer_note": False})

    def _call(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, missing_ok: bool = False
    ) -> dict[str, Any] | None:
        try:
            response = self._http.request(method, path, json=dict(body) if body is not None else None)
        except httpx.HTTPError as exc:  # timeouts and connection failures: worth another try
            raise VendorError(f"WooCommerce {method} {path}: {type(exc).__name__}") from exc
        status = response.status_code
        if status == 404 and missing_ok:
            return None
        if status >= 400:
            detail = response.text[:200]
            retryable = status == 429 or status >= 500
            raise VendorError(f"WooCommerce {method} {path}: HTTP {status} {detail}", retryable=retryable)
        try:
            answer = response.json()
        except ValueError as exc:
            raise VendorError(f"WooCommerce {method} {path}: answer is not JSON") from exc
        if not isinstance(answer, dict):
            raise VendorError(f"WooCommerce {method} {path}: answer is not a JSON object", retryable=False)
        return answer


def _id(shop_order_id: str) -> str:
    if not shop_order_id.isdigit():
        raise VendorError(f"not a WooCommerce order id: {shop_order_id!r}", retryable=False)
    return quote(shop_order_id, safe="")
