"""The `cloudfront` perimeter: CloudFront in front of the REST API, so Shield Advanced can protect it.

A TPP's TLS session ends at CloudFront, which requires its client certificate (viewer mutual TLS, against a
CloudFront trust store made from the same CA bundle as the API domain's) and forwards the certificate to the origin
in `CloudFront-Viewer-Cert-*` headers; the authorizer reads those (`OB_CLIENT_CERT_SOURCE=cloudfront`). The origin
is the API's regional custom domain, reached with the viewer's Host header (so its name and certificate match) and
CloudFront's own client certificate (origin mutual TLS): the domain's truststore holds only the CA of that
certificate, so nothing but this distribution gets through to the API. Nothing is cached (every request is
authorised); HTTP/3 is off (CloudFront's mutual TLS does not support it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .cloudfront_logs import DistributionLogs, DistributionLogsArgs

#: CloudFront's managed `CachingDisabled` cache policy.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
#: The certificate facts CloudFront forwards to the origin (mutual TLS); `-Pem` is the URL-encoded leaf.
VIEWER_CERT_HEADERS = ("CloudFront-Viewer-Cert-Pem", "CloudFront-Viewer-Cert-Serial-Number",
                       "CloudFront-Viewer-Cert-Issuer", "CloudFront-Viewer-Cert-Subject",
                       "CloudFront-Viewer-Cert-Sha256", "CloudFront-Viewer-Cert-Validity",
                       "CloudFront-Viewer-Cert-Present")
#: The strictest viewer policy that keeps the suites FAPI names (ECDHE with AES-GCM on TLS 1.2; TLS 1.3).
MINIMUM_PROTOCOL = "TLSv1.2_2025"
ORIGIN_ID = "rest-api"


@dataclass(frozen=True)
class TruststoreLocation:
    """The CA bundle in S3 that CloudFront's trust store is made from."""

    #: The truststore bucket's name.
    bucket: pulumi.Input[str]
    #: The bundle's key in it.
    key: str
    #: The bucket's region.
    region: str
    #: The object version: pinned, like the API domain's.
    version: pulumi.Input[str]


@dataclass(frozen=True)
class ApiPerimeterArgs:
    """The distribution in front of the REST API."""

    #: The public API name, e.g. "api.prod.openbanking.example-bank.co.uk" (the distribution's alias, the Host
    #: header the origin sees, and the API's custom domain).
    domain_name: str
    #: Its ACM certificate in us-east-1 (validated).
    certificate_arn: pulumi.Input[str]
    #: The API custom domain's regional endpoint (`d-....execute-api.<region>.amazonaws.com`).
    origin_domain_name: pulumi.Input[str]
    #: The certificate CloudFront presents to the origin (ACM, us-east-1, client authentication).
    origin_client_certificate_arn: pulumi.Input[str]
    #: The TPPs' CA bundle the viewer trust store is made from.
    truststore: TruststoreLocation
    #: The CLOUDFRONT-scope web ACL.
    web_acl_arn: pulumi.Input[str]
    #: Protect the distribution with Shield Advanced (the account must be subscribed).
    shield_advanced: bool
    #: Resources Shield protection waits for (the subscription).
    shield_ready: list[pulumi.Resource]
    #: Prefix of physical names, e.g. "prod-api".
    name_prefix: str
    #: The log archive's access-log bucket (distribution logs).
    access_logs_bucket_arn: pulumi.Input[str]


class ApiPerimeter(pulumi.ComponentResource):
    """Trust store, origin request policy, distribution, its logs and its Shield protection."""

    distribution: aws.cloudfront.Distribution

    def __init__(self, name: str, args: ApiPerimeterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:edge:ApiPerimeter", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        trust_store = aws.cloudfront.TrustStore(
            f"{name}-trust-store", name=f"{args.name_prefix}-tpp-cas",
            ca_certificates_bundle_source=aws.cloudfront.TrustStoreCaCertificatesBundleSourceArgs(
                ca_certificates_bundle_s3_location=aws.cloudfront.
                TrustStoreCaCertificatesBundleSourceCaCertificatesBundleS3LocationArgs(
                    bucket=args.truststore.bucket, key=args.truststore.key, region=args.truststore.region,
                    version=args.truststore.version)),
            opts=child)
        origin_requests = aws.cloudfront.OriginRequestPolicy(
            f"{name}-origin-requests", name=f"{args.name_prefix}-api-origin",
            comment="every viewer header (Host and Authorization included) and the client certificate",
            headers_config=aws.cloudfront.OriginRequestPolicyHeadersConfigArgs(
                header_behavior="allViewerAndWhitelistCloudFront",
                headers=aws.cloudfront.OriginRequestPolicyHeadersConfigHeadersArgs(items=list(VIEWER_CERT_HEADERS))),
            cookies_config=aws.cloudfront.OriginRequestPolicyCookiesConfigArgs(cookie_behavior="none"),
            query_strings_config=aws.cloudfront.OriginRequestPolicyQueryStringsConfigArgs(query_string_behavior="all"),
            opts=child)
        self.distribution = aws.cloudfront.Distribution(
            name, enabled=True, comment=f"{args.name_prefix}: the Open Banking APIs", aliases=[args.domain_name],
            http_version="http2", is_ipv6_enabled=True, price_class="PriceClass_100", web_acl_id=args.web_acl_arn,
            origins=[aws.cloudfront.DistributionOriginArgs(
                origin_id=ORIGIN_ID, domain_name=args.origin_domain_name,
                custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                    http_port=80, https_port=443, origin_protocol_policy="https-only", origin_ssl_protocols=["TLSv1.2"],
                    origin_read_timeout=30, origin_keepalive_timeout=5,
                    origin_mtls_config=aws.cloudfront.DistributionOriginCustomOriginConfigOriginMtlsConfigArgs(
                        client_certificate_arn=args.origin_client_certificate_arn)))],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=ORIGIN_ID, viewer_protocol_policy="https-only",
                allowed_methods=["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                cached_methods=["GET", "HEAD"], cache_policy_id=CACHING_DISABLED,
                origin_request_policy_id=origin_requests.id, compress=False),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=args.certificate_arn, ssl_support_method="sni-only",
                minimum_protocol_version=MINIMUM_PROTOCOL),
            viewer_mtls_config=aws.cloudfront.DistributionViewerMtlsConfigArgs(
                mode="required", trust_store_config=aws.cloudfront.DistributionViewerMtlsConfigTrustStoreConfigArgs(
                    trust_store_id=trust_store.id, advertise_trust_store_ca_names=True,
                    ignore_certificate_expiry=False)),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
            opts=child)
        DistributionLogs(f"{name}-logs", DistributionLogsArgs(
            distribution_arn=self.distribution.arn, log_name=f"{args.name_prefix}-api-perimeter",
            bucket_arn=args.access_logs_bucket_arn), opts=child)
        if args.shield_advanced:
            aws.shield.Protection(f"{name}-shield", name=f"{args.name_prefix}-api-perimeter",
                                  resource_arn=self.distribution.arn,
                                  opts=pulumi.ResourceOptions(parent=self, depends_on=args.shield_ready))
        self.domain_name = self.distribution.domain_name
        self.hosted_zone_id = self.distribution.hosted_zone_id
        self.arn = self.distribution.arn
        self.register_outputs({"distributionId": self.distribution.id, "domainName": self.domain_name})
