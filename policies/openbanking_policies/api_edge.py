"""API edge rules: API Gateway (FAPI mTLS, TLS, logging), Lambda exposure, CloudFront and WAF."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, Severity

from ._base import resource_policy
from ._props import (
    PLAIN,
    UNKNOWN,
    ci_get,
    contains_unknown,
    get,
    has,
    is_true,
    is_unknown,
    items,
    parse_json,
    plain,
)

DOMAIN_NAME = "aws:apigateway/domainName:DomainName"
REST_API = "aws:apigateway/restApi:RestApi"
HTTP_API = "aws:apigatewayv2/api:Api"
STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"

FAPI_MTLS = ("FAPI", "2.0 Security Profile: sender-constrained tokens and client auth via MTLS (RFC 8705)")
FAPI_TLS = ("FAPI", "2.0 Security Profile: TLS 1.2+ per BCP195")


# ------------------------------------------------------------------------------------------------
# ob-apigw-mtls
# ------------------------------------------------------------------------------------------------


def _check_apigw_mtls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    mtls = get(props, "mutualTlsAuthentication")
    if mtls is None:
        report("mutualTlsAuthentication is absent; FAPI 2.0 requires mTLS with a truststoreUri and "
               "truststoreVersion.", None)
    elif not is_unknown(mtls):
        PLAIN.require_set(report, mtls, "truststoreUri", why=" (s3:// URI of the client CA bundle)")
        if not has(mtls, "truststoreVersion"):
            report("mutualTlsAuthentication.truststoreVersion is absent; pin the S3 object version of the "
                   "truststore.", None)
    types = get(props, "endpointConfiguration", "types")
    if is_unknown(types):
        return
    type_list = items(types)
    if any(is_unknown(t) for t in type_list):
        return
    if type_list != ["REGIONAL"]:
        shown = PLAIN.show(type_list) if type_list else "absent (EDGE)"
        report(f"endpointConfiguration.types is {shown}; mTLS custom domains must be ['REGIONAL'].", None)


apigw_mtls = resource_policy(
    name="ob-apigw-mtls",
    description="API Gateway custom domains must be REGIONAL and enforce mutual TLS with a pinned "
                "truststore.",
    severity=Severity.CRITICAL,
    frameworks=[FAPI_MTLS, ("AWS", "API Gateway mutual TLS guide")],
    resource_types=[DOMAIN_NAME],
    remediation="On aws.apigateway.DomainName set endpoint_configuration={'types': 'REGIONAL'}, "
                "regional_certificate_arn=cert.arn and mutual_tls_authentication={'truststore_uri': "
                "'s3://bucket/truststore.pem', 'truststore_version': truststore_object.version_id}.",
    check=_check_apigw_mtls,
    nonprod_may_downgrade=False,
)


# ------------------------------------------------------------------------------------------------
# ob-apigw-no-default-endpoint
# ------------------------------------------------------------------------------------------------


def _check_no_default_endpoint(args: ResourceValidationArgs, report: ReportViolation) -> None:
    PLAIN.require_true(report, args.props, "disableExecuteApiEndpoint",
                       why=", otherwise clients can bypass mTLS through the default execute-api endpoint")


apigw_no_default_endpoint = resource_policy(
    name="ob-apigw-no-default-endpoint",
    description="APIs must disable the default execute-api endpoint so mTLS on the custom domain cannot "
                "be bypassed.",
    severity=Severity.CRITICAL,
    frameworks=[("AWS", "API Gateway mutual TLS guide"), FAPI_MTLS],
    resource_types=[REST_API, HTTP_API],
    remediation="Set disable_execute_api_endpoint=True on aws.apigateway.RestApi (and aws.apigatewayv2.Api) "
                "and publish the API only through the mTLS custom domain's BasePathMapping.",
    check=_check_no_default_endpoint,
    nonprod_may_downgrade=False,
)


# ------------------------------------------------------------------------------------------------
# ob-lambda-not-public
# ------------------------------------------------------------------------------------------------


def _check_lambda_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == FUNCTION_URL:
        auth = get(props, "authorizationType")
        if not is_unknown(auth) and auth != "AWS_IAM":
            report(f"authorizationType is {PLAIN.show(auth)}; function URLs must use 'AWS_IAM', never 'NONE'.",
                   None)
        return
    principal = get(props, "principal")
    if is_unknown(principal):
        return
    if principal is None or (isinstance(principal, str) and principal.strip() == "*"):
        report(f"principal is {PLAIN.show(principal)}; a Lambda permission must name a specific service or "
               "account principal.", None)
    elif (isinstance(principal, str) and principal.endswith(".amazonaws.com")
          and not has(props, "sourceArn") and not has(props, "sourceAccount")):
        report(f"principal is {principal!r} with sourceArn and sourceAccount absent; any account's "
               f"{principal} resource could invoke the function (confused deputy).", None)
    url_auth = get(props, "functionUrlAuthType")
    if url_auth == "NONE":
        report("functionUrlAuthType is 'NONE'; function URL permissions must use AWS_IAM.", None)


lambda_not_public = resource_policy(
    name="ob-lambda-not-public",
    description="Lambda functions must not be invocable by everyone: no '*' principal, service principals "
                "scoped by source, and IAM-authenticated function URLs.",
    severity=Severity.CRITICAL,
    frameworks=[("FSBP", "Lambda.1"), ("Checkov", "CKV_AWS_301"), ("Checkov", "CKV_AWS_258"),
                ("Trivy", "AVD-AWS-0067")],
    resource_types=[LAMBDA_PERMISSION, FUNCTION_URL],
    remediation="On aws.lambda_.Permission use principal='apigateway.amazonaws.com' (or an account ARN) and "
                "set source_arn=api.execution_arn.apply(lambda a: f'{a}/*/*') or source_account; on "
                "aws.lambda_.FunctionUrl set authorization_type='AWS_IAM'.",
    check=_check_lambda_not_public,
    nonprod_may_downgrade=False,
)


# ------------------------------------------------------------------------------------------------
# ob-apigw-tls
# ------------------------------------------------------------------------------------------------

_TLS_POLICY = re.compile(r"^(TLS_1_2|SecurityPolicy_TLS1[23]_[A-Za-z0-9_]+)$")


def _check_apigw_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    policy = get(args.props, "securityPolicy")
    if is_unknown(policy):
        return
    if not (isinstance(policy, str) and _TLS_POLICY.match(policy)):
        shown = PLAIN.show(policy, "TLS_1_0 default")
        report(f"securityPolicy is {shown}; it must be 'TLS_1_2' or an enhanced "
               "'SecurityPolicy_TLS13_*'/'SecurityPolicy_TLS12_*' policy.", None)


apigw_tls = resource_policy(
    name="ob-apigw-tls",
    description="API Gateway custom domains must require TLS 1.2 or later.",
    severity=Severity.HIGH,
    frameworks=[("Checkov", "CKV_AWS_206"), ("Trivy", "AVD-AWS-0005"), FAPI_TLS],
    resource_types=[DOMAIN_NAME],
    remediation="Set security_policy='TLS_1_2' (or e.g. 'SecurityPolicy_TLS13_1_2_2021_06') on "
                "aws.apigateway.DomainName.",
    check=_check_apigw_tls,
)


# ------------------------------------------------------------------------------------------------
# ob-waf-attached (resource part: CloudFront)
# ------------------------------------------------------------------------------------------------


def _check_cloudfront_waf(args: ResourceValidationArgs, report: ReportViolation) -> None:
    PLAIN.require_set(report, args.props, "webAclId", why=" to a WAFv2 web ACL ARN (scope CLOUDFRONT)")


waf_attached = resource_policy(
    name="ob-waf-attached",
    description="CloudFront distributions must be protected by a WAFv2 web ACL.",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "CloudFront.6"), ("Checkov", "CKV2_AWS_47"), ("FSBP", "APIGateway.4"),
                ("FSBP", "ELB.16")],
    resource_types=[DISTRIBUTION],
    remediation="Set web_acl_id=cloudfront_acl.arn on aws.cloudfront.Distribution (the web ACL must have "
                "scope='CLOUDFRONT' and live in us-east-1). Stages and ALBs are covered by ob-waf-coverage.",
    check=_check_cloudfront_waf,
)


# ------------------------------------------------------------------------------------------------
# ob-cloudfront
# ------------------------------------------------------------------------------------------------

_VIEWER_OK = frozenset({"https-only", "redirect-to-https"})
_CF_MIN_TLS = re.compile(r"^TLSv1\.2_\d{4}$")


def _check_behavior(report: ReportViolation, behavior: Any, where: str) -> None:
    if is_unknown(behavior):
        return
    vpp = get(behavior, "viewerProtocolPolicy")
    if not is_unknown(vpp) and vpp not in _VIEWER_OK:
        report(f"{where}.viewerProtocolPolicy is {PLAIN.show(vpp)}; it must be 'https-only' or "
               "'redirect-to-https'.", None)


def _is_s3_origin(origin: Any) -> bool:
    if get(origin, "s3OriginConfig") is not None:
        return True
    domain = get(origin, "domainName")
    return (get(origin, "customOriginConfig") is None and isinstance(domain, str)
            and ".s3." in domain and domain.endswith(".amazonaws.com"))


def _check_cloudfront(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    _check_behavior(report, get(props, "defaultCacheBehavior"), "defaultCacheBehavior")
    for i, b in enumerate(items(get(props, "orderedCacheBehaviors"))):
        _check_behavior(report, b, f"orderedCacheBehaviors[{i}]")

    cert = get(props, "viewerCertificate")
    if not is_unknown(cert):
        if cert is None or is_true(get(cert, "cloudfrontDefaultCertificate")):
            report("viewerCertificate.cloudfrontDefaultCertificate is true; use an ACM certificate so the "
                   "minimum protocol can be TLSv1.2.", None)
        else:
            min_tls = get(cert, "minimumProtocolVersion")
            if not is_unknown(min_tls) and not (isinstance(min_tls, str) and _CF_MIN_TLS.match(min_tls)):
                shown = PLAIN.show(min_tls, "TLSv1 default")
                report(f"viewerCertificate.minimumProtocolVersion is {shown}; it must be 'TLSv1.2_2021' "
                       "or later.", None)
            ssl_method = get(cert, "sslSupportMethod")
            if ssl_method == "vip":
                report("viewerCertificate.sslSupportMethod is 'vip'; use 'sni-only'.", None)

    for i, origin in enumerate(items(get(props, "origins"))):
        if is_unknown(origin):
            continue
        custom = get(origin, "customOriginConfig")
        if custom is not None and not is_unknown(custom):
            opp = get(custom, "originProtocolPolicy")
            if not is_unknown(opp) and opp != "https-only":
                report(f"origins[{i}].customOriginConfig.originProtocolPolicy is {PLAIN.show(opp)}; it must be "
                       "'https-only'.", None)
            protocols = items(get(custom, "originSslProtocols"))
            if not contains_unknown(plain(protocols)) and protocols != ["TLSv1.2"]:
                report(f"origins[{i}].customOriginConfig.originSslProtocols is {PLAIN.show(protocols)}; it must be "
                       "['TLSv1.2'].", None)
        if _is_s3_origin(origin) and get(origin, "originAccessControlId") is None:
            report(f"origins[{i}].originAccessControlId is absent for S3 origin "
                   f"{PLAIN.show(get(origin, 'domainName'))}; use origin access control.", None)


cloudfront = resource_policy(
    name="ob-cloudfront",
    description="CloudFront distributions must use HTTPS end to end with TLS 1.2, a custom certificate "
                "and origin access control for S3 origins (access logging: ob-cloudfront-logging-coverage).",
    severity=Severity.HIGH,
    frameworks=[("FSBP", "CloudFront.3"), ("FSBP", "CloudFront.5"), ("FSBP", "CloudFront.7"),
                ("FSBP", "CloudFront.8"), ("FSBP", "CloudFront.9"), ("FSBP", "CloudFront.10"),
                ("FSBP", "CloudFront.13"), ("Checkov", "CKV_AWS_34"), ("Checkov", "CKV_AWS_86"),
                ("Checkov", "CKV_AWS_174")],
    resource_types=[DISTRIBUTION],
    remediation="On aws.cloudfront.Distribution set viewer_protocol_policy='redirect-to-https' on every "
                "cache behavior; viewer_certificate={'acm_certificate_arn': cert.arn, 'ssl_support_method': "
                "'sni-only', 'minimum_protocol_version': 'TLSv1.2_2021'}; custom origins "
                "origin_protocol_policy='https-only' with origin_ssl_protocols=['TLSv1.2']; S3 origins "
                "origin_access_control_id=oac.id.",
    check=_check_cloudfront,
)


# ------------------------------------------------------------------------------------------------
# ob-apigw-stage-logs
# ------------------------------------------------------------------------------------------------


def _check_stage_logs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == STAGE:
        PLAIN.require_set(report, props, "accessLogSettings", "destinationArn",
                          why=" to a CloudWatch log group ARN")
        PLAIN.require_true(report, props, "xrayTracingEnabled")
        return
    settings = get(props, "settings")
    if is_unknown(settings):
        return
    level = get(settings, "loggingLevel")
    if not is_unknown(level) and level not in ("INFO", "ERROR"):
        shown = PLAIN.show(level, "OFF")
        report(f"settings.loggingLevel is {shown}; it must be 'INFO' or 'ERROR'.", None)
    PLAIN.require_true(report, props, "settings", "metricsEnabled")
    trace = get(settings, "dataTraceEnabled")
    if is_true(trace):
        report("settings.dataTraceEnabled is true; full request/response logging leaks customer data.", None)
    if is_true(get(settings, "cachingEnabled")):
        PLAIN.require_true(report, props, "settings", "cacheDataEncrypted", why=" when cachingEnabled is true")


apigw_stage_logs = resource_policy(
    name="ob-apigw-stage-logs",
    description="API Gateway stages must have access logging and X-Ray tracing; method settings must log "
                "at INFO/ERROR with metrics, no data tracing and encrypted caches.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "APIGateway.1"), ("FSBP", "APIGateway.3"), ("FSBP", "APIGateway.5"),
                ("Checkov", "CKV_AWS_73"), ("Checkov", "CKV_AWS_76"), ("Checkov", "CKV_AWS_276"),
                ("Checkov", "CKV_AWS_308"), ("Checkov", "CKV2_AWS_4")],
    resource_types=[STAGE, METHOD_SETTINGS],
    remediation="On aws.apigateway.Stage set access_log_settings={'destination_arn': log_group.arn, "
                "'format': ...} and xray_tracing_enabled=True; on aws.apigateway.MethodSettings "
                "(method_path='*/*') set settings={'logging_level': 'INFO', 'metrics_enabled': True, "
                "'data_trace_enabled': False, 'cache_data_encrypted': True}.",
    check=_check_stage_logs,
)


# ------------------------------------------------------------------------------------------------
# ob-waf-config
# ------------------------------------------------------------------------------------------------

KNOWN_BAD_INPUTS = "AWSManagedRulesKnownBadInputsRuleSet"


def _managed_group_names(rule: Any) -> list[Any]:
    statement = ci_get(rule, "statement")
    if isinstance(statement, list):
        statement = statement[0] if statement else None
    managed = ci_get(statement, "managedRuleGroupStatement")
    if isinstance(managed, list):
        managed = managed[0] if managed else None
    name = ci_get(managed, "name")
    return [name] if name is not None else []


def waf_rules(props: Any) -> Any:
    """The web ACL rules as plain dicts, from `rules` or the JSON string `ruleJson`; UNKNOWN if unknown;
    None when neither is set."""
    raw = get(props, "rules")
    if is_unknown(raw):
        return UNKNOWN
    rules = plain(raw) if raw is not None else None
    if not rules:
        rj = get(props, "ruleJson")
        if is_unknown(rj):
            return UNKNOWN
        parsed = parse_json(rj)
        if isinstance(parsed, Mapping):
            parsed = ci_get(parsed, "rules")
        if isinstance(parsed, list):
            rules = parsed
    return rules if isinstance(rules, list) else None


def _check_waf_config(args: ResourceValidationArgs, report: ReportViolation) -> None:
    rules = waf_rules(args.props)
    if is_unknown(rules):
        return
    if not rules:
        report("rules is empty (and ruleJson is absent); a web ACL must contain rules, including the "
               f"AWS managed rule group {KNOWN_BAD_INPUTS}.", None)
        return
    if contains_unknown(rules):
        return
    names = [n for r in rules for n in _managed_group_names(r)]
    if KNOWN_BAD_INPUTS not in names:
        report(f"rules contain the managed rule groups {PLAIN.show(names)}; "
               f"{KNOWN_BAD_INPUTS} (Log4j and known bad inputs) must be one of them.", None)


waf_config = resource_policy(
    name="ob-waf-config",
    description="WAFv2 web ACLs must contain rules, including the AWS managed KnownBadInputs rule group.",
    severity=Severity.MEDIUM,
    frameworks=[("FSBP", "WAF.10"), ("Checkov", "CKV_AWS_175"), ("Checkov", "CKV_AWS_192")],
    resource_types=[WEB_ACL],
    remediation="Add to aws.wafv2.WebAcl rules=[{'name': 'known-bad-inputs', 'priority': 1, "
                "'override_action': {'none': {}}, 'statement': {'managed_rule_group_statement': "
                "{'vendor_name': 'AWS', 'name': 'AWSManagedRulesKnownBadInputsRuleSet'}}, "
                "'visibility_config': {...}}] "
                "(or the same rule in rule_json), and an aws.wafv2.WebAclLoggingConfiguration.",
    check=_check_waf_config,
)


POLICIES: list = [
    apigw_mtls,
    apigw_no_default_endpoint,
    lambda_not_public,
    apigw_tls,
    waf_attached,
    cloudfront,
    apigw_stage_logs,
    waf_config,
]
