"""The generic stock feed adapter against a local HTTP server serving CSV, and from a local file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from orderwire.app import vendors
from orderwire.app.ports import StockLevel
from orderwire.integrations.stockfeed.feed import StockFeed
from orderwire.settings import Settings
from tests.support.stock_server import StockServer

FIXTURE = Path(__file__).parents[2] / "src/orderwire/integrations/stockfeed/fixtures/stock.csv"


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_reads_the_feed_once_per_ttl_and_keeps_the_last_good_copy() -> None:
    clock = Clock()
    with StockServer(FIXTURE.read_text()) as server:
        feed = StockFeed(server.url, ttl_seconds=300, clock=clock)
        assert feed.levels(["KURTA-BLUE-L", "SCARF-RED", "NOT-LISTED"]) == {
            "KURTA-BLUE-L": StockLevel("KURTA-BLUE-L", 0, date(2026, 12, 7)),
            "SCARF-RED": StockLevel("SCARF-RED", 1),
        }
        assert feed.levels(["TIFFIN-STEEL"]) == {
            "TIFFIN-STEEL": StockLevel("TIFFIN-STEEL", -2, date(2026, 12, 10))
        }
        assert server.reads == 1  # within the TTL: the cached copy
        server.csv = "sku,available,restock_date\nSCARF-RED,0,2026-12-01\n"
        clock.now = 301
        assert feed.levels(["SCARF-RED", "KURTA-BLUE-L"]) == {
            "SCARF-RED": StockLevel("SCARF-RED", 0, date(2026, 12, 1))
        }
        assert server.reads == 2
        server.status = 503
        clock.now = 700
        assert feed.levels(["SCARF-RED"]) == {"SCARF-RED": StockLevel("SCARF-RED", 0, date(2026, 12, 1))}
        assert server.reads == 3
        clock.now = 710  # a failed read is retried after 30 s, not on every call
        feed.levels(["SCARF-RED"])
        assert server.reads == 3
        server.status = 200
        clock.now = 731
        assert feed.levels(["SCARF-RED", "KURTA-BLUE-L"]) == {
            "SCARF-RED": StockLevel("SCARF-RED", 0, date(2026, 12, 1))
        }
        assert server.reads == 4


def test_not_csv_at_first_means_nothing_known() -> None:
    with StockServer("<html>login</html>") as server:
        assert StockFeed(server.url, ttl_seconds=60).levels(["SCARF-RED"]) == {}
        assert server.reads == 1


def test_local_file_and_settings() -> None:
    feed = StockFeed(str(FIXTURE), ttl_seconds=60)
    assert feed.levels(["KURTA-BLUE-M"]) == {"KURTA-BLUE-M": StockLevel("KURTA-BLUE-M", 12)}
    assert StockFeed("/nonexistent/stock.csv", ttl_seconds=60).levels(["KURTA-BLUE-M"]) == {}
    assert vendors.inventory(Settings()) is None
    configured = vendors.inventory(Settings(stock_feed_url=str(FIXTURE)))
    assert configured is not None and configured.levels(["SCARF-RED"]) == {
        "SCARF-RED": StockLevel("SCARF-RED", 1)
    }
