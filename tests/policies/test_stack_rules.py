"""Tests for the stack (coverage) policies; props are outputs and resources link by id/ARN/name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openbanking_policies import METADATA, stack_rules
from pulumi_policy import PolicyProviderResource, PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from tests.policies._support import options, policy_resource, run_stack_policy, urn_of

PROD = {"openbanking:stage": "prod"}
NONPROD = {"openbanking:stage": "nonprod"}

TLS_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)


def _bucket_stack(
    name: str = "data", *, pab: bool = True, sse: str | None = "aws:kms", policy: bool = True
) -> list[PolicyResource]:
    rs = [
        policy_resource(
            "aws:s3/bucket:Bucket", {"bucket": name, "id": name, "arn": f"arn:aws:s3:::{name}"}, name=name
        )
    ]
    if pab:
        rs.append(
            policy_resource(
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                {"bucket": name, "blockPublicAcls": True},
                name=f"{name}-pab",
            )
        )
    if sse:
        rs.append(
            policy_resource(
                stack_rules.SSE_TYPES[0],
                {
                    "bucket": name,
                    "rules": [
                        {
                            "applyServerSideEncryptionByDefault": {
                                "sseAlgorithm": sse,
                                "kmsMasterKeyId": "arn:k",
                            },
                            "bucketKeyEnabled": True,
                        }
                    ],
                },
                name=f"{name}-sse",
            )
        )
    if policy:
        rs.append(
            policy_resource(
                "aws:s3/bucketPolicy:BucketPolicy",
                {"bucket": name, "policy": TLS_POLICY},
                name=f"{name}-policy",
            )
        )
    return rs


# ob-s3-bucket-coverage ----------------------------------------------------------------------------


def test_bucket_fully_covered_passes() -> None:
    assert run_stack_policy(stack_rules.s3_bucket_coverage, _bucket_stack()) == []


def test_bucket_inline_sse_and_policy_pass() -> None:
    bucket = policy_resource(
        "aws:s3/bucketV2:BucketV2",
        {
            "bucket": "logs",
            "policy": TLS_POLICY,
            "serverSideEncryptionConfiguration": {
                "rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms:dsse"}}
            },
        },
        name="logs",
    )
    pab = policy_resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", {"bucket": "logs"})
    assert run_stack_policy(stack_rules.s3_bucket_coverage, [bucket, pab]) == []


def test_bare_bucket_fails_three_times() -> None:
    found = run_stack_policy(stack_rules.s3_bucket_coverage, _bucket_stack(pab=False, sse=None, policy=False))
    assert len(found) == 3
    assert all(urn == urn_of("aws:s3/bucket:Bucket", "data") for _, urn in found)
    msgs = "\n".join(m for m, _ in found)
    assert "BucketPublicAccessBlock" in msgs and "sseAlgorithm 'aws:kms'" in msgs
    assert "aws:SecureTransport" in msgs


def test_bucket_sse_s3_fails() -> None:
    found = run_stack_policy(stack_rules.s3_bucket_coverage, _bucket_stack(sse="AES256"))
    assert len(found) == 1 and "server-side encryption" in found[0][0]


def test_bucket_policy_without_tls_deny_fails() -> None:
    rs = _bucket_stack(policy=False)
    rs.append(
        policy_resource(
            "aws:s3/bucketPolicy:BucketPolicy",
            {
                "bucket": "data",
                "policy": json.dumps(
                    {
                        "Statement": [
                            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*"}
                        ]
                    }
                ),
            },
        )
    )
    found = run_stack_policy(stack_rules.s3_bucket_coverage, rs)
    assert len(found) == 1 and "aws:SecureTransport" in found[0][0]


def test_bucket_sub_resources_unknown_at_preview_pass() -> None:
    bucket = policy_resource("aws:s3/bucket:Bucket", {"bucket": "data"})
    pab = policy_resource(stack_rules.PAB_TYPES[0], {"bucket": UNKNOWN_STRING_VALUE})
    sse = policy_resource(stack_rules.SSE_TYPES[0], {"bucket": UNKNOWN_STRING_VALUE})
    pol = policy_resource(
        stack_rules.BUCKET_POLICY_TYPES[0], {"bucket": "data", "policy": UNKNOWN_STRING_VALUE}
    )
    assert run_stack_policy(stack_rules.s3_bucket_coverage, [bucket, pab, sse, pol]) == []
    unnamed = policy_resource("aws:s3/bucket:Bucket", {"bucket": UNKNOWN_STRING_VALUE})
    assert run_stack_policy(stack_rules.s3_bucket_coverage, [unnamed]) == []


def test_bucket_of_other_name_does_not_cover() -> None:
    rs = _bucket_stack("other")[1:] + _bucket_stack("data", pab=False, sse=None, policy=False)
    assert len(run_stack_policy(stack_rules.s3_bucket_coverage, rs)) == 3


# ob-s3-account-pab-coverage -----------------------------------------------------------------------


def _with_provider(
    resource_type: str, props: dict[str, Any], provider: str, accounts: Any, name: str = "subject"
) -> PolicyResource:
    purn = f"urn:pulumi:test::lz::pulumi:providers:aws::{provider}"
    prov = PolicyProviderResource(
        "pulumi:providers:aws", unknown_checking_proxy({"allowedAccountIds": accounts}), purn, provider
    )
    return PolicyResource(
        resource_type,
        unknown_checking_proxy(dict(props)),
        urn_of(resource_type, name),
        name,
        options(),
        prov,
        None,
        [],
        {},
    )


def test_account_pab_covered_per_provider_passes() -> None:
    rs = [
        _with_provider("aws:ec2/vpc:Vpc", {"id": "vpc-1"}, "network", '["111111111111"]'),
        _with_provider(stack_rules.ACCOUNT_PAB, {"accountId": "111111111111"}, "network", '["111111111111"]'),
    ]
    assert run_stack_policy(stack_rules.s3_account_pab_coverage, rs) == []


def test_account_pab_covered_by_account_id_passes() -> None:
    rs = [
        _with_provider("aws:ec2/vpc:Vpc", {"id": "vpc-1"}, "network-eu", ["222222222222"]),
        _with_provider(
            stack_rules.ACCOUNT_PAB, {"accountId": "222222222222"}, "network-us", ["222222222222"]
        ),
    ]
    assert run_stack_policy(stack_rules.s3_account_pab_coverage, rs) == []


def test_account_without_pab_fails_against_provider_urn() -> None:
    rs = [
        _with_provider("aws:ec2/vpc:Vpc", {"id": "vpc-1"}, "network", '["111111111111"]'),
        _with_provider("aws:ec2/vpc:Vpc", {"id": "vpc-2"}, "workload", '["333333333333"]', name="w"),
        _with_provider(stack_rules.ACCOUNT_PAB, {"accountId": "111111111111"}, "network", '["111111111111"]'),
    ]
    found = run_stack_policy(stack_rules.s3_account_pab_coverage, rs)
    assert len(found) == 1
    msg, urn = found[0]
    assert urn == "urn:pulumi:test::lz::pulumi:providers:aws::workload"
    assert "333333333333" in msg


def test_account_pab_policies_are_critical() -> None:
    for name in ("ob-s3-account-pab-coverage", "ob-s3-bucket-coverage"):
        assert METADATA[name].nonprod_may_downgrade is False
        assert METADATA[name].kind == "stack"


# ob-vpc-flowlogs-coverage / ob-default-sg-coverage ------------------------------------------------


def test_vpc_flow_log_coverage() -> None:
    vpc = policy_resource(stack_rules.VPC, {"id": "vpc-1", "arn": "arn:aws:ec2:eu-west-2:1:vpc/vpc-1"})
    fl = policy_resource(stack_rules.FLOW_LOG, {"vpcId": "vpc-1", "trafficType": "ALL"})
    assert run_stack_policy(stack_rules.vpc_flowlogs_coverage, [vpc, fl]) == []
    found = run_stack_policy(stack_rules.vpc_flowlogs_coverage, [vpc])
    assert len(found) == 1 and "vpc-1" in found[0][0] and found[0][1] == vpc.urn
    other = policy_resource(stack_rules.FLOW_LOG, {"vpcId": "vpc-2"})
    assert len(run_stack_policy(stack_rules.vpc_flowlogs_coverage, [vpc, other])) == 1


def test_vpc_flow_log_unknown_link_passes() -> None:
    vpc = policy_resource(stack_rules.VPC, {"id": "vpc-1"})
    fl = policy_resource(stack_rules.FLOW_LOG, {"vpcId": UNKNOWN_STRING_VALUE})
    assert run_stack_policy(stack_rules.vpc_flowlogs_coverage, [vpc, fl]) == []


def test_default_sg_coverage() -> None:
    vpc = policy_resource(stack_rules.VPC, {"arn": "arn:aws:ec2:eu-west-2:1:vpc/vpc-9"})
    dsg = policy_resource(stack_rules.DEFAULT_SG, {"vpcId": "vpc-9"})
    assert run_stack_policy(stack_rules.default_sg_coverage, [vpc, dsg]) == []
    found = run_stack_policy(stack_rules.default_sg_coverage, [vpc])
    assert len(found) == 1 and "DefaultSecurityGroup" in found[0][0]


# ob-waf-coverage ----------------------------------------------------------------------------------

STAGE_ARN = "arn:aws:apigateway:eu-west-2::/restapis/abc123/stages/v1"


def test_waf_coverage_stage_and_alb_pass() -> None:
    stage = policy_resource(stack_rules.STAGE, {"arn": STAGE_ARN, "restApi": "abc123", "stageName": "v1"})
    alb = policy_resource(
        stack_rules.LOAD_BALANCER,
        {"arn": "arn:alb", "internal": False, "loadBalancerType": "application"},
        name="alb",
    )
    a1 = policy_resource(stack_rules.WEB_ACL_ASSOCIATION, {"resourceArn": STAGE_ARN, "webAclArn": "arn:acl"})
    a2 = policy_resource(
        stack_rules.WEB_ACL_ASSOCIATION, {"resourceArn": "arn:alb", "webAclArn": "arn:acl"}, name="a2"
    )
    assert run_stack_policy(stack_rules.waf_coverage, [stage, alb, a1, a2]) == []


def test_waf_coverage_by_computed_stage_arn() -> None:
    stage = policy_resource(stack_rules.STAGE, {"restApi": "abc123", "stageName": "v1"})
    assoc = policy_resource(stack_rules.WEB_ACL_ASSOCIATION, {"resourceArn": STAGE_ARN})
    assert run_stack_policy(stack_rules.waf_coverage, [stage, assoc]) == []


def test_waf_coverage_missing_fails() -> None:
    stage = policy_resource(stack_rules.STAGE, {"arn": STAGE_ARN, "restApi": "abc123", "stageName": "v1"})
    alb = policy_resource(stack_rules.LOAD_BALANCER, {"arn": "arn:alb"}, name="alb")
    internal = policy_resource(stack_rules.LOAD_BALANCER, {"arn": "arn:int", "internal": True}, name="int")
    nlb = policy_resource(
        stack_rules.LOAD_BALANCER, {"arn": "arn:nlb", "loadBalancerType": "network"}, name="nlb"
    )
    found = run_stack_policy(stack_rules.waf_coverage, [stage, alb, internal, nlb])
    assert {urn for _, urn in found} == {stage.urn, alb.urn}
    assert any(STAGE_ARN in m for m, _ in found)


def test_waf_coverage_unknown_association_passes() -> None:
    stage = policy_resource(stack_rules.STAGE, {"arn": STAGE_ARN})
    assoc = policy_resource(stack_rules.WEB_ACL_ASSOCIATION, {"resourceArn": UNKNOWN_STRING_VALUE})
    assert run_stack_policy(stack_rules.waf_coverage, [stage, assoc]) == []


# ob-waf-logging-coverage --------------------------------------------------------------------------

ACL_ARN = "arn:aws:wafv2:eu-west-2:111111111111:regional/webacl/api-acl/0f1e2d3c"


def _acl(arn: str = ACL_ARN, name: str = "api-acl") -> PolicyResource:
    return policy_resource(stack_rules.WEB_ACL, {"arn": arn, "id": arn.rsplit("/", 1)[-1], "scope": "REGIONAL"},
                           name=name)


def _acl_logging(resource_arn: str, name: str = "api-acl-logging") -> PolicyResource:
    return policy_resource(
        stack_rules.WEB_ACL_LOGGING,
        {"resourceArn": resource_arn,
         "logDestinationConfigs": ["arn:aws:logs:eu-west-2:111111111111:log-group:aws-waf-logs-api"]},
        name=name,
    )


def test_waf_logging_coverage_passes_when_resource_arn_matches() -> None:
    assert run_stack_policy(stack_rules.waf_logging_coverage, [_acl(), _acl_logging(ACL_ARN)]) == []


def test_waf_logging_coverage_fails_without_or_with_mismatched_config() -> None:
    acl = _acl()
    for stack in ([acl], [acl, _acl_logging(ACL_ARN.replace("api-acl", "other-acl"))]):
        found = run_stack_policy(stack_rules.waf_logging_coverage, stack)
        assert len(found) == 1
        message, urn = found[0]
        assert urn == acl.urn
        assert "WebAclLoggingConfiguration" in message and ACL_ARN in message


def test_waf_logging_coverage_each_acl_needs_its_own_config() -> None:
    other_arn = ACL_ARN.replace("api-acl", "edge-acl")
    api, edge = _acl(), _acl(other_arn, name="edge-acl")
    found = run_stack_policy(stack_rules.waf_logging_coverage, [api, edge, _acl_logging(ACL_ARN)])
    assert [urn for _, urn in found] == [edge.urn]


def test_waf_logging_coverage_unknowns_never_fail() -> None:
    # the config's resourceArn is unknown on a first preview: it may still be this ACL's
    unknown_config = _acl_logging(UNKNOWN_STRING_VALUE)
    assert run_stack_policy(stack_rules.waf_logging_coverage, [_acl(), unknown_config]) == []
    # the ACL's own arn is unknown: nothing to link by yet
    assert run_stack_policy(stack_rules.waf_logging_coverage, [_acl(UNKNOWN_STRING_VALUE)]) == []


def test_waf_logging_coverage_metadata() -> None:
    meta = METADATA["ob-waf-logging-coverage"]
    assert meta.kind == "stack" and meta.severity.value == "medium"
    assert stack_rules.waf_logging_coverage in stack_rules.POLICIES


# ob-nfw-logging-coverage --------------------------------------------------------------------------


def _nfw_logging(arn: str, *types: str) -> PolicyResource:
    return policy_resource(
        stack_rules.NFW_LOGGING,
        {
            "firewallArn": arn,
            "loggingConfiguration": {
                "logDestinationConfigs": [{"logType": t, "logDestinationType": "S3"} for t in types]
            },
        },
        name="nfwlog",
    )


def test_nfw_logging_coverage() -> None:
    fw = policy_resource(stack_rules.FIREWALL, {"arn": "arn:fw"})
    assert (
        run_stack_policy(stack_rules.nfw_logging_coverage, [fw, _nfw_logging("arn:fw", "ALERT", "FLOW")])
        == []
    )
    found = run_stack_policy(stack_rules.nfw_logging_coverage, [fw])
    assert len(found) == 1 and "no LoggingConfiguration" in found[0][0]
    found = run_stack_policy(stack_rules.nfw_logging_coverage, [fw, _nfw_logging("arn:fw", "ALERT")])
    assert len(found) == 1 and "missing FLOW" in found[0][0]
    unknown = _nfw_logging(UNKNOWN_STRING_VALUE, "ALERT", "FLOW")
    assert run_stack_policy(stack_rules.nfw_logging_coverage, [fw, unknown]) == []


# ob-explicit-provider -----------------------------------------------------------------------------


def test_explicit_provider() -> None:
    ok = policy_resource("aws:ec2/vpc:Vpc", {"id": "vpc-1"})
    assert run_stack_policy(stack_rules.explicit_provider, [ok]) == []
    default = policy_resource(
        "aws:ec2/vpc:Vpc",
        {},
        name="d",
        provider_urn="urn:pulumi:test::lz::pulumi:providers:aws::default_7_51_1",
    )
    missing = policy_resource("aws:s3/bucket:Bucket", {}, name="m", provider_urn=None)
    other = policy_resource("random:index/randomId:RandomId", {}, name="r", provider_urn=None)
    found = run_stack_policy(stack_rules.explicit_provider, [ok, default, missing, other])
    assert {urn for _, urn in found} == {default.urn, missing.urn}
    assert any("default_7_51_1" in m for m, _ in found)


# ob-protect-stateful ------------------------------------------------------------------------------


def test_protect_stateful_in_prod() -> None:
    table = policy_resource("aws:dynamodb/table:Table", {"name": "consents"}, name="t")
    protected = policy_resource("aws:kms/key:Key", {}, name="k", protect=True)
    vpc = policy_resource("aws:ec2/vpc:Vpc", {}, name="v")
    found = run_stack_policy(stack_rules.protect_stateful, [table, protected, vpc], stack_tags=PROD)
    assert len(found) == 1 and found[0][1] == table.urn and "opts.protect false" in found[0][0]


@pytest.mark.parametrize("typ", ["aws:rds/instance:Instance", "aws:msk/cluster:Cluster",
                                 "aws:msk/serverlessCluster:ServerlessCluster", "aws:mq/broker:Broker"])
def test_protect_stateful_covers_the_workload_data_stores(typ: str) -> None:
    unprotected = policy_resource(typ, {}, name="feed")
    protected = policy_resource(typ, {}, name="feed-protected", protect=True)
    found = run_stack_policy(stack_rules.protect_stateful, [unprotected, protected], stack_tags=PROD)
    assert [urn for _, urn in found] == [unprotected.urn]


def test_protect_stateful_not_in_nonprod() -> None:
    table = policy_resource("aws:dynamodb/table:Table", {"name": "consents"})
    assert run_stack_policy(stack_rules.protect_stateful, [table], stack_tags=NONPROD) == []
    assert run_stack_policy(stack_rules.protect_stateful, [table]) == []


# ob-route53-zone-logging --------------------------------------------------------------------------


def test_route53_public_zone_covered() -> None:
    zone = policy_resource(stack_rules.ZONE, {"zoneId": "Z1", "name": "bank.example"})
    ql = policy_resource(stack_rules.QUERY_LOG, {"zoneId": "Z1"}, name="ql")
    ds = policy_resource(stack_rules.DNSSEC, {"hostedZoneId": "Z1"}, name="ds")
    assert run_stack_policy(stack_rules.route53_zone_logging, [zone, ql, ds]) == []


def test_route53_public_zone_uncovered_fails_private_ignored() -> None:
    zone = policy_resource(stack_rules.ZONE, {"zoneId": "Z1", "name": "bank.example"})
    private = policy_resource(stack_rules.ZONE, {"zoneId": "Z2", "vpcs": [{"vpcId": "vpc-1"}]}, name="p")
    found = run_stack_policy(stack_rules.route53_zone_logging, [zone, private])
    assert len(found) == 2 and all(urn == zone.urn for _, urn in found)
    assert any("QueryLog" in m for m, _ in found) and any("HostedZoneDnsSec" in m for m, _ in found)


def test_route53_unknown_zone_link_passes() -> None:
    zone = policy_resource(stack_rules.ZONE, {"zoneId": "Z1"})
    ql = policy_resource(stack_rules.QUERY_LOG, {"zoneId": UNKNOWN_STRING_VALUE}, name="ql")
    ds = policy_resource(stack_rules.DNSSEC, {"hostedZoneId": UNKNOWN_STRING_VALUE}, name="ds")
    assert run_stack_policy(stack_rules.route53_zone_logging, [zone, ql, ds]) == []


# ob-securityhub -----------------------------------------------------------------------------------

FSBP_ARN = "arn:aws:securityhub:eu-west-2::standards/aws-foundational-security-best-practices/v/1.0.0"
CIS_ARN = "arn:aws:securityhub:eu-west-2::standards/cis-aws-foundations-benchmark/v/5.0.0"


def test_securityhub_not_applicable_without_account() -> None:
    assert run_stack_policy(stack_rules.securityhub, [policy_resource("aws:ec2/vpc:Vpc", {})]) == []


def test_securityhub_with_both_standards_passes() -> None:
    rs = [
        policy_resource(stack_rules.SECURITYHUB_ACCOUNT, {}, name="hub"),
        policy_resource(stack_rules.STANDARDS_SUBSCRIPTION, {"standardsArn": FSBP_ARN}, name="fsbp"),
        policy_resource(stack_rules.STANDARDS_SUBSCRIPTION, {"standardsArn": CIS_ARN}, name="cis"),
    ]
    assert run_stack_policy(stack_rules.securityhub, rs) == []


def test_securityhub_missing_cis_fails() -> None:
    rs = [
        policy_resource(stack_rules.SECURITYHUB_ACCOUNT, {}, name="hub"),
        policy_resource(stack_rules.STANDARDS_SUBSCRIPTION, {"standardsArn": FSBP_ARN}, name="fsbp"),
    ]
    found = run_stack_policy(stack_rules.securityhub, rs)
    assert len(found) == 1 and "cis-aws-foundations-benchmark" in found[0][0]
    assert found[0][1] == rs[0].urn


def test_securityhub_unknown_arn_passes() -> None:
    rs = [
        policy_resource(stack_rules.SECURITYHUB_ACCOUNT, {}, name="hub"),
        policy_resource(stack_rules.STANDARDS_SUBSCRIPTION, {"standardsArn": UNKNOWN_STRING_VALUE}, name="s"),
    ]
    assert run_stack_policy(stack_rules.securityhub, rs) == []


# ob-cloudfront-logging-coverage -----------------------------------------------------------------------

DIST_ARN = "arn:aws:cloudfront::111111111111:distribution/E2EXAMPLE"


def _distribution(**props: object) -> PolicyResource:
    return policy_resource(stack_rules.DISTRIBUTION, {"arn": DIST_ARN, **props}, name="api-perimeter")


def _delivery_source(resource_arn: object = DIST_ARN, log_type: str = "ACCESS_LOGS") -> PolicyResource:
    return policy_resource(stack_rules.LOG_DELIVERY_SOURCE,
                           {"name": "api-perimeter", "logType": log_type, "resourceArn": resource_arn},
                           name="api-perimeter-source")


def _delivery(source_name: object = "api-perimeter") -> PolicyResource:
    return policy_resource(stack_rules.LOG_DELIVERY, {"deliverySourceName": source_name,
                                                      "deliveryDestinationArn": "arn:aws:logs:us-east-1:1:x"},
                           name="api-perimeter-delivery")


def test_cloudfront_logging_coverage_accepts_legacy_logging_or_v2_delivery() -> None:
    legacy = _distribution(loggingConfig={"bucket": "logs.s3.amazonaws.com"})
    assert run_stack_policy(stack_rules.cloudfront_logging_coverage, [legacy]) == []
    stack = [_distribution(), _delivery_source(), _delivery()]
    assert run_stack_policy(stack_rules.cloudfront_logging_coverage, stack) == []


def test_cloudfront_logging_coverage_fails_without_a_delivery_for_this_distribution() -> None:
    distribution = _distribution()
    cases = {
        "neither loggingConfig nor": [distribution],
        "neither loggingConfig nor ": [distribution, _delivery_source(DIST_ARN + "OTHER"), _delivery()],
        "no LogDelivery from it": [distribution, _delivery_source(), _delivery("another-source")],
    }
    for expected, stack in cases.items():
        found = run_stack_policy(stack_rules.cloudfront_logging_coverage, stack)
        assert len(found) == 1, stack
        message, urn = found[0]
        assert urn == distribution.urn and expected.strip() in message and DIST_ARN in message
    # a delivery source of another log type delivers no access logs
    found = run_stack_policy(stack_rules.cloudfront_logging_coverage,
                             [distribution, _delivery_source(log_type="CONNECTION_LOGS"), _delivery()])
    assert len(found) == 1


def test_cloudfront_logging_coverage_unknowns_never_fail() -> None:
    stack = [_distribution(), _delivery_source(UNKNOWN_STRING_VALUE), _delivery()]
    assert run_stack_policy(stack_rules.cloudfront_logging_coverage, stack) == []
    stack = [_distribution(), _delivery_source(), _delivery(UNKNOWN_STRING_VALUE)]
    assert run_stack_policy(stack_rules.cloudfront_logging_coverage, stack) == []
