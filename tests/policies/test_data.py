"""Data-store rules: RDS/Aurora, DynamoDB, ElastiCache and OpenSearch."""

from __future__ import annotations

import pytest
from openbanking_policies import data
from openbanking_policies._base import METADATA
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import run_resource_policy

KEY = "arn:aws:kms:eu-west-2:111111111111:key/abc"

CLUSTER_OK = {
    "engine": "aurora-postgresql",
    "storageEncrypted": True,
    "kmsKeyId": KEY,
    "deletionProtection": True,
    "backupRetentionPeriod": 35.0,
    "manageMasterUserPassword": True,
    "masterUserSecretKmsKeyId": KEY,
    "iamDatabaseAuthenticationEnabled": True,
    "enabledCloudwatchLogsExports": ["postgresql"],
}
CLUSTER_POLICIES = [data.rds_encrypted_cmk, data.rds_deletion_protection, data.rds_backup,
                    data.rds_managed_secret, data.rds_iam_logs]


@pytest.mark.parametrize("policy", CLUSTER_POLICIES, ids=lambda p: p.name)
def test_good_cluster_passes(policy):
    assert run_resource_policy(policy, data.RDS_CLUSTER, CLUSTER_OK) == []


@pytest.mark.parametrize("policy", CLUSTER_POLICIES, ids=lambda p: p.name)
def test_bare_cluster_fails(policy):
    """A cluster with nothing set gets the insecure AWS defaults."""
    assert run_resource_policy(policy, data.RDS_CLUSTER, {"engine": "aurora-postgresql"})


@pytest.mark.parametrize("typ", [data.RDS_CLUSTER_INSTANCE, data.RDS_INSTANCE])
def test_rds_no_public(typ):
    assert run_resource_policy(data.rds_no_public, typ, {"instanceClass": "db.r6g.large"}) == []
    assert run_resource_policy(data.rds_no_public, typ, {"publiclyAccessible": False}) == []
    msgs = run_resource_policy(data.rds_no_public, typ, {"publiclyAccessible": True})
    assert len(msgs) == 1 and "`publiclyAccessible` is true" in msgs[0]


def test_critical_data_policies_are_fixed():
    assert not METADATA["ob-rds-no-public"].nonprod_may_downgrade
    assert not METADATA["ob-rds-encrypted-cmk"].nonprod_may_downgrade


def test_rds_encrypted_cmk_messages_and_unknown_key():
    msgs = run_resource_policy(data.rds_encrypted_cmk, data.RDS_CLUSTER, {"storageEncrypted": False})
    assert any("`storageEncrypted` is false" in m for m in msgs)
    assert any("`kmsKeyId` is not set" in m for m in msgs)
    props = dict(CLUSTER_OK, kmsKeyId=UNKNOWN_STRING_VALUE)
    assert run_resource_policy(data.rds_encrypted_cmk, data.RDS_CLUSTER, props) == []
    props = dict(CLUSTER_OK, kmsKeyId="alias/aws/rds")
    assert run_resource_policy(data.rds_encrypted_cmk, data.RDS_CLUSTER, props)


def test_rds_backup_uses_config_and_default():
    props = dict(CLUSTER_OK, backupRetentionPeriod=7.0)
    assert run_resource_policy(data.rds_backup, data.RDS_CLUSTER, props) == []
    msgs = run_resource_policy(data.rds_backup, data.RDS_CLUSTER, props, config={"minRetentionDays": 35})
    assert len(msgs) == 1 and "`backupRetentionPeriod` is 7" in msgs[0] and "35" in msgs[0]
    msgs = run_resource_policy(data.rds_backup, data.RDS_CLUSTER, dict(CLUSTER_OK, backupRetentionPeriod=3.0))
    assert len(msgs) == 1 and "at least 7" in msgs[0]
    missing = {k: v for k, v in CLUSTER_OK.items() if k != "backupRetentionPeriod"}
    assert "AWS default: 1 day" in run_resource_policy(data.rds_backup, data.RDS_CLUSTER, missing)[0]


def test_rds_backup_schema_default():
    assert data.rds_backup.config_schema is not None
    assert data.rds_backup.config_schema.properties["minRetentionDays"]["default"] == 7


def test_rds_force_ssl():
    ok = {"family": "aurora-postgresql15", "parameters": [{"name": "rds.force_ssl", "value": "1"}]}
    assert run_resource_policy(data.rds_force_ssl, data.RDS_CLUSTER_PARAMS, ok) == []
    bad = {"family": "aurora-postgresql15", "parameters": [{"name": "rds.force_ssl", "value": "0"}]}
    msgs = run_resource_policy(data.rds_force_ssl, data.RDS_CLUSTER_PARAMS, bad)
    assert len(msgs) == 1 and "rds.force_ssl is \"0\"" in msgs[0]
    assert run_resource_policy(data.rds_force_ssl, data.RDS_CLUSTER_PARAMS, {"family": "aurora-postgresql15"})
    mysql = {"family": "aurora-mysql8.0", "parameters": [{"name": "require_secure_transport", "value": "ON"}]}
    assert run_resource_policy(data.rds_force_ssl, data.RDS_CLUSTER_PARAMS, mysql) == []


def test_rds_managed_secret_rejects_master_password():
    props = dict(CLUSTER_OK, masterPassword="hunter2")
    msgs = run_resource_policy(data.rds_managed_secret, data.RDS_CLUSTER, props)
    assert len(msgs) == 1 and "`masterPassword` is set" in msgs[0]


def test_rds_iam_logs_messages():
    props = dict(CLUSTER_OK, iamDatabaseAuthenticationEnabled=False, enabledCloudwatchLogsExports=[])
    msgs = run_resource_policy(data.rds_iam_logs, data.RDS_CLUSTER, props)
    assert any("`iamDatabaseAuthenticationEnabled` is false" in m for m in msgs)
    assert any("must include \"postgresql\"" in m for m in msgs)


TABLE_OK = {"pointInTimeRecovery": {"enabled": True},
            "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY},
            "deletionProtectionEnabled": True}
TABLE_POLICIES = [data.ddb_pitr, data.ddb_cmk, data.ddb_deletion_protection]


@pytest.mark.parametrize("policy", TABLE_POLICIES, ids=lambda p: p.name)
def test_table_good_and_bare(policy):
    assert run_resource_policy(policy, data.DDB_TABLE, TABLE_OK) == []
    assert run_resource_policy(policy, data.DDB_TABLE, {"hashKey": "id"})


def test_table_nested_blocks_as_lists():
    props = {"pointInTimeRecovery": [{"enabled": True}],
             "serverSideEncryption": [{"enabled": True, "kmsKeyArn": UNKNOWN_STRING_VALUE}]}
    assert run_resource_policy(data.ddb_pitr, data.DDB_TABLE, props) == []
    assert run_resource_policy(data.ddb_cmk, data.DDB_TABLE, props) == []


def test_table_sse_enabled_without_key():
    msgs = run_resource_policy(data.ddb_cmk, data.DDB_TABLE, {"serverSideEncryption": {"enabled": True}})
    assert len(msgs) == 1 and "serverSideEncryption.kmsKeyArn` is not set" in msgs[0]


REDIS_OK = {"atRestEncryptionEnabled": True, "kmsKeyId": KEY, "transitEncryptionEnabled": True,
            "transitEncryptionMode": "required", "userGroupIds": ["ug-1"], "automaticFailoverEnabled": True,
            "multiAzEnabled": True, "snapshotRetentionLimit": 7.0}
REDIS_POLICIES = [data.redis_encryption, data.redis_auth, data.redis_ha_backup]


@pytest.mark.parametrize("policy", REDIS_POLICIES, ids=lambda p: p.name)
def test_redis_good_and_bare(policy):
    assert run_resource_policy(policy, data.REDIS, REDIS_OK) == []
    assert run_resource_policy(policy, data.REDIS, {"engine": "redis"})


def test_redis_details():
    props = dict(REDIS_OK, transitEncryptionMode="preferred")
    msgs = run_resource_policy(data.redis_encryption, data.REDIS, props)
    assert msgs == ["`transitEncryptionMode` is \"preferred\"; it must be \"required\""]
    # v7 may carry atRestEncryptionEnabled as a string
    props = {k: v for k, v in REDIS_OK.items() if k != "transitEncryptionMode"}
    props["atRestEncryptionEnabled"] = "true"
    assert run_resource_policy(data.redis_encryption, data.REDIS, props) == []
    assert run_resource_policy(data.redis_auth, data.REDIS, {"authToken": UNKNOWN_STRING_VALUE}) == []
    assert run_resource_policy(data.redis_auth, data.REDIS, {"userGroupIds": []})
    msgs = run_resource_policy(data.redis_ha_backup, data.REDIS, dict(REDIS_OK, snapshotRetentionLimit=1.0))
    assert msgs == ["`snapshotRetentionLimit` is 1; it must be at least 7 days"]


OS_OK = {
    "encryptAtRest": {"enabled": True, "kmsKeyId": KEY},
    "nodeToNodeEncryption": {"enabled": True},
    "domainEndpointOptions": {"enforceHttps": True, "tlsSecurityPolicy": data.OS_TLS_POLICY},
    "vpcOptions": {"subnetIds": ["subnet-1"]},
    "advancedSecurityOptions": {"enabled": True},
    "logPublishingOptions": [{"logType": "AUDIT_LOGS", "cloudwatchLogGroupArn": "arn:aws:logs:x"}],
}
OS_POLICIES = [data.os_encryption, data.os_tls, data.os_vpc_fgac]


@pytest.mark.parametrize("policy", OS_POLICIES, ids=lambda p: p.name)
def test_opensearch_good_and_bare(policy):
    assert run_resource_policy(policy, data.OPENSEARCH, OS_OK) == []
    assert run_resource_policy(policy, data.OPENSEARCH, {"engineVersion": "OpenSearch_2.13"})


def test_opensearch_details():
    props = dict(OS_OK, domainEndpointOptions={"enforceHttps": True,
                                               "tlsSecurityPolicy": "Policy-Min-TLS-1-0-2019-07"})
    msgs = run_resource_policy(data.os_tls, data.OPENSEARCH, props)
    assert len(msgs) == 1 and "Policy-Min-TLS-1-0-2019-07" in msgs[0]
    props = dict(OS_OK, encryptAtRest={"enabled": True, "kmsKeyId": UNKNOWN_STRING_VALUE})
    assert run_resource_policy(data.os_encryption, data.OPENSEARCH, props) == []
    props = dict(OS_OK, logPublishingOptions=[{"logType": "AUDIT_LOGS", "enabled": False,
                                               "cloudwatchLogGroupArn": "arn"}])
    assert run_resource_policy(data.os_vpc_fgac, data.OPENSEARCH, props)


# RDS instances ------------------------------------------------------------------------------------

INSTANCE_OK = {"engine": "postgres", "storageEncrypted": True, "kmsKeyId": KEY, "deletionProtection": True,
               "backupRetentionPeriod": 14.0, "publiclyAccessible": False}


@pytest.mark.parametrize("policy", [data.rds_backup, data.rds_deletion_protection, data.rds_encrypted_cmk,
                                    data.rds_no_public], ids=lambda p: p.name)
def test_rds_instance_good_passes(policy):
    assert run_resource_policy(policy, data.RDS_INSTANCE, INSTANCE_OK) == []


def test_rds_instance_without_backups_fails():
    msgs = run_resource_policy(data.rds_backup, data.RDS_INSTANCE, dict(INSTANCE_OK, backupRetentionPeriod=0.0))
    assert msgs == ["`backupRetentionPeriod` is 0; it must be at least 7 days"]
    unset = {k: v for k, v in INSTANCE_OK.items() if k != "backupRetentionPeriod"}
    msgs = run_resource_policy(data.rds_backup, data.RDS_INSTANCE, unset)
    assert len(msgs) == 1 and "no automated backups" in msgs[0]


def test_rds_read_replica_needs_no_backups_of_its_own():
    replica = {"engine": "postgres", "replicateSourceDb": "arn:aws:rds:eu-west-2:1:db:primary"}
    assert run_resource_policy(data.rds_backup, data.RDS_INSTANCE, replica) == []


def test_rds_instance_without_deletion_protection_fails():
    msgs = run_resource_policy(data.rds_deletion_protection, data.RDS_INSTANCE, {"engine": "postgres"})
    assert msgs == ["`deletionProtection` is not set (AWS default: false); it must be true"]


# ob-cache-rbac ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typ", "props"), [
    (data.CACHE_USER, {"userId": "ais-app", "userName": "ais-app", "engine": "valkey",
                       "accessString": "on ~ob:* +@all -@dangerous", "authenticationMode": {"type": "iam"}}),
    (data.CACHE_USER, {"userId": "ais-default", "userName": "default", "engine": "valkey",
                       "accessString": "off ~* -@all", "authenticationMode": {"type": "no-password-required"}}),
    (data.CACHE_USER, {"userId": "ops", "userName": "ops", "engine": "redis", "accessString": "on ~* +@read",
                       "authenticationMode": {"type": "password", "passwords": ["x" * 20]}}),
    (data.CACHE_USER_GROUP, {"userGroupId": "ais", "engine": "valkey", "userIds": ["ais-default", "ais-app"]}),
    (data.CACHE_USER_GROUP_ASSOCIATION, {"userGroupId": "ais", "userId": "ais-app"}),
    (data.CACHE_USER, {"userName": UNKNOWN_STRING_VALUE, "accessString": "on ~* +@all"}),
])
def test_cache_rbac_passes(typ, props):
    assert run_resource_policy(data.cache_rbac, typ, props) == []


@pytest.mark.parametrize(("typ", "props", "fragment"), [
    (data.CACHE_USER, {"userId": "ais-default", "userName": "default", "accessString": "on ~* +@all",
                       "authenticationMode": {"type": "password", "passwords": ["x" * 20]}},
     'the default user must be switched off'),
    (data.CACHE_USER, {"userId": "app", "userName": "app", "accessString": "on ~* +@all",
                       "authenticationMode": {"type": "no-password-required"}}, "needs no password"),
    (data.CACHE_USER, {"userId": "app", "userName": "app", "accessString": "on ~* +@all",
                       "noPasswordRequired": True}, "needs no password"),
    (data.CACHE_USER, {"userId": "app", "userName": "app", "accessString": "on nopass ~* +@all"},
     "needs no password"),
    (data.CACHE_USER_GROUP, {"userGroupId": "ais", "userIds": ["default", "ais-app"]}, '`userIds` includes "default"'),
    (data.CACHE_USER_GROUP_ASSOCIATION, {"userGroupId": "ais", "userId": "default"}, '`userId` includes "default"'),
])
def test_cache_rbac_fails(typ, props, fragment):
    msgs = run_resource_policy(data.cache_rbac, typ, props)
    assert len(msgs) == 1 and fragment in msgs[0], msgs
