"""lz reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI does, and refuses what it would
refuse (or what would make lz read it differently) with one line naming the file and the problem."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lz.cli import EXIT_INVALID, app
from lz.project import Program, ProgramError
from lz.pulumi_yaml import YamlError, load, scalar_tag
from tests.conftest import ROOT

runner = CliRunner()


def program(tmp_path: Path, stack_file: str | bytes, project: str = "name: p\nruntime: python\n") -> Path:
    (tmp_path / "Pulumi.yaml").write_text(project)
    (tmp_path / "__main__.py").write_text("import pulumi\n")
    target = tmp_path / "Pulumi.dev.yaml"
    target.write_bytes(stack_file if isinstance(stack_file, bytes) else stack_file.encode())
    return tmp_path


def preview_error(directory: Path, stack: str = "dev") -> str:
    """The output of a refused `lz preview`: exactly one line, starting with `error:`."""
    result = runner.invoke(app, ["preview", "--program", str(directory), "--stack", stack], catch_exceptions=False,
                           env={"COLUMNS": "250"})
    assert result.exit_code == EXIT_INVALID, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_a_duplicate_key_is_refused_naming_the_key_and_both_lines(tmp_path: Path) -> None:
    stack = (ROOT / "Pulumi.prod.yaml").read_text().replace("    region: eu-west-2\n",
                                                            "    region: eu-west-2\n    region: eu-west-1\n", 1)
    shown = preview_error(program(tmp_path, stack))
    first = next(i for i, line in enumerate(stack.splitlines(), 1) if line == "    region: eu-west-2")
    assert shown == (f"error: {tmp_path}/Pulumi.dev.yaml:{first + 1}: the key 'region' is defined twice, on lines "
                     f"{first} and {first + 1} (the Pulumi CLI refuses duplicate keys)")


def test_an_alias_is_refused(tmp_path: Path) -> None:
    shown = preview_error(program(tmp_path, "config:\n  p:a: &x [1, 2]\n  p:b: *x\n"))
    assert shown.startswith(f"error: {tmp_path}/Pulumi.dev.yaml:3: the alias *x is refused")


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    shown = preview_error(program(tmp_path, "config:\n  p:a: &x [*x]\n"))
    assert shown.startswith(f"error: {tmp_path}/Pulumi.dev.yaml:2: the alias *x is refused")


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    levels = ["config:", '  p:a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"  p:{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
    start = time.monotonic()
    shown = preview_error(program(tmp_path, "\n".join(levels) + "\n"))
    assert "the alias *a is refused" in shown
    assert time.monotonic() - start < 10


@pytest.mark.parametrize(("stack_file", "kind"), [("config:\n  - a\n  - b\n", "a list"),
                                                 ("config: just text\n", "a string")])
def test_config_that_is_not_a_mapping_is_refused(tmp_path: Path, stack_file: str, kind: str) -> None:
    shown = preview_error(program(tmp_path, stack_file))
    assert shown == f"error: {tmp_path}/Pulumi.dev.yaml: config: must be a mapping of config keys to values, not {kind}"


def test_a_byte_that_is_not_utf8_is_refused_naming_the_line(tmp_path: Path) -> None:
    shown = preview_error(program(tmp_path, b"config:\n  p:owner: caf\xe9\n"))
    assert shown == f"error: {tmp_path}/Pulumi.dev.yaml:2: byte 0xe9 is not UTF-8; save the file as UTF-8"


def test_a_300_character_stack_name_is_refused(tmp_path: Path) -> None:
    shown = preview_error(program(tmp_path, "config: {}\n"), stack="s" * 300)
    assert shown == (f"error: {tmp_path}/Pulumi.<stack>.yaml: stack name {'s' * 40!r}... (300 characters): must be "
                     "1 to 100 characters long")


def test_a_stack_name_with_a_path_in_it_is_refused(tmp_path: Path) -> None:
    shown = preview_error(program(tmp_path, "config: {}\n"), stack="../etc")
    assert shown == (f"error: {tmp_path}/Pulumi.<stack>.yaml: stack name '../etc': may contain only letters, digits, "
                     "'-', '_' and '.'")


def test_an_esc_environment_is_refused(tmp_path: Path) -> None:
    shown = preview_error(program(tmp_path, "environment:\n  - team/dev\nconfig: {}\n"))
    assert "imports Pulumi ESC environments" in shown


def test_the_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    shown = preview_error(program(tmp_path, "- config\n"))
    assert shown == f"error: {tmp_path}/Pulumi.dev.yaml: expected a mapping at the top level, not a list"


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    shown = preview_error(program(tmp_path, "config:\n  p:a: [1, 2\n"))
    assert shown.startswith(f"error: {tmp_path}/Pulumi.dev.yaml:3: ")


@pytest.mark.parametrize(("text", "value"), [
    ("yes", "yes"), ("on", "on"), ("No", "No"), ("true", True), ("False", False), ("~", None), ("null", None),
    ("0o17", 15), ("0x1f", 31), ("017", 15), ("1_000", 1000), ("1:20", "1:20"), ("08", 8.0), ("1e3", 1000.0),
    (".5", 0.5), ("+12", 12), ("2024-01-31", "2024-01-31"), ("-.inf", float("-inf")), ("<<x", "<<x"),
])
def test_plain_scalars_resolve_as_yaml_v3_does(tmp_path: Path, text: str, value: object) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(f"key: {text}\n")
    assert load(path) == {"key": value}
    assert load(path)["key"].__class__ is value.__class__


def test_quoted_scalars_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 'true'\nb: \"3\"\n")
    assert load(path) == {"a": "true", "b": "3"}
    assert scalar_tag("3").endswith(":int") and scalar_tag("x3").endswith(":str")


def test_a_non_string_key_in_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProgramError, match=r"Pulumi\.dev\.yaml: config p:a: the key 1 is not a string"):
        Program.load(program(tmp_path, "config:\n  p:a:\n    1: one\n")).config("dev")


def test_the_stack_config_reaches_the_program_as_the_engine_passes_it(tmp_path: Path) -> None:
    stack = ("config:\n  aws:region: eu-west-2\n  p:count: 3.0\n  p:enabled: true\n  p:ratio: 1.5\n"
             "  p:token:\n    secure: v1:AAAA\n  p:nested:\n    list: [1, 2.0, {secure: x}]\n  plain: yes\n")
    config = Program.load(program(tmp_path, stack)).config("dev")
    assert config.values == {"aws:region": "eu-west-2", "p:count": "3", "p:enabled": "true", "p:ratio": "1.5",
                             "p:token": "[secret]", "p:nested": '{"list":[1,2,"[secret]"]}', "p:plain": "yes"}
    assert sorted(config.secret_keys) == ["p:nested", "p:token"]


def test_project_config_fills_in_under_the_stacks(tmp_path: Path) -> None:
    project = ("name: p\nruntime: python\nconfig:\n  size: small\n  aws:region: eu-west-1\n"
               "  p:zones:\n    type: integer\n    default: 2\n  pulumi:disable-default-providers:\n    value: [aws]\n")
    config = Program.load(program(tmp_path, "config:\n  p:size: large\n", project)).config("dev")
    assert config.values == {"p:size": "large", "aws:region": "eu-west-1", "p:zones": "2",
                             "pulumi:disable-default-providers": '["aws"]'}
    assert config.disabled_default_providers() == frozenset({"aws"})


def test_a_declared_type_is_enforced_and_a_required_key_must_be_given(tmp_path: Path) -> None:
    project = "name: p\nruntime: python\nconfig:\n  p:zones:\n    type: integer\n  p:owner:\n    type: string\n"
    with pytest.raises(ProgramError, match=r"config p:zones: 'two' is not of the type 'integer'"):
        Program.load(program(tmp_path, "config:\n  p:zones: two\n  p:owner: me\n", project)).config("dev")
    with pytest.raises(ProgramError, match=r"stack 'dev' is missing configuration value 'p:owner'"):
        Program.load(program(tmp_path, "config:\n  p:zones: 2\n", project)).config("dev")


def test_stack_files_may_live_in_stack_config_dir(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nstackConfigDir: stacks\n")
    (tmp_path / "__main__.py").write_text("import pulumi\n")
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  p:x: '1'\n")
    loaded = Program.load(tmp_path)
    assert loaded.stacks() == ["dev"]
    assert loaded.config("dev").values == {"p:x": "1"}


def test_shipped_stack_files_read_the_same_as_before() -> None:
    """The landing zone's own stacks: nothing in them depends on what the strict reading changed."""
    import yaml

    for path in sorted(ROOT.glob("Pulumi.*.yaml")):
        assert load(path) == yaml.safe_load(path.read_text()), path.name


def test_a_yaml_error_is_raised_as_such(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\na: 2\n")
    with pytest.raises(YamlError, match=r"x.yaml:2: the key 'a' is defined twice, on lines 1 and 2"):
        load(path)
    assert json.dumps(load(ROOT / "Pulumi.yaml"))  # the project file itself loads
