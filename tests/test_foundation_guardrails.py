"""The organization's guardrails as the foundation stack records them: each SCP denies what it says,
on the OUs it says, and the tag and backup policies land where they belong."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.service_control_policies import (
    GLOBAL_SERVICE_ACTIONS,
    MAX_SCP_CHARACTERS,
    deny_outside_regions,
    guardrail_policies,
)
from environments.config import CONFIG_KEY
from lz.project import Program
from lz.render import Rendering, render
from tests.conftest import ROOT, of_type

Render = Callable[[str], Rendering]
DEPLOY_ROLE = "arn:aws:iam::*:role/OpenBankingLandingZoneDeployer"
ACTIVE_OUS = {"Security", "Infrastructure", "Workloads", "Sandbox"}


def policy(rendered: Render, name: str) -> dict[str, Any]:
    [found] = [p for p in of_type(rendered("foundation"), "aws:organizations/policy:Policy")
               if p["inputs"]["name"] == f"lz-{name}"]
    return found


def statements(rendered: Render, name: str) -> dict[str, dict[str, Any]]:
    doc = json.loads(policy(rendered, name)["inputs"]["content"])
    return {s["Sid"]: s for s in doc["Statement"]}


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def attached_ous(rendered: Render, name: str) -> set[str]:
    rendering = rendered("foundation")
    ou_names = {ou["id"]: ou["inputs"]["name"] for ou in
                of_type(rendering, "aws:organizations/organizationalUnit:OrganizationalUnit")}
    policy_id = policy(rendered, name)["id"]
    return {ou_names[a["inputs"]["targetId"]] for a in
            of_type(rendering, "aws:organizations/policyAttachment:PolicyAttachment")
            if a["inputs"]["policyId"] == policy_id}


def test_the_organization_is_protected_with_all_features_and_policy_types(rendered: Render) -> None:
    [org] = of_type(rendered("foundation"), "aws:organizations/organization:Organization")
    assert org["account"] == "organization"
    assert org["options"]["protect"] is True and org["options"]["retainOnDelete"] is True
    assert org["inputs"]["featureSet"] == "ALL"
    assert set(org["inputs"]["enabledPolicyTypes"]) == {"SERVICE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY"}


def test_the_ou_tree_nests_prod_and_nonprod_under_workloads(rendered: Render) -> None:
    rendering = rendered("foundation")
    [org] = of_type(rendering, "aws:organizations/organization:Organization")
    ous = of_type(rendering, "aws:organizations/organizationalUnit:OrganizationalUnit")
    by_id = {ou["id"]: ou for ou in ous}
    parent_name = {ou["inputs"]["name"]: by_id[ou["inputs"]["parentId"]]["inputs"]["name"]
                   if ou["inputs"]["parentId"] in by_id else ou["inputs"]["parentId"] for ou in ous}
    root = org["outputs"]["roots"][0]["id"]
    assert parent_name == {"Security": root, "Infrastructure": root, "Workloads": root, "Sandbox": root,
                           "Suspended": root, "Prod": "Workloads", "NonProd": "Workloads"}


def test_baseline_scp_denies_leaving_the_organization(rendered: Render) -> None:
    leave = statements(rendered, "scp-baseline")["DenyLeavingOrganization"]
    assert leave["Effect"] == "Deny" and actions(leave) == ["organizations:LeaveOrganization"]
    assert "Condition" not in leave


def test_baseline_scp_denies_the_root_user_everything(rendered: Render) -> None:
    root = statements(rendered, "scp-baseline")["DenyRootUser"]
    assert root["Effect"] == "Deny" and actions(root) == ["*"]
    assert root["Condition"] == {"StringLike": {"aws:PrincipalArn": ["arn:aws:iam::*:root"]}}


def test_baseline_scp_requires_imdsv2_on_launch(rendered: Render) -> None:
    launch = statements(rendered, "scp-baseline")["RequireImdsV2OnLaunch"]
    assert launch["Effect"] == "Deny" and actions(launch) == ["ec2:RunInstances"]
    assert launch["Condition"] == {"StringNotEquals": {"ec2:MetadataHttpTokens": "required"}}


def test_baseline_scp_lets_only_the_pipeline_relax_instance_metadata_options(rendered: Render) -> None:
    modify = statements(rendered, "scp-baseline")["DenyImdsChangesExceptPipeline"]
    assert actions(modify) == ["ec2:ModifyInstanceMetadataOptions"]
    assert modify["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [DEPLOY_ROLE]}}


def test_baseline_scp_makes_imdsv1_role_credentials_useless(rendered: Render) -> None:
    v1 = statements(rendered, "scp-baseline")["DenyImdsV1RoleCredentials"]
    assert actions(v1) == ["*"] and v1["Condition"] == {"NumericLessThan": {"ec2:RoleDelivery": "2.0"}}


def test_baseline_scp_denies_changing_the_account_public_access_block(rendered: Render) -> None:
    pab = statements(rendered, "scp-baseline")["DenyS3AccountPublicAccessBlockChanges"]
    assert pab["Effect"] == "Deny" and actions(pab) == ["s3:PutAccountPublicAccessBlock"]
    assert pab["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [DEPLOY_ROLE]}}


@pytest.mark.parametrize("action", [
    "cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:PutEventSelectors",
    "guardduty:DeleteDetector", "guardduty:DisassociateFromAdministratorAccount",
    "config:StopConfigurationRecorder", "config:DeleteDeliveryChannel",
    "securityhub:DisableSecurityHub", "securityhub:BatchDisableStandards",
    "access-analyzer:DeleteAnalyzer", "access-analyzer:CreateArchiveRule",
])
def test_security_services_scp_denies_blinding_the_detective_controls(rendered: Render, action: str) -> None:
    denying = [s for s in statements(rendered, "scp-security-services").values()
               if s["Effect"] == "Deny" and action in actions(s)]
    assert len(denying) == 1
    assert denying[0]["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [DEPLOY_ROLE]}}


def test_region_scp_denies_everything_regional_outside_the_allowed_regions(rendered: Render) -> None:
    found = statements(rendered, "scp-regions")
    region = found["DenyOutsideAllowedRegions"]
    assert region["Effect"] == "Deny" and "Action" not in region
    assert region["Condition"] == {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-west-2"]}}
    exempt = set(region["NotAction"])
    assert {"iam:*", "organizations:*", "route53:*", "cloudfront:*", "sts:*", "support:*", "budgets:*",
            "waf:*", "shield:*"} <= exempt
    assert not exempt & {"ec2:*", "s3:*", "rds:*", "dynamodb:*", "lambda:*", "ecs:*", "guardduty:*"}
    # what the edge needs in us-east-1 besides the global services: there and for the pipeline only
    edge = exempt - set(GLOBAL_SERVICE_ACTIONS)
    assert edge == {"logs:*", "acm-pca:*"}
    elsewhere = found["DenyEdgeServicesOutsideAllowedRegions"]
    assert set(actions(elsewhere)) == edge
    assert elsewhere["Condition"] == {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-west-2",
                                                                                   "us-east-1"]}}
    there = found["DenyEdgeServicesInGlobalRegionExceptPipeline"]
    assert set(actions(there)) == edge
    assert there["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"},
                                  "ArnNotLike": {"aws:PrincipalArn": [DEPLOY_ROLE]}}


def test_region_scp_needs_no_edge_exception_when_us_east_1_is_allowed() -> None:
    [only] = deny_outside_regions(["eu-west-2", "us-east-1"], "Deployer")
    assert only["NotAction"] == list(GLOBAL_SERVICE_ACTIONS)
    assert only["Condition"] == {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-2", "us-east-1"]}}


def test_sandbox_scp_denies_direct_connect_and_vpn_to_everyone(rendered: Render) -> None:
    hybrid = statements(rendered, "scp-sandbox-network")["DenySandboxHybridConnectivity"]
    assert {"directconnect:*", "ec2:CreateVpnConnection", "ec2:CreateVpnGateway", "ec2:CreateCustomerGateway"} \
        <= set(actions(hybrid))
    assert "Condition" not in hybrid


def test_sandbox_scp_leaves_transit_gateway_and_ram_changes_to_the_pipeline(rendered: Render) -> None:
    wiring = statements(rendered, "scp-sandbox-network")["DenySandboxNetworkWiring"]
    assert {"ec2:CreateTransitGateway*", "ec2:AssociateTransitGateway*", "ram:CreateResourceShare",
            "ram:AcceptResourceShareInvitation"} <= set(actions(wiring))
    assert wiring["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [DEPLOY_ROLE]}}


def test_suspended_scp_denies_every_action(rendered: Render) -> None:
    [deny] = statements(rendered, "scp-suspended").values()
    assert deny["Effect"] == "Deny" and actions(deny) == ["*"] and "Condition" not in deny


@pytest.mark.parametrize(("name", "ous"), [
    ("scp-baseline", ACTIVE_OUS),
    ("scp-security-services", ACTIVE_OUS),
    ("scp-regions", ACTIVE_OUS),
    ("scp-sandbox-network", {"Sandbox"}),
    ("scp-suspended", {"Suspended"}),
    ("tag-governance", ACTIVE_OUS),
    ("backup-prod", {"Prod"}),
])
def test_each_policy_is_attached_to_exactly_its_ous(rendered: Render, name: str, ous: set[str]) -> None:
    assert attached_ous(rendered, name) == ous


def test_no_ou_exceeds_the_five_scp_limit_with_full_aws_access(rendered: Render) -> None:
    scps = [p["inputs"]["name"].removeprefix("lz-")
            for p in of_type(rendered("foundation"), "aws:organizations/policy:Policy")
            if p["inputs"]["type"] == "SERVICE_CONTROL_POLICY"]
    per_ou: dict[str, int] = {}
    for name in scps:
        for ou in attached_ous(rendered, name):
            per_ou[ou] = per_ou.get(ou, 0) + 1
    assert max(per_ou.values()) + 1 <= 5


def test_every_scp_fits_the_size_limit(rendered: Render) -> None:
    for scp in of_type(rendered("foundation"), "aws:organizations/policy:Policy"):
        assert len(scp["inputs"]["content"]) <= MAX_SCP_CHARACTERS, scp["inputs"]["name"]


def test_region_guardrail_refuses_an_empty_allow_list() -> None:
    with pytest.raises(ValueError, match="at least one allowed region"):
        guardrail_policies("Deployer", [])


def test_tag_policy_pins_the_governance_tags_the_providers_stamp(rendered: Render) -> None:
    content = json.loads(policy(rendered, "tag-governance")["inputs"]["content"])["tags"]
    assert {"Environment", "Owner", "CostCentre", "DataClassification"} <= set(content)
    assert all(rule["tag_key"]["@@assign"] == key for key, rule in content.items())
    assert content["DataClassification"]["tag_value"]["@@assign"] == [
        "audit", "confidential", "internal", "public", "restricted"]


def test_backup_policy_backs_up_confidential_and_restricted_data_daily(rendered: Render) -> None:
    [plan] = json.loads(policy(rendered, "backup-prod")["inputs"]["content"])["plans"].values()
    [rule] = plan["rules"].values()
    [selection] = plan["selections"]["tags"].values()
    assert rule["schedule_expression"]["@@assign"] == "cron(0 3 ? * * *)"
    assert rule["lifecycle"]["delete_after_days"]["@@assign"] == "35"
    assert selection["tag_key"]["@@assign"] == "DataClassification"
    assert selection["tag_value"]["@@assign"] == ["confidential", "restricted"]


def test_accounts_the_organization_creates_are_protected_retained_and_ignore_role_name(tmp_path: Path) -> None:
    for entry in ("Pulumi.yaml", "__main__.py", "environments", "accounts", "components"):
        (tmp_path / entry).symlink_to(ROOT / entry)
    doc = yaml.safe_load((ROOT / "Pulumi.foundation.yaml").read_text())
    doc["config"][CONFIG_KEY]["foundation"]["accountCreation"] = {
        "security": {"email": "aws-security@example-bank.co.uk", "name": "Security"}}
    (tmp_path / "Pulumi.foundation.yaml").write_text(yaml.safe_dump(doc))
    rendering = render(Program.load(tmp_path), "foundation")
    [account] = of_type(rendering, "aws:organizations/account:Account")
    security_ou = next(ou["id"] for ou in of_type(rendering, "aws:organizations/organizationalUnit:OrganizationalUnit")
                       if ou["inputs"]["name"] == "Security")
    assert account["inputs"]["email"] == "aws-security@example-bank.co.uk"
    assert account["inputs"]["parentId"] == security_ou
    assert account["inputs"]["closeOnDeletion"] is False
    assert account["options"]["protect"] and account["options"]["retainOnDelete"]
    assert account["options"]["ignoreChanges"] == ["roleName"]
