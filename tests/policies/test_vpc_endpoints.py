"""ob-vpc-endpoint-policy: endpoints to AWS services keep their callers to the organization's resources."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openbanking_policies import vpc_endpoints as ve
from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import policy_resource, run_stack_policy

ORG = "o-abc123def4"
S3 = "com.amazonaws.eu-west-2.s3"
DEFAULT = '{"Statement":[{"Action":"*","Effect":"Allow","Principal":"*","Resource":"*"}],"Version":"2008-10-17"}'
PERIMETER = {"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG, "aws:ResourceOrgID": ORG}}}
ECR_LAYERS = {"Sid": "EcrImageLayers", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
              "Resource": ["arn:aws:s3:::prod-eu-west-2-starport-layer-bucket/*"]}


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def endpoint(policy: Any = None, service: str = S3, kind: str | None = "Gateway", name: str = "s3",
             id_: str = "vpce-0123") -> PolicyResource:
    props: dict[str, Any] = {"id": id_, "serviceName": service, "vpcId": "vpc-1"}
    if kind is not None:
        props["vpcEndpointType"] = kind
    if policy is not None:
        props["policy"] = policy
    return policy_resource(ve.VPC_ENDPOINT, props, name=name)


def run(*resources: PolicyResource) -> list[tuple[str, str | None]]:
    return run_stack_policy(ve.vpc_endpoint_policy, list(resources))


@pytest.mark.parametrize("policy", [
    doc(PERIMETER),
    doc(PERIMETER, ECR_LAYERS),
    doc({**PERIMETER, "Condition": {"StringEquals": {"aws:ResourceAccount": ["111111111111"]}}}),
    doc({**PERIMETER, "Condition": {"ForAnyValue:StringLike": {"aws:ResourceOrgPaths": [f"{ORG}/r-ab12/*"]}}}),
    doc({"Effect": "Allow", "Principal": "*", "Action": "ssm:GetDocument",
         "Resource": "arn:aws:ssm:eu-west-2::document/*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}),
    doc({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
         "Resource": "arn:aws:ecr:eu-west-2:892757235363:repository/aws-guardduty-agent-fargate"}),
    doc(PERIMETER, {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
])
def test_an_organization_perimeter_or_named_resources_pass(policy: str) -> None:
    assert run(endpoint(policy)) == []


@pytest.mark.parametrize(("statement", "fragment"), [
    ({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}, 'to ["*"] on ["*"]'),
    ({**PERIMETER, "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}, 'on ["*"]'),
    ({**PERIMETER, "Condition": {"StringNotEquals": {"aws:ResourceOrgID": ORG}}}, 'on ["*"]'),
    ({**PERIMETER, "Condition": {"StringEqualsIfExists": {"aws:ResourceOrgID": ORG}}}, 'on ["*"]'),
    ({**PERIMETER, "Condition": {"StringLike": {"aws:ResourceOrgID": "*"}}}, 'on ["*"]'),
    ({**ECR_LAYERS, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*"}, '["arn:aws:s3:::*/*"]'),
    ({**ECR_LAYERS, "Resource": "arn:aws:ecr:*:*:repository/*"}, "arn:aws:ecr:*:*:repository/*"),
    ({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "NotResource": "arn:aws:s3:::mine/*"},
     'NotResource "arn:aws:s3:::mine/*"'),
])
def test_a_statement_reaching_any_account_fails(statement: dict[str, Any], fragment: str) -> None:
    subject = endpoint(doc(ECR_LAYERS, {**statement, "Sid": "Wide"}))
    found = run(subject)
    assert len(found) == 1, found
    message, urn = found[0]
    assert urn == subject.urn
    assert message.startswith(f"VpcEndpoint 's3' ({S3}): `policy` statement \"Wide\" allows ") and fragment in message
    assert "aws:ResourceOrgID" in message and "any bucket in the world" in message


def test_the_default_full_access_policy_is_named_as_such() -> None:
    [(message, _)] = run(endpoint(DEFAULT))
    assert "(AWS's default full-access policy, attached when the endpoint sets none)" in message


@pytest.mark.parametrize("kind", ["Gateway", "Interface", None])
def test_an_endpoint_without_a_policy_fails(kind: str | None) -> None:
    found = run(endpoint(None, service="com.amazonaws.eu-west-2.kms", kind=kind))
    assert len(found) == 1 and "has no endpoint policy, so AWS attaches its default full-access one" in found[0][0]


@pytest.mark.parametrize("subject", [
    endpoint(None, service="com.amazonaws.vpce.eu-west-2.vpce-svc-0abc", kind="Interface"),
    endpoint(DEFAULT, service="com.amazonaws.vpce.eu-west-2.vpce-svc-0abc", kind="Interface"),
    endpoint(None, service="com.amazonaws.vpce.eu-west-2.vpce-svc-0abc", kind="GatewayLoadBalancer"),
    endpoint(UNKNOWN_STRING_VALUE),
    endpoint(None, kind=UNKNOWN_STRING_VALUE),
])
def test_endpoints_that_take_no_policy_or_are_unknown_are_not_judged(subject: PolicyResource) -> None:
    assert run(subject) == []


def separate_policy(policy: str, endpoint_id: str = "vpce-0123") -> PolicyResource:
    return policy_resource(ve.VPC_ENDPOINT_POLICY, {"vpcEndpointId": endpoint_id, "policy": policy}, name="s3-policy")


def test_a_separate_endpoint_policy_replaces_the_inline_one_and_is_judged_itself() -> None:
    assert run(endpoint(DEFAULT), separate_policy(doc(PERIMETER))) == []
    bad = separate_policy(DEFAULT)
    [(message, urn)] = run(endpoint(DEFAULT), bad)
    assert urn == bad.urn and message.startswith("VpcEndpointPolicy 's3-policy': `policy` statement #1")


def test_a_separate_policy_of_another_endpoint_does_not_cover_this_one() -> None:
    found = run(endpoint(None), separate_policy(doc(PERIMETER), endpoint_id="vpce-other"))
    assert len(found) == 1 and "has no endpoint policy" in found[0][0]


def test_an_endpoint_policy_that_is_not_json_is_reported() -> None:
    found = run(endpoint("{not json"))
    assert len(found) == 1 and "could not be read" in found[0][0]
