"""A CloudWatch Logs destination in the log archive: other accounts' log groups subscribe to it, and a Firehose
stream writes what they send into a log archive bucket (the AWS centralized-logging pattern).

Why not straight to S3: services that write to CloudWatch Logs only (API Gateway access logs among them) cannot
deliver to a bucket, and a subscription filter may target another account only through a destination. The
destination admits subscription filters from the organization's accounts alone (`aws:PrincipalOrgID` in its access
policy); the senders name a role of their own in the filter (:mod:`components.log_subscription`), as CloudWatch Logs
requires with an organization-wide policy.

The stream decompresses what CloudWatch Logs sends (gzip of JSON envelopes holding batches of events), keeps only
each event's message (the `CloudWatchLogProcessing` processor drops the envelope and control messages) and ends every
record with a newline, so the objects are plain lines of the senders' own format, gzipped by the stream: the log
ingestion pipeline of the bucket reads them as such. It encrypts its buffer with the log archive key (customer
managed), writes the objects with the same key under one key prefix, failed records under another, and logs its own
delivery errors to a KMS-encrypted group.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

#: The stream's own error log stream (Firehose writes its delivery errors there).
ERROR_LOG_STREAM = "DestinationDelivery"


@dataclass(frozen=True)
class LogDestinationArgs:
    """Who may subscribe, and where the stream writes."""

    #: Name of the destination, the stream and their roles, e.g. "foundation-logarchive-api-access-logs" (at most
    #: 64 characters: the stream's limit).
    destination_name: str
    #: The log archive account (the roles' trust conditions).
    account_id: str
    #: The region of the destination and the stream; a sender's log group must be in the same region.
    region: str
    #: The organization (`o-...`): the destination admits subscription filters from its accounts only.
    organization_id: str
    #: The log archive bucket the stream writes into.
    bucket_arn: pulumi.Input[str]
    #: Key prefix of the delivered objects, ending in "/" (the stream adds `yyyy/MM/dd/HH/`), e.g. "api-gateway/".
    prefix: str
    #: Key prefix of records the stream failed to process or deliver, ending in "/"; must not start with `prefix`
    #: (a reader of `prefix` must see the senders' format only).
    error_prefix: str
    #: The customer-managed key of the log archive: the stream's buffer (server-side encryption) and the objects.
    kms_key_arn: pulumi.Input[str]
    #: The key of the stream's error log group.
    log_group_kms_key_arn: pulumi.Input[str]
    #: Days the stream's error log group keeps events.
    log_retention_days: int
    #: Seconds the stream buffers before writing an object (60-900).
    buffering_seconds: int = 300
    #: MiB the stream buffers before writing an object (1-128).
    buffering_mb: int = 64

    def __post_init__(self) -> None:
        if len(self.destination_name) > 64:
            raise ValueError(f"destination name {self.destination_name!r} is longer than 64 characters")
        for value in (self.prefix, self.error_prefix):
            if not value.endswith("/") or value.startswith("/"):
                raise ValueError(f"key prefix {value!r} must end with '/' and not start with one")
        if self.error_prefix.startswith(self.prefix):
            raise ValueError(f"error prefix {self.error_prefix!r} is under the delivery prefix {self.prefix!r}")
        if not (60 <= self.buffering_seconds <= 900 and 1 <= self.buffering_mb <= 128):
            raise ValueError(f"buffering {self.buffering_seconds} s / {self.buffering_mb} MiB is outside Firehose's "
                             "60-900 s and 1-128 MiB")


def destination_policy(destination_arn: str, organization_id: str) -> str:
    """Anyone of the organization, nobody else, may put a subscription filter on the destination."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "OrganizationSubscribes",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "logs:PutSubscriptionFilter",
        "Resource": destination_arn,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": [organization_id]}},
    }]})


def stream_writer_policy(bucket_arn: str, prefixes: Sequence[str], key_arn: str, region: str,
                         log_stream_arn: str) -> str:
    """What the stream needs: write objects under its prefixes of the bucket (and finish or abort their uploads),
    encrypt them with the key only through S3 for this bucket, and log its delivery errors."""
    objects = [f"{bucket_arn}/{prefix}*" for prefix in prefixes]
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "LocateBucket", "Effect": "Allow",
         "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], "Resource": bucket_arn},
        {"Sid": "WriteObjects", "Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
         "Resource": objects},
        {"Sid": "EncryptObjects", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
         "Resource": key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, *objects]}}},
        {"Sid": "LogDeliveryErrors", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": log_stream_arn},
    ]})


Processor = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorArgs
ProcessorParameter = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessorParameterArgs


def _processor(type_: str, **parameters: str) -> Processor:
    """One of the stream's record processors, with its parameters (none: no `parameters` block)."""
    return Processor(type=type_, parameters=[ProcessorParameter(parameter_name=name, parameter_value=value)
                                             for name, value in parameters.items()] or None)


class LogDestination(pulumi.ComponentResource):
    """Error log group, the stream's role and the stream; the destination's role, the destination and its policy."""

    arn: pulumi.Output[str]
    stream: aws.kinesis.FirehoseDeliveryStream

    def __init__(self, name: str, args: LogDestinationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:logging:LogDestination", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        own_account = {"StringEquals": {"aws:SourceAccount": args.account_id}}
        group = aws.cloudwatch.LogGroup(
            f"{name}-errors", name=f"/aws/kinesisfirehose/{args.destination_name}",
            kms_key_id=args.log_group_kms_key_arn, retention_in_days=args.log_retention_days, opts=child)
        stream_log = aws.cloudwatch.LogStream(f"{name}-errors-stream", name=ERROR_LOG_STREAM, log_group_name=group.name,
                                              opts=pulumi.ResourceOptions(parent=group))

        writer = aws.iam.Role(
            f"{name}-writer-role", name=f"{args.destination_name}-firehose"[:64],
            description=f"Firehose {args.destination_name}: writes into the log archive bucket",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": own_account}]}),
            opts=child)
        writer_policy = aws.iam.RolePolicy(
            f"{name}-writer-policy", role=writer.name,
            policy=pulumi.Output.all(args.bucket_arn, args.kms_key_arn, group.arn).apply(
                lambda a: stream_writer_policy(a[0], [args.prefix, args.error_prefix], a[1], args.region,
                                               f"{a[2].removesuffix(':*')}:log-stream:{ERROR_LOG_STREAM}")),
            opts=pulumi.ResourceOptions(parent=writer))
        self.stream = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-stream", name=args.destination_name, destination="extended_s3",
            server_side_encryption=aws.kinesis.FirehoseDeliveryStreamServerSideEncryptionArgs(
                enabled=True, key_type="CUSTOMER_MANAGED_CMK", key_arn=args.kms_key_arn),
            extended_s3_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs(
                role_arn=writer.arn, bucket_arn=args.bucket_arn, kms_key_arn=args.kms_key_arn,
                prefix=f"{args.prefix}!{{timestamp:yyyy/MM/dd/HH}}/",
                error_output_prefix=f"{args.error_prefix}!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd}}/",
                buffering_interval=args.buffering_seconds, buffering_size=args.buffering_mb,
                compression_format="GZIP", file_extension=".log.gz",
                processing_configuration=aws.kinesis.
                FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationArgs(
                    enabled=True, processors=[
                        _processor("Decompression", CompressionFormat="GZIP"),
                        _processor("CloudWatchLogProcessing", DataMessageExtraction="true"),
                        _processor("AppendDelimiterToRecord"),
                    ]),
                cloudwatch_logging_options=aws.kinesis.
                FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs(
                    enabled=True, log_group_name=group.name, log_stream_name=stream_log.name)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[writer_policy]))

        # CloudWatch Logs puts into the stream with this role, for senders of the organization only.
        sender = aws.iam.Role(
            f"{name}-delivery-role", name=f"{args.destination_name}-logs"[:64],
            description=f"CloudWatch Logs delivers subscribed log events to Firehose {args.destination_name}",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceOrgID": args.organization_id},
                              "StringLike": {"aws:SourceArn": f"arn:aws:logs:{args.region}:*:*"}}}]}),
            opts=child)
        sender_policy = aws.iam.RolePolicy(
            f"{name}-delivery-policy", role=sender.name,
            policy=self.stream.arn.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "PutIntoStream", "Effect": "Allow", "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
                "Resource": arn}]})),
            opts=pulumi.ResourceOptions(parent=sender))
        self.destination = aws.cloudwatch.LogDestination(
            f"{name}-destination", name=args.destination_name, role_arn=sender.arn, target_arn=self.stream.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[sender_policy]))
        aws.cloudwatch.LogDestinationPolicy(
            f"{name}-destination-policy", destination_name=self.destination.name,
            access_policy=self.destination.arn.apply(lambda arn: destination_policy(arn, args.organization_id)),
            opts=pulumi.ResourceOptions(parent=self.destination))
        self.arn = self.destination.arn
        self.register_outputs({"destinationArn": self.arn, "streamArn": self.stream.arn})
