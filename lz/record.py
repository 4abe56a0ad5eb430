"""The preview record: the one definition of what `lz preview --json` writes.

The render process fills `ResourceRecord`s, lz checks what it receives against these types before it
trusts it, the policy gate and the report read them, and `docs/preview-record.md` documents every key
(tests/test_record_schema.py checks the page against the definitions below). A new key is added here
first, then to the page.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, with_config

# pydantic checks these types at lz's boundary; on Python 3.11 it needs typing_extensions' TypedDict
from typing_extensions import TypedDict

#: A record with a key its type does not define is refused, not passed on.
_EXACT = ConfigDict(extra="forbid")


@with_config(_EXACT)
class ResourceOptionsRecord(TypedDict):
    """The resource options the program gave the engine."""

    protect: bool
    retainOnDelete: bool
    ignoreChanges: list[str]
    deleteBeforeReplace: bool
    additionalSecretOutputs: list[str]
    aliases: list[str]
    dependsOn: list[str]
    replaceOnChanges: list[str]


@with_config(_EXACT)
class ResourceRecord(TypedDict):
    """One registered resource (components, providers and stack references included)."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None
    account: str | None
    account_id: str | None
    region: str | None
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    options: ResourceOptionsRecord


@with_config(_EXACT)
class ViolationRecord(TypedDict):
    """One policy violation, as the pack reported it."""

    policy: str
    severity: str
    level: str
    urn: str
    name: str
    type: str
    account: str | None
    message: str
    remediation: str


@with_config(_EXACT)
class ReachabilityCellRecord(TypedDict):
    """From one Transit Gateway segment to another."""

    reaches: bool
    path: str
    coverage: str
    returns: bool


@with_config(_EXACT)
class ReachabilityRecord(TypedDict):
    """The segment matrix of the stack's Transit Gateway (empty without one)."""

    segments: list[str]
    matrix: dict[str, dict[str, ReachabilityCellRecord]]


@with_config(_EXACT)
class PreviewRecord(TypedDict):
    """The whole file `lz preview --json` writes."""

    stack: str
    project: str
    resources: list[ResourceRecord]
    outputs: dict[str, Any]
    violations: list[ViolationRecord]
    reachability: ReachabilityRecord

