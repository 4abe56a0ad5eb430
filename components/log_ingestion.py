"""From the central log buckets into OpenSearch, with OpenSearch Ingestion (OSIS) pipelines.

Each log bucket announces new objects to its own KMS-encrypted SQS queue (with a dead-letter queue);
one pipeline per log type reads the notifications, fetches and decodes the objects and indexes them
into the domain through the VPC. Why OSIS and not Firehose: Firehose cannot read from S3, so it would
need a second write path (every account streaming to Firehose as well as to the archive); OSIS reads
what the archive already holds, scales in OCUs, keeps a persistent buffer and signs with an IAM role
(docs/foundation.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml


@dataclass(frozen=True)
class LogSource:
    """One log type: the bucket and key prefix it lands in, how its objects decode and the index it goes to.
    One format per prefix: a bucket holding several formats gets a source (and a pipeline) per prefix."""

    #: Log type, e.g. "flow-logs": names its queue (`logs-<key>-notifications`), dead-letter queue,
    #: pipeline (`logs-<key>`) and pipeline log group.
    key: str
    #: Bucket (name) whose object-created events are sent to the queue.
    bucket_name: pulumi.Input[str]
    #: ARN of the same bucket: the queue policy admits its notifications and the role reads its objects.
    bucket_arn: pulumi.Input[str]
    #: Data Prepper S3 source codec the objects are decoded with, e.g. {"json": {}} or {"parquet": {}}.
    codec: Mapping[str, Any]
    #: OpenSearch index the pipeline writes to; may carry a date pattern, e.g. "cloudtrail-%{yyyy.MM.dd}".
    index: str
    #: Data Prepper processors applied before indexing, in order; empty: none.
    processors: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    #: Key prefix of the objects this source reads (the notification's filter, the role's read grant), e.g.
    #: "vpc-flow-logs/"; "": the whole bucket.
    prefix: str = ""
    #: Which bucket this is, when several sources share one (they share its single notification configuration,
    #: named after and parented to the first source's queue); None: the source's own `key`.
    bucket_key: str | None = None

    @property
    def bucket(self) -> str:
        return self.bucket_key or self.key


@dataclass(frozen=True)
class LogIngestionArgs:
    """The log types to index, the domain they go to and the VPC the pipelines run in."""

    #: The log archive account's id: the queue policies admit notifications from its buckets
    #: only (`aws:SourceAccount`).
    account_id: str
    #: The region the pipelines sign their S3, SQS and OpenSearch requests for.
    region: str
    #: One queue, dead-letter queue, log group and pipeline per log type.
    sources: Sequence[LogSource]
    #: The OpenSearch domain the pipelines write to; the role policy grants `es:ESHttp*` on it.
    domain_arn: pulumi.Input[str]
    #: The domain's endpoint host name (no scheme); each pipeline's sink is `https://<endpoint>`.
    domain_endpoint: pulumi.Input[str]
    #: The role the pipelines assume (from :func:`ingestion_role`); this component writes its policy.
    role: aws.iam.Role
    #: Subnets the pipelines' VPC endpoints are placed in (the domain's).
    subnet_ids: Sequence[pulumi.Input[str]]
    #: The VPC of the pipelines' security group (the domain's).
    vpc_id: pulumi.Input[str]
    #: The VPC's IPv4 range: the only destination of the pipelines' HTTPS (443) egress.
    vpc_cidr: str
    #: Encrypts the queues, the pipelines' buffers and their log groups.
    kms_key_arn: pulumi.Input[str]
    #: The key the log objects are encrypted with (the pipelines decrypt with it).
    log_kms_key_arn: pulumi.Input[str]
    #: Days CloudWatch keeps each pipeline's log events.
    log_retention_days: int
    #: Most OpenSearch Compute Units (OCUs) each pipeline scales out to (it starts at 1).
    max_units: int = 4


def ingestion_role(name: str, role_name: str, account_id: str, opts: pulumi.ResourceOptions) -> aws.iam.Role:
    """The role the pipelines assume; created before the domain so the domain's access policy names it."""
    return aws.iam.Role(
        name,
        name=role_name,
        description="OpenSearch Ingestion pipelines: read the log archive, write to the log analytics domain",
        assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "osis-pipelines.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }]}),
        opts=opts,
    )


def pipeline_body(source: LogSource, queue_url: str, endpoint: str, role_arn: str, region: str) -> str:
    """The Data Prepper pipeline definition OSIS runs for one log type."""
    aws_auth = {"region": region, "sts_role_arn": role_arn}
    pipeline: dict[str, Any] = {
        "source": {"s3": {
            "notification_type": "sqs",
            "compression": "automatic",
            "codec": dict(source.codec),
            "sqs": {"queue_url": queue_url, "maximum_messages": 10, "visibility_timeout": "120s"},
            "aws": aws_auth,
        }},
        "sink": [{"opensearch": {"hosts": [f"https://{endpoint}"], "index": source.index, "aws": aws_auth}}],
    }
    if source.processors:
        pipeline["processor"] = [dict(p) for p in source.processors]
    return yaml.safe_dump({"version": "2", f"{source.key}-pipeline": pipeline}, sort_keys=False)


def check_prefixes(sources: Sequence[LogSource]) -> None:
    """Sources of one bucket read disjoint prefixes: S3 refuses overlapping notification filters, and an object
    under both would be indexed twice, by two codecs."""
    by_bucket: dict[str, list[str]] = {}
    for source in sources:
        by_bucket.setdefault(source.bucket, []).append(source.prefix)
    for bucket, prefixes in by_bucket.items():
        for i, prefix in enumerate(prefixes):
            if any(other.startswith(prefix) for other in prefixes[:i] + prefixes[i + 1:]):
                raise ValueError(f"log sources of bucket {bucket!r} read overlapping prefixes {prefixes}; each "
                                 "object must have one reader")


def _queue_policy(queue_arn: str, bucket_arn: str, account_id: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "BucketNotifies", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
         "Action": "sqs:SendMessage", "Resource": queue_arn,
         "Condition": {"ArnEquals": {"aws:SourceArn": bucket_arn}, "StringEquals": {"aws:SourceAccount": account_id}}},
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": queue_arn,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]})


class LogIngestion(pulumi.ComponentResource):
    """Per log type: S3 notifications to an encrypted SQS queue with a DLQ, and an OSIS pipeline into the domain;
    one notification configuration per bucket (S3 keeps one), a queue per prefix in it."""

    pipelines: dict[str, aws.opensearchingest.Pipeline]
    queues: dict[str, aws.sqs.Queue]

    def __init__(self, name: str, args: LogIngestionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:analytics:LogIngestion", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.pipelines, self.queues = {}, {}
        check_prefixes(args.sources)
        queue_policies: dict[str, list[pulumi.Resource]] = {}
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="OpenSearch Ingestion pipelines: HTTPS to the domain inside the VPC only",
            egress=[aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp", from_port=443, to_port=443, cidr_blocks=[args.vpc_cidr],
                description="HTTPS to the OpenSearch domain")],
            opts=child,
        )
        for source in args.sources:
            dlq = aws.sqs.Queue(
                f"{name}-{source.key}-dlq",
                name=f"logs-{source.key}-notifications-dlq",
                kms_master_key_id=args.kms_key_arn,
                kms_data_key_reuse_period_seconds=300,
                message_retention_seconds=1209600,
                opts=child,
            )
            queue = aws.sqs.Queue(
                f"{name}-{source.key}",
                name=f"logs-{source.key}-notifications",
                kms_master_key_id=args.kms_key_arn,
                kms_data_key_reuse_period_seconds=300,
                visibility_timeout_seconds=300,
                message_retention_seconds=1209600,
                redrive_policy=dlq.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})),
                opts=child,
            )
            on_queue = pulumi.ResourceOptions(parent=queue)
            queue_policies.setdefault(source.bucket, []).append(aws.sqs.QueuePolicy(
                f"{name}-{source.key}-policy",
                queue_url=queue.url,
                policy=pulumi.Output.all(queue.arn, source.bucket_arn).apply(
                    lambda a: _queue_policy(a[0], a[1], args.account_id)),
                opts=on_queue,
            ))
            group = aws.cloudwatch.LogGroup(
                f"{name}-{source.key}-pipeline-logs",
                name=f"/aws/vendedlogs/OpenSearchIngestion/logs-{source.key}",
                kms_key_id=args.kms_key_arn,
                retention_in_days=args.log_retention_days,
                opts=child,
            )
            self.pipelines[source.key] = aws.opensearchingest.Pipeline(
                f"{name}-{source.key}",
                pipeline_name=f"logs-{source.key}",
                min_units=1,
                max_units=args.max_units,
                pipeline_role_arn=args.role.arn,
                pipeline_configuration_body=pulumi.Output.all(queue.url, args.domain_endpoint, args.role.arn).apply(
                    lambda a, s=source: pipeline_body(s, a[0], a[1], a[2], args.region)),
                buffer_options=aws.opensearchingest.PipelineBufferOptionsArgs(persistent_buffer_enabled=True),
                encryption_at_rest_options=aws.opensearchingest.PipelineEncryptionAtRestOptionsArgs(
                    kms_key_arn=args.kms_key_arn),
                log_publishing_options=aws.opensearchingest.PipelineLogPublishingOptionsArgs(
                    is_logging_enabled=True,
                    cloudwatch_log_destination=aws.opensearchingest.
                    PipelineLogPublishingOptionsCloudwatchLogDestinationArgs(log_group=group.name)),
                vpc_options=aws.opensearchingest.PipelineVpcOptionsArgs(
                    subnet_ids=list(args.subnet_ids), security_group_ids=[security_group.id],
                    vpc_endpoint_management="SERVICE"),
                opts=child,
            )
            self.queues[source.key] = queue
        notified: set[str] = set()
        for source in args.sources:
            if source.bucket in notified:
                continue
            notified.add(source.bucket)
            shared = [s for s in args.sources if s.bucket == source.bucket]
            aws.s3.BucketNotification(
                f"{name}-{source.key}-notification",
                bucket=source.bucket_name,
                queues=[aws.s3.BucketNotificationQueueArgs(
                    queue_arn=self.queues[s.key].arn, events=["s3:ObjectCreated:*"], filter_prefix=s.prefix or None)
                    for s in shared],
                opts=pulumi.ResourceOptions(parent=self.queues[source.key],
                                            depends_on=queue_policies[source.bucket]),
            )
        queue_arns = [q.arn for q in self.queues.values()]
        objects = [pulumi.Output.concat(s.bucket_arn, f"/{s.prefix}*") for s in args.sources]
        aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=args.role.name,
            policy=pulumi.Output.all(queues=queue_arns, objects=objects, domain=args.domain_arn,
                                     key=args.kms_key_arn, log_key=args.log_kms_key_arn).apply(
                lambda a: json.dumps({"Version": "2012-10-17", "Statement": [
                    {"Sid": "ReadNotifications", "Effect": "Allow",
                     "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
                     "Resource": a["queues"]},
                    {"Sid": "ReadLogObjects", "Effect": "Allow", "Action": ["s3:GetObject"],
                     "Resource": a["objects"]},
                    {"Sid": "DecryptLogs", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                     "Resource": [a["key"], a["log_key"]]},
                    {"Sid": "WriteToDomain", "Effect": "Allow", "Action": ["es:DescribeDomain", "es:ESHttp*"],
                     "Resource": [a["domain"], f"{a['domain']}/*"]},
                ]})),
            opts=child,
        )
        self.register_outputs({"pipelines": {k: p.pipeline_arn for k, p in self.pipelines.items()}})
