"""Limits on request bodies, enforced before any handler reads or parses one.

- **Size**: a body over :data:`MAX_BODY_BYTES` (1 MiB; OBIE request documents are a few kilobytes, and a request
  signature is verified over at most that much) is answered 413. A declared `Content-Length` over the limit is
  refused before a byte is read; a streamed (chunked) body is counted as it arrives and refused as soon as it
  passes the limit, so a 10 MB body is never buffered, let alone parsed.
- **Depth**: a JSON body whose arrays and objects nest deeper than :data:`MAX_JSON_DEPTH` (32; the deepest OBIE
  request document nests 5) is answered 400. The depth is counted on the raw bytes, without recursion, so
  `[[[[...` a thousand or a hundred thousand levels deep costs one linear scan and never reaches the JSON parser
  (whose recursion would otherwise end in a `RecursionError` and a 500).

Both answers are `OBErrorResponse1` bodies. The middleware buffers an accepted body (at most the limit) and replays
it to the application, which reads it as usual.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ErrorCode, ErrorDetail, error_body
from .interaction import STATE_KEY

#: The largest request body accepted (bytes).
MAX_BODY_BYTES = 1024 * 1024
#: The deepest nesting of JSON arrays and objects accepted.
MAX_JSON_DEPTH = 32

#: A JSON string literal (escapes included), unrolled so a long string is matched in one linear pass.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")


def json_nesting_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays and objects of `body` (JSON text) nest deeper than `limit`. Brackets inside strings do
    not count; malformed text is left to the parser, which refuses it."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_A_BRACKET)
    depth = 0
    for byte in brackets:
        if byte in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class BodyLimitMiddleware:
    """Pure ASGI middleware applying :data:`MAX_BODY_BYTES` and :data:`MAX_JSON_DEPTH` (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send, 413, ErrorCode.HEADER_INVALID,
                               f"the request body ({int(declared)} bytes) is larger than the limit of "
                               f"{self.max_bytes} bytes", "Content-Length")
            return
        chunks: list[bytes] = []
        size = 0
        trailing: list[Message] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                trailing.append(message)  # the client went away: let the application see it
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, send, 413, ErrorCode.FIELD_INVALID,
                                   f"the request body is larger than the limit of {self.max_bytes} bytes", "body")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers.get("content-type")) and json_nesting_exceeds(body, self.max_depth):
            await self._refuse(scope, send, 400, ErrorCode.FIELD_INVALID,
                               f"the JSON body nests arrays and objects deeper than {self.max_depth} levels", "body")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            if trailing:
                return trailing.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, code: ErrorCode, message: str, path: str) -> None:
        interaction_id = scope.get("state", {}).get(STATE_KEY)
        payload = json.dumps(error_body(status, [ErrorDetail(code, message, path)],
                                        interaction_id if isinstance(interaction_id, str) else None)).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})
