"""Stack policies on failure paths: a message or event the consumer keeps failing on must land somewhere.

Open Banking status changes (payment status, consent revocation, event notifications to TPPs) must not be lost.
SQS drops a message when its retention ends; Lambda drops an asynchronous event after its retries, and a stream
source blocks or skips the failing records. So every queue that is not itself a dead-letter queue redrives to
one, and every Lambda has the failure path its invocation needs:

- invoked asynchronously (EventBridge rule or schedule, SNS, S3, CloudWatch Logs, or any invoker the stack does
  not show to be synchronous): a dead-letter queue or an on-failure destination;
- a DynamoDB/Kinesis stream or Kafka event source mapping: an on-failure destination on the mapping;
- an SQS event source mapping: the source queue's redrive policy;
- synchronous only (API Gateway, load balancer, function URL, Cognito, Pipe enrichment or target): nothing.

Resources are linked by ARN/name/URL values (props are outputs). A link value unknown at preview makes a rule
say nothing about what it could link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, Severity, StackValidationArgs

from ._base import stack_policy
from ._links import link_values, of_type, short, unqualified
from ._props import PLAIN, UNKNOWN, get, is_unknown, items, parse_json

QUEUE = "aws:sqs/queue:Queue"
REDRIVE_POLICY = "aws:sqs/redrivePolicy:RedrivePolicy"
REDRIVE_ALLOW_POLICY = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
EVENT_BUS = "aws:cloudwatch/eventBus:EventBus"
SCHEDULE = "aws:scheduler/schedule:Schedule"
PIPE = "aws:pipes/pipe:Pipe"
TOPIC_SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
BUCKET_NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
LOG_SUBSCRIPTION = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"

#: Service principals that invoke a function synchronously: the caller sees the error, nothing is retried
#: behind its back.
SYNC_PRINCIPALS = frozenset({
    "apigateway.amazonaws.com", "elasticloadbalancing.amazonaws.com", "cognito-idp.amazonaws.com",
    "lex.amazonaws.com", "vpc-lattice.amazonaws.com", "secretsmanager.amazonaws.com",
})

#: Service principals that invoke a function asynchronously (Lambda retries, then drops the event).
ASYNC_PRINCIPALS = frozenset({
    "events.amazonaws.com", "sns.amazonaws.com", "s3.amazonaws.com", "scheduler.amazonaws.com",
    "ses.amazonaws.com", "iot.amazonaws.com", "config.amazonaws.com", "codecommit.amazonaws.com",
    "lambda.alarms.cloudwatch.amazonaws.com",
})

_STREAM_BLOCKS = ("dynamodbStreamParameters", "kinesisStreamParameters")


def _dead_letter_target(raw_policy: Any) -> Any:
    """`deadLetterTargetArn` of a redrive policy JSON (UNKNOWN when unknown, None when absent)."""
    doc = parse_json(raw_policy)
    if is_unknown(doc):
        return UNKNOWN
    target = get(doc, "deadLetterTargetArn") if isinstance(doc, dict) else None
    return target if isinstance(target, str) and target else None


# ------------------------------------------------------------------------------------------------
# Queues: which are dead-letter queues, which redrive to one
# ------------------------------------------------------------------------------------------------


@dataclass
class _Queues:
    """What the stack says about its queues' failure paths."""

    dead_letter_arns: set[str] = field(default_factory=set)  # used as a DLQ or failure destination somewhere
    redriven_urls: set[str] = field(default_factory=set)  # a RedrivePolicy resource names a DLQ for them
    allow_urls: set[str] = field(default_factory=set)  # a RedriveAllowPolicy declares them a DLQ
    unknown: bool = False  # some DLQ reference or queue URL is unknown at preview

    def add_target(self, value: Any) -> None:
        if is_unknown(value):
            self.unknown = True
        elif isinstance(value, str) and value:
            self.dead_letter_arns.add(value)


def _failure_targets(resources: list[PolicyResource]) -> Iterable[Any]:
    """Every ARN the stack uses as a dead-letter queue or on-failure destination."""
    for r in resources:
        t, p = r.resource_type, r.props
        if t in (QUEUE, REDRIVE_POLICY, TOPIC_SUBSCRIPTION):
            yield _dead_letter_target(get(p, "redrivePolicy"))
        elif t == FUNCTION:
            yield get(p, "deadLetterConfig", "targetArn")
        elif t == INVOKE_CONFIG:
            yield get(p, "destinationConfig", "onFailure", "destination")
        elif t == EVENT_SOURCE_MAPPING:
            yield get(p, "destinationConfig", "onFailure", "destinationArn")
        elif t in (EVENT_TARGET, EVENT_BUS):
            yield get(p, "deadLetterConfig", "arn")
        elif t == SCHEDULE:
            yield get(p, "target", "deadLetterConfig", "arn")
        elif t == PIPE:
            for block in _STREAM_BLOCKS:
                yield get(p, "sourceParameters", block, "deadLetterConfig", "arn")


def _queues(resources: list[PolicyResource]) -> _Queues:
    q = _Queues()
    for target in _failure_targets(resources):
        q.add_target(target)
    for r in of_type(resources, REDRIVE_POLICY):
        url, target = get(r.props, "queueUrl"), _dead_letter_target(get(r.props, "redrivePolicy"))
        if is_unknown(url) or is_unknown(target):
            q.unknown = True
        elif isinstance(url, str) and target:
            q.redriven_urls.add(url)
    for r in of_type(resources, REDRIVE_ALLOW_POLICY):
        url = get(r.props, "queueUrl")
        if is_unknown(url):
            q.unknown = True
        elif isinstance(url, str):
            q.allow_urls.add(url)
    return q


def _queue_redrives(queue: PolicyResource, q: _Queues) -> bool | None:
    """True when the queue redrives to a DLQ (inline or by a RedrivePolicy); None when unknown at preview."""
    inline = _dead_letter_target(get(queue.props, "redrivePolicy"))
    url = get(queue.props, "url")
    if is_unknown(inline) or is_unknown(url):
        return None
    if inline or (isinstance(url, str) and url in q.redriven_urls):
        return True
    return None if q.unknown else False


def _is_dead_letter_queue(queue: PolicyResource, q: _Queues) -> bool | None:
    arn, url, allow = get(queue.props, "arn"), get(queue.props, "url"), get(queue.props, "redriveAllowPolicy")
    if UNKNOWN in (arn, url, allow):
        return None
    if (isinstance(arn, str) and arn in q.dead_letter_arns) or allow or (isinstance(url, str) and url in q.allow_urls):
        return True
    return None if q.unknown else False


def _check_sqs_dlq(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    q = _queues(resources)
    for queue in of_type(resources, QUEUE):
        if _is_dead_letter_queue(queue, q) is not False:
            continue
        if _queue_redrives(queue, q) is False:
            report(f"{short(queue)} (arn {PLAIN.show(get(queue.props, 'arn'))}) has no redrivePolicy with a "
                   "deadLetterTargetArn (inline, or an sqs.RedrivePolicy whose queueUrl equals its url) and nothing "
                   "uses it as a dead-letter queue; messages its consumer keeps failing on are lost when their "
                   "retention ends.", queue.urn)


sqs_dlq = stack_policy(
    name="ob-sqs-dlq",
    description="Every SQS queue that is not itself a dead-letter queue redrives to one.",
    severity=Severity.MEDIUM,
    frameworks=[("AWS", "SQS: dead-letter queues"), ("AWS", "Well-Architected REL05-BP04 fail fast and limit "
                                                           "queues")],
    resource_types=[QUEUE, REDRIVE_POLICY, REDRIVE_ALLOW_POLICY],
    remediation="Give every aws.sqs.Queue redrive_policy=json.dumps({'deadLetterTargetArn': dlq.arn, "
                "'maxReceiveCount': 5}) (or an aws.sqs.RedrivePolicy(queue_url=queue.url, redrive_policy=...)), "
                "with dlq an aws.sqs.Queue that keeps messages 14 days (message_retention_seconds=1209600), "
                "encrypted like its source.",
    check=_check_sqs_dlq,
)


# ------------------------------------------------------------------------------------------------
# ob-lambda-failure-path
# ------------------------------------------------------------------------------------------------


@dataclass
class _Invokers:
    """How a function is invoked, as far as the stack shows."""

    asynchronous: list[str] = field(default_factory=list)
    synchronous: list[str] = field(default_factory=list)
    undetermined: list[str] = field(default_factory=list)  # e.g. another account's principal: either way
    mappings: list[PolicyResource] = field(default_factory=list)
    unknown: bool = False


def _refers(value: Any, refs: set[str]) -> bool | None:
    """Whether a function reference (name, ARN, qualified ARN, or an ARN inside an invoke URI) names one of
    `refs`; None when unknown."""
    if is_unknown(value):
        return None
    if not isinstance(value, str) or not value:
        return False
    return unqualified(value) in refs or value in refs


def _principal_kind(principal: Any) -> str:
    if not isinstance(principal, str):
        return "unknown"
    if principal in SYNC_PRINCIPALS:
        return "sync"
    if principal in ASYNC_PRINCIPALS or (principal.startswith("logs.") and principal.endswith(".amazonaws.com")):
        return "async"
    return "unknown"


def _invokers(fn_refs: set[str], resources: list[PolicyResource]) -> _Invokers:
    inv = _Invokers()

    lists = {"async": inv.asynchronous, "sync": inv.synchronous, "unknown": inv.undetermined}

    def note(value: Any, kind: str, what: str) -> None:
        found = _refers(value, fn_refs)
        if found is None:
            inv.unknown = True
        elif found:
            lists[kind].append(what)

    for r in resources:
        t, p = r.resource_type, r.props
        if t == PERMISSION:
            principal = get(p, "principal")
            kind = _principal_kind(principal)
            note(get(p, "function"), kind, f"{short(r)} (principal {PLAIN.show(principal)})")
        elif t == EVENT_TARGET:
            note(get(p, "arn"), "async", short(r))
        elif t == SCHEDULE:
            note(get(p, "target", "arn"), "async", short(r))
        elif t == TOPIC_SUBSCRIPTION and get(p, "protocol") == "lambda":
            note(get(p, "endpoint"), "async", short(r))
        elif t == LOG_SUBSCRIPTION:
            note(get(p, "destinationArn"), "async", short(r))
        elif t == BUCKET_NOTIFICATION:
            for n in items(get(p, "lambdaFunctions")):
                note(get(n, "lambdaFunctionArn"), "async", short(r))
        elif t == FUNCTION_URL:
            note(get(p, "functionName"), "sync", short(r))
        elif t == PIPE:
            note(get(p, "enrichment"), "sync", short(r))
            note(get(p, "target"), "sync", short(r))
        elif t == EVENT_SOURCE_MAPPING:
            found = _refers(get(p, "functionName"), fn_refs)
            if found is None:
                inv.unknown = True
            elif found:
                inv.mappings.append(r)
    return inv


def _has_async_failure_path(fn: PolicyResource, fn_refs: set[str], resources: list[PolicyResource]) -> bool | None:
    dlq = get(fn.props, "deadLetterConfig", "targetArn")
    if is_unknown(dlq):
        return None
    if isinstance(dlq, str) and dlq:
        return True
    maybe = False
    for cfg in of_type(resources, INVOKE_CONFIG):
        found = _refers(get(cfg.props, "functionName"), fn_refs)
        destination = get(cfg.props, "destinationConfig", "onFailure", "destination")
        if found is None or (found and is_unknown(destination)):
            maybe = True
        elif found and isinstance(destination, str) and destination:
            return True
    return None if maybe else False


def _mapping_kind(mapping: PolicyResource) -> str:
    p = mapping.props
    source = get(p, "eventSourceArn")
    if get(p, "selfManagedEventSource") is not None or (isinstance(source, str) and ":kafka:" in source):
        return "stream"
    if not isinstance(source, str):
        return "unknown"
    if ":sqs:" in source:
        return "sqs"
    if (":dynamodb:" in source and "/stream/" in source) or ":kinesis:" in source:
        return "stream"
    return "other"  # Amazon MQ, DocumentDB: the broker or stream keeps the message


def _check_mapping(fn: PolicyResource, mapping: PolicyResource, resources: list[PolicyResource], q: _Queues,
                   report: ReportViolation) -> None:
    kind = _mapping_kind(mapping)
    source = get(mapping.props, "eventSourceArn")
    if kind == "stream":
        destination = get(mapping.props, "destinationConfig", "onFailure", "destinationArn")
        if not is_unknown(destination) and not destination:
            report(f"{short(mapping)} feeds {short(fn)} from the stream {PLAIN.show(source)} with "
                   "destinationConfig.onFailure.destinationArn absent; records that keep failing block the shard "
                   "until they expire and are then lost.", mapping.urn)
    elif kind == "sqs":
        queues = [r for r in of_type(resources, QUEUE) if get(r.props, "arn") == source]
        if queues and _queue_redrives(queues[0], q) is False:
            report(f"{short(mapping)} feeds {short(fn)} from {short(queues[0])}, which has no redrive policy to a "
                   "dead-letter queue; messages the function keeps failing on are lost when their retention "
                   "ends.", mapping.urn)


def _check_lambda_failure_path(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    q = _queues(resources)
    for fn in of_type(resources, FUNCTION):
        refs = link_values(fn, "arn", "name")
        if not refs:
            continue
        inv = _invokers(refs, resources)
        if inv.unknown:
            continue
        for mapping in inv.mappings:
            _check_mapping(fn, mapping, resources, q, report)
        needs_async_path = bool(inv.asynchronous or inv.undetermined) or not (inv.synchronous or inv.mappings)
        if not needs_async_path or _has_async_failure_path(fn, refs, resources) is not False:
            continue
        if inv.asynchronous:
            why = f"it is invoked asynchronously by {', '.join(inv.asynchronous)}"
        elif inv.undetermined:
            why = f"{', '.join(inv.undetermined)} may invoke it asynchronously"
        else:
            why = "no invoker in the stack shows it is only invoked synchronously"
        report(f"{short(fn)} has deadLetterConfig.targetArn absent and no FunctionEventInvokeConfig with "
               f"destinationConfig.onFailure.destination, and {why}; events that fail after Lambda's retries are "
               "dropped.", fn.urn)


lambda_failure_path = stack_policy(
    name="ob-lambda-failure-path",
    description="Every Lambda function has the failure path its invocation needs: a DLQ or on-failure "
                "destination when invoked asynchronously, an on-failure destination on stream event source "
                "mappings, a redriving queue behind SQS event sources.",
    severity=Severity.MEDIUM,
    frameworks=[("Checkov", "CKV_AWS_116"), ("AWS", "Lambda: asynchronous invocation destinations and DLQs"),
                ("AWS", "Lambda: event source mapping on-failure destinations")],
    resource_types=[FUNCTION, INVOKE_CONFIG, EVENT_SOURCE_MAPPING, PERMISSION, EVENT_TARGET, SCHEDULE,
                    TOPIC_SUBSCRIPTION, BUCKET_NOTIFICATION, LOG_SUBSCRIPTION, FUNCTION_URL, PIPE, QUEUE],
    remediation="For a function invoked asynchronously add aws.lambda_.FunctionEventInvokeConfig("
                "function_name=fn.name, destination_config={'on_failure': {'destination': dlq.arn}}) (or set "
                "dead_letter_config={'target_arn': dlq.arn} on aws.lambda_.Function); on an "
                "aws.lambda_.EventSourceMapping from a DynamoDB/Kinesis stream or Kafka set "
                "destination_config={'on_failure': {'destination_arn': dlq.arn}}; an SQS source queue needs "
                "redrive_policy to a DLQ. Synchronous-only functions (API Gateway authorizers) need nothing.",
    check=_check_lambda_failure_path,
)


POLICIES: list = [sqs_dlq, lambda_failure_path]
