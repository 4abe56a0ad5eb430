"""A VPC endpoint service (PrivateLink) on a service's NLB: the only way into a workload account [7][9].

Exactly the listed accounts may create an endpoint to it (the api account; the identity account where the
IdP calls the services' internal authorisation endpoints), and every connection must still be accepted by
this account (the api account's stack side adds the acceptance), so a principal added by mistake still
reaches nothing. Its service name is what the api account's interface endpoint connects to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class EndpointServiceArgs:
    """Who may connect to which load balancer."""

    #: The service's NLB.
    load_balancer_arn: pulumi.Input[str]
    #: Accounts allowed to create an endpoint (as `arn:aws:iam::<id>:root` principals); never empty, never "*".
    allowed_account_ids: Sequence[str]
    #: For people: which service this is, e.g. "prod pis".
    description: str


class EndpointService(pulumi.ComponentResource):
    service: aws.ec2.VpcEndpointService

    def __init__(self, name: str, args: EndpointServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:EndpointService", name, None, opts)
        accounts = sorted(set(args.allowed_account_ids))
        if not accounts or any(not (a.isdigit() and len(a) == 12) for a in accounts):
            raise ValueError(f"{name}: allowed accounts {accounts} must be 12-digit account ids (at least one)")
        self.service = aws.ec2.VpcEndpointService(
            name,
            network_load_balancer_arns=[args.load_balancer_arn],
            acceptance_required=True,
            allowed_principals=[f"arn:aws:iam::{a}:root" for a in accounts],
            supported_ip_address_types=["ipv4"],
            tags={"Name": name, "Description": args.description},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.service_name = self.service.service_name
        self.service_id = self.service.id
        self.register_outputs({"serviceName": self.service_name, "allowedAccounts": accounts})
