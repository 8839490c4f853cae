"""Order events filed in the CRM: the customer's contact (found or created by phone) gets a note each.

Performed by the outbound sender (app/outbound.py) for deliveries of kind "hubspot", with its retries:
this module makes the calls and lets httpx errors through for the sender to judge. The contact's id is
kept in `crm_contacts` as soon as it is known, so a retry or the next event neither searches again
(CRM search lags behind writes) nor creates a second contact. A note may be posted twice if the CRM
stored it but its answer was lost; notes carry no idempotency key in HubSpot's API.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import httpx
import sqlalchemy as sa

from orderwire.app import vendors
from orderwire.app.ports import CrmPort
from orderwire.app.runtime import Runtime
from orderwire.domain.outbound_events import note_text
from orderwire.store import queries
from orderwire.store.tables import crm_contacts


class NotConfigured(Exception):
    """The CRM these deliveries were queued for is no longer configured."""


_ports: dict[int, CrmPort | None] = {}
_lock = threading.Lock()


def port_for(rt: Runtime) -> CrmPort | None:
    """One CRM client per runtime, or None when no CRM is configured."""
    with _lock:
        if id(rt) not in _ports:
            _ports[id(rt)] = vendors.crm(rt.settings)
        return _ports[id(rt)]


def close(rt: Runtime) -> None:
    """Release this runtime's CRM client, if one was made."""
    with _lock:
        port = _ports.pop(id(rt), None)
    if port is not None:
        port.close()


def deliver(rt: Runtime, row: Any) -> None:
    """File one event: the contact by phone, then a note on it; httpx errors propagate."""
    port = port_for(rt)
    if port is None:
        raise NotConfigured("CRM no longer configured")
    data = dict(row.payload["data"])
    customer = data.get("customer") or {}
    phone, name = str(customer.get("phone", "")), str(customer.get("name", ""))
    text = note_text(str(row.payload["type"]), data)
    at = datetime.fromisoformat(str(row.payload["timestamp"]).replace("Z", "+00:00"))
    contact_id = _known(rt, port.name, phone)
    if contact_id is None:
        contact_id = _learn(rt, port, phone, name)
        port.add_note(contact_id, text, at)
        return
    try:
        port.add_note(contact_id, text, at)
    except httpx.HTTPStatusError as exc:
        # The contact we remembered may have been merged or deleted in the CRM: find it afresh, once.
        if exc.response.status_code not in (400, 404):
            raise
        _forget(rt, port.name, phone)
        port.add_note(_learn(rt, port, phone, name), text, at)


def _known(rt: Runtime, crm: str, phone: str) -> str | None:
    with rt.engine.connect() as conn:
        value = conn.execute(
            sa.select(crm_contacts.c.external_id).where(
                crm_contacts.c.shop_id == rt.shop_id, crm_contacts.c.crm == crm, crm_contacts.c.phone == phone
            )
        ).scalar()
    return str(value) if value is not None else None


def _learn(rt: Runtime, port: CrmPort, phone: str, name: str) -> str:
    contact_id = port.upsert_contact(phone, name)
    now = rt.clock()
    with rt.engine.begin() as conn:
        queries.insert_ignore(
            conn,
            crm_contacts,
            {
                "shop_id": rt.shop_id,
                "crm": port.name,
                "phone": phone,
                "external_id": contact_id,
                "updated_at": now,
            },
            ["shop_id", "crm", "phone"],
        )
    return contact_id


def _forget(rt: Runtime, crm: str, phone: str) -> None:
    with rt.engine.begin() as conn:
        conn.execute(
            crm_contacts.delete().where(
                crm_contacts.c.shop_id == rt.shop_id, crm_contacts.c.crm == crm, crm_contacts.c.phone == phone
            )
        )
