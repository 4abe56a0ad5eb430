"""What workload stacks read from the foundation stack, through a `StackReference` only.

The export names are defined here once: the foundation stack exports them, workload stacks read them.
"""

from __future__ import annotations

from functools import cached_property

import pulumi

ORGANIZATION_ID = "organizationId"
ORGANIZATION_ROOT_ID = "organizationRootId"
OU_IDS = "organizationalUnitIds"
LOG_ARCHIVE_ACCOUNT_ID = "logArchiveAccountId"
#: The bucket every VPC flow log delivers to (kept under its historical name).
LOG_ARCHIVE_BUCKET_NAME = "logArchiveBucketName"
LOG_ARCHIVE_BUCKET_ARN = "logArchiveBucketArn"
LOG_ARCHIVE_KEY_ARN = "logArchiveKeyArn"
FLOW_LOGS_BUCKET_ARN = "flowLogsBucketArn"
TRAIL_BUCKET_ARN = "trailBucketArn"
CONFIG_BUCKET_NAME = "configBucketName"
CONFIG_BUCKET_ARN = "configBucketArn"
WAF_LOGS_BUCKET_ARN = "wafLogsBucketArn"
ACCESS_LOGS_BUCKET_ARN = "accessLogsBucketArn"
LOG_ANALYTICS_KEY_ARN = "logAnalyticsKeyArn"
ORGANIZATION_TRAIL_ARN = "organizationTrailArn"
SECURITY_ACCOUNT_ID = "securityAccountId"
FINDINGS_TOPIC_ARN = "securityFindingsTopicArn"


class FoundationOutputs:
    """The organization-wide facts an environment builds on, read from the foundation stack's exports.

    Each is read on first use: a missing export fails the deployment that needs it, and an export no
    account of this stack uses is never requested.
    """

    def __init__(self, ref: pulumi.StackReference) -> None:
        self._ref = ref

    @classmethod
    def read(cls, stack: str, parent: pulumi.Resource | None = None) -> FoundationOutputs:
        return cls(pulumi.StackReference(stack, opts=pulumi.ResourceOptions(parent=parent)))

    def _out(self, key: str) -> pulumi.Output[str]:
        return self._ref.require_output(key).apply(str)

    @cached_property
    def organization_id(self) -> pulumi.Output[str]:
        return self._out(ORGANIZATION_ID)

    @cached_property
    def log_archive_account_id(self) -> pulumi.Output[str]:
        return self._out(LOG_ARCHIVE_ACCOUNT_ID)

    @cached_property
    def log_archive_bucket_name(self) -> pulumi.Output[str]:
        return self._out(LOG_ARCHIVE_BUCKET_NAME)

    @cached_property
    def log_archive_bucket_arn(self) -> pulumi.Output[str]:
        """VPC flow logs (the same bucket as `flow_logs_bucket_arn`)."""
        return self._out(LOG_ARCHIVE_BUCKET_ARN)

    @cached_property
    def log_archive_key_arn(self) -> pulumi.Output[str]:
        return self._out(LOG_ARCHIVE_KEY_ARN)

    @cached_property
    def security_account_id(self) -> pulumi.Output[str]:
        return self._out(SECURITY_ACCOUNT_ID)

    @cached_property
    def flow_logs_bucket_arn(self) -> pulumi.Output[str]:
        return self._out(FLOW_LOGS_BUCKET_ARN)

    @cached_property
    def config_bucket_name(self) -> pulumi.Output[str]:
        return self._out(CONFIG_BUCKET_NAME)

    @cached_property
    def waf_logs_bucket_arn(self) -> pulumi.Output[str]:
        return self._out(WAF_LOGS_BUCKET_ARN)

    @cached_property
    def access_logs_bucket_arn(self) -> pulumi.Output[str]:
        return self._out(ACCESS_LOGS_BUCKET_ARN)

    @cached_property
    def findings_topic_arn(self) -> pulumi.Output[str]:
        return self._out(FINDINGS_TOPIC_ARN)

    @cached_property
    def ou_ids(self) -> pulumi.Output[dict[str, str]]:
        """OU path (e.g. "Workloads/Prod") -> OU id."""
        return self._ref.require_output(OU_IDS).apply(lambda ids: {str(k): str(v) for k, v in dict(ids).items()})
