"""An HTTPS entry without client certificates, for what a caller needs before it has one: an HTTP API (API Gateway
v2) on a custom domain, reaching load balancers inside the VPC through a VPC link v2, one route per published
operation and nothing else.

Why an HTTP API: a REST API's custom domain is the mutual-TLS entry (every `aws.apigateway.DomainName` requires
client certificates, ob-apigw-mtls), and no public load balancer can exist outside the network account (no internet
gateway). Its default `execute-api` endpoint is off (ob-apigw-no-default-endpoint), so the custom domain is the only
way in; TLS 1.2 at least. AWS WAF cannot be attached to an HTTP API: the stage throttles every route instead, and
the services behind it bound what one request may cost (docs/sandbox.md). The integrations verify each load
balancer's certificate against the name given (`server_name_to_verify`), so those certificates must be publicly
trusted (ACM public certificates, DNS-validated), and they drop any `x-amzn-mtls-clientcert` a caller sends: nothing
on this entry can pretend to carry a verified client certificate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .log_subscription import LogSubscription, LogSubscriptionArgs
from .network_access import Egress, workload_security_group

#: The port the load balancers behind the entry listen on (TLS).
BACKEND_PORT = 443
#: A header only a mutual-TLS front end may set (the sandbox IdP reads the client certificate from it).
STRIPPED_HEADERS = ("x-amzn-mtls-clientcert",)
#: The stage's access log line: one JSON object per request.
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTimeEpoch",
    "sourceIp": "$context.identity.sourceIp",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "protocol": "$context.protocol",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "responseLatency": "$context.responseLatency",
    "errorMessage": "$context.error.message",
}, separators=(",", ":"))


@dataclass(frozen=True)
class OpenBackend:
    """A load balancer behind the entry."""

    #: Its TLS listener (the integration's URI).
    listener_arn: pulumi.Input[str]
    #: The name its certificate is for (verified, and sent as SNI).
    server_name: str
    #: Its security group: the entry's VPC link is admitted there on BACKEND_PORT.
    security_group_id: pulumi.Input[str]


@dataclass(frozen=True)
class OpenRoute:
    """One published operation: `GET /sandbox/ca.pem` on a backend."""

    #: Upper-case HTTP method.
    method: str
    #: The path, with `{parameters}`.
    path: str
    #: The backend (a key of `OpenHttpApiArgs.backends`).
    backend: str


@dataclass(frozen=True)
class OpenHttpApiArgs:
    """The entry, its domain and its routes."""

    #: Physical name of the API and the prefix of its parts, e.g. "sandbox-sandbox-directory".
    api_name: str
    #: The custom domain, e.g. "directory.sandbox.openbanking.example-bank.co.uk".
    domain_name: str
    #: Its regional ACM certificate (validated).
    certificate_arn: pulumi.Input[str]
    #: The public zone the domain's alias record goes into.
    zone_id: pulumi.Input[str]
    #: The VPC, its CIDR and the subnets the VPC link's interfaces live in (one per AZ).
    vpc_id: pulumi.Input[str]
    #: The VPC's CIDR (the VPC link's egress).
    vpc_cidr: str
    #: Subnets of the VPC link's interfaces.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: Backend name -> its load balancer.
    backends: Mapping[str, OpenBackend]
    #: The routes, each to one backend; nothing else is served.
    routes: Sequence[OpenRoute]
    #: Steady requests per second and burst across the routes (the stage's default route settings).
    throttle_rate: float
    #: Requests absorbed at once above the steady rate.
    throttle_burst: int
    #: Key of the access log group, and the days it keeps logs.
    log_kms_key_arn: pulumi.Input[str]
    #: Days the access log group keeps logs.
    log_retention_days: int
    #: The log archive's CloudWatch Logs destination every access log line is sent on to.
    access_log_destination_arn: pulumi.Input[str]
    #: The API's account (the sending role's trust admits its log groups only).
    account_id: str
    #: The API's region, the destination's too (a subscription does not cross regions).
    region: str


class OpenHttpApi(pulumi.ComponentResource):
    """VPC link v2 (its security group, the backends admitting it), HTTP API, integrations, routes, `$default`
    stage with access logs and throttling, custom domain, mapping and alias record."""

    api: aws.apigatewayv2.Api
    stage: aws.apigatewayv2.Stage
    domain: aws.apigatewayv2.DomainName

    def __init__(self, name: str, args: OpenHttpApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:edge:OpenHttpApi", name, None, opts)
        unknown = sorted({r.backend for r in args.routes} - set(args.backends))
        if unknown:
            raise ValueError(f"{name}: routes to {unknown}, which are not backends")
        keys = [f"{r.method} {r.path}" for r in args.routes]
        if len(set(keys)) != len(keys) or not keys:
            raise ValueError(f"{name}: routes {keys} are empty or repeat")
        if not 0 < args.throttle_rate <= 10000 or not 0 < args.throttle_burst <= 5000:
            raise ValueError(f"{name}: throttling {args.throttle_rate}/s burst {args.throttle_burst} is outside "
                             "API Gateway's account limits (10000/s, 5000)")
        child = pulumi.ResourceOptions(parent=self)

        # The VPC link's interfaces reach the backends' listeners and nothing else; each backend admits them.
        group = workload_security_group(f"{name}-vpc-link-sg", vpc_id=args.vpc_id, parent=self,
                                        description=f"{args.api_name}: the HTTP API's VPC link, to the backends only",
                                        egress=[Egress("the backends' load balancers (TLS)", BACKEND_PORT,
                                                       cidr=args.vpc_cidr)])
        for backend, target in sorted(args.backends.items()):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{backend}-from-vpc-link", security_group_id=target.security_group_id, ip_protocol="tcp",
                from_port=BACKEND_PORT, to_port=BACKEND_PORT, referenced_security_group_id=group.id,
                description=f"TLS from the {args.api_name} HTTP API's VPC link", opts=pulumi.ResourceOptions(parent=group))
        link = aws.apigatewayv2.VpcLink(f"{name}-vpc-link", name=f"{args.api_name}-link", subnet_ids=list(args.subnet_ids),
                                        security_group_ids=[group.id], opts=child)

        self.api = aws.apigatewayv2.Api(
            name, name=args.api_name, protocol_type="HTTP", disable_execute_api_endpoint=True,
            description=f"{args.domain_name}: what a caller reaches without a client certificate", opts=child)
        integrations = {backend: aws.apigatewayv2.Integration(
            f"{name}-{backend}-integration", api_id=self.api.id, integration_type="HTTP_PROXY",
            integration_method="ANY", connection_type="VPC_LINK", connection_id=link.id,
            integration_uri=target.listener_arn, payload_format_version="1.0", timeout_milliseconds=29000,
            tls_config=aws.apigatewayv2.IntegrationTlsConfigArgs(server_name_to_verify=target.server_name),
            request_parameters={f"remove:header.{h}": "''" for h in STRIPPED_HEADERS},
            description=f"{backend}, through the VPC link", opts=child)
            for backend, target in sorted(args.backends.items())}
        for route in args.routes:
            slug = route.path.strip("/").replace("/", "-").replace("{", "").replace("}", "").replace(".", "-")
            aws.apigatewayv2.Route(
                f"{name}-{route.method.lower()}-{slug}", api_id=self.api.id, route_key=f"{route.method} {route.path}",
                authorization_type="NONE",
                target=pulumi.Output.concat("integrations/", integrations[route.backend].id), opts=child)

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs", name=f"/aws/apigateway/{args.api_name}/access", kms_key_id=args.log_kms_key_arn,
            retention_in_days=args.log_retention_days, opts=child)
        LogSubscription(f"{name}-access-logs-to-archive", LogSubscriptionArgs(
            log_group_name=log_group.name, destination_arn=args.access_log_destination_arn,
            account_id=args.account_id, region=args.region, filter_name=f"{args.api_name}-access-logs-to-archive"),
            opts=child)
        self.stage = aws.apigatewayv2.Stage(
            f"{name}-stage", api_id=self.api.id, name="$default", auto_deploy=True,
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(destination_arn=log_group.arn,
                                                                            format=ACCESS_LOG_FORMAT),
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=args.throttle_rate, throttling_burst_limit=args.throttle_burst,
                detailed_metrics_enabled=True),
            opts=child)

        self.domain = aws.apigatewayv2.DomainName(
            f"{name}-domain", domain_name=args.domain_name,
            domain_name_configuration=aws.apigatewayv2.DomainNameDomainNameConfigurationArgs(
                certificate_arn=args.certificate_arn, endpoint_type="REGIONAL", security_policy="TLS_1_2"),
            opts=child)
        aws.apigatewayv2.ApiMapping(f"{name}-mapping", api_id=self.api.id, domain_name=self.domain.domain_name,
                                    stage=self.stage.id, opts=child)
        target = self.domain.domain_name_configuration
        aws.route53.Record(
            f"{name}-a", zone_id=args.zone_id, name=args.domain_name, type="A",
            aliases=[aws.route53.RecordAliasArgs(name=target.apply(lambda c: str(c.target_domain_name)),
                                                 zone_id=target.apply(lambda c: str(c.hosted_zone_id)),
                                                 evaluate_target_health=False)],
            opts=child)
        self.url = f"https://{args.domain_name}"
        self.register_outputs({"apiId": self.api.id, "url": self.url})
