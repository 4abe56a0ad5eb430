"""Organization-wide detective controls, and how the environment stacks use what the foundation exports."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from lz.render import Rendering
from tests.conftest import STACKS, of_type
from tests.test_stacks import EXPECTED_ACCOUNTS

Render = Callable[[str], Rendering]
SECURITY_ACCOUNT = "100000000003"


def only(rendered: Render, type_: str, stack: str = "foundation") -> dict[str, Any]:
    [found] = of_type(rendered(stack), type_)
    return found


def test_every_delegated_administrator_is_the_security_account(rendered: Render) -> None:
    rendering = rendered("foundation")
    admins = [r for t in ("aws:guardduty/organizationAdminAccount:OrganizationAdminAccount",
                          "aws:securityhub/organizationAdminAccount:OrganizationAdminAccount",
                          "aws:macie2/organizationAdminAccount:OrganizationAdminAccount")
              for r in of_type(rendering, t)]
    delegated = of_type(rendering, "aws:organizations/delegatedAdministrator:DelegatedAdministrator")
    assert len(admins) == 3 and len(delegated) == 3
    assert {a["inputs"]["adminAccountId"] for a in admins} == {SECURITY_ACCOUNT}
    assert {d["inputs"]["accountId"] for d in delegated} == {SECURITY_ACCOUNT}
    assert {r["account"] for r in [*admins, *delegated]} == {"organization"}


def test_delegated_services_have_trusted_access_in_the_organization(rendered: Render) -> None:
    principals = set(only(rendered, "aws:organizations/organization:Organization")["inputs"]["awsServiceAccessPrincipals"])
    delegated = {d["inputs"]["servicePrincipal"] for d in
                 of_type(rendered("foundation"), "aws:organizations/delegatedAdministrator:DelegatedAdministrator")}
    assert delegated == {"config.amazonaws.com", "config-multiaccountsetup.amazonaws.com",
                         "access-analyzer.amazonaws.com"}
    assert delegated | {"guardduty.amazonaws.com", "securityhub.amazonaws.com", "macie.amazonaws.com",
                        "cloudtrail.amazonaws.com", "backup.amazonaws.com"} <= principals


def test_security_services_wait_for_their_delegated_administrators(rendered: Render) -> None:
    rendering = rendered("foundation")
    [services] = of_type(rendering, "openbanking:security:SecurityServices")
    admins = {r["urn"] for r in rendering.resources
              if r["type"].endswith(":OrganizationAdminAccount") or r["type"].endswith(":DelegatedAdministrator")}
    assert admins and admins <= set(services["options"]["dependsOn"])


def test_guardduty_enables_every_protection_plan_and_auto_enables_all_members(rendered: Render) -> None:
    rendering = rendered("foundation")
    detector = only(rendered, "aws:guardduty/detector:Detector")
    features = {f["inputs"]["name"]: f["inputs"]
                for f in of_type(rendering, "aws:guardduty/detectorFeature:DetectorFeature")}
    org_features = {f["inputs"]["name"]: f["inputs"] for f in
                    of_type(rendering, "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature")}
    wanted = {"S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "RUNTIME_MONITORING", "EBS_MALWARE_PROTECTION"}
    assert detector["account_id"] == SECURITY_ACCOUNT and detector["inputs"]["enable"] is True
    assert wanted <= set(features) and all(features[f]["status"] == "ENABLED" for f in wanted)
    assert wanted <= set(org_features) and all(org_features[f]["autoEnable"] == "ALL" for f in wanted)
    assert only(rendered, "aws:guardduty/organizationConfiguration:OrganizationConfiguration")["inputs"][
        "autoEnableOrganizationMembers"] == "ALL"


def test_security_hub_subscribes_fsbp_and_cis_and_aggregates_every_region(rendered: Render) -> None:
    rendering = rendered("foundation")
    standards = sorted(s["inputs"]["standardsArn"] for s in
                       of_type(rendering, "aws:securityhub/standardsSubscription:StandardsSubscription"))
    assert standards == [
        "arn:aws:securityhub:eu-west-2::standards/aws-foundational-security-best-practices/v/1.0.0",
        "arn:aws:securityhub:eu-west-2::standards/cis-aws-foundations-benchmark/v/3.0.0"]
    assert only(rendered, "aws:securityhub/findingAggregator:FindingAggregator")["inputs"]["linkingMode"] == "ALL_REGIONS"
    organization = only(rendered, "aws:securityhub/organizationConfiguration:OrganizationConfiguration")["inputs"]
    assert organization["autoEnable"] is True and organization["autoEnableStandards"] == "DEFAULT"


def test_config_aggregates_the_whole_organization_and_deploys_a_conformance_pack(rendered: Render) -> None:
    aggregator = only(rendered, "aws:cfg/configurationAggregator:ConfigurationAggregator")
    source = aggregator["inputs"]["organizationAggregationSource"]
    assert aggregator["account_id"] == SECURITY_ACCOUNT and source["allRegions"] is True
    pack = only(rendered, "aws:cfg/organizationConformancePack:OrganizationConformancePack")
    assert pack["account_id"] == SECURITY_ACCOUNT and "S3_BUCKET_SSL_REQUESTS_ONLY" in pack["inputs"]["templateBody"]


def test_macie_and_access_analyzer_cover_the_organization(rendered: Render) -> None:
    assert only(rendered, "aws:macie2/organizationConfiguration:OrganizationConfiguration")["inputs"]["autoEnable"] is True
    [analyzer] = [a for a in of_type(rendered("foundation"), "aws:accessanalyzer/analyzer:Analyzer")
                  if a["inputs"]["type"] == "ORGANIZATION"]
    assert analyzer["account_id"] == SECURITY_ACCOUNT


def test_high_and_critical_findings_reach_the_encrypted_topic(rendered: Render) -> None:
    rendering = rendered("foundation")
    [topic] = [t for t in of_type(rendering, "aws:sns/topic:Topic") if t["account"] == "security"]
    rules = {r["inputs"]["name"]: r for r in of_type(rendering, "aws:cloudwatch/eventRule:EventRule")}
    patterns = {name: json.loads(r["inputs"]["eventPattern"]) for name, r in rules.items()}
    guardduty = next(p for p in patterns.values() if p["source"] == ["aws.guardduty"])
    hub = next(p for p in patterns.values() if p["source"] == ["aws.securityhub"])
    assert guardduty["detail"]["severity"] == [{"numeric": [">=", 7]}]
    assert hub["detail"]["findings"]["Severity"]["Label"] == ["HIGH", "CRITICAL"]
    targets = of_type(rendering, "aws:cloudwatch/eventTarget:EventTarget")
    assert {t["inputs"]["rule"] for t in targets} == set(rules)
    assert {t["inputs"]["arn"] for t in targets} == {topic["outputs"]["arn"]}
    assert topic["inputs"]["kmsMasterKeyId"].startswith(f"arn:aws:kms:eu-west-2:{SECURITY_ACCOUNT}:key/")


def test_only_the_findings_rules_may_publish_to_the_topic(rendered: Render) -> None:
    rendering = rendered("foundation")
    [policy] = [p for p in of_type(rendering, "aws:sns/topicPolicy:TopicPolicy") if p["account"] == "security"]
    allow = next(s for s in json.loads(policy["inputs"]["policy"])["Statement"] if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == sorted(
        r["outputs"]["arn"] for r in of_type(rendering, "aws:cloudwatch/eventRule:EventRule"))


@pytest.mark.parametrize("stack", STACKS)
def test_every_account_records_configuration_into_the_foundation_config_bucket(rendered: Render, stack: str) -> None:
    rendering, foundation = rendered(stack), rendered("foundation")
    channels = of_type(rendering, "aws:cfg/deliveryChannel:DeliveryChannel")
    recorders = of_type(rendering, "aws:cfg/recorder:Recorder")
    assert sorted(c["account_id"] for c in channels) == sorted(EXPECTED_ACCOUNTS[stack].values())
    assert {c["inputs"]["s3BucketName"] for c in channels} == {foundation.outputs["configBucketName"]}
    assert {c["inputs"]["s3KmsKeyArn"] for c in channels} == {foundation.outputs["logArchiveKeyArn"]}
    assert all(r["inputs"]["recordingGroup"] == {"allSupported": True, "includeGlobalResourceTypes": True}
               for r in recorders) and len(recorders) == len(channels)


def test_the_foundation_exports_what_the_environment_stacks_read(rendered: Render) -> None:
    outputs = rendered("foundation").outputs
    assert outputs["organizationId"] == "o-exampl3bank1"
    assert outputs["securityAccountId"] == SECURITY_ACCOUNT
    assert set(outputs["organizationalUnitIds"]) == {"Security", "Infrastructure", "Workloads", "Workloads/Prod",
                                                     "Workloads/NonProd", "Sandbox", "Suspended"}
    assert outputs["flowLogsBucketArn"] == f"arn:aws:s3:::{outputs['flowLogsBucketName']}"
    assert outputs["securityFindingsTopicArn"].startswith(f"arn:aws:sns:eu-west-2:{SECURITY_ACCOUNT}:")
    for key in ("trailBucketArn", "configBucketArn", "wafLogsBucketArn", "accessLogsBucketArn"):
        assert outputs[key].startswith("arn:aws:s3:::"), key


@pytest.mark.parametrize("stack", ["sandbox", "dev", "prod"])
def test_vpc_flow_logs_deliver_to_the_bucket_the_foundation_exported(rendered: Render, stack: str) -> None:
    flow_logs = of_type(rendered(stack), "aws:ec2/flowLog:FlowLog")
    bucket = rendered("foundation").outputs["flowLogsBucketArn"]
    assert flow_logs
    for flow_log in flow_logs:  # the bucket itself, or a prefix inside it
        assert flow_log["inputs"]["logDestination"] in (bucket, f"{bucket}/") or \
            flow_log["inputs"]["logDestination"].startswith(f"{bucket}/"), flow_log["name"]
