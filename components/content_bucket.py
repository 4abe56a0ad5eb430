"""A private bucket for what the platform publishes or reads back (truststores, the public static data behind
CloudFront): KMS-encrypted, versioned, TLS-only, ACLs off, public access blocked, old versions expiring.

Audit logs go to :mod:`components.log_bucket` instead (Object Lock, delivery grants). S3 server access logs can
only go to a bucket of the same account and region, so these buckets have none: object-level access is in the
organization trail's S3 data events (`foundation.trail.dataEventBucketNames`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class ContentObject:
    """One object the bucket holds, written by the program (a new content is a new, visible version)."""

    #: The object's text.
    content: pulumi.Input[str]
    #: Its media type, e.g. "application/x-pem-file".
    content_type: str
    #: `Cache-Control` for what CloudFront serves from it; None: none.
    cache_control: str | None = None


@dataclass(frozen=True)
class ContentBucketArgs:
    """One content bucket."""

    #: Physical bucket name (globally unique, 3-63 lowercase characters).
    bucket_name: str
    #: The key SSE-KMS encrypts every object with (S3 Bucket Keys on).
    kms_key_arn: pulumi.Input[str]
    #: Key -> object the bucket holds.
    objects: Mapping[str, ContentObject]
    #: Statements added to the bucket policy after the TLS-only deny (e.g. CloudFront's origin access control
    #: reading objects); each names this bucket's ARN (`arn:aws:s3:::<bucket_name>`) itself.
    policy_statements: Sequence[pulumi.Input[Mapping[str, Any]]] = ()
    #: Days a replaced or deleted object version is kept (a truststore's previous bundle, for a rollback).
    noncurrent_version_days: int = 90
    #: Pulumi `protect` and `retain_on_delete` on the bucket (prod).
    protect: bool = True


def bucket_arn(bucket_name: str) -> str:
    return f"arn:aws:s3:::{bucket_name}"


class ContentBucket(pulumi.ComponentResource):
    """Bucket, public access block, ownership, encryption, versioning, lifecycle, TLS-only policy, objects."""

    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning

    def __init__(self, name: str, args: ContentBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:storage:ContentBucket", name, None, opts)
        if not _BUCKET_NAME.match(args.bucket_name) or ".." in args.bucket_name:
            raise ValueError(f"{name}: bucket name {args.bucket_name!r} is not a valid S3 bucket name")
        if not 1 <= args.noncurrent_version_days <= 3650:
            raise ValueError(f"{name}: noncurrent_version_days {args.noncurrent_version_days} is outside 1-3650")
        self.bucket = aws.s3.Bucket(
            name, bucket=args.bucket_name, force_destroy=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect))
        on_bucket = pulumi.ResourceOptions(parent=self.bucket)
        block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block", bucket=self.bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=on_bucket)
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=on_bucket)
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=self.bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=args.kms_key_arn),
                bucket_key_enabled=True)],
            opts=on_bucket)
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=on_bucket)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle", bucket=self.bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-old-versions", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=args.noncurrent_version_days),
                abort_incomplete_multipart_upload=aws.s3.
                BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(days_after_initiation=7))],
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[self.versioning]))
        arn = bucket_arn(args.bucket_name)
        statements: list[pulumi.Input[Mapping[str, Any]]] = [{
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            *args.policy_statements]
        aws.s3.BucketPolicy(
            f"{name}-policy", bucket=self.bucket.id,
            policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[block]))
        #: Key -> its object; `version_id` is what a reader pins (the truststore).
        self.objects = {key: aws.s3.BucketObjectv2(
            f"{name}-{key.replace('/', '-').replace('.', '-')}", bucket=self.bucket.id, key=key, content=obj.content,
            content_type=obj.content_type, cache_control=obj.cache_control, kms_key_id=args.kms_key_arn,
            server_side_encryption="aws:kms", bucket_key_enabled=True,
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[self.versioning, self.encryption]))
            for key, obj in args.objects.items()}
        self.bucket_name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.regional_domain_name = self.bucket.bucket_regional_domain_name
        self.register_outputs({"bucketName": self.bucket_name, "arn": self.arn})
