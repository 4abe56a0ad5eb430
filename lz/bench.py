"""`make bench`: what lz costs on top of the bare Pulumi SDK, per stack and as the prod stack grows.

lz's figure is the wall time of `Renderer.render` as lz's own process sees it: the render processes
(forked warm from lz's fork server: the SDK and the provider modules the program uses already
imported), the program itself, lz's realistic mocks and record, the message that carries the record
back and its checks, and the render of each referenced stack (lz keeps no render between runs here).

The floor is the bare SDK doing the least work that registers as many resources: a program creating
one provider and plain `aws.sqs.Queue`s, as many as lz records for the stack *and* for every stack it
references, in one pass, under the simplest mocks (inputs echoed back), in a process forked from one
that has imported the SDK, with the interpreter's default settings. lz's renders and the floor's runs
are taken in turn, so that a machine slowing down for a while slows both. The ratio lz / floor is what the
landing zone's own code, its config validation and lz add to the SDK. Target: at most 1.5 for every
stack and every row of the scaling table, and a cost per workload account that does not grow with the
number of accounts.

That last target is judged on work, not on time: valgrind's instruction counter (cachegrind) counts
what rendering prod with 10, 20 and 40 workload accounts executes, each render run in a process of its
own as a render process runs it, and the instructions per added account from 20 to 40 may exceed those
from 10 to 20 by at most 5%. Counts of one render repeat within a fraction of a percent; the seconds per
added account are printed too, but on a shared two-core machine the same render's seconds move by a
quarter from run to run, which a slope taken over one to four seconds magnifies. Without valgrind the
work is not counted and the bench says so.

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from . import pulumi_yaml
from .project import Program, ProgramError
from .render import Renderer, Rendering, referenced_stack, render_request
from .report import make_console

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("foundation", "sandbox", "dev", "prod")
WORKLOAD_COUNTS = (1, 5, 10, 20, 40)
RUNS = 3
TARGET_RATIO = 1.5
#: The instructions per added workload account from 20 to 40 may exceed those from 10 to 20 by this much.
TARGET_WORK_GROWTH = 1.05
#: The workload counts whose renders are counted in instructions (each takes minutes under valgrind).
WORK_COUNTS = (10, 20, 40)
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


def floor_server() -> None:
    """`python -m lz.bench floor`: import the SDK once, then for each line `COUNT tuned|defaults` read on
    stdin, fork one process that runs the floor program and print its {"seconds", "max_rss_kib"} as a line."""
    import pulumi
    import pulumi.runtime  # noqa: F401
    import pulumi_aws

    pulumi_aws.sqs.Queue  # noqa: B018  the lazy provider module loads on first use

    for line in sys.stdin:
        count, mode = line.split()
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _floor_child(FLOOR_PROGRAM, int(count), mode == "tuned", write_fd)
        os.close(write_fd)
        data = b""
        while chunk := os.read(read_fd, 65536):
            data += chunk
        os.close(read_fd)
        os.waitpid(pid, 0)
        print(data.decode(), flush=True)


class Floor:
    """The floor, run on request in a process of its own that imported the SDK once: the bench runs it
    between lz's renders, so that both see the machine as it is at that moment."""

    def __init__(self) -> None:
        self._process = subprocess.Popen([sys.executable, "-m", "lz.bench", "floor"], cwd="/", text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def __enter__(self) -> Floor:
        return self

    def __exit__(self, *_: object) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait()

    def run(self, count: int, tuned: bool) -> tuple[float, int]:
        """Seconds and peak KiB of one floor run registering `count` resources."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(f"{count} {'tuned' if tuned else 'defaults'}\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the floor process ended (exit status {self._process.wait()})")
        if not line.strip():
            raise RuntimeError(f"a floor run of {count} resources ended without a report")
        report = json.loads(line)
        return report["seconds"], report["max_rss_kib"]


# -- the work: instructions counted by valgrind -----------------------------------------------------

def work_child(job_path: str) -> None:
    """`python -m lz.bench work JOB`: render one stack in this process as a render process does (the
    outputs of the stacks it references are in the job file); print how many resources it registered."""
    from . import render_process

    try:
        job = json.loads(Path(job_path).read_text())
        program = Program.load(Path(job["request"]["directory"]))
        references: dict[str, Any] = job["references"]
    except (OSError, ValueError, KeyError, TypeError, ProgramError) as exc:
        print(f"python -m lz.bench work: {job_path}: not a job the bench wrote ({type(exc).__name__}: {exc})",
              file=sys.stderr)
        sys.exit(2)
    message = render_process.render(job["request"], lambda name: references[referenced_stack(program, name)])
    if message["type"] != "result":
        print(message["message"], file=sys.stderr, flush=True)
        os._exit(2)
    print(len(message["resources"]), flush=True)
    os._exit(0)  # as a render process ends: nothing the program left running is counted


def instructions(cachegrind_output: str) -> int:
    """The instructions executed, from a cachegrind output file's `summary:` line (Ir comes first)."""
    for line in cachegrind_output.splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise ValueError("no summary line in the cachegrind output")


def work_job(renderer: Renderer, program: Program, rendering: Rendering) -> dict[str, Any]:
    """What `work_child` renders: the request lz sent for `rendering`, the outputs of the stacks it
    referenced, and the number of resources the counted render must register (the same render)."""
    return {"request": render_request(program, rendering.stack, program.config(rendering.stack), renderer.limits),
            "references": {r: renderer.render(program, r).outputs for r in rendering.references},
            "resources": len(rendering.resources)}


def count_work(jobs: dict[int, dict[str, Any]]) -> dict[int, int] | None:
    """Instructions executed to render each job, each in a process of its own under cachegrind (as many at
    once as there are cores; the count does not depend on it), or None when valgrind is not installed."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:

        def count(key: int) -> int:
            job = jobs[key]
            job_file, output = Path(tmp) / f"{key}.json", Path(tmp) / f"{key}.cachegrind"
            job_file.write_text(json.dumps(job))
            done = subprocess.run([valgrind, "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={output}",
                                   sys.executable, "-m", "lz.bench", "work", str(job_file)],
                                  cwd="/", text=True, capture_output=True, check=False)
            if done.returncode != 0 or done.stdout.strip() != str(job["resources"]):
                lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("==")]
                raise RuntimeError(f"the counted render of {job['request']['stack']} failed: "
                                   f"{lines[-1] if lines else done.stdout.strip()}")
            return instructions(output.read_text())

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return dict(zip(jobs, pool.map(count, jobs), strict=True))


def slopes(values: dict[int, float]) -> tuple[float, float, float]:
    """Per added workload account from 10 to 20 and from 20 to 40, and how much the second exceeds the first."""
    low = (values[20] - values[10]) / 10
    high = (values[40] - values[20]) / 20
    return low, high, (high / low if low > 0 else float("inf"))


# -- lz ---------------------------------------------------------------------------------------------

def registered(renderer: Renderer, program: Program, rendering: Rendering) -> int:
    """Resources registered for this render: the stack's own and those of every stack it references."""
    count = len(rendering.resources)
    for reference in rendering.references:
        count += registered(renderer, program, renderer.render(program, reference))
    return count


@dataclass
class Measured:
    """One row: lz's renders and the floors' runs, taken in turn (medians; peaks are the largest seen)."""

    seconds: float
    peak_kib: int
    #: Every render's seconds, to show how much the machine moved.
    samples: list[float]
    floor_seconds: float
    floor_peak_kib: int
    tuned_seconds: float


def timed(render: Callable[[], Rendering], floor: Floor, count: int, runs: int = RUNS) -> Measured:
    """Render, then run the floor and the tuned floor for as many resources, `runs` times in turn after a
    warm-up of each: a machine that slows down for a while slows both sides of the ratio."""
    render()
    floor.run(count, tuned=False)
    floor.run(count, tuned=True)
    times, peaks, floors, floor_peaks, tuned = [], [], [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        rendering = render()
        times.append(time.perf_counter() - start)
        peaks.append(rendering.max_rss_kib)
        seconds, peak = floor.run(count, tuned=False)
        floors.append(seconds)
        floor_peaks.append(peak)
        tuned.append(floor.run(count, tuned=True)[0])
    return Measured(statistics.median(times), max(peaks), times, statistics.median(floors), max(floor_peaks),
                    statistics.median(tuned))


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
    # The bench's own processes (the floor, a counted render); any other arguments go to the parser below.
    if sys.argv[1:] == ["floor"]:
        floor_server()
        return
    if len(sys.argv) == 3 and sys.argv[1] == "work":
        work_child(sys.argv[2])
        return
    # No options: the parser is there so that `--help` explains rather than starting a ten-minute run, and so
    # that anything else is refused.
    argparse.ArgumentParser(
        prog="python -m lz.bench", description=(__doc__ or "").split("\n\n")[0],
        epilog="Takes about fifteen minutes on two cores; run it on an otherwise idle machine.").parse_args()
    console = make_console(width=150)
    program = Program.load(ROOT)
    with Renderer(reuse=False) as renderer, tempfile.TemporaryDirectory() as tmp, Floor() as floor:
        scaled, scaled_stacks = scaling_program(Path(tmp), WORKLOAD_COUNTS)
        rows: list[tuple[str, Program, str]] = [(s, program, s) for s in STACKS]
        rows += [(str(c), scaled, s) for c, s in zip(WORKLOAD_COUNTS, scaled_stacks, strict=True)]
        counts = {label: registered(renderer, prog, renderer.render(prog, stack)) for label, prog, stack in rows}
        measured = {label: timed(lambda p=prog, s=stack: renderer.render(p, s), floor, counts[label])
                    for label, prog, stack in rows}
        work = count_work({c: work_job(renderer, scaled, renderer.render(scaled, s))
                           for c, s in zip(WORKLOAD_COUNTS, scaled_stacks, strict=True) if c in WORK_COUNTS})

    console.print(f"The floor: one provider and plain aws.sqs.Queues, as many as lz registers (referenced stacks "
                  f"included), in one pass, under the SDK's own mocks echoing inputs, in a process forked warm, with "
                  f"the interpreter's defaults: the bare SDK. The tuned floor runs the same program as lz runs its "
                  f"render processes (collector tuned, source positions only): its ratio is what the landing zone's "
                  f"own code and lz's recording add. Medians of {RUNS} runs after a warm-up, lz and the floors "
                  f"in turn; peak memory is the resident set of the process that rendered.", soft_wrap=True)
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
        m, count = measured[label], counts[label]
        ratio = m.seconds / m.floor_seconds
        worst = max(worst, ratio)
        tables[index >= len(STACKS)].add_row(
            label, str(count), f"{m.seconds:.2f}", f"{m.floor_seconds:.2f}", f"{ratio:.2f}", f"{m.tuned_seconds:.2f}",
            f"{m.seconds / m.tuned_seconds:.2f}", f"{1000 * m.seconds / count:.2f}", f"{m.peak_kib / 1024:.0f}",
            f"{m.floor_peak_kib / 1024:.0f}")
    for table in tables:
        console.print(table)

    per_account = (counts["40"] - counts["10"]) / 30
    low, high, time_growth = slopes({c: measured[str(c)].seconds for c in WORK_COUNTS})
    spread = ", ".join(f"{min(measured[str(c)].samples):.2f}-{max(measured[str(c)].samples):.2f} s at {c}"
                       for c in WORK_COUNTS)
    console.print(f"seconds per added workload account ({per_account:.0f} resources): {low:.3f} from 10 to 20, "
                  f"{high:.3f} from 20 to 40 (x{time_growth:.2f}), for information: a slope of seconds is not judged, "
                  f"since each render's seconds moved this much from run to run: {spread}")
    work_growth: float | None = None
    if work is None:
        console.print("instructions per added workload account: not counted, valgrind is not installed "
                      "(Debian: apt-get install valgrind); the cost per account is not judged", style="yellow")
    else:
        low, high, work_growth = slopes({c: float(n) for c, n in work.items()})
        console.print(f"instructions per added workload account (valgrind's cachegrind, one render each): "
                      f"{low / 1e6:.0f} M from 10 to 20, {high / 1e6:.0f} M from 20 to 40 "
                      f"(x{work_growth:.3f}; target <= x{TARGET_WORK_GROWTH})")
    lz_seconds, sdk_seconds = end_to_end("prod", counts["prod"])
    console.print(f"end to end, a fresh process each, as CI runs it: `lz preview --stack prod` {lz_seconds:.2f} s "
                  f"(render, policy pack, reachability, report); the bare SDK registering {counts['prod']} queues "
                  f"{sdk_seconds:.2f} s (x{lz_seconds / sdk_seconds:.2f}, for information)")
    if work_growth is None:
        ok, verdict, growth = False, "the cost per account not judged", "not counted"
    else:
        ok = worst <= TARGET_RATIO and work_growth <= TARGET_WORK_GROWTH
        verdict, growth = ("within target" if ok else "above target"), f"x{work_growth:.3f}"
    console.print(f"worst time ratio {worst:.2f}, work per added account growth {growth}: {verdict}",
                  style="green" if ok else "red")


if __name__ == "__main__":
    main()
