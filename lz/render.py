"""Render a stack of a Pulumi Python program offline: what `pulumi preview` would register, and its exports.

The program runs in a render process of its own (`lz.render_process`, forked by `lz.forkserver`),
under realistic mocks and its stack's own config; lz receives the record of every resource and never
imports the program itself, so nothing the program does can change how lz judges that record. A
`StackReference` is answered when the program makes it: lz renders the referenced stack (in another
render process) and sends its outputs back. `Renderer` keeps the fork server warm between renders
and, unless told otherwise, reuses a finished render of an unchanged stack (the tests' foundation
stack is rendered once, not once per stack that references it).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import signal
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from . import render_protocol as protocol
from .isolation import GRACE_S, ForkServer, Limits, RenderProcess
from .mocks import DEFAULT_REGION
from .project import Program, ProgramError, StackConfig, check_name

#: The organization lz gives the program (`pulumi.get_organization()`), as the SDK's mocks do.
ORGANIZATION = "organization"
#: Directories whose files cannot change what a program registers (tools, caches, virtualenvs).
SKIPPED_DIRECTORIES = {"__pycache__", "node_modules", "venv", "site-packages"}
#: When a render process ends at this share of its memory limit without a record, the limit ended it.
MEMORY_LIMIT_SHARE = 0.9


class RenderError(ProgramError):
    """A stack could not be rendered; `output` is what the program printed before it stopped."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


@dataclass
class Rendering:
    """What one stack would register, and what it exports."""

    program: Program
    stack: str
    #: Each a `record.ResourceRecord` (checked when it arrived from the render process), in registration order.
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]
    #: The stacks this one read through a `StackReference` (each rendered for it).
    references: list[str]
    #: Each a `record.ViolationRecord`, once `policy_gate.check` has run.
    violations: list[dict[str, Any]] = field(default_factory=list)
    #: What the program printed (stdout and stderr, the last 64 KiB).
    output: str = ""
    #: Peak memory of the render process, in KiB.
    max_rss_kib: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "project": self.program.name, "resources": self.resources,
                "outputs": self.outputs, "violations": self.violations}

    def by_account(self) -> dict[str, list[dict[str, Any]]]:
        accounts: dict[str, list[dict[str, Any]]] = {}
        for r in self.resources:
            if r["custom"] and not r["type"].startswith("pulumi:"):
                accounts.setdefault(f"{r['account']} ({r['account_id']})", []).append(r)
        return accounts


def referenced_stack(program: Program, name: str) -> str:
    """The stack of `program` a `StackReference(name)` names (`stack`, `org/stack`, `org/project/stack`)."""
    parts = name.split("/")
    if len(parts) == 3 and parts[1] != program.name:
        raise ProgramError(f"lz renders references to stacks of project {program.name!r} only")
    if not 1 <= len(parts) <= 3:
        raise ProgramError("not a stack name (stack, org/stack or org/project/stack)")
    check_name(parts[-1], "stack name")
    return parts[-1]


def _fingerprint(program: Program, stack: str) -> str:
    """Every file of the program (size and modification time, through symlinked directories) and the
    stack: a changed file, a new render."""
    digest = hashlib.sha256(stack.encode())
    seen: set[str] = set()
    for root in dict.fromkeys([program.directory, program.stack_directory]):
        for current, directories, files in os.walk(root, followlinks=True):
            seen.add(os.path.realpath(current))
            directories[:] = sorted(
                d for d in directories
                if not d.startswith(".") and d not in SKIPPED_DIRECTORIES
                and os.path.realpath(os.path.join(current, d)) not in seen
                and not os.path.exists(os.path.join(current, d, "pyvenv.cfg")))
            for name in sorted(files):
                try:
                    stat = os.stat(os.path.join(current, name))
                except OSError:
                    continue
                digest.update(f"{current}/{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _ending(program: Program, stack: str, limits: Limits, exit_: protocol.Exit | None) -> str:
    """Why a render process that sent no record ended, in one line."""
    where = f"{program.name}/{stack}"
    if exit_ is None:
        return f"{where}: the render process stopped answering (no record, no exit status)"
    if exit_["timed_out"]:
        return f"{where}: wall-clock limit of {limits.timeout_s:g} s reached (--timeout); the program had not finished"
    if exit_["max_rss_kib"] >= MEMORY_LIMIT_SHARE * limits.memory_mib * 1024:
        return f"{where}: memory limit of {limits.memory_mib} MiB reached (--memory)"
    if exit_["signal"]:
        try:
            name = signal.Signals(exit_["signal"]).name
        except ValueError:
            name = f"signal {exit_['signal']}"
        return f"{where}: the render process was killed by {name} before the program finished"
    return (f"{where}: the program ended the render process (exit status {exit_['status']}) before it finished, "
            "so there is no complete record to judge")


def render_request(program: Program, stack: str, config: StackConfig, limits: Limits) -> protocol.RenderRequest:
    """What a render process is asked to render: the program, the stack and its config, as lz reads them."""
    return {
        "type": "request", "directory": str(program.directory), "main": str(program.main),
        "project": program.name, "stack": stack, "organization": ORGANIZATION,
        "config": config.values, "secret_keys": config.secret_keys,
        "disabled_default_providers": sorted(config.disabled_default_providers()),
        "default_region": config.values.get("aws:region", DEFAULT_REGION), "memory_mib": limits.memory_mib,
    }


class Renderer:
    """Renders stacks in render processes, with limits; one fork server for all of them."""

    def __init__(self, limits: Limits | None = None, *, reuse: bool = True) -> None:
        self.limits = limits or Limits()
        #: Keep finished renders and hand them out again while the program's files are unchanged.
        self.reuse = reuse
        self._server: ForkServer | None = None
        self._finished: dict[tuple[Path, str], tuple[str, Rendering]] = {}

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def render(self, program: Program, stack: str, limits: Limits | None = None) -> Rendering:
        """Render `stack` of `program` (and the stacks it references) within `limits`."""
        limits = limits or self.limits
        return self._render(program, stack, (), time.monotonic() + limits.timeout_s, limits)

    def _render(self, program: Program, stack: str, chain: tuple[str, ...], deadline: float,
                limits: Limits) -> Rendering:
        if stack in chain:
            raise ProgramError(f"stack reference cycle: {' -> '.join([*chain, stack])}")
        config = program.config(stack)
        key = (program.directory, stack)
        fingerprint = _fingerprint(program, stack) if self.reuse else ""
        if self.reuse and key in self._finished and self._finished[key][0] == fingerprint:
            return replace(self._finished[key][1], violations=[])
        if self._server is None:
            self._server = ForkServer()
        process = self._server.fork(max(deadline - time.monotonic(), 0.0))
        try:
            rendering = self._drive(process, program, stack, config, chain, deadline, limits)
        finally:
            process.close()
        if self.reuse:
            self._finished[key] = (fingerprint, rendering)
            return replace(rendering, violations=[])
        return rendering

    def _drive(self, process: RenderProcess, program: Program, stack: str, config: StackConfig,
               chain: tuple[str, ...], deadline: float, limits: Limits) -> Rendering:
        request = render_request(program, stack, config, limits)
        where = f"{program.name}/{stack}"
        references: list[str] = []
        result: protocol.Result | None = None
        failure: str | None = None
        exit_: protocol.Exit | None = None
        sent_request = False
        while exit_ is None:
            try:
                message = process.next_message(deadline + GRACE_S)
            except protocol.ProtocolError as exc:
                raise RenderError(f"{where}: {exc}", process.output()) from None
            if message is None:
                break
            kind = message["type"]
            if kind == "started" and not sent_request:
                sent_request = process.send(dict(request))
            elif kind == "reference":
                name = message["stack"]  # type: ignore[typeddict-item]
                try:
                    referenced = referenced_stack(program, name)
                    if referenced in (*chain, stack):
                        raise ProgramError(f"stack reference cycle: {' -> '.join([*chain, stack, referenced])}")
                    program.stack_file(referenced)
                except ProgramError as exc:
                    process.kill()
                    raise RenderError(f"{where}: StackReference {name!r}: {exc}", process.output()) from None
                try:
                    outputs = self._render(program, referenced, (*chain, stack), deadline, limits).outputs
                except RenderError:
                    process.kill()
                    raise  # it names the stack it happened in
                except ProgramError as exc:
                    process.kill()
                    raise RenderError(f"{where}: StackReference {name!r}: {exc}", process.output()) from None
                references.append(referenced)
                process.send({"type": "outputs", "outputs": outputs})
            elif kind == "result":
                result = message  # type: ignore[assignment]
            elif kind == "failure":
                failure = message["message"]  # type: ignore[typeddict-item]
            elif kind == "exit":
                exit_ = message  # type: ignore[assignment]
        output = process.output()
        if failure is not None:
            raise RenderError(f"{where}: {failure}", output)
        if result is None:
            raise RenderError(_ending(program, stack, limits, exit_), output)
        if self._server is not None:
            self._server.warm(result["sdk_modules"])
        resources = cast(list[dict[str, Any]], result["resources"])
        return Rendering(program, stack, resources, result["outputs"], sorted(set(references)),
                         output=output, max_rss_kib=exit_["max_rss_kib"] if exit_ else 0)


_shared: Renderer | None = None


def shared_renderer() -> Renderer:
    """The renderer `render` uses: one fork server per lz process, closed when the process ends."""
    global _shared
    if _shared is None:
        _shared = Renderer()
        atexit.register(_shared.close)
    return _shared


def render(program: Program, stack: str, *, limits: Limits | None = None) -> Rendering:
    """Render `stack` of `program`; stacks it references are rendered first and answer its
    `StackReference`s with their real outputs."""
    return shared_renderer().render(program, stack, limits)
