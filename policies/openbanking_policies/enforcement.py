"""Per-stack enforcement levels and policy config, read from a `--policy-pack-config` JSON document.

The document is what `pulumi preview --policy-pack-config FILE` takes::

    {"all": "mandatory",
     "ob-logs": {"enforcementLevel": "advisory", "minRetentionDays": 90},
     "ob-ecs-cluster": "advisory"}

Rules enforced here (all problems are collected and raised together):

* every key is a known policy name (or ``all``); every level is a known enforcement level;
* production stacks may not lower any policy below mandatory (``remediate`` counts as mandatory);
* a policy registered with ``nonprod_may_downgrade=False`` (every CRITICAL one) may not be lowered anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from ._base import METADATA

ConfigSource = Mapping[str, Any] | str | PathLike[str] | None

_LEVELS = {level.value: level for level in EnforcementLevel}
_AT_LEAST_MANDATORY = (EnforcementLevel.MANDATORY, EnforcementLevel.REMEDIATE)
ALL = "all"
LEVEL_KEY = "enforcementLevel"


class EnforcementConfigError(ValueError):
    """The policy-pack config is invalid; `problems` holds one message per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _all_policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    from . import ALL_POLICIES  # imported late: this module is itself imported by the package's users

    return list(ALL_POLICIES)


def _known_names() -> set[str]:
    _all_policies()  # make sure every rule module has registered its metadata
    return set(METADATA)


def read_source(source: ConfigSource) -> dict[str, Any]:
    """The config document as a dict (a path is read as JSON; None is an empty config)."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EnforcementConfigError([f"{path}: cannot read policy config ({exc.strerror})"]) from exc
    except json.JSONDecodeError as exc:
        raise EnforcementConfigError(
            [f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"]) from exc
    if not isinstance(doc, dict):
        raise EnforcementConfigError([f"{path}: the policy config must be a JSON object"])
    return doc


def _entry_level(key: str, entry: Any, problems: list[str]) -> EnforcementLevel | None:
    """The level one entry asks for (None when it asks for none or is invalid)."""
    if isinstance(entry, str):
        raw: Any = entry
    elif isinstance(entry, Mapping):
        if LEVEL_KEY not in entry:
            return None
        raw = entry[LEVEL_KEY]
    else:
        problems.append(f"{key}: {json.dumps(entry, default=str)} is neither a level string nor an object")
        return None
    level = _LEVELS.get(raw) if isinstance(raw, str) else None
    if level is None:
        problems.append(f"{key}: unknown enforcement level {json.dumps(raw, default=str)} "
                        f"(use one of {', '.join(sorted(_LEVELS))})")
    return level


def load_enforcement(source: ConfigSource, *, production: bool) -> dict[str, EnforcementLevel]:
    """The effective enforcement level of every policy (MANDATORY unless the config lowers it)."""
    doc = read_source(source)
    names = _known_names()
    problems: list[str] = []

    levels: dict[str, EnforcementLevel] = dict.fromkeys(sorted(names), EnforcementLevel.MANDATORY)
    set_by: dict[str, str] = {}

    if ALL in doc:
        all_level = _entry_level(ALL, doc[ALL], problems)
        if all_level is not None:
            for name in levels:
                levels[name] = all_level
                set_by[name] = ALL
    for key in doc:
        if key == ALL:
            continue
        if key not in names:
            problems.append(f"{key}: unknown policy (not in the open-banking pack)")
            continue
        level = _entry_level(key, doc[key], problems)
        if level is not None:
            levels[key] = level
            set_by[key] = key

    lowered_by_all: list[str] = []
    for name, level in levels.items():
        if level in _AT_LEAST_MANDATORY:
            continue
        key = set_by.get(name, name)
        if key == ALL:
            lowered_by_all.append(name)
            continue
        if production:
            problems.append(f"{name}: prod may not lower {name} to {json.dumps(level.value)}")
        elif not METADATA[name].nonprod_may_downgrade:
            problems.append(f"{name}: {name} may not be lowered to {json.dumps(level.value)} on any stack "
                            f"({METADATA[name].severity.value} policy)")
    if lowered_by_all:
        all_value = json.dumps(levels[lowered_by_all[0]].value)
        if production:
            problems.append(f"{ALL}: prod may not lower all policies to {all_value}")
        else:
            fixed = sorted(n for n in lowered_by_all if not METADATA[n].nonprod_may_downgrade)
            if fixed:
                problems.append(f"{ALL}: {all_value} would lower {', '.join(fixed)}, which may not be "
                                "lowered on any stack; set them to \"mandatory\" explicitly")

    if problems:
        raise EnforcementConfigError(problems)
    return levels


# ---------------------------------------------------------------------------------------------
# Per-policy configuration values
# ---------------------------------------------------------------------------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,), "number": (int, float), "string": (str,), "boolean": (bool,),
    "array": (list, tuple), "object": (dict, Mapping),
}


def _type_ok(expected: Any, v: Any) -> bool:
    types = [expected] if isinstance(expected, str) else list(expected or [])
    if not types:
        return True
    for t in types:
        py = _JSON_TYPES.get(t)
        if py is None:
            return True
        if isinstance(v, bool) and t in ("integer", "number"):
            continue
        if t == "integer" and isinstance(v, float) and v.is_integer():
            return True
        if isinstance(v, py):
            return True
    return False


def _check_value(policy: str, prop: str, schema: Mapping[str, Any], v: Any) -> list[str]:
    out: list[str] = []
    shown = json.dumps(v, default=str)
    if not _type_ok(schema.get("type"), v):
        return [f"{policy}: {prop} is {shown}, expected {schema.get('type')}"]
    if "enum" in schema and v not in schema["enum"]:
        out.append(f"{policy}: {prop} is {shown}, expected one of {json.dumps(schema['enum'])}")
    if isinstance(v, int | float) and not isinstance(v, bool):
        if "minimum" in schema and v < schema["minimum"]:
            out.append(f"{policy}: {prop} is {shown}, below the minimum {schema['minimum']}")
        if "maximum" in schema and v > schema["maximum"]:
            out.append(f"{policy}: {prop} is {shown}, above the maximum {schema['maximum']}")
    return out


def policy_config(
    source: ConfigSource,
    policies: Iterable[ResourceValidationPolicy | StackValidationPolicy] | None = None,
) -> dict[str, dict[str, Any]]:
    """Config values of every policy (without `enforcementLevel`), schema defaults filled in.

    Unknown policies, properties the policy's schema does not declare, and values of the wrong type or
    out of range are errors (raised together as EnforcementConfigError).
    """
    doc = read_source(source)
    pols = list(policies) if policies is not None else _all_policies()
    by_name = {p.name: p for p in pols}
    problems: list[str] = []
    out: dict[str, dict[str, Any]] = {}

    for p in pols:
        schema = p.config_schema
        out[p.name] = {k: v["default"] for k, v in (schema.properties if schema else {}).items()
                       if "default" in v}

    for key, entry in doc.items():
        if key == ALL:
            continue
        policy = by_name.get(key)
        if policy is None:
            problems.append(f"{key}: unknown policy (not in the open-banking pack)")
            continue
        if not isinstance(entry, Mapping):
            continue  # a bare level string carries no config
        props = policy.config_schema.properties if policy.config_schema else {}
        for prop, v in entry.items():
            if prop == LEVEL_KEY:
                continue
            if prop not in props:
                problems.append(f"{key}: unknown config property {prop!r}")
                continue
            found = _check_value(key, prop, props[prop], v)
            problems.extend(found)
            if not found:
                out[key][prop] = v

    for p in pols:
        schema = p.config_schema
        for req in (schema.required or []) if schema else []:
            if req not in out[p.name]:
                problems.append(f"{p.name}: required config property {req!r} is missing")

    if problems:
        raise EnforcementConfigError(problems)
    return out
