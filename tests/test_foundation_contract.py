"""The contract between the foundation stack and the stacks built on it: one dataclass, written by the
foundation stack and read by the others, whose fields are the export keys."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from environments.foundation import FoundationExports
from lz.project import Program, ProgramError
from lz.render import Rendering, render
from tests.conftest import ROOT, of_type

Render = Callable[[str], Rendering]
#: What every stack exports besides its kind's contract.
COMMON = {"environment", "kind", "region", "accounts"}


def test_the_foundation_exports_exactly_the_contract(rendered: Render) -> None:
    outputs = rendered("foundation").outputs
    assert set(outputs) == COMMON | set(FoundationExports.keys())
    assert outputs["kind"] == "foundation"
    assert all(value not in (None, "", {}) for value in outputs.values())


@pytest.mark.parametrize("stack", ["sandbox", "dev", "prod"])
def test_stacks_read_the_foundation_through_one_reference_and_use_its_values(rendered: Render, stack: str) -> None:
    rendering, foundation = rendered(stack), rendered("foundation")
    [reference] = of_type(rendering, "pulumi:pulumi:StackReference")
    assert reference["name"] == "example-bank/open-banking-landing-zone/foundation"
    flow_logs = [r["inputs"]["logDestination"] for r in of_type(rendering, "aws:ec2/flowLog:FlowLog")]
    assert flow_logs and all(d.startswith(foundation.outputs["flowLogsBucketArn"] + "/") for d in flow_logs)
    channels = of_type(rendering, "aws:cfg/deliveryChannel:DeliveryChannel")
    assert {c["inputs"]["s3BucketName"] for c in channels} == {foundation.outputs["configBucketName"]}
    subscriptions = of_type(rendering, "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
    assert subscriptions and {s["inputs"]["destinationArn"] for s in subscriptions} == {
        foundation.outputs["apiAccessLogDestinationArn"]}


def test_a_reference_to_a_stack_of_another_kind_is_one_clear_error(tmp_path: Path) -> None:
    for entry in ("Pulumi.yaml", "__main__.py", "environments", "accounts", "components"):
        (tmp_path / entry).symlink_to(ROOT / entry)
    for stack in ("foundation", "sandbox"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path)
    dev = (ROOT / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.dev.yaml").write_text(dev.replace("open-banking-landing-zone/foundation",
                                                          "open-banking-landing-zone/sandbox"))
    with pytest.raises(ProgramError) as err:
        render(Program.load(tmp_path), "dev")
    assert ("foundationStack 'example-bank/open-banking-landing-zone/sandbox' is a sandbox stack, not the "
            "foundation stack") in str(err.value)
