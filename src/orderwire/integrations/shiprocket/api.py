"""Shiprocket's REST API, for tracking a parcel by AWB when its courier has gone quiet.

Sources: apidocs.shiprocket.in, "Authentication API" (`POST /v1/external/auth/login` with the API user's
`email` and `password` answers `token`, a JWT valid for 10 days, sent as `Authorization: Bearer`) and
"Tracking" → "Get Tracking through AWB" (`GET /v1/external/courier/track/awb/{awb_code}` answers
`tracking_data` with `track_status` (0: no activity yet), `shipment_status`, `shipment_track[]`
(`courier_name`, `edd`), `shipment_track_activities[]` (scans, as in the webhook), `track_url`, `etd`);
"NDR" → "Action NDR" (`POST /v1/external/ndr/{awb}/action` with `action` re-attempt | return | fake-attempt,
`comments` (required), optional `phone`, `address1`, `address2`, `deferred_date`; answers 202
`{"status": "Data Updated Sucessfully"}`).
Return orders (returns helper): "Orders" → "Create Return Order" (`POST /v1/external/orders/create/return`:
`order_id`, `order_date`, `pickup_*` = the customer, `shipping_*` = the shop's warehouse, `order_items[]`
(`name`, `sku`, `units`, `selling_price`), `payment_method`, `sub_total`, `length`, `breadth`, `height`,
`weight`; answers `order_id`, `shipment_id`, `status`) and "Generate AWB for Shipment"
(`POST /v1/external/courier/assign/awb` with `shipment_id` and `is_return: 1`; answers
`response.data.awb_code`, `courier_name`, `pickup_scheduled_date`). Apidocs.shiprocket.in could not be
read from here: these shapes follow public client code that calls these endpoints and are unconfirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from orderwire.integrations.base import Parcel, Routed, day, items, mapping, text
from orderwire.integrations.shiprocket.scans import routed_events

LOGIN_PATH = "/v1/external/auth/login"
TRACK_PATH = "/v1/external/courier/track/awb/{awb}"
NDR_ACTION_PATH = "/v1/external/ndr/{awb}/action"
RETURN_ORDER_PATH = "/v1/external/orders/create/return"
ASSIGN_AWB_PATH = "/v1/external/courier/assign/awb"
TOKEN_LIFETIME = timedelta(days=9)  # Shiprocket's is 10 days; renew a day early


class ShiprocketApiError(Exception):
    """The API did not answer usefully (network, 4xx, 5xx, an unreadable body)."""


class ShiprocketRefused(ShiprocketApiError):
    """Shiprocket answered 4xx to a request: the same request again will be refused again (returns)."""


def parse_tracking(awb: str, data: Mapping[str, Any]) -> tuple[Routed, ...]:
    """The events of a track-by-AWB answer, newest first; none while Shiprocket has no activity."""
    tracking = mapping(data, "tracking_data")
    if text(tracking, "track_status") != "1":
        return ()
    shipments = items(tracking, "shipment_track")
    first: Mapping[str, Any] = shipments[0] if shipments else {}
    parcel = Parcel(
        awb=awb,
        courier=text(first, "courier_name"),
        edd=day(text(first, "edd")) or day(text(tracking, "etd")),
        tracking_url=text(tracking, "track_url"),
    )
    return routed_events(parcel, items(tracking, "shipment_track_activities"))


class ShiprocketApi:
    """A small client: logs in when needed (or uses a given token) and tracks AWBs."""

    def __init__(
        self,
        base_url: str,
        email: str = "",
        password: str = "",
        token: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout: float = 10.0,
    ):
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._email, self._password, self._fixed = email, password, token
        self._token, self._expires = token, datetime.max.replace(tzinfo=UTC)
        self._clock = clock
        if not token:
            self._expires = datetime.min.replace(tzinfo=UTC)

    def track(self, awb: str) -> dict[str, Any]:
        """The raw track-by-AWB answer; logs in again once if the token was refused."""
        answer = self._get(TRACK_PATH.format(awb=quote(awb, safe="")))
        if answer.status_code == 401 and not self._fixed:
            self._expires = datetime.min.replace(tzinfo=UTC)
            answer = self._get(TRACK_PATH.format(awb=quote(awb, safe="")))
        return _json(answer)

    def ndr_action(self, awb: str, body: Mapping[str, str]) -> dict[str, Any]:
        """Tell Shiprocket what to do with a failed delivery; raises ShiprocketApiError unless accepted."""
        path = NDR_ACTION_PATH.format(awb=quote(awb, safe=""))
        answer = self._post(path, body)
        if answer.status_code == 401 and not self._fixed:
            self._expires = datetime.min.replace(tzinfo=UTC)
            answer = self._post(path, body)
        if answer.status_code not in (200, 202):
            raise ShiprocketApiError(f"NDR action HTTP {answer.status_code}: {answer.text[:200]}")
        try:
            result = answer.json()
        except ValueError:
            result = {}
        return result if isinstance(result, dict) else {}

    def create_return(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a return order (reverse pickup); raises ShiprocketApiError unless accepted (returns)."""
        return self._post_json(RETURN_ORDER_PATH, body)

    def assign_return_awb(self, shipment_id: str) -> dict[str, Any]:
        """Have Shiprocket pick a courier and an AWB for a return shipment (returns)."""
        return self._post_json(ASSIGN_AWB_PATH, {"shipment_id": shipment_id, "is_return": 1})

    def _post_json(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        answer = self._post(path, body)
        if answer.status_code == 401 and not self._fixed:
            self._expires = datetime.min.replace(tzinfo=UTC)
            answer = self._post(path, body)
        if answer.status_code != 200:  # Shiprocket explains a refusal in the body (a missing field, ...)
            failure = ShiprocketRefused if 400 <= answer.status_code < 500 else ShiprocketApiError
            raise failure(f"{path} HTTP {answer.status_code}: {answer.text[:200]}")
        return _json(answer)

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def _get(self, path: str) -> httpx.Response:
        try:
            return self._http.get(path, headers={"Authorization": f"Bearer {self._bearer()}"})
        except httpx.HTTPError as exc:
            raise ShiprocketApiError(f"GET {path}: {type(exc).__name__}") from exc

    def _post(self, path: str, body: Mapping[str, Any]) -> httpx.Response:
        try:
            return self._http.post(
                path, json=dict(body), headers={"Authorization": f"Bearer {self._bearer()}"}
            )
        except httpx.HTTPError as exc:
            raise ShiprocketApiError(f"POST {path}: {type(exc).__name__}") from exc

    def _bearer(self) -> str:
        if self._fixed or self._clock() < self._expires:
            return self._token
        try:
            answer = self._http.post(LOGIN_PATH, json={"email": self._email, "password": self._password})
        except httpx.HTTPError as exc:
            raise ShiprocketApiError(f"login: {type(exc).__name__}") from exc
        token = text(_json(answer), "token")
        if not token:
            raise ShiprocketApiError("login answered no token")
        self._token, self._expires = token, self._clock() + TOKEN_LIFETIME
        return token


def _json(answer: httpx.Response) -> dict[str, Any]:
    if answer.status_code != 200:
        raise ShiprocketApiError(f"HTTP {answer.status_code}")
    try:
        body = answer.json()
    except ValueError as exc:
        raise ShiprocketApiError("answer is not JSON") from exc
    if not isinstance(body, dict):
        raise ShiprocketApiError("answer is not a JSON object")
    return body
