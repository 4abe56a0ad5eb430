"""The security (audit) account: delegated administrator of the organization's detective controls [15].

GuardDuty, Security Hub, AWS Config (aggregator and conformance pack), Macie and IAM Access Analyzer
run organization-wide from here; HIGH and CRITICAL findings reach the security team on an SNS topic.
The management account registers this account as their administrator first (`delegated_administrators`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from components.findings_alerts import FindingsAlerts, FindingsAlertsArgs
from components.security_services import SecurityServices, SecurityServicesArgs

from .base import Account, AccountContext


@dataclass(frozen=True)
class SecurityArgs:
    """What the security account runs organization-wide."""

    #: Enable Macie and auto-enable it for every member; False: no Macie.
    macie: bool = True
    #: Enable GuardDuty EBS malware protection for every member; False: the other protection plans only.
    malware_protection: bool = True
    #: The management account's delegated-administrator registrations, which must exist first.
    delegated_administrators: Sequence[pulumi.Resource] = field(default_factory=tuple)


class SecurityAccount(Account):
    """Organization-wide detective controls and the HIGH/CRITICAL findings topic."""

    TYPE = "openbanking:account:Security"

    findings_topic_arn: pulumi.Output[str]

    def __init__(self, name: str, ctx: AccountContext, args: SecurityArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, opts)
        self.services = SecurityServices(
            f"{name}-services",
            SecurityServicesArgs(name_prefix=ctx.name_prefix, account_id=ctx.account_id, region=ctx.region,
                                 macie=args.macie, malware_protection=args.malware_protection),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.delegated_administrators)),
        )
        self.alerts = FindingsAlerts(
            f"{name}-findings",
            FindingsAlertsArgs(name_prefix=ctx.name_prefix,
                               kms_key_arn=self.baseline.account_key.arn),
            opts=self.child,
        )
        self.findings_topic_arn = self.alerts.topic_arn
        self.register_outputs({"findingsTopicArn": self.findings_topic_arn})
