"""What keeps lz's own test and bench runs honest: a finished render is reused only while the program's files
are unchanged, and the bench's prod copies are valid configs made outside the repository."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from environments.validation import load_environment
from lz import bench, pulumi_yaml
from lz.isolation import ForkServer
from lz.project import Program
from lz.render import Renderer
from tests.conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures"


def copy_of(source: Path, target: Path) -> Path:
    target.mkdir()
    for path in source.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def test_an_unchanged_stack_is_rendered_once_and_a_changed_one_again(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    program_dir = copy_of(FIXTURES / "reference_program", tmp_path / "program")
    forks: list[float] = []
    original = ForkServer.fork

    def counting(self: ForkServer, timeout_s: float):
        forks.append(timeout_s)
        return original(self, timeout_s)

    monkeypatch.setattr(ForkServer, "fork", counting)
    with Renderer() as renderer:
        program = Program.load(program_dir)
        assert renderer.render(program, "reader").outputs == {"name": "reader", "read": "base"}
        assert renderer.render(program, "base").outputs == {"name": "base"}  # rendered for reader: reused
        assert len(forks) == 2
        main = program_dir / "__main__.py"
        time.sleep(0.01)
        main.write_text(main.read_text() + "pulumi.export('changed', True)\n")
        assert renderer.render(program, "base").outputs == {"name": "base", "changed": True}
        assert len(forks) == 3
    with Renderer(reuse=False) as renderer:
        program = Program.load(program_dir)
        renderer.render(program, "base")
        renderer.render(program, "base")
    assert len(forks) == 5


def test_the_bench_copies_of_prod_have_their_own_names_ids_and_ranges() -> None:
    prod = pulumi_yaml.load(ROOT / "Pulumi.prod.yaml")
    environment = bench.with_workloads(prod, 40)["config"][bench.CONFIG_KEY]
    workloads = environment["workloads"]
    assert len(workloads) == 40
    ids = [w["accountId"] for w in workloads.values()]
    others = bench._account_ids({k: v for k, v in environment.items() if k != "workloads"})
    assert len(set(ids)) == 40 and not set(ids) & others
    nets = [ipaddress.IPv4Network(w["vpcCidr"]) for w in workloads.values()]
    taken = bench._networks({k: v for k, v in environment.items() if k != "workloads"})
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:] + taken)
    shipped = prod["config"][bench.CONFIG_KEY]["workloads"]
    assert {name: workloads[name] for name in shipped} == shipped  # the shipped accounts run what they run
    template = next(iter(shipped.values()))
    copies = [w for name, w in workloads.items() if name not in shipped]
    assert all(set(w) == set(template) - {"services", "ledger", "cache", "coreBankingFeed"} for w in copies)
    assert "directConnect" not in environment["network"] and environment["stage"] == "nonprod"
    for count in (1, 2, 5):  # every copy is a config the landing zone accepts
        assert load_environment(bench.with_workloads(prod, count)["config"][bench.CONFIG_KEY])
    assert prod["config"][bench.CONFIG_KEY]["workloads"] == pulumi_yaml.load(ROOT / "Pulumi.prod.yaml")[
        "config"][bench.CONFIG_KEY]["workloads"]  # the original is untouched


def test_the_bench_renders_prod_copies_outside_the_repository(tmp_path: Path) -> None:
    before = sorted(p.name for p in ROOT.iterdir())
    program, stacks = bench.scaling_program(tmp_path, (1, 2, 3))
    with Renderer(reuse=False) as renderer:
        one, two, three = (renderer.render(program, stack) for stack in stacks)
    accounts = {r["account"] for r in three.resources if r["custom"] and r["type"].startswith("aws:")}
    assert {"workload:ais", "workload:pis", "workload:wl03"} <= accounts
    # one workload account (and the identity account's Keycloak) runs services
    assert {r["account"] for r in one.resources if r["type"] == "aws:ecs/service:Service"} == {"workload:ais",
                                                                                            "identity"}
    assert len(three.resources) - len(two.resources) > 20
    assert sorted(p.name for p in ROOT.iterdir()) == before


def test_the_floor_is_measured_in_a_process_of_its_own() -> None:
    with bench.Floor() as floor:
        runs = [floor.run(50, tuned=False), floor.run(100, tuned=True)]
    assert all(seconds > 0 and peak_kib > 10_000 for seconds, peak_kib in runs)  # a process that imported the SDK


def test_lz_and_the_floors_are_measured_in_turn() -> None:
    """A machine that slows down for a minute (this one does) must slow both sides of a ratio, not one."""
    calls: list[str] = []

    class Floor:
        def run(self, count: int, tuned: bool) -> tuple[float, int]:
            calls.append(f"{'tuned' if tuned else 'floor'} {count}")
            return 2.0 if tuned else 4.0, 1024

    def render() -> Any:
        calls.append("lz")
        return SimpleNamespace(max_rss_kib=2048)

    measured = bench.timed(render, cast(bench.Floor, Floor()), 7, runs=3)
    assert calls == ["lz", "floor 7", "tuned 7"] * 4  # a warm-up of each, then three rounds
    assert (measured.floor_seconds, measured.tuned_seconds, measured.peak_kib) == (4.0, 2.0, 2048)
    assert len(measured.samples) == 3


FAKE_VALGRIND = """#!/bin/sh
# Stands in for valgrind: runs the command after the options and writes a cachegrind summary whose count
# is the number of resources the command printed times a thousand.
out=""
while [ "${1#--}" != "$1" ]; do
  case "$1" in --cachegrind-out-file=*) out="${1#--cachegrind-out-file=}";; esac
  shift
done
printed=$("$@") || exit $?
echo "$printed"
printf 'events: Ir\nsummary: %s000\n' "$printed" > "$out"
"""


def test_the_bench_counts_the_work_of_the_render_lz_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost per added workload account is judged on instructions: each counted render must be the render
    lz makes of that stack (the same request, its references' outputs, the same number of resources)."""
    program = Program.load(copy_of(FIXTURES / "reference_program", tmp_path / "program"))
    with Renderer() as renderer:
        reader = renderer.render(program, "reader")
        job = bench.work_job(renderer, program, reader)
    assert job["references"] == {"base": {"name": "base"}} and job["resources"] == len(reader.resources)
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "valgrind").write_text(FAKE_VALGRIND)
    (tools / "valgrind").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{sys.prefix}/bin:/usr/bin:/bin")
    broken = {**job, "references": {}}  # a StackReference it cannot answer: the render fails, and says where
    assert bench.count_work({1: job, 2: job, 3: job}) == {n: 1000 * len(reader.resources) for n in (1, 2, 3)}
    with pytest.raises(RuntimeError, match=r"the counted render of reader failed: .*KeyError: 'base'"):
        bench.count_work({1: job, 2: broken})
    with pytest.raises(RuntimeError, match="the counted render of reader failed"):
        bench.count_work({1: {**job, "resources": len(reader.resources) + 1}})  # not the render lz made
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert bench.count_work({1: job}) is None  # without valgrind nothing is counted, and the bench says so


def test_the_slope_growth_is_the_cost_per_account_from_20_to_40_over_the_one_from_10_to_20() -> None:
    assert bench.slopes({10: 1000.0, 20: 2000.0, 40: 4000.0}) == (100.0, 100.0, 1.0)
    assert bench.slopes({10: 1000.0, 20: 2000.0, 40: 5000.0}) == (100.0, 150.0, 1.5)
    assert bench.instructions("desc: x\nevents: Ir\nsummary: 27234937791\n") == 27234937791
    with pytest.raises(ValueError, match="no summary line"):
        bench.instructions("events: Ir\n")


def test_a_change_behind_a_symlinked_directory_is_seen(tmp_path: Path) -> None:
    """The bench's and tests' program copies link the landing zone's packages instead of copying them."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "__init__.py").write_text("")
    (shared / "values.py").write_text("ANSWER = 1\n")
    program_dir = tmp_path / "program"
    program_dir.mkdir()
    (program_dir / "shared").symlink_to(shared)
    (program_dir / "Pulumi.yaml").write_text("name: linked\nruntime: python\n")
    (program_dir / "Pulumi.dev.yaml").write_text("config: {}\n")
    (program_dir / "__main__.py").write_text(
        "import pulumi\nfrom shared.values import ANSWER\npulumi.export('answer', ANSWER)\n")
    with Renderer() as renderer:
        program = Program.load(program_dir)
        assert renderer.render(program, "dev").outputs == {"answer": 1}
        (shared / "values.py").write_text("ANSWER = 22\n")
        assert renderer.render(program, "dev").outputs == {"answer": 22}



@pytest.mark.parametrize(("command", "usage", "says"), [
    (["-m", "lz.bench"], "usage: python -m lz.bench", "the bare Pulumi SDK"),
    (["services/benchmark.py"], "usage: python services/benchmark.py", "latency and throughput"),
])
def test_the_benches_explain_themselves_on_help_and_refuse_what_they_do_not_know(
        command: list[str], usage: str, says: str) -> None:
    # `--help` used to start the run (ten minutes for lz's); now it prints what is measured, and anything else is
    # refused.
    helped = subprocess.run([sys.executable, *command, "--help"], capture_output=True, text=True, timeout=60,
                            cwd=ROOT, check=False)
    assert helped.returncode == 0 and helped.stdout.startswith(usage), helped.stderr
    assert says in " ".join(helped.stdout.split())
    refused = subprocess.run([sys.executable, *command, "--stacks", "prod"], capture_output=True, text=True,
                             timeout=60, cwd=ROOT, check=False)
    assert refused.returncode == 2 and "unrecognized arguments: --stacks prod" in refused.stderr


@pytest.mark.parametrize(("arguments", "says"), [
    (["work"], "unrecognized arguments: work"),
    (["work", "a", "b"], "unrecognized arguments: work a b"),
    (["floor", "10"], "unrecognized arguments: floor 10"),
    (["work", "/nonexistent/job.json"], "/nonexistent/job.json: not a job the bench wrote (FileNotFoundError"),
    (["work", "/dev/null"], "/dev/null: not a job the bench wrote (JSONDecodeError"),
    (["work", "/proc/self/cmdline"], "not a job the bench wrote"),
])
def test_the_bench_s_own_subcommands_refuse_what_is_not_theirs_in_one_line(arguments: list[str], says: str) -> None:
    run = subprocess.run([sys.executable, "-m", "lz.bench", *arguments], capture_output=True, text=True,
                         timeout=60, cwd=ROOT, check=False)
    assert run.returncode == 2 and says in run.stderr and "Traceback" not in run.stderr, run.stderr
