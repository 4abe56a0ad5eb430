"""High and critical security findings, the moment they arrive, on a KMS-encrypted SNS topic.

GuardDuty findings of severity 7 and above (HIGH and CRITICAL) match one EventBridge rule; Security
Hub findings labelled HIGH or CRITICAL from every other product (Macie, Inspector, Config, Access
Analyzer, ...) match another, so a GuardDuty finding is not announced twice. The topic policy admits
only these rules; a finding EventBridge cannot deliver after its retries is kept on a dead-letter queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .queues import allow_service_to_send, dead_letter_queue

GUARDDUTY_HIGH_SEVERITY = 7

EVENT_PATTERNS: dict[str, dict[str, Any]] = {
    "guardduty": {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", GUARDDUTY_HIGH_SEVERITY]}]},
    },
    "securityhub": {
        "source": ["aws.securityhub"],
        "detail-type": ["Security Hub Findings - Imported"],
        "detail": {"findings": {
            "Severity": {"Label": ["HIGH", "CRITICAL"]},
            "RecordState": ["ACTIVE"],
            "Workflow": {"Status": ["NEW"]},
            "ProductName": [{"anything-but": "GuardDuty"}],
        }},
    },
}


@dataclass(frozen=True)
class FindingsAlertsArgs:
    """Where the security account announces HIGH and CRITICAL findings."""

    #: Prefix of the topic (`<prefix>-security-findings`) and of the two EventBridge rules' names.
    name_prefix: str
    #: Encrypts the topic; its key policy must admit events.amazonaws.com.
    kms_key_arn: pulumi.Input[str]


class FindingsAlerts(pulumi.ComponentResource):
    """An encrypted SNS topic and the EventBridge rules that publish HIGH and CRITICAL findings to it."""

    topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: FindingsAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:security:FindingsAlerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-topic", name=f"{args.name_prefix}-security-findings", kms_master_key_id=args.kms_key_arn,
            opts=child)
        undelivered = dead_letter_queue(f"{name}-undelivered", f"{args.name_prefix}-security-findings-undelivered",
                                        args.kms_key_arn, self)
        rules: list[aws.cloudwatch.EventRule] = []
        for source, pattern in EVENT_PATTERNS.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{source}",
                name=f"{args.name_prefix}-{source}-high-findings",
                description=f"HIGH and CRITICAL {source} findings to the security findings topic",
                event_pattern=json.dumps(pattern),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{source}", rule=rule.name, arn=self.topic.arn, target_id="security-findings-topic",
                retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(maximum_retry_attempts=185,
                                                                       maximum_event_age_in_seconds=86400),
                dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=undelivered.arn),
                opts=pulumi.ResourceOptions(parent=rule))
            rules.append(rule)
        allow_service_to_send(f"{name}-undelivered-policy", undelivered, "events.amazonaws.com", [r.arn for r in rules],
                              undelivered)
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, *[r.arn for r in rules]).apply(
                lambda a: json.dumps({"Version": "2012-10-17", "Statement": [
                    {"Sid": "FindingRulesPublish", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                     "Action": "sns:Publish", "Resource": a[0],
                     "Condition": {"ArnEquals": {"aws:SourceArn": sorted(a[1:])}}},
                    {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                     "Resource": a[0], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                ]})),
            opts=pulumi.ResourceOptions(parent=self.topic),
        )
        self.topic_arn = self.topic.arn
        self.register_outputs({"topicArn": self.topic_arn})
