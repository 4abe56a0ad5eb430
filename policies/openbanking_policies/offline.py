"""Evaluate the pack's policies offline, on the resources `lz` recorded from a program run under mocks.

Each recorded resource is a dict::

    {"urn", "type", "name", "parent": urn | None, "custom": bool, "provider": provider-URN | None,
     "account": role | None, "account_id", "region", "inputs": {...}, "outputs": {...},
     "options": {"protect", "retainOnDelete", "ignoreChanges", "deleteBeforeReplace",
                 "additionalSecretOutputs", "aliases"}}

Resource policies see a resource's inputs (as the engine's `Analyze` does), stack policies see every
custom resource's outputs (as `AnalyzeStack` does). A value unknown at preview makes a policy say
nothing; any other exception inside a policy is reported as a violation of that policy, never raised.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeAlias

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from ._base import METADATA

AnyPolicy: TypeAlias = ResourceValidationPolicy | StackValidationPolicy
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class Violation:
    policy: str
    severity: str  # "critical" | "high" | "medium" | "low"
    level: str  # "mandatory" | "advisory"
    urn: str
    name: str
    type: str
    account: str | None
    message: str
    remediation: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _severity(policy: AnyPolicy) -> str:
    if policy.severity is not None:
        return policy.severity.value
    meta = METADATA.get(policy.name)
    return meta.severity.value if meta else "medium"


def _remediation(policy: AnyPolicy) -> str:
    if policy.remediation_steps:
        return policy.remediation_steps
    meta = METADATA.get(policy.name)
    return meta.remediation if meta else ""


def _default_config(policy: AnyPolicy) -> dict[str, Any]:
    schema = policy.config_schema
    if schema is None:
        return {}
    return {k: v["default"] for k, v in schema.properties.items() if "default" in v}


def _options(rec: Mapping[str, Any]) -> PolicyResourceOptions:
    opts = rec.get("options") or {}
    return PolicyResourceOptions(
        bool(opts.get("protect", False)),
        list(opts.get("ignoreChanges") or []),
        opts.get("deleteBeforeReplace"),
        list(opts.get("aliases") or []),
        PolicyCustomTimeouts(0, 0, 0),
        list(opts.get("additionalSecretOutputs") or []),
        rec.get("parent"),
    )


def _validators(policy: AnyPolicy) -> list[Callable[..., Any]]:
    v = policy.validate
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


def _call(validate: Callable[..., Any], args: Any, report: Callable[..., None]) -> None:
    result = validate(args, report)
    if inspect.iscoroutine(result):
        asyncio.run(result)


def _is_not_applicable(exc: BaseException) -> bool:
    return type(exc).__name__ == "_NotApplicableError"


def _run(policy: AnyPolicy, args: Any, report: Callable[..., None]) -> str | None:
    """Run every validator of `policy`; "policy crashed: ..." when one raised. A value unknown at preview stops
    the policy without a crash: whatever it reported before still stands."""
    try:
        for validate in _validators(policy):
            _call(validate, args, report)
    except UnknownValueError:
        pass
    except Exception as exc:
        if not _is_not_applicable(exc):
            return f"policy crashed: {type(exc).__name__}: {exc}"
    return None


def _provider(by_urn: Mapping[str, Mapping[str, Any]], rec: Mapping[str, Any],
              which: str) -> PolicyProviderResource | None:
    """The resource's provider, its `which` ("inputs" or "outputs") as props; None when unrecorded."""
    prov = by_urn.get(str(rec.get("provider"))) if rec.get("provider") else None
    if prov is None:
        return None
    props = unknown_checking_proxy(dict(prov.get(which) or {}))
    return PolicyProviderResource(str(prov.get("type", "")), props, str(prov.get("urn", "")),
                                  str(prov.get("name", "")))


def _stack_identity(resources: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """(urn, name) of the stack resource, recorded or derived from any URN."""
    for rec in resources:
        if rec.get("type") == STACK_TYPE:
            return str(rec.get("urn", "")), str(rec.get("name", "stack"))
    for rec in resources:
        urn = str(rec.get("urn") or "")
        parts = urn.split("::")
        if urn.startswith("urn:pulumi:") and len(parts) >= 2:
            stack, project = parts[0][len("urn:pulumi:"):], parts[1]
            name = f"{project}-{stack}"
            return f"urn:pulumi:{stack}::{project}::{STACK_TYPE}::{name}", name
    return "", "stack"


def evaluate(
    resources: Iterable[Mapping[str, Any]],
    *,
    stack_tags: Mapping[str, str],
    levels: Mapping[str, EnforcementLevel] | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    policies: Iterable[AnyPolicy] | None = None,
) -> list[Violation]:
    """Every violation the policies report for the recorded `resources`."""
    records = list(resources)
    if policies is None:
        from . import ALL_POLICIES

        policies = ALL_POLICIES
    pols = list(policies)
    by_urn = {str(r.get("urn")): r for r in records if r.get("urn")}
    tags = dict(stack_tags)
    out: list[Violation] = []

    def level_of(policy: AnyPolicy) -> EnforcementLevel:
        if levels is not None and policy.name in levels:
            return levels[policy.name]
        return policy.enforcement_level or EnforcementLevel.MANDATORY

    def config_of(policy: AnyPolicy) -> dict[str, Any]:
        merged = _default_config(policy)
        if config is not None and policy.name in config:
            merged.update({k: v for k, v in config[policy.name].items() if k != "enforcementLevel"})
        return merged

    def violation(policy: AnyPolicy, level: EnforcementLevel, urn: str, message: str,
                  fallback: tuple[str, str, str | None] | None = None) -> Violation:
        rec = by_urn.get(urn)
        if rec is not None:
            name, typ, account = str(rec.get("name", "")), str(rec.get("type", "")), rec.get("account")
        elif fallback is not None:
            name, typ, account = fallback
        else:
            name, typ, account = urn.split("::")[-1] if urn else "", "", None
        return Violation(
            policy=policy.name,
            severity=_severity(policy),
            level="advisory" if level == EnforcementLevel.ADVISORY else "mandatory",
            urn=urn, name=name, type=typ, account=account, message=message,
            remediation=_remediation(policy),
        )

    resource_pols = [(p, level_of(p)) for p in pols if isinstance(p, ResourceValidationPolicy)]
    stack_pols = [(p, level_of(p)) for p in pols if isinstance(p, StackValidationPolicy)]
    resource_pols = [(p, lvl) for p, lvl in resource_pols if lvl != EnforcementLevel.DISABLED]
    stack_pols = [(p, lvl) for p, lvl in stack_pols if lvl != EnforcementLevel.DISABLED]

    customs = [r for r in records if r.get("custom", True)]

    # ---- resource policies: inputs -------------------------------------------------------
    for rec in customs:
        urn, name, typ = str(rec.get("urn", "")), str(rec.get("name", "")), str(rec.get("type", ""))
        provider = _provider(by_urn, rec, "inputs")
        inputs = dict(rec.get("inputs") or {})
        for policy, level in resource_pols:
            args = ResourceValidationArgs(typ, unknown_checking_proxy(inputs), urn, name, _options(rec),
                                          provider, config_of(policy), tags)
            found: list[Violation] = []

            def report(message: str, report_urn: str | None = None, *, _p: AnyPolicy = policy,
                       _l: EnforcementLevel = level, _u: str = urn, _f: list[Violation] = found) -> None:
                _f.append(violation(_p, _l, report_urn or _u, message))

            crash = _run(policy, args, report)
            if crash is not None:
                found.append(violation(policy, level, urn, crash))
            out.extend(found)

    # ---- stack policies: outputs ----------------------------------------------------------
    if stack_pols:
        stack_urn, stack_name = _stack_identity(records)
        views: dict[str, PolicyResource] = {}
        for rec in customs:
            provider = _provider(by_urn, rec, "outputs")
            views[str(rec.get("urn", ""))] = PolicyResource(
                str(rec.get("type", "")), unknown_checking_proxy(dict(rec.get("outputs") or {})),
                str(rec.get("urn", "")), str(rec.get("name", "")), _options(rec), provider, None, [], {})
        for rec in customs:
            parent = rec.get("parent")
            if parent and str(parent) in views:
                views[str(rec.get("urn", ""))].parent = views[str(parent)]
        stack_fallback: tuple[str, str, str | None] = (stack_name, STACK_TYPE, None)
        for policy, level in stack_pols:
            args = StackValidationArgs(list(views.values()), config_of(policy), tags)
            found = []

            def report_stack(message: str, report_urn: str | None = None, *, _p: AnyPolicy = policy,
                             _l: EnforcementLevel = level, _f: list[Violation] = found) -> None:
                _f.append(violation(_p, _l, report_urn or stack_urn, message, stack_fallback))

            crash = _run(policy, args, report_stack)
            if crash is not None:
                found.append(violation(policy, level, stack_urn, crash, stack_fallback))
            out.extend(found)

    return out


__all__ = ["Violation", "evaluate"]
