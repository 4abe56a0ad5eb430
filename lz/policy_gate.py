"""Run the CrossGuard pack offline on a rendering: the very same policy objects `pulumi preview
--policy-pack policies` loads, applied to the recorded inputs (resource policies) and outputs (stack
policies)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openbanking_policies.enforcement import EnforcementConfigError, load_enforcement, policy_config
from openbanking_policies.offline import Violation, evaluate

from .project import ProgramError
from .record import ViolationRecord
from .render import Rendering

POLICY_CONFIG_DIR = Path(__file__).resolve().parents[1] / "policies" / "config"
STAGE_TAG = "openbanking:stage"


def stage_of(rendering: Rendering, explicit: str | None) -> str:
    """`prod` or `nonprod`: as given, else the environment config's `stage`, else prod (the strict one)."""
    if explicit:
        return explicit
    raw = rendering.program.config(rendering.stack).values.get("landingzone:environment")
    try:
        stage = json.loads(raw).get("stage") if raw else None
    except (ValueError, AttributeError):
        stage = None
    return stage if stage in ("prod", "nonprod") else "prod"


def policy_config_file(rendering: Rendering, explicit: Path | None) -> Path | None:
    """The explicit file, else this repository's `policies/config/<stack>.json` for its own stacks.
    Another team's program (`--program`) is judged with every policy mandatory unless told otherwise."""
    if explicit is not None:
        if not explicit.is_file():
            raise ProgramError(f"--policy-config {explicit}: no such file")
        return explicit
    if rendering.program.directory != POLICY_CONFIG_DIR.parents[1]:
        return None
    default = POLICY_CONFIG_DIR / f"{rendering.stack}.json"
    return default if default.is_file() else None


def violation_record(v: Violation) -> ViolationRecord:
    return {"policy": v.policy, "severity": v.severity, "level": v.level, "urn": v.urn, "name": v.name,
            "type": v.type, "account": v.account, "message": v.message, "remediation": v.remediation}


def check(rendering: Rendering, *, stage: str | None = None, config_file: Path | None = None) -> list[dict[str, Any]]:
    """Violations of the rendering, as JSON-ready dicts; also stored on the rendering."""
    stage = stage_of(rendering, stage)
    source = policy_config_file(rendering, config_file)
    try:
        levels = load_enforcement(source, production=stage == "prod")
        config = policy_config(source)
    except EnforcementConfigError as exc:
        raise ProgramError(f"policy config {source}:\n" + "\n".join(exc.problems)) from None
    tags = {STAGE_TAG: stage, "openbanking:environment": rendering.stack}
    found = evaluate(rendering.resources, stack_tags=tags, levels=levels, config=config)
    rendering.violations = [dict(violation_record(v)) for v in found]
    return rendering.violations
