"""The Open Banking REST API behind its mutual-TLS custom domain.

The API is imported whole from its OpenAPI definition (:mod:`components.api_definition`), so a route exists only
for an operation the services implement. The default `execute-api` endpoint is off: the only way in is the custom
domain, which requires a client certificate chaining to the truststore object in S3, pinned to one object version
so a new bundle is a visible change. The stage writes JSON access logs (TLS version, cipher, client certificate,
authorizer verdict, latencies) to a KMS-encrypted group, which sends every line on to the log archive's destination
(:mod:`components.log_subscription`), traces to X-Ray, throttles every method, caches nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .log_subscription import LogSubscription, LogSubscriptionArgs

#: The stage's access log line: one JSON object per request.
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "interactionId": "$context.authorizer.interactionId",
    "requestTime": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "protocol": "$context.protocol",
    "tlsVersion": "$context.tlsVersion",
    "cipherSuite": "$context.cipherSuite",
    "clientCertSerial": "$context.identity.clientCert.serialNumber",
    "clientCertIssuer": "$context.identity.clientCert.issuerDN",
    "tppId": "$context.authorizer.tppId",
    "authorizerStatus": "$context.authorizer.status",
    "authorizerLatency": "$context.authorizer.latency",
    "authorizerError": "$context.authorizer.error",
    "authorizeStatus": "$context.authorize.status",
    "wafStatus": "$context.waf.status",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "responseLatency": "$context.responseLatency",
    "errorType": "$context.error.responseType",
}, separators=(",", ":"))


@dataclass(frozen=True)
class MutualTls:
    """The client certificates the custom domain admits."""

    #: `s3://bucket/key` of the PEM bundle of CA certificates.
    truststore_uri: pulumi.Input[str]
    #: The bundle's S3 object version: pinned, so a new bundle is deployed by changing it.
    truststore_version: pulumi.Input[str]


@dataclass(frozen=True)
class MtlsRestApiArgs:
    """The API, its stage and its custom domain."""

    #: Physical name, e.g. "prod-open-banking".
    api_name: str
    #: The OpenAPI 3 document with API Gateway's extensions; values may be Outputs (the authorizer, VPC links).
    definition: Mapping[str, Any]
    #: The stage the custom domain maps to.
    stage_name: str
    #: The custom domain, e.g. "api.prod.openbanking.example-bank.co.uk".
    domain_name: str
    #: Its regional ACM certificate (validated), also the ownership verification certificate (see __init__).
    certificate_arn: pulumi.Input[str]
    #: Who may connect: the truststore.
    mutual_tls: MutualTls
    #: Steady requests per second across the stage's methods.
    throttle_rate: float
    #: Requests absorbed at once above the steady rate.
    throttle_burst: int
    #: The REQUEST authorizer's function (API Gateway may invoke it for this API only).
    authorizer_function_name: pulumi.Input[str]
    #: Key of the access log group.
    log_kms_key_arn: pulumi.Input[str]
    #: Days the access log group keeps logs.
    log_retention_days: int
    #: The account (the CloudWatch role's trust condition, the authorizer permission's source).
    account_id: str
    #: The account's region (the access log subscription's role).
    region: str
    #: The log archive's CloudWatch Logs destination the access log group sends every line to (the foundation's
    #: `apiAccessLogDestinationArn`).
    access_log_destination_arn: pulumi.Input[str]


def definition_hash(body: str) -> str:
    """What redeploys the stage: a change to the definition, nothing else."""
    return hashlib.sha256(body.encode()).hexdigest()


class MtlsRestApi(pulumi.ComponentResource):
    """REST API (from its definition), deployment, stage, method settings, mTLS domain, base path mapping."""

    rest_api: aws.apigateway.RestApi
    stage: aws.apigateway.Stage
    domain: aws.apigateway.DomainName

    def __init__(self, name: str, args: MtlsRestApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:edge:MtlsRestApi", name, None, opts)
        if not 0 < args.throttle_rate <= 10000 or not 0 < args.throttle_burst <= 5000:
            raise ValueError(f"{name}: throttling {args.throttle_rate}/s burst {args.throttle_burst} is outside "
                             "API Gateway's account limits (10000/s, 5000)")
        child = pulumi.ResourceOptions(parent=self)
        body = pulumi.Output.json_dumps(args.definition)
        self.rest_api = aws.apigateway.RestApi(
            name, name=args.api_name, body=body, put_rest_api_mode="overwrite", fail_on_warnings=True,
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            disable_execute_api_endpoint=True, opts=child)
        deployment = aws.apigateway.Deployment(
            f"{name}-deployment", rest_api=self.rest_api.id, description=f"{args.api_name}: the definition in state",
            triggers={"definition": body.apply(definition_hash)}, opts=child)

        # Execution logging needs the account's CloudWatch role, set once per account and region.
        role = aws.iam.Role(
            f"{name}-cloudwatch-role", description="API Gateway writes the account's execution logs",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}}}]}),
            opts=child)
        attached = aws.iam.RolePolicyAttachment(
            f"{name}-cloudwatch-role-logs", role=role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            opts=pulumi.ResourceOptions(parent=role))
        account = aws.apigateway.Account(f"{name}-account", cloudwatch_role_arn=role.arn,
                                         opts=pulumi.ResourceOptions(parent=self, depends_on=[attached]))
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs", name=f"/aws/apigateway/{args.api_name}/access", kms_key_id=args.log_kms_key_arn,
            retention_in_days=args.log_retention_days, opts=child)
        self.access_log_shipping = LogSubscription(f"{name}-access-logs-to-archive", LogSubscriptionArgs(
            log_group_name=log_group.name, destination_arn=args.access_log_destination_arn,
            account_id=args.account_id, region=args.region, filter_name=f"{args.api_name}-access-logs-to-archive"),
            opts=child)
        self.stage = aws.apigateway.Stage(
            f"{name}-stage", rest_api=self.rest_api.id, deployment=deployment.id, stage_name=args.stage_name,
            xray_tracing_enabled=True, cache_cluster_enabled=False,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(destination_arn=log_group.arn,
                                                                          format=ACCESS_LOG_FORMAT),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]))
        aws.apigateway.MethodSettings(
            f"{name}-method-settings", rest_api=self.rest_api.id, stage_name=self.stage.stage_name, method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                metrics_enabled=True, logging_level="ERROR", data_trace_enabled=False, caching_enabled=False,
                throttling_rate_limit=args.throttle_rate, throttling_burst_limit=args.throttle_burst),
            opts=child)
        aws.lambda_.Permission(
            f"{name}-invokes-authorizer", action="lambda:InvokeFunction", function=args.authorizer_function_name,
            principal="apigateway.amazonaws.com", source_account=args.account_id,
            source_arn=pulumi.Output.concat(self.rest_api.execution_arn, "/authorizers/*"), opts=child)

        # The domain: mutual TLS with the pinned truststore, set at creation with the ownership certificate
        # (API Gateway asks for one when mTLS meets an imported or private server certificate; the public
        # one proves ownership as well, and adding it later to an mTLS domain fails).
        self.domain = aws.apigateway.DomainName(
            f"{name}-domain", domain_name=args.domain_name, regional_certificate_arn=args.certificate_arn,
            ownership_verification_certificate_arn=args.certificate_arn,
            endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(types="REGIONAL"),
            security_policy="TLS_1_2",
            mutual_tls_authentication=aws.apigateway.DomainNameMutualTlsAuthenticationArgs(
                truststore_uri=args.mutual_tls.truststore_uri, truststore_version=args.mutual_tls.truststore_version),
            opts=child)
        aws.apigateway.BasePathMapping(
            f"{name}-mapping", domain_name=self.domain.domain_name, rest_api=self.rest_api.id,
            stage_name=self.stage.stage_name, opts=child)

        self.stage_arn = self.stage.arn
        self.execution_arn = self.rest_api.execution_arn
        self.regional_domain_name = self.domain.regional_domain_name
        self.regional_zone_id = self.domain.regional_zone_id
        self.register_outputs({"restApiId": self.rest_api.id, "stageArn": self.stage_arn,
                               "domainName": self.domain.domain_name,
                               "regionalDomainName": self.regional_domain_name})
