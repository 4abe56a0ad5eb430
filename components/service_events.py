"""Event notifications to third parties [10][18]: status changes reach the TPPs' callbacks and nothing is lost
on the way.

- :class:`Outbox` (each account whose tables record consents or payments): the tables' DynamoDB streams feed
  the `outbox_relay` Lambda, which turns each status change into an EventBridge event on the events bus (in
  this account or in the account that runs the events service). A batch it cannot relay is retried, split,
  and finally kept on a dead-letter queue.
- :class:`ServiceEvents` (the account that runs the events service): the customer-key encrypted event bus,
  whose policy lets exactly the listed workload accounts publish; a rule hands each event to the
  `event_router` Lambda (subscription check, stored for polling, queued for push), asynchronously with a
  failure destination; the delivery queue (with its dead-letter queue and redrive) feeds the
  `event_delivery` Lambda, which signs each SET and POSTs it to the TPP's callback through the egress proxy,
  reporting partial batch failures, under a reserved concurrency.
- :class:`ScheduledFunction`: a Lambda on an EventBridge schedule (`consent_expiry`), with retries and a
  dead-letter queue on the target and a failure destination on the function.

Every queue is encrypted with the account key and has a dead-letter queue, or is one (:mod:`components.queues`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from .lambda_function import LambdaFunction, LambdaFunctionArgs
from .queues import DeadLetteredQueue, QueueArgs, allow_service_to_send, dead_letter_queue, send_to

#: The `source` of every event the outbox relays (the bus policy and the router's rule name it).
OUTBOX_SOURCE = "openbanking.outbox"
@dataclass(frozen=True)
class OutboxArgs:
    """The relay from one account's stream-enabled tables to the events bus."""

    #: The `outbox_relay` function (its environment names the bus; see `bus_variable`).
    relay: LambdaFunctionArgs
    #: Logical table name -> its stream ARN: the tables whose changes are relayed.
    stream_arns: Mapping[str, pulumi.Input[str]]
    #: The events bus (here or in the account running the events service).
    bus_arn: pulumi.Input[str]
    #: The relay's setting that names the bus.
    bus_variable: str
    #: Name of the dead-letter queue for batches that could not be relayed.
    dead_letter_queue_name: str
    #: The account key the dead-letter queue is encrypted with.
    kms_key_arn: pulumi.Input[str]
    #: Stream records per invocation.
    batch_size: int = 25


class Outbox(pulumi.ComponentResource):
    relay: LambdaFunction

    def __init__(self, name: str, args: OutboxArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:messaging:Outbox", name, None, opts)
        if not args.stream_arns:
            raise ValueError(f"{name}: an outbox needs at least one table stream")
        failed = dead_letter_queue(f"{name}-dlq", args.dead_letter_queue_name, args.kms_key_arn, self)
        streams = list(args.stream_arns.values())
        statements: list[pulumi.Input[Mapping[str, Any]]] = [
            {"Sid": "ReadStreams", "Effect": "Allow", "Resource": streams,
             "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]},
            {"Sid": "ListStreams", "Effect": "Allow", "Action": "dynamodb:ListStreams", "Resource": "*"},
            {"Sid": "Publish", "Effect": "Allow", "Action": "events:PutEvents", "Resource": args.bus_arn},
            *send_to(failed.arn, args.kms_key_arn),
        ]
        relay_args = replace(args.relay, environment={**args.relay.environment, args.bus_variable: args.bus_arn},
                             policy_statements=[*args.relay.policy_statements, *statements])
        self.relay = LambdaFunction(f"{name}-relay", relay_args, opts=pulumi.ResourceOptions(parent=self))
        for logical, stream_arn in args.stream_arns.items():
            aws.lambda_.EventSourceMapping(
                f"{name}-{logical}",
                event_source_arn=stream_arn,
                function_name=self.relay.arn,
                starting_position="TRIM_HORIZON",
                batch_size=args.batch_size,
                maximum_batching_window_in_seconds=1,
                parallelization_factor=1,  # per-shard order: a consent's changes are relayed in the order made
                bisect_batch_on_function_error=True,
                maximum_retry_attempts=10,
                maximum_record_age_in_seconds=24 * 3600,
                function_response_types=["ReportBatchItemFailures"],
                destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                    on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(destination_arn=failed.arn)),
                opts=pulumi.ResourceOptions(parent=self.relay),
            )
        self.dead_letter_queue_arn = failed.arn
        self.register_outputs({"relayArn": self.relay.arn, "deadLetterQueueArn": failed.arn})


@dataclass(frozen=True)
class ServiceEventsArgs:
    """The events account's bus, router and delivery."""

    #: Bus name, e.g. "prod-openbanking-events".
    bus_name: str
    #: The account (the router's invoke permission names it as the source).
    account_id: str
    #: The region of the bus and functions.
    region: str
    #: Other workload accounts whose outbox publishes here (named in the bus policy, nothing else).
    publisher_account_ids: Sequence[str]
    #: The `event_router` function (subscription check, store, enqueue).
    router: LambdaFunctionArgs
    #: The router's setting that names the delivery queue.
    queue_variable: str
    #: The `event_delivery` function (signs SETs, POSTs them to the callbacks).
    delivery: LambdaFunctionArgs
    #: The delivery function's setting that names its dead-letter queue (final 4xx answers are parked there).
    dead_letter_variable: str
    #: Names of the delivery queue (its dead-letter queue is `<name>-dlq`) and of the router's failure queue.
    delivery_queue_name: str
    #: Events the router failed on after retries are kept here.
    router_dead_letter_queue_name: str
    #: The account key: the bus, the queues, the functions' environment.
    kms_key_arn: pulumi.Input[str]
    #: Messages per delivery invocation.
    delivery_batch_size: int = 5
    #: Receives of a message before it is dead-lettered.
    max_receive_count: int = 5


class ServiceEvents(pulumi.ComponentResource):
    bus: aws.cloudwatch.EventBus
    router: LambdaFunction
    delivery: LambdaFunction

    def __init__(self, name: str, args: ServiceEventsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:messaging:ServiceEvents", name, None, opts)
        if args.delivery.reserved_concurrency is None:
            raise ValueError(f"{name}: event delivery needs a reserved concurrency (it bounds the load on TPPs)")
        child = pulumi.ResourceOptions(parent=self)
        self.bus = aws.cloudwatch.EventBus(
            f"{name}-bus", name=args.bus_name, kms_key_identifier=args.kms_key_arn,
            description="Open Banking status changes from the services' outboxes", opts=child)
        if args.publisher_account_ids:
            aws.cloudwatch.EventBusPolicy(
                f"{name}-bus-policy", event_bus_name=self.bus.name,
                policy=self.bus.arn.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [{
                    "Sid": "WorkloadOutboxes", "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in sorted(args.publisher_account_ids)]},
                    "Action": "events:PutEvents", "Resource": arn,
                    "Condition": {"StringEquals": {"events:source": OUTBOX_SOURCE}}}]})),
                opts=pulumi.ResourceOptions(parent=self.bus))

        # Delivery: queue (+ dead letters) -> event_delivery, partial batch failures, bounded concurrency.
        visibility = 6 * args.delivery.timeout_seconds
        self.delivery_queue = DeadLetteredQueue(f"{name}-delivery", QueueArgs(
            queue_name=args.delivery_queue_name, kms_key_arn=args.kms_key_arn, visibility_timeout_seconds=visibility,
            max_receive_count=args.max_receive_count), opts=child)
        queue, parked = self.delivery_queue.queue, self.delivery_queue.dead_letters
        delivery_statements: list[pulumi.Input[Mapping[str, Any]]] = [
            {"Sid": "Consume", "Effect": "Allow", "Resource": queue.arn,
             "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                        "sqs:ChangeMessageVisibility"]},
            {"Sid": "QueueKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": args.kms_key_arn},
            {"Sid": "ParkFinalFailures", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": parked.arn},
        ]
        self.delivery = LambdaFunction(f"{name}-delivery-function", replace(
            args.delivery, environment={**args.delivery.environment, args.dead_letter_variable: parked.url},
            policy_statements=[*args.delivery.policy_statements, *delivery_statements]), opts=child)
        aws.lambda_.EventSourceMapping(
            f"{name}-delivery-source",
            event_source_arn=queue.arn,
            function_name=self.delivery.arn,
            batch_size=args.delivery_batch_size,
            maximum_batching_window_in_seconds=1,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(
                maximum_concurrency=max(2, args.delivery.reserved_concurrency)),
            opts=pulumi.ResourceOptions(parent=self.delivery),
        )

        # Routing: bus rule -> event_router (asynchronous; retries, then the failure queue).
        router_failed = dead_letter_queue(f"{name}-router-dlq", args.router_dead_letter_queue_name,
                                          args.kms_key_arn, self)
        router_statements: list[pulumi.Input[Mapping[str, Any]]] = [
            {"Sid": "Enqueue", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue.arn},
            {"Sid": "QueueKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
             "Resource": args.kms_key_arn},
        ]
        self.router = LambdaFunction(f"{name}-router", replace(
            args.router, environment={**args.router.environment, args.queue_variable: queue.url},
            policy_statements=[*args.router.policy_statements, *router_statements],
            on_failure_arn=router_failed.arn), opts=child)
        rule = aws.cloudwatch.EventRule(
            f"{name}-route", name=f"{args.bus_name}-route", event_bus_name=self.bus.name,
            description="Every outbox event to the router",
            event_pattern=json.dumps({"source": [OUTBOX_SOURCE]}), opts=pulumi.ResourceOptions(parent=self.bus))
        aws.lambda_.Permission(
            f"{name}-router-invoke", action="lambda:InvokeFunction", function=self.router.name,
            principal="events.amazonaws.com", source_arn=rule.arn, source_account=args.account_id,
            opts=pulumi.ResourceOptions(parent=self.router))
        aws.cloudwatch.EventTarget(
            f"{name}-route-target", rule=rule.name, event_bus_name=self.bus.name, arn=self.router.arn,
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(maximum_retry_attempts=185,
                                                                   maximum_event_age_in_seconds=86400),
            dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=router_failed.arn),
            opts=pulumi.ResourceOptions(parent=rule))
        allow_service_to_send(f"{name}-router-dlq-policy", router_failed, "events.amazonaws.com", [rule.arn], router_failed)

        self.bus_arn = self.bus.arn
        self.dead_letter_queue_arns = [parked.arn, router_failed.arn]
        self.register_outputs({"busArn": self.bus_arn, "deliveryQueueUrl": queue.url})


@dataclass(frozen=True)
class ScheduledFunctionArgs:
    """A function run on a schedule."""

    #: The function to run.
    function: LambdaFunctionArgs
    #: EventBridge schedule expression, e.g. "rate(15 minutes)".
    schedule: str
    #: Name of the queue that keeps invocations which failed after the retries.
    dead_letter_queue_name: str
    #: The account key the dead-letter queue is encrypted with.
    kms_key_arn: pulumi.Input[str]
    #: The account (the invoke permission names it as the source).
    account_id: str


class ScheduledFunction(pulumi.ComponentResource):
    function: LambdaFunction

    def __init__(self, name: str, args: ScheduledFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:compute:ScheduledFunction", name, None, opts)
        failed = dead_letter_queue(f"{name}-dlq", args.dead_letter_queue_name, args.kms_key_arn, self)
        self.function = LambdaFunction(f"{name}-function", replace(args.function, on_failure_arn=failed.arn),
                                       opts=pulumi.ResourceOptions(parent=self))
        rule = aws.cloudwatch.EventRule(
            f"{name}-schedule", schedule_expression=args.schedule,
            description=f"{args.function.function_name}: {args.schedule}", opts=pulumi.ResourceOptions(parent=self))
        aws.lambda_.Permission(
            f"{name}-invoke", action="lambda:InvokeFunction", function=self.function.name,
            principal="events.amazonaws.com", source_arn=rule.arn, source_account=args.account_id,
            opts=pulumi.ResourceOptions(parent=self.function))
        aws.cloudwatch.EventTarget(
            f"{name}-target", rule=rule.name, arn=self.function.arn,
            retry_policy=aws.cloudwatch.EventTargetRetryPolicyArgs(maximum_retry_attempts=3,
                                                                   maximum_event_age_in_seconds=3600),
            dead_letter_config=aws.cloudwatch.EventTargetDeadLetterConfigArgs(arn=failed.arn),
            opts=pulumi.ResourceOptions(parent=rule))
        allow_service_to_send(f"{name}-dlq-policy", failed, "events.amazonaws.com", [rule.arn], failed)
        self.dead_letter_queue_arn = failed.arn
        self.register_outputs({"functionArn": self.function.arn})
