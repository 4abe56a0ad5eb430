"""IAM rules: least-privilege identity policies and role trust policies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openbanking_policies import iam
from pulumi_policy import PolicyProviderResource, ResourceValidationArgs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from tests.policies._support import options, run_resource_policy, urn_of

ACCOUNT = "111111111111"
FOREIGN = "222222222222"
TABLE = f"arn:aws:dynamodb:eu-west-2:{ACCOUNT}:table/consents"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# ob-iam-least-privilege ---------------------------------------------------------------------------


@pytest.mark.parametrize("typ", iam.POLICY_DOCUMENT_TYPES)
def test_specific_identity_policy_passes(typ: str) -> None:
    policy = doc(allow(["dynamodb:PutItem", "dynamodb:GetItem"], TABLE),
                 allow(["xray:PutTraceSegments", "cloudwatch:PutMetricData"], "*"),
                 allow(["ec2:DescribeNetworkInterfaces", "s3:ListAllMyBuckets"], "*"),
                 {"Effect": "Deny", "Action": "*", "Resource": "*",
                  "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    assert run_resource_policy(iam.iam_least_privilege, typ, {"policy": policy}) == []


@pytest.mark.parametrize(("statement", "fragment"), [
    (allow("*", "*"), 'allows Action "*"'),
    (allow("*:*", TABLE), 'allows Action "*"'),
    (allow("dynamodb:*", TABLE), '["dynamodb:*"]'),
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "NotAction"),
    (allow(["sqs:SendMessage", "sqs:ReceiveMessage"], "*"), 'write actions ["sqs:SendMessage"] on Resource "*"'),
    (allow("kms:Decrypt", "*"), '["kms:Decrypt"]'),
    (allow("s3:Put*", "*"), '["s3:Put*"]'),
    ({"Effect": "Allow", "Action": "s3:PutObject", "NotResource": TABLE}, '["s3:PutObject"]'),
])
def test_broad_identity_policy_fails(statement: dict[str, Any], fragment: str) -> None:
    msgs = run_resource_policy(iam.iam_least_privilege, iam.ROLE_POLICY, {"policy": doc(statement)})
    assert len(msgs) == 1, msgs
    assert msgs[0].startswith("`policy` statement #1 ") and fragment in msgs[0], msgs[0]


def test_write_on_every_resource_with_a_condition_passes() -> None:
    statement = allow("cloudwatch:PutDashboard", "*",
                      Condition={"StringEquals": {"aws:ResourceTag/team": "payments"}})
    assert run_resource_policy(iam.iam_least_privilege, iam.IAM_POLICY, {"policy": doc(statement)}) == []


def test_role_inline_policies_and_managed_admin_policies() -> None:
    props = {
        "assumeRolePolicy": doc({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                 "Action": "sts:AssumeRole"}),
        "inlinePolicies": [{"name": "ok", "policy": doc(allow("dynamodb:GetItem", TABLE))},
                           {"name": "admin", "policy": doc({"Sid": "Everything", **allow("*", "*")})}],
        "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                              "arn:aws:iam::aws:policy/AdministratorAccess"],
    }
    msgs = run_resource_policy(iam.iam_least_privilege, iam.ROLE, props)
    assert len(msgs) == 2, msgs
    assert msgs[0].startswith('`inlinePolicies[1].policy` statement "Everything" allows Action "*"')
    assert msgs[1].startswith("`managedPolicyArns[1]` is \"arn:aws:iam::aws:policy/AdministratorAccess\"")


@pytest.mark.parametrize("typ", iam.ATTACHMENT_TYPES)
@pytest.mark.parametrize(("arn", "bad"), [
    ("arn:aws:iam::aws:policy/AdministratorAccess", True),
    ("arn:aws:iam::aws:policy/PowerUserAccess", True),
    ("arn:aws-us-gov:iam::aws:policy/IAMFullAccess", True),
    ("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", False),
    (f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess", False),  # a customer policy of that name is judged on
])
def test_admin_managed_policy_attachments(typ: str, arn: str, bad: bool) -> None:
    msgs = run_resource_policy(iam.iam_least_privilege, typ, {"role": "r", "policyArn": arn})
    assert (len(msgs) == 1 and "grants administration" in msgs[0]) if bad else msgs == []


def test_unknown_or_unreadable_policy() -> None:
    assert run_resource_policy(iam.iam_least_privilege, iam.ROLE_POLICY, {"policy": UNKNOWN_STRING_VALUE}) == []
    msgs = run_resource_policy(iam.iam_least_privilege, iam.ROLE_POLICY, {"policy": "{not json"})
    assert len(msgs) == 1 and "could not be read" in msgs[0]


@pytest.mark.parametrize(("action", "write"), [
    ("s3:GetObject", False), ("ec2:Describe*", False), ("dynamodb:Query", False), ("s3:PutObject", True),
    ("s3:*", True), ("*", True), ("kms:Decrypt", True), ("iam:PassRole", True), ("ec2:*Instance*", True),
])
def test_is_write(action: str, write: bool) -> None:
    assert iam.is_write(action) is write


# ob-iam-role-trust --------------------------------------------------------------------------------


def trust(*statements: dict[str, Any], accounts: list[str] | None = None) -> list[str]:
    """Messages of ob-iam-role-trust for a role whose provider pins `accounts` (default: ACCOUNT)."""
    props = {"assumeRolePolicy": doc(*statements)}
    provider = PolicyProviderResource(
        "pulumi:providers:aws",
        unknown_checking_proxy({"allowedAccountIds": json.dumps([ACCOUNT] if accounts is None else accounts)}),
        "urn:pulumi:test::lz::pulumi:providers:aws::team", "team")
    args = ResourceValidationArgs(iam.ROLE, unknown_checking_proxy(props), urn_of(iam.ROLE, "role"), "role",
                                  options(), provider, {}, {})
    messages: list[str] = []
    assert iam.iam_role_trust.validate is not None
    validate = iam.iam_role_trust.validate
    assert callable(validate)
    validate(args, lambda msg, urn=None: messages.append(msg))
    return messages


def assume(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


@pytest.mark.parametrize("statement", [
    assume({"Service": "lambda.amazonaws.com"}),
    assume({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
    assume({"AWS": f"arn:aws:iam::{FOREIGN}:role/deployer"}),
    assume({"AWS": f"arn:aws:iam::{FOREIGN}:root"},
           Condition={"StringEquals": {"sts:ExternalId": "c0ffee"}}),
    assume("*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
    {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
     "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
     "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                   "StringLike": {"token.actions.githubusercontent.com:sub": "repo:example-bank/lz:*"}}},
    {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"},
])
def test_specific_trust_passes(statement: dict[str, Any]) -> None:
    assert trust(statement) == []


@pytest.mark.parametrize(("statement", "fragment"), [
    (assume("*"), 'Principal "*"'),
    (assume({"AWS": "*"}), 'Principal "*"'),
    (assume({"AWS": "*"}, Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}), 'Principal "*"'),
    (assume({"AWS": "*"}, Condition={"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}}), 'Principal "*"'),
    (assume({"AWS": f"arn:aws:iam::{FOREIGN}:root"}), f'whole account(s) ["{FOREIGN}"]'),
    (assume({"AWS": FOREIGN}), f'whole account(s) ["{FOREIGN}"]'),
    ({"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
      "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/idp.example.com"}}, "without a Condition"),
    ({"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
      "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
      "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}},
     "token.actions.githubusercontent.com:sub"),
])
def test_open_trust_fails(statement: dict[str, Any], fragment: str) -> None:
    msgs = trust({"Sid": "Trust", **statement})
    assert len(msgs) == 1, msgs
    assert msgs[0].startswith('`assumeRolePolicy` statement "Trust" ') and fragment in msgs[0], msgs[0]


def test_own_account_root_passes_only_when_the_provider_names_the_account() -> None:
    statement = assume({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    assert trust(statement) == []
    msgs = trust(statement, accounts=[])
    assert len(msgs) == 1 and "pins no allowedAccountIds" in msgs[0]


def test_trust_as_an_object_and_unknown() -> None:
    props = {"assumeRolePolicy": {"Version": "2012-10-17", "Statement": [assume("*")]}}
    assert len(run_resource_policy(iam.iam_role_trust, iam.ROLE, props)) == 1
    assert run_resource_policy(iam.iam_role_trust, iam.ROLE, {"assumeRolePolicy": UNKNOWN_STRING_VALUE}) == []
