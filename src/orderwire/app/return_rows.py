"""The returns table: a row per return request, kept in step with the order's state, and its photos.

The order's state (domain/model.py ReturnCase) decides; these rows serve staff lists, lookups by RMA and
by label token, and the photo checks (SHA-256 reused across customers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderwire.domain.model import Order
from orderwire.store import queries
from orderwire.store.tables import orders, return_photos, returns


def sync(
    conn: sa.Connection, shop_id: str, order_pk: int, customer_id: int, order: Order, now: datetime
) -> None:
    """Insert or refresh the row of each of the order's returns, in the caller's transaction."""
    existing = {
        r.rma: r
        for r in conn.execute(
            sa.select(returns).where(returns.c.shop_id == shop_id, returns.c.order_pk == order_pk)
        ).all()
    }
    for case in order.returns:
        values: dict[str, Any] = {
            "status": case.status.value,
            "reason": case.reason,
            "resolution": case.resolution,
            "awb": case.awb,
            "refund_minor": case.refund_minor,
            "currency": order.total.currency,
            "refund_due": case.refund_due,
            "refund_ref": case.refund_ref,
            "bank_ref": case.bank_ref,
        }
        if case.awb:  # the return parcel's courier news finds the order by its AWB
            queries.add_refs(conn, shop_id, order_pk, [("awb", case.awb)])
        row = existing.get(case.rma)
        if row is None:
            queries.insert_ignore(
                conn,
                returns,
                {
                    "shop_id": shop_id,
                    "order_pk": order_pk,
                    "customer_id": customer_id,
                    "rma": case.rma,
                    "created_at": now,
                    "updated_at": now,
                    **values,
                },
                ["shop_id", "rma"],
            )
        elif any(getattr(row, k) != v for k, v in values.items()):
            conn.execute(returns.update().where(returns.c.id == row.id).values(updated_at=now, **values))


def find(conn: sa.Connection, shop_id: str, rma: str) -> sa.Row[Any] | None:
    """The return row with this RMA and its order's shop order id."""
    return conn.execute(
        sa.select(returns, orders.c.order_id)
        .join(orders, orders.c.id == returns.c.order_pk)
        .where(returns.c.shop_id == shop_id, returns.c.rma == rma)
    ).first()


def by_label_token(conn: sa.Connection, token: str) -> sa.Row[Any] | None:
    """The return whose label link carries this token, with its order's state."""
    return conn.execute(
        sa.select(returns, orders.c.state)
        .join(orders, orders.c.id == returns.c.order_pk)
        .where(returns.c.label_token == token)
    ).first()


def set_label_token(conn: sa.Connection, shop_id: str, rma: str, token: str) -> None:
    """Give the return its label link's secret token."""
    conn.execute(
        returns.update().where(returns.c.shop_id == shop_id, returns.c.rma == rma).values(label_token=token)
    )


def add_photo(
    conn: sa.Connection, shop_id: str, return_id: int, photo: dict[str, Any], now: datetime
) -> bool:
    """Record a downloaded photo once per WhatsApp message; True when new."""
    return queries.insert_ignore(
        conn,
        return_photos,
        {"shop_id": shop_id, "return_id": return_id, "created_at": now, **photo},
        ["shop_id", "wamid"],
    )


def photo_used_by_others(
    conn: sa.Connection, shop_id: str, sha256: str, customer_id: int
) -> tuple[str, str] | None:
    """Another customer's return (RMA, shop order id) that showed a photo with these exact bytes, if any."""
    row = conn.execute(
        sa.select(returns.c.rma, orders.c.order_id)
        .join(return_photos, return_photos.c.return_id == returns.c.id)
        .join(orders, orders.c.id == returns.c.order_pk)
        .where(
            return_photos.c.shop_id == shop_id,
            return_photos.c.sha256 == sha256,
            returns.c.customer_id != customer_id,
        )
        .order_by(return_photos.c.id)
        .limit(1)
    ).first()
    return None if row is None else (str(row.rma), str(row.order_id))


def photos(conn: sa.Connection, return_id: int) -> list[dict[str, Any]]:
    """The photos of one return, oldest first."""
    rows = conn.execute(
        sa.select(return_photos).where(return_photos.c.return_id == return_id).order_by(return_photos.c.id)
    ).all()
    return [
        {
            "id": r.id,
            "wamid": r.wamid,
            "sha256": r.sha256,
            "mime": r.mime,
            "size": r.size,
            "storage_key": r.storage_key,
        }
        for r in rows
    ]
