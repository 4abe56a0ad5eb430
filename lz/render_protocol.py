"""How lz and a render process talk: length-prefixed JSON messages over a Unix socket.

From the render process (and the small monitor that waits for it):
    {"type": "started", "pid": int}                      the monitor forked the render process
    {"type": "reference", "stack": str}                  a StackReference: send that stack's outputs
    {"type": "result", "resources": [...], "outputs": {...}, "sdk_modules": [...]}
    {"type": "failure", "message": str}                  the program could not be rendered, and why
    {"type": "exit", "status": int, "signal": int, "timed_out": bool, "max_rss_kib": int}
From lz:
    {"type": "request", ...}                             what to render (`RenderRequest`), sent first
    {"type": "outputs", "outputs": {...}}                the answer to a "reference"

lz trusts nothing it receives: each message is checked against the types below (the resources
against `record.ResourceRecord`) before it is used.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from .record import ResourceRecord

HEADER = struct.Struct("!I")
#: A message larger than this is refused (a record of 40 workload accounts is about 10 MiB).
MAX_MESSAGE_BYTES = 512 * 2**20


class ProtocolError(Exception):
    """A message was malformed, too large or cut short."""


class Started(TypedDict):
    type: Literal["started"]
    pid: int


class Reference(TypedDict):
    type: Literal["reference"]
    stack: str


class Result(TypedDict):
    type: Literal["result"]
    resources: list[ResourceRecord]
    outputs: dict[str, Any]
    sdk_modules: list[str]


class Failure(TypedDict):
    type: Literal["failure"]
    message: str


class Exit(TypedDict):
    type: Literal["exit"]
    status: int
    signal: int
    timed_out: bool
    max_rss_kib: int


class RenderRequest(TypedDict):
    """Everything the render process needs to know: it reads nothing of lz's own state."""

    type: Literal["request"]
    directory: str
    main: str
    project: str
    stack: str
    organization: str
    config: dict[str, str]
    secret_keys: list[str]
    disabled_default_providers: list[str]
    default_region: str
    memory_mib: int


class Outputs(TypedDict):
    type: Literal["outputs"]
    outputs: dict[str, Any]


FromRender = Started | Reference | Result | Failure | Exit
_FROM_RENDER: TypeAdapter[FromRender] = TypeAdapter(Annotated[FromRender, Field(discriminator="type")])
_OUTPUTS: TypeAdapter[Outputs] = TypeAdapter(Outputs)
_REQUEST: TypeAdapter[RenderRequest] = TypeAdapter(RenderRequest)


def encode(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"a message of {len(data)} bytes is over the limit of {MAX_MESSAGE_BYTES}")
    return HEADER.pack(len(data)) + data


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(encode(message))


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, missing = [], size
    while missing:
        chunk = sock.recv(min(missing, 1 << 20))
        if not chunk:
            raise ProtocolError("the other side closed the connection")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _receive(sock: socket.socket) -> bytes:
    (size,) = HEADER.unpack(_recv_exactly(sock, HEADER.size))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"a message of {size} bytes is over the limit")
    return _recv_exactly(sock, size)


def receive_request(sock: socket.socket) -> RenderRequest:
    """Block until lz says what to render (render process side)."""
    try:
        return _REQUEST.validate_json(_receive(sock), strict=True)
    except ValidationError as exc:
        raise ProtocolError(f"not a render request: {exc.errors()[0]['msg']}") from None


def receive_outputs(sock: socket.socket) -> dict[str, Any]:
    """Block until lz answers a reference (render process side)."""
    try:
        return _OUTPUTS.validate_json(_receive(sock))["outputs"]
    except ValidationError as exc:
        raise ProtocolError(f"not an answer to a stack reference: {exc.errors()[0]['msg']}") from None


class MessageReader:
    """Splits what lz reads from a render process into checked messages (lz side, non-blocking)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[FromRender]:
        self._buffer += data
        messages: list[FromRender] = []
        while len(self._buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buffer)
            if size > MAX_MESSAGE_BYTES:
                raise ProtocolError(f"the render process sent a message of {size} bytes, over the limit "
                                    f"of {MAX_MESSAGE_BYTES}")
            if len(self._buffer) < HEADER.size + size:
                break
            body = bytes(self._buffer[HEADER.size:HEADER.size + size])
            del self._buffer[:HEADER.size + size]
            try:
                messages.append(_FROM_RENDER.validate_json(body, strict=True))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ProtocolError(f"the render process sent a malformed message ({where}: {first['msg']})") from None
        return messages

    @property
    def pending(self) -> int:
        return len(self._buffer)
