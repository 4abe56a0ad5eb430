"""A workload account (e.g. Account Information, Payment Initiation): Fargate services, data stores,
events and the PrivateLink endpoint service the api account reaches them through [10]-[12], [18].
Its spoke VPC is in the `workloads` segment (it reaches on-prem and egress)."""

from __future__ import annotations

import pulumi

from components.spoke_vpc import SpokeVpcArgs

from .base import AccountContext
from .spoke import SpokeAccount


class WorkloadAccount(SpokeAccount):
    """One workload account: its baseline and its spoke VPC in the `workloads` segment."""

    TYPE = "openbanking:account:Workload"

    def __init__(self, name: str, ctx: AccountContext, workload: str, description: str,
                 vpc: SpokeVpcArgs | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, vpc, opts)
        self.workload = workload
        self.description = description
        self.register_outputs(self.spoke_outputs | {"workload": workload})
