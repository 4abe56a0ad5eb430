"""Messaging rules: SQS, SNS and EventBridge encrypt with customer-managed keys."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from ._base import resource_policy
from ._props import TICKED

QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
EVENT_BUS = "aws:cloudwatch/eventBus:EventBus"


def _check_msg_cmk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == EVENT_BUS:
        TICKED.require_cmk(report, args.props, "kmsKeyIdentifier")
    elif args.resource_type == QUEUE:
        TICKED.require_cmk(report, args.props, "kmsMasterKeyId", why=" (SQS-managed SSE is not enough)")
    else:
        TICKED.require_cmk(report, args.props, "kmsMasterKeyId")


msg_cmk = resource_policy(
    name="ob-msg-cmk",
    description="SQS queues, SNS topics and EventBridge buses encrypt with a customer-managed KMS key.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "SQS.1"), ("FSBP", "SNS.1"), ("FSBP", "EventBridge.3"), ("Checkov", "CKV_AWS_26"),
                ("Checkov", "CKV_AWS_27"), ("Checkov", "CKV2_AWS_73"), ("FSI Lens", "FSISEC09")],
    resource_types=[QUEUE, TOPIC, EVENT_BUS],
    remediation=("Set `kms_master_key_id=key.arn` on `aws.sqs.Queue` and `aws.sns.Topic`, and "
                 "`kms_key_identifier=key.arn` on `aws.cloudwatch.EventBus`, using a customer-managed key "
                 "(never `alias/aws/sqs` or `alias/aws/sns`)."),
    check=_check_msg_cmk,
)


POLICIES = [msg_cmk]
