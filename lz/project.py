"""A Pulumi Python program on disk: its project file, its stacks and their config."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ProgramError(Exception):
    """The program or its stack cannot be rendered; the message says why, without a traceback."""


@dataclass(frozen=True)
class StackConfig:
    """Config the way the Pulumi engine hands it to a program: `namespace:key` → string."""

    values: dict[str, str]
    secret_keys: list[str]


@dataclass(frozen=True)
class Program:
    directory: Path
    name: str
    main: Path
    project_config: dict[str, Any]

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
        if not isinstance(project.get("name"), str):
            raise ProgramError(f"{project_file}: 'name' is missing")
        main = directory / str(project.get("main", "."))
        if main.is_dir():
            main = main / "__main__.py"
        if not main.is_file():
            raise ProgramError(f"{project_file}: the program entry point {main} does not exist")
        config = project.get("config") or {}
        return cls(directory, project["name"], main, config if isinstance(config, dict) else {})

    def stacks(self) -> list[str]:
        return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in self.directory.glob("Pulumi.*.yaml"))

    def stack_file(self, stack: str) -> Path:
        path = self.directory / f"Pulumi.{stack}.yaml"
        if not path.is_file():
            known = ", ".join(self.stacks()) or "none"
            raise ProgramError(f"unknown stack {stack!r} in {self.directory} (stacks: {known})")
        return path

    def default_providers_disabled(self) -> set[str]:
        """Packages listed in `pulumi:disable-default-providers` (project or stack config)."""
        value = self.project_config.get("pulumi:disable-default-providers")
        if isinstance(value, dict):
            value = value.get("value", value.get("default"))
        return {str(v) for v in value} if isinstance(value, list) else set()

    def config(self, stack: str) -> StackConfig:
        """Project defaults overlaid by the stack's file. Secure values cannot be decrypted offline: they
        become the marker `[secret]` and are listed as secret."""
        values: dict[str, str] = {}
        secrets: list[str] = []
        for key, raw in self.project_config.items():
            if isinstance(raw, dict) and ("value" in raw or "default" in raw):
                values[self._key(key)] = _encode(raw.get("value", raw.get("default")))
        stack_doc = _read_yaml(self.stack_file(stack))
        for key, raw in (stack_doc.get("config") or {}).items():
            full = self._key(key)
            if isinstance(raw, dict) and set(raw) == {"secure"}:
                values[full] = "[secret]"
                secrets.append(full)
            else:
                values[full] = _encode(raw)
        return StackConfig(values, secrets)

    def _key(self, key: str) -> str:
        return key if ":" in key else f"{self.name}:{key}"


def _encode(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ProgramError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise ProgramError(f"{path}: expected a mapping at the top level")
    return doc
