"""A log bucket fit for audit evidence: KMS-encrypted, versioned, Object Lock, TLS-only, private.

Built from the v7 `aws.s3.Bucket` plus its sub-resources (never the deprecated inline blocks), so the
policy pack sees each control as its own resource. Object Lock in compliance mode means nobody, the
account root included, can delete or overwrite a log object before its retention ends; the lifecycle
then moves it to cheaper storage and finally expires it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class Lifecycle:
    """Storage classes over a log object's life, in days after it was written."""

    #: Days after creation an object moves to STANDARD_IA (at least 30).
    infrequent_access_after_days: int
    #: Days after creation it moves to GLACIER (at least 30 days after STANDARD_IA).
    glacier_after_days: int
    #: Days after creation it expires (after GLACIER); a noncurrent version is removed this many days
    #: after it became noncurrent.
    expire_after_days: int

    def __post_init__(self) -> None:
        ia, glacier, expire = self.infrequent_access_after_days, self.glacier_after_days, self.expire_after_days
        if not (ia >= 30 and glacier >= ia + 30 and expire > glacier):
            raise ValueError("lifecycle days must satisfy 30 <= infrequent access, infrequent access + 30 <= "
                             f"glacier < expiry; got {self}")


@dataclass(frozen=True)
class LogBucketArgs:
    """One audit log bucket: its name, key, retention, lifecycle and who may deliver to it."""

    #: Physical bucket name (globally unique); also its key prefix in `access_log_bucket`.
    bucket_name: str
    #: The key SSE-KMS encrypts every object with (S3 Bucket Keys on).
    kms_key_arn: pulumi.Input[str]
    #: Object Lock default retention, in days; also the expiry when no `lifecycle` is given.
    retention_days: int
    #: Log-delivery services granted PutObject, e.g. "cloudtrail.amazonaws.com".
    delivery_services: Sequence[str] = ()
    #: Condition on the delivery grant, e.g. {"StringEquals": {"aws:SourceOrgID": "o-..."}};
    #: None: unconditioned.
    delivery_condition: dict[str, Any] | None = None
    #: Turn Object Lock on for the bucket (`object_lock_enabled`). False: no Object Lock configuration
    #: and no deletion-deny statement (the bucket is still versioned).
    object_lock: bool = True
    #: Pulumi `protect` and `retain_on_delete` on the bucket: no update deletes it, a destroy leaves it (prod).
    protect: bool = True
    #: COMPLIANCE cannot be lifted by anyone, root included, until retention ends: the log archive uses it;
    #: GOVERNANCE (the default) lets a principal with s3:BypassGovernanceRetention clean up test buckets.
    lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "GOVERNANCE"
    #: False for a bucket that receives S3 server access logs: S3 refuses to deliver them into a
    #: bucket with an Object Lock default retention, so deletion is denied by the bucket policy instead.
    default_retention: bool = True
    #: When objects move to STANDARD_IA and GLACIER and expire. None: after 90 days, after
    #: max(120, retention_days // 2) days, and after max(121, retention_days) days.
    lifecycle: Lifecycle | None = None
    #: Bucket (name) that receives this bucket's S3 server access logs.
    access_log_bucket: pulumi.Input[str] | None = None
    #: A replica: the ARN of the only role that may write into it, by S3 replication; the policy then denies
    #: PutObject to everyone (a replica holds nothing but copies). None: not a replica.
    replicated_by: pulumi.Input[str] | None = None


def bucket_policy(bucket_arn: str, args: LogBucketArgs, replication_role_arn: str | None = None) -> str:
    """Deny plain HTTP; let the listed log services write, with the owner getting the objects; where
    Object Lock has no default retention, deny deleting log objects outright; on a replica
    (`replication_role_arn`), deny every write but that role's replication."""
    statements: list[dict[str, Any]] = [{
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]
    if args.object_lock and not args.default_retention:
        statements.append({
            "Sid": "DenyLogDeletion",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention",
                       "s3:BypassGovernanceRetention"],
            "Resource": f"{bucket_arn}/*",
        })
    if replication_role_arn is not None:
        statements.append({
            "Sid": "ReplicasOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
        })
        statements.append({
            "Sid": "ReplicationRoleOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            "Resource": f"{bucket_arn}/*",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": replication_role_arn}},
        })
    if args.delivery_services:
        services = sorted(args.delivery_services)
        condition = dict(args.delivery_condition or {})
        statements.append({
            "Sid": "LogDeliveryCheckAcl",
            "Effect": "Allow",
            "Principal": {"Service": services},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": bucket_arn,
            **({"Condition": condition} if condition else {}),
        })
        statements.append({
            "Sid": "LogDeliveryWrite",
            "Effect": "Allow",
            "Principal": {"Service": services},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            **({"Condition": condition} if condition else {}),
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def lifecycle_rule(args: LogBucketArgs) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    """Infrequent access, then Glacier, then expiry (never before Object Lock releases the object)."""
    life = args.lifecycle or Lifecycle(90, max(120, args.retention_days // 2), max(121, args.retention_days))
    if args.object_lock and args.default_retention and life.expire_after_days < args.retention_days:
        raise ValueError(f"bucket {args.bucket_name!r}: expiry after {life.expire_after_days} days is shorter "
                         f"than the Object Lock retention of {args.retention_days} days")
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="archive-then-expire",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        transitions=[
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                days=life.infrequent_access_after_days, storage_class="STANDARD_IA"),
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                days=life.glacier_after_days, storage_class="GLACIER"),
        ],
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=life.expire_after_days),
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=life.expire_after_days),
        abort_incomplete_multipart_upload=aws.s3.
        BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(days_after_initiation=7),
    )


class LogBucket(pulumi.ComponentResource):
    """An S3 bucket for audit logs with its access block, encryption, versioning, Object Lock, lifecycle and policy."""

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    #: The bucket's versioning (replication waits for it on both sides).
    versioning: aws.s3.BucketVersioning
    #: The default retention (Object Lock); None without one.
    object_lock: aws.s3.BucketObjectLockConfiguration | None

    def __init__(self, name: str, args: LogBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:logging:LogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            name,
            bucket=args.bucket_name,
            object_lock_enabled=args.object_lock,
            force_destroy=False,
            tags={"DataClassification": "audit"},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                protect=args.protect, retain_on_delete=args.protect)),
        )
        on_bucket = pulumi.ResourceOptions(parent=self.bucket)
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=on_bucket,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=on_bucket,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn),
                bucket_key_enabled=True,
            )],
            opts=on_bucket,
        )
        self.versioning = versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=on_bucket,
        )
        self.object_lock = None
        if args.object_lock and args.default_retention:
            self.object_lock = aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=self.bucket.id,
                rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode=args.lock_mode, days=args.retention_days)),
                opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[versioning]),
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[lifecycle_rule(args)],
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[versioning]),
        )
        if args.access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-access-logging",
                bucket=self.bucket.id,
                target_bucket=args.access_log_bucket,
                target_prefix=f"{args.bucket_name}/",
                target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                    partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                        partition_date_source="EventTime")),
                opts=on_bucket,
            )
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, args.replicated_by).apply(
                lambda a: bucket_policy(a[0], args, a[1])),
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[self.public_access_block]),
        )
        self.bucket_name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"bucketName": self.bucket_name, "arn": self.arn})
