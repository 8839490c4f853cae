"""Local fakes of the Shopify Admin REST API and the WooCommerce REST API, in their documented shapes.

Shopify (`/admin/api/{version}/…`, `X-Shopify-Access-Token`): `GET orders/{id}.json` (with `fields`),
`POST orders/{id}/cancel.json` (422 once cancelled), `PUT orders/{id}.json` (tags), `GET products.json`
(paged by a `Link: <…page_info=…>; rel="next"` header) and `GET inventory_levels.json`; errors as
`{"errors": …}`, 429 with `Retry-After`.
WooCommerce (`/wp-json/wc/v3/…`, HTTP Basic with the consumer key and secret): `GET`/`PUT orders/{id}`,
`POST orders/{id}/notes` (201); errors as `{"code", "message", "data": {"status"}}`.
Both record every request; `fail_next` makes the next requests answer the given HTTP statuses.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support import loopback

SHOPIFY_TOKEN = "shpat_test_admin_token"
WC_KEY = "ck_test_consumer_key"
WC_SECRET = "cs_test_consumer_secret"


@dataclass(frozen=True)
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class _Server:
    port: int = 0
    requests: list[Seen] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    _server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self) -> list[Route]:
        raise NotImplementedError

    async def _seen(self, request: Request) -> Any:
        raw = await request.body()
        body = json.loads(raw) if raw else None
        self.requests.append(
            Seen(request.method, request.url.path, dict(request.query_params), dict(request.headers), body)
        )
        return body

    def _failure(self) -> Response | None:
        if not self.fail_next:
            return None
        status = self.fail_next.pop(0)
        headers = {"Retry-After": "2.0"} if status == 429 else {}
        return JSONResponse(self.error_body(status), status, headers=headers)

    def error_body(self, status: int) -> dict[str, Any]:
        raise NotImplementedError

    def __enter__(self) -> Any:
        app = Starlette(routes=self.routes())
        self._server, self.port = loopback.serve(app)
        return self

    def __exit__(self, *exc: object) -> None:
        loopback.stop(self._server)


@dataclass
class ShopifyServer(_Server):
    """`with ShopifyServer() as shop:`; `shop.orders[id]` are Order resources, `shop.products` Products."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: list[dict[str, Any]] = field(default_factory=list)
    levels: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2

    def routes(self) -> list[Route]:
        base = "/admin/api/{version}"
        return [
            Route(base + "/orders/{order_id}.json", self._order, methods=["GET", "PUT"]),
            Route(base + "/orders/{order_id}/cancel.json", self._cancel, methods=["POST"]),
            Route(base + "/products.json", self._products, methods=["GET"]),
            Route(base + "/inventory_levels.json", self._levels, methods=["GET"]),
        ]

    def error_body(self, status: int) -> dict[str, Any]:
        messages = {
            401: "[API] Invalid API key or access token (unrecognized login or wrong password)",
            404: "Not Found",
            429: "Exceeded 2 calls per second for api client. Reduce request rates to resume"
            " uninterrupted service.",
        }
        return {"errors": messages.get(status, "Internal Server Error")}

    async def _checked(self, request: Request) -> tuple[Any, Response | None]:
        body = await self._seen(request)
        if request.headers.get("x-shopify-access-token") != SHOPIFY_TOKEN:
            return body, JSONResponse(self.error_body(401), 401)
        return body, self._failure()

    async def _order(self, request: Request) -> Response:
        body, refused = await self._checked(request)
        if refused is not None:
            return refused
        order = self.orders.get(request.path_params["order_id"])
        if order is None:
            return JSONResponse(self.error_body(404), 404)
        if request.method == "PUT":
            order.update({k: v for k, v in body["order"].items() if k != "id"})
        shown = copy.deepcopy(order)
        if fields := request.query_params.get("fields"):
            shown = {k: v for k, v in shown.items() if k in fields.split(",")}
        return JSONResponse({"order": shown})

    async def _cancel(self, request: Request) -> Response:
        _, refused = await self._checked(request)
        if refused is not None:
            return refused
        order = self.orders.get(request.path_params["order_id"])
        if order is None:
            return JSONResponse(self.error_body(404), 404)
        if order.get("cancelled_at"):
            return JSONResponse({"error": "Order has already been cancelled"}, 422)
        order.update({"cancelled_at": "2026-12-01T10:00:00+05:30", "cancel_reason": "customer"})
        return JSONResponse({"order": order})

    async def _products(self, request: Request) -> Response:
        _, refused = await self._checked(request)
        if refused is not None:
            return refused
        start = int(request.query_params.get("page_info", "0"))
        page = self.products[start : start + self.page_size]
        headers = {}
        if start + self.page_size < len(self.products):
            following = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
            headers["Link"] = (
                f'<{following}?limit={self.page_size}&page_info={start + self.page_size}>; rel="next"'
            )
        return JSONResponse({"products": page}, headers=headers)

    async def _levels(self, request: Request) -> Response:
        _, refused = await self._checked(request)
        if refused is not None:
            return refused
        wanted = set(request.query_params.get("inventory_item_ids", "").split(","))
        return JSONResponse(
            {"inventory_levels": [lv for lv in self.levels if str(lv["inventory_item_id"]) in wanted]}
        )


@dataclass
class WooCommerceServer(_Server):
    """`with WooCommerceServer() as wc:`; `wc.orders[id]` are REST v3 orders, `wc.notes[id]` their notes."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def routes(self) -> list[Route]:
        return [
            Route("/wp-json/wc/v3/orders/{order_id}", self._order, methods=["GET", "PUT"]),
            Route("/wp-json/wc/v3/orders/{order_id}/notes", self._note, methods=["POST"]),
        ]

    def error_body(self, status: int) -> dict[str, Any]:
        codes = {
            401: ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
            404: ("woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
        }
        code, message = codes.get(status, ("internal_server_error", "There has been a critical error."))
        return {"code": code, "message": message, "data": {"status": status}}

    async def _checked(self, request: Request) -> tuple[Any, Response | None]:
        body = await self._seen(request)
        expected = "Basic " + base64.b64encode(f"{WC_KEY}:{WC_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return body, JSONResponse(self.error_body(401), 401)
        if (failed := self._failure()) is not None:
            return body, failed
        if request.path_params["order_id"] not in self.orders:
            return body, JSONResponse(self.error_body(404), 404)
        return body, None

    async def _order(self, request: Request) -> Response:
        body, refused = await self._checked(request)
        if refused is not None:
            return refused
        order = self.orders[request.path_params["order_id"]]
        if request.method == "PUT":
            body = copy.deepcopy(body)
            for meta in body.pop("meta_data", []):
                kept = [m for m in order.setdefault("meta_data", []) if m["key"] != meta["key"]]
                order["meta_data"] = [*kept, {"id": len(kept) + 900, **meta}]
            order.update(body)
        return JSONResponse(order)

    async def _note(self, request: Request) -> Response:
        body, refused = await self._checked(request)
        if refused is not None:
            return refused
        notes = self.notes.setdefault(request.path_params["order_id"], [])
        note = {
            "id": 281 + len(notes),
            "author": "system",
            "date_created": "2026-12-01T10:00:00",
            "date_created_gmt": "2026-12-01T04:30:00",
            "note": body["note"],
            "customer_note": bool(body.get("customer_note", False)),
        }
        notes.append(note)
        return JSONResponse(note, 201)
