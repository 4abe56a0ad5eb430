"""Request bodies are bounded before any handler reads them: 413 over 1 MiB (a declared Content-Length refused
unread, a streamed body refused once it passes the limit), 400 for JSON nested deeper than 32 levels, both as OBIE
error bodies carrying the interaction id. Driven through the ASGI interface, so the test sees exactly how much of
the body the service pulled. Every real endpoint is exercised over HTTP in tests/services/sandbox."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from openbanking.common.app import create_app
from openbanking.common.bodies import parse_json, raw_body
from openbanking.common.body_limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, json_nesting_exceeds

MIB = 1024 * 1024


def _app() -> Any:
    router = APIRouter()

    @router.post("/documents")
    def create(body: Annotated[bytes, Depends(raw_body)]) -> dict[str, Any]:
        document = parse_json(body)
        return {"size": len(body), "kind": type(document).__name__}

    return create_app("body limits", [("", router)], caller_resolver=lambda request: None)  # type: ignore[arg-type,return-value]


def nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


def nested_objects(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


class Exchange:
    """One request through the ASGI app: the chunks it may pull, how many bytes it did pull, and the answer."""

    def __init__(self, chunks: Iterable[bytes], headers: dict[str, str]) -> None:
        self.chunks = list(chunks)
        self.headers = headers
        self.pulled = 0
        self.status = 0
        self.response_headers: dict[str, str] = {}
        self.body = b""

    async def run(self, app: Any) -> Exchange:
        index = 0

        async def receive() -> dict[str, Any]:
            nonlocal index
            if index >= len(self.chunks):
                await asyncio.sleep(3600)  # nothing more: a well-behaved app never asks
            chunk = self.chunks[index]
            index += 1
            self.pulled += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": index < len(self.chunks)}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.response_headers = {k.decode(): v.decode() for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                self.body += message.get("body", b"")

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/documents", "raw_path": b"/documents", "query_string": b"",
                 "root_path": "", "server": ("testserver", 80), "client": ("127.0.0.1", 50000),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]}
        await asyncio.wait_for(app(scope, receive, send), timeout=30)
        return self

    def error(self) -> dict[str, Any]:
        body = json.loads(self.body)
        assert body["Code"].startswith(str(self.status)) and body["Errors"], body
        return body


def exchange(chunks: Iterable[bytes], headers: dict[str, str] | None = None) -> Exchange:
    interaction = str(uuid.uuid4())
    all_headers = {"content-type": "application/json", "x-fapi-interaction-id": interaction, **(headers or {})}
    loop = asyncio.new_event_loop()  # not asyncio.run: it would leave the main thread without a current loop,
    try:  # which later tests (Pulumi's mocks) rely on
        done = loop.run_until_complete(Exchange(chunks, all_headers).run(_app()))
    finally:
        loop.close()
    assert done.response_headers.get("x-fapi-interaction-id") == interaction
    return done


@pytest.mark.parametrize("document", [nested(1_000), nested(100_000), nested_objects(1_000),
                                      nested_objects(100_000), nested(MAX_JSON_DEPTH + 1, "{\"a\":[", "]}")],
                         ids=["arrays-1000", "arrays-100000", "objects-1000", "objects-100000", "mixed-33"])
def test_deeply_nested_json_is_a_400_with_an_obie_body(document: bytes) -> None:
    answer = exchange([document], {"content-length": str(len(document))})
    assert answer.status == 400, answer.body[:300]
    error = answer.error()["Errors"][0]
    assert error["ErrorCode"] == "UK.OBIE.Field.Invalid" and error["Path"] == "body"
    assert f"deeper than {MAX_JSON_DEPTH} levels" in error["Message"]
    assert answer.error()["Id"] == answer.response_headers["x-fapi-interaction-id"]


def test_nesting_up_to_the_limit_is_parsed() -> None:
    document = nested(MAX_JSON_DEPTH)
    answer = exchange([document])
    assert answer.status == 200 and json.loads(answer.body) == {"size": len(document), "kind": "list"}


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"Unstructured": "[" * 5_000 + '\\"{' * 100, "Reference": "]]]"}).encode()
    assert not json_nesting_exceeds(text)
    assert exchange([text]).status == 200
    assert json_nesting_exceeds(b'["]", ' + nested(MAX_JSON_DEPTH) + b"]")


def test_a_declared_body_over_the_limit_is_refused_unread() -> None:
    ten_mb = 10 * MIB
    answer = exchange([b"x" * MIB] * 10, {"content-length": str(ten_mb)})
    assert answer.status == 413 and answer.pulled == 0, "refused on Content-Length, before reading the body"
    error = answer.error()["Errors"][0]
    assert error["ErrorCode"] == "UK.OBIE.Header.Invalid" and error["Path"] == "Content-Length"
    assert str(MAX_BODY_BYTES) in error["Message"]


def test_a_streamed_body_over_the_limit_is_refused_once_it_passes_the_limit() -> None:
    chunk = 64 * 1024
    answer = exchange([b"[" + b"1," * (chunk // 2 - 1) + b"1"] + [b"x" * chunk] * 160)  # about 10 MB, chunked
    assert answer.status == 413
    assert MAX_BODY_BYTES < answer.pulled <= MAX_BODY_BYTES + chunk, "it stops reading once past the limit"
    assert answer.error()["Errors"][0]["Path"] == "body"


def test_a_body_at_the_limit_is_accepted() -> None:
    document = b"[" + b" " * (MAX_BODY_BYTES - 2) + b"]"
    answer = exchange([document[:MIB // 2], document[MIB // 2:]])
    assert answer.status == 200 and json.loads(answer.body)["size"] == MAX_BODY_BYTES


def test_through_an_http_client_too() -> None:
    with TestClient(_app()) as client:
        deep = client.post("/documents", content=nested(100_000), headers={"content-type": "application/json"})
        assert deep.status_code == 400 and deep.json()["Errors"][0]["Path"] == "body"
        large = client.post("/documents", content=b"[" + b"0," * (MAX_BODY_BYTES // 2) + b"0]",
                            headers={"content-type": "application/json"})
        assert large.status_code == 413 and large.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Header.Invalid"
