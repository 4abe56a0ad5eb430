"""Linking resources in stack policies.

Props of a PolicyResource are OUTPUTS. Resources are linked by id/ARN/name values, never by dependencies
(offline, under mocks, there are none). A value unknown at preview never decides a link either way.
"""

from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import PolicyResource

from ._props import get, is_unknown


def of_type(resources: Iterable[PolicyResource], *types: str) -> list[PolicyResource]:
    wanted = set(types)
    return [r for r in resources if r.resource_type in wanted]


def link_values(r: PolicyResource, *keys: str) -> set[str] | None:
    """The known string values of `keys` on r (None if any of them is unknown)."""
    found: set[str] = set()
    for k in keys:
        v = get(r.props, k)
        if is_unknown(v):
            return None
        if isinstance(v, str) and v:
            found.add(v)
    return found


def ids(r: PolicyResource, *keys: str) -> set[str] | None:
    """The known values of `keys` on r plus the last path segment of its ARN (the id AWS derives from it, e.g.
    `vpc-0abc` or `vpce-svc-0abc`); None when one of them is unknown at preview."""
    found = link_values(r, *keys)
    if found is None:
        return None
    arn = get(r.props, "arn")
    if isinstance(arn, str) and "/" in arn:
        found.add(arn.rsplit("/", 1)[-1])
    return found


def linked(candidates: Iterable[PolicyResource], key: str, targets: set[str]) -> list[PolicyResource] | None:
    """The candidates whose `key` is one of `targets`; None when some candidate's `key` is unknown (it could
    still be a link once known)."""
    found: list[PolicyResource] = []
    for c in candidates:
        v = get(c.props, key)
        if is_unknown(v):
            return None
        if isinstance(v, str) and v in targets:
            found.append(c)
    return found


def provider_urn(r: PolicyResource) -> str | None:
    prov = r.provider
    return getattr(prov, "urn", None) if prov is not None else None


def short(r: PolicyResource) -> str:
    """How a stack-policy message names a resource: its type's last segment and its logical name."""
    return f"{r.resource_type.rsplit(':', 1)[-1]} {r.name!r}"


def unqualified(function_ref: str) -> str:
    """A Lambda function name or ARN without its version or alias qualifier (`arn:...:function:f:live` -> `...:f`)."""
    if function_ref.startswith("arn:") and function_ref.count(":") >= 7:
        return function_ref.rsplit(":", 1)[0]
    return function_ref
