"""The edge: how third parties reach the bank's Open Banking APIs [5]-[9], in the account that holds it (the api
account of a workload stack, the sandbox account of the sandbox stack).

A TPP's request passes, in order: the perimeter (`regional`: API Gateway's mutual-TLS custom domain with WAF on
the stage; `cloudfront`: CloudFront with viewer mutual TLS, WAF and Shield Advanced, then the API domain, which
admits CloudFront's origin certificate only), the REQUEST authorizer (client certificate chain and revocation,
certificate-bound token, scope and consent for the route), the REST API (only the operations the services
implement), and a VPC link to an NLB whose targets are the PrivateLink endpoint of the workload account running
the service. The account also holds the environment's public zone (DNSSEC, query logs) and the CDN for the public static data
(the published OpenAPI documents, the ASPSP's signing JWKS).

Held by the sandbox account, the same edge reaches services of its own account: a VPC link straight to each
service's NLB (:class:`ServiceBackend` with `load_balancer_arn`), routes for the sandbox IdP that its own client
authentication guards instead of the authorizer (`certificate_routes`), an HTTPS entry without client certificates
for the sandbox CA and the published keys (`open_entry`), and a developer portal (`portal`). docs/sandbox.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.api_definition import Backend, CertificateRoute, OperationLike, rest_api_definition
from components.api_perimeter import ApiPerimeter, ApiPerimeterArgs, TruststoreLocation
from components.content_bucket import ContentBucket, ContentBucketArgs, ContentObject, bucket_arn
from components.dns_certificate import DnsCertificate, DnsCertificateArgs
from components.lambda_function import LambdaFunction, LambdaFunctionArgs, LambdaNetwork
from components.network_access import Egress, workload_security_group
from components.open_http_api import OpenBackend, OpenHttpApi, OpenHttpApiArgs, OpenRoute
from components.private_integration import PrivateServiceLink, PrivateServiceLinkArgs
from components.public_zone import GLOBAL_REGION, PublicZone, PublicZoneArgs
from components.rest_api import MtlsRestApi, MtlsRestApiArgs, MutualTls
from components.spoke_vpc import SpokeVpc
from components.static_site import StaticSite, StaticSiteArgs
from components.web_acl import WebAcl, WebAclArgs

#: The TPPs' CA bundle (the API domain's truststore with the regional perimeter, CloudFront's with the other;
#: the authorizer reads it with both).
TPP_TRUSTSTORE_KEY = "tpp-truststore.pem"
#: The CA of CloudFront's origin certificate: the API domain's truststore with the cloudfront perimeter.
ORIGIN_TRUSTSTORE_KEY = "origin-truststore.pem"
#: The stage the custom domain maps to (never in a public URL: the domain's base path mapping hides it).
STAGE_NAME = "live"
Perimeter = Literal["regional", "cloudfront"]


@dataclass(frozen=True)
class ServiceBackend:
    """One service the REST API routes to: in a workload account (through PrivateLink), or in the account holding
    the edge (a VPC link to its NLB): exactly one of the two."""

    #: Its internal name, which its certificate is for: the integration URI's host.
    host: str
    #: The workload's endpoint service name (`com.amazonaws.vpce.<region>.vpce-svc-...`).
    endpoint_service_name: pulumi.Input[str] | None = None
    #: The service's NLB in this account (the sandbox).
    load_balancer_arn: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        if (self.endpoint_service_name is None) == (self.load_balancer_arn is None):
            raise ValueError(f"backend {self.host}: give exactly one of endpoint_service_name, load_balancer_arn")


@dataclass(frozen=True)
class AuthorizerSettings:
    """What the REQUEST authorizer checks against."""

    #: The `authorizer` archive `make lambdas` built (services/dist/authorizer.zip).
    archive_path: Path
    #: Its handler, e.g. "openbanking.lambdas.authorizer.handler".
    handler: str
    #: Memory in MiB.
    memory_mb: int
    #: Seconds an invocation may run (API Gateway waits 10 s for an authorizer at most).
    timeout_seconds: int
    #: The IdP's issuer (`iss` of access tokens).
    token_issuer: str
    #: The IdP's JWKS URL (the token signatures' keys).
    jwks_url: str
    #: The egress proxy (revocation checks and the IdP's JWKS leave through it).
    proxy_url: str
    #: The egress VPC's CIDR (the proxy's address range).
    egress_vpc_cidr: str


@dataclass(frozen=True)
class EdgeLimits:
    """How much traffic the edge lets through."""

    #: Steady requests per second across the API's methods.
    throttle_rate: float
    #: Requests the API absorbs at once above the steady rate.
    throttle_burst: int
    #: Requests one client IP may make in 5 minutes (WAF, 429 above).
    rate_limit_per_ip: int
    #: Largest request body in bytes (WAF, 413 above).
    max_body_bytes: int


@dataclass(frozen=True)
class EdgePlacement:
    """Where the edge is built: the account that holds it."""

    #: The VPC the authorizer and the private integration's endpoints and NLBs live in.
    vpc: SpokeVpc
    #: Its CIDR (the authorizer's egress to the VPC's endpoints).
    vpc_cidr: str
    #: The account (key and bucket policies, ARNs).
    account_id: str
    #: The account's region.
    region: str
    #: The environment's name (the REST API's name).
    environment: str
    #: Prefix of physical names, e.g. "prod-api".
    name_prefix: str
    #: The account key: truststore bucket, logs, the authorizer's environment.
    kms_key_arn: pulumi.Input[str]
    #: Protect and retain the zone, its key and the buckets (prod).
    protect: bool
    #: The account's public zone for `EdgeArgs.domain`, when the account made it before the edge (the sandbox's
    #: services need it for their certificates first); None: the edge makes it.
    zone: PublicZone | None = None


@dataclass(frozen=True)
class OpenEntry:
    """The HTTPS entry without client certificates (:mod:`components.open_http_api`): `<subdomain>.<domain>`."""

    #: Its name under the domain, e.g. "directory".
    subdomain: str
    #: Backend name -> its load balancer in this account.
    backends: Mapping[str, OpenBackend]
    #: The published operations, each to one backend.
    routes: Sequence[OpenRoute]


@dataclass(frozen=True)
class EdgeArgs:
    """The edge of one environment."""

    #: The environment's domain: the public zone; `api.` and `static.` are in it.
    domain: str
    #: `regional` or `cloudfront` (module docstring).
    perimeter: Perimeter
    #: The TPPs' CA bundle, PEM (checked by the config).
    tpp_truststore_pem: str
    #: With `cloudfront`: the us-east-1 private CA that issues CloudFront's origin certificate; else None.
    origin_certificate_authority_arn: str | None
    #: Protect the perimeter, the static site and the zone with Shield Advanced (subscribes the account).
    shield_advanced: bool
    #: Throttling, rate and body limits.
    limits: EdgeLimits
    #: Service -> where it runs; exactly the services `operations` name.
    backends: Mapping[str, ServiceBackend]
    #: The operations the REST API publishes.
    operations: Sequence[OperationLike]
    #: The specs that describe them: file -> parsed document.
    specs: Mapping[str, Mapping[str, Any]]
    #: The authorizer's code and settings.
    authorizer: AuthorizerSettings
    #: The public static data: path -> object (the published OpenAPI documents, the JWKS, an index).
    static_objects: Mapping[str, ContentObject]
    #: The log archive's WAF bucket (`aws-waf-logs-*`).
    waf_logs_bucket_arn: pulumi.Input[str]
    #: The log archive's access-log bucket (CloudFront logs) ...
    access_logs_bucket_arn: pulumi.Input[str]
    #: ... and its name (the NLBs' access logs).
    access_logs_bucket_name: pulumi.Input[str]
    #: Days the account's log groups keep logs.
    log_retention_days: int
    #: The log archive's CloudWatch Logs destination the REST API's access log group sends every line to (the
    #: foundation's `apiAccessLogDestinationArn`: Firehose into the access-log bucket, docs/edge.md).
    access_log_destination_arn: pulumi.Input[str]
    #: Routes without the authorizer, their service authenticating the client by the certificate the domain passes
    #: it (the sandbox IdP); needs the regional perimeter (behind CloudFront the certificate is CloudFront's).
    certificate_routes: Sequence[CertificateRoute] = ()
    #: The HTTPS entry without client certificates (the sandbox CA and the published keys); None: none.
    open_entry: OpenEntry | None = None
    #: The developer portal's pages (path -> object), served at `developer.<domain>`; None: no portal.
    portal: Mapping[str, ContentObject] | None = None


#: The portal's name under the domain.
PORTAL_SUBDOMAIN = "developer"


class Edge(pulumi.ComponentResource):
    """Zone, certificates, truststore, authorizer, private integration, REST API, WAF, perimeter, static site."""

    def __init__(self, name: str, args: EdgeArgs, placement: EdgePlacement,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:edge:Edge", name, None, opts)
        missing = sorted({op.service for op in [*args.operations, *args.certificate_routes]} - set(args.backends))
        if missing:
            raise ValueError(f"{name}: operations of {missing} but no backend runs them")
        if args.certificate_routes and args.perimeter != "regional":
            raise ValueError(f"{name}: certificate routes need the regional perimeter (behind CloudFront the domain "
                             "sees CloudFront's certificate, not the TPP's)")
        if (args.perimeter == "cloudfront") != (args.origin_certificate_authority_arn is not None):
            raise ValueError(f"{name}: the origin certificate authority goes with the cloudfront perimeter, only")
        if args.shield_advanced and args.perimeter != "cloudfront":
            raise ValueError(f"{name}: Shield Advanced cannot protect a regional API; use the cloudfront perimeter")
        self.links: dict[str, PrivateServiceLink] = {}
        at = placement
        vpc, vpc_cidr, prefix, key = at.vpc, at.vpc_cidr, at.name_prefix, at.kms_key_arn
        api_domain, static_domain = f"api.{args.domain}", f"static.{args.domain}"

        # DNS and certificates.
        self.zone = at.zone or PublicZone(f"{name}-zone", PublicZoneArgs(
            domain=args.domain, account_id=at.account_id, name_prefix=prefix,
            log_retention_days=args.log_retention_days, protect=at.protect), opts=self.child)
        api_certificate = DnsCertificate(f"{name}-api-certificate", DnsCertificateArgs(
            domain_name=api_domain, zone_id=self.zone.zone_id), opts=self.child)
        static_certificate = DnsCertificate(f"{name}-static-certificate", DnsCertificateArgs(
            domain_name=static_domain, zone_id=self.zone.zone_id, region=GLOBAL_REGION), opts=self.child)

        # The truststores: the TPPs' CAs always; CloudFront's origin CA with the cloudfront perimeter.
        objects = {TPP_TRUSTSTORE_KEY: ContentObject(args.tpp_truststore_pem, "application/x-pem-file")}
        if args.origin_certificate_authority_arn is not None:
            origin_ca = aws.acmpca.get_certificate_authority_output(
                arn=args.origin_certificate_authority_arn, region=GLOBAL_REGION,
                opts=pulumi.InvokeOutputOptions(parent=self))
            objects[ORIGIN_TRUSTSTORE_KEY] = ContentObject(
                pulumi.Output.all(origin_ca.certificate, origin_ca.certificate_chain).apply(
                    lambda parts: "\n".join(p.strip() for p in parts if p) + "\n"),
                "application/x-pem-file")
        truststore_bucket_name = f"{prefix}-truststore-{at.account_id}-{at.region}"
        self.truststore = ContentBucket(f"{name}-truststore", ContentBucketArgs(
            bucket_name=truststore_bucket_name, kms_key_arn=key, objects=objects, protect=at.protect),
            opts=self.child)
        domain_truststore = ORIGIN_TRUSTSTORE_KEY if args.perimeter == "cloudfront" else TPP_TRUSTSTORE_KEY

        # The authorizer, in the api VPC: OCSP, CRLs and the IdP's JWKS through the egress proxy.
        auth = args.authorizer
        group = workload_security_group(f"{name}-authorizer-sg", vpc_id=vpc.vpc_id, parent=self,
                                        description=f"{prefix}: the REQUEST authorizer", egress=[
            Egress("the egress proxy (Squid)", 3128, cidr=auth.egress_vpc_cidr),
            Egress("AWS API endpoints in the VPC", 443, cidr=vpc_cidr),
            Egress("S3 (the truststore), gateway endpoint", 443, prefix_list_id=vpc.gateway_prefix_lists["s3"])])
        truststore_arn = bucket_arn(truststore_bucket_name)
        self.authorizer = LambdaFunction(f"{name}-authorizer", LambdaFunctionArgs(
            function_name=f"{prefix}-authorizer", description="API Gateway REQUEST authorizer: client certificate, "
            "bound access token, route", handler=auth.handler, archive_path=str(auth.archive_path),
            account_id=at.account_id, region=at.region, memory_mb=auth.memory_mb,
            timeout_seconds=auth.timeout_seconds, kms_key_arn=key, log_retention_days=args.log_retention_days,
            environment={
                "OB_TOKEN_ISSUER": auth.token_issuer, "OB_JWKS_URL": auth.jwks_url,
                "OB_TRUSTSTORE": f"s3://{truststore_bucket_name}/{TPP_TRUSTSTORE_KEY}", "OB_AWS_REGION": at.region,
                "OB_CLIENT_CERT_SOURCE": "cloudfront" if args.perimeter == "cloudfront" else "mtls",
                "HTTPS_PROXY": auth.proxy_url, "HTTP_PROXY": auth.proxy_url,
                "NO_PROXY": f"169.254.169.254,localhost,127.0.0.1,.amazonaws.com,{vpc_cidr}",
                "POWERTOOLS_SERVICE_NAME": "ob-authorizer"},
            policy_statements=[
                {"Sid": "ReadTruststore", "Effect": "Allow", "Action": "s3:GetObject",
                 "Resource": f"{truststore_arn}/{TPP_TRUSTSTORE_KEY}"},
                {"Sid": "DecryptTruststore", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key,
                 "Condition": {"StringEquals": {"kms:ViaService": f"s3.{at.region}.amazonaws.com"}}}],
            network=LambdaNetwork(subnet_ids=vpc.private_subnet_ids, security_group_id=group.id)),
            opts=self.child)

        # Into the workloads: PrivateLink, an NLB on the endpoint's pinned addresses, a VPC link; or, for a service
        # of this account, a VPC link straight to its NLB.
        link_ids: dict[str, pulumi.Input[str]] = {}
        for slot, (service, backend) in enumerate(sorted(args.backends.items())):
            if backend.endpoint_service_name is not None:
                self.links[service] = PrivateServiceLink(f"{name}-{service}-link", PrivateServiceLinkArgs(
                    service=service, slot=slot, endpoint_service_name=backend.endpoint_service_name, vpc_id=vpc.vpc_id,
                    data_subnet_ids=vpc.data_subnet_ids, data_subnet_cidrs=vpc.data_cidrs,
                    private_subnet_ids=vpc.private_subnet_ids, private_subnet_cidrs=vpc.private_cidrs,
                    name_prefix=prefix, access_logs_bucket=args.access_logs_bucket_name), opts=self.child)
                link_ids[service] = self.links[service].vpc_link_id
            else:
                assert backend.load_balancer_arn is not None  # ServiceBackend holds exactly one of the two
                link_ids[service] = aws.apigateway.VpcLink(
                    f"{name}-{service}-vpc-link", name=f"{prefix}-{service.replace('_', '-')}-link",
                    target_arn=backend.load_balancer_arn,
                    description=f"the REST API's way to {service} (its NLB, in this account)", opts=self.child).id

        # The REST API, its stage and its mutual-TLS domain.
        definition = rest_api_definition(
            title=f"{at.environment} Open Banking", operations=args.operations, specs=args.specs,
            backends={s: Backend(host=b.host, connection_id=link_ids[s]) for s, b in args.backends.items()},
            authorizer_uri=self.authorizer.function.invoke_arn, certificate_routes=args.certificate_routes)
        truststore_object = self.truststore.objects[domain_truststore]
        self.api = MtlsRestApi(f"{name}-rest-api", MtlsRestApiArgs(
            api_name=f"{at.environment}-open-banking", definition=definition, stage_name=STAGE_NAME,
            domain_name=api_domain, certificate_arn=api_certificate.arn,
            mutual_tls=MutualTls(truststore_uri=f"s3://{truststore_bucket_name}/{domain_truststore}",
                                 truststore_version=truststore_object.version_id),
            throttle_rate=args.limits.throttle_rate, throttle_burst=args.limits.throttle_burst,
            authorizer_function_name=self.authorizer.name, log_kms_key_arn=key,
            log_retention_days=args.log_retention_days, account_id=at.account_id, region=at.region,
            access_log_destination_arn=args.access_log_destination_arn), opts=self.child)

        # WAF: on the stage always (with the regional perimeter it is the only one, with CloudFront's a second
        # line that sees CloudFront's addresses, so without the per-IP rate); CloudFront's ACL serves the
        # distributions (the static site has one with either perimeter).
        regional_acl = WebAcl(f"{name}-regional-acl", WebAclArgs(
            acl_name=f"{prefix}-regional", scope="REGIONAL",
            rate_limit_per_ip=args.limits.rate_limit_per_ip if args.perimeter == "regional" else None,
            max_body_bytes=args.limits.max_body_bytes, log_bucket_arn=args.waf_logs_bucket_arn), opts=self.child)
        aws.wafv2.WebAclAssociation(f"{name}-stage-acl", resource_arn=self.api.stage_arn,
                                    web_acl_arn=regional_acl.arn,
                                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.api.stage]))
        edge_acl = WebAcl(f"{name}-cloudfront-acl", WebAclArgs(
            acl_name=f"{prefix}-cloudfront", scope="CLOUDFRONT", rate_limit_per_ip=args.limits.rate_limit_per_ip,
            max_body_bytes=args.limits.max_body_bytes, log_bucket_arn=args.waf_logs_bucket_arn), opts=self.child)

        shield_ready: list[pulumi.Resource] = []
        if args.shield_advanced:
            # A one-year commitment that outlives the stack (docs/edge.md).
            shield_ready.append(aws.shield.Subscription(f"{name}-shield", auto_renew="ENABLED", skip_destroy=True,
                                                        opts=self.child))

        # The API's public name: the API domain itself, or CloudFront in front of it.
        self.perimeter = None
        if args.perimeter == "cloudfront":
            assert args.origin_certificate_authority_arn is not None
            origin_certificate = aws.acm.Certificate(
                f"{name}-origin-client-certificate", domain_name=f"cloudfront-origin.{args.domain}",
                certificate_authority_arn=args.origin_certificate_authority_arn, key_algorithm="EC_prime256v1",
                region=GLOBAL_REGION, opts=self.child)
            perimeter_certificate = DnsCertificate(f"{name}-perimeter-certificate", DnsCertificateArgs(
                domain_name=api_domain, zone_id=self.zone.zone_id, region=GLOBAL_REGION,
                validation_fqdns=api_certificate.validation_fqdns), opts=self.child)
            self.perimeter = ApiPerimeter(f"{name}-perimeter", ApiPerimeterArgs(
                domain_name=api_domain, certificate_arn=perimeter_certificate.arn,
                origin_domain_name=self.api.regional_domain_name, origin_client_certificate_arn=origin_certificate.arn,
                truststore=TruststoreLocation(bucket=truststore_bucket_name, key=TPP_TRUSTSTORE_KEY,
                                              region=at.region,
                                              version=self.truststore.objects[TPP_TRUSTSTORE_KEY].version_id),
                web_acl_arn=edge_acl.arn, shield_advanced=args.shield_advanced, shield_ready=shield_ready,
                name_prefix=prefix, access_logs_bucket_arn=args.access_logs_bucket_arn), opts=self.child)
            api_target = (self.perimeter.domain_name, self.perimeter.hosted_zone_id)
        else:
            api_target = (self.api.regional_domain_name, self.api.regional_zone_id)
        for record_type in ("A", "AAAA") if args.perimeter == "cloudfront" else ("A",):
            aws.route53.Record(f"{name}-api-{record_type.lower()}", zone_id=self.zone.zone_id, name=api_domain,
                               type=record_type, aliases=[aws.route53.RecordAliasArgs(
                                   name=api_target[0], zone_id=api_target[1], evaluate_target_health=False)],
                               opts=self.child)

        # The public static data.
        self.static_site = StaticSite(f"{name}-static", StaticSiteArgs(
            domain_name=static_domain, certificate_arn=static_certificate.arn, objects=args.static_objects,
            bucket_name=f"{prefix}-static-{at.account_id}-{at.region}", account_id=at.account_id,
            region=at.region, name_prefix=prefix, web_acl_arn=edge_acl.arn,
            access_logs_bucket_arn=args.access_logs_bucket_arn, protect=at.protect), opts=self.child)
        for record_type in ("A", "AAAA"):
            aws.route53.Record(f"{name}-static-{record_type.lower()}", zone_id=self.zone.zone_id, name=static_domain,
                               type=record_type, aliases=[aws.route53.RecordAliasArgs(
                                   name=self.static_site.domain_name, zone_id=self.static_site.hosted_zone_id,
                                   evaluate_target_health=False)],
                               opts=self.child)
        if args.shield_advanced:
            aws.shield.Protection(f"{name}-static-shield", name=f"{prefix}-static",
                                  resource_arn=self.static_site.distribution.arn,
                                  opts=pulumi.ResourceOptions(parent=self, depends_on=shield_ready))
            aws.shield.Protection(f"{name}-zone-shield", name=f"{prefix}-zone", resource_arn=self.zone.zone.arn,
                                  opts=pulumi.ResourceOptions(parent=self, depends_on=shield_ready))

        # Without client certificates: the sandbox CA and the published keys.
        self.open_entry = None
        if args.open_entry is not None:
            entry = args.open_entry
            entry_domain = f"{entry.subdomain}.{args.domain}"
            entry_certificate = DnsCertificate(f"{name}-{entry.subdomain}-certificate", DnsCertificateArgs(
                domain_name=entry_domain, zone_id=self.zone.zone_id), opts=self.child)
            self.open_entry = OpenHttpApi(f"{name}-{entry.subdomain}", OpenHttpApiArgs(
                api_name=f"{prefix}-{entry.subdomain}", domain_name=entry_domain,
                certificate_arn=entry_certificate.arn, zone_id=self.zone.zone_id, vpc_id=vpc.vpc_id,
                vpc_cidr=vpc_cidr, subnet_ids=vpc.private_subnet_ids, backends=entry.backends, routes=entry.routes,
                throttle_rate=args.limits.throttle_rate, throttle_burst=args.limits.throttle_burst,
                log_kms_key_arn=key, log_retention_days=args.log_retention_days,
                access_log_destination_arn=args.access_log_destination_arn, account_id=at.account_id,
                region=at.region), opts=self.child)

        # The developer portal: static pages on CloudFront, like the static data.
        self.portal = None
        if args.portal is not None:
            portal_domain = f"{PORTAL_SUBDOMAIN}.{args.domain}"
            portal_certificate = DnsCertificate(f"{name}-portal-certificate", DnsCertificateArgs(
                domain_name=portal_domain, zone_id=self.zone.zone_id, region=GLOBAL_REGION), opts=self.child)
            self.portal = StaticSite(f"{name}-portal", StaticSiteArgs(
                domain_name=portal_domain, certificate_arn=portal_certificate.arn, objects=args.portal,
                bucket_name=f"{prefix}-portal-{at.account_id}-{at.region}", account_id=at.account_id,
                region=at.region, name_prefix=prefix, web_acl_arn=edge_acl.arn,
                access_logs_bucket_arn=args.access_logs_bucket_arn, protect=at.protect, site="portal",
                default_root_object="index.html", description="developer portal (API reference, getting started)",
                contents="the developer portal"), opts=self.child)
            for record_type in ("A", "AAAA"):
                aws.route53.Record(f"{name}-portal-{record_type.lower()}", zone_id=self.zone.zone_id,
                                   name=portal_domain, type=record_type, aliases=[aws.route53.RecordAliasArgs(
                                       name=self.portal.domain_name, zone_id=self.portal.hosted_zone_id,
                                       evaluate_target_health=False)],
                                   opts=self.child)

        self.exports = {
            "apiUrl": f"https://{api_domain}",
            "staticUrl": f"https://{static_domain}",
            "perimeter": args.perimeter,
            "hostedZoneId": self.zone.zone_id,
            "nameServers": self.zone.name_servers,
            "dnssecDsRecord": self.zone.ds_record,
        }
        if self.open_entry is not None:
            self.exports["openUrl"] = self.open_entry.url
        if self.portal is not None:
            self.exports["portalUrl"] = f"https://{PORTAL_SUBDOMAIN}.{args.domain}"
        self.register_outputs(self.exports | {
            "privateLinkEndpoints": {s: link.endpoint_id for s, link in self.links.items()}})


    @property
    def child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)
