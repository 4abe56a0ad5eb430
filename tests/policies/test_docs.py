"""docs/policies.md is generated from the pack's metadata and must never drift from it."""

from __future__ import annotations

from pathlib import Path

from openbanking_policies import ALL_POLICIES, METADATA
from openbanking_policies.docs import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "policies.md"


def test_committed_doc_is_the_rendered_table() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/policies.md is stale: run `make policies-doc` and commit the result")


def test_every_policy_has_a_row() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith('| <a id="ob-')]
    assert len(rows) == len(ALL_POLICIES) == len(METADATA)
    for policy in ALL_POLICIES:
        assert f'| <a id="{policy.name}"></a>`{policy.name}` |' in text, policy.name
    assert f"{len(ALL_POLICIES)} policies." in text
