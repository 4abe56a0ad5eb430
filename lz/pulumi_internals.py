"""Every place where lz relies on the Pulumi Python SDK beyond its public API, in one module.

The render process runs a program the way the SDK's own language host and Automation API server do
(`set_mocks`, `set_all_config`, `run_in_stack` on a fresh event loop). Four things an offline preview
needs are not public, and this module is the only one that touches them:

- the mock engine (`pulumi.runtime.mocks.MockMonitor`) is subclassed to see each registration request;
- the fields of those requests (the engine protocol's `RegisterResourceRequest`) give the options the
  record keeps (protect, aliases, ...) and where the program created the resource;
- `set_mocks` installs a root stack of its own; lz removes it so `run_in_stack` creates the stack the
  way `pulumi preview` does (which is what makes `pulumi.run` work);
- the SDK captures a full Python stack trace on every registration (`_get_stack_trace`); the mock
  engine needs only where the program made the resource, so lz captures that and nothing else.

Each symbol has a test in tests/test_pulumi_internals.py, run against the pinned SDK. `check_version`
refuses an SDK outside the range those tests ran on: a bump of `pulumi` in requirements.txt fails the
test suite until the range is widened here, after the tests pass on the new version.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pulumi.runtime import mocks as _mocks
from pulumi.runtime import resource as _resource
from pulumi.runtime import settings as _settings
from pulumi.runtime.proto import source_pb2

from .record import ResourceOptionsRecord

#: The SDK versions the tests of this module ran on: lowest included, highest excluded.
SUPPORTED_PULUMI = ((3, 272, 0), (3, 273, 0))

#: The mock engine lz subclasses (`RegisterResource`, `ReadResource`, `Invoke` see the raw requests).
MockMonitor = _mocks.MockMonitor


class UnsupportedSdk(Exception):
    """The installed Pulumi SDK is outside the range this module was verified on."""


def _parse(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
        if digits != piece:
            break
    return tuple(parts)


def supported_range() -> str:
    low, high = (".".join(map(str, v)) for v in SUPPORTED_PULUMI)
    return f">={low},<{high}"


def check_version(installed: str | None = None) -> None:
    """Raise `UnsupportedSdk` unless the installed `pulumi` is in `SUPPORTED_PULUMI`."""
    found = installed or version("pulumi")
    low, high = SUPPORTED_PULUMI
    if not low <= _parse(found) < high:
        raise UnsupportedSdk(f"pulumi {found} is installed; lz's offline renderer is verified on pulumi "
                             f"{supported_range()} (lz/pulumi_internals.py)")


def detach_root_stack() -> None:
    """Forget the root stack `set_mocks` created, so that `run_in_stack` creates the program's own."""
    _settings.set_root_resource(None)  # type: ignore[arg-type]  # the SDK's own reset value


# -- what a registration request says ------------------------------------------------------------

@dataclass(frozen=True)
class RequestFacts:
    """What lz keeps of one request to the mock engine (a register or a read)."""

    parent: str
    options: ResourceOptionsRecord
    #: The package (e.g. "aws") of the component's provider for its children, if it was given one.
    component_provider: str | None
    #: (file, line) of the program code that created the resource, when the SDK could tell.
    source: tuple[str, int] | None


def request_facts(request: Any) -> RequestFacts:
    """Read a `RegisterResourceRequest` or `ReadResourceRequest` (fields a read lacks count as unset)."""
    # The URNs the program gave as aliases, and its alias specs that move a resource from another parent
    # (`Alias(parent=...)`, written `parent=<urn>`). Specs that change only the type are left out: the provider
    # SDKs add such aliases of their own to many resources (e.g. every S3 Bucket), which would bury the program's.
    aliases = [str(a) for a in getattr(request, "aliasURNs", ())]
    for alias in getattr(request, "aliases", ()):
        spec = getattr(alias, "spec", None)
        if spec is not None and (spec.parentUrn or spec.noParent):
            aliases.append(f"parent={spec.parentUrn}" if spec.parentUrn else "parent=<none>")
    options: ResourceOptionsRecord = {
        "protect": bool(getattr(request, "protect", False)),
        "retainOnDelete": bool(getattr(request, "retainOnDelete", False)),
        "ignoreChanges": list(getattr(request, "ignoreChanges", ())),
        "deleteBeforeReplace": bool(getattr(request, "deleteBeforeReplace", False)),
        "additionalSecretOutputs": list(getattr(request, "additionalSecretOutputs", ())),
        "aliases": aliases,
        "dependsOn": sorted(getattr(request, "dependencies", ())),  # the SDK sends a set's order
        "replaceOnChanges": list(getattr(request, "replaceOnChanges", ())),
    }
    providers: Mapping[str, str] = getattr(request, "providers", None) or {}
    source = None
    position = getattr(request, "sourcePosition", None)
    if position is not None and position.uri:
        source = (_path_of_uri(position.uri), int(position.line))
    return RequestFacts(str(request.parent or ""), options, providers.get("aws"), source)


def no_options() -> ResourceOptionsRecord:
    """The options of a resource registered with none."""
    return {"protect": False, "retainOnDelete": False, "ignoreChanges": [], "deleteBeforeReplace": False,
            "additionalSecretOutputs": [], "aliases": [], "dependsOn": [], "replaceOnChanges": []}


def _path_of_uri(uri: str) -> str:
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(uri).path)


# -- where the program created a resource ---------------------------------------------------------

@lru_cache(maxsize=4096)
def _uri(filename: str) -> str | None:
    try:
        return Path(filename).as_uri()
    except ValueError:  # a relative path or "<string>": the SDK gives no position either
        return None


def _source_position_only() -> source_pb2.StackTrace:
    """The SDK's `_get_stack_trace`, keeping only the frame the engine reads (the program's call).

    The SDK walks out to the third `__init__` (Resource, Custom/ComponentResource, the concrete
    resource class) and returns every frame beyond it, the program's first; the mock engine reads only
    that first frame (`sourcePosition`). Formatting the whole stack on each registration was an eighth
    of a render."""
    frame = sys._getframe(1)
    inits = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            inits += 1
            if inits == 3:
                break
        frame = frame.f_back
    caller = frame.f_back if frame is not None else None
    if caller is None:
        return source_pb2.StackTrace()
    uri = _uri(caller.f_code.co_filename)
    position = source_pb2.SourcePosition(uri=uri, line=caller.f_lineno) if uri else None
    return source_pb2.StackTrace(frames=[source_pb2.StackFrame(pc=position)])


def capture_source_positions_only() -> None:
    """Install `_source_position_only` in place of the SDK's full stack capture (render process only)."""
    _resource._get_stack_trace = _source_position_only  # type: ignore[attr-defined]


#: The SDK's own capture, kept for the test that compares the two.
SDK_STACK_TRACE = _resource._get_stack_trace  # type: ignore[attr-defined]


# -- the program's exports ------------------------------------------------------------------------

def stack_exports(root: Any) -> dict[str, Any]:
    """The values `pulumi.export` recorded on the root stack resource (`Stack.outputs`)."""
    outputs = getattr(root, "outputs", None)
    return dict(outputs) if isinstance(outputs, Mapping) else {}
