"""A local fake of Shiprocket's login and track-by-AWB endpoints, in Shiprocket's documented shapes.

`POST /v1/external/auth/login` answers `{"token": ...}` for the configured email and password;
`GET /v1/external/courier/track/awb/{awb}` needs that Bearer token and answers the `tracking` set for
the AWB, else Shiprocket's documented "no activities found" answer (track_status 0);
`POST /v1/external/ndr/{awb}/action` needs the token, records the body and answers 202 as Shiprocket does.
Returns: `POST /v1/external/orders/create/return` records the body and answers `order_id`, `shipment_id`,
`status`; `POST /v1/external/courier/assign/awb` answers `awb_assign_status` and `response.data` with the
AWB (`return_awb`), `courier_name` and `pickup_scheduled_date` (shapes as in integrations/shiprocket/api.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support import loopback
from tests.support.couriers import fixture

EMAIL = "api-user@shop.example"
PASSWORD = "api-password"


@dataclass
class ShiprocketServer:
    """Run with `with ShiprocketServer() as sr:`; `sr.url` is the base to configure."""

    tracking: dict[str, dict[str, Any]] = field(default_factory=dict)
    logins: int = 0
    tracked: list[str] = field(default_factory=list)
    ndr_actions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    returns_created: list[dict[str, Any]] = field(default_factory=list)
    awbs_assigned: list[dict[str, Any]] = field(default_factory=list)
    return_awb: str = "RSR900100"
    port: int = 0
    token: str = "jwt-1"
    _server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _login(self, request: Request) -> JSONResponse:
        body = await request.json()
        if (body.get("email"), body.get("password")) != (EMAIL, PASSWORD):
            return JSONResponse(
                {"message": "Invalid email and password combination", "status_code": 401}, 401
            )
        self.logins += 1
        return JSONResponse({"id": 1, "email": EMAIL, "company_id": 7, "token": self.token})

    async def _track(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"message": "Token has expired", "status_code": 401}, 401)
        awb = request.path_params["awb"]
        self.tracked.append(awb)
        return JSONResponse(self.tracking.get(awb, fixture("shiprocket", "track_awb_no_activity.json")))

    async def _ndr_action(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"message": "Token has expired", "status_code": 401}, 401)
        self.ndr_actions.append((request.path_params["awb"], await request.json()))
        return JSONResponse({"status": "Data Updated Sucessfully"}, 202)

    async def _create_return(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"message": "Token has expired", "status_code": 401}, 401)
        body = await request.json()
        missing = [
            k for k in ("order_id", "pickup_pincode", "shipping_pincode", "order_items") if not body.get(k)
        ]
        if missing:
            return JSONResponse({"message": f"{missing[0]} is required", "status_code": 422}, 422)
        self.returns_created.append(body)
        return JSONResponse(
            {"order_id": 9001, "shipment_id": 8001, "status": "RETURN PENDING", "status_code": 21}
        )

    async def _assign_awb(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"message": "Token has expired", "status_code": 401}, 401)
        body = await request.json()
        self.awbs_assigned.append(body)
        data = {
            "awb_code": self.return_awb,
            "courier_name": "Delhivery Reverse",
            "shipment_id": body.get("shipment_id"),
            "pickup_scheduled_date": "2026-11-28 10:00:00",
        }
        return JSONResponse({"awb_assign_status": 1, "response": {"data": data}})

    def __enter__(self) -> ShiprocketServer:
        app = Starlette(
            routes=[
                Route("/v1/external/auth/login", self._login, methods=["POST"]),
                Route("/v1/external/courier/track/awb/{awb}", self._track, methods=["GET"]),
                Route("/v1/external/ndr/{awb}/action", self._ndr_action, methods=["POST"]),
                Route("/v1/external/orders/create/return", self._create_return, methods=["POST"]),
                Route("/v1/external/courier/assign/awb", self._assign_awb, methods=["POST"]),
            ]
        )
        self._server, self.port = loopback.serve(app)
        return self

    def __exit__(self, *exc: object) -> None:
        loopback.stop(self._server)
