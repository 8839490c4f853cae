"""When to poll a parcel's tracking: one durable `jobs` row per moving parcel.

The row (kind `tracking_poll`, status `polling`, never picked by the event pump) is due when no courier
news has come for ORDERWIRE_TRACKING_POLL_AFTER_SECONDS. Any news moves the due time on and resets the
backoff; a poll that learns nothing doubles the wait (at most a day); after
ORDERWIRE_TRACKING_POLL_MAX_ATTEMPTS empty polls, or once the parcel is delivered, back at the shop,
lost or cancelled, the row is closed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from orderwire.app.runtime import Runtime
from orderwire.domain.model import Shipment
from orderwire.store import queries
from orderwire.store.tables import jobs

KIND = "tracking_poll"
WAITING = "polling"
LONGEST_WAIT = timedelta(days=1)


def watch(conn: sa.Connection, rt: Runtime, shipment: Shipment, now: datetime) -> None:
    """After courier news for a parcel: poll it once it has been quiet a while, or stop when it is final."""
    if not rt.settings.shiprocket_polling:
        return
    key = f"poll:{shipment.awb}"
    mine = sa.and_(jobs.c.shop_id == rt.shop_id, jobs.c.dedupe_key == key, jobs.c.kind == KIND)
    if not shipment.in_motion:
        conn.execute(jobs.update().where(mine).values(status="done", done_at=now))
        return
    due = now + timedelta(seconds=rt.settings.tracking_poll_after_seconds)
    fresh = {"status": WAITING, "available_at": due, "attempts": 0, "last_error": "", "done_at": None}
    values = {
        "shop_id": rt.shop_id,
        "order_ref": f"awb:{shipment.awb}",
        "kind": KIND,
        "payload": {"awb": shipment.awb},
        "dedupe_key": key,
        "created_at": now,
        **fresh,
    }
    if not queries.insert_ignore(conn, jobs, values, ["shop_id", "dedupe_key"]):
        conn.execute(jobs.update().where(mine).values(**fresh))


def backoff(rt: Runtime, empty_polls: int) -> timedelta:
    """How long to wait after `empty_polls` polls in a row that learned nothing."""
    base = timedelta(seconds=rt.settings.tracking_poll_after_seconds)
    return min(LONGEST_WAIT, base * 2**empty_polls) if base < LONGEST_WAIT else base
