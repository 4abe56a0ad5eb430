"""Shared fixtures: each shipped stack rendered once per session through the real `lz` renderer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lz.project import Program
from lz.render import Rendering, render

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("foundation", "sandbox", "dev", "prod")


@pytest.fixture(scope="session")
def program() -> Program:
    return Program.load(ROOT)


@pytest.fixture(scope="session")
def rendered(program: Program) -> Callable[[str], Rendering]:
    """`rendered("dev")` renders the dev stack once and hands out the same record afterwards."""
    cache: dict[str, Rendering] = {}

    def get(stack: str) -> Rendering:
        if stack not in cache:
            cache[stack] = render(program, stack)
        return cache[stack]

    return get


def aws_resources(rendering: Rendering) -> list[dict]:
    return [r for r in rendering.resources if r["custom"] and r["type"].startswith("aws:")]


def of_type(rendering: Rendering, type_: str) -> list[dict]:
    return [r for r in rendering.resources if r["type"] == type_]


def one(rendering: Rendering, type_: str, **where: Any) -> dict:
    """The one resource of `type_` whose record fields equal `where`."""
    found = [r for r in of_type(rendering, type_) if all(r.get(k) == v for k, v in where.items())]
    assert len(found) == 1, (type_, where, [r["name"] for r in found])
    return found[0]


def by(rendering: Rendering, type_: str, field: str = "id") -> dict[Any, dict]:
    """The resources of `type_` by one of their outputs (or record fields): `id`, `arn`, ..."""
    return {r["outputs"].get(field, r.get(field)): r for r in of_type(rendering, type_)}
