"""A WAFv2 web ACL for the Open Banking edge: AWS's managed rule groups (IP reputation, common, known bad inputs),
a rate limit per client IP, and a request-body limit, logged to the log archive's WAF bucket.

The body limit is WAF's to enforce: WAF sees the first 16 KiB of a body on API Gateway and CloudFront, and with
`oversize_handling: MATCH` anything longer matches too, so the limit can be at most 16 KiB. The common rule
group's own 8 KiB body check is set to count, so the configured limit is the one that holds. Refusals the ACL
makes itself (rate, size) answer with `OBErrorResponse1` bodies; the managed groups' blocks reach a TPP as API
Gateway's `WAF_FILTERED` response (regional) or CloudFront's 403 (docs/edge.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

#: WAF inspects at most this much of a body on API Gateway and CloudFront (without a paid increase).
MAX_INSPECTED_BODY_BYTES = 16 * 1024
#: The managed rule groups every Open Banking ACL runs, in priority order.
MANAGED_GROUPS = ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
                  "AWSManagedRulesKnownBadInputsRuleSet")


@dataclass(frozen=True)
class WebAclArgs:
    """One web ACL."""

    #: Physical name, e.g. "prod-api-regional".
    acl_name: str
    #: `REGIONAL` (an API Gateway stage) or `CLOUDFRONT` (a distribution; the ACL then lives in us-east-1).
    scope: Literal["REGIONAL", "CLOUDFRONT"]
    #: Requests one client IP may make in 5 minutes before it is refused (429); None: no rate rule (an ACL behind
    #: CloudFront sees CloudFront's addresses, not the client's).
    rate_limit_per_ip: int | None
    #: Largest request body, in bytes, let through (413 above it); at most 16 KiB.
    max_body_bytes: int
    #: The log archive's WAF bucket (`aws-waf-logs-*`).
    log_bucket_arn: pulumi.Input[str]


def _visibility(metric: str) -> dict[str, Any]:
    return {"CloudWatchMetricsEnabled": True, "MetricName": metric, "SampledRequestsEnabled": True}


def _refusal(status: int, key: str) -> dict[str, Any]:
    return {"Block": {"CustomResponse": {"ResponseCode": status, "CustomResponseBodyKey": key}}}


#: The bodies of the ACL's own refusals (`OBErrorResponse1`).
RESPONSE_BODIES = {
    "too-many-requests": (429, "UK.OBIE.UnexpectedError", "too many requests: retry later"),
    "body-too-large": (413, "UK.OBIE.Field.Invalid", "the request body is too large"),
}


def rules(args: WebAclArgs) -> list[dict[str, Any]]:
    """The ACL's rules, as WAF's JSON (`rule_json`)."""
    result: list[dict[str, Any]] = []
    for priority, group in enumerate(MANAGED_GROUPS):
        statement: dict[str, Any] = {"VendorName": "AWS", "Name": group}
        if group == "AWSManagedRulesCommonRuleSet":
            statement["RuleActionOverrides"] = [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
        result.append({"Name": group, "Priority": priority, "OverrideAction": {"None": {}},
                       "Statement": {"ManagedRuleGroupStatement": statement}, "VisibilityConfig": _visibility(group)})
    if args.rate_limit_per_ip is not None:
        result.append({"Name": "rate-per-client-ip", "Priority": len(result), "Action": _refusal(429, "too-many-requests"),
                       "Statement": {"RateBasedStatement": {"Limit": args.rate_limit_per_ip, "AggregateKeyType": "IP",
                                                            "EvaluationWindowSec": 300}},
                       "VisibilityConfig": _visibility("rate-per-client-ip")})
    result.append({"Name": "body-size", "Priority": len(result), "Action": _refusal(413, "body-too-large"),
                   "Statement": {"SizeConstraintStatement": {
                       "FieldToMatch": {"Body": {"OversizeHandling": "MATCH"}}, "ComparisonOperator": "GT",
                       "Size": args.max_body_bytes, "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}},
                   "VisibilityConfig": _visibility("body-size")})
    return result


class WebAcl(pulumi.ComponentResource):
    """The ACL and its logging; associate it with a stage, or name it on a distribution."""

    acl: aws.wafv2.WebAcl

    def __init__(self, name: str, args: WebAclArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:edge:WebAcl", name, None, opts)
        if not 1 <= args.max_body_bytes <= MAX_INSPECTED_BODY_BYTES:
            raise ValueError(f"{name}: max_body_bytes {args.max_body_bytes} is outside 1-{MAX_INSPECTED_BODY_BYTES} "
                             "(what WAF inspects of a body)")
        if args.rate_limit_per_ip is not None and not 10 <= args.rate_limit_per_ip <= 2_000_000_000:
            raise ValueError(f"{name}: rate_limit_per_ip {args.rate_limit_per_ip} is outside WAF's 10-2000000000")
        region = "us-east-1" if args.scope == "CLOUDFRONT" else None
        child = pulumi.ResourceOptions(parent=self)
        bodies = [aws.wafv2.WebAclCustomResponseBodyArgs(
            key=key, content_type="APPLICATION_JSON",
            content=json.dumps({"Code": f"{status}", "Message": message,
                                "Errors": [{"ErrorCode": code, "Message": message}]}))
            for key, (status, code, message) in RESPONSE_BODIES.items()]
        self.acl = aws.wafv2.WebAcl(
            name, name=args.acl_name, scope=args.scope, region=region,
            description=f"{args.acl_name}: Open Banking edge",
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            custom_response_bodies=bodies, rule_json=json.dumps(rules(args)),
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=args.acl_name, sampled_requests_enabled=True),
            opts=child)
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging", resource_arn=self.acl.arn, log_destination_configs=[args.log_bucket_arn], region=region,
            # Access tokens never reach the logs.
            redacted_fields=[aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name="authorization"))],
            opts=child)
        self.arn = self.acl.arn
        self.register_outputs({"arn": self.arn})
