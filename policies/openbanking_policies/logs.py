"""CloudWatch Logs and log delivery (Firehose) rules."""

from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, Severity

from ._base import resource_policy
from ._props import TICKED, UNKNOWN, config_number, get, is_set, number

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
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


# ---------------------------------------------------------------------------------------------
# ob-firehose-encryption
# ---------------------------------------------------------------------------------------------

#: Sources whose own encryption covers the stream's buffer (Firehose refuses server-side encryption with them).
_STREAM_SOURCES = ("kinesisSourceConfiguration", "mskSourceConfiguration")


def _check_firehose(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if not any(is_set(props, source) for source in _STREAM_SOURCES):
        TICKED.require_true(report, props, "serverSideEncryption", "enabled", default=False,
                            why=": records wait in the stream's buffer")
        TICKED.require_equal(report, props, "serverSideEncryption", "keyType", expected="CUSTOMER_MANAGED_CMK",
                             default="AWS_OWNED_CMK")
        if get(props, "serverSideEncryption", "keyType") == "CUSTOMER_MANAGED_CMK":
            TICKED.require_cmk(report, props, "serverSideEncryption", "keyArn")
    if is_set(props, "extendedS3Configuration"):
        TICKED.require_cmk(report, props, "extendedS3Configuration", "kmsKeyArn",
                           why=" (the objects must not depend on the bucket's default encryption)")


firehose_encryption = resource_policy(
    name="ob-firehose-encryption",
    description="Firehose streams encrypt their buffer and their S3 objects with a customer-managed KMS key.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "DataFirehose.1"), ("Checkov", "CKV_AWS_240"), ("Checkov", "CKV_AWS_241"),
                ("FSI Lens", "FSISEC09")],
    resource_types=[FIREHOSE],
    remediation=("On `aws.kinesis.FirehoseDeliveryStream` set `server_side_encryption="
                 "FirehoseDeliveryStreamServerSideEncryptionArgs(enabled=True, key_type=\"CUSTOMER_MANAGED_CMK\", "
                 "key_arn=key.arn)` (not with a Kinesis or MSK source, whose own encryption applies) and "
                 "`extended_s3_configuration.kms_key_arn=key.arn`."),
    check=_check_firehose,
)


POLICIES = [logs, firehose_encryption]
