"""The log archive's copy in a second region: the trail and Config buckets replicate to replica buckets in
`foundation.logArchive.replicaRegion`, with the same Object Lock, their own key, a least-privilege role."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import pulumi_aws as aws
import pytest

from components.log_bucket import Lifecycle
from components.log_replica import LogReplicaArgs
from lz.render import Rendering
from tests.conftest import of_type

Render = Callable[[str], Rendering]
ACCOUNT = "100000000002"
HOME, REPLICA = "eu-west-2", "eu-west-1"
REPLICATED = ("trail", "config")
NOT_REPLICATED = ("flow-logs", "waf", "access-logs")


def bucket_name(key: str, region: str) -> str:
    return f"aws-waf-logs-foundation-logarchive-{ACCOUNT}-{region}" if key == "waf" else \
        f"foundation-logarchive-{key}-{ACCOUNT}-{region}"


def by_bucket(rendered: Render, type_: str) -> dict[str, dict[str, Any]]:
    return {r["inputs"]["bucket"]: r for r in of_type(rendered("foundation"), type_)}


def replica_key(rendered: Render) -> dict[str, Any]:
    [key] = [k for k in of_type(rendered("foundation"), "aws:kms/key:Key") if k["region"] == REPLICA]
    return key


def home_key(rendered: Render) -> dict[str, Any]:
    return next(k for k in of_type(rendered("foundation"), "aws:kms/key:Key") if k["name"].endswith("-log-key"))


def replication_role(rendered: Render) -> dict[str, Any]:
    [role] = [r for r in of_type(rendered("foundation"), "aws:iam/role:Role") if r["name"].endswith("-replication-role")]
    return role


def test_the_log_archive_has_a_named_provider_in_the_replica_region(rendered: Render) -> None:
    providers = {p["name"]: p for p in of_type(rendered("foundation"), "pulumi:providers:aws")}
    home, replica = providers["aws-logArchive"], providers[f"aws-logArchive-{REPLICA}"]
    assert replica["inputs"]["region"] == REPLICA and home["inputs"]["region"] == HOME
    assert replica["inputs"]["allowedAccountIds"] == home["inputs"]["allowedAccountIds"] == f'["{ACCOUNT}"]'
    [home_role], [replica_role] = json.loads(home["inputs"]["assumeRoles"]), json.loads(replica["inputs"]["assumeRoles"])
    assert replica_role["roleArn"] == home_role["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/OpenBankingLandingZoneDeployer"
    assert replica["inputs"]["defaultTags"] == home["inputs"]["defaultTags"]


@pytest.mark.parametrize("key", REPLICATED)
def test_the_trail_and_config_buckets_replicate_to_their_replica(rendered: Render, key: str) -> None:
    config = by_bucket(rendered, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")[bucket_name(key, HOME)]
    assert (config["account"], config["region"]) == ("logArchive", HOME)
    assert config["inputs"]["role"] == replication_role(rendered)["outputs"]["arn"]
    [rule] = config["inputs"]["rules"]
    assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
    assert rule["destination"] == {
        "bucket": f"arn:aws:s3:::{bucket_name(key, REPLICA)}",
        "encryptionConfiguration": {"replicaKmsKeyId": replica_key(rendered)["outputs"]["arn"]},
        "metrics": {"status": "Enabled", "eventThreshold": {"minutes": 15}},
        "replicationTime": {"status": "Enabled", "time": {"minutes": 15}},
    }
    # a delete on the home side (a delete marker: Object Lock keeps the versions) never hides the copy
    assert rule["deleteMarkerReplication"] == {"status": "Disabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"},
                                               "replicaModifications": {"status": "Enabled"}}


def test_only_the_audit_buckets_replicate(rendered: Render) -> None:
    configs = by_bucket(rendered, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert set(configs) == {bucket_name(key, HOME) for key in REPLICATED}


@pytest.mark.parametrize("key", REPLICATED)
def test_replica_buckets_keep_the_home_buckets_object_lock_and_lifecycle(rendered: Render, key: str) -> None:
    name = bucket_name(key, REPLICA)
    [bucket] = [b for b in of_type(rendered("foundation"), "aws:s3/bucket:Bucket") if b["inputs"]["bucket"] == name]
    assert (bucket["account"], bucket["region"]) == ("logArchive", REPLICA)
    assert bucket["inputs"]["objectLockEnabled"] is True and bucket["options"]["protect"] is True
    lock = by_bucket(rendered, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")[name]
    assert lock["inputs"]["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 2557}
    versioning = by_bucket(rendered, "aws:s3/bucketVersioning:BucketVersioning")[name]
    assert versioning["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
    home_life = by_bucket(rendered, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert home_life[name]["inputs"]["rules"] == home_life[bucket_name(key, HOME)]["inputs"]["rules"]
    block = by_bucket(rendered, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[name]["inputs"]
    assert all(block[flag] is True for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                "restrictPublicBuckets"))
    logging = by_bucket(rendered, "aws:s3/bucketLogging:BucketLogging")[name]
    assert logging["inputs"]["targetBucket"] == bucket_name("s3-access", REPLICA)


@pytest.mark.parametrize("key", REPLICATED)
def test_replica_buckets_are_encrypted_with_a_key_of_their_region(rendered: Render, key: str) -> None:
    sse = by_bucket(rendered, "aws:s3/bucketServerSideEncryptionConfiguration:"
                              "BucketServerSideEncryptionConfiguration")[bucket_name(key, REPLICA)]
    [rule] = sse["inputs"]["rules"]
    key_arn = replica_key(rendered)["outputs"]["arn"]
    assert key_arn.startswith(f"arn:aws:kms:{REPLICA}:{ACCOUNT}:key/")
    assert rule == {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn},
                    "bucketKeyEnabled": True}


@pytest.mark.parametrize("key", REPLICATED)
def test_replica_buckets_admit_nothing_but_tls_and_the_replication_role(rendered: Render, key: str) -> None:
    name = bucket_name(key, REPLICA)
    arn = f"arn:aws:s3:::{name}"
    doc = json.loads(by_bucket(rendered, "aws:s3/bucketPolicy:BucketPolicy")[name]["inputs"]["policy"])
    statements = {s.pop("Sid"): s for s in doc["Statement"]}
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statements["ReplicasOnly"] == {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                                          "Resource": f"{arn}/*"}
    assert statements["ReplicationRoleOnly"] == {
        "Effect": "Deny", "Principal": "*", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
        "Resource": f"{arn}/*",
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": replication_role(rendered)["outputs"]["arn"]}}}
    assert all(s["Effect"] == "Deny" for s in statements.values())  # no delivery service writes into a replica


def test_the_replication_role_is_s3s_for_this_account_only(rendered: Render) -> None:
    [statement] = json.loads(replication_role(rendered)["inputs"]["assumeRolePolicy"])["Statement"]
    assert statement == {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole",
                         "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}


def test_the_replication_role_may_do_exactly_what_replication_needs(rendered: Render) -> None:
    role = replication_role(rendered)
    [policy] = [p for p in of_type(rendered("foundation"), "aws:iam/rolePolicy:RolePolicy")
                if p["inputs"]["role"] == role["outputs"]["name"]]
    statements = {s.pop("Sid"): s for s in json.loads(policy["inputs"]["policy"])["Statement"]}
    sources = [f"arn:aws:s3:::{bucket_name(k, HOME)}" for k in REPLICATED]
    replicas = [f"arn:aws:s3:::{bucket_name(k, REPLICA)}" for k in REPLICATED]
    assert statements == {
        "ReadReplicationConfiguration": {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                                         "Resource": sources},
        "ReadSourceVersions": {"Effect": "Allow", "Action": [
            "s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging",
            "s3:GetObjectRetention", "s3:GetObjectLegalHold"], "Resource": [f"{a}/*" for a in sources]},
        "WriteReplicas": {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                          "Resource": [f"{a}/*" for a in replicas]},
        "DecryptSources": {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": home_key(rendered)["outputs"]["arn"],
                           "Condition": {"StringEquals": {"kms:ViaService": f"s3.{HOME}.amazonaws.com"},
                                         "StringLike": {"kms:EncryptionContext:aws:s3:arn": [
                                             *sources, *[f"{a}/*" for a in sources]]}}},
        "EncryptReplicas": {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                            "Resource": replica_key(rendered)["outputs"]["arn"],
                            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REPLICA}.amazonaws.com"},
                                          "StringLike": {"kms:EncryptionContext:aws:s3:arn": [
                                              *replicas, *[f"{a}/*" for a in replicas]]}}},
    }


def test_the_replica_regions_server_access_logs_stay_in_that_region(rendered: Render) -> None:
    name = bucket_name("s3-access", REPLICA)
    [bucket] = [b for b in of_type(rendered("foundation"), "aws:s3/bucket:Bucket") if b["inputs"]["bucket"] == name]
    assert bucket["region"] == REPLICA
    sse = by_bucket(rendered, "aws:s3/bucketServerSideEncryptionConfiguration:"
                              "BucketServerSideEncryptionConfiguration")[name]
    assert sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == \
        replica_key(rendered)["outputs"]["arn"]
    doc = json.loads(by_bucket(rendered, "aws:s3/bucketPolicy:BucketPolicy")[name]["inputs"]["policy"])
    assert any(s["Sid"] == "DenyLogDeletion" for s in doc["Statement"])


def test_nothing_but_the_replica_lives_in_the_replica_region(rendered: Render) -> None:
    """The replica region holds the copy, its key and its access logs; nothing else of the foundation."""
    elsewhere = [r for r in rendered("foundation").resources if r["custom"] and r["type"].startswith("aws:")
                 and r["region"] == REPLICA]
    assert {r["account"] for r in elsewhere} == {"logArchive"}
    assert {r["type"].rsplit(":", 1)[-1] for r in elsewhere} <= {
        "Key", "Alias", "Bucket", "BucketPublicAccessBlock", "BucketOwnershipControls",
        "BucketServerSideEncryptionConfiguration", "BucketVersioning", "BucketObjectLockConfiguration",
        "BucketLifecycleConfiguration", "BucketLogging", "BucketPolicy"}


@pytest.mark.parametrize(("region", "sources", "error"), [
    (HOME, {"trail": None}, "is the home region"),
    (REPLICA, {}, "needs at least one bucket"),
])
def test_the_replica_component_refuses_the_home_region_and_nothing_to_copy(region: str, sources: dict,
                                                                            error: str) -> None:
    with pytest.raises(ValueError, match=error):
        LogReplicaArgs(region=region, provider=cast(aws.Provider, None), home_region=HOME, account_id=ACCOUNT,
                       name_prefix="foundation-logarchive", sources=sources, source_key_arn="arn:aws:kms:k",
                       access_log_bucket_name="b", retention_days=2557, lifecycle=Lifecycle(90, 365, 2557))
