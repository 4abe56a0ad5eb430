"""KMS key and Secrets Manager rules."""

from __future__ import annotations

import json

import pytest
from openbanking_policies import keys_secrets as ks
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import run_resource_policy

KEY = "arn:aws:kms:eu-west-2:111111111111:key/abc"


def test_symmetric_key_with_rotation_passes():
    props = {"enableKeyRotation": True, "rotationPeriodInDays": 365.0, "deletionWindowInDays": 30.0}
    assert run_resource_policy(ks.kms_rotation, ks.KMS_KEY, props) == []


def test_symmetric_key_without_rotation_fails():
    msgs = run_resource_policy(ks.kms_rotation, ks.KMS_KEY, {"description": "k"})
    assert msgs == ["`enableKeyRotation` is not set (AWS default: false); "
                    "symmetric keys must rotate automatically"]
    msgs = run_resource_policy(ks.kms_rotation, ks.KMS_KEY, {"keySpec": "SYMMETRIC_DEFAULT",
                                                             "enableKeyRotation": False})
    assert len(msgs) == 1 and "is false" in msgs[0]


@pytest.mark.parametrize("spec_key", ["keySpec", "customerMasterKeySpec"])
def test_asymmetric_keys_need_no_rotation(spec_key):
    assert run_resource_policy(ks.kms_rotation, ks.KMS_KEY, {spec_key: "RSA_2048"}) == []


@pytest.mark.parametrize("spec", ["RSA_2048", "RSA_3072", "ECC_NIST_P256", "HMAC_256"])
def test_signing_keys_keep_the_deletion_window_but_cannot_rotate(spec):
    """KMS rejects automatic rotation for asymmetric (and HMAC) keys: the PS256 response-signing key passes."""
    signing = {"keySpec": spec, "keyUsage": "SIGN_VERIFY", "deletionWindowInDays": 30.0}
    assert run_resource_policy(ks.kms_rotation, ks.KMS_KEY, signing) == []
    short_window = run_resource_policy(ks.kms_rotation, ks.KMS_KEY, dict(signing, deletionWindowInDays=7.0))
    assert len(short_window) == 1 and "`deletionWindowInDays` is 7" in short_window[0]


def test_rotation_period_and_deletion_window():
    props = {"enableKeyRotation": True, "rotationPeriodInDays": 730.0, "deletionWindowInDays": 7.0}
    msgs = run_resource_policy(ks.kms_rotation, ks.KMS_KEY, props)
    assert any("`rotationPeriodInDays` is 730" in m for m in msgs)
    assert any("`deletionWindowInDays` is 7" in m for m in msgs)


def _key_policy(*stmts):
    return {"policy": json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})}


ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "kms:*", "Resource": "*"}


@pytest.mark.parametrize("typ", [ks.KMS_KEY, ks.KMS_KEY_POLICY])
def test_key_policy_scoped_passes(typ):
    conditioned = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                   "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}}}
    assert run_resource_policy(ks.kms_policy, typ, _key_policy(ROOT, conditioned)) == []


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::1:root", "*"]}])
def test_key_policy_open_to_everyone_fails(principal):
    stmt = {"Sid": "Open", "Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"}
    msgs = run_resource_policy(ks.kms_policy, ks.KMS_KEY, _key_policy(ROOT, stmt))
    assert len(msgs) == 1 and "statement \"Open\"" in msgs[0]


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"kms:ViaService": "s3.eu-west-2.amazonaws.com"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringNotEquals": {"aws:PrincipalOrgID": "o-123"}},
    {"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}},
])
def test_key_policy_condition_that_does_not_limit_the_caller_fails(condition):
    stmt = {"Sid": "Via", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
            "Condition": condition}
    msgs = run_resource_policy(ks.kms_policy, ks.KMS_KEY, _key_policy(ROOT, stmt))
    assert len(msgs) == 1 and "does not limit callers" in msgs[0], msgs


def test_key_policy_caller_account_with_via_service_passes():
    stmt = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "sqs.eu-west-2.amazonaws.com",
                                                             "kms:CallerAccount": "111111111111"}}}
    assert run_resource_policy(ks.kms_policy, ks.KMS_KEY_POLICY, _key_policy(ROOT, stmt)) == []


def test_key_policy_not_principal_fails():
    stmt = {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:role/x"}, "Action": "kms:*", "Resource": "*"}
    msgs = run_resource_policy(ks.kms_policy, ks.KMS_KEY, _key_policy(ROOT, stmt))
    assert len(msgs) == 1 and "NotPrincipal" in msgs[0] and "statement #2" in msgs[0]


def test_key_policy_absent_or_unknown_passes_and_garbage_fails():
    assert run_resource_policy(ks.kms_policy, ks.KMS_KEY, {}) == []
    assert run_resource_policy(ks.kms_policy, ks.KMS_KEY, {"policy": UNKNOWN_STRING_VALUE}) == []
    assert run_resource_policy(ks.kms_policy, ks.KMS_KEY, {"policy": "[1, 2"})


def test_secret_cmk():
    assert run_resource_policy(ks.secrets, ks.SECRET, {"kmsKeyId": KEY}) == []
    assert run_resource_policy(ks.secrets, ks.SECRET, {"kmsKeyId": UNKNOWN_STRING_VALUE}) == []
    msgs = run_resource_policy(ks.secrets, ks.SECRET, {"name": "db"})
    assert len(msgs) == 1 and "`kmsKeyId` is not set" in msgs[0]
    assert run_resource_policy(ks.secrets, ks.SECRET, {"kmsKeyId": "alias/aws/secretsmanager"})


@pytest.mark.parametrize("rules,ok", [
    ({"automaticallyAfterDays": 30.0}, True),
    ({"automaticallyAfterDays": 90.0}, True),
    ({"automaticallyAfterDays": 180.0}, False),
    ({"scheduleExpression": "rate(30 days)"}, True),
    ({"scheduleExpression": "rate(120 days)"}, False),
    ({"scheduleExpression": "cron(0 4 1 * ? *)"}, True),
    ({}, False),
])
def test_secret_rotation(rules, ok):
    msgs = run_resource_policy(ks.secrets, ks.SECRET_ROTATION, {"secretId": "s", "rotationRules": rules})
    assert (msgs == []) is ok
