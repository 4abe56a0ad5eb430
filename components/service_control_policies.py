"""The organization's preventive guardrails as service control policy documents.

Pure functions returning policy dicts, so tests parse exactly what AWS Organizations receives. Each
guardrail is a list of statements; :func:`guardrail_policies` groups them into the few documents the
organization attaches, because AWS allows at most five SCPs on one target (FullAWSAccess included)
and 5,120 characters per SCP. Exemptions name the landing zone's deploy role through
`aws:PrincipalArn`, never a user: SCPs never restrict the management account or service-linked roles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Statement = dict[str, Any]
Document = dict[str, Any]

#: AWS Organizations rejects a service control policy larger than this (characters).
MAX_SCP_CHARACTERS = 5120

#: What an attacker (or a careless admin) would call to blind the detective controls.
SECURITY_SERVICE_ACTIONS: dict[str, tuple[str, ...]] = {
    "CloudTrail": (
        "cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
        "cloudtrail:PutEventSelectors", "cloudtrail:PutInsightSelectors", "cloudtrail:RemoveTags",
        "cloudtrail:DeleteEventDataStore", "cloudtrail:UpdateEventDataStore", "cloudtrail:StopEventDataStoreIngestion",
    ),
    "GuardDuty": (
        "guardduty:DeleteDetector", "guardduty:UpdateDetector", "guardduty:DisassociateFromMasterAccount",
        "guardduty:DisassociateFromAdministratorAccount", "guardduty:DisassociateMembers",
        "guardduty:DeleteMembers", "guardduty:StopMonitoringMembers", "guardduty:CreateFilter",
        "guardduty:UpdateFilter", "guardduty:DeletePublishingDestination", "guardduty:UpdateMalwareScanSettings",
        "guardduty:DeleteMalwareProtectionPlan", "guardduty:UpdateOrganizationConfiguration",
    ),
    "Config": (
        "config:DeleteConfigurationRecorder", "config:StopConfigurationRecorder", "config:PutConfigurationRecorder",
        "config:DeleteDeliveryChannel", "config:PutDeliveryChannel", "config:DeleteConfigRule",
        "config:DeleteOrganizationConfigRule", "config:DeleteConformancePack",
        "config:DeleteOrganizationConformancePack", "config:DeleteConfigurationAggregator",
        "config:DeleteAggregationAuthorization", "config:DeleteRetentionConfiguration",
        "config:DeleteEvaluationResults",
    ),
    "SecurityHub": (
        "securityhub:DisableSecurityHub", "securityhub:DisassociateFromMasterAccount",
        "securityhub:DisassociateFromAdministratorAccount", "securityhub:DisassociateMembers",
        "securityhub:DeleteMembers", "securityhub:BatchDisableStandards", "securityhub:UpdateStandardsControl",
        "securityhub:DisableImportFindingsForProduct", "securityhub:DeleteFindingAggregator",
        "securityhub:UpdateOrganizationConfiguration",
    ),
    "AccessAnalyzer": (
        "access-analyzer:DeleteAnalyzer", "access-analyzer:CreateArchiveRule", "access-analyzer:UpdateArchiveRule",
        "access-analyzer:ApplyArchiveRule",
    ),
}

#: Global services (and global reads of regional ones) the region guardrail exempts: the list of
#: AWS's own "deny access based on the requested Region" example, which these services need to work
#: from their single control-plane region (us-east-1).
GLOBAL_SERVICE_ACTIONS: tuple[str, ...] = (
    "a4b:*", "account:*", "acm:*", "aws-marketplace-management:*", "aws-marketplace:*",
    "aws-portal:*", "billing:*", "budgets:*", "ce:*", "chime:*", "cloudfront:*", "config:*", "cur:*",
    "directconnect:*", "ec2:DescribeRegions", "ec2:DescribeTransitGateways", "ec2:DescribeVpnGateways",
    "fms:*", "freetier:*", "globalaccelerator:*", "health:*", "iam:*", "importexport:*", "invoicing:*",
    "kms:*", "mobileanalytics:*", "networkmanager:*", "notifications:*", "organizations:*", "payments:*",
    "pricing:*", "route53:*", "route53domains:*", "route53-recovery-cluster:*",
    "route53-recovery-control-config:*", "route53-recovery-readiness:*", "s3:CreateMultiRegionAccessPoint",
    "s3:GetAccountPublic*", "s3:ListAllMyBuckets", "s3:ListMultiRegionAccessPoints", "s3:PutAccountPublic*",
    "shield:*", "sts:*", "support:*", "tax:*", "trustedadvisor:*", "waf-regional:*", "waf:*", "wafv2:*",
    "wellarchitected:*",
)

#: Hybrid connectivity a sandbox must never have: the sandbox reaches nothing but egress.
SANDBOX_DENIED_ALWAYS: tuple[str, ...] = (
    "directconnect:*",
    "ec2:CreateVpnConnection", "ec2:CreateVpnConnectionRoute", "ec2:ModifyVpnConnection",
    "ec2:ModifyVpnConnectionOptions", "ec2:ModifyVpnTunnelOptions", "ec2:CreateVpnGateway",
    "ec2:AttachVpnGateway", "ec2:EnableVgwRoutePropagation", "ec2:CreateCustomerGateway",
)
#: Network wiring only the platform's pipeline may change in a sandbox account.
SANDBOX_DENIED_EXCEPT_PIPELINE: tuple[str, ...] = (
    "ec2:CreateTransitGateway*", "ec2:ModifyTransitGateway*", "ec2:DeleteTransitGateway*",
    "ec2:AcceptTransitGateway*", "ec2:AssociateTransitGateway*", "ec2:DisassociateTransitGateway*",
    "ec2:EnableTransitGatewayRouteTablePropagation", "ec2:DisableTransitGatewayRouteTablePropagation",
    "ec2:ReplaceTransitGatewayRoute", "ec2:RejectTransitGateway*",
    "ram:CreateResourceShare", "ram:UpdateResourceShare", "ram:DeleteResourceShare",
    "ram:AssociateResourceShare", "ram:DisassociateResourceShare", "ram:AcceptResourceShareInvitation",
    "ram:AssociateResourceSharePermission", "ram:EnableSharingWithAwsOrganization",
)


def deploy_role_arn_pattern(deploy_role_name: str) -> str:
    """The landing zone's deploy role in any account of the organization."""
    return f"arn:aws:iam::*:role/{deploy_role_name}"


def _unless_pipeline(deploy_role_name: str) -> dict[str, Any]:
    return {"ArnNotLike": {"aws:PrincipalArn": [deploy_role_arn_pattern(deploy_role_name)]}}


def deny_leaving_organization() -> list[Statement]:
    """A member account that leaves takes itself out of every guardrail and detective control."""
    return [{"Sid": "DenyLeavingOrganization", "Effect": "Deny", "Action": ["organizations:LeaveOrganization"],
             "Resource": "*"}]


def deny_root_user() -> list[Statement]:
    """Member accounts' root users do nothing: every action goes through federated, audited roles."""
    return [{"Sid": "DenyRootUser", "Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"StringLike": {"aws:PrincipalArn": ["arn:aws:iam::*:root"]}}}]


def deny_account_public_access_block_changes(deploy_role_name: str) -> list[Statement]:
    """The account-level S3 public access block (set by the account baseline) stays on."""
    return [{"Sid": "DenyS3AccountPublicAccessBlockChanges", "Effect": "Deny",
             "Action": ["s3:PutAccountPublicAccessBlock"], "Resource": "*",
             "Condition": _unless_pipeline(deploy_role_name)}]


def require_imdsv2(deploy_role_name: str) -> list[Statement]:
    """Instances start with IMDSv2 only (session tokens, hop limit 2 at most), nobody but the pipeline
    relaxes it later, and credentials fetched over IMDSv1 are useless."""
    return [
        {"Sid": "RequireImdsV2OnLaunch", "Effect": "Deny", "Action": ["ec2:RunInstances"],
         "Resource": "arn:aws:ec2:*:*:instance/*",
         "Condition": {"StringNotEquals": {"ec2:MetadataHttpTokens": "required"}}},
        {"Sid": "LimitImdsHopLimitOnLaunch", "Effect": "Deny", "Action": ["ec2:RunInstances"],
         "Resource": "arn:aws:ec2:*:*:instance/*",
         "Condition": {"NumericGreaterThan": {"ec2:MetadataHttpPutResponseHopLimit": "2"}}},
        {"Sid": "DenyImdsChangesExceptPipeline", "Effect": "Deny", "Action": ["ec2:ModifyInstanceMetadataOptions"],
         "Resource": "*", "Condition": _unless_pipeline(deploy_role_name)},
        {"Sid": "DenyImdsV1RoleCredentials", "Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"NumericLessThan": {"ec2:RoleDelivery": "2.0"}}},
    ]


def protect_security_services(deploy_role_name: str) -> list[Statement]:
    """CloudTrail, GuardDuty, Config, Security Hub and Access Analyzer cannot be stopped or altered
    by anyone but the landing zone's pipeline."""
    return [{"Sid": f"Protect{service}", "Effect": "Deny", "Action": list(actions), "Resource": "*",
             "Condition": _unless_pipeline(deploy_role_name)}
            for service, actions in SECURITY_SERVICE_ACTIONS.items()]


#: Where the global services keep what a workload account's edge needs (CloudFront certificates, WAF, DNSSEC keys).
GLOBAL_REGION = "us-east-1"
#: Regional services the edge also uses in us-east-1, for the pipeline only: Route 53 query logs and CloudFront's
#: log deliveries (CloudWatch Logs), and reading the private CA of CloudFront's origin certificate (ACM PCA).
EDGE_REGIONAL_ACTIONS: tuple[str, ...] = ("logs:*", "acm-pca:*")


def deny_outside_regions(allowed_regions: Sequence[str], deploy_role_name: str) -> list[Statement]:
    """Nothing regional happens outside the allowed regions (data residency); global services are
    exempt because their control plane lives in us-east-1. The pipeline may also use CloudWatch Logs and
    ACM PCA there, for the edge's global pieces (docs/edge.md); nobody else may."""
    if not allowed_regions:
        raise ValueError("the region guardrail needs at least one allowed region")
    regions = sorted(allowed_regions)
    if GLOBAL_REGION in regions:
        return [{"Sid": "DenyOutsideAllowedRegions", "Effect": "Deny", "NotAction": list(GLOBAL_SERVICE_ACTIONS),
                 "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": regions}}}]
    return [
        {"Sid": "DenyOutsideAllowedRegions", "Effect": "Deny",
         "NotAction": [*GLOBAL_SERVICE_ACTIONS, *EDGE_REGIONAL_ACTIONS], "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:RequestedRegion": regions}}},
        {"Sid": "DenyEdgeServicesOutsideAllowedRegions", "Effect": "Deny", "Action": list(EDGE_REGIONAL_ACTIONS),
         "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": sorted([*regions, GLOBAL_REGION])}}},
        {"Sid": "DenyEdgeServicesInGlobalRegionExceptPipeline", "Effect": "Deny",
         "Action": list(EDGE_REGIONAL_ACTIONS), "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": GLOBAL_REGION}, **_unless_pipeline(deploy_role_name)}},
    ]


def sandbox_network_isolation(deploy_role_name: str) -> list[Statement]:
    """A sandbox never gets Direct Connect or VPN; Transit Gateway and RAM wiring is the pipeline's."""
    return [
        {"Sid": "DenySandboxHybridConnectivity", "Effect": "Deny", "Action": list(SANDBOX_DENIED_ALWAYS),
         "Resource": "*"},
        {"Sid": "DenySandboxNetworkWiring", "Effect": "Deny", "Action": list(SANDBOX_DENIED_EXCEPT_PIPELINE),
         "Resource": "*", "Condition": _unless_pipeline(deploy_role_name)},
    ]


def deny_everything() -> list[Statement]:
    """A suspended account can do nothing until it is closed or moved back."""
    return [{"Sid": "DenyAllInSuspendedAccounts", "Effect": "Deny", "Action": "*", "Resource": "*"}]


def document(statements: Sequence[Statement]) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def render(doc: Document) -> str:
    """The compact JSON AWS Organizations stores; refuses a policy over the SCP size limit."""
    text = json.dumps(doc, separators=(",", ":"))
    if len(text) > MAX_SCP_CHARACTERS:
        raise ValueError(f"service control policy of {len(text)} characters exceeds AWS's "
                         f"{MAX_SCP_CHARACTERS}-character limit")
    return text


#: Policy key -> what it is for (the attached SCP's description).
GUARDRAILS: dict[str, str] = {
    "baseline": "Deny leaving the organization, the root user, S3 account public access block changes; require IMDSv2",
    "security-services": "Deny stopping or altering CloudTrail, GuardDuty, Config, Security Hub and Access Analyzer",
    "regions": "Deny regional actions outside the allowed regions (global services exempt; the pipeline's edge "
               "logs and CA reads in us-east-1 too)",
    "sandbox-network": "Deny Direct Connect and VPN; Transit Gateway and RAM changes only by the pipeline",
    "suspended": "Deny every action in suspended accounts",
}


def guardrail_policies(deploy_role_name: str, allowed_regions: Sequence[str]) -> dict[str, Document]:
    """The attached SCPs, keyed as in :data:`GUARDRAILS`."""
    return {
        "baseline": document([*deny_leaving_organization(), *deny_root_user(),
                              *deny_account_public_access_block_changes(deploy_role_name),
                              *require_imdsv2(deploy_role_name)]),
        "security-services": document(protect_security_services(deploy_role_name)),
        "regions": document(deny_outside_regions(allowed_regions, deploy_role_name)),
        "sandbox-network": document(sandbox_network_isolation(deploy_role_name)),
        "suspended": document(deny_everything()),
    }
