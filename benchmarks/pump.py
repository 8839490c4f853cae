"""Where the worker's CPU goes: apply stored orders (the pump) and claim their messages, in this process.

No HTTP and no sending: N prepaid, paid orders are stored the way `POST /api/v1/orders` stores them
(`orders.submit`), then the pump applies them in batches and the sender's claim query takes their
confirmations. Prints CPU ms per order for each phase and SQL statements per order; with --profile,
the functions that took the most time (cProfile).

    .venv/bin/python benchmarks/pump.py --db postgres --orders 2000
    .venv/bin/python benchmarks/pump.py --db sqlite --orders 2000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.confirmation import database, order_body, phone_for, run_cleanly

from orderwire.app import orders, sending
from orderwire.bootstrap import build_runtime
from orderwire.settings import Settings
from orderwire.web.schemas import OrderIn


class StatementCounter:
    """Counts SQL statements an engine executes."""

    def __init__(self, engine: sa.Engine):
        self.count = 0
        self.kinds: Counter[str] = Counter()
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.count += 1
        self.kinds[" ".join(statement.split())[:90]] += 1


def run(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory() as tmp, database(args.db, Path(tmp)) as url:
        settings = Settings(
            database_url=url,
            whatsapp_token="bench-token",  # noqa: S106 - not the sandbox: templates, as in production
            whatsapp_phone_number_id="106540352242922",
            quiet_hours_start=0,
            quiet_hours_end=0,
        )
        rt = build_runtime(settings)
        now = datetime.now(UTC)
        started = time.process_time()
        for i in range(args.orders):
            order = OrderIn.model_validate(order_body(i, phone_for(i), "pump"))
            event = order.to_event(now)
            orders.submit(
                rt, "api", f"pump-{i}", order.model_dump_json(), [(f"order:{order.order_id}", event)]
            )
        submit_ms = (time.process_time() - started) * 1000 / args.orders
        counter = StatementCounter(rt.engine)
        profiler = cProfile.Profile() if args.profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        applied = 0
        while applied < args.orders:
            done = orders.process_due_jobs(rt, args.batch)
            if done == 0:
                break
            applied += done
        apply_cpu = time.process_time() - started
        apply_statements = counter.count
        claimed = 0
        while True:
            rows, _ = sending._claim(rt, rt.clock(), args.batch, None)
            if not rows:
                break
            claimed += len(rows)
        if profiler:
            profiler.disable()
        claim_cpu = time.process_time() - started - apply_cpu
        per = 1000 / max(applied, 1)
        print(f"== {args.db}, {args.orders} orders, batch {args.batch}")
        print(f"   submit (web's share)   {submit_ms:.2f} ms CPU/order")
        statements = apply_statements / max(applied, 1)
        print(
            f"   apply (pump)           {apply_cpu * per:.2f} ms CPU/order, {statements:.1f} statements/order"
        )
        claim_statements = (counter.count - apply_statements) / max(claimed, 1)
        print(
            f"   claim (sender)         {claim_cpu * 1000 / max(claimed, 1):.2f} ms CPU/message, "
            f"{claim_statements:.1f} statements/message ({claimed} claimed)"
        )
        if args.statements:
            for text, count in counter.kinds.most_common():
                print(f"   {count / max(applied, 1):6.2f}/order  {text}")
        if profiler:
            stats = pstats.Stats(profiler).strip_dirs().sort_stats(args.sort)
            stats.print_stats(args.top)
        rt.engine.dispose()
        return applied == args.orders and claimed == args.orders


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=20, help="jobs per transaction, as the pump")
    parser.add_argument("--profile", action="store_true", help="cProfile the apply and claim phases")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--statements", action="store_true", help="list the SQL statements run, per order")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_cleanly(lambda: run(args), "interrupted")


if __name__ == "__main__":
    raise SystemExit(main())
