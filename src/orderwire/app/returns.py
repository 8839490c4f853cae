"""Return use cases: the pickup or label, photo downloads, refunds, and what staff decide.

The dialogue (bot/returns.py) and the lifecycle (domain/returns.py) ask for vendor calls; this module
performs them (app/vendor_calls.py: outside the order's transaction, retried, a staff case when they
cannot be made):
- `return_pickup`: a reverse pickup through the configured ReturnsPort (Shiprocket), else a printable
  label at `<public_url>/returns/<token>/label.pdf` sent as a WhatsApp document by link. A link rather
  than an upload (`POST /{phone-number-id}/media`): no second Graph call and no media id to expire, the
  customer and staff can open it again, and the public URL is already needed for the tracking page; the
  token is 192 random bits, so labels (which carry the customer's address) cannot be guessed.
- `media_download`: a photo the customer sent, fetched at once from the Graph API within a size limit,
  kept in the media store with its SHA-256; bytes another customer already showed open `photo_reused`.
- `payment_refund`: through the configured PaymentPort; used only when the payment adapters' own
  performer (app/refunds.py) is not loaded: theirs replaces this one on import.
Staff console: `approve_return`, `reject_return`, `issue_refund`.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderwire.app import escalations, orders, return_rows, vendor_calls, vendors
from orderwire.app.media_store import LocalMediaStore, MediaStore
from orderwire.app.ports import RefundRequest, VendorError
from orderwire.app.return_label import LabelData, render
from orderwire.app.runtime import Runtime
from orderwire.bot import returns as dialogue
from orderwire.domain import returns as rules
from orderwire.domain.lifecycle import MEDIA_DOWNLOAD, PAYMENT_REFUND, RETURN_PICKUP, Decision, Outcome
from orderwire.domain.model import Order, order_from_json
from orderwire.integrations.whatsapp.media import MediaClient, MediaError
from orderwire.store import queries
from orderwire.store.tables import customers
from orderwire.store.tables import orders as orders_table

SANDBOX_GRAPH_PATH = "/sandbox/graph/v23.0"  # as bootstrap.SANDBOX_GRAPH_PATH (app must not import it)


class UnknownReturn(LookupError):
    """No return of this shop has that RMA."""


def media_store(rt: Runtime) -> MediaStore:
    """The configured media store (a local folder)."""
    return LocalMediaStore(rt.settings.media_dir)


def _order(rt: Runtime, order_pk: int) -> Order:
    with rt.engine.connect() as conn:
        state = conn.execute(
            sa.select(orders_table.c.state).where(orders_table.c.id == order_pk)
        ).scalar_one()
    return order_from_json(state)


def _window_open(conn: sa.Connection, customer_id: int, now: datetime) -> bool:
    expires = conn.execute(
        sa.select(customers.c.window_expires_at).where(customers.c.id == customer_id)
    ).scalar()
    return expires is not None and expires > now


# --- return_pickup ---


def _book(rt: Runtime, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    rma = str(payload["rma"])
    port = vendors.returns(rt.settings)
    if port is not None:
        pickup = port.book_return(_order(rt, int(payload["order_pk"])), rma, str(payload["reason"]))
        answer = {
            "awb": pickup.awb,
            "courier": pickup.courier,
            "pickup_date": pickup.pickup_date.isoformat() if pickup.pickup_date else "",
        }
        return f"return {rma}: pickup booked ({pickup.awb})", answer
    if not return_address(rt):
        raise vendor_calls.NotConfigured(
            f"return {rma}: no courier API for returns and no return address for a label; arrange it by hand"
        )
    return f"return {rma}: printable label made", {"label": True}


def return_address(rt: Runtime) -> tuple[str, ...]:
    """The shop's return address lines (setting return_address, lines separated by '|')."""
    return tuple(p.strip() for p in rt.settings.return_address.split("|") if p.strip())


def _booked(conn: sa.Connection, rt: Runtime, job: Any, answer: dict[str, Any], now: datetime) -> None:
    row = queries.lock_order(conn, rt.shop_id, job.order_ref)
    if row is None:
        return
    order, rma = order_from_json(row.state), str(job.payload["rma"])
    window = _window_open(conn, row.customer_id, now)
    if answer.get("awb"):
        day = answer.get("pickup_date") or ""
        turn = dialogue.pickup_booked(
            order,
            rma,
            str(answer["awb"]),
            str(answer.get("courier") or ""),
            datetime.fromisoformat(day).date() if day else None,
            window,
        )
    else:
        token = secrets.token_urlsafe(24)
        return_rows.set_label_token(conn, rt.shop_id, rma, token)
        link = f"{rt.settings.public_url.rstrip('/')}/returns/{token}/label.pdf"
        turn = dialogue.label_sent(order, rma, link, rt.policy, window)
    orders.apply_turn(conn, rt, row, turn, RETURN_PICKUP, now)


def label_pdf(rt: Runtime, token: str) -> bytes | None:
    """The return label behind a label link, or None for an unknown token."""
    with rt.engine.connect() as conn:
        row = return_rows.by_label_token(conn, token)
    if row is None:
        return None
    order = order_from_json(row.state)
    a = order.address
    sender = (
        order.customer.name,
        a.line1,
        a.line2,
        a.landmark,
        f"{a.city} {a.pincode}".strip(),
        a.state,
        order.customer.phone,
    )
    data = LabelData(
        rma=row.rma,
        order_number=order.number,
        shop_name=rt.settings.shop_name,
        return_address=return_address(rt),
        sender=tuple(s for s in sender if s),
        reason=row.reason.replace("_", " "),
    )
    return render(data)


# --- media_download ---


def _graph_base(rt: Runtime) -> str:
    if rt.settings.sandbox:
        return rt.settings.public_url.rstrip("/") + SANDBOX_GRAPH_PATH
    return rt.settings.whatsapp_api_url


def _download(rt: Runtime, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    rma = str(payload["rma"])
    client = MediaClient(_graph_base(rt), rt.whatsapp_token, rt.settings.media_max_bytes)
    try:
        media = client.fetch(str(payload["media_id"]))
    except MediaError as exc:
        raise VendorError(f"return {rma}: photo download failed ({exc})", exc.retryable) from exc
    finally:
        client.close()
    mime = media.mime or str(payload.get("mime") or "")
    key = media_store(rt).put(media.data, media.sha256, mime)
    answer = {"sha256": media.sha256, "size": len(media.data), "mime": mime, "storage_key": key}
    return f"return {rma}: photo stored", answer


def _stored(conn: sa.Connection, rt: Runtime, job: Any, answer: dict[str, Any], now: datetime) -> None:
    rma = str(job.payload["rma"])
    row = return_rows.find(conn, rt.shop_id, rma)
    if row is None:
        return
    photo: dict[str, Any] = {
        "wamid": str(job.payload["wamid"]),
        "media_id": str(job.payload["media_id"])[:128],
        "mime": str(answer["mime"])[:100],
        "sha256": str(answer["sha256"]),
        "size": int(answer["size"]),
        "storage_key": str(answer["storage_key"]),
    }
    if not return_rows.add_photo(conn, rt.shop_id, row.id, photo, now):
        return
    other = return_rows.photo_used_by_others(conn, rt.shop_id, photo["sha256"], row.customer_id)
    if other is not None:
        detail = {
            "rma": rma,
            "sha256": photo["sha256"],
            "other_rma": other[0],
            "other_order": other[1],
        }
        key = orders.message_key(row.order_id, f"{rma}:photo_reused:{photo['sha256'][:16]}")
        escalations.open_case(conn, rt, row.order_pk, row.awb, "photo_reused", key, detail, now)


# --- payment_refund (fallback: the payment adapters' performer replaces it) ---


def _refund(rt: Runtime, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    rma = str(payload.get("rma") or "")
    if not payload.get("payment_ref"):
        raise vendor_calls.NotConfigured(
            f"return {rma}: no online payment to refund (cash on delivery?): refund by bank transfer by hand"
        )
    port = vendors.payments(rt.settings)
    if port is None:
        raise vendor_calls.NotConfigured(f"return {rma}: no payment gateway configured; refund by hand")
    request = RefundRequest(
        payment_ref=str(payload["payment_ref"]),
        amount_minor=int(payload["amount_minor"]),
        currency=str(payload["currency"]),
        idempotency_key=f"refund:{rma}",
        reason=str(payload.get("reason") or ""),
    )
    refund_id = port.refund(request)
    return f"return {rma}: refund {refund_id} asked of {port.name}", {"refund_ref": refund_id}


def _refund_asked(conn: sa.Connection, rt: Runtime, job: Any, answer: dict[str, Any], now: datetime) -> None:
    row = queries.lock_order(conn, rt.shop_id, job.order_ref)
    rma = str(job.payload.get("rma") or "")
    if row is None or not rma:
        return
    decision = rules.refund_asked(order_from_json(row.state), rma, str(answer.get("refund_ref") or ""))
    if decision.outcome is Outcome.APPLIED:
        orders.apply_decision(conn, rt, row, decision, PAYMENT_REFUND, now)


vendor_calls.register(
    RETURN_PICKUP,
    vendor_calls.Performer(_book, "return_by_hand", "return_pickup_refused", after=_booked),
)
vendor_calls.register(
    MEDIA_DOWNLOAD,
    vendor_calls.Performer(_download, "photo_download", "photo_download_failed", after=_stored),
)
vendor_calls.PERFORMERS.setdefault(
    PAYMENT_REFUND, vendor_calls.Performer(_refund, "refund_by_hand", "refund_refused", after=_refund_asked)
)


# --- staff (the console calls these in its own transaction) ---


def _decide(conn: sa.Connection, rt: Runtime, rma: str, now: datetime, how: Any, kind: str) -> bool:
    found = return_rows.find(conn, rt.shop_id, rma)
    if found is None:
        raise UnknownReturn(rma)
    row = queries.lock_order(conn, rt.shop_id, f"order:{found.order_id}")
    if row is None:
        raise UnknownReturn(rma)
    decision: Decision = how(order_from_json(row.state))
    if decision.outcome is not Outcome.APPLIED:
        return False
    orders.apply_decision(conn, rt, row, decision, kind, now)
    rt.wake()
    return True


def approve_return(conn: sa.Connection, rt: Runtime, rma: str, now: datetime) -> bool:
    """Staff accept the return: the refund is asked for (or the replacement handed over); False if stale."""
    return _decide(
        conn,
        rt,
        rma,
        now,
        lambda o: rules.settle(o, rma, now, rt.policy, "approved by staff"),
        "return_approved",
    )


def reject_return(conn: sa.Connection, rt: Runtime, rma: str, now: datetime, note: str = "") -> bool:
    """Staff turn the return down and the customer is told (with `note`); False if it cannot be now."""
    return _decide(conn, rt, rma, now, lambda o: rules.reject(o, rma, now, note), "return_rejected")


def issue_refund(
    conn: sa.Connection, rt: Runtime, rma: str, now: datetime, amount_minor: int | None = None
) -> bool:
    """Staff refund the return (the order total, or `amount_minor`); False when already refunded."""
    return _decide(
        conn,
        rt,
        rma,
        now,
        lambda o: rules.issue_refund(o, rma, now, rt.policy, amount_minor),
        "return_refund",
    )


def return_view(rt: Runtime, rma: str) -> dict[str, Any] | None:
    """A return with its photos, for the staff console."""
    with rt.engine.connect() as conn:
        row = return_rows.find(conn, rt.shop_id, rma)
        if row is None:
            return None
        shown = return_rows.photos(conn, row.id)
    return {
        "rma": row.rma,
        "order_id": row.order_id,
        "status": row.status,
        "reason": row.reason,
        "resolution": row.resolution,
        "awb": row.awb,
        "refund_minor": row.refund_minor,
        "currency": row.currency,
        "refund_due": row.refund_due.isoformat() if row.refund_due else None,
        "refund_ref": row.refund_ref,
        "bank_ref": row.bank_ref,
        "label": bool(row.label_token),
        "photos": shown,
    }
