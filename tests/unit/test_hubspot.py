"""The HubSpot adapter against a local fake speaking HubSpot's CRM v3 shapes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from orderwire.integrations.hubspot.api import HubSpotApi
from tests.support.hubspot_server import TOKEN, HubSpotServer
from tests.unit.factories import T0


@pytest.fixture
def hubspot() -> Iterator[HubSpotServer]:
    with HubSpotServer() as server:
        yield server


def test_creates_a_contact_once_then_finds_it_by_phone(hubspot: HubSpotServer) -> None:
    api = HubSpotApi(hubspot.url, TOKEN)
    first = api.upsert_contact("+919812345678", "Asha Rao")
    assert hubspot.contacts[first] == {
        "hs_object_id": first,
        "phone": "+919812345678",
        "firstname": "Asha",
        "lastname": "Rao",
    }
    assert api.upsert_contact("+919812345678", "Asha Rao") == first
    assert hubspot.count("POST", "/crm/v3/objects/contacts/search") == 2
    assert len(hubspot.contacts) == 1
    search = next(c for c in hubspot.calls if c.path.endswith("/search"))
    assert search.body["filterGroups"][0]["filters"] == [
        {"propertyName": "phone", "operator": "EQ", "value": "+919812345678"}
    ]


def test_an_existing_contact_is_found_by_mobile_phone_and_named_only_when_nameless(
    hubspot: HubSpotServer,
) -> None:
    named = hubspot.add_contact({"mobilephone": "+919800000001", "firstname": "Ravi", "lastname": "K"})
    nameless = hubspot.add_contact({"phone": "+919800000002"})
    api = HubSpotApi(hubspot.url, TOKEN)
    assert api.upsert_contact("+919800000001", "Someone Else") == named
    assert hubspot.contacts[named]["firstname"] == "Ravi"  # the CRM's own name is kept
    assert api.upsert_contact("+919800000002", "Meera Nair") == nameless
    assert (
        hubspot.contacts[nameless]["firstname"] == "Meera"
        and hubspot.contacts[nameless]["lastname"] == "Nair"
    )
    assert hubspot.count("POST", "/crm/v3/objects/contacts") == 2  # the two searches, no create


def test_a_conflict_answers_the_existing_id(hubspot: HubSpotServer) -> None:
    existing = hubspot.add_contact({"email": "asha@example.com"})
    api = HubSpotApi(hubspot.url, TOKEN)
    assert api.create_contact({"email": "asha@example.com", "phone": "+919812345678"}) == existing
    assert [c.status for c in hubspot.calls] == [409]


def test_a_note_is_associated_with_the_contact(hubspot: HubSpotServer) -> None:
    contact = hubspot.add_contact({"phone": "+919812345678"})
    api = HubSpotApi(hubspot.url, TOKEN)
    note_id = api.add_note(contact, "Orderwire: Order #1001 confirmed.", T0)
    assert note_id == "9001"
    (note,) = hubspot.notes
    assert note == {
        "properties": {
            "hs_timestamp": "2026-11-27T06:00:00.000Z",
            "hs_note_body": "Orderwire: Order #1001 confirmed.",
        },
        "associations": [
            {
                "to": {"id": contact},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
            }
        ],
    }
    with pytest.raises(httpx.HTTPStatusError) as refused:
        api.add_note("999999", "to nobody", T0)
    assert refused.value.response.status_code == 400


def test_rate_limits_and_bad_tokens_surface_with_their_status(hubspot: HubSpotServer) -> None:
    hubspot.fail_next(429, headers={"Retry-After": "2"})
    api = HubSpotApi(hubspot.url, TOKEN)
    with pytest.raises(httpx.HTTPStatusError) as limited:
        api.upsert_contact("+919812345678", "Asha Rao")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["retry-after"] == "2"
    assert limited.value.response.json()["errorType"] == "RATE_LIMIT"
    with pytest.raises(httpx.HTTPStatusError) as unauthorised:
        HubSpotApi(hubspot.url, "wrong").upsert_contact("+919812345678", "Asha Rao")
    assert unauthorised.value.response.status_code == 401
