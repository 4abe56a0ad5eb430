"""The fork server: one long-lived process that forks render processes with the Pulumi SDK already loaded.

lz starts it (`lz.isolation.ForkServer`) with a minimal environment, in a session of its own, with
nothing of any program imported: `pulumi`, the AWS provider SDK and lz's render process code, then
frozen for the garbage collector. For each render lz sends two file descriptors (the render's channel
and the pipe for the program's output); the server forks a monitor, which forks the render process
(`lz.render_process`), kills its process group at the wall-clock limit, and reports how it ended
(exit status, signal, peak memory) on the channel. Between renders lz may ask it to import the
provider SDK modules the last program used, so the next render process starts with them loaded.

Messages from lz are length-prefixed JSON: `{"op": "fork", "timeout_s": float}` (with the two
descriptors) and `{"op": "warm", "modules": [...]}`.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import time
import types
from typing import Any, NoReturn

HEADER = struct.Struct("!I")
#: Imported before the first fork.
PRELOAD = ("pulumi", "pulumi.runtime", "lz.render_process")
#: Imported too when installed (lz's mocks answer for the AWS provider).
PRELOAD_IF_INSTALLED = ("pulumi_aws",)
#: Only provider SDK modules are imported on request; never anything of a program.
WARMABLE = re.compile(r"^pulumi_[a-z0-9_]+(\.[A-Za-z0-9_]+)*$")


def _read_message(control: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    header, fds, _flags, _addr = socket.recv_fds(control, HEADER.size, 2)
    if len(header) < HEADER.size:
        return None, fds
    (size,) = HEADER.unpack(header)
    body = b""
    while len(body) < size:
        chunk = control.recv(size - len(body))
        if not chunk:
            return None, fds
        body += chunk
    return json.loads(body), fds


def _loaded(name: str) -> bool:
    """Imported for real: provider SDKs register their submodules lazily, as subclasses of ModuleType
    that load on first use."""
    return type(sys.modules.get(name)) is types.ModuleType


def _warm(modules: list[str]) -> None:
    for name in sorted(modules):  # a package before its modules: a provider SDK's lazy package breaks otherwise
        if not WARMABLE.match(name) or _loaded(name):
            continue
        try:
            if importlib.util.find_spec(name.split(".")[0]) is None:
                continue
            module = importlib.import_module(name)
            getattr(module, "__all__", None)  # a lazy module loads on its first attribute
        except Exception:  # a module that fails here fails in the render, where it is reported
            continue


def _wait(child: int, timeout_s: float) -> tuple[int, Any] | None:
    """Wait for `child` to end: its (status, resource usage), or None if it still runs at `timeout_s`."""
    if hasattr(os, "pidfd_open"):
        pidfd = os.pidfd_open(child)
        try:
            ready, _, _ = select.select([pidfd], [], [], max(timeout_s, 0.0))
        finally:
            os.close(pidfd)
        if not ready:
            return None
        _, status, usage = os.wait4(child, 0)
        return status, usage
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(child, os.WNOHANG)
        if pid:
            return status, usage
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.02)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _monitor(channel_fd: int, output_fd: int, timeout_s: float) -> None:
    """Fork the render process, end it at its wall-clock limit, and report how it ended."""
    child = os.fork()
    if child == 0:
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        from lz import render_process

        render_process.run(channel_fd, output_fd)
    with contextlib.suppress(OSError):  # the child already did it, or already ended
        os.setpgid(child, child)
    os.close(output_fd)
    ended = _wait(child, timeout_s)
    timed_out = ended is None
    if ended is None:
        _kill_group(child)
        _, status, usage = os.wait4(child, 0)
    else:
        status, usage = ended
    _kill_group(child)  # whatever the program started and left behind ends with it
    code = os.waitstatus_to_exitcode(status)
    report = {"type": "exit", "status": max(code, 0), "signal": -code if code < 0 else 0,
              "timed_out": timed_out, "max_rss_kib": int(usage.ru_maxrss)}
    data = json.dumps(report).encode()
    with socket.socket(fileno=channel_fd) as channel, contextlib.suppress(OSError):  # unless lz has gone
        channel.sendall(HEADER.pack(len(data)) + data)


def _fork_monitor(control: socket.socket, message: dict[str, Any], fds: list[int]) -> None:
    channel_fd, output_fd = fds
    if os.fork() == 0:
        try:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _monitor(channel_fd, output_fd, float(message["timeout_s"]))
        finally:
            os._exit(0)
    for fd in fds:
        os.close(fd)


def main(control_fd: int) -> NoReturn:
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the monitors
    for name in PRELOAD:
        importlib.import_module(name)
    _warm(list(PRELOAD_IF_INSTALLED))
    gc.collect()
    gc.freeze()
    control.sendall(b"ready")
    while True:
        try:
            message, fds = _read_message(control)
        except OSError:
            break
        if message is None:
            break  # lz closed the connection: nothing more to render
        if message.get("op") == "fork" and len(fds) == 2:
            _fork_monitor(control, message, fds)
            continue
        for fd in fds:
            os.close(fd)
        if message.get("op") == "warm":
            _warm([str(m) for m in message.get("modules", [])])
            gc.collect()
            gc.freeze()
    os._exit(0)
