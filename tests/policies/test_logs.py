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


# --- ob-firehose-encryption --------------------------------------------------------------------------------------

S3_DESTINATION = {"bucketArn": "arn:aws:s3:::b", "roleArn": "arn:aws:iam::1:role/r", "kmsKeyArn": KEY}
ENCRYPTED = {"enabled": True, "keyType": "CUSTOMER_MANAGED_CMK", "keyArn": KEY}


@pytest.mark.parametrize("props", [
    {"destination": "extended_s3", "serverSideEncryption": ENCRYPTED, "extendedS3Configuration": S3_DESTINATION},
    # a Kinesis source: the source stream's encryption applies, Firehose refuses its own
    {"destination": "extended_s3", "kinesisSourceConfiguration": {"kinesisStreamArn": "arn:s", "roleArn": "arn:r"},
     "extendedS3Configuration": S3_DESTINATION},
])
def test_firehose_passes(props):
    assert run_resource_policy(logs.firehose_encryption, logs.FIREHOSE, props) == []


def test_firehose_without_server_side_encryption_fails():
    msgs = run_resource_policy(logs.firehose_encryption, logs.FIREHOSE,
                               {"destination": "extended_s3", "extendedS3Configuration": S3_DESTINATION})
    assert msgs == ["`serverSideEncryption.enabled` is not set (AWS default: false); it must be true: records wait "
                    "in the stream's buffer",
                    '`serverSideEncryption.keyType` is not set (AWS default: "AWS_OWNED_CMK"); it must be '
                    '"CUSTOMER_MANAGED_CMK"']


def test_firehose_objects_without_a_key_fail():
    destination = {k: v for k, v in S3_DESTINATION.items() if k != "kmsKeyArn"}
    msgs = run_resource_policy(logs.firehose_encryption, logs.FIREHOSE, {
        "destination": "extended_s3", "serverSideEncryption": ENCRYPTED, "extendedS3Configuration": destination})
    assert len(msgs) == 1 and "`extendedS3Configuration.kmsKeyArn` is not set" in msgs[0]
