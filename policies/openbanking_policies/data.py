"""Data-store rules: RDS/Aurora, DynamoDB, ElastiCache (Redis/Valkey) and OpenSearch."""

from __future__ import annotations

from typing import Any

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, Severity

from ._base import resource_policy
from ._props import TICKED, UNKNOWN, config_number, get, is_set, is_unknown, items, number

RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_CLUSTER_PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
DDB_TABLE = "aws:dynamodb/table:Table"
REDIS = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_USER = "aws:elasticache/user:User"
CACHE_USER_GROUP = "aws:elasticache/userGroup:UserGroup"
CACHE_USER_GROUP_ASSOCIATION = "aws:elasticache/userGroupAssociation:UserGroupAssociation"
OPENSEARCH = "aws:opensearch/domain:Domain"

OS_TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
DEFAULT_MIN_BACKUP_DAYS = 7
MIN_SNAPSHOT_DAYS = 7


def _engine(props: Any) -> str:
    engine = get(props, "engine")
    return engine.lower() if isinstance(engine, str) else ""


# ---------------------------------------------------------------------------------------------
# RDS
# ---------------------------------------------------------------------------------------------


def _check_rds_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    TICKED.require_not_true(report, args.props, "publiclyAccessible", why="; databases stay in private subnets")


rds_no_public = resource_policy(
    name="ob-rds-no-public",
    description="RDS and Aurora instances are never publicly accessible.",
    severity=Severity.CRITICAL,
    frameworks=[("FSBP", "RDS.2"), ("CIS", "2.2.3"), ("Checkov", "CKV_AWS_17"), ("AWSGuard", "rds")],
    resource_types=[RDS_CLUSTER_INSTANCE, RDS_INSTANCE],
    remediation=("Set `publicly_accessible=False` (or leave it unset) on `aws.rds.ClusterInstance` and "
                 "`aws.rds.Instance`."),
    check=_check_rds_public,
    nonprod_may_downgrade=False,
)


def _check_rds_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    TICKED.require_true(report, args.props, "storageEncrypted", default=False)
    TICKED.require_cmk(report, args.props, "kmsKeyId")


rds_encrypted_cmk = resource_policy(
    name="ob-rds-encrypted-cmk",
    description="RDS clusters and instances encrypt storage with a customer-managed KMS key.",
    severity=Severity.CRITICAL,
    frameworks=[("FSBP", "RDS.27"), ("FSBP", "RDS.3"), ("CIS", "2.2.1"), ("Checkov", "CKV_AWS_96"),
                ("Checkov", "CKV_AWS_327"), ("FSI Lens", "FSISEC09")],
    resource_types=[RDS_CLUSTER, RDS_INSTANCE],
    remediation="Set `storage_encrypted=True` and `kms_key_id=key.arn` (a customer-managed `aws.kms.Key`).",
    check=_check_rds_encrypted,
    nonprod_may_downgrade=False,
)


def _check_rds_deletion(args: ResourceValidationArgs, report: ReportViolation) -> None:
    TICKED.require_true(report, args.props, "deletionProtection", default=False)


rds_deletion_protection = resource_policy(
    name="ob-rds-deletion-protection",
    description="Aurora clusters and RDS instances have deletion protection turned on.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "RDS.7"), ("FSBP", "RDS.8"), ("Checkov", "CKV_AWS_139"), ("Checkov", "CKV_AWS_293")],
    resource_types=[RDS_CLUSTER, RDS_INSTANCE],
    remediation="Set `deletion_protection=True` on `aws.rds.Cluster` and `aws.rds.Instance`.",
    check=_check_rds_deletion,
)


def _check_rds_backup(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == RDS_INSTANCE and get(args.props, "replicateSourceDb") is not None:
        return  # a read replica's data is backed up by its source instance
    minimum = config_number(args, "minRetentionDays", DEFAULT_MIN_BACKUP_DAYS)
    days = number(get(args.props, "backupRetentionPeriod"))
    if days is UNKNOWN:
        return
    if days is None:
        default = "1 day" if args.resource_type == RDS_CLUSTER else "0 days for the provider, no automated backups"
        report(f"`backupRetentionPeriod` is not set (AWS default: {default}); it must be at least "
               f"{TICKED.show(minimum)} days", None)
    elif not isinstance(days, float) or days < minimum:
        report(f"`backupRetentionPeriod` is {TICKED.show(days)}; it must be at least {TICKED.show(minimum)} days", None)


rds_backup = resource_policy(
    name="ob-rds-backup",
    description="Aurora clusters and RDS instances (read replicas aside) keep automated backups for at least "
                "the configured number of days.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "RDS.11"), ("Checkov", "CKV_AWS_133"), ("Trivy", "AVD-AWS-0077")],
    resource_types=[RDS_CLUSTER, RDS_INSTANCE],
    remediation=("Set `backup_retention_period` to at least `minRetentionDays` (7 by default, 35 in prod) "
                 "on `aws.rds.Cluster` and `aws.rds.Instance` (0 turns automated backups off)."),
    check=_check_rds_backup,
)
rds_backup.config_schema = PolicyConfigSchema(
    properties={"minRetentionDays": {"type": "integer", "minimum": 1, "maximum": 35,
                                     "default": DEFAULT_MIN_BACKUP_DAYS}},
)


def _parameter(props: Any, name: str) -> Any:
    for p in items(get(props, "parameters")):
        n = get(p, "name")
        if n is UNKNOWN:
            return UNKNOWN
        if n == name:
            return get(p, "value")
    return None


def force_tls_parameter(props: Any) -> tuple[str, Any, tuple[str, ...]]:
    """(the parameter that forces TLS for the group's family, its value in the group, the values that force it)."""
    family = get(props, "family")
    if isinstance(family, str) and "mysql" in family.lower():
        name, allowed = "require_secure_transport", ("ON", "1", "on")
    else:
        name, allowed = "rds.force_ssl", ("1",)
    return name, _parameter(props, name), allowed


def _check_force_ssl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    name, v, allowed = force_tls_parameter(args.props)
    if v is UNKNOWN:
        return
    if v is None or str(v) not in allowed:
        report(f"`parameters` {name} is {TICKED.show(v)}; it must be {TICKED.show(allowed[0])} so clients must "
               "use TLS", None)


rds_force_ssl = resource_policy(
    name="ob-rds-force-ssl",
    description="Aurora cluster parameter groups force TLS for every client connection.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "RDS.38"), ("Checkov", "CKV2_AWS_69"), ("FAPI", "2.0 TLS")],
    resource_types=[RDS_CLUSTER_PARAMS],
    remediation=("Add `{\"name\": \"rds.force_ssl\", \"value\": \"1\"}` to `parameters` of the "
                 "`aws.rds.ClusterParameterGroup` (aurora-mysql: `require_secure_transport` = `ON`)."),
    check=_check_force_ssl,
)


def _check_managed_secret(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if is_set(props, "masterPassword"):
        report("`masterPassword` is set; let RDS manage the master password in Secrets Manager", None)
    TICKED.require_true(report, props, "manageMasterUserPassword", default=False)
    TICKED.require_cmk(report, props, "masterUserSecretKmsKeyId")


rds_managed_secret = resource_policy(
    name="ob-rds-managed-secret",
    description="Aurora master passwords are managed by RDS in Secrets Manager under a customer-managed key.",
    severity=Severity.HIGH,
    frameworks=[("FSI Lens", "FSISEC09"), ("FSBP", "SecretsManager.1")],
    resource_types=[RDS_CLUSTER],
    remediation=("Remove `master_password`; set `manage_master_user_password=True` and "
                 "`master_user_secret_kms_key_id=key.arn` on `aws.rds.Cluster`."),
    check=_check_managed_secret,
)


def _check_rds_iam_logs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    TICKED.require_true(report, props, "iamDatabaseAuthenticationEnabled", default=False)
    engine = _engine(props)
    needed = ["audit", "error"] if "mysql" in engine else ["postgresql"]
    present = items(get(props, "enabledCloudwatchLogsExports"))
    if any(is_unknown(e) for e in present):
        return
    missing = [n for n in needed if n not in present]
    if missing:
        report(f"`enabledCloudwatchLogsExports` is {TICKED.show(present)}; it must include "
               f"{', '.join(TICKED.show(m) for m in missing)}", None)


rds_iam_logs = resource_policy(
    name="ob-rds-iam-logs",
    description="Aurora clusters use IAM database authentication and export their logs to CloudWatch.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "RDS.12"), ("FSBP", "RDS.37"), ("Checkov", "CKV_AWS_162"),
                ("Checkov", "CKV_AWS_324")],
    resource_types=[RDS_CLUSTER],
    remediation=("Set `iam_database_authentication_enabled=True` and "
                 "`enabled_cloudwatch_logs_exports=[\"postgresql\"]` on `aws.rds.Cluster`."),
    check=_check_rds_iam_logs,
)


# ---------------------------------------------------------------------------------------------
# DynamoDB
# ---------------------------------------------------------------------------------------------


def _check_ddb_pitr(args: ResourceValidationArgs, report: ReportViolation) -> None:
    TICKED.require_true(report, args.props, "pointInTimeRecovery", "enabled", default=False)


ddb_pitr = resource_policy(
    name="ob-ddb-pitr",
    description="DynamoDB tables have point-in-time recovery turned on.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "DynamoDB.2"), ("Checkov", "CKV_AWS_28")],
    resource_types=[DDB_TABLE],
    remediation="Set `point_in_time_recovery={\"enabled\": True}` on `aws.dynamodb.Table`.",
    check=_check_ddb_pitr,
)


def _check_ddb_cmk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    enabled = get(props, "serverSideEncryption", "enabled")
    if enabled is UNKNOWN:
        return
    if enabled is not True:
        report(f"`serverSideEncryption.enabled` is {TICKED.show(enabled)}, so the AWS-owned key is used; "
               "it must be true with a customer-managed `kmsKeyArn`", None)
        return
    TICKED.require_cmk(report, props, "serverSideEncryption", "kmsKeyArn")


ddb_cmk = resource_policy(
    name="ob-ddb-cmk",
    description="DynamoDB tables are encrypted with a customer-managed KMS key.",
    severity=Severity.HIGH,
    frameworks=[("Checkov", "CKV_AWS_119"), ("Trivy", "AVD-AWS-0025"), ("FSI Lens", "FSISEC09")],
    resource_types=[DDB_TABLE],
    remediation=("Set `server_side_encryption={\"enabled\": True, \"kms_key_arn\": key.arn}` on "
                 "`aws.dynamodb.Table`."),
    check=_check_ddb_cmk,
)


def _check_ddb_deletion(args: ResourceValidationArgs, report: ReportViolation) -> None:
    TICKED.require_true(report, args.props, "deletionProtectionEnabled", default=False)


ddb_deletion_protection = resource_policy(
    name="ob-ddb-deletion-protection",
    description="DynamoDB tables have deletion protection turned on.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "DynamoDB.6")],
    resource_types=[DDB_TABLE],
    remediation="Set `deletion_protection_enabled=True` on `aws.dynamodb.Table`.",
    check=_check_ddb_deletion,
)


# ---------------------------------------------------------------------------------------------
# ElastiCache
# ---------------------------------------------------------------------------------------------


def _check_redis_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    TICKED.require_true(report, props, "atRestEncryptionEnabled", default=False)
    TICKED.require_cmk(report, props, "kmsKeyId")
    TICKED.require_true(report, props, "transitEncryptionEnabled", default=False)
    # With transit encryption on, AWS defaults the mode to "required"; "preferred" still allows plaintext.
    mode = get(props, "transitEncryptionMode")
    if mode not in (None, UNKNOWN, "required"):
        report(f"`transitEncryptionMode` is {TICKED.show(mode)}; it must be \"required\"", None)


redis_encryption = resource_policy(
    name="ob-redis-encryption",
    description="ElastiCache replication groups encrypt at rest with a customer-managed key and require TLS.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "ElastiCache.4"), ("FSBP", "ElastiCache.5"), ("Checkov", "CKV_AWS_29"),
                ("Checkov", "CKV_AWS_30"), ("Checkov", "CKV_AWS_191")],
    resource_types=[REDIS],
    remediation=("Set `at_rest_encryption_enabled=True`, `kms_key_id=key.arn`, "
                 "`transit_encryption_enabled=True` and `transit_encryption_mode=\"required\"` on "
                 "`aws.elasticache.ReplicationGroup`."),
    check=_check_redis_encryption,
)


def _check_redis_auth(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if is_set(props, "authToken") or is_set(props, "userGroupIds"):
        return
    report("neither `authToken` nor `userGroupIds` is set; clients can connect without authenticating", None)


redis_auth = resource_policy(
    name="ob-redis-auth",
    description="ElastiCache replication groups require authentication (AUTH token or RBAC user groups).",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "ElastiCache.6"), ("Checkov", "CKV_AWS_31")],
    resource_types=[REDIS],
    remediation=("Set `user_group_ids=[user_group.id]` (RBAC, preferred) or `auth_token` from a secret on "
                 "`aws.elasticache.ReplicationGroup`."),
    check=_check_redis_auth,
)


def _check_redis_ha(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    TICKED.require_true(report, props, "automaticFailoverEnabled", default=False)
    TICKED.require_true(report, props, "multiAzEnabled", default=False)
    days = number(get(props, "snapshotRetentionLimit"))
    if days is UNKNOWN:
        return
    if not isinstance(days, float) or days < MIN_SNAPSHOT_DAYS:
        shown = TICKED.show(days, "AWS default: 0, no backups")
        report(f"`snapshotRetentionLimit` is {shown}; it must be at least {MIN_SNAPSHOT_DAYS} days", None)


redis_ha_backup = resource_policy(
    name="ob-redis-ha-backup",
    description="ElastiCache replication groups fail over across AZs and keep a week of snapshots.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "ElastiCache.1"), ("FSBP", "ElastiCache.3"), ("Checkov", "CKV_AWS_134")],
    resource_types=[REDIS],
    remediation=("Set `automatic_failover_enabled=True`, `multi_az_enabled=True` and "
                 "`snapshot_retention_limit=7` (or more) on `aws.elasticache.ReplicationGroup`."),
    check=_check_redis_ha,
)


def _access_tokens(access_string: Any) -> list[str]:
    return str(access_string).split() if isinstance(access_string, str) else []


def _check_cache_user(props: Any, report: ReportViolation) -> None:
    user_name = get(props, "userName")
    access = get(props, "accessString")
    mode = get(props, "authenticationMode", "type")
    no_password = get(props, "noPasswordRequired")
    if UNKNOWN in (user_name, access, mode, no_password):
        return
    tokens = [t.lower() for t in _access_tokens(access)]
    disabled = "off" in tokens
    if user_name == "default" and not disabled:
        report(f"`accessString` of the \"default\" user is {TICKED.show(access)}; the default user must be "
               "switched off (\"off ~* -@all\") so no client connects without naming its own user", None)
        return
    if disabled:
        return
    if mode == "no-password-required" or no_password is True or "nopass" in tokens:
        report(f"user {TICKED.show(user_name)} is enabled (`accessString` {TICKED.show(access)}) and needs no "
               "password (`authenticationMode.type` no-password-required / `noPasswordRequired` / `nopass`); "
               "use IAM or password authentication", None)


def _check_cache_rbac(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == CACHE_USER:
        _check_cache_user(props, report)
        return
    key = "userIds" if args.resource_type == CACHE_USER_GROUP else "userId"
    members = items(get(props, key))
    if "default" in members:
        report(f"`{key}` includes \"default\", the built-in user that connects without a password and may run "
               "every command; add a custom user named \"default\" with access string \"off ~* -@all\" "
               "instead", None)


cache_rbac = resource_policy(
    name="ob-cache-rbac",
    description="ElastiCache RBAC users always authenticate and the default user is switched off.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "ElastiCache.6"), ("AWS", "ElastiCache RBAC: disable the default user"),
                ("Checkov", "CKV_AWS_31")],
    resource_types=[CACHE_USER, CACHE_USER_GROUP, CACHE_USER_GROUP_ASSOCIATION],
    remediation=("Give every `aws.elasticache.User` `authentication_mode={\"type\": \"iam\"}` (or "
                 "`\"password\"` with `passwords` from a secret), never `no_password_required=True` or "
                 "`nopass`; create the group's \"default\" member as its own `aws.elasticache.User(user_id="
                 "\"<app>-default\", user_name=\"default\", access_string=\"off ~* -@all\", ...)` and never "
                 "put the built-in user id \"default\" in `aws.elasticache.UserGroup.user_ids` or a "
                 "`UserGroupAssociation`."),
    check=_check_cache_rbac,
)


# ---------------------------------------------------------------------------------------------
# OpenSearch
# ---------------------------------------------------------------------------------------------


def _check_os_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    TICKED.require_true(report, props, "encryptAtRest", "enabled", default=False)
    if get(props, "encryptAtRest", "enabled") is True:
        TICKED.require_cmk(report, props, "encryptAtRest", "kmsKeyId")
    TICKED.require_true(report, props, "nodeToNodeEncryption", "enabled", default=False)


os_encryption = resource_policy(
    name="ob-os-encryption",
    description="OpenSearch domains encrypt data at rest with a customer-managed key and between nodes.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "OpenSearch.1"), ("FSBP", "OpenSearch.3"), ("Checkov", "CKV_AWS_5"),
                ("Checkov", "CKV_AWS_6"), ("Checkov", "CKV_AWS_247")],
    resource_types=[OPENSEARCH],
    remediation=("Set `encrypt_at_rest={\"enabled\": True, \"kms_key_id\": key.arn}` and "
                 "`node_to_node_encryption={\"enabled\": True}` on `aws.opensearch.Domain`."),
    check=_check_os_encryption,
)


def _check_os_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    TICKED.require_true(report, props, "domainEndpointOptions", "enforceHttps", default=False)
    TICKED.require_equal(report, props, "domainEndpointOptions", "tlsSecurityPolicy", expected=OS_TLS_POLICY,
                         default="Policy-Min-TLS-1-0-2019-07")


os_tls = resource_policy(
    name="ob-os-tls",
    description="OpenSearch domains enforce HTTPS with the TLS 1.2 forward-secrecy policy.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "OpenSearch.8"), ("Checkov", "CKV_AWS_83"), ("Checkov", "CKV_AWS_228"),
                ("FAPI", "2.0 TLS")],
    resource_types=[OPENSEARCH],
    remediation=("Set `domain_endpoint_options={\"enforce_https\": True, "
                 f"\"tls_security_policy\": \"{OS_TLS_POLICY}\"}}` on `aws.opensearch.Domain`."),
    check=_check_os_tls,
)


def _check_os_vpc_fgac(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    TICKED.require_set(report, props, "vpcOptions", "subnetIds", why="; the domain must live in the VPC")
    TICKED.require_true(report, props, "advancedSecurityOptions", "enabled", default=False)
    audit = False
    for opt in items(get(props, "logPublishingOptions")):
        log_type, enabled = get(opt, "logType"), get(opt, "enabled")
        if UNKNOWN in (log_type, enabled):
            return
        if log_type == "AUDIT_LOGS" and enabled is not False and is_set(opt, "cloudwatchLogGroupArn"):
            audit = True
    if not audit:
        report("`logPublishingOptions` has no enabled AUDIT_LOGS entry with a `cloudwatchLogGroupArn`", None)


os_vpc_fgac = resource_policy(
    name="ob-os-vpc-fgac",
    description="OpenSearch domains run in a VPC with fine-grained access control and audit logs.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "OpenSearch.2"), ("FSBP", "OpenSearch.5"), ("FSBP", "OpenSearch.7"),
                ("Checkov", "CKV_AWS_137"), ("Checkov", "CKV_AWS_317")],
    resource_types=[OPENSEARCH],
    remediation=("Set `vpc_options={\"subnet_ids\": [...], \"security_group_ids\": [...]}`, "
                 "`advanced_security_options={\"enabled\": True, ...}` and a `log_publishing_options` "
                 "entry `{\"log_type\": \"AUDIT_LOGS\", \"cloudwatch_log_group_arn\": group.arn}`."),
    check=_check_os_vpc_fgac,
)


POLICIES = [
    rds_no_public, rds_encrypted_cmk, rds_deletion_protection, rds_backup, rds_force_ssl, rds_managed_secret,
    ddb_pitr, ddb_cmk, redis_encryption, redis_auth, os_encryption, os_tls, os_vpc_fgac,
    rds_iam_logs, ddb_deletion_protection, redis_ha_backup, cache_rbac,
]
