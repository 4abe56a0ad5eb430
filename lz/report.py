"""Human-readable output of a rendering: resources per account, the tree, reachability, policy violations.

Everything lz prints that it did not write itself (resource names, error messages, policy messages,
the program's own output) may hold brackets and colons: `^dxcon-[a-z0-9]{8}$` must reach the user as
written. The console therefore interprets no markup and no emoji codes at all, and lz's own styling
is applied with `Text` spans.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .reachability import Reachability
from .render import Rendering

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def make_console(**options: Any) -> Console:
    """A console that prints text as given: no markup, no emoji codes, no highlighting."""
    return Console(markup=False, emoji=False, highlight=False, **options)


def error(console: Console, message: str) -> None:
    """`error: <message>`, each line of it unwrapped (a message may name a long URN or path)."""
    console.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)


def program_output(console: Console, text: str) -> None:
    """What the program printed, set apart from lz's own report."""
    if text.strip():
        console.print(Text("output of the program (stdout and stderr):", style="dim"))
        console.print(Text(text.rstrip("\n")), soft_wrap=True)


def summary(console: Console, rendering: Rendering) -> None:
    accounts = rendering.by_account()
    total = sum(len(v) for v in accounts.values())
    console.print(Text.assemble((rendering.program.name, "bold"), " / ", (rendering.stack, "bold cyan"),
                                f": {total} resources in {len(accounts)} accounts"))
    if rendering.references:
        console.print(f"reads the outputs of stack {', '.join(rendering.references)} (rendered for it)")
    for account, resources in sorted(accounts.items()):
        table = Table(title=f"account {account}", title_justify="left", show_edge=False)
        table.add_column("resource type")
        table.add_column("count", justify="right")
        for type_, count in sorted(Counter(r["type"] for r in resources).items()):
            table.add_row(type_, str(count))
        console.print(table)


def tree(console: Console, rendering: Rendering) -> None:
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    urns = {r["urn"] for r in rendering.resources}
    for r in rendering.resources:
        parent = r["parent"] if r["parent"] in urns else None
        by_parent.setdefault(parent, []).append(r)
    root = Tree(Text(f"{rendering.program.name}-{rendering.stack}", style="bold"))
    accounts = {r["urn"]: r["account"] for r in rendering.resources}

    def add(node: Tree, parent: str | None) -> None:
        for r in sorted(by_parent.get(parent, []), key=lambda r: (r["type"], r["name"])):
            label = Text.assemble(r["type"], " ", (r["name"], "bold"))
            # the account is shown where it changes, not repeated on every child
            if r["account"] and r["account"] != accounts.get(parent or ""):
                label.append(f" account {r['account']} {r['account_id']}", style="dim")
            if r["options"].get("protect"):
                label.append(" protected", style="magenta")
            add(node.add(label), r["urn"])

    add(root, None)
    console.print(root)


def violations(console: Console, rendering: Rendering) -> None:
    found = rendering.violations
    if not found:
        console.print(Text("policy pack: no violations", style="green"))
        return
    by_account: dict[str, list[Any]] = {}
    for v in found:
        by_account.setdefault(v["account"] or "stack", []).append(v)
    for account, items in sorted(by_account.items()):
        table = Table(title=f"policy violations in account {account}", title_justify="left", show_lines=True)
        for column in ("severity", "level", "policy", "resource", "message", "remediation"):
            table.add_column(column, overflow="fold")
        for v in sorted(items, key=lambda v: (SEVERITY_ORDER.get(v["severity"], 9), v["policy"], v["name"])):
            table.add_row(Text(v["severity"], style=SEVERITY_STYLE.get(v["severity"], "")), v["level"], v["policy"],
                          f"{v['type']}\n{v['name']}", v["message"], v["remediation"])
        console.print(table)
    mandatory = sum(1 for v in found if v["level"] == "mandatory")
    console.print(Text.assemble((f"{len(found)} violations", "bold"), f", {mandatory} mandatory"))


def _cell_text(matrix: Reachability, source: str, destination: str) -> Text:
    """How each reachability cell is shown: reaches, reaches part, one-way, blackholed, no route, no Transit
    Gateway attachment at all (a detached segment's row), itself."""
    cell = matrix.cell(source, destination)
    if cell.path == "self":
        return Text("-", style="dim")
    if cell.reaches:
        text = "yes" if cell.coverage == "all" else "part"
        return Text(f"{text}{' via egress' if cell.path == 'via-egress' else ''}", style="green")
    if cell.path in ("direct", "via-egress"):
        return Text("one-way", style="yellow")
    return {"blackhole": Text("blackhole", style="red"), "elsewhere": Text("misrouted", style="red"),
            "detached": Text("no TGW", style="dim")}.get(cell.path, Text("no route", style="dim"))


def reachability(console: Console, matrix: Reachability) -> None:
    """The Transit Gateway segment matrix: rows reach columns (a route there and a route back)."""
    if not matrix.segments:
        return
    table = Table(title="segment reachability (Transit Gateway routes; row reaches column)", title_justify="left")
    table.add_column("from \\ to", style="bold")
    for segment in matrix.segments:
        table.add_column(segment, justify="center")
    for source in matrix.segments:
        table.add_row(source, *(_cell_text(matrix, source, d) for d in matrix.segments))
    console.print(table)
