"""The organization CloudTrail: every account, every region, one tamper-evident record.

Created in the management account, it delivers to the log archive's trail bucket (KMS-encrypted with
the log archive key, digest files for log file validation) and to a CloudWatch Logs group in the
management account, where the CIS metric filters raise alarms on a KMS-encrypted SNS topic. Data
events are recorded for the sensitive buckets and tables named in config.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .cis_metric_filters import CIS_METRIC_FILTERS

METRIC_NAMESPACE = "CISBenchmark"


@dataclass(frozen=True)
class OrganizationTrailArgs:
    """The organization trail: where it delivers, how it is encrypted and which data events it records."""

    #: The trail's name; also names its log group (`/aws/cloudtrail/<name>`), its CloudWatch role
    #: and its alarm topic (`<name>-cis-alarms`).
    trail_name: str
    #: The management account's id: part of the trail's ARN and the scope of the role and topic policies.
    account_id: str
    #: The trail's home region (part of its ARN).
    region: str
    #: The log archive's trail bucket (name) the log files and digest files go to.
    s3_bucket_name: pulumi.Input[str]
    #: Encrypts the trail's log files (the log archive's key; its policy admits CloudTrail).
    kms_key_arn: pulumi.Input[str]
    #: Encrypts the CloudWatch log group and the alarm topic (a key of the management account).
    local_kms_key_arn: pulumi.Input[str]
    #: Days CloudWatch keeps the trail's events in the management account's log group.
    log_retention_days: int
    #: Buckets whose object-level (data) events are recorded; empty: none.
    data_event_bucket_names: Sequence[str] = ()
    #: ARNs of DynamoDB tables whose data events are recorded; empty: none.
    data_event_table_arns: Sequence[str] = ()


def event_selectors(args: OrganizationTrailArgs) -> list[aws.cloudtrail.TrailAdvancedEventSelectorArgs]:
    """All management events, plus data events on exactly the named buckets and tables."""
    field = aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs
    selectors = [aws.cloudtrail.TrailAdvancedEventSelectorArgs(
        name="Management events", field_selectors=[field(field="eventCategory", equals=["Management"])])]
    if args.data_event_bucket_names:
        selectors.append(aws.cloudtrail.TrailAdvancedEventSelectorArgs(
            name="Sensitive S3 objects",
            field_selectors=[
                field(field="eventCategory", equals=["Data"]),
                field(field="resources.type", equals=["AWS::S3::Object"]),
                field(field="resources.ARN", starts_withs=[f"arn:aws:s3:::{b}/" for b in args.data_event_bucket_names]),
            ]))
    if args.data_event_table_arns:
        selectors.append(aws.cloudtrail.TrailAdvancedEventSelectorArgs(
            name="Sensitive DynamoDB tables",
            field_selectors=[
                field(field="eventCategory", equals=["Data"]),
                field(field="resources.type", equals=["AWS::DynamoDB::Table"]),
                field(field="resources.ARN", equals=list(args.data_event_table_arns)),
            ]))
    return selectors


class OrganizationTrail(pulumi.ComponentResource):
    """The trail, its CloudWatch log group and role, the CIS metric filters and alarms, and their topic."""

    trail_arn: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: OrganizationTrailArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:logging:OrganizationTrail", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        trail_arn = f"arn:aws:cloudtrail:{args.region}:{args.account_id}:trail/{args.trail_name}"
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/cloudtrail/{args.trail_name}",
            kms_key_id=args.local_kms_key_arn,
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-to-cloudwatch",
            name=f"{args.trail_name}-to-cloudwatch",
            description="CloudTrail delivers the organization trail to its CloudWatch log group",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn, "aws:SourceAccount": args.account_id}},
            }]}),
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-to-cloudwatch",
            role=role.name,
            policy=self.log_group.arn.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{arn}:log-stream:*",
            }]})),
            opts=pulumi.ResourceOptions(parent=role),
        )
        self.trail = aws.cloudtrail.Trail(
            name,
            name=args.trail_name,
            s3_bucket_name=args.s3_bucket_name,
            is_organization_trail=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=args.kms_key_arn,
            cloud_watch_logs_group_arn=self.log_group.arn.apply(lambda arn: f"{arn}:*"),
            cloud_watch_logs_role_arn=role.arn,
            advanced_event_selectors=event_selectors(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        self.alarm_topic = aws.sns.Topic(
            f"{name}-alarms",
            name=f"{args.trail_name}-cis-alarms",
            kms_master_key_id=args.local_kms_key_arn,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-alarms-policy",
            arn=self.alarm_topic.arn,
            policy=self.alarm_topic.arn.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
                {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                 "Action": "sns:Publish", "Resource": arn,
                 "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}}},
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                 "Resource": arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            ]})),
            opts=pulumi.ResourceOptions(parent=self.alarm_topic),
        )
        for metric, (control, pattern) in CIS_METRIC_FILTERS.items():
            metric_filter = aws.cloudwatch.LogMetricFilter(
                f"{name}-{metric}",
                name=f"cis-{metric}",
                log_group_name=self.log_group.name,
                pattern=pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=metric, namespace=METRIC_NAMESPACE, value="1", default_value="0"),
                opts=pulumi.ResourceOptions(parent=self.log_group),
            )
            aws.cloudwatch.MetricAlarm(
                f"{name}-{metric}",
                name=f"cis-{control}-{metric}",
                alarm_description=f"CIS AWS Foundations {control}: {metric} in the organization trail",
                namespace=METRIC_NAMESPACE,
                metric_name=metric,
                statistic="Sum",
                period=300,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[self.alarm_topic.arn],
                opts=pulumi.ResourceOptions(parent=metric_filter),
            )
        self.trail_arn = self.trail.arn
        self.alarm_topic_arn = self.alarm_topic.arn
        self.log_group_name = self.log_group.name
        self.register_outputs({"trailArn": self.trail_arn, "alarmTopicArn": self.alarm_topic_arn})
