"""Request metrics in CloudWatch's embedded metric format: one JSON line per request on stdout.

The container's `awslogs` driver ships the line to the service's log group, and CloudWatch turns it into the
metrics `Requests`, `ServerErrors` and `Latency` (namespace `OpenBanking/Services`, dimensions `Environment` and
`Service`) that the workload accounts' alarms watch (5xx rate, p99 latency). No client library and no API
call: nothing on a request's path can fail or wait because of metrics. Health checks are not counted.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

NAMESPACE = "OpenBanking/Services"
DIMENSIONS = ("Environment", "Service")
_METRICS = [{"Name": "Requests", "Unit": "Count"}, {"Name": "ServerErrors", "Unit": "Count"},
            {"Name": "Latency", "Unit": "Milliseconds"}]
UNCOUNTED_PATHS = frozenset({"/health"})


def emf_line(environment: str, service: str, status: int, latency_ms: float, now_ms: int) -> str:
    """One request as an embedded-metric-format log event."""
    return json.dumps({
        "_aws": {"Timestamp": now_ms, "CloudWatchMetrics": [
            {"Namespace": NAMESPACE, "Dimensions": [list(DIMENSIONS)], "Metrics": _METRICS}]},
        "Environment": environment, "Service": service, "Requests": 1, "ServerErrors": int(status >= 500),
        "Latency": round(latency_ms, 3), "StatusCode": status,
    }, separators=(",", ":"))


class RequestMetrics:
    """ASGI middleware: time each HTTP request from its arrival to the end of its response and write its line.

    A request whose handler raises before answering counts as a 500 (the error handlers answer it so)."""

    def __init__(self, app: Any, *, environment: str, service: str,
                 write: Callable[[str], Any] | None = None, clock: Callable[[], float] = time.perf_counter) -> None:
        self.app = app
        self.environment = environment
        self.service = service
        self.write = write or (lambda line: (sys.stdout.write(line + "\n"), sys.stdout.flush()))
        self.clock = clock

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http" or scope.get("path") in UNCOUNTED_PATHS:
            await self.app(scope, receive, send)
            return
        started = self.clock()
        status = 500

        async def observed(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            latency = (self.clock() - started) * 1000
            self.write(emf_line(self.environment, self.service, status, latency, int(time.time() * 1000)))
