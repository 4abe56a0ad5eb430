"""S3 rules: public access blocks, SSE-KMS, TLS-only bucket policies, versioning/logging, ownership."""

from __future__ import annotations

import json

import pytest
from openbanking_policies import storage
from openbanking_policies._base import METADATA
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE

from tests.policies._support import run_resource_policy

PAB_OK = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
          "restrictPublicBuckets": True, "bucket": "b"}
KEY = "arn:aws:kms:eu-west-2:111111111111:key/abc"


@pytest.mark.parametrize("policy,typ", [(storage.s3_pab, storage.BUCKET_PAB),
                                        (storage.s3_account_pab, storage.ACCOUNT_PAB)])
def test_pab_passes_with_all_four(policy, typ):
    assert run_resource_policy(policy, typ, PAB_OK) == []


@pytest.mark.parametrize("policy,typ", [(storage.s3_pab, storage.BUCKET_PAB),
                                        (storage.s3_account_pab, storage.ACCOUNT_PAB)])
def test_pab_false_and_missing_flags_are_violations(policy, typ):
    props = {"blockPublicAcls": False, "blockPublicPolicy": True, "bucket": "b"}
    msgs = run_resource_policy(policy, typ, props)
    assert len(msgs) == 3
    assert any("`blockPublicAcls` is false" in m for m in msgs)
    assert any("`ignorePublicAcls` is not set (AWS default: false)" in m for m in msgs)


def test_pab_unknown_flag_is_not_a_violation():
    props = dict(PAB_OK, blockPublicAcls=UNKNOWN_BOOLEAN_VALUE)
    assert run_resource_policy(storage.s3_pab, storage.BUCKET_PAB, props) == []


def test_pab_ignores_other_types():
    assert run_resource_policy(storage.s3_pab, storage.BUCKET, {"bucket": "b"}) == []


def test_critical_pab_policies_cannot_be_downgraded():
    assert METADATA["ob-s3-pab"].nonprod_may_downgrade is False
    assert METADATA["ob-s3-account-pab"].nonprod_may_downgrade is False


def _sse(rule):
    return {"bucket": "b", "rules": [rule]}


@pytest.mark.parametrize("typ", [storage.SSE, storage.SSE_V2])
def test_sse_kms_with_cmk_and_bucket_key_passes(typ):
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY},
            "bucketKeyEnabled": True}
    assert run_resource_policy(storage.s3_sse_kms, typ, _sse(rule)) == []


def test_sse_dsse_needs_no_bucket_key():
    rule = {"applyServerSideEncryptionByDefault": [{"sseAlgorithm": "aws:kms:dsse", "kmsMasterKeyId": KEY}]}
    assert run_resource_policy(storage.s3_sse_kms, storage.SSE, _sse(rule)) == []


def test_sse_aes256_is_a_violation():
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "bucketKeyEnabled": True}
    msgs = run_resource_policy(storage.s3_sse_kms, storage.SSE, _sse(rule))
    assert len(msgs) == 1 and "sseAlgorithm` is \"AES256\"" in msgs[0]


def test_sse_without_key_or_bucket_key_is_a_violation():
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}
    msgs = run_resource_policy(storage.s3_sse_kms, storage.SSE, _sse(rule))
    assert any("kmsMasterKeyId` is not set" in m for m in msgs)
    assert any("bucketKeyEnabled` is not set" in m for m in msgs)


def test_sse_managed_alias_is_a_violation():
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                   "kmsMasterKeyId": "alias/aws/s3"},
            "bucketKeyEnabled": True}
    msgs = run_resource_policy(storage.s3_sse_kms, storage.SSE, _sse(rule))
    assert len(msgs) == 1 and "alias/aws/s3" in msgs[0]


def test_sse_unknown_key_at_preview_is_not_a_violation():
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                   "kmsMasterKeyId": UNKNOWN_STRING_VALUE},
            "bucketKeyEnabled": True}
    assert run_resource_policy(storage.s3_sse_kms, storage.SSE, _sse(rule)) == []


def test_sse_empty_rules_is_a_violation():
    assert run_resource_policy(storage.s3_sse_kms, storage.SSE, {"bucket": "b", "rules": []})


@pytest.mark.parametrize("typ", [storage.BUCKET, storage.BUCKET_V2])
def test_inline_sse_on_bucket_is_checked_only_when_present(typ):
    assert run_resource_policy(storage.s3_sse_kms, typ, {"bucket": "b"}) == []
    bad = {"serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault":
                                                          {"sseAlgorithm": "AES256"}}}}
    msgs = run_resource_policy(storage.s3_sse_kms, typ, bad)
    assert len(msgs) == 1 and "serverSideEncryptionConfiguration.rule" in msgs[0]
    good = {"serverSideEncryptionConfiguration": {"rule": {
        "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY},
        "bucketKeyEnabled": True}}}
    assert run_resource_policy(storage.s3_sse_kms, typ, good) == []


def test_inline_sse_legacy_list_shape():
    bad = {"serverSideEncryptionConfigurations": [{"rules": [{"applyServerSideEncryptionByDefault":
                                                              [{"sseAlgorithm": "AES256"}]}]}]}
    assert run_resource_policy(storage.s3_sse_kms, storage.BUCKET_V2, bad)


def _bucket_policy(*stmts):
    return {"bucket": "b", "policy": json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})}


DENY_HTTP = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def test_tls_only_policy_passes():
    assert run_resource_policy(storage.s3_tls_only, storage.BUCKET_POLICY, _bucket_policy(DENY_HTTP)) == []


def test_tls_only_accepts_aws_principal_and_bool_false():
    stmt = dict(DENY_HTTP, Principal={"AWS": "*"}, Action=["s3:*"],
                Condition={"Bool": {"aws:securetransport": False}})
    assert run_resource_policy(storage.s3_tls_only, storage.BUCKET_POLICY, _bucket_policy(stmt)) == []


def test_policy_without_tls_deny_is_a_violation():
    allow = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::b/*"}
    msgs = run_resource_policy(storage.s3_tls_only, storage.BUCKET_POLICY, _bucket_policy(allow))
    assert len(msgs) == 1 and "aws:SecureTransport" in msgs[0]


def test_tls_deny_on_partial_actions_is_a_violation():
    stmt = dict(DENY_HTTP, Action="s3:GetObject")
    assert run_resource_policy(storage.s3_tls_only, storage.BUCKET_POLICY, _bucket_policy(stmt))


def test_unparseable_bucket_policy_is_a_violation():
    msgs = run_resource_policy(storage.s3_tls_only, storage.BUCKET_POLICY, {"bucket": "b", "policy": "{nope"})
    assert len(msgs) == 1 and "not valid JSON" in msgs[0]


def test_unknown_bucket_policy_is_not_a_violation():
    props = {"bucket": "b", "policy": UNKNOWN_STRING_VALUE}
    assert run_resource_policy(storage.s3_tls_only, storage.BUCKET_POLICY, props) == []


@pytest.mark.parametrize("typ", [storage.VERSIONING, storage.VERSIONING_V2])
def test_versioning_enabled_passes_suspended_fails(typ):
    ok = {"bucket": "b", "versioningConfiguration": {"status": "Enabled"}}
    assert run_resource_policy(storage.s3_versioning_logging, typ, ok) == []
    bad = {"bucket": "b", "versioningConfiguration": {"status": "Suspended"}}
    msgs = run_resource_policy(storage.s3_versioning_logging, typ, bad)
    assert len(msgs) == 1 and "`versioningConfiguration.status` is \"Suspended\"" in msgs[0]


@pytest.mark.parametrize("typ", [storage.LOGGING, storage.LOGGING_V2])
def test_logging_needs_target_bucket(typ):
    ok = {"bucket": "b", "targetBucket": "logs"}
    assert run_resource_policy(storage.s3_versioning_logging, typ, ok) == []
    assert run_resource_policy(storage.s3_versioning_logging, typ,
                               {"bucket": "b", "targetBucket": UNKNOWN_STRING_VALUE}) == []
    msgs = run_resource_policy(storage.s3_versioning_logging, typ, {"bucket": "b"})
    assert len(msgs) == 1 and "`targetBucket` is not set" in msgs[0]


def test_inline_versioning_and_logging_on_bucket():
    assert run_resource_policy(storage.s3_versioning_logging, storage.BUCKET, {"bucket": "b"}) == []
    ok = {"versioning": {"enabled": True}, "logging": {"targetBucket": "logs"}}
    assert run_resource_policy(storage.s3_versioning_logging, storage.BUCKET, ok) == []
    bad = {"versioning": {"enabled": False}, "logging": {"targetPrefix": "x/"}}
    msgs = run_resource_policy(storage.s3_versioning_logging, storage.BUCKET, bad)
    assert len(msgs) == 2
    assert any("`versioning.enabled` is false" in m for m in msgs)


def test_ownership_controls():
    ok = {"bucket": "b", "rule": {"objectOwnership": "BucketOwnerEnforced"}}
    assert run_resource_policy(storage.s3_ownership_lock, storage.OWNERSHIP, ok) == []
    bad = {"bucket": "b", "rule": [{"objectOwnership": "ObjectWriter"}]}
    msgs = run_resource_policy(storage.s3_ownership_lock, storage.OWNERSHIP, bad)
    assert len(msgs) == 1 and "\"ObjectWriter\"" in msgs[0]


@pytest.mark.parametrize("tags", [{"DataClassification": "audit"}, {"lz:audit": "true"}])
def test_audit_bucket_needs_object_lock(tags):
    msgs = run_resource_policy(storage.s3_ownership_lock, storage.BUCKET, {"tags": tags})
    assert len(msgs) == 1 and "objectLockEnabled" in msgs[0]
    assert run_resource_policy(storage.s3_ownership_lock, storage.BUCKET,
                               {"tags": tags, "objectLockEnabled": True}) == []


def test_non_audit_bucket_needs_no_object_lock():
    props = {"tags": {"DataClassification": "confidential"}}
    assert run_resource_policy(storage.s3_ownership_lock, storage.BUCKET, props) == []


def test_audit_bucket_via_provider_default_tags_and_legacy_lock_config():
    props = {"tagsAll": {"DataClassification": "Audit"},
             "objectLockConfiguration": {"objectLockEnabled": "Enabled"}}
    assert run_resource_policy(storage.s3_ownership_lock, storage.BUCKET_V2, props) == []
    assert run_resource_policy(storage.s3_ownership_lock, storage.BUCKET_V2, {"tagsAll": props["tagsAll"]})
