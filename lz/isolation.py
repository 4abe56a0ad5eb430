"""Render processes, seen from lz: started apart from lz, bounded in time and memory, heard only as messages.

lz never imports a program. It starts one fork server per `Renderer` (`lz.forkserver`), in a session
of its own and with a minimal environment (no cloud credentials, tokens or other variables of the
user's shell; an empty home directory), and asks it for one render process per stack. What comes back
from a render process is checked against the record's types before anything of it is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import render_protocol as protocol
from .project import ProgramError

#: The directory lz is imported from: the fork server imports lz (and nothing else of it) from there.
LZ_PARENT = Path(__file__).resolve().parents[1]
MINIMAL_PATH = "/usr/local/bin:/usr/bin:/bin"
#: How much of a program's stdout and stderr lz keeps (the end of it).
OUTPUT_KEPT_BYTES = 64 * 1024
#: How long lz waits beyond the wall-clock limit for the monitor's report before it kills by itself.
GRACE_S = 10.0
_FORKSERVER = ("import sys; sys.path.insert(0, sys.argv[1]); import lz.forkserver as f; "
               "sys.path.remove(sys.argv[1]); f.main(int(sys.argv[2]))")


@dataclass(frozen=True)
class Limits:
    """What one `lz preview` may spend rendering a stack (the stacks it references included)."""

    #: Wall-clock seconds for the whole render (`--timeout`).
    timeout_s: float = 300.0
    #: Memory of each render process, in MiB (`--memory`; the process's data segment, the SDK included).
    memory_mib: int = 2048


def minimal_environment(home: str) -> dict[str, str]:
    """The render processes' environment: enough for Python and nothing of the user's shell."""
    env = {"PATH": MINIMAL_PATH, "HOME": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    return env


def _readable(sources: list[Any], timeout_s: float) -> list[Any]:
    """Which of `sources` (sockets, file descriptors) can be read within `timeout_s` (any descriptor
    number: a long test session may hold more than select() can watch)."""
    with selectors.DefaultSelector() as selector:
        for source in sources:
            selector.register(source, selectors.EVENT_READ)
        return [key.fileobj for key, _ in selector.select(timeout_s)]


class RenderProcess:
    """One render in progress: its channel, the program's output, and the process to kill."""

    def __init__(self, channel: socket.socket, output_fd: int) -> None:
        self.channel = channel
        self.output_fd: int | None = output_fd
        self.pid: int | None = None
        self._reader = protocol.MessageReader()
        self._pending: list[protocol.FromRender] = []
        self._output = bytearray()
        self._dropped = 0
        self._closed = False

    def send(self, message: dict[str, Any]) -> bool:
        """Send a message; False if the render process is no longer there to read it."""
        try:
            protocol.send(self.channel, message)
            return True
        except OSError:
            return False

    def _read_output(self) -> None:
        assert self.output_fd is not None
        data = os.read(self.output_fd, 1 << 16)
        if not data:
            os.close(self.output_fd)
            self.output_fd = None
            return
        self._output += data
        excess = len(self._output) - OUTPUT_KEPT_BYTES
        if excess > 0:
            del self._output[:excess]
            self._dropped += excess

    def next_message(self, deadline: float) -> protocol.FromRender | None:
        """The next message, or None once the channel is closed or `deadline` (monotonic) has passed."""
        while not self._pending:
            if self._closed:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready = _readable([self.channel, *([self.output_fd] if self.output_fd is not None else [])], remaining)
            if self.output_fd is not None and self.output_fd in ready:
                self._read_output()
            if self.channel in ready:
                data = self.channel.recv(1 << 20)
                if not data:
                    self._closed = True
                    continue
                self._pending.extend(self._reader.feed(data))
                for message in self._pending:
                    if message["type"] == "started" and self.pid is None:
                        self.pid = message["pid"]
        return self._pending.pop(0)

    def output(self) -> str:
        """What the program wrote to stdout and stderr (its last 64 KiB)."""
        while self.output_fd is not None and _readable([self.output_fd], 0):
            self._read_output()
        text = self._output.decode("utf-8", errors="replace")
        return f"[{self._dropped} bytes before this were dropped]\n{text}" if self._dropped else text

    def kill(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    def close(self) -> None:
        self.kill()
        self.channel.close()
        if self.output_fd is not None:
            os.close(self.output_fd)
            self.output_fd = None


class ForkServer:
    """lz's side of the fork server: starts it, warms it, and asks it for render processes."""

    def __init__(self) -> None:
        self._home = tempfile.mkdtemp(prefix="lz-home-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-c", _FORKSERVER, str(LZ_PARENT), str(theirs.fileno())],
                pass_fds=[theirs.fileno()], env=minimal_environment(self._home), cwd="/",
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                start_new_session=True)
        finally:
            theirs.close()
        self._control = ours
        self._warm: set[str] = set()
        self._to_warm: set[str] = set()
        ours.settimeout(120)
        try:
            ready = ours.recv(5)
        except OSError:
            ready = b""
        ours.settimeout(None)
        if ready != b"ready":
            self.close()
            raise ProgramError(f"lz could not start its render processes: {self._last_error()}")

    def _last_error(self) -> str:
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
        stderr = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
        lines = [line for line in stderr.splitlines() if line.strip()]
        return lines[-1] if lines else f"the fork server exited with status {self._process.returncode}"

    def _send(self, message: dict[str, Any], fds: Iterable[int] = ()) -> None:
        data = json.dumps(message).encode()
        packet = struct.pack("!I", len(data)) + data
        try:
            socket.send_fds(self._control, [packet], list(fds))
        except OSError:
            raise ProgramError(f"lz's fork server has stopped: {self._last_error()}") from None

    def warm(self, modules: Iterable[str]) -> None:
        """Have these provider SDK modules imported before the next render process is forked."""
        self._to_warm |= set(modules) - self._warm

    def fork(self, timeout_s: float) -> RenderProcess:
        if self._to_warm:
            self._send({"op": "warm", "modules": sorted(self._to_warm)})
            self._warm |= self._to_warm
            self._to_warm = set()
        channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        read_fd, write_fd = os.pipe()
        try:
            self._send({"op": "fork", "timeout_s": timeout_s}, [theirs.fileno(), write_fd])
        except ProgramError:
            channel.close()
            os.close(read_fd)
            raise
        finally:
            theirs.close()
            os.close(write_fd)
        return RenderProcess(channel, read_fd)

    def close(self) -> None:
        self._control.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stderr:
            self._process.stderr.close()
        shutil.rmtree(self._home, ignore_errors=True)
