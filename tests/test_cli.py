"""The `lz` command line: exit codes, messages, the JSON record, `--program`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lz.cli import EXIT_CLEAN, EXIT_INVALID, EXIT_VIOLATIONS, app
from tests.conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def lz(*args: str, program: Path | None = ROOT):
    """`lz ARGS --program PROGRAM` as a user runs it (in this process, sharing its render processes)."""
    preview_here = program is not None and args[0] == "preview" and "--program" not in args
    where = ["--program", str(program)] if preview_here else []
    return runner.invoke(app, [*args, *where], catch_exceptions=False, env={"COLUMNS": "250"})


@pytest.fixture()
def project_copy(tmp_path: Path) -> Path:
    """A copy of the landing-zone program whose stack files a test may break."""
    for item in ("Pulumi.yaml", "__main__.py", "environments", "accounts", "components", "truststores"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / item)
    for stack in ("foundation", "dev"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path)
    return tmp_path


def test_preview_of_a_stack_with_a_reference_prints_no_python_noise() -> None:
    """As a user runs it (a process of its own, default warning filters): the first pass that stops at the
    stack reference must not surface as warnings or tracebacks."""
    result = subprocess.run([sys.executable, "-m", "lz.cli", "preview", "--stack", "dev", "--json", os.devnull],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == EXIT_CLEAN, result.stdout + result.stderr
    for noise in ("Warning", "Traceback", "never retrieved", "never awaited"):
        assert noise not in result.stdout + result.stderr


def test_preview_dev_prints_each_account_and_exits_clean() -> None:
    result = lz("preview", "--stack", "dev")
    assert result.exit_code == EXIT_CLEAN, result.output
    for account in ("network (200000000001)", "identity (200000000002)", "api (200000000003)",
                    "workload:ais (200000000004)", "workload:pis (200000000005)"):
        assert f"account {account}" in result.output
    assert "reads the outputs of stack foundation (rendered for it)" in result.output


def test_tree_shows_components_and_protection() -> None:
    result = lz("preview", "--stack", "prod", "--tree")
    assert result.exit_code == EXIT_CLEAN, result.output
    assert "openbanking:environment:Environment prod" in result.output
    assert "protected" in result.output


def test_json_record_has_the_documented_schema(tmp_path: Path) -> None:
    out = tmp_path / "dev.json"
    assert lz("preview", "--stack", "dev", "--json", str(out)).exit_code == EXIT_CLEAN
    record = json.loads(out.read_text())
    assert set(record) == {"stack", "project", "resources", "outputs", "violations", "reachability"}
    assert record["reachability"]["matrix"]["edge"]["workloads"] == {
        "reaches": False, "path": "blackhole", "coverage": "all", "returns": False}
    assert (record["stack"], record["project"]) == ("dev", "open-banking-landing-zone")
    assert record["violations"] == []
    # an account key (the record's order follows registration, which the engine does not fix)
    key = next(r for r in record["resources"] if r["type"] == "aws:kms/key:Key"
               and r["name"].endswith("-baseline-account-key"))
    assert set(key) >= {"urn", "type", "name", "parent", "account", "account_id", "region", "inputs", "options"}
    assert key["urn"].startswith("urn:pulumi:dev::open-banking-landing-zone::")
    assert key["inputs"]["enableKeyRotation"] is True  # camelCase, as the engine sees it
    assert key["options"]["protect"] is False
    assert key["outputs"]["arn"].startswith(f"arn:aws:kms:eu-west-2:{key['account_id']}:key/")


def test_unknown_stack_lists_the_stacks_there_are() -> None:
    result = lz("preview", "--stack", "staging")
    assert result.exit_code == EXIT_INVALID
    assert "unknown stack 'staging'" in result.output
    assert "dev, foundation, prod, sandbox" in result.output


def test_broken_config_is_one_line_per_problem_without_traceback(project_copy: Path) -> None:
    stack_file = project_copy / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace('api: "200000000003"', 'api: "12345"'))
    result = lz("preview", "--program", str(project_copy), "--stack", "dev")
    assert result.exit_code == EXIT_INVALID
    assert "landingzone:environment.accounts.api: '12345' is not a 12-digit AWS account id" in result.output
    assert "Traceback" not in result.output


def test_broken_config_writes_no_record(project_copy: Path, tmp_path: Path) -> None:
    stack_file = project_copy / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("region: eu-west-2", "region: eu-west-9"))
    out = tmp_path / "dev.json"
    result = lz("preview", "--program", str(project_copy), "--stack", "dev", "--json", str(out))
    assert result.exit_code == EXIT_INVALID
    assert "is not a known AWS region" in result.output
    assert not out.exists()


def test_program_error_is_reported_with_its_location(project_copy: Path) -> None:
    main = project_copy / "__main__.py"
    main.write_text(main.read_text() + "\nraise ValueError('the network plan is not ready')\n")
    result = lz("preview", "--program", str(project_copy), "--stack", "dev")
    assert result.exit_code == EXIT_INVALID
    assert "program error: ValueError: the network plan is not ready (at __main__.py:" in result.output
    assert "Traceback" not in result.output


def test_resource_without_provider_is_refused_when_defaults_are_disabled(project_copy: Path) -> None:
    main = project_copy / "__main__.py"
    main.write_text(main.read_text() + "\nimport pulumi_aws as aws\naws.sqs.Queue('stray')\n")
    line = main.read_text().splitlines().index("aws.sqs.Queue('stray')") + 1
    result = lz("preview", "--program", str(project_copy), "--stack", "dev")
    assert result.exit_code == EXIT_INVALID
    assert "aws:sqs/queue:Queue::stray: has no explicit provider" in result.output
    assert f"(created at __main__.py:{line})" in result.output


def test_program_renders_another_teams_program() -> None:
    result = lz("preview", "--program", str(FIXTURES / "team_program"), "--stack", "dev")
    assert result.exit_code == EXIT_CLEAN, result.output
    assert "payments-team-service / dev" in result.output
    assert "account payments (555555555555)" in result.output


def test_program_and_landing_zone_keep_their_own_components_packages(tmp_path: Path) -> None:
    out = tmp_path / "team.json"
    assert lz("preview", "--program", str(FIXTURES / "team_program"), "--stack", "dev",
              "--json", str(out)).exit_code == EXIT_CLEAN
    assert lz("preview", "--stack", "sandbox").exit_code == EXIT_CLEAN
    types = {r["type"] for r in json.loads(out.read_text())["resources"]}
    assert "payments:messaging:EncryptedQueue" in types


def test_program_without_pulumi_yaml_is_a_clear_error(tmp_path: Path) -> None:
    result = lz("preview", "--program", str(tmp_path), "--stack", "dev")
    assert result.exit_code == EXIT_INVALID
    assert "no Pulumi.yaml here" in result.output


def test_without_program_lz_renders_the_project_it_stands_in(project_copy: Path, monkeypatch) -> None:
    """As `pulumi` does: the nearest Pulumi.yaml at or above the current directory."""
    monkeypatch.chdir(project_copy / "components")
    result = lz("preview", "--stack", "dev", program=None)
    assert result.exit_code == EXIT_CLEAN, result.output
    assert "open-banking-landing-zone / dev" in result.output
    (project_copy / "Pulumi.yaml").rename(project_copy / "Pulumi.yml.disabled")
    result = lz("preview", "--stack", "dev", program=None)
    assert result.exit_code == EXIT_INVALID
    assert "no Pulumi.yaml here or in any directory above" in result.output


def test_a_mandatory_violation_exits_1(project_copy: Path) -> None:
    account = project_copy / "components" / "account_baseline.py"
    account.write_text(account.read_text().replace("block_public_policy=True", "block_public_policy=False", 1))
    result = lz("preview", "--program", str(project_copy), "--stack", "dev", "--policy-config",
                str(ROOT / "policies" / "config" / "dev.json"))
    assert result.exit_code == EXIT_VIOLATIONS
    assert "ob-s3-account-pab" in result.output


def test_policies_lists_the_pack(tmp_path: Path) -> None:
    out = tmp_path / "policies.json"
    result = lz("policies", "--json", str(out))
    assert result.exit_code == EXIT_CLEAN
    rows = json.loads(out.read_text())
    ids = {row["id"] for row in rows}
    assert {"ob-s3-pab", "ob-apigw-mtls", "ob-explicit-provider"} <= ids
    assert all(row["frameworks"] and row["severity"] for row in rows)


def test_a_config_error_keeps_the_brackets_of_its_pattern(tmp_path: Path) -> None:
    for item in ("Pulumi.yaml", "__main__.py", "environments", "accounts", "components", "Pulumi.foundation.yaml"):
        (tmp_path / item).symlink_to(ROOT / item)
    prod = (ROOT / "Pulumi.prod.yaml").read_text()
    (tmp_path / "Pulumi.prod.yaml").write_text(prod.replace("connectionId: dxcon-ex4mp1e1", "connectionId: dxcon-BAD"))
    result = lz("preview", "--program", str(tmp_path), "--stack", "prod")
    assert result.exit_code == EXIT_INVALID
    assert "'dxcon-BAD'" in result.output
    assert "'^dxcon-[a-z0-9]{8}$'" in result.output
