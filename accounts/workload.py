"""A workload account (e.g. Account Information, Payment Initiation): Fargate services, data stores,
events and the PrivateLink endpoint service the api account reaches them through [10]-[12], [18]."""

from __future__ import annotations

import pulumi

from .base import Account, AccountContext


class WorkloadAccount(Account):
    TYPE = "openbanking:account:Workload"

    def __init__(self, name: str, ctx: AccountContext, workload: str, description: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, opts)
        self.workload = workload
        self.description = description
