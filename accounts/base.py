"""What every account component shares: its place (provider, id, region) and its baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pulumi
import pulumi_aws as aws

from components.account_baseline import AccountBaseline, AccountBaselineArgs
from components.config_recorder import ConfigDelivery

from .keys import AccountKey


@dataclass(frozen=True)
class AccountContext:
    """Where an account component deploys: every child inherits `provider`, so every resource lands
    in this account and no resource can fall back to a default provider."""

    #: Which account: its role (and workload name).
    key: AccountKey
    #: The AWS account id.
    account_id: str
    #: The region every resource of the account lands in.
    region: str
    #: The environment's name (the stack's), the first part of physical names.
    environment: str
    #: The provider that deploys into this account (assumes its deploy role, pinned to `account_id`).
    provider: aws.Provider
    #: Protect and retain stateful resources (prod).
    protect: bool
    #: The organization's Config bucket and key; None only in the log archive, before its bucket exists.
    config_delivery: ConfigDelivery | None = None

    @property
    def name_prefix(self) -> str:
        """`dev-network`, `prod-workload-ais`: the prefix of the account's physical names."""
        return f"{self.environment}-{self.key.label.lower()}"


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
