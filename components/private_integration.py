"""How the REST API reaches one workload service: PrivateLink into the workload account, never the Transit Gateway.

In the api account: an interface endpoint to the service's endpoint service, its network interfaces pinned to
fixed addresses of the api VPC's data subnets (the api account keeps no data, so nothing else takes addresses
there); an internal NLB whose `ip` targets are those addresses, passing TCP straight through (TLS runs from API
Gateway to the workload's own NLB, which holds the service's certificate); and a VPC link (v1) to that NLB.

Why VPC link v1: a REST API's private integration through a VPC link v2 prepends the stage name to the path it
sends the backend, which would break every OBIE path; v1 sends the integration URI's path as written, and the
NLB it needs is the one the endpoint's addresses already require (docs/edge.md). The workload account accepts
the endpoint's connection (:class:`EndpointAcceptance`): its endpoint service requires acceptance.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

#: The port every exposed service listens on behind its workload NLB (TLS).
SERVICE_PORT = 443
#: The first host offset pinned in each data subnet (AWS keeps .0-.3; a few spare below ours).
FIRST_PINNED_HOST = 10


def pinned_address(subnet_cidr: str, slot: int) -> str:
    """The address of service number `slot` in a data subnet: fixed, so the NLB's targets are known up front."""
    network = ipaddress.ip_network(subnet_cidr)
    host = FIRST_PINNED_HOST + slot
    if host >= network.num_addresses - 1:
        raise ValueError(f"subnet {subnet_cidr} has no address for endpoint slot {slot}")
    return str(network[host])


@dataclass(frozen=True)
class PrivateServiceLinkArgs:
    """One workload service, reached from the api VPC."""

    #: The service (`ais`, `pis`, `events`): names the NLB, the target group and the VPC link.
    service: str
    #: Its slot among the api account's services: which pinned address of each data subnet is its own.
    slot: int
    #: The workload's endpoint service name (`com.amazonaws.vpce.<region>.vpce-svc-...`).
    endpoint_service_name: pulumi.Input[str]
    #: The api VPC.
    vpc_id: pulumi.Input[str]
    #: The api VPC's data subnets (one per AZ): the endpoint's interfaces.
    data_subnet_ids: Sequence[pulumi.Input[str]]
    #: Their CIDRs, in the same order (the pinned addresses come from them).
    data_subnet_cidrs: Sequence[str]
    #: The api VPC's private subnets (one per AZ): the NLB's nodes.
    private_subnet_ids: Sequence[pulumi.Input[str]]
    #: Their CIDRs, in the same order: the only sources the endpoint admits.
    private_subnet_cidrs: Sequence[str]
    #: Prefix of physical names, e.g. "prod-api".
    name_prefix: str
    #: Bucket (name) for the NLB's access logs (the log archive's; a TCP listener writes none, see docs/edge.md).
    access_logs_bucket: pulumi.Input[str]


class PrivateServiceLink(pulumi.ComponentResource):
    """Interface endpoint (pinned addresses), its security group, NLB, target group, listener, VPC link v1."""

    endpoint: aws.ec2.VpcEndpoint
    vpc_link: aws.apigateway.VpcLink

    def __init__(self, name: str, args: PrivateServiceLinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:edge:PrivateServiceLink", name, None, opts)
        if len(args.data_subnet_ids) != len(args.data_subnet_cidrs) or not args.data_subnet_ids:
            raise ValueError(f"{name}: {len(args.data_subnet_ids)} data subnets but {len(args.data_subnet_cidrs)} CIDRs")
        if len(args.private_subnet_ids) != len(args.private_subnet_cidrs) or not args.private_subnet_ids:
            raise ValueError(f"{name}: {len(args.private_subnet_ids)} private subnets but "
                             f"{len(args.private_subnet_cidrs)} CIDRs")
        child = pulumi.ResourceOptions(parent=self)
        label = f"{args.name_prefix}-{args.service}"
        self.addresses = [pinned_address(cidr, args.slot) for cidr in args.data_subnet_cidrs]

        group = aws.ec2.SecurityGroup(
            f"{name}-endpoint-sg", vpc_id=args.vpc_id,
            description=f"{label}: the PrivateLink endpoint, reached by the NLB only",
            tags={"Name": f"{label}-endpoint"}, opts=child)
        for index, cidr in enumerate(args.private_subnet_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-nlb-{index}", security_group_id=group.id, ip_protocol="tcp", from_port=SERVICE_PORT,
                to_port=SERVICE_PORT, cidr_ipv4=cidr, description="TLS from the NLB's node in this zone",
                opts=pulumi.ResourceOptions(parent=group))
        self.endpoint = aws.ec2.VpcEndpoint(
            f"{name}-endpoint", vpc_id=args.vpc_id, service_name=args.endpoint_service_name,
            vpc_endpoint_type="Interface", private_dns_enabled=False, ip_address_type="ipv4",
            subnet_ids=list(args.data_subnet_ids), security_group_ids=[group.id],
            subnet_configurations=[aws.ec2.VpcEndpointSubnetConfigurationArgs(subnet_id=subnet, ipv4=address)
                                   for subnet, address in zip(args.data_subnet_ids, self.addresses, strict=True)],
            tags={"Name": f"{label}-endpoint"}, opts=child)

        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-nlb", name=f"{label}-link"[:32], load_balancer_type="network", internal=True,
            subnets=list(args.private_subnet_ids), enable_cross_zone_load_balancing=True,
            enable_deletion_protection=True,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=args.access_logs_bucket, enabled=True,
                                                          prefix=label),
            tags={"Name": f"{label}-link"}, opts=child)
        targets = aws.lb.TargetGroup(
            f"{name}-targets", name=f"{label}-endpoint"[:32], target_type="ip", protocol="TCP", port=SERVICE_PORT,
            vpc_id=args.vpc_id, deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(protocol="TCP", port=str(SERVICE_PORT), interval=10,
                                                          healthy_threshold=3, unhealthy_threshold=3),
            opts=child)
        for index, address in enumerate(self.addresses):
            aws.lb.TargetGroupAttachment(
                f"{name}-target-{index}", target_group_arn=targets.arn, target_id=address, port=SERVICE_PORT,
                opts=pulumi.ResourceOptions(parent=targets, depends_on=[self.endpoint]))
        aws.lb.Listener(
            f"{name}-listener", load_balancer_arn=self.load_balancer.arn, protocol="TCP", port=SERVICE_PORT,
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=targets.arn)],
            opts=child)
        self.vpc_link = aws.apigateway.VpcLink(
            f"{name}-vpc-link", name=f"{label}-link", target_arn=self.load_balancer.arn,
            description=f"the REST API's way to {args.service} (PrivateLink)", opts=child)

        self.endpoint_id = self.endpoint.id
        self.vpc_link_id = self.vpc_link.id
        self.register_outputs({"endpointId": self.endpoint_id, "vpcLinkId": self.vpc_link_id,
                               "addresses": self.addresses})


@dataclass(frozen=True)
class EndpointAcceptanceArgs:
    """A connection the workload account accepts: built with the workload's provider."""

    #: The workload's endpoint service (`vpce-svc-...`).
    endpoint_service_id: pulumi.Input[str]
    #: The api account's interface endpoint (`vpce-...`).
    endpoint_id: pulumi.Input[str]
    #: The workload account's provider (the acceptance is the endpoint service owner's act).
    provider: aws.Provider


class EndpointAcceptance(pulumi.ComponentResource):
    """The workload side of a PrivateLink connection: it spans two accounts, so the environment builds it."""

    def __init__(self, name: str, args: EndpointAcceptanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:edge:EndpointAcceptance", name, None, opts)
        self.accepter = aws.ec2.VpcEndpointConnectionAccepter(
            name, vpc_endpoint_service_id=args.endpoint_service_id, vpc_endpoint_id=args.endpoint_id,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider))
        self.register_outputs({"endpointId": args.endpoint_id})
