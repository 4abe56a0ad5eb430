"""The API account: mTLS API Gateway domains, WAF, Shield, CloudFront, Route 53, and PrivateLink into
the workload accounts [5]-[9]. Its spoke VPC is in the `edge` segment: it reaches the workloads only
through PrivateLink, never through the Transit Gateway."""

from __future__ import annotations

import pulumi

from components.spoke_vpc import SpokeVpcArgs

from .base import AccountContext
from .spoke import SpokeAccount


class ApiAccount(SpokeAccount):
    """The api account: its baseline and its spoke VPC in the `edge` segment."""

    TYPE = "openbanking:account:Api"

    def __init__(self, name: str, ctx: AccountContext, vpc: SpokeVpcArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, vpc, opts)
        self.register_outputs(self.spoke_outputs)
