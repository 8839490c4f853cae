"""The numbers for a period: orders, messages, confirmation speed, WISMO, NDR funnel, COD, returns, cost.

How each figure is measured (also in docs/console.md):
- The period selects orders by `orders.created_at` and messages by `messages.created_at`.
- Message funnel: an outgoing message counts as sent once Meta accepted it (accepted/sent/delivered/read),
  delivered once delivered or read, read once read; its status is the best one Meta reported.
- Confirmation latency: from the moment the event that asks for the confirmation was applied (the
  confirmation row's created_at) to Meta's 'sent' status time for it; compared with the 30-second promise.
  Time between a webhook's arrival and its application by the pump (usually well under a second) is not
  included.
- WISMO: inbound text messages the bot's intent classifier (bot/intents.py) reads as "where is my order";
  answered by the bot when an automated reply followed within 10 minutes and no staff message within 24 hours.
- NDR funnel: parcels with a failed attempt -> the customer answered (a choice recorded) -> re-attempted
  (a later out-for-delivery, failed or delivered scan) -> delivered, or returned to origin.
- COD confirmation rate: cash-on-delivery orders whose confirmation message was delivered or read.
- Ratings: the rating stored on each order of the period (tapped on the follow-up or typed).
- Projected Meta cost: delivered template messages by category, times the configured price table (Meta
  bills a template message when it is delivered); session replies are 'service'.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import quantiles
from typing import Any

import sqlalchemy as sa

from orderwire.app.runtime import Runtime
from orderwire.bot import intents
from orderwire.domain.model import PaymentMethod, ShipmentStatus, Stage, order_from_json
from orderwire.store.db import reading
from orderwire.store.tables import message_statuses, messages, orders, returns, template_statuses, timeline

ROW_LIMIT = 50_000  # bounded work: the most recent rows of the period
PROMISE_SECONDS = 30.0
SENT = ("accepted", "sent", "delivered", "read")
DELIVERED = ("delivered", "read")
BOT_ANSWER_WITHIN = timedelta(minutes=10)
STAFF_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC."""

    start: datetime
    end: datetime


def is_wismo(text: str) -> bool:
    """Whether a customer's text asks where their order is (as the bot reads it)."""
    found = intents.classify(text)
    return found.intent == "where_is_my_order" and found.confidence >= intents.CONFIDENT


def percentile(values: list[float], q: int) -> float | None:
    """The q-th percentile (1..99) by linear interpolation; None without values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[q - 1]


def figures(rt: Runtime, period: Period) -> dict[str, Any]:
    """Every figure of the dashboard for the period."""
    with reading(rt.engine) as conn:
        order_rows = conn.execute(
            sa.select(orders.c.id, orders.c.stage, orders.c.state)
            .where(
                orders.c.shop_id == rt.shop_id,
                orders.c.created_at >= period.start,
                orders.c.created_at < period.end,
            )
            .order_by(orders.c.id.desc())
            .limit(ROW_LIMIT)
        ).all()
        message_rows = conn.execute(
            sa.select(
                messages.c.id,
                messages.c.order_pk,
                messages.c.customer_id,
                messages.c.direction,
                messages.c.kind,
                messages.c.template,
                messages.c.status,
                messages.c.wamid,
                messages.c.payload,
                messages.c.created_at,
                messages.c.send_after,
            )
            .where(
                messages.c.shop_id == rt.shop_id,
                messages.c.created_at >= period.start,
                messages.c.created_at < period.end,
            )
            .order_by(messages.c.id.desc())
            .limit(ROW_LIMIT)
        ).all()
        confirmation_wamids = [
            m.wamid for m in message_rows if m.direction == "out" and m.kind == "confirmation" and m.wamid
        ]
        sent_at = dict(
            conn.execute(
                sa.select(message_statuses.c.wamid, message_statuses.c.at).where(
                    message_statuses.c.wamid.in_(confirmation_wamids), message_statuses.c.status == "sent"
                )
            ).all()
        )
        refunds = conn.execute(
            sa.select(timeline.c.outcome, sa.func.count())
            .join(orders, orders.c.id == timeline.c.order_pk)
            .where(
                orders.c.shop_id == rt.shop_id,
                timeline.c.kind == "refund_updated",
                timeline.c.recorded_at >= period.start,
                timeline.c.recorded_at < period.end,
            )
            .group_by(timeline.c.outcome)
        ).all()
        categories = {
            r.name: r.category.lower()
            for r in conn.execute(
                sa.select(template_statuses.c.name, template_statuses.c.category).where(
                    template_statuses.c.shop_id == rt.shop_id, template_statuses.c.category != ""
                )
            ).all()
        }
        return_figures = _returns(conn, rt, period)
    order_rows, message_rows = list(order_rows), list(message_rows)
    loaded = [order_from_json(r.state) for r in order_rows]
    return {
        "orders": len(order_rows),
        "orders_by_stage": _by_stage(order_rows),
        "messages_by_kind": _message_funnel(message_rows),
        "confirmation": _latency(message_rows, sent_at),
        "wismo": _wismo(message_rows, len(order_rows)),
        "ndr": _ndr_funnel(loaded),
        "cod": _cod(loaded, order_rows, message_rows),
        "refunds": {outcome: count for outcome, count in refunds},
        "returns": return_figures,
        "ratings": _ratings(loaded),
        "cost": _cost(rt, message_rows, categories),
    }


def _by_stage(order_rows: list[Any]) -> list[tuple[str, int]]:
    counted = Counter(r.stage for r in order_rows)
    return [(s.value, counted.get(s.value, 0)) for s in Stage if counted.get(s.value, 0)]


def _message_funnel(rows: list[Any]) -> list[dict[str, Any]]:
    by_kind: dict[str, Counter[str]] = {}
    for m in rows:
        if m.direction != "out":
            continue
        c = by_kind.setdefault(m.kind, Counter())
        c["created"] += 1
        c["sent"] += m.status in SENT
        c["delivered"] += m.status in DELIVERED
        c["read"] += m.status == "read"
        c["failed"] += m.status == "failed"
    return [{"kind": kind, **dict(c)} for kind, c in sorted(by_kind.items())]


def _latency(rows: list[Any], sent_at: dict[str, datetime]) -> dict[str, Any]:
    seconds = [
        max(0.0, (sent_at[m.wamid] - m.created_at).total_seconds())
        for m in rows
        if m.direction == "out" and m.kind == "confirmation" and m.wamid in sent_at
    ]
    within = sum(s <= PROMISE_SECONDS for s in seconds)
    return {
        "measured": len(seconds),
        "p50": percentile(seconds, 50),
        "p95": percentile(seconds, 95),
        "within_promise": within,
        "share_within_promise": within / len(seconds) if seconds else None,
        "promise_seconds": PROMISE_SECONDS,
    }


def _wismo(rows: list[Any], order_count: int) -> dict[str, Any]:
    by_customer: dict[int, list[Any]] = {}
    for m in rows:
        by_customer.setdefault(m.customer_id, []).append(m)
    questions = answered = 0
    for thread in by_customer.values():
        thread.sort(key=lambda m: m.id)
        for i, m in enumerate(thread):
            text = m.payload.get("text", {}).get("body", "") if m.direction == "in" else ""
            if m.kind != "text" or not is_wismo(str(text)):
                continue
            questions += 1
            later = thread[i + 1 :]
            asked = m.send_after
            bot = any(
                n.direction == "out" and n.kind != "staff" and n.created_at - asked <= BOT_ANSWER_WITHIN
                for n in later
            )
            staff = any(
                n.direction == "out" and n.kind == "staff" and n.created_at - asked <= STAFF_WITHIN
                for n in later
            )
            answered += bot and not staff
    return {
        "questions": questions,
        "per_100_orders": questions * 100 / order_count if order_count else None,
        "answered_by_bot": answered,
        "share_answered_by_bot": answered / questions if questions else None,
    }


def _ndr_funnel(loaded: list[Any]) -> list[tuple[str, int]]:
    failed = answered = reattempted = delivered = rto = 0
    attempt_scans = {
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERY_FAILED,
        ShipmentStatus.DELIVERED,
    }
    for order in loaded:
        for s in order.shipments:
            if not s.failed_attempts:
                continue
            failed += 1
            answered += bool(s.ndr_choice)
            first = min(s.failed_attempts)
            reattempted += any(scan.status in attempt_scans and scan.at > first for scan in s.scans)
            delivered += s.status is ShipmentStatus.DELIVERED
            rto += s.status in (ShipmentStatus.RTO_INITIATED, ShipmentStatus.RTO_DELIVERED) or s.is_return
    return [
        ("failed delivery", failed),
        ("customer answered", answered),
        ("re-attempted", reattempted),
        ("delivered", delivered),
        ("returned to origin", rto),
    ]


def _cod(loaded: list[Any], order_rows: list[Any], message_rows: list[Any]) -> dict[str, Any]:
    cod_pks = {int(r.id) for r, o in zip(order_rows, loaded, strict=True) if o.payment is PaymentMethod.COD}
    confirmed = {
        m.order_pk
        for m in message_rows
        if m.direction == "out"
        and m.kind == "confirmation"
        and m.status in DELIVERED
        and m.order_pk in cod_pks
    }
    cancelled = sum(1 for o in loaded if o.payment is PaymentMethod.COD and o.stage is Stage.CANCELLED)
    return {
        "orders": len(cod_pks),
        "confirmed": len(confirmed),
        "rate": len(confirmed) / len(cod_pks) if cod_pks else None,
        "cancelled": cancelled,
    }


def _ratings(loaded: list[Any]) -> dict[str, Any]:
    scores = [o.rating for o in loaded if o.rating is not None]
    counted = Counter(scores)
    return {
        "count": len(scores),
        "average": sum(scores) / len(scores) if scores else None,
        "by_score": sorted(counted.items(), reverse=True),
    }


def _cost(rt: Runtime, rows: list[Any], categories: dict[str, str]) -> dict[str, Any]:
    prices = rt.settings.message_price_table
    counted: Counter[str] = Counter()
    for m in rows:
        if m.direction != "out" or m.status not in DELIVERED:
            continue
        if m.template:
            definition = rt.catalogue.get(m.template)
            category = categories.get(m.template) or (
                definition.category.lower() if definition else "utility"
            )
        else:
            category = "service"
        counted[category] += 1
    lines = [
        {
            "category": c,
            "delivered": n,
            "price": prices.get(c),
            "cost": n * prices[c] if c in prices else None,
        }
        for c, n in sorted(counted.items())
    ]
    return {
        "currency": rt.settings.message_price_currency,
        "lines": lines,
        "total": sum(line["cost"] or 0.0 for line in lines),
    }


def _returns(conn: sa.Connection, rt: Runtime, period: Period) -> dict[str, int]:
    """Returns asked for in the period, by where they stand now."""
    query = (
        sa.select(returns.c.status, sa.func.count())
        .where(
            returns.c.shop_id == rt.shop_id,
            returns.c.created_at >= period.start,
            returns.c.created_at < period.end,
        )
        .group_by(returns.c.status)
    )
    return {str(status): int(count) for status, count in conn.execute(query).all()}
