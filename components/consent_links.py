"""How the IdP reports a PSU's decision to the services: PrivateLink from the identity account to each workload
service's endpoint service (which admits the api and identity accounts, and requires acceptance), never the
Transit Gateway (the identity segment is blackholed to the workloads).

In the identity account: an interface endpoint per service in the identity VPC's private subnets, admitting
Keycloak's tasks only, and a private zone `internal.<domain>` of that VPC in which `<service>.internal.<domain>`
(the name on the service's certificate, issued by the bank's private CA) is an alias of the endpoint, so the
consent step verifies the service's certificate by its name. In each workload account: the acceptance of the
identity account's endpoint. The environment builds it once both sides exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

#: The port the workload NLBs listen on (TLS, private-CA certificate).
SERVICE_PORT = 443


@dataclass(frozen=True)
class ConsentService:
    """A workload service the consent step calls."""

    #: The service (`ais`, `pis`): its internal name is `<service>.<internal domain>`.
    service: str
    #: Its endpoint service.
    endpoint_service_name: pulumi.Input[str]
    #: Its id (the acceptance names it).
    endpoint_service_id: pulumi.Input[str]
    #: The provider of the workload account that runs it (the acceptance is that account's act).
    provider: aws.Provider


@dataclass(frozen=True)
class ConsentLinksArgs:
    """The identity side and the services it reaches."""

    #: The services the consent step reports decisions to.
    services: Sequence[ConsentService]
    #: The identity VPC and its private subnets (the endpoints' interfaces).
    vpc_id: pulumi.Input[str]
    #: The identity VPC's private subnets, one per AZ.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: Keycloak's tasks' security group: the only one the endpoints admit.
    caller_security_group_id: pulumi.Input[str]
    #: The zone of the services' internal names, e.g. "internal.prod.openbanking.example-bank.co.uk".
    internal_domain: str
    #: Prefix of physical names, e.g. "prod-identity".
    name_prefix: str
    #: The identity account's provider (endpoints, zone, records).
    identity_provider: aws.Provider


class ConsentLinks(pulumi.ComponentResource):
    """Endpoints, their security group, the private zone and its records (identity); the acceptances (workloads)."""

    endpoints: dict[str, aws.ec2.VpcEndpoint]

    def __init__(self, name: str, args: ConsentLinksArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:identity:ConsentLinks", name, None, opts)
        if not args.services:
            raise ValueError(f"{name}: no service to report consent decisions to")
        identity = pulumi.ResourceOptions(parent=self, provider=args.identity_provider)
        group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, tags={"Name": f"{args.name_prefix}-consent-services"},
            description="The consent services' endpoints: Keycloak's tasks only", opts=identity)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-keycloak", security_group_id=group.id, ip_protocol="tcp", from_port=SERVICE_PORT,
            to_port=SERVICE_PORT, referenced_security_group_id=args.caller_security_group_id,
            description="TLS from Keycloak's tasks", opts=pulumi.ResourceOptions(parent=group,
                                                                                 provider=args.identity_provider))
        zone = aws.route53.Zone(
            f"{name}-zone", name=args.internal_domain, comment=f"{args.name_prefix}: the consent services' names",
            vpcs=[aws.route53.ZoneVpcArgs(vpc_id=args.vpc_id)], force_destroy=False, opts=identity)
        self.endpoints = {}
        for service in args.services:
            endpoint = aws.ec2.VpcEndpoint(
                f"{name}-{service.service}", vpc_id=args.vpc_id, service_name=service.endpoint_service_name,
                vpc_endpoint_type="Interface", private_dns_enabled=False, ip_address_type="ipv4",
                subnet_ids=list(args.subnet_ids), security_group_ids=[group.id],
                tags={"Name": f"{args.name_prefix}-{service.service}"}, opts=identity)
            aws.ec2.VpcEndpointConnectionAccepter(
                f"{name}-{service.service}-acceptance", vpc_endpoint_service_id=service.endpoint_service_id,
                vpc_endpoint_id=endpoint.id, opts=pulumi.ResourceOptions(parent=self, provider=service.provider))
            entry = endpoint.dns_entries.apply(lambda entries: entries[0])
            aws.route53.Record(
                f"{name}-{service.service}-name", zone_id=zone.zone_id, name=f"{service.service}.{args.internal_domain}",
                type="A", aliases=[aws.route53.RecordAliasArgs(
                    name=entry.apply(lambda e: str(e.dns_name)), zone_id=entry.apply(lambda e: str(e.hosted_zone_id)),
                    evaluate_target_health=False)], opts=identity)
            self.endpoints[service.service] = endpoint
        self.register_outputs({"endpointIds": {s: e.id for s, e in self.endpoints.items()}})
