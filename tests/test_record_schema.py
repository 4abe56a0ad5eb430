"""The preview record has one schema (lz/record.py); docs/preview-record.md documents exactly its keys, and
what `lz preview --json` writes for the shipped stacks conforms to it, key for key."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import get_type_hints

import pytest
from pydantic import TypeAdapter
from typer.testing import CliRunner

from lz import record
from lz.cli import EXIT_CLEAN, app
from lz.render import Rendering
from tests.conftest import ROOT

DOC = ROOT / "docs" / "preview-record.md"
#: Each section of the page, and the type its table documents.
SECTIONS = {
    "The record": record.PreviewRecord,
    "`resources[]`": record.ResourceRecord,
    "`resources[].options`": record.ResourceOptionsRecord,
    "`violations[]`": record.ViolationRecord,
    "`reachability`": record.ReachabilityRecord,
    "`reachability.matrix[from][to]`": record.ReachabilityCellRecord,
}


def documented_keys() -> dict[str, set[str]]:
    """For each `## ` section of the page, the backticked keys in the first column of its table."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = set()
        elif current and line.startswith("| `"):
            sections[current] |= set(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return sections


@pytest.mark.parametrize(("section", "typed"), list(SECTIONS.items()))
def test_the_page_documents_exactly_the_keys_of_each_type(section: str, typed: type) -> None:
    documented = documented_keys()
    assert section in documented, f"docs/preview-record.md has no section {section!r}"
    assert documented[section] == set(get_type_hints(typed)), section


def test_every_type_of_the_record_has_its_section() -> None:
    types = {value for value in vars(record).values() if isinstance(value, type) and value.__module__ == record.__name__}
    assert types == set(SECTIONS.values())


def test_what_lz_writes_is_the_schema_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "prod.json"
    result = CliRunner().invoke(app, ["preview", "--program", str(ROOT), "--stack", "prod", "--json", str(out)])
    assert result.exit_code == EXIT_CLEAN, result.output
    written = json.loads(out.read_text())
    TypeAdapter(record.PreviewRecord).validate_python(written, strict=True)
    assert set(written) == set(get_type_hints(record.PreviewRecord))


def test_a_record_with_a_key_the_schema_does_not_define_is_refused(rendered: Callable[[str], Rendering]) -> None:
    resource = dict(rendered("foundation").resources[0])
    TypeAdapter(record.ResourceRecord).validate_python(resource, strict=True)
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        TypeAdapter(record.ResourceRecord).validate_python(resource | {"extra": 1}, strict=True)
