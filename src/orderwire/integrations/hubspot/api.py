"""HubSpot CRM v3 calls: find or create the customer's contact by phone, and add notes to it.

Sources (HubSpot developer docs):
- Search: https://developers.hubspot.com/docs/api/crm/search — `POST /crm/v3/objects/contacts/search`
  with `filterGroups` (groups are ORed, filters within a group ANDed), `properties`, `limit`; answers
  `{"total", "results": [{"id", "properties", "createdAt", "updatedAt", "archived"}], "paging"}`.
  Search is eventually consistent: a contact just created may not be found for a few seconds, so the
  caller keeps the ids it learns (app/crm.py) instead of searching again.
- Contacts: https://developers.hubspot.com/docs/api/crm/contacts — `POST /crm/v3/objects/contacts`
  `{"properties": {...}}` answers 201 with the new object; a conflict on a unique property answers 409
  `{"status": "error", "message": "Contact already exists. Existing ID: 151", "category": "CONFLICT"}`;
  `PATCH /crm/v3/objects/contacts/{id}` updates properties.
  Phone is not a unique property in HubSpot, so the batch upsert by `idProperty` cannot key on it:
  search, then create or update.
- Notes: https://developers.hubspot.com/docs/api/crm/notes — `POST /crm/v3/objects/notes` with
  `properties.hs_timestamp` (required; ISO 8601 UTC or epoch ms), `properties.hs_note_body` (≤ 65,536
  characters) and `associations: [{"to": {"id"}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
  "associationTypeId": 202}]}]` (202: note to contact).
- Limits: https://developers.hubspot.com/docs/api/usage-details — 429 with `errorType: RATE_LIMIT` and
  `policyName` (SECONDLY / TEN_SECONDLY_ROLLING / DAILY); back off and retry.
Auth: a private app's access token, `Authorization: Bearer <token>`.

Unexpected answers raise `httpx.HTTPStatusError` (the caller reads the status and `Retry-After`);
network failures raise `httpx.TransportError`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx

NOTE_TO_CONTACT = 202
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
NOTE_LIMIT = 65_536


class HubSpotApi:
    """A HubSpot CRM client authorised by a private app token."""

    name = "hubspot"

    def __init__(self, base_url: str, token: str, timeout: float = 15.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            timeout=timeout,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def upsert_contact(self, phone: str, name: str) -> str:
        """The id of the contact with this phone, created when there is none; a nameless one gets `name`."""
        found = self.find_contact(phone)
        first, _, last = name.strip().partition(" ")
        if found is None:
            return self.create_contact({"phone": phone, "firstname": first, "lastname": last})
        contact_id, props = found
        if name.strip() and not (props.get("firstname") or props.get("lastname")):
            self._call(
                "PATCH",
                f"/crm/v3/objects/contacts/{contact_id}",
                {"properties": {"firstname": first, "lastname": last}},
            )
        return contact_id

    def find_contact(self, phone: str) -> tuple[str, dict[str, Any]] | None:
        """The oldest contact whose phone or mobile phone is exactly `phone`, with its name properties."""
        body = {
            "filterGroups": [
                {"filters": [{"propertyName": prop, "operator": "EQ", "value": phone}]}
                for prop in ("phone", "mobilephone")
            ],
            "properties": ["phone", "mobilephone", "firstname", "lastname"],
            "sorts": [{"propertyName": "createdate", "direction": "ASCENDING"}],
            "limit": 1,
        }
        results = self._call("POST", "/crm/v3/objects/contacts/search", body).get("results") or []
        if not results:
            return None
        return str(results[0]["id"]), dict(results[0].get("properties") or {})

    def create_contact(self, properties: dict[str, str]) -> str:
        """Create a contact; when HubSpot says it exists already (409), the existing id."""
        response = self._http.post("/crm/v3/objects/contacts", json={"properties": properties})
        if response.status_code == 409:
            match = _EXISTING_ID.search(str(_json(response).get("message", "")))
            if match:
                return match.group(1)
        response.raise_for_status()
        return str(_json(response)["id"])

    def add_note(self, contact_id: str, text: str, at: datetime) -> str:
        """A note on the contact's timeline at `at`; returns the note's id."""
        body = {
            "properties": {
                "hs_timestamp": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "hs_note_body": text[:NOTE_LIMIT],
            },
            "associations": [
                {
                    "to": {"id": contact_id},
                    "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}
                    ],
                }
            ],
        }
        return str(self._call("POST", "/crm/v3/objects/notes", body)["id"])

    def _call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http.request(method, path, json=body)
        response.raise_for_status()
        return _json(response)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
