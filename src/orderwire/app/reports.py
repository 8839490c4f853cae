"""Reports over stored orders (read-only)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from orderwire.app.runtime import Runtime
from orderwire.domain.model import order_from_json
from orderwire.domain.ndr_figures import ndr_figures
from orderwire.store.tables import orders

REPORT_ORDERS = 20_000  # the most recent orders a report reads: bounded work, even for a big shop


def ndr_report(rt: Runtime) -> dict[str, Any]:
    """NDR rate, re-attempt success and suspected fake attempts, per courier and per PIN code."""
    with rt.engine.connect() as conn:
        states = conn.execute(
            sa.select(orders.c.state)
            .where(orders.c.shop_id == rt.shop_id, orders.c.stage != "placed")
            .order_by(orders.c.id.desc())
            .limit(REPORT_ORDERS)
        ).scalars()
        loaded = [order_from_json(state) for state in states]
    today = rt.clock().astimezone(ZoneInfo(rt.policy.timezone)).date()
    figures = ndr_figures(loaded, rt.policy.timezone, today)
    return {
        axis: {
            key: {
                "parcels": f.parcels,
                "failed": f.failed,
                "ndr_rate": round(f.ndr_rate, 4),
                "reattempts": f.reattempts,
                "reattempts_delivered": f.reattempts_delivered,
                "reattempt_success": round(f.reattempt_success, 4),
                "suspected_fake_attempts": f.suspected_fake,
            }
            for key, f in sorted(values.items())
        }
        for axis, values in figures.items()
    }
