"""Run one policy object directly, the way the engine would, and collect its messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], False, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def urn_of(resource_type: str, name: str) -> str:
    return f"urn:pulumi:test::lz::{resource_type}::{name}"


def run_resource_policy(
    policy: ResourceValidationPolicy,
    resource_type: str,
    props: Mapping[str, Any],
    *,
    name: str = "subject",
    protect: bool = False,
    config: Mapping[str, Any] | None = None,
    stack_tags: Mapping[str, str] | None = None,
) -> list[str]:
    """The violation messages `policy` reports for one resource (empty list: it passes)."""
    messages: list[str] = []
    args = ResourceValidationArgs(
        resource_type, unknown_checking_proxy(dict(props)), urn_of(resource_type, name), name,
        options(protect), None, dict(config or {}), dict(stack_tags or {}),
    )
    assert policy.validate is not None
    validators = policy.validate if isinstance(policy.validate, list) else [policy.validate]
    for validate in validators:
        validate(args, lambda msg, urn=None: messages.append(msg))
    return messages


def policy_resource(
    resource_type: str, props: Mapping[str, Any], *, name: str = "subject", protect: bool = False,
    provider_urn: str | None = "urn:pulumi:test::lz::pulumi:providers:aws::network",
) -> PolicyResource:
    """A stack-policy view of one resource (props are its outputs)."""
    from pulumi_policy import PolicyProviderResource

    provider = (
        PolicyProviderResource("pulumi:providers:aws", {}, provider_urn, provider_urn.split("::")[-1])
        if provider_urn else None
    )
    return PolicyResource(resource_type, unknown_checking_proxy(dict(props)), urn_of(resource_type, name),
                          name, options(protect), provider, None, [], {})


def run_stack_policy(
    policy: StackValidationPolicy,
    resources: Sequence[PolicyResource],
    *,
    config: Mapping[str, Any] | None = None,
    stack_tags: Mapping[str, str] | None = None,
) -> list[tuple[str, str | None]]:
    """(message, urn) pairs `policy` reports for a stack made of `resources`."""
    found: list[tuple[str, str | None]] = []
    args = StackValidationArgs(list(resources), dict(config or {}), dict(stack_tags or {}))
    assert policy.validate is not None
    validators = policy.validate if isinstance(policy.validate, list) else [policy.validate]
    for validate in validators:
        validate(args, lambda msg, urn=None: found.append((msg, urn)))
    return found
