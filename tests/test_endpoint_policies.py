"""Every VPC endpoint of every stack keeps callers to the organization, plus the AWS-owned resources its VPC's
workloads need, each named (docs/network.md, "VPC endpoint policies")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from components.endpoint_policies import CONTAINER_WORKLOADS, endpoint_policy
from lz import policy_gate
from lz.render import Rendering
from tests.conftest import STACKS, of_type

Render = Callable[[str], Rendering]
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ORG = "o-exampl3bank1"  # Pulumi.foundation.yaml: what the environment stacks read through the StackReference
GUARDDUTY_AGENT = "arn:aws:ecr:eu-west-2:892757235363:repository/aws-guardduty-agent-fargate"
#: (account role, endpoint service) -> the AWS-owned resources its policy names.
SPOKE_AWS_OWNED = {
    "s3": {"arn:aws:s3:::prod-eu-west-2-starport-layer-bucket/*"},
    "ecr.api": {GUARDDUTY_AGENT},
    "ecr.dkr": {GUARDDUTY_AGENT},
}
EGRESS_AWS_OWNED = {
    "s3": {"arn:aws:s3:::al2023-repos-eu-west-2-de612dc2/*", "arn:aws:s3:::aws-ssm-eu-west-2/*",
           "arn:aws:s3:::amazon-ssm-eu-west-2/*", "arn:aws:s3:::amazon-ssm-packages-eu-west-2/*",
           "arn:aws:s3:::eu-west-2-birdwatcher-prod/*", "arn:aws:s3:::aws-ssm-distributor-file-eu-west-2/*",
           "arn:aws:s3:::aws-ssm-document-attachments-eu-west-2/*"},
    "ssm": {"arn:aws:ssm:eu-west-2::document/*"},
}


def endpoints(rendering: Rendering) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """(endpoint, its service, its policy document) for every VPC endpoint of the stack to an AWS service (an
    endpoint to another account's endpoint service, the api account's PrivateLink into a workload, takes no
    policy: AWS applies full access to those whatever is set)."""
    found = []
    for e in of_type(rendering, ENDPOINT):
        if ".vpce-svc-" in e["inputs"]["serviceName"]:
            assert "policy" not in e["inputs"], e["name"]
            continue
        service = e["inputs"]["serviceName"].removeprefix("com.amazonaws.eu-west-2.")
        assert "policy" in e["inputs"], f"{e['name']} ({service}) has no endpoint policy"
        found.append((e, service, json.loads(e["inputs"]["policy"])))
    return found


@pytest.mark.parametrize("stack", ["sandbox", "dev", "prod"])
def test_every_endpoint_admits_the_organizations_principals_to_its_resources(rendered: Render, stack: str) -> None:
    found = endpoints(rendered(stack))
    # the api VPC adds X-Ray, the identity VPC ACM, ECS and X-Ray; the sandbox's VPC, running the services, SQS,
    # EventBridge and X-Ray as a workload's does
    assert len(found) == {"sandbox": 17, "dev": 51, "prod": 51}[stack]
    for e, service, doc in found:
        perimeter = [s for s in doc["Statement"] if s["Resource"] == "*"]
        assert perimeter == [{"Sid": "OrganizationPrincipalsToOrganizationResources", "Effect": "Allow",
                              "Principal": "*", "Action": "*", "Resource": "*",
                              "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG,
                                                             "aws:ResourceOrgID": ORG}}}], (e["name"], service)


@pytest.mark.parametrize("stack", ["sandbox", "dev", "prod"])
def test_every_other_statement_names_the_aws_owned_resources_the_vpcs_workloads_need(rendered: Render,
                                                                                      stack: str) -> None:
    for e, service, doc in endpoints(rendered(stack)):
        named = [s for s in doc["Statement"] if s["Resource"] != "*"]
        assert all(s["Effect"] == "Allow" and s["Principal"] == "*" for s in named)
        assert all("*" not in s["Action"] and "s3:PutObject" not in s["Action"] for s in named), e["name"]
        # organization principals sign the ECR and SSM calls; ECR's presigned layer URLs and dnf/SSM Agent
        # downloads are signed by AWS or anonymous, so only the resource narrows them
        for s in named:
            expected = {"StringEquals": {"aws:PrincipalOrgID": ORG}} if service in ("ecr.api", "ecr.dkr", "ssm") \
                else None
            assert s.get("Condition") == expected, (e["name"], s["Sid"])
        needs = EGRESS_AWS_OWNED if e["account"] == "network" else SPOKE_AWS_OWNED
        assert {arn for s in named for arn in s["Resource"]} == needs.get(service, set()), (e["name"], service)


def test_the_foundations_analytics_vpc_has_no_endpoint_of_its_own(rendered: Render) -> None:
    """OpenSearch and the ingestion pipelines reach S3 and SQS from the service side; the only endpoints in
    the isolated VPC are those OpenSearch Ingestion manages (not in the program)."""
    assert of_type(rendered("foundation"), ENDPOINT) == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_pack_finds_no_endpoint_policy_problem(rendered: Render, stack: str) -> None:
    assert [v for v in policy_gate.check(rendered(stack)) if v["policy"] == "ob-vpc-endpoint-policy"] == []


def test_a_region_without_guardduty_agent_repository_names_only_ecrs_layer_bucket() -> None:
    ecr = json.loads(endpoint_policy("ecr.dkr", "xx-nowhere-1", ORG, CONTAINER_WORKLOADS))
    assert [s["Sid"] for s in ecr["Statement"]] == ["OrganizationPrincipalsToOrganizationResources"]
    s3 = json.loads(endpoint_policy("s3", "xx-nowhere-1", ORG, CONTAINER_WORKLOADS))
    assert s3["Statement"][1]["Resource"] == ["arn:aws:s3:::prod-xx-nowhere-1-starport-layer-bucket/*"]
