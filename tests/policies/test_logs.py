"""CloudWatch log groups: CMK and retention."""

from __future__ import annotations

import pytest
from openbanking_policies import logs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import run_resource_policy

KEY = "arn:aws:kms:eu-west-2:111111111111:key/abc"


@pytest.mark.parametrize("props", [
    {"kmsKeyId": KEY, "retentionInDays": 365.0},
    {"kmsKeyId": KEY, "retentionInDays": 3653.0},
    {"kmsKeyId": KEY, "retentionInDays": 0.0},
    {"kmsKeyId": KEY},
    {"kmsKeyId": UNKNOWN_STRING_VALUE, "retentionInDays": 400.0},
])
def test_passes(props):
    assert run_resource_policy(logs.logs, logs.LOG_GROUP, props) == []


def test_missing_key_fails():
    msgs = run_resource_policy(logs.logs, logs.LOG_GROUP, {"retentionInDays": 365.0})
    assert len(msgs) == 1 and "`kmsKeyId` is not set" in msgs[0]


def test_short_retention_fails_with_default():
    msgs = run_resource_policy(logs.logs, logs.LOG_GROUP, {"kmsKeyId": KEY, "retentionInDays": 30.0})
    assert msgs == ["`retentionInDays` is 30; it must be at least 365 (or 0 to never expire)"]


def test_retention_follows_config():
    props = {"kmsKeyId": KEY, "retentionInDays": 30.0}
    assert run_resource_policy(logs.logs, logs.LOG_GROUP, props, config={"minRetentionDays": 30}) == []
    assert run_resource_policy(logs.logs, logs.LOG_GROUP, props, config={"minRetentionDays": 90})


def test_schema_default():
    assert logs.logs.config_schema is not None
    assert logs.logs.config_schema.properties["minRetentionDays"]["default"] == 365
