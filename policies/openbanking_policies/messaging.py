"""Messaging rules: SQS, SNS and EventBridge encrypt with customer-managed keys; the core-banking feed (Amazon
MSK or Amazon MQ) is private, authenticated, encrypted and logged; undeliverable events land in a DLQ."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from ._base import resource_policy
from ._props import TICKED, UNKNOWN, get, items

QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
EVENT_BUS = "aws:cloudwatch/eventBus:EventBus"
MSK_CLUSTER = "aws:msk/cluster:Cluster"
MSK_SERVERLESS = "aws:msk/serverlessCluster:ServerlessCluster"
MQ_BROKER = "aws:mq/broker:Broker"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SCHEDULE = "aws:scheduler/schedule:Schedule"
PIPE = "aws:pipes/pipe:Pipe"


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


# ---------------------------------------------------------------------------------------------
# ob-msk
# ---------------------------------------------------------------------------------------------

_BROKER_LOG_SINKS = ("cloudwatchLogs", "firehose", "s3")


def _check_msk_cluster(props: Any, report: ReportViolation) -> None:
    TICKED.require_equal(report, props, "encryptionInfo", "encryptionInTransit", "clientBroker", expected="TLS",
                         default="TLS", why="; clients must not reach the brokers in plaintext")
    TICKED.require_true(report, props, "encryptionInfo", "encryptionInTransit", "inCluster", default=True)
    TICKED.require_cmk(report, props, "encryptionInfo", "encryptionAtRestKmsKeyArn",
                       why=" (the default is the AWS-managed aws/msk key)")
    TICKED.require_not_true(report, props, "clientAuthentication", "unauthenticated",
                            why="; every client must authenticate")
    iam = get(props, "clientAuthentication", "sasl", "iam")
    scram = get(props, "clientAuthentication", "sasl", "scram")
    tls_cas = get(props, "clientAuthentication", "tls", "certificateAuthorityArns")
    if UNKNOWN not in (iam, scram, tls_cas) and not (iam is True or scram is True or items(tls_cas)):
        report("`clientAuthentication` enables neither `sasl.iam`, `sasl.scram` nor `tls` client certificates; "
               "clients must authenticate (IAM preferred)", None)
    TICKED.require_equal(report, props, "brokerNodeGroupInfo", "connectivityInfo", "publicAccess", "type",
                         expected="DISABLED", default="DISABLED", why="; brokers must not be reachable from the "
                                                                      "internet")
    sinks = [get(props, "loggingInfo", "brokerLogs", sink, "enabled") for sink in _BROKER_LOG_SINKS]
    if UNKNOWN not in sinks and True not in sinks:
        report("`loggingInfo.brokerLogs` enables no destination (cloudwatchLogs, firehose or s3); broker logs must "
               "be kept", None)


def _check_msk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == MSK_SERVERLESS:
        TICKED.require_true(report, args.props, "clientAuthentication", "sasl", "iam", "enabled", default=False,
                            why="; serverless clusters authenticate clients with IAM only")
        return
    _check_msk_cluster(args.props, report)


msk = resource_policy(
    name="ob-msk",
    description="MSK clusters encrypt client and broker traffic with TLS and data at rest with a customer-managed "
                "key, authenticate every client (IAM, SCRAM or mTLS), stay private and keep broker logs.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "MSK.1"), ("Checkov", "CKV_AWS_80"), ("Checkov", "CKV_AWS_81"),
                ("Checkov", "CKV_AWS_291"), ("FSI Lens", "FSISEC09")],
    resource_types=[MSK_CLUSTER, MSK_SERVERLESS],
    remediation=("On `aws.msk.Cluster` set `encryption_info={\"encryption_at_rest_kms_key_arn\": key.arn, "
                 "\"encryption_in_transit\": {\"client_broker\": \"TLS\", \"in_cluster\": True}}`, "
                 "`client_authentication={\"sasl\": {\"iam\": True}, \"unauthenticated\": False}` (or "
                 "`scram`/`tls`), leave `broker_node_group_info.connectivity_info.public_access.type` "
                 "\"DISABLED\" and set `logging_info={\"broker_logs\": {\"cloudwatch_logs\": {\"enabled\": "
                 "True, \"log_group\": group.name}}}`; on `aws.msk.ServerlessCluster` set "
                 "`client_authentication={\"sasl\": {\"iam\": {\"enabled\": True}}}`."),
    check=_check_msk,
)


# ---------------------------------------------------------------------------------------------
# ob-mq
# ---------------------------------------------------------------------------------------------


def _check_mq(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    TICKED.require_not_true(report, props, "publiclyAccessible", why="; brokers stay in private subnets")
    TICKED.require_true(report, props, "autoMinorVersionUpgrade", default=False,
                        why=" so security fixes reach the broker")
    TICKED.require_true(report, props, "logs", "general", default=False)
    engine = get(props, "engineType")
    if engine is UNKNOWN or not isinstance(engine, str) or engine.lower() != "activemq":
        return  # Amazon MQ for RabbitMQ has no audit log and encrypts with an AWS-owned key only
    TICKED.require_true(report, props, "logs", "audit", default=False)
    owned = get(props, "encryptionOptions", "useAwsOwnedKey")
    if owned is UNKNOWN:
        return
    if owned is not False:
        report(f"`encryptionOptions.useAwsOwnedKey` is {TICKED.show(owned, 'AWS default: true')}; ActiveMQ "
               "brokers must encrypt with a customer-managed `kmsKeyId`", None)
    else:
        TICKED.require_cmk(report, props, "encryptionOptions", "kmsKeyId", why=" (the default is aws/mq)")


mq = resource_policy(
    name="ob-mq",
    description="Amazon MQ brokers are private, take minor version upgrades and log; ActiveMQ brokers also "
                "write audit logs and encrypt with a customer-managed key (RabbitMQ cannot).",
    severity=Severity.HIGH,
    frameworks=[("Checkov", "CKV_AWS_69"), ("Checkov", "CKV_AWS_48"), ("Checkov", "CKV_AWS_197"),
                ("Checkov", "CKV_AWS_207"), ("Checkov", "CKV_AWS_209"), ("FSI Lens", "FSISEC09")],
    resource_types=[MQ_BROKER],
    remediation=("On `aws.mq.Broker` set `publicly_accessible=False`, `auto_minor_version_upgrade=True` and "
                 "`logs={\"general\": True}` (ActiveMQ: also `\"audit\": True` and "
                 "`encryption_options={\"use_aws_owned_key\": False, \"kms_key_id\": key.arn}`; Amazon MQ "
                 "for RabbitMQ only supports the AWS-owned key)."),
    check=_check_mq,
)


# ---------------------------------------------------------------------------------------------
# ob-eventbridge-dlq
# ---------------------------------------------------------------------------------------------

_STREAM_SOURCES = {"dynamodbStreamParameters": (":dynamodb:", "/stream/"), "kinesisStreamParameters": (":kinesis:",)}


def _check_pipe(props: Any, report: ReportViolation) -> None:
    source = get(props, "source")
    if not isinstance(source, str):
        return
    for block, markers in _STREAM_SOURCES.items():
        if all(m in source for m in markers):
            TICKED.require_set(report, props, "sourceParameters", block, "deadLetterConfig", "arn",
                               why="; records the target keeps failing on would be dropped")


def _check_eventbridge_dlq(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == EVENT_TARGET:
        TICKED.require_set(report, props, "deadLetterConfig", "arn",
                           why="; events EventBridge cannot deliver after its retries would be dropped")
    elif args.resource_type == SCHEDULE:
        TICKED.require_set(report, props, "target", "deadLetterConfig", "arn",
                           why="; invocations the scheduler cannot deliver would be dropped")
    else:
        _check_pipe(props, report)


eventbridge_dlq = resource_policy(
    name="ob-eventbridge-dlq",
    description="EventBridge rule targets, Scheduler schedules and Pipes reading a stream send what they cannot "
                "deliver to a dead-letter queue.",
    severity=Severity.MEDIUM,
    frameworks=[("AWS", "EventBridge: dead-letter queues for undelivered events"),
                ("AWS", "EventBridge Pipes: stream source dead-letter configuration")],
    resource_types=[EVENT_TARGET, SCHEDULE, PIPE],
    remediation=("Set `dead_letter_config={\"arn\": dlq.arn}` on `aws.cloudwatch.EventTarget`, "
                 "`target={..., \"dead_letter_config\": {\"arn\": dlq.arn}}` on `aws.scheduler.Schedule` and "
                 "`source_parameters={\"dynamodb_stream_parameters\": {..., \"dead_letter_config\": "
                 "{\"arn\": dlq.arn}}}` (or `kinesis_stream_parameters`) on `aws.pipes.Pipe`; the queue policy "
                 "must let the service send to the DLQ."),
    check=_check_eventbridge_dlq,
)


POLICIES = [msg_cmk, msk, mq, eventbridge_dlq]
