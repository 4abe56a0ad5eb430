"""The ASPSP's public static data on a CDN [8]: the OpenAPI documents of the APIs it implements and its public
signing keys (JWKS), served by CloudFront from a private bucket only CloudFront may read (origin access control).

The bucket is KMS-encrypted with a key of its own, which admits CloudFront for this account's distributions, so
the objects stay encrypted at rest while their content is public by design.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .cloudfront_logs import DistributionLogs, DistributionLogsArgs
from .content_bucket import ContentBucket, ContentBucketArgs, ContentObject, bucket_arn
from .kms_key import KeyGrant, KmsKey, KmsKeyArgs

#: CloudFront's managed `CachingOptimized` cache policy.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
#: CloudFront's managed `SecurityHeadersPolicy` response headers policy (HSTS, nosniff, frame options, ...).
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
ORIGIN_ID = "static-bucket"


@dataclass(frozen=True)
class StaticSiteArgs:
    """The site and what it serves."""

    #: Its public name, e.g. "static.prod.openbanking.example-bank.co.uk".
    domain_name: str
    #: Its ACM certificate in us-east-1 (validated).
    certificate_arn: pulumi.Input[str]
    #: Path -> object (e.g. "jwks.json", "openapi/account-info-openapi.json").
    objects: Mapping[str, ContentObject]
    #: The bucket's physical name.
    bucket_name: str
    #: The account (key policy: its distributions may decrypt).
    account_id: str
    #: The bucket's region (the origin's domain name).
    region: str
    #: Prefix of physical names, e.g. "prod-api".
    name_prefix: str
    #: The CLOUDFRONT-scope web ACL.
    web_acl_arn: pulumi.Input[str]
    #: The log archive's access-log bucket (distribution logs).
    access_logs_bucket_arn: pulumi.Input[str]
    #: Protect and retain the bucket and key (prod).
    protect: bool = True
    #: Which site of the account this is: names its key alias, origin access control and log delivery
    #: (`<name_prefix>-<site>`), so an account can hold more than one.
    site: str = "static"
    #: What `/` serves.
    default_root_object: str = "index.json"
    #: What it serves, for people: the distribution's comment ...
    description: str = "public static data (OpenAPI, JWKS)"
    #: ... and its key's description ("encrypts <contents> CloudFront serves").
    contents: str = "the public static data"


class StaticSite(pulumi.ComponentResource):
    """Key, bucket and objects, origin access control, distribution and its logs."""

    distribution: aws.cloudfront.Distribution

    def __init__(self, name: str, args: StaticSiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:edge:StaticSite", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        distributions = f"arn:aws:cloudfront::{args.account_id}:distribution/*"
        key = KmsKey(f"{name}-key", KmsKeyArgs(
            description=f"{args.name_prefix}: encrypts {args.contents} CloudFront serves",
            account_id=args.account_id, alias=f"{args.name_prefix}/{args.site}",
            grants=[KeyGrant("CloudFrontReads", ["cloudfront.amazonaws.com"],
                             {"StringEquals": {"aws:SourceAccount": args.account_id},
                              "ArnLike": {"aws:SourceArn": distributions}}, actions=("kms:Decrypt",))],
            protect=args.protect), opts=child)
        access = aws.cloudfront.OriginAccessControl(
            f"{name}-oac", name=f"{args.name_prefix}-{args.site}", description="CloudFront signs its reads of the bucket",
            origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4", opts=child)
        self.distribution = aws.cloudfront.Distribution(
            name, enabled=True, comment=f"{args.name_prefix}: {args.description}",
            aliases=[args.domain_name], http_version="http2and3", is_ipv6_enabled=True, price_class="PriceClass_100",
            web_acl_id=args.web_acl_arn, default_root_object=args.default_root_object,
            origins=[aws.cloudfront.DistributionOriginArgs(
                origin_id=ORIGIN_ID, domain_name=f"{args.bucket_name}.s3.{args.region}.amazonaws.com",
                origin_access_control_id=access.id)],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=ORIGIN_ID, viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD"], cached_methods=["GET", "HEAD"], cache_policy_id=CACHING_OPTIMIZED,
                response_headers_policy_id=SECURITY_HEADERS, compress=True),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=args.certificate_arn, ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021"),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
            opts=child)
        arn = bucket_arn(args.bucket_name)
        self.bucket = ContentBucket(f"{name}-bucket", ContentBucketArgs(
            bucket_name=args.bucket_name, kms_key_arn=key.arn, objects=args.objects, protect=args.protect,
            policy_statements=[{
                "Sid": "CloudFrontReads", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject", "Resource": f"{arn}/*",
                "Condition": {"StringEquals": {"aws:SourceArn": self.distribution.arn}}}]),
            opts=child)
        DistributionLogs(f"{name}-logs", DistributionLogsArgs(
            distribution_arn=self.distribution.arn, log_name=f"{args.name_prefix}-{args.site}",
            bucket_arn=args.access_logs_bucket_arn), opts=child)
        self.domain_name = self.distribution.domain_name
        self.hosted_zone_id = self.distribution.hosted_zone_id
        self.register_outputs({"distributionId": self.distribution.id, "domainName": self.domain_name})
