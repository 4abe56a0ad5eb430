"""Prop helpers used by the network, api_edge, compute and stack_rules modules.

They never raise on a value unknown at preview: :func:`get` returns :data:`UNKNOWN` instead, and the
rules treat an unknown value as "cannot judge yet" (neither a pass nor a violation).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation
from pulumi_policy.proxy import UnknownValueError

from ._base import first, value


class _Unknown:
    """Sentinel for a value that is unknown during preview."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()


def is_unknown(v: Any) -> bool:
    return v is UNKNOWN


def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path` (stepping into one-element lists for str steps); UNKNOWN when unknown."""
    current = props
    try:
        for step in path:
            if isinstance(step, str):
                current = first(current)
            current = value(current, step, default=None)
            if current is None:
                return default
        return current
    except UnknownValueError:
        return UNKNOWN


def items(v: Any) -> list[Any]:
    """The elements of a list-or-object property, unknown elements as UNKNOWN; [] when absent."""
    if v is None:
        return []
    if is_unknown(v):
        return [UNKNOWN]
    if isinstance(v, Sequence) and not isinstance(v, str):
        out: list[Any] = []
        for i in range(len(v)):
            try:
                out.append(v[i])
            except UnknownValueError:
                out.append(UNKNOWN)
        return out
    return [v]


def plain(v: Any) -> Any:
    """A plain Python copy of a (proxied) value; values unknown at preview become UNKNOWN."""
    if isinstance(v, str) or v is None or isinstance(v, bool | int | float):
        return v
    if isinstance(v, Mapping):
        out: dict[str, Any] = {}
        for k in list(v):
            try:
                out[k] = plain(v[k])
            except UnknownValueError:
                out[k] = UNKNOWN
        return out
    if isinstance(v, Sequence):
        return [plain(x) for x in items(v)]
    return v


def contains_unknown(v: Any) -> bool:
    if is_unknown(v):
        return True
    if isinstance(v, Mapping):
        return any(contains_unknown(x) for x in v.values())
    if isinstance(v, list):
        return any(contains_unknown(x) for x in v)
    return False


def parse_json(raw: Any) -> Any:
    """A JSON document given as a string or as an already-parsed object; None when unparseable."""
    if raw is None or is_unknown(raw):
        return raw
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return plain(raw)


def truthy(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.lower() == "true")


def number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def show(v: Any) -> str:
    """A value for a violation message."""
    if v is None:
        return "absent"
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return json.dumps(plain(v), default=repr)


def require_true(report: ReportViolation, props: Any, *path: str, why: str = "") -> None:
    """Report unless the boolean at `path` is true (absent counts as false, unknown says nothing)."""
    v = get(props, *path)
    if is_unknown(v) or truthy(v):
        return
    report(f"{'.'.join(path)} is {show(v)}; it must be true{why}.", None)


def require_set(report: ReportViolation, props: Any, *path: str, why: str = "") -> None:
    """Report when the value at `path` is absent or empty (unknown counts as set)."""
    v = get(props, *path)
    if is_unknown(v):
        return
    if v is None or v == "" or (isinstance(v, Sequence | Mapping) and not isinstance(v, str) and len(v) == 0):
        report(f"{'.'.join(path)} is {show(v)}; it must be set{why}.", None)


# ------------------------------------------------------------------------------------------------
# Stack helpers: props of PolicyResource are outputs; link resources by id/ARN/name values.
# ------------------------------------------------------------------------------------------------


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


def linked(
    candidates: Iterable[PolicyResource], key: str, targets: set[str],
    accept: Callable[[PolicyResource], bool] = lambda _r: True,
) -> tuple[bool, bool]:
    """(found, maybe): found when a candidate's `key` is in `targets` and `accept`s it; maybe when a
    candidate's `key` is unknown (so it could still be the link once known)."""
    maybe = False
    for c in candidates:
        v = get(c.props, key)
        if is_unknown(v):
            maybe = True
            continue
        if isinstance(v, str) and v in targets and accept(c):
            return True, False
    return False, maybe


def provider_urn(r: PolicyResource) -> str | None:
    prov = r.provider
    return getattr(prov, "urn", None) if prov is not None else None
