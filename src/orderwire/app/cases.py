"""The escalation inbox: open cases with their reason in words, filters, assignment, notes, age; and, on a
return's case, the return with its photos and what staff decide (through app/returns.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderwire.app import returns
from orderwire.app.runtime import Runtime
from orderwire.domain.messages import format_money
from orderwire.domain.model import Money
from orderwire.store.db import reading
from orderwire.store.tables import case_notes, customers, escalations, orders, return_photos, users
from orderwire.store.tables import returns as return_requests

REASONS: dict[str, str] = {
    "no_answer": "Failed delivery: the customer did not answer",
    "reattempt_missed": "Suspected fake attempt: no re-attempt on the day the customer chose",
    "push_to_courier": "Customer's NDR choice to push to the courier by hand",
    "courier_refused": "The courier refused the NDR request",
    "pincode_changed": "New address in another PIN code: check with the courier",
    "window_closed": "The customer needs an answer but the 24-hour window has closed",
    "refund": "Returned to origin: the customer asks for a refund",
    "reorder": "Returned to origin: the customer wants it sent again",
    "message_failed": "A message to the customer failed for good",
    "return_requested": "Return request (see the photos)",
}
RETURN_ACTIONS = ("approve", "reject", "refund")
STATUSES = ("open", "resolved", "all")
INBOX_LIMIT = 200


def reason_words(reason: str) -> str:
    """What a case is about, for people."""
    return REASONS.get(reason, reason.replace("_", " ").capitalize())


@dataclass(frozen=True)
class InboxFilter:
    """Which cases to show: by reason, status, and assignee ('me', 'none', a user id, or '' for anyone)."""

    reason: str = ""
    status: str = "open"
    assignee: str = ""


def inbox(rt: Runtime, wanted: InboxFilter, me: int) -> list[dict[str, Any]]:
    """Cases matching the filter, oldest first, each with its age against the target."""
    assignee = users.alias("assignee")
    query = (
        sa.select(
            escalations,
            orders.c.order_id,
            orders.c.state["number"].as_string().label("number"),
            customers.c.name.label("customer_name"),
            assignee.c.name.label("assignee_name"),
            assignee.c.email.label("assignee_email"),
        )
        .join(orders, orders.c.id == escalations.c.order_pk)
        .join(customers, customers.c.id == orders.c.customer_id)
        .outerjoin(assignee, assignee.c.id == escalations.c.assignee_id)
        .where(escalations.c.shop_id == rt.shop_id)
        .order_by(escalations.c.created_at, escalations.c.id)
        .limit(INBOX_LIMIT)
    )
    if wanted.status in ("open", "resolved"):
        query = query.where(escalations.c.status == wanted.status)
    if wanted.reason:
        query = query.where(escalations.c.reason == wanted.reason)
    if wanted.assignee == "me":
        query = query.where(escalations.c.assignee_id == me)
    elif wanted.assignee == "none":
        query = query.where(escalations.c.assignee_id.is_(None))
    elif wanted.assignee.isdigit():
        query = query.where(escalations.c.assignee_id == int(wanted.assignee))
    with reading(rt.engine) as conn:
        rows = conn.execute(query).all()
    now = rt.clock()
    return [_case(r, now, rt.settings.case_target_minutes) for r in rows]


def _case(r: Any, now: datetime, target_minutes: int) -> dict[str, Any]:
    end = r.resolved_at if r.status != "open" and r.resolved_at else now
    minutes = max(0, int((end - r.created_at).total_seconds() // 60))
    return {
        "id": r.id,
        "order_id": r.order_id,
        "number": r.number or r.order_id,
        "customer_name": r.customer_name,
        "awb": r.awb,
        "reason": r.reason,
        "reason_words": reason_words(r.reason),
        "detail": r.detail,
        "status": r.status,
        "created_at": r.created_at,
        "age_minutes": minutes,
        "late": r.status == "open" and minutes > target_minutes,
        "assignee_id": r.assignee_id,
        "assignee": r.assignee_name or r.assignee_email or "",
        "resolved_at": r.resolved_at,
    }


def case(rt: Runtime, case_id: int) -> dict[str, Any] | None:
    """One case of this shop, with its notes, or None."""
    assignee = users.alias("assignee")
    with reading(rt.engine) as conn:
        row = conn.execute(
            sa.select(
                escalations,
                orders.c.order_id,
                orders.c.state["number"].as_string().label("number"),
                customers.c.name.label("customer_name"),
                assignee.c.name.label("assignee_name"),
                assignee.c.email.label("assignee_email"),
            )
            .join(orders, orders.c.id == escalations.c.order_pk)
            .join(customers, customers.c.id == orders.c.customer_id)
            .outerjoin(assignee, assignee.c.id == escalations.c.assignee_id)
            .where(escalations.c.id == case_id, escalations.c.shop_id == rt.shop_id)
        ).first()
        if row is None:
            return None
        notes = conn.execute(
            sa.select(case_notes.c.body, case_notes.c.created_at, users.c.name, users.c.email)
            .join(users, users.c.id == case_notes.c.user_id)
            .where(case_notes.c.case_id == case_id)
            .order_by(case_notes.c.id)
        ).all()
    found = _case(row, rt.clock(), rt.settings.case_target_minutes)
    found["notes"] = [{"body": n.body, "at": n.created_at, "by": n.name or n.email} for n in notes]
    return found


def assign(rt: Runtime, case_id: int, user_id: int | None) -> bool:
    """Give the case to an active staff user (None: to nobody); False when either does not exist."""
    with rt.engine.begin() as conn:
        if user_id is not None:
            active = conn.execute(
                sa.select(users.c.id).where(users.c.id == user_id, users.c.disabled.is_(False))
            ).first()
            if active is None:
                return False
        done = conn.execute(
            escalations.update()
            .where(escalations.c.id == case_id, escalations.c.shop_id == rt.shop_id)
            .values(assignee_id=user_id)
        ).rowcount
    return bool(done)


def add_note(rt: Runtime, case_id: int, user_id: int, body: str) -> bool:
    """An internal note on a case (never sent to the customer); False when there is no such case."""
    body = body.strip()[:4000]
    if not body:
        return False
    with rt.engine.begin() as conn:
        exists = conn.execute(
            sa.select(escalations.c.id).where(
                escalations.c.id == case_id, escalations.c.shop_id == rt.shop_id
            )
        ).first()
        if exists is None:
            return False
        conn.execute(
            case_notes.insert().values(case_id=case_id, user_id=user_id, body=body, created_at=rt.clock())
        )
    return True


def reasons_in_use(rt: Runtime) -> list[str]:
    """Every reason a case of this shop has had, plus the known ones, for the filter."""
    with reading(rt.engine) as conn:
        seen = set(
            conn.execute(
                sa.select(escalations.c.reason).where(escalations.c.shop_id == rt.shop_id).distinct()
            ).scalars()
        )
    return sorted(seen | set(REASONS))


def pulse(rt: Runtime) -> dict[str, Any]:
    """What the live pages poll for: the open count and the newest case id."""
    with reading(rt.engine) as conn:
        open_count, newest = conn.execute(
            sa.select(
                sa.func.count().filter(escalations.c.status == "open"), sa.func.max(escalations.c.id)
            ).where(escalations.c.shop_id == rt.shop_id)
        ).one()
    return {"open_cases": int(open_count or 0), "newest_case": int(newest or 0)}


def case_return(rt: Runtime, detail: dict[str, Any]) -> dict[str, Any] | None:
    """The return a case is about (its detail names the `rma`), with its refund in words; else None."""
    rma = str(detail.get("rma") or "")
    found = returns.return_view(rt, rma) if rma else None
    if found is not None and found["refund_minor"]:
        found["refund"] = format_money(Money(found["refund_minor"], found["currency"]), "en")
    return found


def return_photo(rt: Runtime, rma: str, photo_id: int) -> tuple[bytes, str] | None:
    """A photo of this shop's return `rma`, by its id, with its MIME type; None if unknown or not stored."""
    with reading(rt.engine) as conn:
        row = conn.execute(
            sa.select(return_photos.c.storage_key, return_photos.c.mime)
            .join(return_requests, return_requests.c.id == return_photos.c.return_id)
            .where(
                return_photos.c.id == photo_id,
                return_photos.c.shop_id == rt.shop_id,
                return_requests.c.shop_id == rt.shop_id,
                return_requests.c.rma == rma,
            )
        ).first()
    if row is None:
        return None
    data = returns.media_store(rt).get(row.storage_key)
    return None if data is None else (data, row.mime)


def act_on_return(rt: Runtime, rma: str, action: str, note: str = "") -> bool:
    """Staff approve, reject (telling the customer `note`) or refund a return, in one transaction; False when
    the return is already past that step. Raises returns.UnknownReturn, or ValueError for another action."""
    if action not in RETURN_ACTIONS:
        raise ValueError(f"unknown return action {action!r}")
    with rt.engine.begin() as conn:
        now = rt.clock()
        if action == "approve":
            return returns.approve_return(conn, rt, rma, now)
        if action == "reject":
            return returns.reject_return(conn, rt, rma, now, note.strip())
        return returns.issue_refund(conn, rt, rma, now)
