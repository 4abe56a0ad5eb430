"""S3 rules: public access blocks, SSE-KMS, TLS-only bucket policies, versioning/logging, ownership."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from ._base import resource_policy
from ._props import (
    TICKED,
    UNKNOWN,
    condition_values,
    first,
    get,
    is_aws_managed_key,
    is_set,
    is_unknown,
    items,
    principal_is_everyone,
    statements,
)

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKET_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SSE_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
LOGGING_V2 = "aws:s3/bucketLoggingV2:BucketLoggingV2"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"

PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _first_present(props: Any, *keys: str) -> tuple[str | None, Any]:
    """The first of `keys` that is present in props, with its value (UNKNOWN aware); (None, None) if none is."""
    for key in keys:
        v = get(props, key)
        if v is not None:
            return key, v
    return None, None


# ---------------------------------------------------------------------------------------------
# ob-s3-pab / ob-s3-account-pab
# ---------------------------------------------------------------------------------------------


def _check_pab(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for flag in PAB_FLAGS:
        TICKED.require_true(report, args.props, flag, default=False)


s3_pab = resource_policy(
    name="ob-s3-pab",
    description="Every S3 bucket public access block turns on all four public-access protections.",
    severity=Severity.CRITICAL,
    frameworks=[("FSBP", "S3.8"), ("CIS", "2.1.4"), ("Checkov", "CKV_AWS_53"), ("Checkov", "CKV_AWS_54"),
                ("Checkov", "CKV_AWS_55"), ("Checkov", "CKV_AWS_56"), ("Checkov", "CKV2_AWS_6")],
    resource_types=[BUCKET_PAB],
    remediation=("On `aws.s3.BucketPublicAccessBlock` set `block_public_acls=True`, "
                 "`block_public_policy=True`, `ignore_public_acls=True` and `restrict_public_buckets=True`."),
    check=_check_pab,
    nonprod_may_downgrade=False,
)

s3_account_pab = resource_policy(
    name="ob-s3-account-pab",
    description="The account-level S3 public access block turns on all four public-access protections.",
    severity=Severity.CRITICAL,
    frameworks=[("FSBP", "S3.1"), ("CIS", "2.1.4"), ("Checkov", "CKV_AWS_53")],
    resource_types=[ACCOUNT_PAB],
    remediation=("Create one `aws.s3.AccountPublicAccessBlock` per account with `block_public_acls=True`, "
                 "`block_public_policy=True`, `ignore_public_acls=True` and `restrict_public_buckets=True`."),
    check=_check_pab,
    nonprod_may_downgrade=False,
)


# ---------------------------------------------------------------------------------------------
# ob-s3-sse-kms
# ---------------------------------------------------------------------------------------------


def _check_sse_rule(rule: Any, where: str, report: ReportViolation) -> None:
    default = get(rule, "applyServerSideEncryptionByDefault")
    if default is UNKNOWN:
        return
    if default is None:
        report(f"`{where}.applyServerSideEncryptionByDefault` is not set; set `sse_algorithm` to "
               f"\"aws:kms\" with a customer-managed `kms_master_key_id`", None)
        return
    algorithm = get(default, "sseAlgorithm")
    if algorithm is UNKNOWN:
        return
    if algorithm not in KMS_ALGORITHMS:
        report(f"`{where}.applyServerSideEncryptionByDefault.sseAlgorithm` is {TICKED.show(algorithm)}; "
               f"it must be \"aws:kms\" or \"aws:kms:dsse\"", None)
        return
    key_path = f"{where}.applyServerSideEncryptionByDefault.kmsMasterKeyId"
    if not is_set(default, "kmsMasterKeyId"):
        report(f"`{key_path}` is not set, so the AWS-managed aws/s3 key is used; "
               f"it must name a customer-managed KMS key", None)
    elif is_aws_managed_key(get(default, "kmsMasterKeyId")):
        report(f"`{key_path}` is {TICKED.show(get(default, 'kmsMasterKeyId'))}, an AWS-managed key; "
               f"it must name a customer-managed KMS key", None)
    if algorithm == "aws:kms":  # S3 Bucket Keys do not apply to DSSE-KMS
        bucket_key = get(rule, "bucketKeyEnabled")
        if bucket_key is not UNKNOWN and bucket_key is not True:
            report(f"`{where}.bucketKeyEnabled` is {TICKED.show(bucket_key)}; it must be true", None)


def _check_sse_rules(rules_value: Any, where: str, report: ReportViolation) -> None:
    rules = items(rules_value)
    if any(is_unknown(r) for r in rules):
        return
    if not rules:
        report(f"`{where}` is empty; add a rule with `sse_algorithm=\"aws:kms\"`", None)
        return
    for i, rule in enumerate(rules):
        _check_sse_rule(rule, f"{where}[{i}]" if len(rules) > 1 else where, report)


def _check_sse(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type in (SSE, SSE_V2):
        _check_sse_rules(get(props, "rules"), "rules", report)
        return
    # Bucket / BucketV2: only the deprecated inline block, when it is used at all.
    key, block = _first_present(props, "serverSideEncryptionConfiguration",
                                "serverSideEncryptionConfigurations")
    if key is None or block is UNKNOWN:
        return
    rule_key, rules = _first_present(first(block), "rule", "rules")
    _check_sse_rules(rules, f"{key}.{rule_key or 'rule'}", report)


s3_sse_kms = resource_policy(
    name="ob-s3-sse-kms",
    description="S3 default encryption uses SSE-KMS with a customer-managed key and S3 Bucket Keys.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "S3.17"), ("Checkov", "CKV_AWS_145"), ("Trivy", "AVD-AWS-0132"),
                ("FSI Lens", "FSISEC09")],
    resource_types=[SSE, SSE_V2, BUCKET, BUCKET_V2],
    remediation=("Add an `aws.s3.BucketServerSideEncryptionConfiguration` whose rule sets "
                 "`apply_server_side_encryption_by_default={\"sse_algorithm\": \"aws:kms\", "
                 "\"kms_master_key_id\": key.arn}` and `bucket_key_enabled=True`."),
    check=_check_sse,
)


# ---------------------------------------------------------------------------------------------
# ob-s3-tls-only
# ---------------------------------------------------------------------------------------------


def _covers_all_s3(actions: Any) -> bool:
    return any(a in ("*", "s3:*") for a in items(actions))


def _denies_insecure_transport(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    if not principal_is_everyone(statement.get("Principal")) or not _covers_all_s3(statement.get("Action")):
        return False
    values = condition_values(statement, "Bool", "aws:SecureTransport")
    return any(str(v).lower() == "false" for v in values)


def _check_tls_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if get(args.props, "policy") is None:
        report("`policy` is not set; it must deny s3:* when aws:SecureTransport is \"false\"", None)
        return
    doc = TICKED.policy_document(report, args.props, "policy")
    if doc is None:
        return
    if not any(_denies_insecure_transport(s) for s in statements(doc)):
        report("`policy` has no statement with Effect \"Deny\", Principal \"*\", Action \"s3:*\" and "
               "Condition {\"Bool\": {\"aws:SecureTransport\": \"false\"}}", None)


s3_tls_only = resource_policy(
    name="ob-s3-tls-only",
    description="Every S3 bucket policy denies requests that do not use TLS (aws:SecureTransport false).",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "S3.5"), ("CIS", "2.1.1"), ("FAPI", "2.0 TLS")],
    resource_types=[BUCKET_POLICY],
    remediation=("In the `aws.s3.BucketPolicy` `policy` JSON add the statement "
                 "`{\"Sid\": \"DenyInsecureTransport\", \"Effect\": \"Deny\", \"Principal\": \"*\", "
                 "\"Action\": \"s3:*\", \"Resource\": [bucket_arn, f\"{bucket_arn}/*\"], "
                 "\"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"false\"}}}`."),
    check=_check_tls_only,
)


# ---------------------------------------------------------------------------------------------
# ob-s3-versioning-logging
# ---------------------------------------------------------------------------------------------


def _check_versioning_logging(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    t = args.resource_type
    if t in (VERSIONING, VERSIONING_V2):
        TICKED.require_equal(report, props, "versioningConfiguration", "status", expected="Enabled")
    elif t in (LOGGING, LOGGING_V2):
        TICKED.require_set(report, props, "targetBucket", why="; server access logs must go to the log bucket")
    else:
        vkey, versioning = _first_present(props, "versioning", "versionings")
        if vkey is not None and versioning is not UNKNOWN:
            enabled = get(versioning, "enabled")
            if enabled is not UNKNOWN and enabled is not True:
                report(f"`{vkey}.enabled` is {TICKED.show(enabled)}; it must be true", None)
        lkey, logging = _first_present(props, "logging", "loggings")
        if lkey is not None and logging is not UNKNOWN and not is_set(logging, "targetBucket"):
            report(f"`{lkey}.targetBucket` is not set; server access logs must go to the log bucket", None)


s3_versioning_logging = resource_policy(
    name="ob-s3-versioning-logging",
    description="S3 buckets keep object versions and write server access logs to a log bucket.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "S3.14"), ("FSBP", "S3.9"), ("Checkov", "CKV_AWS_21"), ("Checkov", "CKV_AWS_18")],
    resource_types=[VERSIONING, VERSIONING_V2, LOGGING, LOGGING_V2, BUCKET, BUCKET_V2],
    remediation=("Add `aws.s3.BucketVersioning(versioning_configuration={\"status\": \"Enabled\"})` and "
                 "`aws.s3.BucketLogging(target_bucket=log_bucket.id, target_prefix=...)` for the bucket."),
    check=_check_versioning_logging,
)


# ---------------------------------------------------------------------------------------------
# ob-s3-ownership-lock
# ---------------------------------------------------------------------------------------------


def _is_audit_bucket(props: Any) -> bool:
    for key in ("tags", "tagsAll"):
        tags = get(props, key)
        if not hasattr(tags, "keys"):
            continue
        classification = get(tags, "DataClassification")
        audit_flag = get(tags, "lz:audit")
        if (isinstance(classification, str) and classification.lower() == "audit") or (
                isinstance(audit_flag, str) and audit_flag.lower() == "true") or audit_flag is True:
            return True
    return False


def _check_ownership_lock(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == OWNERSHIP:
        TICKED.require_equal(report, props, "rule", "objectOwnership", expected="BucketOwnerEnforced",
                             why="; ACLs must be disabled")
        return
    if not _is_audit_bucket(props):
        return
    lock = get(props, "objectLockEnabled")
    legacy = get(props, "objectLockConfiguration", "objectLockEnabled")
    if UNKNOWN in (lock, legacy) or lock is True or legacy == "Enabled":
        return
    report(f"audit bucket: `objectLockEnabled` is {TICKED.show(lock)}; it must be true so audit records "
           "cannot be deleted or overwritten", None)


s3_ownership_lock = resource_policy(
    name="ob-s3-ownership-lock",
    description="S3 buckets disable ACLs (BucketOwnerEnforced) and audit buckets use S3 Object Lock.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "S3.12"), ("FSBP", "S3.15"), ("Checkov", "CKV_AWS_143")],
    resource_types=[OWNERSHIP, BUCKET, BUCKET_V2],
    remediation=("Add `aws.s3.BucketOwnershipControls(rule={\"object_ownership\": "
                 "\"BucketOwnerEnforced\"})`; "
                 "create audit buckets (tag `DataClassification: audit`) with `object_lock_enabled=True` "
                 "and an `aws.s3.BucketObjectLockConfiguration` default retention."),
    check=_check_ownership_lock,
)


POLICIES = [s3_pab, s3_account_pab, s3_sse_kms, s3_tls_only, s3_versioning_logging, s3_ownership_lock]
