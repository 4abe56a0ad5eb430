"""Small checks shared by the storage, data, keys, detection, messaging and logs rules.

They read props through :mod:`._base` helpers and never raise on a value unknown at preview: an
unknown value is neither a pass nor a violation, the check simply says nothing about it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs
from pulumi_policy.proxy import UnknownValueError

from ._base import as_list, first, has, is_true

MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "MISSING"})()
UNKNOWN: Any = type("_Unknown", (), {"__repr__": lambda self: "UNKNOWN"})()


def lookup(props: Any, *path: str) -> Any:
    """The value at `path`, stepping into one-element lists; MISSING when absent, UNKNOWN when unknown.

    Nested single blocks come either as an object (pulumi-aws v7) or a one-element list; both work.
    """
    current = props
    try:
        for step in path:
            current = first(current)
            if not isinstance(current, Mapping) or step not in list(current):
                return MISSING
            current = current[step]
            if current is None:
                return MISSING
        return current
    except UnknownValueError:
        return UNKNOWN


def is_set(props: Any, *path: str) -> bool:
    """True when the property at `path` is present and non-empty, or present but unknown at preview."""
    keys = list(path)
    last = keys.pop()
    parent = lookup(props, *keys) if keys else props
    if parent is UNKNOWN:
        return True
    if parent is MISSING:
        return False
    try:
        parent = first(parent)
        if not isinstance(parent, Mapping) or not has(parent, last):
            return False
        v = parent[last]
    except UnknownValueError:
        return True
    if v is None or v == "":
        return False
    return not (isinstance(v, Sequence) and not isinstance(v, str) and len(v) == 0)


def fmt(v: Any) -> str:
    """A value as it would be written in JSON, for violation messages."""
    if v is MISSING:
        return "not set"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, str):
        return json.dumps(v)
    try:
        return json.dumps(v, default=str)
    except (TypeError, ValueError):
        return repr(v)


def label(*path: str) -> str:
    return ".".join(path)


def require_true(report: ReportViolation, props: Any, *path: str, default: bool = False,
                 why: str = "") -> None:
    """Report unless the boolean at `path` is true. `default` is what AWS assumes when it is absent."""
    v = lookup(props, *path)
    if v is UNKNOWN:
        return
    effective = default if v is MISSING else v
    if not is_true(effective):
        shown = f"not set (AWS default: {fmt(default)})" if v is MISSING else fmt(v)
        report(f"`{label(*path)}` is {shown}; it must be true{why}", None)


def require_not_true(report: ReportViolation, props: Any, *path: str, why: str = "") -> None:
    v = lookup(props, *path)
    if v is UNKNOWN or v is MISSING:
        return
    if is_true(v):
        report(f"`{label(*path)}` is {fmt(v)}; it must be false or unset{why}", None)


def require_set(report: ReportViolation, props: Any, *path: str, why: str = "") -> None:
    if not is_set(props, *path):
        report(f"`{label(*path)}` is not set{why}", None)


def require_equal(report: ReportViolation, props: Any, *path: str, expected: str | Sequence[str],
                  default: Any = MISSING, why: str = "") -> None:
    """Report unless the string at `path` is `expected` (or one of them)."""
    allowed = [expected] if isinstance(expected, str) else list(expected)
    v = lookup(props, *path)
    if v is UNKNOWN:
        return
    effective = default if v is MISSING else v
    if effective not in allowed:
        want = fmt(allowed[0]) if len(allowed) == 1 else "one of " + ", ".join(fmt(a) for a in allowed)
        shown = fmt(v) if v is not MISSING else (
            "not set" if default is MISSING else f"not set (AWS default: {fmt(default)})")
        report(f"`{label(*path)}` is {shown}; it must be {want}{why}", None)


def number(props: Any, *path: str) -> Any:
    """A numeric property as float; MISSING/UNKNOWN pass through; a non-numeric string stays a string."""
    v = lookup(props, *path)
    if v is MISSING or v is UNKNOWN or isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(str(v))
    except ValueError:
        return v


def config_number(args: ResourceValidationArgs, key: str, default: float) -> float:
    """A numeric config value of the policy, `default` when the engine or caller did not pass one."""
    raw = args.get_config().get(key) if args.get_config() else None
    if raw is None or isinstance(raw, bool):
        return default
    try:
        return float(raw)
    except (TypeError, ValueError):
        return default


def is_aws_managed_key(key_id: Any) -> bool:
    """True for `alias/aws/...` (or its ARN): an AWS-managed key, not a customer-managed one."""
    return isinstance(key_id, str) and (key_id.startswith("alias/aws/") or ":alias/aws/" in key_id)


def require_cmk(report: ReportViolation, props: Any, *path: str, why: str = "") -> None:
    """`path` must hold a customer-managed KMS key (present; unknown passes; never alias/aws/*)."""
    if not is_set(props, *path):
        report(f"`{label(*path)}` is not set, so an AWS-owned or AWS-managed key is used; "
               f"it must name a customer-managed KMS key{why}", None)
        return
    v = lookup(props, *path)
    if is_aws_managed_key(v):
        report(f"`{label(*path)}` is {fmt(v)}, an AWS-managed key; it must name a customer-managed "
               f"KMS key{why}", None)


# ---------------------------------------------------------------------------------------------
# IAM policy documents (bucket policies, key policies). They arrive as JSON strings.
# ---------------------------------------------------------------------------------------------


class PolicyDocumentError(ValueError):
    pass


def policy_document(raw: Any) -> dict[str, Any]:
    """Parse an IAM policy document given as a JSON string (or already a mapping)."""
    if isinstance(raw, Mapping):
        return _plain(raw)
    if not isinstance(raw, str):
        raise PolicyDocumentError(f"expected a JSON string, got {type(raw).__name__}")
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PolicyDocumentError(f"not valid JSON ({exc.msg} at position {exc.pos})") from exc
    if not isinstance(doc, dict):
        raise PolicyDocumentError("the document is not a JSON object")
    return doc


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(v[k]) for k in list(v)}
    if isinstance(v, Sequence) and not isinstance(v, str):
        return [_plain(x) for x in v]
    return v


def statements(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, dict)]


def principal_is_everyone(principal: Any) -> bool:
    """True for Principal "*" or {"AWS": "*"} (also inside a list)."""
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any(p == "*" for p in as_list(principal.get("AWS")))
    return False


def condition_values(statement: Mapping[str, Any], operator: str, key: str) -> list[Any]:
    """Values of `key` under the condition `operator` (keys compared case-insensitively)."""
    cond = statement.get("Condition")
    if not isinstance(cond, Mapping):
        return []
    out: list[Any] = []
    for op, block in cond.items():
        if str(op).lower() != operator.lower() or not isinstance(block, Mapping):
            continue
        for k, v in block.items():
            if str(k).lower() == key.lower():
                out.extend(as_list(v))
    return out
