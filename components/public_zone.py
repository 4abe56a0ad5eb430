"""The environment's public hosted zone: DNSSEC-signed, every query logged.

Route 53 only signs with a KMS key in us-east-1 (ECC_NIST_P256, SIGN_VERIFY) and only logs queries to a
CloudWatch log group in us-east-1, so those pieces carry v7's per-resource `region`; the account's provider
stays on the environment's region. Signing starts here; the chain of trust needs the DS record (the
`ds_record` output) in the parent zone, which the parent domain's owner adds (docs/edge.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .kms_key import KeyGrant, KmsKey, KmsKeyArgs

#: Where Route 53 keeps what it signs and logs with.
GLOBAL_REGION = "us-east-1"


@dataclass(frozen=True)
class PublicZoneArgs:
    """One public zone."""

    #: The zone's domain, e.g. "prod.openbanking.example-bank.co.uk".
    domain: str
    #: The account (key policies, the log resource policy's condition).
    account_id: str
    #: Prefix of physical names, e.g. "prod-api".
    name_prefix: str
    #: Days the query logs are kept.
    log_retention_days: int
    #: Protect and retain the zone and its signing key (prod): a new zone means new name servers at the parent.
    protect: bool = True


class PublicZone(pulumi.ComponentResource):
    """Zone, DNSSEC (KMS key, key-signing key, signing) and query logging."""

    zone: aws.route53.Zone

    def __init__(self, name: str, args: PublicZoneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:edge:PublicZone", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        self.zone = aws.route53.Zone(name, name=args.domain, comment=f"{args.name_prefix}: public Open Banking names",
                                     force_destroy=False, opts=kept)

        # DNSSEC: Route 53's DNSSEC service uses the key, for this account's zones only.
        source = {"aws:SourceAccount": args.account_id}
        signing_key = aws.kms.Key(
            f"{name}-dnssec-key",
            description=f"{args.name_prefix}: signs {args.domain} (Route 53 DNSSEC key-signing key)",
            customer_master_key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY", enable_key_rotation=False,
            deletion_window_in_days=30, region=GLOBAL_REGION,
            policy=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Sid": "AccountAdministers", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:aws:iam::{args.account_id}:root"}, "Action": "kms:*", "Resource": "*"},
                {"Sid": "Route53DnssecSigns", "Effect": "Allow", "Principal": {"Service": "dnssec-route53.amazonaws.com"},
                 "Action": ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"], "Resource": "*",
                 "Condition": {"StringEquals": source,
                               "ArnLike": {"aws:SourceArn": "arn:aws:route53:::hostedzone/*"}}},
                {"Sid": "Route53DnssecGrants", "Effect": "Allow",
                 "Principal": {"Service": "dnssec-route53.amazonaws.com"}, "Action": "kms:CreateGrant",
                 "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
            ]}),
            opts=kept)
        self.key_signing_key = aws.route53.KeySigningKey(
            f"{name}-ksk", hosted_zone_id=self.zone.zone_id, key_management_service_arn=signing_key.arn,
            name=f"{args.name_prefix.replace('-', '_')}_ksk", status="ACTIVE", opts=child)
        self.dnssec = aws.route53.HostedZoneDnsSec(
            f"{name}-dnssec", hosted_zone_id=self.zone.zone_id, signing_status="SIGNING",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.key_signing_key]))

        # Query logging: a KMS-encrypted group in us-east-1 that Route 53 may write to.
        log_key = KmsKey(f"{name}-log-key", KmsKeyArgs(
            description=f"{args.name_prefix}: encrypts what the account logs in {GLOBAL_REGION} (DNS queries)",
            account_id=args.account_id, alias=f"{args.name_prefix}/{GLOBAL_REGION}-logs", region=GLOBAL_REGION,
            grants=[KeyGrant("LogsEncrypt", [f"logs.{GLOBAL_REGION}.amazonaws.com"], {"ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{GLOBAL_REGION}:{args.account_id}:log-group:*"}})],
            protect=args.protect), opts=child)
        log_group_name = f"/aws/route53/{args.domain}"
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-query-logs", name=log_group_name, retention_in_days=args.log_retention_days,
            kms_key_id=log_key.arn, region=GLOBAL_REGION, opts=child)
        policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-query-log-policy", policy_name=f"{args.name_prefix}-route53-query-logs", region=GLOBAL_REGION,
            policy_document=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "Route53WritesQueryLogs", "Effect": "Allow", "Principal": {"Service": "route53.amazonaws.com"},
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{GLOBAL_REGION}:{args.account_id}:log-group:{log_group_name}:*",
                "Condition": {"StringEquals": source,
                              "ArnLike": {"aws:SourceArn": "arn:aws:route53:::hostedzone/*"}}}]}),
            opts=child)
        aws.route53.QueryLog(f"{name}-query-log", zone_id=self.zone.zone_id, cloudwatch_log_group_arn=log_group.arn,
                             opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))

        self.zone_id = self.zone.zone_id
        self.name_servers = self.zone.name_servers
        self.ds_record = self.key_signing_key.ds_record
        self.register_outputs({"zoneId": self.zone_id, "nameServers": self.name_servers, "dsRecord": self.ds_record})
