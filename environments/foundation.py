"""What workload stacks read from the foundation stack, through a `StackReference` only.

The export names are defined here once: the foundation stack exports them, workload stacks read them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

ORGANIZATION_ID = "organizationId"
LOG_ARCHIVE_ACCOUNT_ID = "logArchiveAccountId"
LOG_ARCHIVE_BUCKET_NAME = "logArchiveBucketName"
LOG_ARCHIVE_BUCKET_ARN = "logArchiveBucketArn"
LOG_ARCHIVE_KEY_ARN = "logArchiveKeyArn"
SECURITY_ACCOUNT_ID = "securityAccountId"


@dataclass(frozen=True)
class FoundationOutputs:
    """The organization-wide facts an environment builds on."""

    organization_id: pulumi.Output[str]
    log_archive_account_id: pulumi.Output[str]
    log_archive_bucket_name: pulumi.Output[str]
    log_archive_bucket_arn: pulumi.Output[str]
    log_archive_key_arn: pulumi.Output[str]
    security_account_id: pulumi.Output[str]

    @classmethod
    def read(cls, stack: str, parent: pulumi.Resource | None = None) -> FoundationOutputs:
        ref = pulumi.StackReference(stack, opts=pulumi.ResourceOptions(parent=parent))

        def out(key: str) -> pulumi.Output[str]:
            return ref.require_output(key).apply(str)

        return cls(
            organization_id=out(ORGANIZATION_ID),
            log_archive_account_id=out(LOG_ARCHIVE_ACCOUNT_ID),
            log_archive_bucket_name=out(LOG_ARCHIVE_BUCKET_NAME),
            log_archive_bucket_arn=out(LOG_ARCHIVE_BUCKET_ARN),
            log_archive_key_arn=out(LOG_ARCHIVE_KEY_ARN),
            security_account_id=out(SECURITY_ACCOUNT_ID),
        )
