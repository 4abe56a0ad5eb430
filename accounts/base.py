"""What every account component shares: its place (provider, id, region) and its baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pulumi
import pulumi_aws as aws

from components.account_baseline import AccountBaseline, AccountBaselineArgs
from components.config_recorder import ConfigDelivery


@dataclass(frozen=True)
class AccountContext:
    """Where an account component deploys: every child inherits `provider`, so every resource lands
    in this account and no resource can fall back to a default provider."""

    role: str
    account_id: str
    region: str
    environment: str
    provider: aws.Provider
    protect: bool
    #: The organization's Config bucket and key; None only before the log archive exists.
    config_delivery: ConfigDelivery | None = None

    @property
    def name_prefix(self) -> str:
        return f"{self.environment}-{self.role.replace(':', '-').lower()}"


class Account(pulumi.ComponentResource):
    """Base of the account components: registers the component under the account's provider and
    lays down the account baseline."""

    TYPE: ClassVar[str]
    baseline: AccountBaseline

    def __init__(self, name: str, ctx: AccountContext, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None,
                         pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=ctx.provider)))
        self.ctx = ctx
        self.baseline = AccountBaseline(
            f"{name}-baseline",
            AccountBaselineArgs(account_id=ctx.account_id, region=ctx.region,
                                name_prefix=ctx.name_prefix, protect=ctx.protect,
                                config_delivery=ctx.config_delivery),
            opts=pulumi.ResourceOptions(parent=self),
        )

    @property
    def child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)
