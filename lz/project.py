"""A Pulumi Python program on disk: its project file, its stacks and their config, read as the CLI reads them.

Config reaches a program the way the engine hands it over: project-level `config:` values and
defaults from `Pulumi.yaml` under the stack's own `config:`, each value a string (objects and lists as
JSON), keys namespaced (`<project>:<key>` when the file gives none). Secure values cannot be decrypted
offline: they become the marker `[secret]` and their keys are listed as secret.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import pulumi_yaml

#: Stack and project names: what the Pulumi CLI and service accept.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")
MAX_NAME_LENGTH = 100
SECRET_MARKER = "[secret]"
DISABLE_DEFAULT_PROVIDERS = "pulumi:disable-default-providers"
#: Keys of a project-level config declaration (`Pulumi.yaml`, `config: {key: {type: ..., default: ...}}`).
DECLARATION_KEYS = {"type", "description", "items", "default", "value", "secret"}


class ProgramError(Exception):
    """The program or its stack cannot be rendered; the message says why, without a traceback."""


def _shown(name: str) -> str:
    return repr(name) if len(name) <= 60 else f"{name[:40]!r}... ({len(name)} characters)"


def check_name(name: str, what: str) -> None:
    """Refuse a stack or project name the Pulumi CLI would refuse (it also becomes part of a file name)."""
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ProgramError(f"{what} {_shown(name)}: must be 1 to {MAX_NAME_LENGTH} characters long")
    if not NAME_PATTERN.match(name):
        raise ProgramError(f"{what} {_shown(name)}: may contain only letters, digits, '-', '_' and '.'")


@dataclass(frozen=True)
class StackConfig:
    """Config the way the Pulumi engine hands it to a program: `namespace:key` → string."""

    values: dict[str, str]
    secret_keys: list[str]

    def disabled_default_providers(self) -> frozenset[str]:
        """Packages whose default provider the engine refuses (`"*"`: every package but `pulumi`).

        The engine reads `pulumi:disable-default-providers` from the merged config as a JSON list of
        strings, each trimmed; an empty value disables nothing."""
        raw = self.values.get(DISABLE_DEFAULT_PROVIDERS, "")
        if raw == "":
            return frozenset()
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProgramError(f"{DISABLE_DEFAULT_PROVIDERS}: {raw!r} must be a list of package names, e.g. "
                               "[aws], or [\"*\"] for every package")
        return frozenset(v.strip() for v in value)


@dataclass(frozen=True)
class Program:
    directory: Path
    name: str
    main: Path
    #: Project-level config declarations and values (`config:` in Pulumi.yaml), short forms expanded.
    project_config: dict[str, dict[str, Any]]
    #: Where the stack files are (`stackConfigDir`, else the project directory).
    stack_directory: Path

    @classmethod
    def find(cls, start: Path) -> Program:
        """The project `start` is in, found as the Pulumi CLI finds it: the nearest `Pulumi.yaml` at or
        above `start`."""
        start = start.resolve()
        for directory in (start, *start.parents):
            if (directory / "Pulumi.yaml").is_file():
                return cls.load(directory)
        raise ProgramError(f"{start}: no Pulumi.yaml here or in any directory above; run lz in a Pulumi "
                           "project or name one with --program")

    @classmethod
    def load(cls, directory: str | Path) -> Program:
        directory = Path(directory).resolve()
        project_file = directory / "Pulumi.yaml"
        if not project_file.is_file():
            raise ProgramError(f"{directory}: no Pulumi.yaml here; --program must name a Pulumi project directory")
        project = _read_yaml(project_file)
        runtime = project.get("runtime")
        runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
        if runtime_name != "python":
            raise ProgramError(f"{project_file}: runtime is {runtime_name!r}; lz renders Python programs only")
        name = project.get("name")
        if not isinstance(name, str):
            raise ProgramError(f"{project_file}: 'name' is missing")
        try:
            check_name(name, "project name")
        except ProgramError as exc:
            raise ProgramError(f"{project_file}: {exc}") from None
        main = directory / str(project.get("main", "."))
        if main.is_dir():
            main = main / "__main__.py"
        if not main.is_file():
            raise ProgramError(f"{project_file}: the program entry point {main} does not exist")
        config = project.get("config")
        stack_dir = project.get("stackConfigDir")
        if isinstance(config, str) and stack_dir is None:  # the old spelling of stackConfigDir
            config, stack_dir = None, config
        declarations = _declarations(project_file, name, config)
        return cls(directory, name, main, declarations, directory / str(stack_dir or "."))

    def stacks(self) -> list[str]:
        return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in self.stack_directory.glob("Pulumi.*.yaml"))

    def stack_file(self, stack: str) -> Path:
        try:
            check_name(stack, "stack name")
        except ProgramError as exc:
            raise ProgramError(f"{self.stack_directory / 'Pulumi.<stack>.yaml'}: {exc}") from None
        path = self.stack_directory / f"Pulumi.{stack}.yaml"
        if not path.is_file():
            known = ", ".join(self.stacks()) or "none"
            raise ProgramError(f"unknown stack {stack!r} in {self.stack_directory} (stacks: {known})")
        return path

    def config(self, stack: str) -> StackConfig:
        """The stack's config as the engine hands it to the program."""
        path = self.stack_file(stack)
        document = _read_yaml(path)
        if "environment" in document:
            raise ProgramError(f"{path}: imports Pulumi ESC environments ('environment:'), which lz cannot open "
                               "offline; put the values the program needs under config:")
        raw = document.get("config")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ProgramError(f"{path}: config: must be a mapping of config keys to values, not "
                               f"{_kind(raw)}")
        values: dict[str, str] = {}
        secrets: list[str] = []
        written: dict[str, Any] = {}
        for key, value in raw.items():
            full = _namespaced(path, self.name, key)
            if full in written:
                raise ProgramError(f"{path}: config key {key!r} is given twice (as {full!r})")
            written[full] = value
            text, secret = _config_text(path, full, value)
            values[full] = text
            if secret:
                secrets.append(full)
        missing = []
        for key, declaration in self.project_config.items():
            full = _namespaced(self.directory / "Pulumi.yaml", self.name, key)
            if full in written:
                _check_declared_type(path, full, declaration, written[full])
                continue
            given = declaration.get("value", declaration.get("default"))
            if given is not None:
                values[full] = _config_text(self.directory / "Pulumi.yaml", full, given)[0]
            elif full.split(":")[0] == self.name:
                missing.append(key)
        if missing:
            raise ProgramError(f"{path}: stack {stack!r} is missing configuration "
                               f"{'value' if len(missing) == 1 else 'values'} {', '.join(map(repr, sorted(missing)))} "
                               "(declared in Pulumi.yaml without a default)")
        config = StackConfig(values, secrets)
        try:
            config.disabled_default_providers()  # refuse a malformed value before any render starts
        except ProgramError as exc:
            raise ProgramError(f"{path}: {exc}") from None
        return config


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), type(value).__name__)


def _namespaced(path: Path, project: str, key: Any) -> str:
    """`key` as the engine names it: `<namespace>:<key>` (legacy `<namespace>:config:<key>` accepted)."""
    if not isinstance(key, str) or not key:
        raise ProgramError(f"{path}: config key {key!r} is not a string")
    parts = key.split(":")
    if len(parts) == 3 and parts[1] == "config":
        parts = [parts[0], parts[2]]
    if len(parts) == 1:
        return f"{project}:{key}"
    if len(parts) != 2 or not all(parts):
        raise ProgramError(f"{path}: config key {key!r} must look like <namespace>:<name>")
    return ":".join(parts)


def _go_number(value: float) -> int | float:
    """Go prints an integral float64 without a fraction (`3.0` in YAML reaches the program as `3`)."""
    return int(value) if value.is_integer() and abs(value) < 1e21 else value


def _plain(path: Path, key: str, value: Any, where: str) -> tuple[Any, bool]:
    """`value` with secure leaves replaced by the secret marker, floats as Go writes them; and whether
    it held a secret."""
    if isinstance(value, dict):
        if set(value) == {"secure"} and isinstance(value["secure"], str):
            return SECRET_MARKER, True
        out, secret = {}, False
        for k, v in value.items():
            if not isinstance(k, str):
                raise ProgramError(f"{path}: config {where}: the key {k!r} is not a string")
            out[k], s = _plain(path, key, v, f"{where}.{k}")
            secret = secret or s
        return out, secret
    if isinstance(value, list):
        items = [_plain(path, key, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return [v for v, _ in items], any(s for _, s in items)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ProgramError(f"{path}: config {where}: {value} is not a value a config can hold")
        return _go_number(value), False
    if value is None or isinstance(value, str | int | bool):
        return value, False
    return str(value), False


def _config_text(path: Path, key: str, value: Any) -> tuple[str, bool]:
    """The string the engine passes for one config value, and whether it is secret."""
    plain, secret = _plain(path, key, value, key)
    if isinstance(plain, str):
        return plain, secret
    if isinstance(plain, bool):
        return ("true" if plain else "false"), secret
    if plain is None:
        return "", secret
    if isinstance(plain, int | float):
        return repr(plain), secret
    return json.dumps(plain, separators=(",", ":"), ensure_ascii=False), secret


def _declarations(project_file: Path, project: str, config: Any) -> dict[str, dict[str, Any]]:
    """Project-level config, with the short forms expanded as the CLI expands them: a plain value is a
    default for a project key and a value for any other namespace."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ProgramError(f"{project_file}: config: must be a mapping, not {_kind(config)}")
    out: dict[str, dict[str, Any]] = {}
    for key, entry in config.items():
        full = _namespaced(project_file, project, key)
        own = full.split(":")[0] == project
        if not isinstance(entry, dict):
            out[key] = {"default": entry} if own else {"value": entry}
            continue
        unknown = set(entry) - DECLARATION_KEYS
        if unknown:
            raise ProgramError(f"{project_file}: config.{key}: {', '.join(sorted(map(str, unknown)))} is not part "
                               f"of a config declaration ({', '.join(sorted(DECLARATION_KEYS))}); put an object "
                               "value under 'value:'")
        if "default" in entry and "value" in entry:
            raise ProgramError(f"{project_file}: config.{key}: cannot have both a 'default' and a 'value'")
        if not own and ("type" in entry or "default" in entry):
            raise ProgramError(f"{project_file}: config.{key}: a key of another namespace takes a 'value', not a "
                               "'type' or 'default'")
        out[key] = dict(entry)
    return out


def _matches(type_name: str, items: Any, value: Any) -> bool:
    """The CLI's check of a stack value against a declared `type` (string, integer, boolean, array)."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return True
        return isinstance(value, str) and re.fullmatch(r"[-+]?\d+", value) is not None
    if type_name == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_name == "array" and isinstance(items, dict) and isinstance(value, list):
        return all(_matches(str(items.get("type")), items.get("items"), v) for v in value)
    return False


def _check_declared_type(path: Path, key: str, declaration: Mapping[str, Any], raw_value: Any) -> None:
    """Refuse a stack value of another type than its declaration in Pulumi.yaml (as the CLI does)."""
    type_name = declaration.get("type")
    if type_name is None or (isinstance(raw_value, dict) and set(raw_value) == {"secure"}):
        return
    if not _matches(str(type_name), declaration.get("items"), raw_value):
        raise ProgramError(f"{path}: config {key}: {raw_value!r} is not of the type {type_name!r} Pulumi.yaml declares")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = pulumi_yaml.load(path)
    except pulumi_yaml.YamlError as exc:
        raise ProgramError(str(exc)) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ProgramError(f"{path}: expected a mapping at the top level, not {_kind(document)}")
    return document
