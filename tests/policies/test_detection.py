"""Detection rules: CloudTrail, GuardDuty, AWS Config."""

from __future__ import annotations

import pytest
from openbanking_policies import detection as det
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import run_resource_policy

TRAIL_OK = {"isMultiRegionTrail": True, "isOrganizationTrail": True, "enableLogFileValidation": True,
            "includeGlobalServiceEvents": True, "kmsKeyId": "arn:aws:kms:eu-west-2:1:key/k",
            "cloudWatchLogsGroupArn": "arn:aws:logs:eu-west-2:1:log-group:trail:*", "s3BucketName": "audit"}


def test_trail_passes():
    assert run_resource_policy(det.cloudtrail, det.TRAIL, TRAIL_OK) == []


def test_trail_with_unknown_key_passes():
    props = dict(TRAIL_OK, kmsKeyId=UNKNOWN_STRING_VALUE, cloudWatchLogsGroupArn=UNKNOWN_STRING_VALUE)
    assert run_resource_policy(det.cloudtrail, det.TRAIL, props) == []


def test_bare_trail_fails_on_every_missing_control():
    msgs = run_resource_policy(det.cloudtrail, det.TRAIL, {"s3BucketName": "audit"})
    joined = "\n".join(msgs)
    for prop in ("isMultiRegionTrail", "isOrganizationTrail", "enableLogFileValidation", "kmsKeyId",
                 "cloudWatchLogsGroupArn"):
        assert f"`{prop}`" in joined
    assert "includeGlobalServiceEvents" not in joined  # AWS default is true


def test_trail_logging_off_fails():
    msgs = run_resource_policy(det.cloudtrail, det.TRAIL, dict(TRAIL_OK, enableLogging=False))
    assert msgs == ["`enableLogging` is false; it must be true"]


def test_detector():
    assert run_resource_policy(det.guardduty, det.DETECTOR, {}) == []
    assert run_resource_policy(det.guardduty, det.DETECTOR, {"enable": True}) == []
    assert run_resource_policy(det.guardduty, det.DETECTOR, {"enable": False}) == [
        "`enable` is false; it must be true"]


def test_detector_inline_datasources():
    ok = {"enable": True, "datasources": {"s3Logs": {"enable": True}}}
    assert run_resource_policy(det.guardduty, det.DETECTOR, ok) == []
    bad = {"enable": True, "datasources": [{"s3Logs": [{"enable": False}]}]}
    assert len(run_resource_policy(det.guardduty, det.DETECTOR, bad)) == 1


@pytest.mark.parametrize("feature", det.REQUIRED_GUARDDUTY_FEATURES)
def test_required_features_must_be_enabled(feature):
    ok = {"detectorId": "d", "name": feature, "status": "ENABLED"}
    assert run_resource_policy(det.guardduty, det.DETECTOR_FEATURE, ok) == []
    msgs = run_resource_policy(det.guardduty, det.DETECTOR_FEATURE, dict(ok, status="DISABLED"))
    assert len(msgs) == 1 and "`status` is \"DISABLED\"" in msgs[0] and feature in msgs[0]


def test_other_features_are_not_checked():
    props = {"detectorId": "d", "name": "EKS_AUDIT_LOGS", "status": "DISABLED"}
    assert run_resource_policy(det.guardduty, det.DETECTOR_FEATURE, props) == []


def test_config_recorder():
    ok = {"roleArn": "r", "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}}
    assert run_resource_policy(det.config_recorder, det.RECORDER, ok) == []
    msgs = run_resource_policy(det.config_recorder, det.RECORDER, {"roleArn": "r"})
    assert msgs == ["`recordingGroup.includeGlobalResourceTypes` is not set (AWS default: false); "
                    "it must be true"]
    bad = {"roleArn": "r", "recordingGroup": [{"allSupported": False, "includeGlobalResourceTypes": True}]}
    assert len(run_resource_policy(det.config_recorder, det.RECORDER, bad)) == 1


def test_config_recorder_status():
    assert run_resource_policy(det.config_recorder, det.RECORDER_STATUS, {"isEnabled": True}) == []
    assert run_resource_policy(det.config_recorder, det.RECORDER_STATUS, {"isEnabled": False})


# ob-alarm-actions --------------------------------------------------------------------------------

TOPIC = "arn:aws:sns:eu-west-2:1:alarms"


@pytest.mark.parametrize("typ", [det.METRIC_ALARM, det.COMPOSITE_ALARM])
def test_alarm_with_actions_passes(typ):
    assert run_resource_policy(det.alarm_actions, typ, {"alarmActions": [TOPIC]}) == []
    assert run_resource_policy(det.alarm_actions, typ, {"alarmActions": [TOPIC], "actionsEnabled": True}) == []


@pytest.mark.parametrize("typ", [det.METRIC_ALARM, det.COMPOSITE_ALARM])
def test_alarm_without_actions_fails(typ):
    msgs = run_resource_policy(det.alarm_actions, typ, {"metricName": "Errors"})
    assert msgs == ["`alarmActions` is not set; an alarm with no action (SNS topic, scaling policy) warns no one"]
    msgs = run_resource_policy(det.alarm_actions, typ, {"alarmActions": [TOPIC], "actionsEnabled": False})
    assert msgs == ["`actionsEnabled` is false; it must be true; a muted alarm warns no one"]
