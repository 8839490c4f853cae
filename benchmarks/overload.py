"""Overload: twice the sustainable order rate for a minute, then the drain (a mode of confirmation.py).

It runs benchmarks/confirmation.py with `--rate 2R --orders 2R x seconds`, a confirmation timeout long
enough for the whole backlog to drain (so "lost" means lost, not late) and the per-5-second timeline.
What to read in its output:

- "while offered": confirmations/s during the overload. It should plateau at the sustainable rate
  (the timeline shows it per 5 s), not collapse;
- "API acknowledgement" p50/p99: the store-then-ack path must stay fast although the work queues up;
- "lost" and "duplicates": both must be 0;
- "drained after it at": confirmations/s after the last order was sent; it should match the plateau;
- "server CPU ... ms/order": CPU per order over offer and drain together (every order confirmed).

    .venv/bin/python benchmarks/overload.py --db sqlite --sustainable 60
    .venv/bin/python benchmarks/overload.py --db postgres --sustainable 45 --seconds 60
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import confirmation


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--sustainable", type=float, default=60.0, help="orders/s the service sustains (measured)")
    p.add_argument(
        "--factor", type=float, default=2.0, help="offered rate = factor x sustainable (default 2)"
    )
    p.add_argument("--seconds", type=float, default=60.0, help="seconds of overload (default 60)")
    p.add_argument("--drain-timeout", type=float, default=600.0, help="seconds a confirmation may take")
    p.add_argument("--graph-latency", type=float, default=0.0, help="seconds the fake Graph takes to answer")
    args, rest = p.parse_known_args(argv)
    rate = args.sustainable * args.factor
    orders = max(1, round(rate * args.seconds))
    return confirmation.main(
        [
            "--db",
            args.db,
            "--rate",
            f"{rate:g}",
            "--orders",
            str(orders),
            "--timeout",
            f"{args.drain_timeout:g}",
            "--graph-latency",
            f"{args.graph_latency:g}",
            "--timeline",
            *rest,  # any other confirmation.py option, e.g. --no-breakdown, --json
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
