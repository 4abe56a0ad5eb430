"""The archive builder on a tiny package tree and a local wheel (offline, no PyPI): the handler's module closure,
the third-party check, and byte-for-byte reproducible zips."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import build_lambdas  # services/ is on the test path (pyproject)
import pytest
from build_lambdas import EPOCH, LAMBDAS, BuildError, LambdaSpec, build, module_closure


def make_wheel(directory: Path) -> None:
    """tinydep 1.0, a pure-Python py3-none-any wheel."""
    wheel = directory / "tinydep-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("tinydep/__init__.py", "VALUE = 42\n")
        archive.writestr("tinydep-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n")
        archive.writestr("tinydep-1.0.dist-info/WHEEL",
                         "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr("tinydep-1.0.dist-info/RECORD", "")


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "src"
    (root / "openbanking" / "lambdas").mkdir(parents=True)
    (root / "openbanking" / "util").mkdir()
    (root / "openbanking" / "__init__.py").write_text("")
    (root / "openbanking" / "lambdas" / "__init__.py").write_text("")
    (root / "openbanking" / "util" / "__init__.py").write_text("")
    (root / "openbanking" / "util" / "helpers.py").write_text("import json\nfrom typing import TYPE_CHECKING\n"
                                                              "if TYPE_CHECKING:\n    import fastapi\n")
    (root / "openbanking" / "util" / "unused.py").write_text("import notinstalled\n")
    (root / "openbanking" / "lambdas" / "fn.py").write_text(
        "import tinydep\nimport boto3\nfrom ..util.helpers import json\n\n"
        "def handler(event, context):\n    import notinstalled  # lazy: not part of the load-time closure\n")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels)
    requirements = tmp_path / "requirements"
    requirements.mkdir()
    (requirements / "fn.txt").write_text("tinydep==1.0\n")
    (requirements / "broken.txt").write_text("\n")
    monkeypatch.setattr(build_lambdas, "REQUIREMENTS_DIR", requirements)
    return root


def offline(tree: Path) -> list[str]:
    return ["--no-index", "--find-links", str(tree.parent / "wheels")]


def test_closure_follows_load_time_imports_only(tree: Path) -> None:
    modules, external = module_closure("openbanking.lambdas.fn", tree)
    assert sorted(modules) == ["openbanking", "openbanking.lambdas", "openbanking.lambdas.fn", "openbanking.util",
                               "openbanking.util.helpers"]
    assert {"tinydep", "boto3", "json"} <= external and "fastapi" not in external and "notinstalled" not in external


def test_archive_is_complete_and_reproducible(tree: Path, tmp_path: Path) -> None:
    first = build(LambdaSpec("fn", "openbanking.lambdas.fn"), tmp_path / "a", pip_args=offline(tree), root=tree)
    second = build(LambdaSpec("fn", "openbanking.lambdas.fn"), tmp_path / "b", pip_args=offline(tree), root=tree)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    assert names == sorted(names)
    assert "tinydep/__init__.py" in names and "openbanking/lambdas/fn.py" in names
    assert "openbanking/util/unused.py" not in names, "only the handler's closure is packaged"
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n or n.startswith("bin/")]
    assert {info.date_time for info in infos} == {EPOCH}
    assert {(info.external_attr >> 16) & 0o777 for info in infos} == {0o644}


def test_missing_third_party_module_fails_the_build(tree: Path, tmp_path: Path) -> None:
    (tree / "openbanking" / "lambdas" / "fn.py").write_text("import tinydep\nimport notinstalled\n")
    with pytest.raises(BuildError, match=r"import notinstalled, which fn\.txt does not install"):
        build(LambdaSpec("fn", "openbanking.lambdas.fn"), tmp_path / "out", pip_args=offline(tree), root=tree)


def test_unknown_handler_and_missing_requirements_are_clear_errors(tree: Path, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"requirements file .*nope\.txt is missing"):
        build(LambdaSpec("nope", "openbanking.lambdas.fn"), tmp_path, root=tree)
    with pytest.raises(BuildError, match="does not exist"):
        build(LambdaSpec("broken", "openbanking.lambdas.absent"), tmp_path, pip_args=offline(tree), root=tree)


def test_real_lambdas_closures_are_covered_by_their_requirements() -> None:
    """Without installing: each real handler's third-party imports appear in its requirements list."""
    services = Path(build_lambdas.__file__).resolve().parent
    distribution_of = {"aws_lambda_powertools": "aws-lambda-powertools", "pydantic_settings": "pydantic-settings",
                       "starlette": "fastapi", "pydantic": "pydantic", "httpx": "httpx", "joserfc": "joserfc",
                       "cryptography": "cryptography", "fastapi": "fastapi"}
    for spec in LAMBDAS.values():
        _, external = module_closure(spec.module, services)
        third_party = sorted(n for n in external if n not in sys.stdlib_module_names and n != "__future__"
                             and n not in build_lambdas.RUNTIME_PROVIDED)
        listed = {line.split("==")[0] for line in spec.requirements.read_text().splitlines()
                  if line and not line.startswith("#")}
        assert {distribution_of.get(n, n) for n in third_party} <= listed, (spec.name, third_party)
