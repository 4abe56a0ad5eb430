"""SQS queues that lose nothing: every queue is encrypted with the account's customer key and has a
dead-letter queue, or is one (it then keeps what it holds for the SQS maximum of 14 days)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

#: Days a dead-letter queue keeps what it holds (SQS maximum).
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class QueueArgs:
    """A queue and its dead-letter queue."""

    #: Queue name; the dead-letter queue is `<name>-dlq`.
    queue_name: str
    #: The account key both queues are encrypted with.
    kms_key_arn: pulumi.Input[str]
    #: How long a received message stays invisible (six times the consumer's timeout, AWS advises).
    visibility_timeout_seconds: int = 30
    #: Receives before a message moves to the dead-letter queue.
    max_receive_count: int = 5


class DeadLetteredQueue(pulumi.ComponentResource):
    """A queue whose failed messages move to its own dead-letter queue (which accepts no other queue's)."""

    queue: aws.sqs.Queue
    dead_letters: aws.sqs.Queue

    def __init__(self, name: str, args: QueueArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:messaging:DeadLetteredQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.dead_letters = aws.sqs.Queue(
            f"{name}-dlq", name=f"{args.queue_name}-dlq", kms_master_key_id=args.kms_key_arn,
            kms_data_key_reuse_period_seconds=300, message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
            opts=child)
        self.queue = aws.sqs.Queue(
            name, name=args.queue_name, kms_master_key_id=args.kms_key_arn, kms_data_key_reuse_period_seconds=300,
            visibility_timeout_seconds=args.visibility_timeout_seconds, message_retention_seconds=4 * 24 * 3600,
            redrive_policy=self.dead_letters.arn.apply(lambda arn: json.dumps(
                {"deadLetterTargetArn": arn, "maxReceiveCount": args.max_receive_count})),
            opts=child)
        aws.sqs.RedriveAllowPolicy(
            f"{name}-dlq-sources", queue_url=self.dead_letters.url,
            redrive_allow_policy=self.queue.arn.apply(lambda arn: json.dumps(
                {"redrivePermission": "byQueue", "sourceQueueArns": [arn]})),
            opts=pulumi.ResourceOptions(parent=self.dead_letters))
        self.register_outputs({"queueArn": self.queue.arn, "deadLetterQueueArn": self.dead_letters.arn})


def dead_letter_queue(name: str, queue_name: str, kms_key_arn: pulumi.Input[str],
                      parent: pulumi.Resource) -> aws.sqs.Queue:
    """A queue that only ever receives failures (it is a dead-letter queue itself)."""
    return aws.sqs.Queue(name, name=queue_name, kms_master_key_id=kms_key_arn, kms_data_key_reuse_period_seconds=300,
                         message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
                         opts=pulumi.ResourceOptions(parent=parent))


def send_to(queue_arn: pulumi.Input[str], key_arn: pulumi.Input[str]) -> list[Mapping[str, Any]]:
    """IAM statements that let a role put messages on `queue_arn`, encrypted with `key_arn`."""
    return [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn},
            {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key_arn}]


def allow_service_to_send(name: str, queue: aws.sqs.Queue, service: str, source_arns: Sequence[pulumi.Input[str]],
                          parent: pulumi.Resource) -> aws.sqs.QueuePolicy:
    """Let an AWS service (EventBridge) put failed events on `queue`, from exactly `source_arns`."""
    return aws.sqs.QueuePolicy(
        name, queue_url=queue.url,
        policy=pulumi.Output.all(queue.arn, *source_arns).apply(lambda a: json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Sid": "FailedEvents", "Effect": "Allow", "Principal": {"Service": service},
                "Action": "sqs:SendMessage", "Resource": a[0],
                "Condition": {"ArnEquals": {"aws:SourceArn": sorted(a[1:])}}}]})),
        opts=pulumi.ResourceOptions(parent=parent))
