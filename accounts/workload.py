"""A workload account (e.g. Account Information, Payment Initiation) [10]-[12], [18]: the Open Banking services
on ECS Fargate with their data stores, fed from core banking, exposing themselves to the api (and identity)
account through PrivateLink only (:class:`accounts.service_plane.ServicePlane`). Its spoke VPC is in the
`workloads` segment (on-prem and egress). docs/workloads.md draws it.
"""

from __future__ import annotations

import pulumi

from .base import AccountContext
from .service_plane import ServicePlane, WorkloadAccountArgs
from .spoke import SpokeAccount


class WorkloadAccount(SpokeAccount):
    """Baseline, spoke VPC and the service plane."""

    TYPE = "openbanking:account:Workload"

    def __init__(self, name: str, ctx: AccountContext, args: WorkloadAccountArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, args.vpc, opts)
        if self.vpc is None:
            raise ValueError(f"{name}: a workload account lives in a spoke VPC of the environment's hub")
        self.workload, self.description = args.workload, args.description
        self.plane = ServicePlane(name, ctx, self.vpc, self.baseline.account_key.arn, args, opts=self.child)
        #: What the environment links to other accounts: endpoint services, the signing key, the feed.
        self.endpoint_services = self.plane.endpoint_services
        self.signing_key = self.plane.signing_key
        self.feed = self.plane.feed
        self.events = self.plane.events
        self.register_outputs(self.spoke_outputs | {
            "workload": args.workload,
            "endpointServices": {s: e.service_name for s, e in self.endpoint_services.items()},
            "eventBusArn": self.events.bus_arn if self.events else None,
        })
