"""A log group's events, every one of them, sent on to a CloudWatch Logs destination of another account (the log
archive's, :mod:`components.log_destination`).

The destination admits the organization's accounts (`aws:PrincipalOrgID`), so CloudWatch Logs asks the sender for a
role of its own in the filter, assumes it and checks that it may put log events to the destination: this role, which
may do nothing else, trusted by CloudWatch Logs for this account's log groups only. The group keeps its own copy and
retention; the destination's side decides where the events land.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class LogSubscriptionArgs:
    """Which group, to which destination."""

    #: The log group whose events are sent (its name).
    log_group_name: pulumi.Input[str]
    #: The destination's ARN (`arn:aws:logs:<region>:<account>:destination:<name>`); same region as the group.
    destination_arn: pulumi.Input[str]
    #: The sending account (the role's trust condition).
    account_id: str
    #: The region of the group and the destination.
    region: str
    #: Name of the filter and prefix of its role's name, e.g. "dev-api-access-logs-to-archive".
    filter_name: str


def sender_role_policy(destination_arn: str) -> str:
    """CloudWatch Logs, as this role, may put log events to the destination and nowhere else."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "SendToDestination", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": destination_arn}]})


class LogSubscription(pulumi.ComponentResource):
    """The sender's role and the subscription filter (every event: an empty pattern)."""

    filter: aws.cloudwatch.LogSubscriptionFilter

    def __init__(self, name: str, args: LogSubscriptionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:logging:LogSubscription", name, None, opts)
        role = aws.iam.Role(
            f"{name}-role", name=f"{args.filter_name}"[:64],
            description="CloudWatch Logs sends this account's subscribed log events to the log archive's destination",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringLike": {"aws:SourceArn": f"arn:aws:logs:{args.region}:{args.account_id}:*"}}}]}),
            opts=pulumi.ResourceOptions(parent=self))
        policy = aws.iam.RolePolicy(
            f"{name}-role-policy", role=role.name,
            policy=pulumi.Output.from_input(args.destination_arn).apply(sender_role_policy),
            opts=pulumi.ResourceOptions(parent=role))
        self.filter = aws.cloudwatch.LogSubscriptionFilter(
            f"{name}-filter", name=args.filter_name, log_group=args.log_group_name, filter_pattern="",
            destination_arn=args.destination_arn, role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        self.register_outputs({"destinationArn": args.destination_arn})
