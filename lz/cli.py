"""`lz`: the landing zone's command-line tool.

Exit status, one meaning each:
    0  rendered, and the policy pack found no mandatory violation;
    1  rendered, and the policy pack found at least one mandatory violation (nothing else exits 1);
    2  not judged: the stack could not be rendered (invalid config, a program error, a limit reached,
       a program that ended its render process), a bad command line, or a failure of lz itself.
Every exit 2 prints one line starting with `error:` (a config error prints one line per problem).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from . import report
from .isolation import Limits
from .project import Program, ProgramError

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_INVALID = 0, 1, 2

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Open Banking landing zone: offline preview and policy pack.")


class StageOption(StrEnum):
    PROD = "prod"
    NONPROD = "nonprod"


def _fail(console, message: str, output: str = "") -> typer.Exit:
    report.program_output(console, output)
    report.error(console, message)
    return typer.Exit(EXIT_INVALID)


@app.command()
def preview(
    stack: Annotated[str, typer.Option(help="The stack to render (its Pulumi.<stack>.yaml is the config).")],
    program: Annotated[Path | None, typer.Option(
        help="Pulumi Python program directory (default: the project of the current directory).")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the resource record here.")] = None,
    show_tree: Annotated[bool, typer.Option("--tree", help="Print the full resource tree.")] = False,
    stage: Annotated[StageOption | None, typer.Option(
        help="Judge as prod or nonprod (default: the environment config's stage, else prod).")] = None,
    policy_config: Annotated[Path | None, typer.Option(
        help="Policy pack config JSON (default: policies/config/<stack>.json).")] = None,
    timeout: Annotated[float, typer.Option(
        min=1, help="Wall-clock seconds for the whole render, referenced stacks included.")] = Limits.timeout_s,
    memory: Annotated[int, typer.Option(
        min=256, help="Memory of each render process, in MiB.")] = Limits.memory_mib,
) -> None:
    """Render a stack offline, as `pulumi preview` would, and check it with the policy pack.

    The program runs in a render process of its own, with a minimal environment; the policy pack runs
    here, on the record it sends back. `lz preview` runs the program's code: render a program from an
    untrusted branch only on an isolated CI runner."""
    from . import policy_gate, reachability
    from .render import RenderError, render

    console = report.make_console()
    try:
        loaded = Program.load(program) if program is not None else Program.find(Path.cwd())
        rendering = render(loaded, stack, limits=Limits(timeout_s=timeout, memory_mib=memory))
    except RenderError as exc:
        raise _fail(console, str(exc), exc.output) from None
    except ProgramError as exc:
        raise _fail(console, str(exc)) from None
    try:
        policy_gate.check(rendering, stage=stage.value if stage else None, config_file=policy_config)
    except ProgramError as exc:
        raise _fail(console, str(exc)) from None
    matrix = reachability.analyse(rendering.resources)
    report.program_output(console, rendering.output)
    report.summary(console, rendering)
    if show_tree:
        report.tree(console, rendering)
    report.reachability(console, matrix)
    report.violations(console, rendering)
    if json_file is not None:
        record = rendering.to_json() | {"reachability": matrix.to_json()}
        try:
            json_file.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            raise _fail(console, f"--json {json_file}: cannot be written ({exc.strerror})") from None
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
    console = report.make_console()
    table = Table(title=f"open-banking-aws policy pack: {len(rows)} policies", title_justify="left")
    for column in ("id", "severity", "level", "frameworks", "resource types"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["id"], row["severity"], row["level"], ", ".join(row["frameworks"]),
                      "\n".join(row["resourceTypes"]))
    console.print(table)
    if json_file is not None:
        try:
            json_file.write_text(json.dumps(rows, indent=2) + "\n")
        except OSError as exc:
            raise _fail(console, f"--json {json_file}: cannot be written ({exc.strerror})") from None


def main() -> None:
    """The `lz` command: click's own handling would exit 1 on Ctrl-C and on an unexpected exception,
    the code that means "violations"; here everything but a judged stack is 2."""
    console = report.make_console(stderr=True)
    try:
        code = typer.main.get_command(app).main(standalone_mode=False)
    except typer.Abort:
        report.error(console, "interrupted")
        code = EXIT_INVALID
    except typer.TyperException as exc:  # a usage error (click's, vendored by typer): shown as click shows it
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            report.error(console, str(exc))
        code = EXIT_INVALID
    except KeyboardInterrupt:
        report.error(console, "interrupted")
        code = EXIT_INVALID
    except Exception as exc:  # a failure of lz itself must not look like a policy verdict
        report.error(console, f"lz failed: {type(exc).__name__}: {exc} (a bug in lz; please report it)")
        code = EXIT_INVALID
    sys.exit(code if isinstance(code, int) else EXIT_CLEAN)


if __name__ == "__main__":
    main()
