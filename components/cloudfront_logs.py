"""A distribution's access logs, delivered to the log archive's access-log bucket (CloudFront standard logging v2).

The legacy `logging_config` writes through bucket ACLs, which every bucket here has disabled (BucketOwnerEnforced);
v2 delivers through CloudWatch Logs' vended-log delivery instead, configured in us-east-1 where CloudFront's
delivery source lives, in Parquet, partitioned by distribution and hour.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

#: CloudFront's control plane (its delivery sources live there).
CLOUDFRONT_REGION = "us-east-1"


@dataclass(frozen=True)
class DistributionLogsArgs:
    """Where one distribution's access logs go."""

    #: The distribution.
    distribution_arn: pulumi.Input[str]
    #: Name of the delivery source and destination, e.g. "prod-api-perimeter" (60 characters at most).
    log_name: str
    #: The log archive's access-log bucket.
    bucket_arn: pulumi.Input[str]


class DistributionLogs(pulumi.ComponentResource):
    """Delivery source (the distribution), destination (the bucket) and the delivery between them."""

    def __init__(self, name: str, args: DistributionLogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:edge:DistributionLogs", name, None, opts)
        if len(args.log_name) > 60:
            raise ValueError(f"{name}: log name {args.log_name!r} is longer than 60 characters")
        child = pulumi.ResourceOptions(parent=self)
        source = aws.cloudwatch.LogDeliverySource(
            f"{name}-source", name=args.log_name, log_type="ACCESS_LOGS", resource_arn=args.distribution_arn,
            region=CLOUDFRONT_REGION, opts=child)
        destination = aws.cloudwatch.LogDeliveryDestination(
            f"{name}-destination", name=args.log_name, output_format="parquet", region=CLOUDFRONT_REGION,
            delivery_destination_configuration=aws.cloudwatch.LogDeliveryDestinationDeliveryDestinationConfigurationArgs(
                destination_resource_arn=pulumi.Output.concat(args.bucket_arn, "/cloudfront")),
            opts=child)
        aws.cloudwatch.LogDelivery(
            f"{name}-delivery", delivery_source_name=source.name, delivery_destination_arn=destination.arn,
            region=CLOUDFRONT_REGION,
            s3_delivery_configurations=[aws.cloudwatch.LogDeliveryS3DeliveryConfigurationArgs(
                enable_hive_compatible_path=True, suffix_path="{DistributionId}/{yyyy}/{MM}/{dd}/{HH}")],
            opts=child)
        self.register_outputs({"source": source.name})
