"""What keeps lz's own test and bench runs honest: a finished render is reused only while the program's files
are unchanged, and the bench's prod copies are valid configs made outside the repository."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
from pathlib import Path

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
    floor = bench.measure_floor([50, 100], runs=1)
    assert set(floor) == {50, 100}
    assert all(seconds > 0 and peak_kib > 10_000 for seconds, peak_kib in floor.values())


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
