"""An OpenSearch domain for log analytics, reachable only inside its VPC and only through IAM.

Fine-grained access control with the internal user database off: the master user is an IAM role, so
every request is SigV4-signed and attributable; only the named administrator roles may assume it (by
`aws:PrincipalArn`), never a whole account: whoever holds the master role reads and rewrites every log.
Encrypted at rest with a customer key and between nodes, HTTPS only with the TLS 1.2 forward-secrecy
policy, audit and error logs to KMS-encrypted CloudWatch log groups (through a resource policy scoped to
this domain).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
#: Logs the domain publishes; AUDIT_LOGS needs fine-grained access control.
LOG_TYPES = ("AUDIT_LOGS", "ES_APPLICATION_LOGS")


@dataclass(frozen=True)
class OpenSearchDomainArgs:
    """The log analytics domain: its size, network placement, encryption and who may write to it."""

    #: Domain name: 3-28 characters of a-z, 0-9 and '-', starting with a letter (else refused);
    #: also names its master role, log groups and log resource policy.
    domain_name: str
    #: The account the domain lives in: the log resource policy is scoped to it.
    account_id: str
    #: The region (part of the domain's ARN).
    region: str
    #: Engine and version, e.g. "OpenSearch_2.19".
    engine_version: str
    #: Data node instance type, e.g. "r6g.large.search".
    instance_type: str
    #: Number of data nodes; with zone awareness, a multiple of `availability_zones`.
    instance_count: int
    #: Size of each data node's gp3 EBS volume, in GiB.
    volume_size_gb: int
    #: Zones the data nodes spread across (1-3); more than 1 turns zone awareness on.
    availability_zones: int
    #: Instance type of the dedicated master nodes; None: no dedicated masters (the
    #: data nodes elect one).
    dedicated_master_type: str | None
    #: Number of dedicated master nodes (3 or 5); ignored when `dedicated_master_type` is None.
    dedicated_master_count: int
    #: The VPC of the domain's security group.
    vpc_id: pulumi.Input[str]
    #: The VPC's IPv4 range: the only source admitted on HTTPS (443) to the domain.
    vpc_cidr: str
    #: Subnets the domain's network interfaces are placed in, one per zone.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: Encrypts the domain at rest and its audit and application log groups.
    kms_key_arn: pulumi.Input[str]
    #: Days CloudWatch keeps the domain's audit and application log events.
    log_retention_days: int
    #: The roles that may assume the master role (at least one; `aws:PrincipalArn`, so an IAM Identity Center
    #: role's generated suffix may be `*`): a break-glass role, an administrators' permission set.
    administrator_role_arns: Sequence[str]
    #: IAM principals (besides the master role) allowed to send HTTP requests, e.g. ingestion roles.
    writer_role_arns: Sequence[pulumi.Input[str]] = ()
    #: Pulumi `protect` and `retain_on_delete` on the domain: no update deletes it, a destroy leaves it (prod).
    protect: bool = True

    def __post_init__(self) -> None:
        if not (3 <= len(self.domain_name) <= 28 and self.domain_name[0].isalpha()
                and all(c.islower() or c.isdigit() or c == "-" for c in self.domain_name)):
            raise ValueError(f"OpenSearch domain name {self.domain_name!r} must be 3-28 characters of a-z, 0-9 "
                             "and '-', starting with a letter")
        if not self.administrator_role_arns or not all(
                a.startswith("arn:aws:iam::") and ":role/" in a for a in self.administrator_role_arns):
            raise ValueError(f"OpenSearch domain {self.domain_name!r} needs at least one administrator role ARN "
                             f"(got {list(self.administrator_role_arns)!r}); its master role trusts no account")

    @property
    def arn(self) -> str:
        return f"arn:aws:es:{self.region}:{self.account_id}:domain/{self.domain_name}"


def master_trust_policy(administrator_role_arns: Sequence[str]) -> str:
    """Trust the named roles only: their accounts as principals, narrowed by `aws:PrincipalArn` (which, unlike
    a role principal, admits an IAM Identity Center role's generated suffix as `*` and survives the role's
    re-creation). No MFA condition: a role session carries none; MFA is enforced where the administrator signs
    in (IAM Identity Center, or the break-glass role's own trust)."""
    accounts = sorted({arn.split(":")[4] for arn in administrator_role_arns})
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{account}:root" for account in accounts]},
        "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:PrincipalArn": list(administrator_role_arns)}},
    }]})


class OpenSearchDomain(pulumi.ComponentResource):
    """The domain with its IAM master role, security group, log groups and log resource policy."""

    arn: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    master_role_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: OpenSearchDomainArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:analytics:OpenSearchDomain", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.master_role = aws.iam.Role(
            f"{name}-master",
            name=f"{args.domain_name}-master",
            description=f"Fine-grained access control master of OpenSearch domain {args.domain_name}",
            assume_role_policy=master_trust_policy(args.administrator_role_arns),
            max_session_duration=3600,
            opts=child,
        )
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"OpenSearch domain {args.domain_name}: HTTPS from inside its VPC only",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-https-from-vpc",
            security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=args.vpc_cidr,
            description="HTTPS from the ingestion pipelines and analysts' endpoints in the VPC",
            opts=pulumi.ResourceOptions(parent=self.security_group),
        )
        groups = {
            log_type: aws.cloudwatch.LogGroup(
                f"{name}-{log_type.lower().replace('_', '-')}",
                name=f"/aws/opensearch/{args.domain_name}/{log_type.lower()}",
                kms_key_id=args.kms_key_arn,
                retention_in_days=args.log_retention_days,
                opts=child,
            ) for log_type in LOG_TYPES
        }
        log_policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-log-delivery",
            policy_name=f"{args.domain_name}-log-delivery",
            policy_document=pulumi.Output.all(*[g.arn for g in groups.values()]).apply(
                lambda arns: json.dumps({"Version": "2012-10-17", "Statement": [{
                    "Sid": "OpenSearchPublishesLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "es.amazonaws.com"},
                    "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                    "Resource": [f"{arn}:*" for arn in arns],
                    "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id},
                                  "ArnLike": {"aws:SourceArn": args.arn}},
                }]})),
            opts=child,
        )
        dedicated = args.dedicated_master_type is not None
        zone_aware = args.availability_zones > 1
        principals = pulumi.Output.all(self.master_role.arn, *args.writer_role_arns)
        self.domain = aws.opensearch.Domain(
            name,
            domain_name=args.domain_name,
            engine_version=args.engine_version,
            cluster_config=aws.opensearch.DomainClusterConfigArgs(
                instance_type=args.instance_type,
                instance_count=args.instance_count,
                dedicated_master_enabled=dedicated,
                dedicated_master_type=args.dedicated_master_type,
                dedicated_master_count=args.dedicated_master_count if dedicated else None,
                zone_awareness_enabled=zone_aware,
                zone_awareness_config=aws.opensearch.DomainClusterConfigZoneAwarenessConfigArgs(
                    availability_zone_count=args.availability_zones) if zone_aware else None,
            ),
            ebs_options=aws.opensearch.DomainEbsOptionsArgs(
                ebs_enabled=True, volume_type="gp3", volume_size=args.volume_size_gb),
            vpc_options=aws.opensearch.DomainVpcOptionsArgs(
                subnet_ids=list(args.subnet_ids), security_group_ids=[self.security_group.id]),
            encrypt_at_rest=aws.opensearch.DomainEncryptAtRestArgs(enabled=True, kms_key_id=args.kms_key_arn),
            node_to_node_encryption=aws.opensearch.DomainNodeToNodeEncryptionArgs(enabled=True),
            domain_endpoint_options=aws.opensearch.DomainDomainEndpointOptionsArgs(
                enforce_https=True, tls_security_policy=TLS_POLICY),
            advanced_security_options=aws.opensearch.DomainAdvancedSecurityOptionsArgs(
                enabled=True,
                anonymous_auth_enabled=False,
                internal_user_database_enabled=False,
                master_user_options=aws.opensearch.DomainAdvancedSecurityOptionsMasterUserOptionsArgs(
                    master_user_arn=self.master_role.arn),
            ),
            access_policies=principals.apply(lambda arns: json.dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "NamedRolesOnly",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(arns)},
                "Action": ["es:ESHttp*"],
                "Resource": f"{args.arn}/*",
            }]})),
            log_publishing_options=[
                aws.opensearch.DomainLogPublishingOptionArgs(
                    log_type=log_type, cloudwatch_log_group_arn=group.arn, enabled=True)
                for log_type, group in groups.items()
            ],
            software_update_options=aws.opensearch.DomainSoftwareUpdateOptionsArgs(
                auto_software_update_enabled=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_policy], protect=args.protect,
                                        retain_on_delete=args.protect),
        )
        self.arn = self.domain.arn
        self.endpoint = self.domain.endpoint
        self.master_role_arn = self.master_role.arn
        self.security_group_id = self.security_group.id
        self.register_outputs({"arn": self.arn, "endpoint": self.endpoint, "masterRoleArn": self.master_role_arn})
