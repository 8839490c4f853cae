"""A local stock feed: serves CSV (`sku,available,restock_date`) over HTTP on loopback, counting reads."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StockServer:
    """`with StockServer(csv_text) as feed:` serves `feed.csv` at `feed.url`; set `feed.status` to fail."""

    def __init__(self, csv_text: str):
        self.csv = csv_text
        self.status = 200
        self.reads = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.reads += 1
                body = server.csv.encode() if server.status == 200 else b"upstream error"
                self.send_response(server.status)
                self.send_header("Content-Type", "text/csv; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/stock.csv"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> StockServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
