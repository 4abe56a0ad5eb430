"""A log bucket fit for audit evidence: KMS-encrypted, versioned, Object Lock, TLS-only, private.

Built from the v7 `aws.s3.Bucket` plus its sub-resources (never the deprecated inline blocks), so the
policy pack sees each control as its own resource.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class LogBucketArgs:
    bucket_name: str
    kms_key_arn: pulumi.Input[str]
    retention_days: int
    #: Log-delivery services granted PutObject, e.g. "cloudtrail.amazonaws.com".
    delivery_services: Sequence[str] = ()
    #: Condition on the delivery grant, e.g. {"StringEquals": {"aws:SourceOrgID": "o-..."}}.
    delivery_condition: dict[str, Any] | None = None
    object_lock: bool = True
    protect: bool = True


def bucket_policy(bucket_arn: str, args: LogBucketArgs) -> str:
    """Deny plain HTTP; let the listed log services write, with the owner getting the objects."""
    statements: list[dict[str, Any]] = [{
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]
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


class LogBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

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
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=on_bucket,
        )
        if args.object_lock:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=self.bucket.id,
                rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode="GOVERNANCE", days=args.retention_days)),
                opts=on_bucket,
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="archive-then-expire",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                transitions=[aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=90, storage_class="GLACIER_IR")],
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days),
                noncurrent_version_expiration=aws.s3.
                BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=args.retention_days),
            )],
            opts=on_bucket,
        )
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(lambda arn: bucket_policy(arn, args)),
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[self.public_access_block]),
        )
        self.bucket_name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"bucketName": self.bucket_name, "arn": self.arn})
