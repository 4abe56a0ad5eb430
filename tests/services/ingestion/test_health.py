"""The consumer's health endpoint: 200 while the loop ticks, 503 once it stalls (no file writes needed)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from openbanking.ingestion.health import serve_health


def test_health_follows_the_consume_loop() -> None:
    ticks = {"last": time.monotonic()}
    server = serve_health(0, lambda: ticks["last"], stale_after=5, host="127.0.0.1")
    url = f"http://127.0.0.1:{server.server_address[1]}/health"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            assert response.status == 200 and json.load(response)["status"] == "ok"
        ticks["last"] -= 10
        try:
            urllib.request.urlopen(url, timeout=2)
        except urllib.error.HTTPError as error:
            assert error.code == 503
        else:
            raise AssertionError("a stalled consumer must not report healthy")
    finally:
        server.shutdown()
        server.server_close()
