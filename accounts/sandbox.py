"""The developer sandbox account for third parties: the services in sandbox mode, routed to nothing but
egress [14] (the `sandbox` segment blackholes everything else)."""

from __future__ import annotations

import pulumi

from components.spoke_vpc import SpokeVpcArgs

from .base import AccountContext
from .spoke import SpokeAccount


class SandboxAccount(SpokeAccount):
    """The sandbox account: its baseline and its spoke VPC in the `sandbox` segment."""

    TYPE = "openbanking:account:Sandbox"

    def __init__(self, name: str, ctx: AccountContext, vpc: SpokeVpcArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, vpc, opts)
        self.register_outputs(self.spoke_outputs)
