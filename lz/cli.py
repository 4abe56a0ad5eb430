"""`lz`: the landing zone's command-line tool.

Exit status: 0 clean, 1 a mandatory policy violation, 2 invalid config or a program error.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from . import report
from .project import Program, ProgramError

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_INVALID = 0, 1, 2
PROJECT_DIR = Path(__file__).resolve().parents[1]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Open Banking landing zone: offline preview and policy pack.")


class StageOption(StrEnum):
    PROD = "prod"
    NONPROD = "nonprod"


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_INVALID)


@app.command()
def preview(
    stack: Annotated[str, typer.Option(help="The stack to render (its Pulumi.<stack>.yaml is the config).")],
    program: Annotated[Path, typer.Option(help="Pulumi Python program directory.")] = PROJECT_DIR,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the resource record here.")] = None,
    show_tree: Annotated[bool, typer.Option("--tree", help="Print the full resource tree.")] = False,
    stage: Annotated[StageOption | None, typer.Option(
        help="Judge as prod or nonprod (default: the environment config's stage, else prod).")] = None,
    policy_config: Annotated[Path | None, typer.Option(
        help="Policy pack config JSON (default: policies/config/<stack>.json).")] = None,
) -> None:
    """Render a stack offline, as `pulumi preview` would, and check it with the policy pack."""
    from . import policy_gate, reachability
    from .render import render

    console = Console()
    try:
        loaded = Program.load(program)
        rendering = render(loaded, stack)
        policy_gate.check(rendering, stage=stage.value if stage else None, config_file=policy_config)
    except ProgramError as exc:
        raise _fail(console, str(exc)) from None
    matrix = reachability.analyse(rendering.resources)
    report.summary(console, rendering)
    if show_tree:
        report.tree(console, rendering)
    report.reachability(console, matrix)
    report.violations(console, rendering)
    if json_file is not None:
        record = rendering.to_json() | {"reachability": matrix.to_json()}
        json_file.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        console.print(f"record written to {json_file}")
    if any(v["level"] == "mandatory" for v in rendering.violations):
        raise typer.Exit(EXIT_VIOLATIONS)


@app.command()
def policies(
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the list as JSON here.")] = None,
) -> None:
    """List the policy pack: id, severity, default level, frameworks, resource types."""
    from openbanking_policies import ALL_POLICIES, METADATA
    from rich.table import Table

    rows = []
    for policy in ALL_POLICIES:
        meta = METADATA[policy.name]
        rows.append({
            "id": policy.name, "severity": meta.severity.value, "kind": meta.kind,
            "level": policy.enforcement_level.value if policy.enforcement_level else "mandatory",
            "nonprodMayDowngrade": meta.nonprod_may_downgrade,
            "frameworks": [str(f) for f in meta.frameworks], "resourceTypes": list(meta.resource_types),
            "description": meta.description,
        })
    console = Console()
    table = Table(title=f"open-banking-aws policy pack: {len(rows)} policies", title_justify="left")
    for column in ("id", "severity", "level", "frameworks", "resource types"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["id"], row["severity"], row["level"], ", ".join(row["frameworks"]),
                      "\n".join(row["resourceTypes"]))
    console.print(table)
    if json_file is not None:
        json_file.write_text(json.dumps(rows, indent=2) + "\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
