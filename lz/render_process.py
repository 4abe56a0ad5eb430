"""The render process: runs one program under lz's mocks and sends lz the record of what it registered.

It is forked by lz's fork server (`lz.forkserver`) with a minimal environment, in a process group of
its own, under a memory limit, and is killed at its wall-clock limit. It runs the program the way the
Pulumi language host does (`run_in_stack` on a fresh event loop, the project directory as working
directory and first on `sys.path`), answers a `StackReference` by asking lz for that stack's outputs,
and ends with `os._exit` once the record is sent: nothing the program leaves running (threads, pending
outputs, atexit hooks) can keep it alive or print after it. Whatever the program does to this process
stays here: lz evaluates the policy pack in its own process, on the record, after this one has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import resource
import runpy
import socket
import sys
import threading
import traceback
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pulumi
import pulumi.runtime

from . import pulumi_internals as sdk
from . import render_protocol as protocol
from .mocks import RealisticMocks
from .recording import Recorder, RecordingMonitor, _jsonable

#: The cycle collector's thresholds in a render process (the interpreter's are 700, 10, 10).
GC_THRESHOLDS = (100_000, 50, 1000)


def run(channel_fd: int, output_fd: int) -> NoReturn:
    """Render what lz asks for on `channel_fd`, with the program's stdout and stderr on `output_fd`."""
    channel = socket.socket(fileno=channel_fd)
    message: dict[str, Any]
    memory = 0
    try:
        protocol.send(channel, {"type": "started", "pid": os.getpid()})
        request = protocol.receive_request(channel)
        memory = request["memory_mib"]
        resource.setrlimit(resource.RLIMIT_DATA, (memory * 2**20, memory * 2**20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        _redirect_output(output_fd)
        lock = threading.Lock()

        def read_stack(name: str) -> dict[str, Any]:
            with lock:
                protocol.send(channel, {"type": "reference", "stack": name})
                return protocol.receive_outputs(channel)

        message = render(request, read_stack)
    except MemoryError:
        message = {"type": "failure", "message": f"memory limit of {memory} MiB reached (--memory)"}
    except BaseException as exc:  # whatever happened is the render's outcome, reported to lz
        message = {"type": "failure", "message": f"the render process failed: {type(exc).__name__}: {exc}"}
    with contextlib.suppress(BaseException):  # lz is gone, or this cannot be sent: lz reports the exit
        protocol.send(channel, message)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):  # the program may have closed or replaced them
            stream.flush()
    os._exit(0)


def _redirect_output(output_fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)


def _where(exc: BaseException, directory: Path) -> str:
    """The program line the exception came from, if it came from the program's own code."""
    root = str(directory) + os.sep
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(root) and "site-packages" not in f.filename]
    if not frames:
        return ""
    return f" (at {Path(frames[-1].filename).relative_to(directory)}:{frames[-1].lineno})"


#: What `threading` raises when it cannot map a new thread's stack: at the memory limit, thread stacks are
#: memory like any other (the SDK starts threads for its RPCs, so this can come before a MemoryError).
THREAD_START_FAILED = "can't start new thread"


def out_of_memory(exc: BaseException) -> bool:
    """Whether the memory limit is what stopped the program: a MemoryError, or a thread whose stack could
    not be mapped, anywhere in what the program raised (the SDK chains exceptions, and wraps messages)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MemoryError) or THREAD_START_FAILED in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def describe(exc: BaseException, directory: Path) -> str:
    """One line (or one per problem) saying why the program did not render."""
    if isinstance(exc, SystemExit):
        return (f"the program called sys.exit({exc.code!r}) before it finished{_where(exc, directory)}; lz cannot "
                "tell whether it registered everything")
    if isinstance(exc, pulumi.RunError):
        return str(exc)
    kind, text = type(exc).__name__, str(exc)
    # The SDK wraps an error raised while it resolved a resource's input ("While processing input: ...\n
    # ValueError has risen: <the program's message>"): the program's own message is what the user needs.
    while " has risen: " in text:
        head, _, text = text.rpartition(" has risen: ")
        kind = head.rsplit("\n", 1)[-1].strip() or kind
    text = " ".join(text.split("\n"))
    return f"program error: {kind}{': ' + text if text else ''}{_where(exc, directory)}"


def _sdk_modules() -> list[str]:
    """Provider SDK modules the program loaded: the fork server imports them before the next render
    (from its own path, on which no program's directory is)."""
    return sorted(name for name, module in list(sys.modules.items())
                  if name.split(".")[0].startswith("pulumi_")
                  and type(module) is types.ModuleType)  # loaded, not one of the SDK's lazy placeholders


def tune_runtime() -> None:
    """How a render process runs the SDK (the bench's floor runs the same way).

    The process lives seconds and ends with os._exit: what the fork server imported is frozen out of
    the cycle collector's sight, and the collector waits for large generations (with the defaults it
    was half of a big render's time); the SDK keeps only where each resource was created, not the
    whole stack; and, as in the language host, failed outputs the program never awaited are not
    logged (nor the SDK's own output coroutines a failed run leaves unawaited)."""
    sdk.capture_source_positions_only()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", message=r"coroutine 'Output\.\w+' was never awaited", category=RuntimeWarning)


def render(request: protocol.RenderRequest, read_stack: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Render the request's program in this process: the "result" or "failure" message for lz.

    `read_stack(name)` answers a `StackReference(name)` with that stack's outputs. The bench calls this
    directly, under an instruction counter, with the outputs of stacks it rendered before."""
    sdk.check_version()
    tune_runtime()

    directory = Path(request["directory"])
    main = Path(request["main"])
    os.chdir(directory)
    for entry in dict.fromkeys([str(main.parent), str(directory)]):
        sys.path.insert(0, entry)
    sys.argv = [str(main)]

    recorder = Recorder(request["stack"], request["project"], directory, request["default_region"],
                        frozenset(request["disabled_default_providers"]), read_stack)
    mocks = RealisticMocks(recorder)
    monitor = RecordingMonitor(mocks, recorder)
    recorder.monitor = monitor

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.set_mocks(mocks, project=request["project"], stack=request["stack"], preview=False,
                             monitor=monitor, organization=request["organization"])
    sdk.detach_root_stack()
    pulumi.runtime.set_all_config(request["config"], request["secret_keys"])

    stack: list[Any] = []

    def program() -> None:
        # run_in_stack sets the root stack in its task's context; keep it to read the exports after
        stack.append(pulumi.runtime.get_root_resource())
        runpy.run_path(str(main), run_name="__main__")

    error: BaseException | None = None
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(program))
    except BaseException as exc:  # the program's failure, whatever its kind, is reported
        error = exc
    if recorder.problems:
        return {"type": "failure", "message": "\n".join(dict.fromkeys(recorder.problems))}
    if error is not None:
        if out_of_memory(error):
            raise MemoryError from error
        return {"type": "failure", "message": describe(error, directory)}
    exports = sdk.stack_exports(stack[0] if stack else None)
    resolved = loop.run_until_complete(pulumi.Output.from_input(exports).future())
    return {"type": "result", "resources": recorder.resources, "outputs": _jsonable(resolved or {}),
            "sdk_modules": _sdk_modules()}
