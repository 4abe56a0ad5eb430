"""Validate a stack's environment config and report every problem at once, before any resource exists.

The model of the stack's kind validates the whole config (strict, from JSON, so no value is coerced); then
each top-level section is validated on its own, and the cross-section rules run on the sections that stand
(:mod:`environments.rules`). Every problem comes out as `<key path>: <value as written> <rule>`; where a key
belongs to another stack kind, or is spelt in snake_case, the message says so.
"""

from __future__ import annotations

import difflib
import functools
import json
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from .config import (
    CONFIG_KEY,
    MODEL_OF_KIND,
    SECTION_RULES,
    AccountRole,
    ConfigError,
    EnvironmentConfig,
    StackKind,
    as_written,
)
from .rules import ABSENT, cross_section_problems

#: A config is a few kilobytes; anything this large is a mistake (or an attack), refused before parsing further.
MAX_CONFIG_BYTES = 256 * 1024
#: The deepest real key path is about six levels; deeper input is refused before any validator recurses into it.
MAX_CONFIG_DEPTH = 32


def _depth(value: Any) -> int:
    """How deeply `value` nests (iteratively: hostile input must not exhaust the stack here either)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_CONFIG_DEPTH:
            break
        children = node.values() if isinstance(node, Mapping) else node if isinstance(node, list | tuple) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest

_TYPE_MESSAGES = {
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
}


def _stack(kind: StackKind) -> str:
    return "the foundation stack" if kind is StackKind.FOUNDATION else f"a {kind} stack"


def key_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """`landingzone:environment.network.vpn.customerGateways[0].ipAddress`: list indices in brackets."""
    path = CONFIG_KEY
    for part in loc:
        if isinstance(part, int) or (isinstance(part, str) and part.startswith("[")):
            path += f"[{part}]" if isinstance(part, int) else part
        else:
            path += f".{part}"
    return path


def _unwrap(annotation: Any) -> Any:
    """`Annotated[X, ...]` and `X | None` -> X."""
    while True:
        if typing.get_origin(annotation) is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that holds the last key of `loc` (for field metadata and known keys)."""
    current: Any = model
    for part in loc[:-1]:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for f in current.model_fields.values() if f.alias == part), None)
            current = field.annotation if field is not None else None
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]  # a mapping's value or a list's item
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


#: Keys one stack kind has and another does not: (key path, kinds that have it, why the others do not).
_KIND_KEYS: list[tuple[tuple[str, ...], str]] = [
    (("workloads",), "only a workload stack deploys workload accounts"),
    (("sandbox",), "only a sandbox stack runs the sandbox's services (a workload stack places them under workloads)"),
    (("edge",), "the foundation stack has no edge"),
    (("foundation",), "only the foundation stack configures the organization (this is {stack})"),
    (("organizationId",), "only the foundation stack names the organization (the others read it from the "
                          "foundation stack)"),
    (("network",), "the foundation stack has no network hub"),
    (("domain",), "is not used by {stack}"),
    (("network", "directConnect"), "the sandbox never reaches the data centre; remove it from a sandbox stack"),
    (("network", "vpn"), "the sandbox never reaches the data centre; remove it from a sandbox stack"),
    (("network", "onPremisesDns"), "the sandbox never reaches the data centre; remove it from a sandbox stack"),
    (("network", "identityVpcCidr"), "is not used by {stack}"),
    (("network", "apiVpcCidr"), "is not used by {stack}"),
    (("network", "sandboxVpcCidr"), "is not used by {stack}"),
    (("network", "ingressVpcCidr"), "is not used by {stack}: only a workload stack has an identity provider"),
    (("identity",), "only a workload stack has an identity account (this is {stack})"),
]


def _unknown_key(loc: tuple[Any, ...], value: Any, kind: StackKind, model: type[BaseModel]) -> str:
    key = str(loc[-1])
    shown = "" if isinstance(value, Mapping | list) else f"{as_written(value)} "
    owner = _model_at(model, loc)
    known = [f.alias for f in owner.model_fields.values() if f.alias] if owner else []
    camel = to_camel(key)
    if camel != key:
        # Keys are camelCase only: a snake_case spelling would otherwise dodge every rule written for the key.
        if camel in known:
            return f"{shown}is not a known key: keys are camelCase, write it as {camel!r}"
        return f"{shown}is not a known key: keys are camelCase ({camel!r}), and " + \
            _unknown_key((*loc[:-1], camel), value, kind, model).removeprefix(shown)
    if loc == ("foundationStack",) and kind is StackKind.FOUNDATION:
        return f"{shown}the foundation stack cannot reference itself"
    if len(loc) == 2 and loc[0] == "accounts" and key in set(AccountRole) - {AccountRole.WORKLOAD}:
        return f"{shown}is not deployed by {_stack(kind)} (it deploys {sorted(known)})"
    for path, why in _KIND_KEYS:
        if tuple(loc) == path:
            return f"{shown}{why.format(stack=_stack(kind))}"
    close = difflib.get_close_matches(key, known, n=1)
    return f"{shown}is not a known key" + (f" (did you mean {close[0]!r}?)" if close else "")


def _missing(loc: tuple[Any, ...], kind: StackKind, model: type[BaseModel]) -> str:
    owner = _model_at(model, loc)
    field = next((f for f in owner.model_fields.values() if f.alias == loc[-1]), None) if owner else None
    extra = field.json_schema_extra if field is not None and isinstance(field.json_schema_extra, dict) else {}
    kind_specific = owner is not None and (owner is model or (owner.__name__.startswith(
        ("Foundation", "Workload", "Sandbox")) and owner.__name__ != "Workload"))
    text = "is required" + (f" for {_stack(kind)}" if kind_specific else "")
    return text + (f" ({extra['requiredBecause']})" if "requiredBecause" in extra else "")


def format_errors(errors: list[ErrorDetails], kind: StackKind, model: type[BaseModel]) -> Iterator[str]:
    """One line per problem: `<key path>: <value as written> <rule>`."""
    for err in errors:
        loc = tuple(err["loc"])
        if loc and loc[-1] == "[key]":  # a mapping's key (a workload's name) failed its own rule
            yield f"{key_path(loc[:-1])}: the name {as_written(err['input'])} {str(err['msg']).lower()}"
        elif err["type"] == SECTION_RULES:
            for relative, text in err.get("ctx", {}).get("problems", []):
                joined = relative if relative.startswith("[") else f".{relative}"
                yield f"{key_path(loc)}{joined}: {text}"
        elif err["type"] == "missing":
            yield f"{key_path(loc)}: {_missing(loc, kind, model)}"
        elif err["type"] == "extra_forbidden":
            yield f"{key_path(loc)}: {_unknown_key(loc, err['input'], kind, model)}"
        elif err["type"] in ("enum", "literal_error"):
            yield f"{key_path(loc)}: {as_written(err['input'])} is not one of {err.get('ctx', {}).get('expected', '')}"
        elif err["type"] == "value_error":
            yield f"{key_path(loc)}: {as_written(err['input'])} {str(err['msg']).removeprefix('Value error, ')}"
        else:
            rule = _TYPE_MESSAGES.get(err["type"], str(err["msg"]).lower())
            yield f"{key_path(loc)}: {as_written(err['input'])} {rule}"


@functools.cache
def _section_adapter(model: type[BaseModel], field_name: str) -> TypeAdapter[Any]:
    field = model.model_fields[field_name]
    annotation: Any = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    return TypeAdapter(annotation)


def typed_sections(model: type[BaseModel], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Field name -> the section validated on its own (absent when it is invalid): lets the cross-section
    rules run on what stands when something else is wrong."""
    sections: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in raw:
            try:
                sections[name] = _section_adapter(model, name).validate_json(json.dumps(raw[key]), strict=True)
            except ValidationError:
                continue
        elif not field.is_required():
            sections[name] = field.get_default(call_default_factory=True)
    return sections


def _kind(raw: Mapping[str, Any]) -> tuple[StackKind | None, list[str]]:
    value = raw.get("kind")
    choices = ", ".join(repr(k.value) for k in StackKind)
    if value is None:
        return None, [f"{CONFIG_KEY}.kind: is required (one of {choices})"]
    try:
        return StackKind(value), []
    except ValueError:
        return None, [f"{CONFIG_KEY}.kind: {as_written(value)} is not one of {choices}"]


def load_environment(raw: Any) -> EnvironmentConfig:
    """Validate `raw` (the decoded config value) and return the model of its kind, or raise :class:`ConfigError`
    listing every problem."""
    if not isinstance(raw, Mapping):
        raise ConfigError([f"{CONFIG_KEY}: must be a mapping (got {type(raw).__name__})"])
    if _depth(raw) > MAX_CONFIG_DEPTH:
        raise ConfigError([f"{CONFIG_KEY}: nests more than {MAX_CONFIG_DEPTH} levels deep; no config key does"])
    try:
        text = json.dumps(raw, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ConfigError([f"{CONFIG_KEY}: is not plain structured data ({type(exc).__name__})"]) from None
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError([f"{CONFIG_KEY}: is {len(text)} bytes; a landing zone config is a few kilobytes "
                           f"(limit {MAX_CONFIG_BYTES})"])
    kind, problems = _kind(raw)
    if kind is None:
        raise ConfigError(problems)
    model = MODEL_OF_KIND[kind]
    config: EnvironmentConfig | None = None
    try:
        config = model.model_validate_json(text)
    except ValidationError as exc:
        problems.extend(format_errors(exc.errors(include_url=False), kind, model))
    sections = ({name: getattr(config, name) for name in model.model_fields} if config is not None
                else typed_sections(model, raw))
    for other in MODEL_OF_KIND.values():
        for name in other.model_fields:
            sections.setdefault(name, ABSENT)
    problems.extend(f"{CONFIG_KEY}.{p}" for p in cross_section_problems(sections))
    if problems or config is None:
        raise ConfigError(list(dict.fromkeys(problems)))
    return config


def parse_config_json(text: str) -> Any:
    """The config value as the Pulumi engine hands it to the program (a JSON string), refusing duplicate keys
    and input too large or too deep to be a config."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError([f"{CONFIG_KEY}: is {len(text)} bytes; a landing zone config is a few kilobytes "
                           f"(limit {MAX_CONFIG_BYTES})"])

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ConfigError([f"{CONFIG_KEY}: key {duplicates[0]!r} is given twice"])
        return dict(pairs)

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError:
        raise ConfigError([f"{CONFIG_KEY}: must be a structured (YAML mapping) value"]) from None
    except RecursionError:
        raise ConfigError([f"{CONFIG_KEY}: is nested too deeply to be a config"]) from None
