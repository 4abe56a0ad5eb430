"""Human-readable output of a rendering: resources per account, the tree, policy violations."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from .reachability import Reachability
from .render import Rendering

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def summary(console: Console, rendering: Rendering) -> None:
    accounts = rendering.by_account()
    total = sum(len(v) for v in accounts.values())
    console.print(f"[bold]{rendering.program.name}[/] / [bold cyan]{rendering.stack}[/]: "
                  f"{total} resources in {len(accounts)} accounts")
    if rendering.references:
        console.print(f"reads the outputs of stack {', '.join(rendering.references)} (rendered first)")
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
    root = Tree(f"[bold]{rendering.program.name}-{rendering.stack}[/]")

    accounts = {r["urn"]: r["account"] for r in rendering.resources}

    def add(node: Tree, parent: str | None) -> None:
        for r in sorted(by_parent.get(parent, []), key=lambda r: (r["type"], r["name"])):
            # the account is shown where it changes, not repeated on every child
            shown = r["account"] and r["account"] != accounts.get(parent or "")
            where = f" [dim]account {r['account']} {r['account_id']}[/]" if shown else ""
            protect = " [magenta]protected[/]" if r["options"].get("protect") else ""
            add(node.add(f"{escape(r['type'])} [bold]{escape(r['name'])}[/]{where}{protect}"), r["urn"])

    add(root, None)
    console.print(root)


def violations(console: Console, rendering: Rendering) -> None:
    found = rendering.violations
    if not found:
        console.print("[green]policy pack: no violations[/]")
        return
    by_account: dict[str, list[dict[str, Any]]] = {}
    for v in found:
        by_account.setdefault(v["account"] or "stack", []).append(v)
    for account, items in sorted(by_account.items()):
        table = Table(title=f"policy violations in account {account}", title_justify="left", show_lines=True)
        for column in ("severity", "level", "policy", "resource", "message", "remediation"):
            table.add_column(column, overflow="fold")
        for v in sorted(items, key=lambda v: (SEVERITY_ORDER.get(v["severity"], 9), v["policy"], v["name"])):
            style = SEVERITY_STYLE.get(v["severity"], "")
            table.add_row(f"[{style}]{v['severity']}[/]", v["level"], v["policy"],
                          escape(f"{v['type']}\n{v['name']}"), escape(v["message"]), escape(v["remediation"]))
        console.print(table)
    mandatory = sum(1 for v in found if v["level"] == "mandatory")
    console.print(f"[bold]{len(found)} violations[/], {mandatory} mandatory")


#: How each reachability cell is shown: reaches, reaches part, one-way, blackholed, no route, itself.
def _cell_text(matrix: Reachability, source: str, destination: str) -> str:
    cell = matrix.cell(source, destination)
    if cell.path == "self":
        return "[dim]-[/]"
    if cell.reaches:
        text = "yes" if cell.coverage == "all" else "part"
        return f"[green]{text}{' via egress' if cell.path == 'via-egress' else ''}[/]"
    if cell.path in ("direct", "via-egress"):
        return "[yellow]one-way[/]"
    return {"blackhole": "[red]blackhole[/]", "elsewhere": "[red]misrouted[/]"}.get(cell.path, "[dim]no route[/]")


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
