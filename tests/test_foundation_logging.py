"""The log archive, the organization trail and the log analytics path, as the foundation stack records them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from accounts.log_archive import API_ACCESS_LOG_ERROR_PREFIX, API_ACCESS_LOG_PREFIX
from components.cis_metric_filters import CIS_METRIC_FILTERS
from components.log_destination import LogDestinationArgs
from components.opensearch_domain import OpenSearchDomainArgs
from lz.render import Rendering
from tests.conftest import of_type

Render = Callable[[str], Rendering]
DELIVERY_BUCKETS = ("trail", "config", "flow-logs", "waf", "access-logs")


def buckets(rendered: Render) -> dict[str, dict[str, Any]]:
    """Log archive buckets of the home region by key (trail, config, flow-logs, waf, access-logs, s3-access); the
    replicas in the second region: tests/test_log_replication.py."""
    found = {}
    for bucket in of_type(rendered("foundation"), "aws:s3/bucket:Bucket"):
        if bucket["region"] != "eu-west-2":
            continue
        name = bucket["outputs"]["bucket"]
        key = "waf" if name.startswith("aws-waf-logs-") else next(
            k for k in (*DELIVERY_BUCKETS, "s3-access") if f"-{k}-" in name)
        found[key] = bucket
    return found


def by_bucket(rendered: Render, type_: str) -> dict[str, dict[str, Any]]:
    return {r["inputs"]["bucket"]: r for r in of_type(rendered("foundation"), type_) if r["region"] == "eu-west-2"}


def log_key_arn(rendered: Render) -> str:
    return next(k for k in of_type(rendered("foundation"), "aws:kms/key:Key")
                if k["name"].endswith("-log-key"))["outputs"]["arn"]


def test_the_log_archive_has_one_bucket_per_log_type_plus_server_access_logs(rendered: Render) -> None:
    found = buckets(rendered)
    assert set(found) == {*DELIVERY_BUCKETS, "s3-access"}
    assert {b["account"] for b in found.values()} == {"logArchive"}


def test_every_log_bucket_is_created_with_object_lock(rendered: Render) -> None:
    assert all(b["inputs"]["objectLockEnabled"] is True for b in buckets(rendered).values())


@pytest.mark.parametrize("key", DELIVERY_BUCKETS)
def test_delivery_buckets_retain_every_object_in_compliance_mode(rendered: Render, key: str) -> None:
    name = buckets(rendered)[key]["outputs"]["bucket"]
    lock = by_bucket(rendered, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")[name]
    assert lock["inputs"]["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 2557}


def test_the_server_access_log_bucket_denies_deletion_instead_of_a_default_retention(rendered: Render) -> None:
    name = buckets(rendered)["s3-access"]["outputs"]["bucket"]
    assert name not in by_bucket(rendered, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    policy = json.loads(by_bucket(rendered, "aws:s3/bucketPolicy:BucketPolicy")[name]["inputs"]["policy"])
    deny = next(s for s in policy["Statement"] if s["Sid"] == "DenyLogDeletion")
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(deny["Action"])


def test_every_log_bucket_uses_sse_kms_with_the_log_key_and_bucket_keys(rendered: Render) -> None:
    sse = by_bucket(rendered, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    for bucket in buckets(rendered).values():
        [rule] = sse[bucket["outputs"]["bucket"]]["inputs"]["rules"]
        assert rule["bucketKeyEnabled"] is True
        assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms",
                                                              "kmsMasterKeyId": log_key_arn(rendered)}


def test_every_log_bucket_policy_denies_plain_http(rendered: Render) -> None:
    policies = by_bucket(rendered, "aws:s3/bucketPolicy:BucketPolicy")
    for bucket in buckets(rendered).values():
        doc = json.loads(policies[bucket["outputs"]["bucket"]]["inputs"]["policy"])
        assert {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [bucket["outputs"]["arn"], f"{bucket['outputs']['arn']}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}} in doc["Statement"]


@pytest.mark.parametrize(("key", "service"), [
    ("trail", "cloudtrail.amazonaws.com"), ("config", "config.amazonaws.com"),
    ("flow-logs", "delivery.logs.amazonaws.com"), ("waf", "delivery.logs.amazonaws.com"),
    ("access-logs", "delivery.logs.amazonaws.com"), ("s3-access", "logging.s3.amazonaws.com"),
])
def test_each_bucket_admits_only_its_delivery_service(rendered: Render, key: str, service: str) -> None:
    name = buckets(rendered)[key]["outputs"]["bucket"]
    doc = json.loads(by_bucket(rendered, "aws:s3/bucketPolicy:BucketPolicy")[name]["inputs"]["policy"])
    assert {p for s in doc["Statement"] if s["Effect"] == "Allow" for p in s["Principal"]["Service"]} == {service}


def test_log_buckets_move_to_cheaper_storage_then_expire_as_configured(rendered: Render) -> None:
    lifecycles = by_bucket(rendered, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    for bucket in buckets(rendered).values():
        [rule] = lifecycles[bucket["outputs"]["bucket"]]["inputs"]["rules"]
        assert [(t["days"], t["storageClass"]) for t in rule["transitions"]] == [(90, "STANDARD_IA"), (365, "GLACIER")]
        assert rule["expiration"]["days"] == 2557 and rule["noncurrentVersionExpiration"]["noncurrentDays"] == 2557


def test_every_delivery_bucket_writes_server_access_logs_to_the_separate_bucket(rendered: Render) -> None:
    found = buckets(rendered)
    logging = by_bucket(rendered, "aws:s3/bucketLogging:BucketLogging")
    target = found["s3-access"]["outputs"]["bucket"]
    assert set(logging) == {found[k]["outputs"]["bucket"] for k in DELIVERY_BUCKETS}
    assert {entry["inputs"]["targetBucket"] for entry in logging.values()} == {target}


def trail(rendered: Render) -> dict[str, Any]:
    [found] = of_type(rendered("foundation"), "aws:cloudtrail/trail:Trail")
    return found


def test_the_organization_trail_covers_every_account_and_region(rendered: Render) -> None:
    inputs = trail(rendered)["inputs"]
    assert trail(rendered)["account"] == "organization"
    assert inputs["isOrganizationTrail"] is True and inputs["isMultiRegionTrail"] is True
    assert inputs["includeGlobalServiceEvents"] is True and inputs["enableLogging"] is True


def test_the_organization_trail_is_validated_and_encrypted_into_the_trail_bucket(rendered: Render) -> None:
    inputs = trail(rendered)["inputs"]
    assert inputs["enableLogFileValidation"] is True
    assert inputs["kmsKeyId"] == log_key_arn(rendered)
    assert inputs["s3BucketName"] == buckets(rendered)["trail"]["outputs"]["bucket"]


def test_the_organization_trail_streams_to_its_encrypted_log_group(rendered: Render) -> None:
    rendering = rendered("foundation")
    inputs = trail(rendered)["inputs"]
    [group] = [g for g in of_type(rendering, "aws:cloudwatch/logGroup:LogGroup") if g["account"] == "organization"]
    assert inputs["cloudWatchLogsGroupArn"] == f"{group['outputs']['arn']}:*"
    assert group["inputs"]["kmsKeyId"].startswith("arn:aws:kms:eu-west-2:100000000001:key/")
    role = next(r for r in of_type(rendering, "aws:iam/role:Role") if r["outputs"]["arn"] == inputs["cloudWatchLogsRoleArn"])
    assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "cloudtrail.amazonaws.com"}


def test_the_organization_trail_records_data_events_on_exactly_the_configured_resources(rendered: Render) -> None:
    selectors = {s["name"]: {f["field"]: f for f in s["fieldSelectors"]}
                 for s in trail(rendered)["inputs"]["advancedEventSelectors"]}
    assert selectors["Management events"]["eventCategory"]["equals"] == ["Management"]
    assert selectors["Sensitive S3 objects"]["resources.ARN"]["startsWiths"] == [
        "arn:aws:s3:::example-bank-prod-ais-consent-evidence/", "arn:aws:s3:::example-bank-prod-pis-payment-evidence/"]
    assert selectors["Sensitive DynamoDB tables"]["resources.ARN"]["equals"] == [
        "arn:aws:dynamodb:eu-west-2:400000000004:table/prod-ais-consents",
        "arn:aws:dynamodb:eu-west-2:400000000005:table/prod-pis-payments"]


def test_every_cis_metric_filter_alarms_to_the_encrypted_topic(rendered: Render) -> None:
    rendering = rendered("foundation")
    filters = {f["inputs"]["metricTransformation"]["name"]: f
               for f in of_type(rendering, "aws:cloudwatch/logMetricFilter:LogMetricFilter")}
    alarms = {a["inputs"]["metricName"]: a for a in of_type(rendering, "aws:cloudwatch/metricAlarm:MetricAlarm")}
    [topic] = [t for t in of_type(rendering, "aws:sns/topic:Topic") if t["account"] == "organization"]
    assert set(filters) == set(alarms) == set(CIS_METRIC_FILTERS)
    assert len(CIS_METRIC_FILTERS) == 15
    for metric, (_, pattern) in CIS_METRIC_FILTERS.items():
        assert filters[metric]["inputs"]["pattern"] == pattern
        assert alarms[metric]["inputs"]["alarmActions"] == [topic["outputs"]["arn"]]
        assert alarms[metric]["inputs"]["threshold"] == 1
    assert topic["inputs"]["kmsMasterKeyId"].startswith("arn:aws:kms:eu-west-2:100000000001:key/")


def domain(rendered: Render) -> dict[str, Any]:
    [found] = of_type(rendered("foundation"), "aws:opensearch/domain:Domain")
    return found


def test_opensearch_lives_in_the_log_archives_isolated_vpc(rendered: Render) -> None:
    rendering = rendered("foundation")
    [vpc] = [v for v in of_type(rendering, "aws:ec2/vpc:Vpc") if v["account"] == "logArchive"]
    subnets = {s["id"] for s in of_type(rendering, "aws:ec2/subnet:Subnet") if s["inputs"]["vpcId"] == vpc["id"]}
    assert domain(rendered)["account"] == "logArchive"
    assert set(domain(rendered)["inputs"]["vpcOptions"]["subnetIds"]) == subnets and len(subnets) == 3
    assert not [g for g in of_type(rendering, "aws:ec2/internetGateway:InternetGateway") if g["account"] == "logArchive"]


def test_opensearch_uses_iam_fine_grained_access_without_internal_users(rendered: Render) -> None:
    rendering = rendered("foundation")
    security = domain(rendered)["inputs"]["advancedSecurityOptions"]
    master = next(r for r in of_type(rendering, "aws:iam/role:Role") if r["name"].endswith("-opensearch-master"))
    assert security["enabled"] is True and security["internalUserDatabaseEnabled"] is False
    assert security["masterUserOptions"] == {"masterUserArn": master["outputs"]["arn"]}


def test_only_the_configured_administrator_roles_may_assume_the_master_role(rendered: Render) -> None:
    """Not the whole log-archive account: anyone there allowed sts:AssumeRole would administer every log."""
    master = next(r for r in of_type(rendered("foundation"), "aws:iam/role:Role")
                  if r["name"].endswith("-opensearch-master"))
    [statement] = json.loads(master["inputs"]["assumeRolePolicy"])["Statement"]
    admins = ["arn:aws:iam::100000000003:role/LogAnalyticsBreakGlass",
              "arn:aws:iam::100000000002:role/aws-reserved/sso.amazonaws.com/eu-west-2/AWSReservedSSO_LogAnalyticsAdmin_*"]
    assert statement == {
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": ["arn:aws:iam::100000000002:root", "arn:aws:iam::100000000003:root"]},
        "Condition": {"ArnLike": {"aws:PrincipalArn": admins}},
    }


@pytest.mark.parametrize("admins", [[], ["arn:aws:iam::100000000002:root"], ["100000000002"]])
def test_the_domain_component_refuses_to_trust_no_named_role(admins: list[str]) -> None:
    with pytest.raises(ValueError, match="needs at least one administrator role ARN"):
        OpenSearchDomainArgs(
            domain_name="foundation-logs", account_id="100000000002", region="eu-west-2",
            engine_version="OpenSearch_2.19", instance_type="r6g.large.search", instance_count=1, volume_size_gb=10,
            availability_zones=1, dedicated_master_type=None, dedicated_master_count=3, vpc_id="vpc-1",
            vpc_cidr="10.255.0.0/24", subnet_ids=["subnet-1"], kms_key_arn="arn:aws:kms:eu-west-2:1:key/k",
            log_retention_days=400, administrator_role_arns=admins)


def test_opensearch_encrypts_with_the_analytics_key_and_between_nodes_over_tls12(rendered: Render) -> None:
    inputs = domain(rendered)["inputs"]
    key = next(k for k in of_type(rendered("foundation"), "aws:kms/key:Key") if k["name"].endswith("-analytics-key"))
    assert inputs["encryptAtRest"] == {"enabled": True, "kmsKeyId": key["outputs"]["arn"]}
    assert inputs["nodeToNodeEncryption"] == {"enabled": True}
    assert inputs["domainEndpointOptions"] == {"enforceHttps": True, "tlsSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"}


def test_opensearch_publishes_audit_logs_through_a_scoped_resource_policy(rendered: Render) -> None:
    rendering = rendered("foundation")
    logs = {o["logType"]: o for o in domain(rendered)["inputs"]["logPublishingOptions"]}
    [policy] = of_type(rendering, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
    [statement] = json.loads(policy["inputs"]["policyDocument"])["Statement"]
    assert logs["AUDIT_LOGS"]["enabled"] is True
    assert f"{logs['AUDIT_LOGS']['cloudwatchLogGroupArn']}:*" in statement["Resource"]
    assert statement["Condition"]["ArnLike"] == {"aws:SourceArn": domain(rendered)["outputs"]["arn"]}


def test_prod_opensearch_has_dedicated_masters_and_zone_awareness(rendered: Render) -> None:
    cluster = domain(rendered)["inputs"]["clusterConfig"]
    assert cluster["dedicatedMasterEnabled"] is True and cluster["dedicatedMasterCount"] == 3
    assert cluster["zoneAwarenessEnabled"] is True and cluster["zoneAwarenessConfig"] == {"availabilityZoneCount": 3}


def test_every_delivery_bucket_feeds_an_ingestion_pipeline_into_the_domain(rendered: Render) -> None:
    rendering = rendered("foundation")
    queues = {q["outputs"]["arn"]: q["outputs"]["url"] for q in of_type(rendering, "aws:sqs/queue:Queue")}
    # queue URL -> the bucket whose notification feeds it (the flow-logs bucket feeds one queue per prefix)
    notified = {queues[q["queueArn"]]: n["inputs"]["bucket"]
                for n in of_type(rendering, "aws:s3/bucketNotification:BucketNotification") for q in n["inputs"]["queues"]}
    read = {}
    for pipeline in of_type(rendering, "aws:opensearchingest/pipeline:Pipeline"):
        [body] = [v for k, v in yaml.safe_load(pipeline["inputs"]["pipelineConfigurationBody"]).items() if k != "version"]
        read[body["source"]["s3"]["sqs"]["queue_url"]] = body
        assert body["sink"][0]["opensearch"]["hosts"] == [f"https://{domain(rendered)['outputs']['endpoint']}"]
        assert pipeline["inputs"]["vpcOptions"]["subnetIds"] == domain(rendered)["inputs"]["vpcOptions"]["subnetIds"]
    assert set(notified.values()) == {buckets(rendered)[k]["outputs"]["bucket"] for k in DELIVERY_BUCKETS}
    assert set(notified) == set(read)


# --- API Gateway access logs: CloudWatch Logs destination -> Firehose -> the access-logs bucket ----------------------

def api_log_destination(rendered: Render) -> dict[str, Any]:
    rendering = rendered("foundation")
    destination = next(d for d in of_type(rendering, "aws:cloudwatch/logDestination:LogDestination")
                       if d["outputs"]["arn"] == rendering.outputs["apiAccessLogDestinationArn"])
    assert destination["account"] == "logArchive"
    return destination


def role_named_by(rendered: Render, arn: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The role with this ARN: its trust policy and its (one) inline policy."""
    rendering = rendered("foundation")
    role = next(r for r in of_type(rendering, "aws:iam/role:Role") if r["outputs"]["arn"] == arn)
    [policy] = [json.loads(p["inputs"]["policy"]) for p in of_type(rendering, "aws:iam/rolePolicy:RolePolicy")
                if p["inputs"]["role"] == role["outputs"]["name"]]
    return json.loads(role["inputs"]["assumeRolePolicy"]), policy


def test_the_api_log_destination_admits_subscriptions_from_the_organization_only(rendered: Render) -> None:
    destination = api_log_destination(rendered)
    [policy] = [p for p in of_type(rendered("foundation"), "aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy")
                if p["inputs"]["destinationName"] == destination["outputs"]["name"]]
    statements = json.loads(policy["inputs"]["accessPolicy"])["Statement"]
    assert all(s["Effect"] == "Allow" for s in statements)
    for statement in statements:
        assert statement["Action"] == "logs:PutSubscriptionFilter"
        assert statement["Resource"] == destination["outputs"]["arn"]
        # whoever the principal, the condition names exactly the organization
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ["o-exampl3bank1"]}}
    assert policy["inputs"].get("forceUpdate") in (None, False)


def test_the_api_log_destination_puts_into_its_stream_only_for_the_organization(rendered: Render) -> None:
    destination = api_log_destination(rendered)
    trust, policy = role_named_by(rendered, destination["inputs"]["roleArn"])
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": "logs.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceOrgID": "o-exampl3bank1"}
    [grant] = policy["Statement"]
    assert set(grant["Action"]) == {"firehose:PutRecord", "firehose:PutRecordBatch"}
    assert grant["Resource"] == destination["inputs"]["targetArn"]


def api_log_stream(rendered: Render) -> dict[str, Any]:
    target = api_log_destination(rendered)["inputs"]["targetArn"]
    return next(s for s in of_type(rendered("foundation"), "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
                if s["outputs"]["arn"] == target)


def test_the_api_log_stream_is_encrypted_with_the_log_key_and_writes_into_the_access_logs_bucket(
        rendered: Render) -> None:
    stream = api_log_stream(rendered)["inputs"]
    key = log_key_arn(rendered)
    assert stream["serverSideEncryption"] == {"enabled": True, "keyType": "CUSTOMER_MANAGED_CMK", "keyArn": key}
    s3 = stream["extendedS3Configuration"]
    assert stream["destination"] == "extended_s3"
    assert s3["bucketArn"] == buckets(rendered)["access-logs"]["outputs"]["arn"]
    assert s3["kmsKeyArn"] == key
    assert s3["prefix"].startswith(API_ACCESS_LOG_PREFIX)
    # failures go elsewhere, so what is under the prefix is the access log's lines only
    assert s3["errorOutputPrefix"].startswith(API_ACCESS_LOG_ERROR_PREFIX)
    assert not s3["errorOutputPrefix"].startswith(API_ACCESS_LOG_PREFIX)
    assert s3["cloudwatchLoggingOptions"]["enabled"] is True


def test_the_api_log_stream_unwraps_cloudwatch_envelopes_into_lines(rendered: Render) -> None:
    processing = api_log_stream(rendered)["inputs"]["extendedS3Configuration"]["processingConfiguration"]
    assert processing["enabled"] is True
    processors = [(p["type"], {q["parameterName"]: q["parameterValue"] for q in p.get("parameters", [])})
                  for p in processing["processors"]]
    assert processors == [("Decompression", {"CompressionFormat": "GZIP"}),
                          ("CloudWatchLogProcessing", {"DataMessageExtraction": "true"}),
                          ("AppendDelimiterToRecord", {})]


def test_the_api_log_stream_writes_only_under_its_prefixes_with_the_log_key_through_s3(rendered: Render) -> None:
    stream = api_log_stream(rendered)["inputs"]
    s3 = stream["extendedS3Configuration"]
    trust, policy = role_named_by(rendered, s3["roleArn"])
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "100000000002"}}
    bucket = s3["bucketArn"]
    writes = [s for s in policy["Statement"] if "s3:PutObject" in s["Action"]]
    assert [w["Resource"] for w in writes] == [[f"{bucket}/{API_ACCESS_LOG_PREFIX}*",
                                                f"{bucket}/{API_ACCESS_LOG_ERROR_PREFIX}*"]]
    [encrypt] = [s for s in policy["Statement"] if "kms:GenerateDataKey" in s["Action"]]
    assert encrypt["Resource"] == log_key_arn(rendered)
    assert encrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-west-2.amazonaws.com"}


def test_the_access_logs_pipeline_reads_the_api_log_prefix(rendered: Render) -> None:
    """The lines land where the access-logs pipeline reads (its notification prefix covers them)."""
    rendering = rendered("foundation")
    bucket = buckets(rendered)["access-logs"]["outputs"]["bucket"]
    [notification] = [n for n in of_type(rendering, "aws:s3/bucketNotification:BucketNotification")
                      if n["inputs"]["bucket"] == bucket]
    assert any(API_ACCESS_LOG_PREFIX.startswith(q.get("filterPrefix") or "") for q in notification["inputs"]["queues"])


@pytest.mark.parametrize("change, problem", [
    ({"error_prefix": "api-gateway/errors/"}, "under the delivery prefix"),
    ({"prefix": "api-gateway"}, "must end with '/'"),
    ({"buffering_seconds": 30}, "outside Firehose's"),
    ({"destination_name": "x" * 65}, "longer than 64"),
])
def test_the_destination_component_refuses_what_firehose_or_a_reader_would(change: dict[str, Any],
                                                                          problem: str) -> None:
    args: dict[str, Any] = dict(destination_name="d", account_id="1", region="eu-west-2", organization_id="o-1",
                                bucket_arn="arn:aws:s3:::b", prefix="api-gateway/", error_prefix="api-gateway-errors/",
                                kms_key_arn="k", log_group_kms_key_arn="k", log_retention_days=365)
    with pytest.raises(ValueError, match=problem):
        LogDestinationArgs(**(args | change))
