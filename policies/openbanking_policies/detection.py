"""Detection rules: CloudTrail, GuardDuty, AWS Config, and CloudWatch alarms that notify someone."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from ._base import resource_policy
from ._props import TICKED, UNKNOWN, get

TRAIL = "aws:cloudtrail/trail:Trail"
DETECTOR = "aws:guardduty/detector:Detector"
DETECTOR_FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
RECORDER = "aws:cfg/recorder:Recorder"
RECORDER_STATUS = "aws:cfg/recorderStatus:RecorderStatus"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"

REQUIRED_GUARDDUTY_FEATURES = ("S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "RUNTIME_MONITORING")


def _check_cloudtrail(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    TICKED.require_true(report, props, "isMultiRegionTrail", default=False)
    TICKED.require_true(report, props, "isOrganizationTrail", default=False)
    TICKED.require_true(report, props, "enableLogFileValidation", default=False)
    TICKED.require_true(report, props, "includeGlobalServiceEvents", default=True)
    TICKED.require_true(report, props, "enableLogging", default=True)
    TICKED.require_set(report, props, "kmsKeyId", why="; trail logs must be encrypted with a customer-managed key")
    TICKED.require_set(report, props, "cloudWatchLogsGroupArn", why="; CIS 4.x metric filters need the log group")


cloudtrail = resource_policy(
    name="ob-cloudtrail",
    description="The organisation trail is multi-region, validated, KMS-encrypted and sent to CloudWatch.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "CloudTrail.1"), ("FSBP", "CloudTrail.2"), ("FSBP", "CloudTrail.4"),
                ("FSBP", "CloudTrail.5"), ("CIS", "3.1"), ("CIS", "3.2"), ("CIS", "3.5"),
                ("Checkov", "CKV_AWS_35"), ("Checkov", "CKV_AWS_36"), ("Checkov", "CKV_AWS_67")],
    resource_types=[TRAIL],
    remediation=("On `aws.cloudtrail.Trail` set `is_multi_region_trail=True`, `is_organization_trail=True`, "
                 "`enable_log_file_validation=True`, `include_global_service_events=True`, "
                 "`kms_key_id=key.arn` and `cloud_watch_logs_group_arn=f\"{group.arn}:*\"` "
                 "(with `cloud_watch_logs_role_arn`)."),
    check=_check_cloudtrail,
)


def _check_guardduty(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == DETECTOR_FEATURE:
        name = get(props, "name")
        if name in REQUIRED_GUARDDUTY_FEATURES:
            TICKED.require_equal(report, props, "status", expected="ENABLED", why=f" for feature {name}")
        return
    TICKED.require_true(report, props, "enable", default=True)
    # The deprecated inline `datasources` block, when used, must not switch S3 protection off.
    s3 = get(props, "datasources", "s3Logs", "enable")
    if s3 not in (None, UNKNOWN) and s3 is not True:
        report(f"`datasources.s3Logs.enable` is {TICKED.show(s3)}; S3 protection must be on", None)


guardduty = resource_policy(
    name="ob-guardduty",
    description="GuardDuty is enabled with S3, RDS login and runtime monitoring protection.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "GuardDuty.1"), ("FSBP", "GuardDuty.9"), ("FSBP", "GuardDuty.10"),
                ("Checkov", "CKV_AWS_238")],
    resource_types=[DETECTOR, DETECTOR_FEATURE],
    remediation=("Set `enable=True` on `aws.guardduty.Detector` and add an `aws.guardduty.DetectorFeature` "
                 "with `status=\"ENABLED\"` for each of S3_DATA_EVENTS, RDS_LOGIN_EVENTS and "
                 "RUNTIME_MONITORING."),
    check=_check_guardduty,
)


def _check_config(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == RECORDER_STATUS:
        TICKED.require_true(report, props, "isEnabled", default=False)
        return
    group = get(props, "recordingGroup")
    if group is UNKNOWN:
        return
    TICKED.require_true(report, props, "recordingGroup", "allSupported", default=True)
    TICKED.require_true(report, props, "recordingGroup", "includeGlobalResourceTypes", default=False)


config_recorder = resource_policy(
    name="ob-config",
    description="AWS Config records every supported resource type, including global ones, and is running.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "Config.1"), ("CIS", "3.3"), ("Checkov", "CKV2_AWS_45"), ("Checkov", "CKV2_AWS_48")],
    resource_types=[RECORDER, RECORDER_STATUS],
    remediation=("Set `recording_group={\"all_supported\": True, \"include_global_resource_types\": True}` "
                 "on `aws.cfg.Recorder` and `is_enabled=True` on its `aws.cfg.RecorderStatus`."),
    check=_check_config,
)


def _check_alarm_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    TICKED.require_true(report, props, "actionsEnabled", default=True, why="; a muted alarm warns no one")
    if get(props, "actionsEnabled") is not False:
        TICKED.require_set(report, props, "alarmActions",
                           why="; an alarm with no action (SNS topic, scaling policy) warns no one")


alarm_actions = resource_policy(
    name="ob-alarm-actions",
    description="CloudWatch alarms have their actions enabled and at least one alarm action.",
    severity=Severity.LOW,
    frameworks=[("Checkov", "CKV_AWS_319"), ("CIS", "4.1-4.15")],
    resource_types=[METRIC_ALARM, COMPOSITE_ALARM],
    remediation=("On `aws.cloudwatch.MetricAlarm` and `aws.cloudwatch.CompositeAlarm` leave `actions_enabled` "
                 "unset (or True) and set `alarm_actions=[alarm_topic.arn]` (or the scaling policy's ARN)."),
    check=_check_alarm_actions,
)


POLICIES = [cloudtrail, guardduty, config_recorder, alarm_actions]
