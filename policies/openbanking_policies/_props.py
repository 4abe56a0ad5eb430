"""Reading props and reporting on them: the helpers every rule module shares.

Props are wrapped in pulumi_policy's unknown_checking_proxy: reading a value unknown during a first preview
raises UnknownValueError, and so do `in`, `.get()` and `.keys()`; `key in list(props)` does not. The readers
here never raise on such a value: they return :data:`UNKNOWN` instead, and the rules treat it as "cannot
judge yet" (neither a pass nor a violation).

Violation messages come in two styles, one per family of rule modules, and the `require_*` checks live on
:class:`Style` so both families share one implementation of each check:

- :data:`TICKED` (storage, data, keys/secrets, detection, logs, messaging): `` `a.b` is "x"; it must be true``
- :data:`PLAIN` (network, compute, api_edge, stack rules): ``a.b is 'x'; it must be true.``
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs
from pulumi_policy.proxy import UnknownValueError


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


# ---------------------------------------------------------------------------------------------
# Reading props
# ---------------------------------------------------------------------------------------------


def has(props: Mapping[str, Any], key: str) -> bool:
    """True when `key` is present (even if its value is still unknown)."""
    return key in list(props)


def first(items: Any) -> Any:
    """The first element of a list-or-object property (the SDK flattens max-1 blocks either way)."""
    if isinstance(items, Sequence) and not isinstance(items, str):
        return items[0] if len(items) else None
    return items


def _child(current: Any, step: str | int) -> Any:
    """current[step], None when there is no such element or key (raises UnknownValueError when unknown)."""
    if isinstance(step, int):
        if not isinstance(current, Sequence) or isinstance(current, str) or step >= len(current):
            return None
        return current[step]
    if not isinstance(current, Mapping) or step not in list(current):
        return None
    return current[step]


def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path` inside nested props; `default` when absent (or None); UNKNOWN when it, or a value on
    the way to it, is unknown at preview.

    A str step first steps into a one-element list: nested single blocks come either as an object
    (pulumi-aws v7) or as a one-element list, and both work.
    """
    current = props
    try:
        for step in path:
            if isinstance(step, str):
                current = first(current)
            if is_unknown(current):
                return UNKNOWN
            current = _child(current, step)
            if current is None:
                return default
        return current
    except UnknownValueError:
        return UNKNOWN


def is_set(props: Any, *path: str) -> bool:
    """True when the property at `path` is present and not empty, or unknown at preview (it may be set)."""
    v = get(props, *path)
    if is_unknown(v):
        return True
    if v is None or v == "":
        return False
    return not (isinstance(v, Sequence | Mapping) and not isinstance(v, str) and len(v) == 0)


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


def ci_get(mapping: Any, key: str) -> Any:
    """Case-insensitive key lookup in a plain mapping (documents may be camelCase or the API's PascalCase)."""
    if not isinstance(mapping, Mapping):
        return None
    for k, v in mapping.items():
        if isinstance(k, str) and k.lower() == key.lower():
            return v
    return None


def is_true(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.lower() == "true")


def number(v: Any) -> Any:
    """`v` as a float when it is numeric (a number or a numeric string, never a bool); otherwise `v` itself
    (None, UNKNOWN, a bool or a non-numeric value), so a message can still show it."""
    if v is None or isinstance(v, bool) or is_unknown(v):
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


# ---------------------------------------------------------------------------------------------
# JSON documents: IAM policies (bucket and key policies), container definitions, WAF rules.
# ---------------------------------------------------------------------------------------------


def _load(raw: Any) -> Any:
    """A JSON string parsed (raises json.JSONDecodeError), or a (proxied) object made plain."""
    return json.loads(raw) if isinstance(raw, str) else plain(raw)


def parse_json(raw: Any) -> Any:
    """A JSON document given as a string or as an already-parsed object; None when unparseable; None and
    UNKNOWN pass through."""
    if raw is None or is_unknown(raw):
        return raw
    try:
        return _load(raw)
    except ValueError:
        return None


class _UnreadableDocument(ValueError):
    pass


def _policy_document(raw: Any) -> Any:
    """An IAM policy document given as a JSON string (or already a mapping) as a plain dict; UNKNOWN when
    part of it is unknown at preview. Raises _UnreadableDocument saying why it cannot be read."""
    if not isinstance(raw, str | Mapping):
        raise _UnreadableDocument(f"expected a JSON string, got {type(raw).__name__}")
    try:
        doc = _load(raw)
    except json.JSONDecodeError as exc:
        raise _UnreadableDocument(f"not valid JSON ({exc.msg} at position {exc.pos})") from exc
    if contains_unknown(doc):
        return UNKNOWN
    if not isinstance(doc, dict):
        raise _UnreadableDocument("the document is not a JSON object")
    return doc


def statements(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for s in items(doc.get("Statement")) if isinstance(s, dict)]


def principal_is_everyone(principal: Any) -> bool:
    """True for Principal "*" or {"AWS": "*"} (also inside a list)."""
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any(p == "*" for p in items(principal.get("AWS")))
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
                out.extend(items(v))
    return out


# ---------------------------------------------------------------------------------------------
# Reporting. A value unknown at preview never produces a violation; what an absent value means is up to
# each check (`default`: what AWS assumes when it is absent).
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """How a family of rules words its violation messages, and the checks that report in that wording."""

    ticks: bool  # a property path in backticks: `a.b`
    json_strings: bool  # strings quoted as JSON ("x") rather than as Python ('x')
    unset: str  # how an absent value reads
    end: str  # what ends a sentence
    names_empty: bool  # require_set names the empty value ('' / []) and says it must be set

    def path(self, *path: str | int) -> str:
        """A property path for a message: `a.b[0].c`."""
        joined = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return f"`{joined}`" if self.ticks else joined

    def show(self, v: Any, absent_note: str | None = None) -> str:
        """A value for a violation message; an absent one with `absent_note` (what it stands for) in parentheses."""
        if v is None:
            return f"{self.unset} ({absent_note})" if absent_note else self.unset
        if isinstance(v, str):
            return json.dumps(v) if self.json_strings else repr(v)
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        try:
            return json.dumps(plain(v), default=repr)
        except (TypeError, ValueError):
            return repr(v)

    def _shown(self, v: Any, default: Any) -> str:
        """`v` for a message; an absent one with the AWS default it stands for, when there is one."""
        return self.show(v, None if default is None else f"AWS default: {self.show(default)}")

    def _report(self, report: ReportViolation, path: tuple[str | int, ...], rest: str) -> None:
        report(f"{self.path(*path)} is {rest}{self.end}", None)

    def require_true(self, report: ReportViolation, props: Any, *path: str, default: bool | None = None,
                     why: str = "") -> None:
        """Report unless the boolean at `path` is true. `default` is what AWS assumes when it is absent (and
        is named in the message); without one, absent counts as false."""
        v = get(props, *path)
        if is_unknown(v) or is_true(default if v is None else v):
            return
        self._report(report, path, f"{self._shown(v, default)}; it must be true{why}")

    def require_not_true(self, report: ReportViolation, props: Any, *path: str, why: str = "") -> None:
        """Report when the boolean at `path` is true (absent passes)."""
        v = get(props, *path)
        if not is_unknown(v) and is_true(v):
            self._report(report, path, f"{self.show(v)}; it must be false or unset{why}")

    def require_set(self, report: ReportViolation, props: Any, *path: str, why: str = "") -> None:
        """Report when the value at `path` is absent or empty (unknown counts as set)."""
        if is_set(props, *path):
            return
        if self.names_empty:
            self._report(report, path, f"{self.show(get(props, *path))}; it must be set{why}")
        else:
            self._report(report, path, f"{self.unset}{why}")

    def require_equal(self, report: ReportViolation, props: Any, *path: str, expected: str | Sequence[str],
                      default: str | None = None, why: str = "") -> None:
        """Report unless the string at `path` is `expected` (or one of them); `default` as in require_true."""
        allowed = [expected] if isinstance(expected, str) else list(expected)
        v = get(props, *path)
        if is_unknown(v) or (default if v is None else v) in allowed:
            return
        want = self.show(allowed[0]) if len(allowed) == 1 else "one of " + ", ".join(map(self.show, allowed))
        self._report(report, path, f"{self._shown(v, default)}; it must be {want}{why}")

    def policy_document(self, report: ReportViolation, props: Any, *path: str | int) -> dict[str, Any] | None:
        """The IAM policy document at `path` (a JSON string, or already a mapping) as a plain dict; None when
        it is absent, unknown at preview (in part) or unreadable, which is reported."""
        raw = get(props, *path)
        if raw is None or is_unknown(raw):
            return None
        try:
            doc = _policy_document(raw)
        except _UnreadableDocument as exc:
            report(f"{self.path(*path)} could not be read: {exc}{self.end}", None)
            return None
        return None if is_unknown(doc) else doc

    def require_cmk(self, report: ReportViolation, props: Any, *path: str, why: str = "") -> None:
        """`path` must hold a customer-managed KMS key (present; unknown passes; never alias/aws/*)."""
        if not is_set(props, *path):
            self._report(report, path, f"{self.unset}, so an AWS-owned or AWS-managed key is used; "
                                       f"it must name a customer-managed KMS key{why}")
            return
        v = get(props, *path)
        if is_aws_managed_key(v):
            self._report(report, path, f"{self.show(v)}, an AWS-managed key; it must name a customer-managed "
                                       f"KMS key{why}")


TICKED = Style(ticks=True, json_strings=True, unset="not set", end="", names_empty=False)
PLAIN = Style(ticks=False, json_strings=False, unset="absent", end=".", names_empty=True)
