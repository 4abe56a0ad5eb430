"""An account whose workloads live in a spoke VPC of the environment's Transit Gateway hub."""

from __future__ import annotations

import pulumi

from components.spoke_vpc import SpokeVpc, SpokeVpcArgs

from .base import Account, AccountContext


class SpokeAccount(Account):
    """Lays down the account baseline and, when the stack has a network hub, the account's spoke VPC
    (its attachment created here, with this account's provider; the hub accepts and routes it)."""

    vpc: SpokeVpc | None

    def __init__(self, name: str, ctx: AccountContext, vpc: SpokeVpcArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, opts)
        self.vpc = SpokeVpc(f"{name}-vpc", vpc, opts=self.child) if vpc is not None else None
