"""`make bench`: what lz costs on top of the bare Pulumi SDK, per stack and as the prod stack grows.

lz's figure is the wall time of `Renderer.render` as lz's own process sees it: the render processes
(forked warm from lz's fork server: the SDK and the provider modules the program uses already
imported), the program itself, lz's realistic mocks and record, the message that carries the record
back and its checks, and the render of each referenced stack (lz keeps no render between runs here).

The floor is the bare SDK doing the least work that registers as many resources: a program creating
one provider and plain `aws.sqs.Queue`s, as many as lz records for the stack *and* for every stack it
references, in one pass, under the simplest mocks (inputs echoed back), in a process forked from one
that has imported the SDK, with the interpreter's default settings. The ratio lz / floor is what the
landing zone's own code, its config validation and lz add to the SDK. Target: at most 1.5 for every
stack and every row of the scaling table, and a cost per workload account that does not grow with the
number of accounts.

The scaling table renders copies of the prod stack with 1, 5, 10, 20 and 40 workload accounts, made
from the `workloads:` entries of Pulumi.prod.yaml in a temporary directory; nothing is written into the
repository. One account runs every shipped service (each service runs in exactly one account); with more,
the shipped accounts keep theirs and the others are copies of the first without services (each with its
own name, account id and CIDR). The environment config
allows at most 20 prefixes over a Direct Connect gateway association (16 workload accounts with three
AZs), so every copy leaves Direct Connect out (the VPN stays) and is judged as nonprod, which is the
stage that may go without it; each row is otherwise prod's config.
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.table import Table

from . import pulumi_yaml
from .project import Program
from .render import Renderer, Rendering
from .report import make_console

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("foundation", "sandbox", "dev", "prod")
WORKLOAD_COUNTS = (1, 5, 10, 20, 40)
RUNS = 3
TARGET_RATIO = 1.5
#: The cost per added workload account from 20 to 40 may exceed the one from 10 to 20 by this much.
TARGET_SLOPE_GROWTH = 1.25
CONFIG_KEY = "landingzone:environment"
#: What the scaling copies of the program are made of (symlinked; the stack files are written).
PROGRAM_ENTRIES = ("Pulumi.yaml", "__main__.py", "environments", "accounts", "components")

FLOOR_PROGRAM = '''
import pulumi
import pulumi_aws as aws

count = pulumi.Config().require_int("count")
provider = aws.Provider("floor", region="eu-west-2")
for i in range(count - 1):
    aws.sqs.Queue(f"queue-{i}", opts=pulumi.ResourceOptions(provider=provider))
pulumi.export("count", count)
'''


# -- the floor: the bare SDK, measured in a process of its own -----------------------------------------

def _floor_child(program: str, count: int, tuned: bool, write_fd: int) -> None:
    """One floor run in a forked process: the SDK's own mocks and a fresh runtime, tuned as lz's render
    processes are (or with the interpreter's defaults)."""
    import asyncio

    import pulumi
    import pulumi.runtime

    from .render_process import tune_runtime

    if tuned:
        tune_runtime()

    class EchoMocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
            return {}, []

    code = compile(program, "floor.py", "exec")

    @pulumi.runtime.test  # the SDK's own way to run code under mocks and wait for every registration
    def run() -> None:
        exec(code, {"__name__": "__main__"})

    start = time.perf_counter()
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_mocks(EchoMocks(), project="floor", stack="bench", preview=False)
    pulumi.runtime.set_all_config({"floor:count": str(count)})
    run()
    seconds = time.perf_counter() - start
    report = {"seconds": seconds, "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    os.write(write_fd, json.dumps(report).encode())
    os._exit(0)


def floor_server(counts: list[int], runs: int, tuned: bool) -> None:
    """`python -m lz.bench floor RUNS tuned|defaults COUNT...`: import the SDK once, then fork one process
    per run (the first of each count is a warm-up); print {count: [seconds, peak KiB]} as JSON."""
    import pulumi
    import pulumi.runtime  # noqa: F401
    import pulumi_aws

    pulumi_aws.sqs.Queue  # noqa: B018  the lazy provider module loads on first use

    results: dict[int, list[float]] = {}
    for count in counts:
        samples = []
        for run in range(runs + 1):
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_fd)
                _floor_child(FLOOR_PROGRAM, count, tuned, write_fd)
            os.close(write_fd)
            data = b""
            while chunk := os.read(read_fd, 65536):
                data += chunk
            os.close(read_fd)
            os.waitpid(pid, 0)
            if run:
                samples.append(json.loads(data))
        results[count] = [statistics.median(s["seconds"] for s in samples),
                          max(s["max_rss_kib"] for s in samples)]
    print(json.dumps(results))


def measure_floor(counts: list[int], runs: int = RUNS, tuned: bool = True) -> dict[int, tuple[float, int]]:
    """Floor seconds (median) and peak KiB for each resource count, from a clean process."""
    mode = "tuned" if tuned else "defaults"
    output = subprocess.run([sys.executable, "-m", "lz.bench", "floor", str(runs), mode, *map(str, counts)],
                            check=True, capture_output=True, text=True, cwd="/").stdout
    return {int(k): (v[0], int(v[1])) for k, v in json.loads(output).items()}


# -- lz ---------------------------------------------------------------------------------------------

def registered(renderer: Renderer, program: Program, rendering: Rendering) -> int:
    """Resources registered for this render: the stack's own and those of every stack it references."""
    count = len(rendering.resources)
    for reference in rendering.references:
        count += registered(renderer, program, renderer.render(program, reference))
    return count


def timed(fn: Callable[[], Rendering], runs: int = RUNS) -> tuple[float, int]:
    """(median wall seconds over `runs` runs after a warm-up, peak KiB of the render processes)."""
    fn()
    times, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        rendering = fn()
        times.append(time.perf_counter() - start)
        peaks.append(rendering.max_rss_kib)
    return statistics.median(times), max(peaks)


# -- the scaling copies of prod -----------------------------------------------------------------------

def _networks(value: Any) -> list[ipaddress.IPv4Network]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _networks(v)]
    if isinstance(value, list):
        return [n for v in value for n in _networks(v)]
    if isinstance(value, str) and "/" in value:
        try:
            return [ipaddress.IPv4Network(value, strict=False)]
        except ValueError:
            return []
    return []


def _account_ids(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {i for v in value.values() for i in _account_ids(v)}
    if isinstance(value, list):
        return {i for v in value for i in _account_ids(v)}
    return {value} if isinstance(value, str) and len(value) == 12 and value.isdigit() else set()


#: What makes a workload account run something; a bench copy beyond the shipped accounts runs nothing.
_SERVICE_KEYS = ("services", "ledger", "cache", "coreBankingFeed")


def with_workloads(stack_doc: dict[str, Any], count: int) -> dict[str, Any]:
    """The stack document with `count` workload accounts: one running every shipped service, or the shipped
    accounts plus copies of the first without services, each with a name, an account id and a CIDR of its
    own (of the same size, overlapping nothing in the config)."""
    doc = copy.deepcopy(stack_doc)
    environment = doc["config"][CONFIG_KEY]
    shipped: dict[str, Any] = environment["workloads"]
    template = next(iter(shipped.values()))
    if count == 1:  # every service in one account: the first's stores, everyone's services
        merged = copy.deepcopy(template)
        merged["services"] = {k: v for w in shipped.values() for k, v in (w.get("services") or {}).items()}
        environment["workloads"] = {next(iter(shipped)): merged}
        base: dict[str, Any] = {}
    else:
        base = dict(list(shipped.items())[:count])
    size = ipaddress.IPv4Network(template["vpcCidr"], strict=False).prefixlen
    taken = _networks({k: v for k, v in environment.items() if k != "workloads"} | {"workloads": base})
    ids = _account_ids({k: v for k, v in environment.items() if k != "workloads"} | {"workloads": base})
    candidates = (n for n in ipaddress.IPv4Network("10.128.0.0/9").subnets(new_prefix=size)
                  if not any(n.overlaps(t) for t in taken))
    next_id = int(template["accountId"])
    workloads = dict(base) if count > 1 else environment["workloads"]
    bare = {k: v for k, v in template.items() if k not in _SERVICE_KEYS}
    for i in range(len(workloads), count):
        next_id += 1
        while f"{next_id:012d}" in ids:
            next_id += 1
        entry = copy.deepcopy(bare)
        entry |= {"accountId": f"{next_id:012d}", "vpcCidr": str(next(candidates)),
                  "description": f"{template.get('description', 'workload')} (bench copy {i + 1})"}
        workloads[f"wl{i + 1:02d}"] = entry
    environment["workloads"] = workloads
    network = environment.get("network") or {}
    if network.pop("directConnect", None) is not None:
        environment["stage"] = "nonprod"  # the stage that may go without Direct Connect
    return doc


def scaling_program(directory: Path, counts: tuple[int, ...]) -> tuple[Program, list[str]]:
    """A copy of the program in `directory` with one stack per workload count (`prod-w<count>`), each
    referencing the foundation stack as prod does."""
    for entry in PROGRAM_ENTRIES:
        (directory / entry).symlink_to(ROOT / entry)
    prod = pulumi_yaml.load(ROOT / "Pulumi.prod.yaml")
    shutil.copy(ROOT / "Pulumi.foundation.yaml", directory)
    stacks = []
    for count in counts:
        doc = with_workloads(prod, count)
        doc["config"][CONFIG_KEY]["name"] = "prod"
        stack = f"prod-w{count}"
        (directory / f"Pulumi.{stack}.yaml").write_text(json.dumps(doc, indent=1))  # JSON is YAML
        stacks.append(stack)
    return Program.load(directory), stacks


# -- the report --------------------------------------------------------------------------------------

def end_to_end(stack: str, count: int, runs: int = 3) -> tuple[float, float]:
    """Seconds of `lz preview --stack STACK` in a fresh process, as CI runs it (render, policy pack,
    reachability, report), and of a fresh process running the floor program with the SDK's defaults."""
    bare = ("import asyncio, pulumi, pulumi.runtime\n"
            "class M(pulumi.runtime.Mocks):\n"
            "    def new_resource(self, args): return args.name + '-id', dict(args.inputs)\n"
            "    def call(self, args): return {}, []\n"
            "asyncio.set_event_loop(asyncio.new_event_loop())\n"
            "pulumi.runtime.set_mocks(M(), project='floor', stack='bench', preview=False)\n"
            f"pulumi.runtime.set_all_config({{'floor:count': '{count}'}})\n"
            f"pulumi.runtime.test(lambda: exec({FLOOR_PROGRAM!r}, {{}}))()\n")
    commands = {"lz": [sys.executable, "-m", "lz.cli", "preview", "--program", str(ROOT), "--stack", stack,
                       "--json", os.devnull],
                "sdk": [sys.executable, "-c", bare]}
    seconds = {}
    for name, command in commands.items():
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(command, check=name == "sdk", capture_output=True, cwd=ROOT)
            samples.append(time.perf_counter() - start)
        seconds[name] = statistics.median(samples)
    return seconds["lz"], seconds["sdk"]


def main() -> None:
    if sys.argv[1:2] == ["floor"]:
        floor_server([int(c) for c in sys.argv[4:]], int(sys.argv[2]), sys.argv[3] == "tuned")
        return
    # No options: the parser is there so that `--help` explains rather than starting a ten-minute run, and so
    # that anything else is refused.
    argparse.ArgumentParser(
        prog="python -m lz.bench", description=(__doc__ or "").split("\n\n")[0],
        epilog="Takes about ten minutes on two cores; run it on an otherwise idle machine.").parse_args()
    console = make_console(width=150)
    program = Program.load(ROOT)
    with Renderer(reuse=False) as renderer, tempfile.TemporaryDirectory() as tmp:
        scaled, scaled_stacks = scaling_program(Path(tmp), WORKLOAD_COUNTS)
        rows: list[tuple[str, Program, str]] = [(s, program, s) for s in STACKS]
        rows += [(str(c), scaled, s) for c, s in zip(WORKLOAD_COUNTS, scaled_stacks, strict=True)]
        counts = {label: registered(renderer, prog, renderer.render(prog, stack)) for label, prog, stack in rows}
        measured = {label: timed(lambda p=prog, s=stack: renderer.render(p, s)) for label, prog, stack in rows}
    floor = measure_floor(sorted(set(counts.values())), tuned=False)
    tuned = measure_floor(sorted(set(counts.values())), tuned=True)

    console.print(f"The floor: one provider and plain aws.sqs.Queues, as many as lz registers (referenced stacks "
                  f"included), in one pass, under the SDK's own mocks echoing inputs, in a process forked warm, with "
                  f"the interpreter's defaults: the bare SDK. The tuned floor runs the same program as lz runs its "
                  f"render processes (collector tuned, source positions only): its ratio is what the landing zone's "
                  f"own code and lz's recording add. Medians of {RUNS} runs after a warm-up; peak memory is the "
                  f"resident set of the process that rendered.", soft_wrap=True)
    worst = 0.0
    columns = ("resources", "lz s", "floor s", "ratio", "tuned floor s", "ratio to tuned", "lz ms/resource",
               "lz peak MiB", "floor peak MiB")
    tables = (Table(title=f"the shipped stacks (target: ratio <= {TARGET_RATIO})", title_justify="left"),
              Table(title="prod with N workload accounts (copies of Pulumi.prod.yaml's first workload; "
                          "no Direct Connect, stage nonprod)", title_justify="left"))
    for table, first in zip(tables, ("stack", "workload accounts"), strict=True):
        table.add_column(first)
        for column in columns:
            table.add_column(column, justify="right")
    for index, (label, _, _) in enumerate(rows):
        seconds, peak = measured[label]
        count = counts[label]
        floor_seconds, floor_peak = floor[count]
        ratio = seconds / floor_seconds
        worst = max(worst, ratio)
        tables[index >= len(STACKS)].add_row(
            label, str(count), f"{seconds:.2f}", f"{floor_seconds:.2f}", f"{ratio:.2f}", f"{tuned[count][0]:.2f}",
            f"{seconds / tuned[count][0]:.2f}", f"{1000 * seconds / count:.2f}", f"{peak / 1024:.0f}",
            f"{floor_peak / 1024:.0f}")
    for table in tables:
        console.print(table)

    by_count = {c: (measured[str(c)][0], counts[str(c)]) for c in WORKLOAD_COUNTS}
    low = (by_count[20][0] - by_count[10][0]) / 10
    high = (by_count[40][0] - by_count[20][0]) / 20
    growth = high / low if low > 0 else float("inf")
    console.print(f"seconds per added workload account: {low:.3f} from 10 to 20, {high:.3f} from 20 to 40 "
                  f"(x{growth:.2f}; target <= x{TARGET_SLOPE_GROWTH}); "
                  f"{(by_count[40][1] - by_count[10][1]) / 30:.0f} resources per workload account")
    lz_seconds, sdk_seconds = end_to_end("prod", counts["prod"])
    console.print(f"end to end, a fresh process each, as CI runs it: `lz preview --stack prod` {lz_seconds:.2f} s "
                  f"(render, policy pack, reachability, report); the bare SDK registering {counts['prod']} queues "
                  f"{sdk_seconds:.2f} s (x{lz_seconds / sdk_seconds:.2f}, for information)")
    ok = worst <= TARGET_RATIO and growth <= TARGET_SLOPE_GROWTH
    verdict = "within target" if ok else "above target"
    console.print(f"worst time ratio {worst:.2f}, slope growth x{growth:.2f}: {verdict}", style="green" if ok else "red")


if __name__ == "__main__":
    main()
