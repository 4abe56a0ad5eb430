"""The record of one render, kept inside the render process as the mock engine serves the program.

`RecordingMonitor` is the mock engine: for each registration it remembers the request (the options
`Mocks.new_resource` is not told) and enforces what the real engine enforces at that point: one
resource per URN, and no default provider for a package the stack's config disables. `Recorder`
turns each registration into a `ResourceRecord` and answers the mocks' questions about providers.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import MockResourceArgs

from .mocks import DEFAULT_ACCOUNT_ID, Placement
from .pulumi_internals import MockMonitor, RequestFacts, no_options, request_facts
from .record import ResourceRecord

#: The provider default tag that names the account role a provider deploys into.
ACCOUNT_ROLE_TAG = "AccountRole"

_current = threading.local()


class DefaultProviderDisabled(Exception):
    """A resource or data source needs a default provider the stack's config disables."""


class RecordingMonitor(MockMonitor):
    """The mock engine, remembering the request being served so the record can keep its options."""

    def __init__(self, mocks: pulumi.runtime.Mocks, recorder: Recorder) -> None:
        super().__init__(mocks)
        self.recorder = recorder

    @staticmethod
    def _serve(request: Any, read: bool, handle: Callable[[Any], Any]) -> Any:
        """Handle a request with its facts at hand for `Recorder.record` (the mocks run on this thread)."""
        _current.facts = request_facts(request)
        _current.read = read
        try:
            return handle(request)
        finally:
            _current.facts = None

    def RegisterResource(self, request):
        return self._serve(request, False, super().RegisterResource)

    def ReadResource(self, request):
        return self._serve(request, True, super().ReadResource)

    def Invoke(self, request):
        self.recorder.check_invoke(str(request.tok), str(request.provider or ""))
        return super().Invoke(request)


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


def _provider_urn(ref: str | None) -> str | None:
    return ref.rsplit("::", 1)[0] if ref else None


def _package(type_token: str) -> str:
    return type_token.split(":", 1)[0]


@dataclass
class Recorder:
    """Keeps the record of one render and answers the mocks' questions about providers."""

    stack: str
    project: str
    program_directory: Path
    default_region: str
    #: Packages whose default provider the stack's config disables ("*": all of them).
    disabled_default_providers: frozenset[str]
    #: Answers a `StackReference`: the referenced stack's outputs (lz renders that stack first).
    read_stack: Callable[[str], dict[str, Any]]
    monitor: MockMonitor | None = None
    resources: list[ResourceRecord] = field(default_factory=list)
    providers: dict[str, tuple[Placement, dict[str, str]]] = field(default_factory=dict)
    #: What the engine would refuse (each a line of the error); the render fails if any.
    problems: list[str] = field(default_factory=list)
    _sources: dict[str, tuple[str, int] | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

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
        facts: RequestFacts | None = getattr(_current, "facts", None)
        assert self.monitor is not None
        return self.monitor.make_urn(facts.parent if facts else "", args.typ, args.name)

    def stack_outputs(self, stack: str) -> dict[str, Any]:
        return self.read_stack(stack)

    # -- what the engine refuses -----------------------------------------------------------------
    def default_provider_disabled(self, package: str) -> bool:
        return package != "pulumi" and bool({"*", package} & self.disabled_default_providers)

    def check_invoke(self, token: str, provider: str) -> None:
        if not provider and self.default_provider_disabled(_package(token)):
            problem = (f"data source {token}: called without an explicit provider, and "
                       f"pulumi:disable-default-providers disables the default {_package(token)!r} provider")
            with self._lock:
                self.problems.append(problem)
            raise DefaultProviderDisabled(problem)

    def _where(self, source: tuple[str, int] | None) -> str:
        if source is None:
            return "a place the SDK did not report"
        path = Path(source[0])
        with contextlib.suppress(ValueError):
            path = path.relative_to(self.program_directory)
        return f"{path}:{source[1]}"

    # -- the record ------------------------------------------------------------------------------
    def record(self, args: MockResourceArgs, id_: str, state: dict[str, Any]) -> None:
        facts: RequestFacts | None = getattr(_current, "facts", None)
        read = bool(getattr(_current, "read", False))
        urn = self.urn_of(args)
        provider_urn = _provider_urn(args.provider)
        is_provider = args.typ.startswith("pulumi:providers:")
        if is_provider:
            self._learn_provider(urn, args.name, args.inputs)
        custom = bool(args.custom) or read  # a read (`Resource.get`, `StackReference`) is always custom
        placement = (self.placement_of(args.provider)
                     if provider_urn or (custom and not args.typ.startswith("pulumi:")) else None)
        if is_provider:
            placement = self.providers[urn][0]
        if facts is not None and not custom and not args.typ.startswith("pulumi:") and facts.component_provider:
            placement = self.placement_of(facts.component_provider)
        entry: ResourceRecord = {
            "urn": urn,
            "type": args.typ,
            "name": args.name,
            "parent": (facts.parent or None) if facts is not None else None,
            "custom": custom,
            "provider": provider_urn,
            "account": placement.role if placement else None,
            "account_id": placement.account_id if placement else None,
            "region": placement.region if placement else None,
            "id": id_,
            "inputs": _jsonable(args.inputs),
            "outputs": _jsonable(state),
            "options": facts.options if facts is not None else no_options(),
        }
        source = facts.source if facts is not None else None
        with self._lock:
            if urn in self._sources:
                # in source order: the SDK registers concurrently, so arrival order varies from run to run
                first, second = sorted((self._sources[urn], source), key=lambda s: (s is None, s or ("", 0)))
                self.problems.append(
                    f"duplicate URN {urn}: two resources of type {args.typ} named {args.name!r} under one parent, "
                    f"created at {self._where(first)} and at {self._where(second)}")
            else:
                self._sources[urn] = source
            if (custom and not provider_urn and not args.typ.startswith("pulumi:")
                    and self.default_provider_disabled(_package(args.typ))):
                self.problems.append(
                    f"{urn}: has no explicit provider, and pulumi:disable-default-providers disables the default "
                    f"{_package(args.typ)!r} provider (created at {self._where(source)})")
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
