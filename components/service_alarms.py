"""One account's alarms and the SNS topic they notify (encrypted with the account key).

Alarms are data (:class:`Alarm`): a metric (or a metric-math expression) and a threshold; the account
decides which exist (per service 5xx rate and p99 latency, dead-letter queue depth, Aurora CPU and
connections, cache evictions, the feed consumers' lag). Missing data is "not breaching" except where a
silent metric is itself the fault (`missing_is_breaching`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class Alarm:
    """One CloudWatch alarm."""

    #: Short name, unique in the account (the alarm is `<prefix>-<name>`).
    name: str
    #: What it means when it fires, for whoever receives it.
    description: str
    #: `GreaterThanThreshold`, `GreaterThanOrEqualToThreshold`, `LessThanThreshold`, ...
    comparison: str
    #: The value the metric (or expression) is compared with.
    threshold: float
    #: A single metric: namespace, name, dimensions, and `statistic` or `extended_statistic` (e.g. "p99").
    namespace: str | None = None
    #: The metric's name (with `namespace`), for a single-metric alarm.
    metric_name: str | None = None
    #: The metric's dimensions.
    dimensions: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    #: `Sum`, `Average`, `Maximum`, ...: one of this or `extended_statistic`.
    statistic: str | None = None
    #: A percentile such as `p99`.
    extended_statistic: str | None = None
    #: Or metric math: id -> (namespace, metric name, dimensions, statistic), and the expression over the ids.
    inputs: Mapping[str, tuple[str, str, Mapping[str, pulumi.Input[str]], str]] = field(default_factory=dict)
    #: The metric-math expression over `inputs` the alarm watches (e.g. an error rate).
    expression: str | None = None
    #: Seconds per datapoint, and how many datapoints (of `evaluation_periods`) must breach.
    period_seconds: int = 60
    #: Datapoints looked at.
    evaluation_periods: int = 5
    #: Of those, how many must breach.
    datapoints_to_alarm: int = 3
    #: Treat missing data as breaching (a metric that goes silent is itself the fault).
    missing_is_breaching: bool = False

    def __post_init__(self) -> None:
        single = self.metric_name is not None
        if single == (self.expression is not None) or (single and (self.statistic is None) == (
                self.extended_statistic is None)):
            raise ValueError(f"alarm {self.name!r}: give a metric with one statistic, or an expression over inputs")


@dataclass(frozen=True)
class ServiceAlarmsArgs:
    """The account's alarms."""

    #: Prefix of the topic and alarm names, e.g. "prod-workload-pis".
    name_prefix: str
    #: The account key (its policy admits SNS and CloudWatch).
    kms_key_arn: pulumi.Input[str]
    #: The alarms, each notifying the topic on ALARM and on OK.
    alarms: Sequence[Alarm]


class ServiceAlarms(pulumi.ComponentResource):
    topic: aws.sns.Topic

    def __init__(self, name: str, args: ServiceAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:observability:ServiceAlarms", name, None, opts)
        names = [a.name for a in args.alarms]
        if len(set(names)) != len(names):
            raise ValueError(f"{name}: alarm names {names} repeat")
        self.topic = aws.sns.Topic(f"{name}-topic", name=f"{args.name_prefix}-alarms", kms_master_key_id=args.kms_key_arn,
                                   opts=pulumi.ResourceOptions(parent=self))
        for alarm in args.alarms:
            queries = None
            if alarm.expression is not None:
                queries = [aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id=qid, return_data=False,
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        namespace=ns, metric_name=metric, dimensions=dict(dims), stat=stat, period=alarm.period_seconds))
                    for qid, (ns, metric, dims, stat) in alarm.inputs.items()]
                queries.append(aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="result", expression=alarm.expression, label=alarm.name, return_data=True))
            aws.cloudwatch.MetricAlarm(
                f"{name}-{alarm.name}",
                name=f"{args.name_prefix}-{alarm.name}",
                alarm_description=alarm.description,
                comparison_operator=alarm.comparison,
                threshold=alarm.threshold,
                evaluation_periods=alarm.evaluation_periods,
                datapoints_to_alarm=alarm.datapoints_to_alarm,
                namespace=alarm.namespace,
                metric_name=alarm.metric_name,
                dimensions=dict(alarm.dimensions) or None,
                statistic=alarm.statistic,
                extended_statistic=alarm.extended_statistic,
                period=alarm.period_seconds if queries is None else None,
                metric_queries=queries,
                treat_missing_data="breaching" if alarm.missing_is_breaching else "notBreaching",
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                opts=pulumi.ResourceOptions(parent=self.topic),
            )
        self.topic_arn = self.topic.arn
        self.register_outputs({"topicArn": self.topic_arn, "alarms": names})
