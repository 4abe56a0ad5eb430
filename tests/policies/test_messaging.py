"""Messaging: SQS, SNS and EventBridge with customer-managed keys."""

from __future__ import annotations

import pytest
from openbanking_policies import messaging as msg
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import run_resource_policy

KEY = "arn:aws:kms:eu-west-2:111111111111:key/abc"
CASES = [(msg.QUEUE, "kmsMasterKeyId"), (msg.TOPIC, "kmsMasterKeyId"), (msg.EVENT_BUS, "kmsKeyIdentifier")]


@pytest.mark.parametrize("typ,prop", CASES)
def test_cmk_passes(typ, prop):
    assert run_resource_policy(msg.msg_cmk, typ, {prop: KEY}) == []


@pytest.mark.parametrize("typ,prop", CASES)
def test_unknown_key_at_preview_passes(typ, prop):
    assert run_resource_policy(msg.msg_cmk, typ, {prop: UNKNOWN_STRING_VALUE}) == []


@pytest.mark.parametrize("typ,prop", CASES)
def test_missing_key_fails(typ, prop):
    msgs = run_resource_policy(msg.msg_cmk, typ, {"name": "x"})
    assert len(msgs) == 1 and f"`{prop}` is not set" in msgs[0]


@pytest.mark.parametrize("typ,prop,managed", [
    (msg.QUEUE, "kmsMasterKeyId", "alias/aws/sqs"),
    (msg.TOPIC, "kmsMasterKeyId", "arn:aws:kms:eu-west-2:111111111111:alias/aws/sns"),
    (msg.EVENT_BUS, "kmsKeyIdentifier", "alias/aws/events"),
])
def test_aws_managed_key_fails(typ, prop, managed):
    msgs = run_resource_policy(msg.msg_cmk, typ, {prop: managed})
    assert len(msgs) == 1 and managed in msgs[0] and "AWS-managed" in msgs[0]


def test_sqs_managed_sse_is_not_enough():
    msgs = run_resource_policy(msg.msg_cmk, msg.QUEUE, {"sqsManagedSseEnabled": True})
    assert len(msgs) == 1 and "SQS-managed SSE" in msgs[0]
