"""Components under Pulumi mocks, in the style of Pulumi's unit-testing guide: one property per test."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.account_baseline import AccountBaseline, AccountBaselineArgs
from components.kms_key import KmsKey, KmsKeyArgs
from components.log_bucket import LogBucket, LogBucketArgs
from lz.mocks import Placement, RealisticMocks

ACCOUNT = "111122223333"


class Recorder:
    """The smallest recorder the realistic mocks need: one account, resources kept by type."""

    def __init__(self) -> None:
        self.resources: list[tuple[str, str, dict[str, Any]]] = []

    def placement_of(self, provider_ref: str | None) -> Placement:
        return Placement("test", ACCOUNT, "eu-west-2")

    def default_tags_of(self, provider_ref: str | None) -> dict[str, str]:
        return {}

    def urn_of(self, args: pulumi.runtime.MockResourceArgs) -> str:
        return f"urn:pulumi:test::components::{args.typ}::{args.name}"

    def record(self, args: pulumi.runtime.MockResourceArgs, id_: str, state: dict[str, Any]) -> None:
        self.resources.append((args.typ, args.name, dict(args.inputs)))

    def stack_outputs(self, stack: str) -> dict[str, Any]:
        return {}

    def inputs_of(self, type_: str) -> list[dict[str, Any]]:
        return [inputs for typ, _, inputs in self.resources if typ == type_]


@pytest.fixture(autouse=True)
def recorder() -> Recorder:
    rec = Recorder()
    pulumi.runtime.set_mocks(RealisticMocks(rec), project="components", stack="test", preview=False)
    return rec


def log_bucket() -> LogBucket:
    key = KmsKey("logs", KmsKeyArgs(description="logs", account_id=ACCOUNT, alias="test/logs"))
    return LogBucket("logs", LogBucketArgs(bucket_name="test-logs", kms_key_arn=key.arn, retention_days=400,
                                           delivery_services=["cloudtrail.amazonaws.com"],
                                           delivery_condition={"StringEquals": {"aws:SourceOrgID": "o-abc1234567"}}))


@pulumi.runtime.test
def test_log_bucket_policy_denies_plain_http() -> Any:
    def check(policy: str) -> None:
        deny = [s for s in json.loads(policy)["Statement"] if s["Effect"] == "Deny"]
        assert deny == [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                         "Resource": ["arn:aws:s3:::test-logs", "arn:aws:s3:::test-logs/*"],
                         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]

    return log_bucket().policy.policy.apply(check)


@pulumi.runtime.test
def test_log_bucket_grants_delivery_only_to_the_organization() -> Any:
    def check(policy: str) -> None:
        allows = [s for s in json.loads(policy)["Statement"] if s["Effect"] == "Allow"]
        assert allows and all(s["Condition"] == {"StringEquals": {"aws:SourceOrgID": "o-abc1234567"}} for s in allows)
        assert all(s["Principal"] == {"Service": ["cloudtrail.amazonaws.com"]} for s in allows)

    return log_bucket().policy.policy.apply(check)


@pulumi.runtime.test
def test_log_bucket_blocks_all_public_access(recorder: Recorder) -> Any:
    def check(_: Any) -> None:
        [block] = recorder.inputs_of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        assert block["bucket"] == "test-logs"
        assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                              "restrictPublicBuckets"))

    return log_bucket().policy.urn.apply(check)


@pulumi.runtime.test
def test_log_bucket_keeps_objects_under_object_lock(recorder: Recorder) -> Any:
    def check(_: Any) -> None:
        [bucket] = recorder.inputs_of("aws:s3/bucket:Bucket")
        [lock] = recorder.inputs_of("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
        assert bucket["objectLockEnabled"] is True
        assert lock["rule"]["defaultRetention"] == {"mode": "GOVERNANCE", "days": 400}

    # waits for the lock configuration itself: it is registered after the versioning it depends on, which the
    # policy does not wait for (checking on the policy's URN alone made this test fail now and then)
    logs = log_bucket()
    assert logs.object_lock is not None
    return pulumi.Output.all(logs.policy.urn, logs.object_lock.urn).apply(check)


@pulumi.runtime.test
def test_kms_key_policy_lets_services_encrypt_only_under_the_condition() -> Any:
    key = KmsKey("svc", KmsKeyArgs(description="svc", account_id=ACCOUNT, alias="test/svc",
                                   service_principals=["logs.eu-west-2.amazonaws.com"],
                                   service_condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}))

    def check(policy: str) -> None:
        statements = {s["Sid"]: s for s in json.loads(policy)["Statement"]}
        assert statements["AccountAdministers"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
        assert statements["ServicesEncrypt"]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
        assert "kms:*" not in statements["ServicesEncrypt"]["Action"]

    return key.key.policy.apply(check)


@pulumi.runtime.test
def test_kms_alias_targets_its_key() -> Any:
    key = KmsKey("svc", KmsKeyArgs(description="svc", account_id=ACCOUNT, alias="test/svc"))

    def check(pair: list[str]) -> None:
        target, key_id = pair
        assert target == key_id and len(key_id) == 36

    return pulumi.Output.all(key.alias.target_key_id, key.key_id).apply(check)


@pulumi.runtime.test
def test_baseline_sets_the_ebs_default_key_to_its_own_cmk() -> Any:
    baseline = AccountBaseline("acct", AccountBaselineArgs(account_id=ACCOUNT, region="eu-west-2",
                                                           name_prefix="test-acct"))

    def check(pair: list[str]) -> None:
        default_key_arn, ebs_key_arn = pair
        assert default_key_arn == ebs_key_arn
        assert ebs_key_arn.startswith(f"arn:aws:kms:eu-west-2:{ACCOUNT}:key/")

    return pulumi.Output.all(baseline.ebs_default_key.key_arn, baseline.ebs_key.arn).apply(check)
