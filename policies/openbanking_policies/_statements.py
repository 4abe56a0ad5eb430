"""Reading the statements of IAM policy documents: what they allow, to whom, and under which condition.

Identity policies, role trust policies and resource policies (bucket, queue, topic, key, secret, repository,
event bus) share one JSON grammar, so the rules that judge them share these readers. Keys are matched
case-insensitively (IAM accepts `"effect"` as well as `"Effect"`); every reader takes a plain statement dict
as :func:`._props.statements` returns it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import PolicyProviderResource

from ._props import ci_get, get, items, parse_json, plain

#: Condition keys that narrow a grant to the organization, an account, a principal or a calling resource.
SCOPING_CONDITION_KEYS = frozenset(k.lower() for k in (
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceAccount", "aws:SourceArn", "aws:SourceOwner",
    "aws:SourceVpc", "aws:SourceVpce", "kms:CallerAccount",
))

#: Condition keys that narrow what a grant reaches to the resources of the organization or of named accounts.
RESOURCE_SCOPING_CONDITION_KEYS = frozenset(k.lower() for k in (
    "aws:ResourceOrgID", "aws:ResourceOrgPaths", "aws:ResourceAccount",
))

#: Operators that only match requests carrying the key with one of the values. Negated operators, `...IfExists`
#: and `ForAllValues:` also match a request without the key, so they narrow nothing.
_MATCHING_OPERATORS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})

_ACCOUNT = re.compile(r"^(?:arn:aws[a-z-]*:iam::)?(\d{12})(?::root)?$")


def field(statement: Mapping[str, Any], key: str) -> Any:
    """A statement's `key` (Effect, Action, Principal, ...), whatever its case."""
    return ci_get(statement, key)


def strings(value: Any) -> list[str]:
    """A string-or-list field as a list of strings."""
    return [v for v in items(value) if isinstance(v, str)]


def is_allow(statement: Mapping[str, Any]) -> bool:
    return str(field(statement, "Effect")).lower() == "allow"


def label(statement: Mapping[str, Any], index: int) -> str:
    """How a message names a statement: by its Sid, else by position (1-based)."""
    sid = field(statement, "Sid")
    return f'statement "{sid}"' if isinstance(sid, str) and sid else f"statement #{index + 1}"


def principals(statement: Mapping[str, Any], kind: str) -> list[str]:
    """The principals of one `kind` ("AWS", "Service", "Federated") a statement names; `"*"` counts as AWS."""
    principal = field(statement, "Principal")
    if principal == "*":
        return ["*"] if kind.lower() == "aws" else []
    return strings(ci_get(principal, kind)) if isinstance(principal, Mapping) else []


def grants_everyone(statement: Mapping[str, Any]) -> bool:
    """True when the statement's principal is anyone: `"*"`, `{"AWS": "*"}`, or a `NotPrincipal` (everyone but
    the listed principals)."""
    if field(statement, "NotPrincipal") is not None:
        return True
    return "*" in principals(statement, "AWS")


def whole_accounts(statement: Mapping[str, Any]) -> list[str]:
    """The account ids of the AWS principals that stand for a whole account (`123456789012` or its `:root`)."""
    found: list[str] = []
    for p in principals(statement, "AWS"):
        m = _ACCOUNT.match(p.strip())
        if m:
            found.append(m.group(1))
    return found


def _operator_matches(operator: str) -> bool:
    op = operator.lower()
    if op.endswith("ifexists") or op.startswith("forallvalues:"):
        return False
    return op.removeprefix("foranyvalue:") in _MATCHING_OPERATORS


def scoping_keys(statement: Mapping[str, Any], keys: frozenset[str] = SCOPING_CONDITION_KEYS) -> list[str]:
    """The condition keys that really narrow the statement to an organization, account, principal or source:
    a key of `keys` (lower case; default :data:`SCOPING_CONDITION_KEYS`) under a matching operator, with values
    none of which is `"*"`."""
    condition = field(statement, "Condition")
    if not isinstance(condition, Mapping):
        return []
    found: list[str] = []
    for operator, block in condition.items():
        if not isinstance(operator, str) or not _operator_matches(operator) or not isinstance(block, Mapping):
            continue
        for key, values in block.items():
            vals = [str(v).strip() for v in items(values)]
            if str(key).lower() in keys and vals and "*" not in vals:
                found.append(str(key))
    return found


def has_condition(statement: Mapping[str, Any]) -> bool:
    condition = field(statement, "Condition")
    return isinstance(condition, Mapping) and len(condition) > 0


def condition_keys(statement: Mapping[str, Any]) -> list[str]:
    """Every condition key of the statement, under any operator."""
    condition = field(statement, "Condition")
    if not isinstance(condition, Mapping):
        return []
    return [str(k) for block in condition.values() if isinstance(block, Mapping) for k in block]


def provider_accounts(provider: PolicyProviderResource | None) -> set[str]:
    """`allowedAccountIds` of a resource's provider (a list, or the JSON string providers store): the accounts
    the resource lives in. Empty when the provider does not pin one."""
    if provider is None:
        return set()
    raw = get(provider.props, "allowedAccountIds")
    if isinstance(raw, str):
        parsed = parse_json(raw)
        raw = parsed if isinstance(parsed, list) else [raw]
    return {str(a) for a in items(plain(raw)) if isinstance(a, str | int | float)}


def describe(values: Iterable[str]) -> str:
    """A short JSON-ish list for messages."""
    shown = list(values)
    return "[" + ", ".join(f'"{v}"' for v in shown) + "]"
