"""Shared building blocks for the open-banking policy rules.

Every rule module builds its policies with :func:`resource_policy` or :func:`stack_policy`, so each
policy carries the same metadata (severity, frameworks, remediation, resource types, whether a
non-production stack may lower it to advisory). The metadata lives in :data:`METADATA`, keyed by
policy name, because `pulumi_policy.Policy` holds only one framework and no resource types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict, Unpack

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


class PolicySpec(TypedDict):
    """What every policy declares, besides its check (the keyword arguments of the two factories)."""

    name: str
    description: str
    severity: Severity
    frameworks: Sequence[tuple[str, str]]
    resource_types: Sequence[str]
    remediation: str
    nonprod_may_downgrade: NotRequired[bool]  # default True


def _common(kind: str, spec: PolicySpec) -> dict[str, Any]:
    """Register the policy's metadata; return the constructor arguments resource and stack policies share."""
    name = spec["name"]
    fws = _frameworks(spec["frameworks"])
    _register(PolicyMetadata(name, spec["description"], spec["severity"], fws, tuple(spec["resource_types"]),
                             spec["remediation"], kind, spec.get("nonprod_may_downgrade", True)))
    return {
        "name": name,
        "description": spec["description"],
        "enforcement_level": EnforcementLevel.MANDATORY,
        "severity": spec["severity"],
        "framework": PolicyComplianceFramework(name=fws[0].name, reference=fws[0].reference),
        "remediation_steps": spec["remediation"],
        "url": f"{DOCS_URL}#{name}",
        "tags": [str(f) for f in fws],
    }


def resource_policy(*, check: ResourceCheck, **spec: Unpack[PolicySpec]) -> ResourceValidationPolicy:
    """A resource policy that only runs `check` on the listed resource types.

    Python CrossGuard has no ``validate_resource_of_type``; the filter lives here so no rule forgets it.
    """
    types = frozenset(spec["resource_types"])

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type in types:
            check(args, report)

    return ResourceValidationPolicy(validate=validate, **_common("resource", spec))


def stack_policy(*, check: StackCheck, **spec: Unpack[PolicySpec]) -> StackValidationPolicy:
    """A stack policy: `check` sees every resource of the stack (props are outputs)."""
    return StackValidationPolicy(validate=check, **_common("stack", spec))
