"""The management account of the AWS Organization (reference architecture [16], [17]).

It holds what only the management account can: the organization and its OUs, the guardrail SCPs and
the tag and backup policies attached to them, accounts the organization creates, the organization
trail, and the registration of the security account as delegated administrator of every detective
service (so the day-to-day work happens there, not here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.organization_policies import backup_policy, tag_policy
from components.organization_structure import (
    NewAccount,
    OrganizationPolicy,
    OrganizationStructure,
    OrganizationStructureArgs,
)
from components.organization_trail import OrganizationTrail, OrganizationTrailArgs
from components.service_control_policies import GUARDRAILS, guardrail_policies

from .base import Account, AccountContext

SECURITY = "Security"
INFRASTRUCTURE = "Infrastructure"
WORKLOADS = "Workloads"
WORKLOADS_PROD = "Workloads/Prod"
WORKLOADS_NONPROD = "Workloads/NonProd"
SANDBOX = "Sandbox"
SUSPENDED = "Suspended"
#: The OU tree, parents first.
OU_PATHS = (SECURITY, INFRASTRUCTURE, WORKLOADS, WORKLOADS_PROD, WORKLOADS_NONPROD, SANDBOX, SUSPENDED)
#: Top-level OUs that hold working accounts (Workloads/Prod and NonProd inherit from Workloads).
ACTIVE_OUS = (SECURITY, INFRASTRUCTURE, WORKLOADS, SANDBOX)
#: Guardrail (service_control_policies.GUARDRAILS key) -> the OUs it is attached to.
GUARDRAIL_TARGETS: dict[str, tuple[str, ...]] = {
    "baseline": ACTIVE_OUS,
    "security-services": ACTIVE_OUS,
    "regions": ACTIVE_OUS,
    "sandbox-network": (SANDBOX,),
    "suspended": (SUSPENDED,),
}

#: Services that act across the organization (trusted access); each delegated admin needs its own.
SERVICE_ACCESS_PRINCIPALS = (
    "access-analyzer.amazonaws.com", "backup.amazonaws.com", "cloudtrail.amazonaws.com", "config.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com", "guardduty.amazonaws.com",
    "malware-protection.guardduty.amazonaws.com", "ram.amazonaws.com", "securityhub.amazonaws.com",
    "sso.amazonaws.com",
)
MACIE_PRINCIPAL = "macie.amazonaws.com"
#: Services whose delegated administrator is registered through `aws.organizations.DelegatedAdministrator`.
DELEGATED_SERVICE_PRINCIPALS = ("config.amazonaws.com", "config-multiaccountsetup.amazonaws.com",
                                "access-analyzer.amazonaws.com")


@dataclass(frozen=True)
class TrailSettings:
    """Where the organization trail delivers, how long CloudWatch keeps it, which data events it records."""

    #: The log archive's trail bucket (name).
    bucket_name: pulumi.Input[str]
    #: The log archive key the trail's log files are encrypted with.
    kms_key_arn: pulumi.Input[str]
    #: Days CloudWatch keeps the trail's events in the management account.
    log_retention_days: int
    #: Buckets whose object-level (data) events the trail records; empty: none.
    data_event_bucket_names: Sequence[str] = ()
    #: ARNs of DynamoDB tables whose data events the trail records; empty: none.
    data_event_table_arns: Sequence[str] = ()


@dataclass(frozen=True)
class OrganizationArgs:
    """The organization's guardrails, trail, tag and backup policies, delegated admin and created accounts."""

    #: Name of the landing zone's deploy role: the one principal the SCPs exempt
    #: (`arn:aws:iam::*:role/<name>`).
    deploy_role_name: str
    #: Regions the region guardrail allows, and the regions of the prod backup plan.
    allowed_regions: Sequence[str]
    #: The security account: registered as delegated administrator of GuardDuty, Security
    #: Hub, Config, Access Analyzer and (with `macie`) Macie.
    security_account_id: str
    #: The organization trail's destination, retention and data events.
    trail: TrailSettings
    #: Governance tag keys (the providers' default tags): the tag policy pins their capitalisation.
    tag_keys: Sequence[str]
    #: Tag key -> the only values it accepts (refused on S3 buckets and DynamoDB tables, reported
    #: elsewhere); keys not listed accept any value.
    tag_values: Mapping[str, Sequence[str]]
    #: Days the prod daily backup plan keeps each recovery point.
    backup_retention_days: int
    #: Give Macie trusted access and register its delegated administrator; False: no Macie.
    macie: bool = True
    #: Member accounts the organization creates, each in its OU; empty: all accounts are adopted by id.
    new_accounts: Sequence[NewAccount] = field(default_factory=tuple)


def organization_policies(args: OrganizationArgs) -> list[OrganizationPolicy]:
    """Every policy the organization attaches, with its targets."""
    scps = guardrail_policies(args.deploy_role_name, args.allowed_regions)
    policies = [OrganizationPolicy(key=f"scp-{key}", type="SERVICE_CONTROL_POLICY", description=GUARDRAILS[key],
                                   content=scps[key], targets=GUARDRAIL_TARGETS[key]) for key in scps]
    policies.append(OrganizationPolicy(
        key="tag-governance", type="TAG_POLICY", description="Spelling and values of the governance tags",
        content=tag_policy(args.tag_keys, args.tag_values), targets=ACTIVE_OUS))
    policies.append(OrganizationPolicy(
        key="backup-prod", type="BACKUP_POLICY",
        description="Daily backups of confidential and restricted data in production accounts",
        content=backup_policy("prod-daily", args.allowed_regions, args.backup_retention_days,
                              "DataClassification", ("confidential", "restricted")),
        targets=(WORKLOADS_PROD,)))
    return policies


class OrganizationAccount(Account):
    """The organization with its OUs and policies, the delegated administrators and the organization trail."""

    TYPE = "openbanking:account:Organization"

    delegated_administrators: list[pulumi.Resource]

    def __init__(self, name: str, ctx: AccountContext, args: OrganizationArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, opts)
        principals = [*SERVICE_ACCESS_PRINCIPALS, *([MACIE_PRINCIPAL] if args.macie else [])]
        self.structure = OrganizationStructure(
            f"{name}-organization",
            OrganizationStructureArgs(service_access_principals=principals, ou_paths=OU_PATHS,
                                      policies=organization_policies(args), new_accounts=args.new_accounts),
            opts=self.child,
        )
        after_org = pulumi.ResourceOptions(parent=self, depends_on=[self.structure.organization])
        security = args.security_account_id
        self.delegated_administrators = [
            aws.guardduty.OrganizationAdminAccount(f"{name}-guardduty-admin", admin_account_id=security,
                                                   opts=after_org),
            aws.securityhub.OrganizationAdminAccount(f"{name}-securityhub-admin", admin_account_id=security,
                                                     opts=after_org),
            *[aws.organizations.DelegatedAdministrator(
                f"{name}-delegated-{principal.split('.')[0]}", account_id=security, service_principal=principal,
                opts=after_org) for principal in DELEGATED_SERVICE_PRINCIPALS],
        ]
        if args.macie:
            self.delegated_administrators.append(aws.macie2.OrganizationAdminAccount(
                f"{name}-macie-admin", admin_account_id=security, opts=after_org))
        self.trail = OrganizationTrail(
            f"{name}-trail",
            OrganizationTrailArgs(
                trail_name=f"{ctx.environment}-organization-trail",
                account_id=ctx.account_id,
                region=ctx.region,
                s3_bucket_name=args.trail.bucket_name,
                kms_key_arn=args.trail.kms_key_arn,
                local_kms_key_arn=self.baseline.account_key.arn,
                log_retention_days=args.trail.log_retention_days,
                data_event_bucket_names=args.trail.data_event_bucket_names,
                data_event_table_arns=args.trail.data_event_table_arns,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.structure.organization]),
        )
        self.organization_root_id = self.structure.root_id
        self.ou_ids = self.structure.ou_ids
        self.register_outputs({"rootId": self.organization_root_id, "ouIds": self.ou_ids,
                               "trailArn": self.trail.trail_arn})
