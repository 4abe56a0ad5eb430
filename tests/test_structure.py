"""The shape of the program, read from its source: dependencies point one way, and every component is
complete when its constructor returns (no resource is added to a component after `register_outputs`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

LAYERS = ("environments", "accounts", "components")  # each may import only the layers after it


def modules(layer: str) -> list[Path]:
    return sorted((ROOT / layer).glob("*.py"))


def imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("layer", LAYERS)
def test_dependencies_point_one_way(layer: str) -> None:
    above = LAYERS[:LAYERS.index(layer)]
    for path in modules(layer):
        wrong = [name for name in imported(path) if name.split(".")[0] in above]
        assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}: {layer} must not depend on {above}"


def component_classes() -> Iterator[tuple[Path, ast.ClassDef]]:
    """Classes that derive (directly or through one of ours) from a ComponentResource."""
    bases_of: dict[str, list[str]] = {}
    classes: list[tuple[Path, ast.ClassDef]] = []
    for layer in LAYERS:
        for path in modules(layer):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef):
                    bases_of[node.name] = [ast.unparse(b).split(".")[-1] for b in node.bases]
                    classes.append((path, node))

    def is_component(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name == "ComponentResource":
            return True
        return name not in seen and any(is_component(b, seen | {name}) for b in bases_of.get(name, []))

    return ((path, cls) for path, cls in classes
            if any(is_component(ast.unparse(b).split(".")[-1], frozenset({cls.name})) for b in cls.bases))


def creates_resources(function: ast.FunctionDef, ours: set[str]) -> list[str]:
    """Calls that construct a resource: `aws.<module>.<Class>(...)` or one of our components."""
    made = []
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            last = name.split(".")[-1]
            if (name.startswith(("aws.", "awsx.")) and last[:1].isupper() and not last.endswith("Args")) or last in ours:
                made.append(name)
    return made


def calls_to_own_methods(function: ast.FunctionDef) -> set[str]:
    return {node.func.attr for node in ast.walk(function)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "self"}


COMPONENTS = list(component_classes())
OURS = {cls.name for _, cls in COMPONENTS}
#: Base classes (another component derives from them): their subclasses' constructors finish the job.
BASES = {ast.unparse(b).split(".")[-1] for _, cls in COMPONENTS for b in cls.bases} & OURS


def test_there_are_components_to_check() -> None:
    assert {"TransitGatewayHub", "SpokeVpc", "SpokeLink", "AccountBaseline", "NetworkHubAccount", "Environment"} <= OURS
    assert {"Account", "SpokeAccount"} == BASES


@pytest.mark.parametrize(("path", "cls"), [pytest.param(p, c, id=c.name) for p, c in COMPONENTS])
def test_every_component_is_complete_when_its_constructor_returns(path: Path, cls: ast.ClassDef) -> None:
    methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
    init = methods.get("__init__")
    if cls.name not in BASES:
        assert init is not None, f"{cls.name} ({path.name}) needs its own constructor ending with register_outputs"
        last = init.body[-1]
        assert isinstance(last, ast.Expr) and ast.unparse(last.value).startswith("self.register_outputs("), \
            f"{cls.name}.__init__ ({path.name}) must end with self.register_outputs(...)"
    # Only the constructor (and private helpers it calls) may create resources.
    during_construction = {"__init__"}
    frontier = ["__init__"] if init is not None else []
    while frontier:
        for called in calls_to_own_methods(methods[frontier.pop()]):
            if called in methods and called.startswith("_") and called not in during_construction:
                during_construction.add(called)
                frontier.append(called)
    for name, method in methods.items():
        if name not in during_construction:
            made = creates_resources(method, OURS)
            assert not made, f"{cls.name}.{name} ({path.name}) creates resources outside the constructor: {made}"


def is_dataclass(cls: ast.ClassDef) -> bool:
    """`@dataclass`, `@dataclass(...)` or `@dataclasses.dataclass(...)`."""
    return any(ast.unparse(d.func if isinstance(d, ast.Call) else d).split(".")[-1] == "dataclass"
               for d in cls.decorator_list)


def undocumented_fields(source: str) -> list[tuple[int, str]]:
    """(line, `Class.field`) of every dataclass field whose line above is not a `#:` comment (ClassVars are
    not fields)."""
    lines = source.splitlines()
    missing = []
    for cls in ast.walk(ast.parse(source)):
        if isinstance(cls, ast.ClassDef) and is_dataclass(cls):
            for stmt in cls.body:
                if (isinstance(stmt, ast.AnnAssign) and "ClassVar" not in ast.unparse(stmt.annotation)
                        and not lines[stmt.lineno - 2].strip().startswith("#:")):
                    missing.append((stmt.lineno, f"{cls.name}.{ast.unparse(stmt.target)}"))
    return missing


def test_the_field_documentation_check_tells_documented_from_undocumented() -> None:
    source = ("from dataclasses import dataclass\n\n@dataclass(frozen=True)\nclass Args:\n"
              '    """Args."""\n\n    #: Documented.\n    name: str\n    # a plain comment is not documentation\n'
              "    size: int = 1\n    count: int = 2\n\nclass Plain:\n    ignored: int\n")
    assert undocumented_fields(source) == [(10, "Args.size"), (11, "Args.count")]


@pytest.mark.parametrize("layer", LAYERS)
def test_every_dataclass_field_is_documented(layer: str) -> None:
    """Each args, spec, plan and sizing field says what it is, its unit or format and what it changes,
    in a `#:` comment on the line above it (the docs read like terraform-aws-modules' variable descriptions)."""
    checked, missing = 0, []
    for path in modules(layer):
        source = path.read_text()
        checked += sum(isinstance(c, ast.ClassDef) and is_dataclass(c) for c in ast.walk(ast.parse(source)))
        missing += [f"{path.relative_to(ROOT)}:{line}: {field}" for line, field in undocumented_fields(source)]
    assert checked, f"no dataclass found in {layer}/: the check would pass vacuously"
    assert not missing, "dataclass fields without a `#:` comment on the line above:\n" + "\n".join(missing)
