"""Tests for the API edge rules (API Gateway, Lambda exposure, CloudFront, WAF)."""

from __future__ import annotations

import json

from openbanking_policies import METADATA, api_edge
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import run_resource_policy

DOMAIN = api_edge.DOMAIN_NAME
GOOD_DOMAIN = {
    "domainName": "api.bank.example",
    "endpointConfiguration": {"types": "REGIONAL"},
    "securityPolicy": "TLS_1_2",
    "mutualTlsAuthentication": {"truststoreUri": "s3://trust/ca.pem", "truststoreVersion": "v1"},
}


# ob-apigw-mtls ------------------------------------------------------------------------------------


def test_mtls_domain_passes() -> None:
    assert run_resource_policy(api_edge.apigw_mtls, DOMAIN, GOOD_DOMAIN) == []
    as_list = {**GOOD_DOMAIN, "endpointConfiguration": [{"types": ["REGIONAL"]}]}
    assert run_resource_policy(api_edge.apigw_mtls, DOMAIN, as_list) == []


def test_mtls_missing_fails() -> None:
    props = {k: v for k, v in GOOD_DOMAIN.items() if k != "mutualTlsAuthentication"}
    msgs = run_resource_policy(api_edge.apigw_mtls, DOMAIN, props)
    assert len(msgs) == 1 and "mutualTlsAuthentication is absent" in msgs[0]


def test_mtls_edge_endpoint_fails() -> None:
    props = {**GOOD_DOMAIN, "endpointConfiguration": {"types": ["EDGE"]}}
    msgs = run_resource_policy(api_edge.apigw_mtls, DOMAIN, props)
    assert msgs == ["endpointConfiguration.types is [\"EDGE\"]; mTLS custom domains must be ['REGIONAL']."]
    absent = {k: v for k, v in GOOD_DOMAIN.items() if k != "endpointConfiguration"}
    assert "absent (EDGE)" in run_resource_policy(api_edge.apigw_mtls, DOMAIN, absent)[0]


def test_mtls_unknown_truststore_passes() -> None:
    props = {
        **GOOD_DOMAIN,
        "mutualTlsAuthentication": {
            "truststoreUri": UNKNOWN_STRING_VALUE,
            "truststoreVersion": UNKNOWN_STRING_VALUE,
        },
    }
    assert run_resource_policy(api_edge.apigw_mtls, DOMAIN, props) == []


def test_mtls_unpinned_truststore_fails() -> None:
    props = {**GOOD_DOMAIN, "mutualTlsAuthentication": {"truststoreUri": "s3://trust/ca.pem"}}
    msgs = run_resource_policy(api_edge.apigw_mtls, DOMAIN, props)
    assert len(msgs) == 1 and "truststoreVersion is absent" in msgs[0]


def test_fapi_policies_are_not_downgradable() -> None:
    for name in ("ob-apigw-mtls", "ob-apigw-no-default-endpoint", "ob-lambda-not-public"):
        assert METADATA[name].nonprod_may_downgrade is False
    assert METADATA["ob-apigw-mtls"].frameworks[0].name == "FAPI"


# ob-apigw-no-default-endpoint ---------------------------------------------------------------------


def test_default_endpoint_disabled_passes() -> None:
    props = {"name": "ob", "disableExecuteApiEndpoint": True}
    assert run_resource_policy(api_edge.apigw_no_default_endpoint, api_edge.REST_API, props) == []


def test_default_endpoint_enabled_fails() -> None:
    msgs = run_resource_policy(api_edge.apigw_no_default_endpoint, api_edge.REST_API, {"name": "ob"})
    assert len(msgs) == 1 and "disableExecuteApiEndpoint is absent" in msgs[0]
    msgs = run_resource_policy(
        api_edge.apigw_no_default_endpoint, api_edge.HTTP_API, {"disableExecuteApiEndpoint": False}
    )
    assert len(msgs) == 1 and "is false" in msgs[0]


# ob-lambda-not-public -----------------------------------------------------------------------------

PERM = api_edge.LAMBDA_PERMISSION


def test_lambda_permission_scoped_passes() -> None:
    props = {
        "action": "lambda:InvokeFunction",
        "principal": "apigateway.amazonaws.com",
        "sourceArn": "arn:aws:execute-api:eu-west-2:1:abc/*/*",
    }
    assert run_resource_policy(api_edge.lambda_not_public, PERM, props) == []
    account = {"principal": "123456789012"}
    assert run_resource_policy(api_edge.lambda_not_public, PERM, account) == []


def test_lambda_permission_source_unknown_passes() -> None:
    props = {"principal": "apigateway.amazonaws.com", "sourceArn": UNKNOWN_STRING_VALUE}
    assert run_resource_policy(api_edge.lambda_not_public, PERM, props) == []


def test_lambda_permission_star_fails() -> None:
    msgs = run_resource_policy(api_edge.lambda_not_public, PERM, {"principal": "*"})
    assert len(msgs) == 1 and "principal is '*'" in msgs[0]


def test_lambda_permission_unscoped_service_fails() -> None:
    msgs = run_resource_policy(api_edge.lambda_not_public, PERM, {"principal": "s3.amazonaws.com"})
    assert len(msgs) == 1 and "sourceArn and sourceAccount absent" in msgs[0]


def test_function_url_auth() -> None:
    t = api_edge.FUNCTION_URL
    assert run_resource_policy(api_edge.lambda_not_public, t, {"authorizationType": "AWS_IAM"}) == []
    msgs = run_resource_policy(api_edge.lambda_not_public, t, {"authorizationType": "NONE"})
    assert len(msgs) == 1 and "authorizationType is 'NONE'" in msgs[0]


# ob-apigw-tls -------------------------------------------------------------------------------------


def test_apigw_tls_accepted_policies() -> None:
    for policy in (
        "TLS_1_2",
        "SecurityPolicy_TLS13_1_3_2025_09",
        "SecurityPolicy_TLS12_PFS_2025_EDGE",
        "SecurityPolicy_TLS13_1_2_2021_06",
    ):
        assert run_resource_policy(api_edge.apigw_tls, DOMAIN, {"securityPolicy": policy}) == [], policy


def test_apigw_tls_old_or_absent_fails() -> None:
    msgs = run_resource_policy(api_edge.apigw_tls, DOMAIN, {"securityPolicy": "TLS_1_0"})
    assert len(msgs) == 1 and "securityPolicy is 'TLS_1_0'" in msgs[0]
    msgs = run_resource_policy(api_edge.apigw_tls, DOMAIN, {})
    assert len(msgs) == 1 and "TLS_1_0 default" in msgs[0]


# ob-waf-attached ----------------------------------------------------------------------------------

DIST = api_edge.DISTRIBUTION


def test_cloudfront_waf_attached() -> None:
    assert run_resource_policy(api_edge.waf_attached, DIST, {"webAclId": "arn:aws:wafv2:acl"}) == []
    assert run_resource_policy(api_edge.waf_attached, DIST, {"webAclId": UNKNOWN_STRING_VALUE}) == []
    msgs = run_resource_policy(api_edge.waf_attached, DIST, {"enabled": True})
    assert len(msgs) == 1 and "webAclId is absent" in msgs[0]


# ob-cloudfront ------------------------------------------------------------------------------------

GOOD_DIST = {
    "defaultCacheBehavior": {"viewerProtocolPolicy": "redirect-to-https", "targetOriginId": "api"},
    "orderedCacheBehaviors": [{"viewerProtocolPolicy": "https-only", "pathPattern": "/static/*"}],
    "viewerCertificate": {
        "acmCertificateArn": "arn:acm",
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    },
    "loggingConfig": {"bucket": "logs.s3.amazonaws.com"},
    "origins": [
        {
            "originId": "api",
            "domainName": "api.bank.example",
            "customOriginConfig": {
                "originProtocolPolicy": "https-only",
                "originSslProtocols": ["TLSv1.2"],
                "httpPort": 80.0,
                "httpsPort": 443.0,
            },
        },
        {
            "originId": "static",
            "domainName": "b.s3.eu-west-2.amazonaws.com",
            "originAccessControlId": "oac-1",
        },
    ],
    "webAclId": "arn:aws:wafv2:acl",
}


def test_cloudfront_good_passes() -> None:
    assert run_resource_policy(api_edge.cloudfront, DIST, GOOD_DIST) == []


def test_cloudfront_insecure_fails() -> None:
    props = {
        "defaultCacheBehavior": {"viewerProtocolPolicy": "allow-all"},
        "viewerCertificate": {"cloudfrontDefaultCertificate": True},
        "origins": [
            {
                "domainName": "api.bank.example",
                "customOriginConfig": {
                    "originProtocolPolicy": "http-only",
                    "originSslProtocols": ["TLSv1", "TLSv1.2"],
                },
            },
            {"domainName": "b.s3.eu-west-2.amazonaws.com", "s3OriginConfig": {"originAccessIdentity": ""}},
        ],
    }
    msgs = run_resource_policy(api_edge.cloudfront, DIST, props)
    joined = "\n".join(msgs)
    assert "defaultCacheBehavior.viewerProtocolPolicy is 'allow-all'" in joined
    assert "cloudfrontDefaultCertificate is true" in joined
    assert "originProtocolPolicy is 'http-only'" in joined
    assert 'originSslProtocols is ["TLSv1", "TLSv1.2"]' in joined
    assert "origins[1].originAccessControlId is absent" in joined
    assert len(msgs) == 5  # access logging is ob-cloudfront-logging-coverage's (a stack policy)


def test_cloudfront_old_min_tls_fails() -> None:
    props = {
        **GOOD_DIST,
        "viewerCertificate": {"acmCertificateArn": "arn:acm", "sslSupportMethod": "sni-only"},
    }
    msgs = run_resource_policy(api_edge.cloudfront, DIST, props)
    assert len(msgs) == 1 and "minimumProtocolVersion is absent (TLSv1 default)" in msgs[0]


# ob-apigw-stage-logs ------------------------------------------------------------------------------


def test_stage_logging_passes() -> None:
    props = {
        "accessLogSettings": {"destinationArn": "arn:aws:logs:eu-west-2:1:log-group:api", "format": "{}"},
        "xrayTracingEnabled": True,
    }
    assert run_resource_policy(api_edge.apigw_stage_logs, api_edge.STAGE, props) == []


def test_stage_logging_missing_fails() -> None:
    msgs = run_resource_policy(api_edge.apigw_stage_logs, api_edge.STAGE, {"stageName": "v1"})
    assert len(msgs) == 2
    assert any("accessLogSettings.destinationArn is absent" in m for m in msgs)
    assert any("xrayTracingEnabled is absent" in m for m in msgs)


def test_stage_unknown_destination_passes() -> None:
    props = {"accessLogSettings": {"destinationArn": UNKNOWN_STRING_VALUE}, "xrayTracingEnabled": True}
    assert run_resource_policy(api_edge.apigw_stage_logs, api_edge.STAGE, props) == []


def test_method_settings() -> None:
    t = api_edge.METHOD_SETTINGS
    good = {
        "methodPath": "*/*",
        "settings": {
            "loggingLevel": "INFO",
            "metricsEnabled": True,
            "dataTraceEnabled": False,
            "cachingEnabled": True,
            "cacheDataEncrypted": True,
        },
    }
    assert run_resource_policy(api_edge.apigw_stage_logs, t, good) == []
    bad = {
        "methodPath": "*/*",
        "settings": {"loggingLevel": "OFF", "dataTraceEnabled": True, "cachingEnabled": True},
    }
    msgs = run_resource_policy(api_edge.apigw_stage_logs, t, bad)
    joined = "\n".join(msgs)
    assert "settings.loggingLevel is 'OFF'" in joined
    assert "settings.metricsEnabled is absent" in joined
    assert "settings.dataTraceEnabled is true" in joined
    assert "settings.cacheDataEncrypted is absent" in joined
    assert len(msgs) == 4


# ob-waf-config ------------------------------------------------------------------------------------


def _managed_rule(name: str) -> dict:
    return {
        "name": name,
        "priority": 1.0,
        "overrideAction": {"none": {}},
        "statement": {"managedRuleGroupStatement": {"vendorName": "AWS", "name": name}},
    }


def test_waf_rules_objects_pass() -> None:
    props = {
        "rules": [
            _managed_rule("AWSManagedRulesCommonRuleSet"),
            _managed_rule("AWSManagedRulesKnownBadInputsRuleSet"),
        ]
    }
    assert run_resource_policy(api_edge.waf_config, api_edge.WEB_ACL, props) == []


def test_waf_rule_json_passes() -> None:
    rule_json = json.dumps(
        [
            {
                "Name": "kbi",
                "Priority": 1,
                "OverrideAction": {"None": {}},
                "Statement": {
                    "ManagedRuleGroupStatement": {
                        "VendorName": "AWS",
                        "Name": "AWSManagedRulesKnownBadInputsRuleSet",
                    }
                },
            }
        ]
    )
    assert run_resource_policy(api_edge.waf_config, api_edge.WEB_ACL, {"ruleJson": rule_json}) == []
    assert (
        run_resource_policy(api_edge.waf_config, api_edge.WEB_ACL, {"ruleJson": UNKNOWN_STRING_VALUE}) == []
    )


def test_waf_no_rules_fails() -> None:
    msgs = run_resource_policy(api_edge.waf_config, api_edge.WEB_ACL, {"rules": []})
    assert len(msgs) == 1 and "rules is empty" in msgs[0]


def test_waf_without_known_bad_inputs_fails() -> None:
    props = {"rules": [_managed_rule("AWSManagedRulesCommonRuleSet")]}
    msgs = run_resource_policy(api_edge.waf_config, api_edge.WEB_ACL, props)
    assert len(msgs) == 1 and "AWSManagedRulesCommonRuleSet" in msgs[0]
