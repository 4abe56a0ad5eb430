"""The identity provider account: the OAuth2/OIDC/FAPI authorization server in its own account [13],
in the `identity` segment (it reaches on-prem and egress)."""

from __future__ import annotations

import pulumi

from components.spoke_vpc import SpokeVpcArgs

from .base import AccountContext
from .spoke import SpokeAccount


class IdentityAccount(SpokeAccount):
    """The identity provider account: its baseline and its spoke VPC in the `identity` segment."""

    TYPE = "openbanking:account:Identity"

    def __init__(self, name: str, ctx: AccountContext, vpc: SpokeVpcArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, vpc, opts)
        self.register_outputs(self.spoke_outputs)
