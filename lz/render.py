"""Run a Pulumi Python program in-process under realistic mocks and record every resource.

This is what `pulumi preview` would register, seen without the Pulumi CLI or AWS credentials: the
program's own code runs with its stack's own config; only the engine and the provider are mocked.
"""

from __future__ import annotations

import asyncio
import gc
import json
import runpy
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from .mocks import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, MockError, Placement, RealisticMocks
from .project import Program, ProgramError, StackConfig

#: A program may reference at most this many other stacks (each is rendered first).
MAX_REFERENCES = 8
ACCOUNT_ROLE_TAG = "AccountRole"

_current = threading.local()


class RecordingMonitor(MockMonitor):
    """The mock engine, remembering the request being served so the record can keep its options
    (protect, retainOnDelete, ...) that `Mocks.new_resource` is not told."""

    def RegisterResource(self, request):
        _current.request = request
        try:
            return super().RegisterResource(request)
        finally:
            _current.request = None

    def ReadResource(self, request):
        _current.request = request
        try:
            return super().ReadResource(request)
        finally:
            _current.request = None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, pulumi.asset.FileAsset | pulumi.asset.FileArchive):
        return {"asset": str(value.path)}
    if isinstance(value, pulumi.asset.StringAsset):
        return {"asset": "<text>"}
    if isinstance(value, pulumi.Resource):
        return {"resource": type(value).__name__}
    return str(value)


def _decoded(value: Any) -> Any:
    """Provider inputs arrive JSON-encoded (the SDK serialises nested provider config)."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass
class Recorder:
    """Keeps the record of one render and answers the mocks' questions about providers."""

    monitor: MockMonitor | None
    stack: str
    default_region: str
    disabled_default_providers: set[str]
    references: Mapping[str, dict[str, Any]]
    project: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    providers: dict[str, tuple[Placement, dict[str, str]]] = field(default_factory=dict)
    missing_references: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- the mocks' questions --------------------------------------------------------------------
    def placement_of(self, provider_ref: str | None) -> Placement:
        known = self.providers.get(_provider_urn(provider_ref) or "")
        if known:
            return known[0]
        return Placement("default", DEFAULT_ACCOUNT_ID, self.default_region)

    def default_tags_of(self, provider_ref: str | None) -> Mapping[str, str]:
        known = self.providers.get(_provider_urn(provider_ref) or "")
        return known[1] if known else {}

    def urn_of(self, args: MockResourceArgs) -> str:
        request = getattr(_current, "request", None)
        parent = getattr(request, "parent", "") if request is not None else ""
        assert self.monitor is not None
        return self.monitor.make_urn(parent, args.typ, args.name)

    def stack_outputs(self, stack: str) -> dict[str, Any]:
        parts = stack.split("/")
        if len(parts) == 3 and parts[1] != self.project:
            self.problems.append(f"StackReference {stack!r}: lz resolves references to stacks of project "
                                 f"{self.project!r} only")
            return {}
        name = parts[-1]
        if name not in self.references:
            self.missing_references.append(name)
            return {}
        return self.references[name]

    def record(self, args: MockResourceArgs, id_: str, state: dict[str, Any]) -> None:
        request = getattr(_current, "request", None)
        urn = self.urn_of(args)
        provider_urn = _provider_urn(args.provider)
        if args.typ.startswith("pulumi:providers:"):
            self._learn_provider(urn, args.name, args.inputs)
        placement = self.placement_of(args.provider) if provider_urn or args.custom else None
        if args.typ.startswith("pulumi:providers:"):
            placement = self.providers[urn][0]
        if request is not None and not args.custom and not args.typ.startswith("pulumi:"):
            component_provider = dict(getattr(request, "providers", {}) or {}).get("aws")
            if component_provider:
                placement = self.placement_of(component_provider)
        if (args.custom and not provider_urn and not args.typ.startswith("pulumi:")
                and args.typ.split(":")[0] in self.disabled_default_providers):
            self.problems.append(f"{urn}: has no explicit provider, and Pulumi.yaml disables the default "
                                 f"{args.typ.split(':')[0]!r} provider")
        entry = {
            "urn": urn,
            "type": args.typ,
            "name": args.name,
            "parent": (getattr(request, "parent", "") or None) if request is not None else None,
            "custom": bool(args.custom) or args.typ == "pulumi:pulumi:StackReference",
            "provider": provider_urn,
            "account": placement.role if placement else None,
            "account_id": placement.account_id if placement else None,
            "region": placement.region if placement else None,
            "id": id_,
            "inputs": _jsonable(args.inputs),
            "outputs": _jsonable(state),
            "options": _options(request),
        }
        with self.lock:
            self.resources.append(entry)

    def _learn_provider(self, urn: str, name: str, inputs: Mapping[str, Any]) -> None:
        allowed = _decoded(inputs.get("allowedAccountIds")) or []
        roles = _decoded(inputs.get("assumeRoles")) or []
        account = allowed[0] if allowed else None
        if account is None and roles and isinstance(roles[0], Mapping):
            arn = str(roles[0].get("roleArn", ""))
            account = arn.split(":")[4] if arn.count(":") >= 5 else None
        tags = (_decoded(inputs.get("defaultTags")) or {}).get("tags") or {}
        role = tags.get(ACCOUNT_ROLE_TAG) or name
        placement = Placement(role, str(account or DEFAULT_ACCOUNT_ID), str(inputs.get("region") or self.default_region))
        self.providers[urn] = (placement, {str(k): str(v) for k, v in tags.items()})


def _provider_urn(ref: str | None) -> str | None:
    return ref.rsplit("::", 1)[0] if ref else None


def _options(request: Any) -> dict[str, Any]:
    if request is None:
        return {"protect": False, "retainOnDelete": False, "ignoreChanges": [], "deleteBeforeReplace": False,
                "additionalSecretOutputs": [], "aliases": [], "dependsOn": [], "read": True}
    return {
        "protect": bool(getattr(request, "protect", False)),
        "retainOnDelete": bool(getattr(request, "retainOnDelete", False)),
        "ignoreChanges": list(getattr(request, "ignoreChanges", []) or []),
        "deleteBeforeReplace": bool(getattr(request, "deleteBeforeReplace", False)),
        "additionalSecretOutputs": list(getattr(request, "additionalSecretOutputs", []) or []),
        "aliases": [str(a) for a in getattr(request, "aliasURNs", []) or []],
        "dependsOn": list(getattr(request, "dependencies", []) or []),
        "replaceOnChanges": list(getattr(request, "replaceOnChanges", []) or []),
    }


@dataclass
class Rendering:
    """What one stack would register, and what it exports."""

    program: Program
    stack: str
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]
    references: list[str]
    violations: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "project": self.program.name, "resources": self.resources,
                "outputs": self.outputs, "violations": self.violations}

    def by_account(self) -> dict[str, list[dict[str, Any]]]:
        accounts: dict[str, list[dict[str, Any]]] = {}
        for r in self.resources:
            if r["custom"] and not r["type"].startswith("pulumi:"):
                accounts.setdefault(f"{r['account']} ({r['account_id']})", []).append(r)
        return accounts


def _shadowed_modules(program: Program) -> dict[str, Any]:
    """Modules already imported under a name the program provides itself (say, another checkout's
    `components`): the program must import its own, so these step aside for the render."""
    root = program.directory
    own_names = {p.stem for p in root.glob("*.py")} | {p.parent.name for p in root.glob("*/__init__.py")}
    shadowed = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if name.split(".")[0] in own_names and not file.startswith(str(root) + "/"):
            shadowed[name] = module
    return shadowed


@contextmanager
def _program_on_path(program: Program) -> Iterator[None]:
    """Import the program's own modules fresh, and forget them afterwards, so two programs with the
    same package names (say, `components`) never see each other's code."""
    shadowed = _shadowed_modules(program)
    for name in shadowed:
        del sys.modules[name]
    before = set(sys.modules)
    sys.path.insert(0, str(program.directory))
    try:
        yield
    finally:
        sys.path.remove(str(program.directory))
        root = str(program.directory) + "/"
        for name in set(sys.modules) - before:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if module_file.startswith(root) and "site-packages" not in module_file:
                del sys.modules[name]
        sys.modules.update(shadowed)


def _where(exc: BaseException, program: Program) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(str(program.directory)) and "site-packages" not in f.filename]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (at {Path(frame.filename).relative_to(program.directory)}:{frame.lineno})"


def _run(program: Program, stack: str, config: StackConfig, recorder: Recorder) -> dict[str, Any]:
    """One run of the program's `__main__` under fresh mocks (the caller puts the program on the path)."""
    mocks = RealisticMocks(recorder)
    monitor = RecordingMonitor(mocks)
    recorder.monitor = monitor
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=program.name, stack=stack, preview=False, monitor=monitor,
                             organization="organization")
    pulumi.runtime.set_all_config(config.values, config.secret_keys)
    ambient: Any = pulumi_settings.SETTINGS  # a failed render must not leak into this one
    with warnings.catch_warnings():
        # the stopped attempt's outputs never ran; dropping them is the point, not a bug to warn about
        warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
        ambient.rpc_manager.clear()
        ambient.outputs.clear()
        _forget_previous_attempt()
    root = pulumi_settings.get_root_resource()
    def main() -> None:
        runpy.run_path(str(program.main), run_name="__main__")

    try:
        _sync_await(run_pulumi_func(main))
        outputs = getattr(root, "outputs", {}) or {}
        resolved = _sync_await(pulumi.Output.from_input(outputs).future())
    finally:
        _cancel_leftovers()
    return _jsonable(resolved or {})


def _forget_previous_attempt() -> None:
    """Collect what the previous run left behind, quietly. A run that stopped at a missing stack
    reference leaves outputs that failed on the empty reference (their errors were superseded by the
    re-run); collected later, each would print 'Future exception was never retrieved' with a traceback
    into some unrelated command's output."""
    loop = _ensure_event_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, _context: None)
    try:
        gc.collect()
    finally:
        loop.set_exception_handler(previous)


def _cancel_leftovers() -> None:
    """A failed run leaves registrations and applies pending on the event loop; cancel them before the
    next render starts, or they would run against the next render's mocks and modules."""
    loop = _ensure_event_loop()
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def render(program: Program, stack: str) -> Rendering:
    """Render `stack` of `program`; stacks it references are rendered first and answer its
    `StackReference`s with their real outputs. The program's modules are imported once for the whole
    render (references included) and forgotten afterwards."""
    # A workload stack's first pass stops at its StackReference on purpose; the Pulumi outputs it leaves
    # unawaited are dropped by design (some only when the event loop next runs, after this returns) and must
    # not reach the user as warnings. Adding the same filter again replaces it, so this stays one entry.
    warnings.filterwarnings("ignore", message=r"coroutine 'Output\.\w+' was never awaited", category=RuntimeWarning)
    with _program_on_path(program):
        try:
            return _render(program, stack, (), {})
        finally:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
                _forget_previous_attempt()


def _render(program: Program, stack: str, _chain: tuple[str, ...],
            _references: dict[str, dict[str, Any]]) -> Rendering:
    if stack in _chain:
        raise ProgramError(f"stack reference cycle: {' -> '.join([*_chain, stack])}")
    config = program.config(stack)
    references = dict(_references)
    region = config.values.get("aws:region", DEFAULT_REGION)
    for _ in range(MAX_REFERENCES + 1):
        recorder = Recorder(None, stack, region, program.default_providers_disabled(), references,
                            program.name)
        try:
            outputs = _run(program, stack, config, recorder)
            error: BaseException | None = None
        except pulumi.RunError as exc:
            raise ProgramError(f"{program.name}/{stack}: {exc}") from None
        except (MockError, Exception) as exc:
            outputs, error = {}, exc
        if recorder.missing_references:
            for name in dict.fromkeys(recorder.missing_references):
                references[name] = _render(program, name, (*_chain, stack), references).outputs
            continue
        if recorder.problems:
            raise ProgramError("\n".join(dict.fromkeys(recorder.problems)))
        if error is not None:
            raise ProgramError(f"{program.name}/{stack}: program error: {type(error).__name__}: "
                               f"{error}{_where(error, program)}") from None
        return Rendering(program, stack, recorder.resources, outputs, sorted(references))
    raise ProgramError(f"{program.name}/{stack}: more than {MAX_REFERENCES} stack references")
