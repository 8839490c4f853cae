"""The generic stock source (InventoryPort): CSV `sku,available,restock_date` at an http(s) URL or a path.

The format is ours, kept to what any OMS, ERP, warehouse tool or a spreadsheet published as CSV can export:
RFC 4180 CSV (www.rfc-editor.org/rfc/rfc4180), UTF-8 (a BOM is allowed), a header row naming at least
`sku` and `available`; `available` is whole units sellable now (zero or negative when over-sold);
`restock_date` (optional column) is YYYY-MM-DD when more arrive, or empty. Other columns are ignored. A row
that cannot be read is skipped and counted, never guessed; a SKU listed twice keeps its last row.

The whole feed is read at once and kept for `ttl_seconds`. A failed read keeps the last good copy (none
at first: then nothing is known to be out of stock) and is tried again after RETRY_AFTER seconds.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx

from orderwire.app.ports import StockLevel

log = logging.getLogger(__name__)

TIMEOUT = 5.0
RETRY_AFTER = 30.0
MAX_BYTES = 20 * 1024 * 1024  # a feed larger than this is refused rather than held in memory


class StockFeedError(Exception):
    """The feed could not be read or is not the expected CSV."""


def parse(text: str) -> tuple[dict[str, StockLevel], int]:
    """The stock levels in a feed, and how many rows were skipped as unreadable."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    columns = {(name or "").strip().lower() for name in reader.fieldnames or ()}
    if not {"sku", "available"} <= columns:
        raise StockFeedError("the feed's header must name 'sku' and 'available'")
    levels: dict[str, StockLevel] = {}
    skipped = 0
    for raw in reader:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        try:
            sku = row["sku"]
            if not sku:
                raise ValueError("empty sku")
            restock = row.get("restock_date", "")
            levels[sku] = StockLevel(
                sku, int(row["available"]), date.fromisoformat(restock) if restock else None
            )
        except (KeyError, ValueError):
            skipped += 1
    return levels, skipped


def _read(source: str) -> str:
    if source.startswith(("http://", "https://")):
        with httpx.Client(timeout=TIMEOUT, follow_redirects=True) as client:
            answer = client.get(source, headers={"Accept": "text/csv, text/plain;q=0.9, */*;q=0.1"})
        if answer.status_code != 200:
            raise StockFeedError(f"stock feed answered HTTP {answer.status_code}")
        if len(answer.content) > MAX_BYTES:
            raise StockFeedError("stock feed larger than 20 MB")
        return answer.content.decode("utf-8")
    path = Path(source)
    if path.stat().st_size > MAX_BYTES:
        raise StockFeedError("stock feed larger than 20 MB")
    return path.read_text(encoding="utf-8")


class StockFeed:
    """Stock levels from a CSV feed, re-read at most once per `ttl_seconds`."""

    name = "stockfeed"

    def __init__(self, source: str, ttl_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._source = source
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._levels: dict[str, StockLevel] = {}
        self._next_read = float("-inf")

    def levels(self, skus: list[str]) -> dict[str, StockLevel]:
        """Stock for the SKUs the feed lists (an unlisted SKU is absent)."""
        with self._lock:
            if self._clock() >= self._next_read:
                self._refresh()
            return {sku: self._levels[sku] for sku in skus if sku in self._levels}

    def _refresh(self) -> None:
        try:
            levels, skipped = parse(_read(self._source))
        except (OSError, UnicodeDecodeError, httpx.HTTPError, StockFeedError, csv.Error) as exc:
            log.warning(
                "stock feed not read (%s); keeping %d known SKUs", type(exc).__name__, len(self._levels)
            )
            self._next_read = self._clock() + min(RETRY_AFTER, self._ttl)
            return
        if skipped:
            log.warning("stock feed: %d unreadable row(s) skipped", skipped)
        self._levels = levels
        self._next_read = self._clock() + self._ttl
