"""lz judges a program it keeps at arm's length: the program runs in a render process of its own, bounded
in time and memory, and whatever it does there cannot pass it, hang lz or change the verdict.

The programs are in tests/fixtures: `misbehaving_program` (one misbehaviour per stack, each after
registering an SSH-open security group, a mandatory violation), `default_provider_program`,
`duplicate_urn_program` and `reference_program`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lz.cli import EXIT_CLEAN, EXIT_INVALID, EXIT_VIOLATIONS, app
from lz.isolation import MINIMAL_PATH, Limits
from lz.project import Program
from lz.render import Renderer, RenderError
from tests.conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
MISBEHAVING = FIXTURES / "misbehaving_program"
SSH_POLICY = "ob-sg-no-world-ingress"
runner = CliRunner()


def lz(program: Path, stack: str, *args: str):
    return runner.invoke(app, ["preview", "--program", str(program), "--stack", stack, *args],
                         catch_exceptions=False, env={"COLUMNS": "250"})


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def test_the_well_behaved_stack_is_judged_and_fails_on_its_open_ssh(tmp_path: Path) -> None:
    out = tmp_path / "record.json"
    result = lz(MISBEHAVING, "well-behaved", "--json", str(out))
    assert result.exit_code == EXIT_VIOLATIONS, result.output
    assert SSH_POLICY in {v["policy"] for v in json.loads(out.read_text())["violations"]}


def test_a_program_cannot_switch_off_its_judge(tmp_path: Path) -> None:
    """It replaces lz.policy_gate.check and the pack's evaluate, in the only process it can reach."""
    out = tmp_path / "record.json"
    result = lz(MISBEHAVING, "patch-the-judge", "--json", str(out))
    assert result.exit_code == EXIT_VIOLATIONS, result.output
    assert SSH_POLICY in result.output
    assert SSH_POLICY in {v["policy"] for v in json.loads(out.read_text())["violations"]}


@pytest.mark.parametrize(("stack", "says"), [
    ("sys-exit-0", "the program called sys.exit(0) before it finished (at __main__.py:"),
    ("sys-exit-3", "the program called sys.exit(3) before it finished (at __main__.py:"),
    ("os-exit-0", "the program ended the render process (exit status 0) before it finished, so there is no "
                  "complete record to judge"),
    ("keyboard-interrupt", "program error: KeyboardInterrupt (at __main__.py:"),
    ("base-exception", "program error: Vanished: the program is gone (at __main__.py:"),
])
def test_a_program_that_ends_early_is_never_a_pass(tmp_path: Path, stack: str, says: str) -> None:
    out = tmp_path / "record.json"
    result = lz(MISBEHAVING, stack, "--json", str(out))
    assert result.exit_code == EXIT_INVALID, result.output
    [line] = error_lines(result.output)
    assert line.startswith(f"error: misbehaving-program/{stack}: {says}")
    assert not out.exists()
    assert "Traceback" not in result.output


@pytest.mark.parametrize("stack", ["hang-at-import", "hang-in-apply", "never-resolves"])
def test_a_render_that_does_not_finish_ends_at_the_wall_clock_limit(stack: str) -> None:
    start = time.monotonic()
    result = lz(MISBEHAVING, stack, "--timeout", "3")
    assert result.exit_code == EXIT_INVALID, result.output
    assert error_lines(result.output) == [
        f"error: misbehaving-program/{stack}: wall-clock limit of 3 s reached (--timeout); the program had not finished"]
    assert time.monotonic() - start < 20


def test_a_thread_the_program_leaves_running_does_not_keep_lz_waiting() -> None:
    start = time.monotonic()
    result = lz(MISBEHAVING, "non-daemon-thread", "--timeout", "60")
    assert result.exit_code == EXIT_VIOLATIONS, result.output
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("stack", ["eat-memory", "eat-memory-then-start-a-thread"])
def test_a_program_that_eats_memory_ends_at_the_memory_limit(stack: str) -> None:
    # At the limit, what fails is whatever asks for memory next: an allocation (MemoryError) or, as seen once
    # on a loaded machine when the SDK started its RPC thread, a thread's stack ("can't start new thread",
    # which was reported as a program error).
    result = lz(MISBEHAVING, stack, "--memory", "600")
    assert result.exit_code == EXIT_INVALID, result.output
    assert error_lines(result.output) == [
        f"error: misbehaving-program/{stack}: memory limit of 600 MiB reached (--memory)"]


def test_limits_are_checked_on_the_command_line() -> None:
    for flag, value in (("--timeout", "0"), ("--memory", "10")):
        result = lz(MISBEHAVING, "well-behaved", flag, value)
        assert result.exit_code == EXIT_INVALID
        assert flag in result.output


def test_the_render_process_gets_a_minimal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_example")
    with Renderer() as renderer:  # a fork server started now, with these in lz's own environment
        rendering = renderer.render(Program.load(MISBEHAVING), "environment")
    environment = rendering.outputs["environment"]
    assert set(environment) <= {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    assert environment["PATH"] == MINIMAL_PATH
    assert environment["HOME"] != os.environ.get("HOME")
    assert not any(Path(environment["HOME"]).iterdir()) if Path(environment["HOME"]).exists() else True
    assert rendering.outputs["cwd"] == str(MISBEHAVING)


def test_what_the_program_prints_is_shown_apart_and_as_written() -> None:
    result = lz(MISBEHAVING, "print")
    assert result.exit_code == EXIT_VIOLATIONS
    assert "output of the program (stdout and stderr):" in result.output
    assert "[bold]hello from the program[/bold] :wave:" in result.output
    assert "and from its stderr" in result.output


def test_an_error_message_keeps_its_brackets() -> None:
    result = lz(MISBEHAVING, "error-with-brackets")
    assert result.exit_code == EXIT_INVALID
    [line] = error_lines(result.output)
    assert "'^dxcon-[a-z0-9]{8}$' [bold]not markup[/bold] :smile: (at __main__.py:" in line


def test_resource_names_keep_their_brackets_in_the_tree(tmp_path: Path) -> None:
    program = tmp_path / "brackets"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: brackets\nruntime: python\n")
    (program / "Pulumi.dev.yaml").write_text("config: {}\n")
    (program / "__main__.py").write_text(
        "import pulumi\nimport pulumi_aws as aws\n"
        "p = aws.Provider('p', region='eu-west-2')\n"
        "aws.sqs.Queue('[red]jobs[/red]:x:', opts=pulumi.ResourceOptions(provider=p))\n")
    result = lz(program, "dev", "--tree")
    assert "aws:sqs/queue:Queue [red]jobs[/red]:x:" in result.output


def test_two_resources_with_one_urn_are_refused_naming_both() -> None:
    result = lz(FIXTURES / "duplicate_urn_program", "dev")
    assert result.exit_code == EXIT_INVALID
    assert error_lines(result.output) == [
        "error: duplicate-urn-program/dev: duplicate URN urn:pulumi:dev::duplicate-urn-program::pulumi:pulumi:Stack$"
        "aws:sqs/queue:Queue::events: two resources of type aws:sqs/queue:Queue named 'events' under one parent, "
        "created at __main__.py:7 and at __main__.py:8"]


@pytest.mark.parametrize("stack", ["star", "aws-in-stack-file", "aws-with-spaces"])
def test_default_providers_are_disabled_as_the_engine_reads_the_setting(stack: str) -> None:
    """`["*"]`, a list in the stack file (not Pulumi.yaml), names with spaces: all disable `aws`."""
    result = lz(FIXTURES / "default_provider_program", stack)
    assert result.exit_code == EXIT_INVALID
    [line] = error_lines(result.output)
    assert line == (f"error: default-provider-program/{stack}: urn:pulumi:{stack}::default-provider-program::"
                    "pulumi:pulumi:Stack$aws:sqs/queue:Queue::stray: has no explicit provider, and "
                    "pulumi:disable-default-providers disables the default 'aws' provider (created at __main__.py:9)")


@pytest.mark.parametrize("stack", ["allowed", "other-package"])
def test_a_default_provider_that_is_not_disabled_is_used(stack: str, tmp_path: Path) -> None:
    out = tmp_path / "record.json"
    lz(FIXTURES / "default_provider_program", stack, "--json", str(out))
    [queue] = [r for r in json.loads(out.read_text())["resources"] if r["type"] == "aws:sqs/queue:Queue"]
    assert (queue["provider"], queue["account"]) == (None, "default")


def test_a_data_source_needs_an_explicit_provider_too() -> None:
    result = lz(FIXTURES / "default_provider_program", "data-source")
    assert result.exit_code == EXIT_INVALID
    assert "data source aws:index/getRegion:getRegion: called without an explicit provider" in result.output


def test_a_malformed_default_provider_setting_is_a_config_error() -> None:
    result = lz(FIXTURES / "default_provider_program", "not-a-list")
    assert result.exit_code == EXIT_INVALID
    [line] = error_lines(result.output)
    assert line.endswith("Pulumi.not-a-list.yaml: pulumi:disable-default-providers: 'aws' must be a list of "
                         "package names, e.g. [aws], or [\"*\"] for every package")


def test_a_reference_is_answered_with_the_referenced_stacks_outputs(tmp_path: Path) -> None:
    out = tmp_path / "record.json"
    assert lz(FIXTURES / "reference_program", "reader", "--json", str(out)).exit_code == EXIT_CLEAN
    assert json.loads(out.read_text())["outputs"] == {"name": "reader", "read": "base"}


@pytest.mark.parametrize(("stack", "says"), [
    ("cycle-a", "reference-program/cycle-b: StackReference 'cycle-a': stack reference cycle: cycle-a -> cycle-b -> cycle-a"),
    ("other-project", "reference-program/other-project: StackReference 'organization/another-project/base': lz renders "
                      "references to stacks of project 'reference-program' only"),
    ("reads-unknown-stack", "reference-program/reads-unknown-stack: StackReference 'no-such-stack': unknown stack "
                            "'no-such-stack' in "),
])
def test_a_reference_lz_cannot_answer_is_one_line(stack: str, says: str) -> None:
    result = lz(FIXTURES / "reference_program", stack)
    assert result.exit_code == EXIT_INVALID
    [line] = error_lines(result.output)
    assert line.startswith(f"error: {says}")


def test_a_foundation_stack_of_the_wrong_kind_is_one_line(tmp_path: Path) -> None:
    for entry in ("Pulumi.yaml", "__main__.py", "environments", "accounts", "components"):
        (tmp_path / entry).symlink_to(ROOT / entry)
    for stack in ("foundation", "sandbox"):
        (tmp_path / f"Pulumi.{stack}.yaml").symlink_to(ROOT / f"Pulumi.{stack}.yaml")
    dev = (ROOT / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.dev.yaml").write_text(dev.replace("open-banking-landing-zone/foundation",
                                                          "open-banking-landing-zone/sandbox"))
    result = lz(tmp_path, "dev")
    assert result.exit_code == EXIT_INVALID
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith("error: open-banking-landing-zone/dev: ")


def test_the_command_exits_2_with_one_line_as_a_process() -> None:
    """The installed entry point, not the test runner: no traceback, no click 'Aborted!', exit 2."""
    result = subprocess.run([sys.executable, "-m", "lz.cli", "preview", "--program", str(MISBEHAVING),
                             "--stack", "base-exception"], capture_output=True, text=True, timeout=120)
    line = (MISBEHAVING / "__main__.py").read_text().splitlines().index('    raise Vanished("the program is gone")') + 1
    assert result.returncode == EXIT_INVALID
    assert (result.stdout + result.stderr).strip().splitlines() == [
        f"error: misbehaving-program/base-exception: program error: Vanished: the program is gone (at __main__.py:{line})"]


def test_a_usage_error_exits_2_not_1() -> None:
    result = subprocess.run([sys.executable, "-m", "lz.cli", "preview"], capture_output=True, text=True, timeout=60)
    assert result.returncode == EXIT_INVALID
    assert "--stack" in result.stderr


def test_renders_within_limits_raise_render_errors_for_the_caller() -> None:
    with Renderer(Limits(timeout_s=2)) as renderer, pytest.raises(RenderError, match="wall-clock limit of 2 s"):
        renderer.render(Program.load(MISBEHAVING), "hang-at-import")
