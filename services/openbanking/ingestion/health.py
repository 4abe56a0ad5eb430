"""A tiny health endpoint for the container's HEALTHCHECK: the consumer loop ticked recently.

The consumer writes nothing to disk (the root file system is read-only); it answers `GET /health` on
`health_port` from a daemon thread instead: 200 while the loop ticked within `stale_after` seconds.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve_health(port: int, last_tick: Callable[[], float], stale_after: float = 60.0,
                 host: str = "0.0.0.0") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            age = time.monotonic() - last_tick()
            healthy = self.path == "/health" and age < stale_after
            body = json.dumps({"status": "ok" if healthy else "stalled", "last_tick_age_s": round(age, 1)}).encode()
            self.send_response(200 if healthy else 503)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Health probes are not worth a log line each."""

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
