"""The api account: the edge of a workload environment [5]-[9] (:mod:`accounts.edge`).

Its spoke VPC is in the `edge` segment: the Transit Gateway never carries its traffic to a workload; requests reach
the services over PrivateLink only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.spoke_vpc import SpokeVpcArgs

from .base import AccountContext
from .edge import Edge, EdgeArgs, EdgePlacement
from .spoke import SpokeAccount


@dataclass(frozen=True)
class ApiAccountArgs:
    """The api account: its VPC, and the edge in it."""

    #: The api VPC (None: the stack has no network hub, so nothing of the edge is built).
    vpc: SpokeVpcArgs | None
    #: The edge it holds.
    edge: EdgeArgs


class ApiAccount(SpokeAccount):
    """The api account: baseline, spoke VPC in the `edge` segment, and the edge."""

    TYPE = "openbanking:account:Api"

    def __init__(self, name: str, ctx: AccountContext, args: ApiAccountArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, args.vpc, opts)
        self.edge: Edge | None = None
        self.exports: dict[str, Any] = {}
        if self.vpc is not None and args.vpc is not None:
            self.edge = Edge(name, args.edge, EdgePlacement(
                vpc=self.vpc, vpc_cidr=args.vpc.cidr_block, account_id=ctx.account_id, region=ctx.region,
                environment=ctx.environment, name_prefix=ctx.name_prefix, kms_key_arn=self.baseline.account_key.arn,
                protect=ctx.protect), opts=self.child)
            self.exports = self.edge.exports
        self.register_outputs(self.spoke_outputs | self.exports)
