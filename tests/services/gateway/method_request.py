"""The request as it reaches API Gateway's method: read once from the ASGI scope, with the client certificate of the
TLS connection (the ASGI `tls` extension: there is no TLS locally, the test's connection supplies the certificate)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class MethodRequest:
    method: str
    #: The path as sent (percent-encoding kept): API Gateway matches resources on its segments.
    raw_path: str
    query_string: bytes
    #: Header names in lower case (ASGI's), values as sent, in order; repeated headers repeat.
    headers: tuple[tuple[str, str], ...]
    body: bytes
    source_ip: str
    #: The PEM chain the client presented on the TLS connection (leaf first), empty without one.
    client_cert_chain: tuple[str, ...]

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    @property
    def segments(self) -> list[str]:
        return self.raw_path.split("/")[1:]

    def header(self, name: str) -> str | None:
        """The last value of a header (API Gateway's `headers` keeps the last one), any case."""
        values = self.header_values(name)
        return values[-1] if values else None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True)

    def query_value(self, name: str) -> str | None:
        values = [value for key, value in self.query if key == name]
        return values[-1] if values else None


async def read_request(scope: Scope, receive: Receive) -> MethodRequest:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    raw_path = scope.get("raw_path")
    tls = (scope.get("extensions") or {}).get("tls") or {}
    client = scope.get("client") or ("203.0.113.10", 0)
    return MethodRequest(
        method=scope["method"].upper(),
        raw_path=raw_path.decode("latin-1") if raw_path else scope["path"],
        query_string=scope.get("query_string", b""),
        headers=tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", [])),
        body=b"".join(chunks),
        source_ip=str(client[0]),
        client_cert_chain=tuple(tls.get("client_cert_chain") or ()),
    )


async def lifespan(receive: Receive, send: Send) -> None:
    """The gateway has nothing to start: the backends' lifespans belong to the tests that build them."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
