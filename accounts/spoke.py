"""An account whose workloads live in a spoke VPC of the environment's Transit Gateway hub."""

from __future__ import annotations

from typing import Any

import pulumi

from components.spoke_vpc import SpokeVpc, SpokeVpcArgs

from .base import Account, AccountContext


class SpokeAccount(Account):
    """Base of the spoke accounts: the account baseline and, when the stack has a network hub, the account's
    spoke VPC (its attachment created here, with this account's provider; the environment links it to the
    hub). Each concrete account finishes its constructor with `register_outputs`."""

    vpc: SpokeVpc | None

    def __init__(self, name: str, ctx: AccountContext, vpc: SpokeVpcArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, opts)
        self.vpc = SpokeVpc(f"{name}-vpc", vpc, opts=self.child) if vpc is not None else None

    @property
    def spoke_outputs(self) -> dict[str, Any]:
        """What every spoke account reports: its VPC (None without a hub)."""
        return {"accountId": self.ctx.account_id, "vpcId": self.vpc.vpc_id if self.vpc else None}
