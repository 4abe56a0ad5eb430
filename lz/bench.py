"""`make bench`: how much the landing zone's own code costs on top of the Pulumi SDK.

Each stack is rendered several times (wall seconds: median; peak Python memory: tracemalloc, in a
separate run so it does not slow the timed ones). The floor is a generated program that registers the
same number of plain resources (one provider, `aws.sqs.Queue`s) through the very same renderer and
mocks; the ratio stack / floor is what the landing zone's config, components and records add.
Target: ratio at most 1.5. Workload stacks include rendering the foundation stack they reference,
and so does their floor (it references a floor foundation of the same size).
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .project import Program
from .render import Rendering, render

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
TARGET_RATIO = 1.5

FLOOR_MAIN = '''
import pulumi
import pulumi_aws as aws

config = pulumi.Config()
count = config.require_int("count")
reference = config.get("reference")
if reference:
    pulumi.StackReference(reference)
provider = aws.Provider("floor", region="eu-west-2", allowed_account_ids=["123456789012"])
for i in range(count):
    aws.sqs.Queue(f"queue-{i}", opts=pulumi.ResourceOptions(provider=provider))
pulumi.export("count", count)
'''


def _registered(rendering: Rendering) -> int:
    return sum(1 for r in rendering.resources if not r["type"].startswith("pulumi:pulumi:StackReference"))


def floor_program(directory: Path, counts: dict[str, int], references: dict[str, str]) -> Program:
    """A program with one stack per measured stack, each registering `counts[stack]` queues."""
    (directory / "Pulumi.yaml").write_text("name: floor\nruntime: python\n")
    (directory / "__main__.py").write_text(FLOOR_MAIN)
    for stack, count in counts.items():
        ref = f'\n  floor:reference: "organization/floor/{references[stack]}"' if stack in references else ""
        (directory / f"Pulumi.{stack}.yaml").write_text(f"config:\n  floor:count: {count}{ref}\n")
    return Program.load(directory)


def timed(fn: Callable[[], Rendering]) -> tuple[float, int]:
    """(median wall seconds over RUNS runs after a warm-up, peak traced bytes of one more run)."""
    fn()
    times = []
    for _ in range(RUNS):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak


def main() -> None:
    console = Console(width=120)
    program = Program.load(ROOT)
    stacks = ["foundation", "sandbox", "dev", "prod"]
    first = {stack: render(program, stack) for stack in stacks}
    counts = {stack: _registered(r) for stack, r in first.items()}
    references = {stack: r.references[0] for stack, r in first.items() if r.references}
    counts |= {f"{ref}": counts[ref] for ref in references.values()}

    table = Table(title=f"offline render, median of {RUNS} runs (ratio target <= {TARGET_RATIO})", title_justify="left")
    for column in ("stack", "resources", "seconds", "floor s", "time ratio", "peak MiB", "floor MiB", "memory ratio"):
        table.add_column(column, justify="right" if column != "stack" else "left")
    with tempfile.TemporaryDirectory() as tmp:
        floor = floor_program(Path(tmp), counts, references)
        worst = 0.0
        for stack in stacks:
            seconds, peak = timed(lambda stack=stack: render(program, stack))
            floor_seconds, floor_peak = timed(lambda stack=stack: render(floor, stack))
            ratio, mem_ratio = seconds / floor_seconds, peak / floor_peak
            worst = max(worst, ratio)
            table.add_row(stack, str(counts[stack]), f"{seconds:.3f}", f"{floor_seconds:.3f}", f"{ratio:.2f}",
                          f"{peak / 2**20:.1f}", f"{floor_peak / 2**20:.1f}", f"{mem_ratio:.2f}")
    console.print(table)
    verdict = "[green]within target[/]" if worst <= TARGET_RATIO else "[red]above target[/]"
    console.print(f"worst time ratio {worst:.2f}: {verdict}")


if __name__ == "__main__":
    main()
