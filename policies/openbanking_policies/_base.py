"""Shared building blocks for the open-banking policy rules.

Every rule module builds its policies with :func:`resource_policy` or :func:`stack_policy`, so each
policy carries the same metadata (severity, frameworks, remediation, resource types, whether a
non-production stack may lower it to advisory). The metadata lives in :data:`METADATA`, keyed by
policy name, because `pulumi_policy.Policy` holds only one framework and no resource types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

DOCS_URL = "https://github.com/example-bank/open-banking-landing-zone/blob/main/docs/policies.md"


@dataclass(frozen=True)
class Framework:
    """One framework reference of a policy, e.g. ``Framework("FSBP", "S3.8")``."""

    name: str
    reference: str

    def __str__(self) -> str:
        return f"{self.name} {self.reference}"


@dataclass(frozen=True)
class PolicyMetadata:
    """What `lz policies`, the docs table and the enforcement config need to know of a policy."""

    name: str
    description: str
    severity: Severity
    frameworks: tuple[Framework, ...]
    resource_types: tuple[str, ...]
    remediation: str
    kind: str  # "resource" or "stack"
    nonprod_may_downgrade: bool


METADATA: dict[str, PolicyMetadata] = {}

ResourceCheck = Callable[[ResourceValidationArgs, ReportViolation], None]
StackCheck = Callable[[StackValidationArgs, ReportViolation], None]


def _frameworks(refs: Iterable[tuple[str, str]]) -> tuple[Framework, ...]:
    out = tuple(Framework(n, r) for n, r in refs)
    if not out:
        raise ValueError("a policy needs at least one framework reference")
    return out


def _register(meta: PolicyMetadata) -> None:
    if meta.name in METADATA:
        raise ValueError(f"policy {meta.name!r} is defined twice")
    METADATA[meta.name] = meta


def resource_policy(
    *,
    name: str,
    description: str,
    severity: Severity,
    frameworks: Sequence[tuple[str, str]],
    resource_types: Sequence[str],
    remediation: str,
    check: ResourceCheck,
    nonprod_may_downgrade: bool = True,
) -> ResourceValidationPolicy:
    """A resource policy that only runs `check` on the listed resource types.

    Python CrossGuard has no ``validate_resource_of_type``; the filter lives here so no rule forgets it.
    """
    types = frozenset(resource_types)
    fws = _frameworks(frameworks)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type in types:
            check(args, report)

    _register(PolicyMetadata(name, description, severity, fws, tuple(resource_types), remediation,
                             "resource", nonprod_may_downgrade))
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=severity,
        framework=PolicyComplianceFramework(name=fws[0].name, reference=fws[0].reference),
        remediation_steps=remediation,
        url=f"{DOCS_URL}#{name}",
        tags=[str(f) for f in fws],
    )


def stack_policy(
    *,
    name: str,
    description: str,
    severity: Severity,
    frameworks: Sequence[tuple[str, str]],
    resource_types: Sequence[str],
    remediation: str,
    check: StackCheck,
    nonprod_may_downgrade: bool = True,
) -> StackValidationPolicy:
    """A stack policy: `check` sees every resource of the stack (props are outputs)."""
    fws = _frameworks(frameworks)
    _register(PolicyMetadata(name, description, severity, fws, tuple(resource_types), remediation,
                             "stack", nonprod_may_downgrade))
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=check,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=severity,
        framework=PolicyComplianceFramework(name=fws[0].name, reference=fws[0].reference),
        remediation_steps=remediation,
        url=f"{DOCS_URL}#{name}",
        tags=[str(f) for f in fws],
    )


# ---------------------------------------------------------------------------------------------
# Reading props safely. Props are wrapped in pulumi_policy's unknown_checking_proxy: reading a value
# unknown during a first preview raises UnknownValueError, and so do `in`, `.get()` and `.keys()`.
# `key in list(props)` does not, which is how "is it set at all" is asked.
# ---------------------------------------------------------------------------------------------

_MISSING = object()


def has(props: Mapping[str, Any], key: str) -> bool:
    """True when `key` is present (even if its value is still unknown)."""
    return key in list(props)


def value(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path` inside nested props, `default` when absent.

    Raises UnknownValueError when a value on the path is unknown (the engine then reports the policy as
    not runnable during preview, never as a violation).
    """
    current = props
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, Sequence) or isinstance(current, str) or step >= len(current):
                return default
            current = current[step]
        else:
            if not isinstance(current, Mapping) or step not in list(current):
                return default
            current = current[step]
        if current is None:
            return default
    return current


def known(props: Any, *path: str | int, default: Any = None) -> Any:
    """Like :func:`value` but returns `default` instead of raising when the value is unknown."""
    try:
        return value(props, *path, default=default)
    except UnknownValueError:
        return default


def first(items: Any) -> Any:
    """The first element of a list-or-object property (the SDK flattens max-1 blocks either way)."""
    if isinstance(items, Sequence) and not isinstance(items, str):
        return items[0] if len(items) else None
    return items


def as_list(items: Any) -> list[Any]:
    if items is None:
        return []
    if isinstance(items, Sequence) and not isinstance(items, str):
        return list(items)
    return [items]


def is_true(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.lower() == "true")
