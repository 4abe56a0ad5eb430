"""The AWS Organization itself: OUs, member accounts it creates, and the policies attached to the OUs.

The organization is protected: in a bank it exists before the landing zone, so it is adopted with
`pulumi import` (docs/foundation.md), never created or deleted by an update. Accounts the config asks
to create are protected, retained on delete, and ignore `role_name` (AWS cannot read it back).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .service_control_policies import render

POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY")


@dataclass(frozen=True)
class NewAccount:
    """A member account the organization creates in `ou` (a path such as "Security")."""

    #: Stable logical key, e.g. "security": names the Pulumi resource and keys `account_ids`.
    key: str
    #: The account's name in the organization.
    name: str
    #: The account root user's email address (unique across AWS).
    email: str
    #: Path of the OU the account is placed in, one of `ou_paths` (e.g. "Security").
    ou: str


@dataclass(frozen=True)
class OrganizationPolicy:
    """A policy document and the OU paths it is attached to."""

    #: Logical key; the policy is named `lz-<key>`.
    key: str
    #: SERVICE_CONTROL_POLICY, TAG_POLICY or BACKUP_POLICY.
    type: str
    #: The policy's description in AWS Organizations.
    description: str
    #: The policy document; an SCP rendered over 5,120 characters (compact JSON) is refused.
    content: Mapping[str, Any]
    #: OU paths the policy is attached to; each must be one of `ou_paths`.
    targets: Sequence[str]


@dataclass(frozen=True)
class OrganizationStructureArgs:
    """The organization's trusted services, OU tree, policies and the accounts it creates."""

    #: Service principals given trusted access to the organization, e.g.
    #: "guardduty.amazonaws.com".
    service_access_principals: Sequence[str]
    #: OU paths, parents before children: "Workloads" before "Workloads/Prod".
    ou_paths: Sequence[str]
    #: Policies to create, each attached to its target OUs.
    policies: Sequence[OrganizationPolicy]
    #: Member accounts the organization creates (protected, retained on delete, never closed by
    #: Pulumi); empty: every account is adopted by id.
    new_accounts: Sequence[NewAccount] = field(default_factory=tuple)


def _content(policy: OrganizationPolicy) -> str:
    if policy.type == "SERVICE_CONTROL_POLICY":
        return render(dict(policy.content))
    return json.dumps(policy.content, separators=(",", ":"))


def _slug(path: str) -> str:
    return path.lower().replace("/", "-")


class OrganizationStructure(pulumi.ComponentResource):
    """The organization (adopted, protected), its OUs, its policies and their attachments, created accounts."""

    organization: aws.organizations.Organization
    root_id: pulumi.Output[str]
    ou_ids: dict[str, pulumi.Output[str]]
    account_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: OrganizationStructureArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:organization:OrganizationStructure", name, None, opts)
        self.organization = aws.organizations.Organization(
            name,
            feature_set="ALL",
            aws_service_access_principals=sorted(args.service_access_principals),
            enabled_policy_types=list(POLICY_TYPES),
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        on_org = pulumi.ResourceOptions(parent=self.organization)
        self.root_id = self.organization.roots.apply(lambda roots: str(roots[0].id))
        self.ous: dict[str, aws.organizations.OrganizationalUnit] = {}
        for path in args.ou_paths:
            parent_path, _, leaf = path.rpartition("/")
            if parent_path and parent_path not in self.ous:
                raise ValueError(f"OU {path!r} is listed before its parent {parent_path!r}")
            self.ous[path] = aws.organizations.OrganizationalUnit(
                f"{name}-ou-{_slug(path)}",
                name=leaf,
                parent_id=self.ous[parent_path].id if parent_path else self.root_id,
                opts=pulumi.ResourceOptions(parent=self.organization, protect=True),
            )
        self.ou_ids = {path: ou.id for path, ou in self.ous.items()}

        self.policies: dict[str, aws.organizations.Policy] = {}
        for policy in args.policies:
            unknown = [t for t in policy.targets if t not in self.ous]
            if unknown:
                raise ValueError(f"policy {policy.key!r} targets unknown OUs {unknown}")
            created = aws.organizations.Policy(
                f"{name}-{policy.key}",
                name=f"lz-{policy.key}",
                description=policy.description,
                type=policy.type,
                content=_content(policy),
                opts=on_org,
            )
            self.policies[policy.key] = created
            for target in policy.targets:
                aws.organizations.PolicyAttachment(
                    f"{name}-{policy.key}-{_slug(target)}",
                    policy_id=created.id,
                    target_id=self.ous[target].id,
                    opts=pulumi.ResourceOptions(parent=created),
                )

        self.accounts: dict[str, aws.organizations.Account] = {}
        for account in args.new_accounts:
            if account.ou not in self.ous:
                raise ValueError(f"account {account.key!r} is placed in unknown OU {account.ou!r}")
            self.accounts[account.key] = aws.organizations.Account(
                f"{name}-account-{account.key}",
                name=account.name,
                email=account.email,
                parent_id=self.ous[account.ou].id,
                role_name="OrganizationAccountAccessRole",
                iam_user_access_to_billing="DENY",
                close_on_deletion=False,
                opts=pulumi.ResourceOptions(parent=self.organization, protect=True, retain_on_delete=True,
                                            ignore_changes=["roleName"]),
            )
        self.account_ids = {key: account.id for key, account in self.accounts.items()}
        self.register_outputs({"rootId": self.root_id, "ouIds": self.ou_ids, "accountIds": self.account_ids})
