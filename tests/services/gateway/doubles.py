"""Test doubles for the gateway's own tests: a service that answers with what it received, and an authorizer whose
answer the test chooses (the real ones are tested through the gateway elsewhere)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio

from .method_request import Receive, Scope, Send


class EchoService:
    """Answers 200 with the request it received: method, path, raw path, query string, headers (in order), body."""

    def __init__(self, *, delay_seconds: float = 0.0, fail: bool = False) -> None:
        self.received: list[dict[str, Any]] = []
        self.delay_seconds = delay_seconds
        self.fail = fail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen = {"method": scope["method"], "path": scope["path"], "raw_path": scope["raw_path"].decode(),
                "query": scope["query_string"].decode(), "server": list(scope["server"]),
                "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]], "body": body.decode()}
        self.received.append(seen)
        if self.fail:
            raise RuntimeError("the service broke before answering")
        if self.delay_seconds:
            await anyio.sleep(self.delay_seconds)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"x-fapi-interaction-id", b"from-service")]})
        await send({"type": "http.response.body", "body": json.dumps(seen).encode()})

    def headers(self, index: int = -1) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.received[index]["headers"]]

    def header_values(self, name: str, index: int = -1) -> list[str]:
        return [v for k, v in self.headers(index) if k == name]


def allow(event: dict[str, Any], context: dict[str, Any] | None = None, *, resource: str | None = None,
          effect: str = "Allow") -> dict[str, Any]:
    """An authorizer answer: `effect` on the event's method ARN (or `resource`)."""
    return {"principalId": "client-1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource or event["methodArn"]}]},
            "context": context if context is not None else {}}


class StubAuthorizer:
    """A Lambda handler that records its events and contexts and answers `answer(event)`, or raises it."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any] | BaseException) -> None:
        self.answer = answer
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer(event)


CALLER = {"tppId": "tpp-from-authorizer", "clientId": "client-from-authorizer", "scopes": "accounts",
          "consentId": "aac-from-authorizer", "certThumbprint": "thumb"}
