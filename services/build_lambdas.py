"""Build the Lambda archives: services/dist/<name>.zip for each function, with its third-party packages installed
for the Lambda runtime (Python 3.11, x86_64 manylinux wheels) and the `openbanking` modules its handler imports.

    python services/build_lambdas.py                 # every function
    python services/build_lambdas.py authorizer      # one

Each function's third-party packages are listed in services/lambdas/<name>.txt (boto3/botocore come with the
runtime). Only the `openbanking` modules the handler reaches through its imports are packaged, and the build
fails if one of them imports a third-party module the archive does not contain. Archives are reproducible:
entries sorted, timestamps fixed, permissions normalised, no bytecode, no console scripts.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openbanking.deployables import DEPLOYABLES

SERVICES = Path(__file__).resolve().parent
PACKAGE_ROOT = SERVICES  # `openbanking` lives in services/
REQUIREMENTS_DIR = SERVICES / "lambdas"
DIST = SERVICES / "dist"

#: The fixed timestamp of every archive entry (the earliest a zip can hold).
EPOCH = (1980, 1, 1, 0, 0, 0)
#: Provided by the Lambda Python runtime.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"})
_EXCLUDED_DIRS = frozenset({"__pycache__", "bin"})
_EXCLUDED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class LambdaSpec:
    name: str
    module: str  # the handler's module, e.g. openbanking.lambdas.authorizer (handler: <module>.handler)

    @property
    def requirements(self) -> Path:
        return REQUIREMENTS_DIR / f"{self.name}.txt"


#: Every Lambda of the deployables registry (`openbanking.deployables`, plain data: importable from here).
LAMBDAS: dict[str, LambdaSpec] = {d.name: LambdaSpec(d.name, d.module) for d in DEPLOYABLES.values()
                                  if d.kind == "lambda"}


class BuildError(Exception):
    pass


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Statements run at import time: function bodies (deliberately lazy imports) and `if TYPE_CHECKING:` blocks
    are skipped, conditional and `try` blocks are followed."""
    for node in body:
        if isinstance(node, ast.If):
            test = node.test
            if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                    isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
                yield from _module_level(node.orelse)
                continue
            yield from _module_level(node.body)
            yield from _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                yield from _module_level(block)
        else:
            yield node


def _imports(path: Path, module: str) -> tuple[set[str], set[str]]:
    """(local modules, third-party/stdlib top-level names) one source file imports when it is loaded."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    local: set[str] = set()
    external: set[str] = set()
    for node in _module_level(tree.body):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names = [target] + [f"{target}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "openbanking":
                local.add(name)
            elif name:
                external.add(name.split(".")[0])
    return local, external


def module_closure(entry: str, root: Path = PACKAGE_ROOT) -> tuple[dict[str, Path], set[str]]:
    """Every `openbanking` module `entry` reaches through its imports (and their packages' `__init__`), and the
    top-level names of everything else they import."""
    found: dict[str, Path] = {}
    external: set[str] = set()
    pending = [entry]
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            candidate = ".".join(parts[:i])
            if candidate in found:
                continue
            path = _module_file(root, candidate)
            if path is None:
                if i == len(parts) and candidate == entry:
                    raise BuildError(f"the handler module {entry} does not exist under {root}")
                continue  # `from package import name` where name is not a module
            found[candidate] = path
            local, other = _imports(path, candidate)
            pending.extend(local)
            external |= other
    return found, external


def _installed_top_levels(target: Path) -> set[str]:
    names = set()
    for entry in target.iterdir():
        if entry.is_dir() and not entry.name.endswith((".dist-info", ".data")):
            names.add(entry.name)
        elif entry.suffix in {".py", ".so"} or entry.name.endswith(".pyd"):
            names.add(entry.name.split(".")[0])
    return names


def install_requirements(requirements: Path, target: Path, pip_args: Sequence[str] = ()) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
               "--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.11",
               "--only-binary=:all:", "--target", str(target), "-r", str(requirements), *pip_args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"pip could not install {requirements}:\n{result.stderr.strip()}")


def _archive_entries(root: Path) -> Iterable[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in _EXCLUDED_DIRS for part in relative.parts) or not path.is_file():
            continue
        if path.suffix in _EXCLUDED_SUFFIXES:
            continue
        yield relative.as_posix(), path


def write_zip(staging: Path, archive: Path) -> None:
    """A reproducible zip of `staging`: sorted entries, fixed time, 0644 (0755 for shared objects)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_suffix(".zip.tmp")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for name, path in sorted(_archive_entries(staging)):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            mode = 0o755 if path.suffix == ".so" or ".so." in path.name else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode bits are honoured
            bundle.writestr(info, path.read_bytes(), compresslevel=9)
    partial.replace(archive)


def build(spec: LambdaSpec, out_dir: Path = DIST, *, pip_args: Sequence[str] = (),
          root: Path = PACKAGE_ROOT) -> Path:
    if not spec.requirements.is_file():
        raise BuildError(f"{spec.name}: requirements file {spec.requirements} is missing")
    modules, external = module_closure(spec.module, root)
    with tempfile.TemporaryDirectory(prefix=f"lambda-{spec.name}-") as tmp:
        staging = Path(tmp)
        install_requirements(spec.requirements, staging, pip_args)
        missing = sorted(name for name in external - _installed_top_levels(staging) - RUNTIME_PROVIDED
                         if name not in sys.stdlib_module_names and name != "__future__")
        if missing:
            raise BuildError(f"{spec.name}: the handler's modules import {', '.join(missing)}, which "
                             f"{spec.requirements.name} does not install")
        for path in modules.values():
            destination = staging / path.relative_to(root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(path.read_bytes())
        archive = out_dir / f"{spec.name}.zip"
        write_zip(staging, archive)
    return archive


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Lambda archives into services/dist/<name>.zip.")
    parser.add_argument("names", nargs="*", metavar="name", help=f"functions to build: {', '.join(LAMBDAS)} (default: all)")
    parser.add_argument("--out", type=Path, default=DIST, help="output directory (default: services/dist)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in LAMBDAS]
    if unknown:
        parser.error(f"unknown function(s) {', '.join(unknown)}; choose from {', '.join(LAMBDAS)}")
    for name in args.names or list(LAMBDAS):
        try:
            archive = build(LAMBDAS[name], args.out)
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{archive} ({archive.stat().st_size // 1024} KiB, handler {LAMBDAS[name].module}.handler)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
