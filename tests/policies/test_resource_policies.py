"""Resource-policy rules: no grants to `*` without an organization/source condition; event bus policies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openbanking_policies import resource_policies as rp
from pulumi_policy import PolicyProviderResource, ResourceValidationArgs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from tests.policies._support import options, run_resource_policy, urn_of

ACCOUNT = "111111111111"
FOREIGN = "222222222222"
ORG = "o-abc123def4"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def grant(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage", "Resource": "*", **extra}


TLS_DENY = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


# ob-resource-policy-public ------------------------------------------------------------------------


@pytest.mark.parametrize("typ", rp.POLICY_TYPES)
@pytest.mark.parametrize("statement", [
    grant({"Service": "events.amazonaws.com"}, Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:events:r"}}),
    grant({"AWS": f"arn:aws:iam::{FOREIGN}:role/publisher"}),
    grant("*", Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}}),
    grant({"AWS": "*"}, Condition={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [f"{ORG}/r-ab12/*"]}}),
    grant("*", Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
    TLS_DENY,
])
def test_scoped_resource_policy_passes(typ: str, statement: dict[str, Any]) -> None:
    assert run_resource_policy(rp.resource_policy_public, typ, {"policy": doc(statement)}) == []


@pytest.mark.parametrize("typ", rp.POLICY_TYPES)
@pytest.mark.parametrize(("statement", "fragment"), [
    (grant("*"), 'Principal "*"'),
    (grant({"AWS": ["arn:aws:iam::1:root", "*"]}), "Principal"),
    (grant("*", Condition={"Bool": {"aws:SecureTransport": "true"}}), 'Principal "*"'),
    (grant("*", Condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG}}), 'Principal "*"'),
    (grant("*", Condition={"StringLike": {"aws:SourceArn": "*"}}), 'Principal "*"'),
    (grant("*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), 'Principal "*"'),
    ({"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "s3:GetObject",
      "Resource": "*"}, "everyone else"),
])
def test_public_resource_policy_fails(typ: str, statement: dict[str, Any], fragment: str) -> None:
    msgs = run_resource_policy(rp.resource_policy_public, typ, {"policy": doc(TLS_DENY, {"Sid": "Open", **statement})})
    assert len(msgs) == 1, msgs
    assert msgs[0].startswith('`policy` statement "Open" allows ') and fragment in msgs[0], msgs[0]
    assert "aws:PrincipalOrgID" in msgs[0]


def test_bucket_policy_public_read_is_reported_even_with_a_public_access_block() -> None:
    """The policy is judged on its own: a public access block elsewhere does not make it right."""
    policy = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    msgs = run_resource_policy(rp.resource_policy_public, rp.BUCKET_POLICY, {"bucket": "b", "policy": policy})
    assert len(msgs) == 1 and '["s3:GetObject"]' in msgs[0]


def test_resource_policy_absent_unknown_or_object() -> None:
    assert run_resource_policy(rp.resource_policy_public, rp.QUEUE, {"name": "q"}) == []
    assert run_resource_policy(rp.resource_policy_public, rp.QUEUE, {"policy": UNKNOWN_STRING_VALUE}) == []
    as_object = {"policy": {"Version": "2012-10-17", "Statement": [grant("*")]}}
    assert len(run_resource_policy(rp.resource_policy_public, rp.BUCKET, as_object)) == 1


# ob-eventbus-policy -------------------------------------------------------------------------------


def run_bus(typ: str, props: dict[str, Any], accounts: list[str] | None = None) -> list[str]:
    provider = PolicyProviderResource(
        "pulumi:providers:aws",
        unknown_checking_proxy({"allowedAccountIds": json.dumps([ACCOUNT] if accounts is None else accounts)}),
        "urn:pulumi:test::lz::pulumi:providers:aws::events", "events")
    args = ResourceValidationArgs(typ, unknown_checking_proxy(props), urn_of(typ, "bus"), "bus", options(),
                                  provider, {}, {})
    messages: list[str] = []
    validate = rp.eventbus_policy.validate
    assert callable(validate)
    validate(args, lambda msg, urn=None: messages.append(msg))
    return messages


def put(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "events:PutEvents",
            "Resource": f"arn:aws:events:eu-west-2:{ACCOUNT}:event-bus/ob", **extra}


@pytest.mark.parametrize("statement", [
    put({"AWS": f"arn:aws:iam::{FOREIGN}:role/pis-publisher"}),
    put({"AWS": f"arn:aws:iam::{FOREIGN}:root"}, Condition={"StringEquals": {"events:source": ["ob.pis"]}}),
    put({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
    put("*", Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}}),
])
def test_scoped_bus_policy_passes(statement: dict[str, Any]) -> None:
    assert run_bus(rp.EVENT_BUS_POLICY, {"eventBusName": "ob", "policy": doc(statement)}) == []


@pytest.mark.parametrize(("statement", "fragment"), [
    (put("*"), 'Principal "*"'),
    (put("*", Condition={"StringEquals": {"events:source": ["ob.pis"]}}), 'Principal "*"'),
    (put({"AWS": f"arn:aws:iam::{FOREIGN}:root"}), f'whole account(s) ["{FOREIGN}"]'),
    (put({"AWS": FOREIGN}), f'whole account(s) ["{FOREIGN}"]'),
])
def test_open_bus_policy_fails(statement: dict[str, Any], fragment: str) -> None:
    msgs = run_bus(rp.EVENT_BUS_POLICY, {"eventBusName": "ob", "policy": doc(statement)})
    assert len(msgs) == 1 and msgs[0].startswith("`policy` statement #1 ") and fragment in msgs[0], msgs


def test_event_permission() -> None:
    org = {"key": "aws:PrincipalOrgID", "type": "StringEquals", "value": ORG}
    assert run_bus(rp.EVENT_PERMISSION, {"principal": "*", "statementId": "org", "condition": org}) == []
    assert run_bus(rp.EVENT_PERMISSION, {"principal": ACCOUNT, "statementId": "self"}) == []
    open_msgs = run_bus(rp.EVENT_PERMISSION, {"principal": "*", "statementId": "any"})
    assert len(open_msgs) == 1 and "any AWS account" in open_msgs[0]
    foreign = run_bus(rp.EVENT_PERMISSION, {"principal": FOREIGN, "statementId": "pis"})
    assert len(foreign) == 1 and f'"{FOREIGN}"' in foreign[0]
    assert run_bus(rp.EVENT_PERMISSION, {"principal": UNKNOWN_STRING_VALUE, "statementId": "x"}) == []


def subscribe(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "logs:PutSubscriptionFilter",
            "Resource": "arn:aws:logs:eu-west-2:1:destination:d", **extra}


@pytest.mark.parametrize("statement", [
    subscribe("*", Condition={"StringEquals": {"aws:PrincipalOrgID": [ORG]}}),
    subscribe({"AWS": FOREIGN}),
])
def test_scoped_log_destination_policy_passes(statement: dict[str, Any]) -> None:
    props = {"destinationName": "d", "accessPolicy": doc(statement)}
    assert run_resource_policy(rp.resource_policy_public, rp.LOG_DESTINATION_POLICY, props) == []


def test_open_log_destination_policy_fails() -> None:
    """Anyone could subscribe a log group to the destination and write into the log archive."""
    props = {"destinationName": "d", "accessPolicy": doc({"Sid": "Open", **subscribe("*")})}
    msgs = run_resource_policy(rp.resource_policy_public, rp.LOG_DESTINATION_POLICY, props)
    assert len(msgs) == 1 and msgs[0].startswith('`accessPolicy` statement "Open" allows Principal "*" to '
                                                 '["logs:PutSubscriptionFilter"]'), msgs
