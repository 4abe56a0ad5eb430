"""CloudWatch Logs rules."""

from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, Severity

from ._base import resource_policy
from ._props import TICKED, UNKNOWN, config_number, get, number

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
DEFAULT_MIN_RETENTION_DAYS = 365


def _check_logs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    TICKED.require_cmk(report, props, "kmsKeyId")
    minimum = config_number(args, "minRetentionDays", DEFAULT_MIN_RETENTION_DAYS)
    days = number(get(props, "retentionInDays"))
    if days in (None, UNKNOWN) or days == 0:  # 0 / absent: never expire
        return
    if not isinstance(days, float) or days < minimum:
        report(f"`retentionInDays` is {TICKED.show(days)}; it must be at least {TICKED.show(minimum)} "
               "(or 0 to never expire)", None)


logs = resource_policy(
    name="ob-logs",
    description="CloudWatch log groups are KMS-encrypted and keep logs for at least the configured days.",
    severity=Severity.MEDIUM,
    frameworks=[("Checkov", "CKV_AWS_158"), ("Checkov", "CKV_AWS_338"), ("FSI Lens", "FSISEC09")],
    resource_types=[LOG_GROUP],
    remediation=("Set `kms_key_id=key.arn` (the key policy must allow logs.<region>.amazonaws.com) and "
                 "`retention_in_days=365` (or more, or 0 to keep forever) on `aws.cloudwatch.LogGroup`."),
    check=_check_logs,
)
logs.config_schema = PolicyConfigSchema(
    properties={"minRetentionDays": {"type": "integer", "minimum": 1, "default": DEFAULT_MIN_RETENTION_DAYS}},
)


POLICIES = [logs]
