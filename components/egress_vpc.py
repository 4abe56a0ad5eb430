"""The egress/inspection VPC: the environment's one way out to the internet.

Per availability zone: a TGW subnet, a services subnet (the Squid fleet, its NLB, the Resolver
endpoints, the SSM endpoints), and on each *lane* a firewall subnet and a public subnet with a NAT
gateway. A lane is where a flow is inspected and translated: one per AZ in prod (NAT per AZ), a single
one in non-prod. Every flow crosses exactly one firewall endpoint, in both directions:

    spoke -> TGW -> TGW subnet (AZ i) -> firewall endpoint (lane i) -> NAT (lane i) -> internet
    Squid (AZ i) ----------------------> firewall endpoint (lane i) -> NAT (lane i) -> internet
    internet -> NAT (lane i) -> public route table: spokes and services subnets -> firewall endpoint (lane i)

The public route table's routes for the services subnets are more specific than the VPC's local route,
which is what stops NAT return traffic to Squid from bypassing the firewall. The TGW attachment runs
in appliance mode so the TGW keeps both directions of a flow on the same AZ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .cidr_plan import EGRESS_TIERS, carve
from .endpoint_policies import PROXY_HOSTS, AwsOwnedAccess
from .network_firewall import NetworkFirewall, NetworkFirewallArgs
from .vpc_baseline import harden_vpc, vpc_endpoints

#: What the proxy hosts need from AWS without crossing the firewall: Session Manager and its logs.
EGRESS_INTERFACE_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages", "logs")


@dataclass(frozen=True)
class EgressVpcArgs:
    """The egress VPC of one network hub: its CIDR plan, lanes, routes, allow-list and log destinations."""

    #: Prefix of the Network Firewall's physical names and log prefix (see :class:`NetworkFirewallArgs`).
    name_prefix: str
    #: The VPC's IPv4 range, carved into the egress tiers (tgw, firewall, public, services) per AZ;
    #: also part of the firewall's HOME_NET.
    cidr_block: str
    #: Availability zones the VPC spans: a TGW and a services subnet in each (and a lane each with `nat_per_az`).
    az_count: int
    #: Availability Zone IDs (not names), one per AZ in order: the same physical zones as the spokes'.
    zone_ids: pulumi.Input[Sequence[str]]
    #: The region, for the VPC endpoints' service names (`com.amazonaws.<region>.ssm`).
    region: str
    #: True: one lane (firewall endpoint and NAT gateway) per AZ, so an AZ outage takes only its own
    #: lane (prod). False: one lane, in the first AZ, that every AZ's traffic crosses.
    nat_per_az: bool
    #: The hub's Transit Gateway: the VPC attaches to it (appliance mode) and routes the spoke and
    #: on-prem ranges back to it.
    transit_gateway_id: pulumi.Input[str]
    #: Spoke VPC CIDRs: their traffic returns to the TGW through the firewall (also in HOME_NET and
    #: in the public route tables' return routes).
    spoke_cidrs: Sequence[str]
    #: Data centre ranges the services subnets reach through the TGW (DNS resolver endpoints).
    on_premises_cidrs: Sequence[str]
    #: Domains the Network Firewall lets out (TLS SNI / HTTP Host; `.example.com` also covers its
    #: subdomains). Empty: nothing leaves.
    allowed_domains: Sequence[str]
    #: The TPPs' event-notification callback domains: the firewall passes TLS to them from the services subnets
    #: (the proxy) only. Empty: none.
    callback_domains: Sequence[str]
    #: Customer-managed key encrypting the firewall, its policy and its rule groups.
    firewall_kms_key_arn: pulumi.Input[str]
    #: ARN of the bucket the VPC's flow logs go to (under `vpc-flow-logs/<vpc name>/`).
    log_bucket_arn: pulumi.Input[str]
    #: Name of the bucket the firewall's alert and flow logs go to (under `network-firewall/<name_prefix>/`).
    log_bucket_name: pulumi.Input[str]
    #: The organization (`o-...`): every endpoint's policy admits its principals to its resources only.
    organization_id: pulumi.Input[str]
    #: The AWS-owned resources the services subnets' hosts reach through the endpoints besides the
    #: organization's (default: what the Squid hosts need: Amazon Linux repositories, SSM Agent buckets
    #: and documents).
    aws_owned: Sequence[AwsOwnedAccess] = PROXY_HOSTS


class EgressVpc(pulumi.ComponentResource):
    """The egress/inspection VPC: subnets, internet and NAT gateways, Network Firewall, TGW attachment, routes, endpoints."""

    vpc: aws.ec2.Vpc
    attachment: aws.ec2transitgateway.VpcAttachment
    firewall: NetworkFirewall
    nat_gateways: list[aws.ec2.NatGateway]
    services_subnets: list[aws.ec2.Subnet]
    services_cidrs: list[str]

    def __init__(self, name: str, args: EgressVpcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:EgressVpc", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan = carve(args.cidr_block, EGRESS_TIERS, args.az_count)
        lanes = list(range(args.az_count)) if args.nat_per_az else [0]

        def lane(az: int) -> int:
            return az if args.nat_per_az else 0

        self.vpc = aws.ec2.Vpc(
            name, cidr_block=args.cidr_block, enable_dns_support=True, enable_dns_hostnames=True,
            tags={"Name": name, "lz:segment": "egress"}, opts=child)
        harden_vpc(name, self.vpc, args.log_bucket_arn, self)
        zone_ids = pulumi.Output.from_input(args.zone_ids)

        def subnet(tier: str, az: int) -> aws.ec2.Subnet:
            return aws.ec2.Subnet(
                f"{name}-{tier}-{az}", vpc_id=self.vpc.id, cidr_block=plan[tier][az],
                availability_zone_id=zone_ids.apply(lambda z: z[az]), map_public_ip_on_launch=False,
                tags={"Name": f"{name}-{tier}-{az}", "lz:tier": tier}, opts=child)

        tgw_subnets = [subnet("tgw", az) for az in range(args.az_count)]
        self.services_subnets = [subnet("services", az) for az in range(args.az_count)]
        self.services_cidrs = plan["services"][:args.az_count]
        firewall_subnets = {j: subnet("firewall", j) for j in lanes}
        public_subnets = {j: subnet("public", j) for j in lanes}

        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": name}, opts=child)
        nats: dict[int, aws.ec2.NatGateway] = {}
        for j in lanes:
            eip = aws.ec2.Eip(f"{name}-nat-{j}-eip", domain="vpc", tags={"Name": f"{name}-nat-{j}"}, opts=child)
            nats[j] = aws.ec2.NatGateway(
                f"{name}-nat-{j}", allocation_id=eip.allocation_id, subnet_id=public_subnets[j].id,
                connectivity_type="public", tags={"Name": f"{name}-nat-{j}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]))
        self.nat_gateways = list(nats.values())

        self.firewall = NetworkFirewall(f"{name}-nfw", NetworkFirewallArgs(
            name_prefix=args.name_prefix, vpc_id=self.vpc.id,
            subnet_ids=[firewall_subnets[j].id for j in lanes], allowed_domains=args.allowed_domains,
            home_net=[args.cidr_block, *args.spoke_cidrs],
            kms_key_arn=args.firewall_kms_key_arn, log_bucket_name=args.log_bucket_name,
            callback_domains=args.callback_domains,
            callback_sources=self.services_cidrs if args.callback_domains else (),
        ), opts=child)
        endpoint = dict(zip(lanes, self.firewall.endpoint_ids, strict=True))

        self.attachment = aws.ec2transitgateway.VpcAttachment(
            f"{name}-tgw-attachment",
            transit_gateway_id=args.transit_gateway_id,
            vpc_id=self.vpc.id,
            subnet_ids=[s.id for s in tgw_subnets],
            appliance_mode_support="enable",
            dns_support="enable",
            transit_gateway_default_route_table_association=False,
            transit_gateway_default_route_table_propagation=False,
            tags={"Name": name, "lz:segment": "egress"},
            # One attachment per VPC and gateway: a replacement must let go of the old one first.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )

        def table(label: str, subnet: aws.ec2.Subnet) -> tuple[str, aws.ec2.RouteTable]:
            rt = aws.ec2.RouteTable(f"{name}-{label}-rt", vpc_id=self.vpc.id, tags={"Name": f"{name}-{label}"},
                                    opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-{label}-rt-association", subnet_id=subnet.id,
                                          route_table_id=rt.id, opts=pulumi.ResourceOptions(parent=subnet))
            return label, rt

        def route(table: tuple[str, aws.ec2.RouteTable], label: str, cidr: str, **target: pulumi.Input[str]) -> None:
            table_label, rt = table
            wait = [self.attachment] if "transit_gateway_id" in target else []
            aws.ec2.Route(f"{name}-{table_label}-{label}", route_table_id=rt.id, destination_cidr_block=cidr,
                          **target, opts=pulumi.ResourceOptions(parent=rt, depends_on=wait))

        def slug(cidr: str) -> str:
            return cidr.replace(".", "-").replace("/", "-")

        services_tables = []
        for az in range(args.az_count):
            tgw_rt = table(f"tgw-{az}", tgw_subnets[az])
            route(tgw_rt, "default-to-firewall", "0.0.0.0/0", vpc_endpoint_id=endpoint[lane(az)])
            services_rt = table(f"services-{az}", self.services_subnets[az])
            services_tables.append(services_rt[1])
            route(services_rt, "default-to-firewall", "0.0.0.0/0", vpc_endpoint_id=endpoint[lane(az)])
            for cidr in [*args.spoke_cidrs, *args.on_premises_cidrs]:
                route(services_rt, f"to-tgw-{slug(cidr)}", cidr, transit_gateway_id=args.transit_gateway_id)
        for j in lanes:
            firewall_rt = table(f"firewall-{j}", firewall_subnets[j])
            route(firewall_rt, "default-to-nat", "0.0.0.0/0", nat_gateway_id=nats[j].id)
            for cidr in args.spoke_cidrs:
                route(firewall_rt, f"to-tgw-{slug(cidr)}", cidr, transit_gateway_id=args.transit_gateway_id)
            public_rt = table(f"public-{j}", public_subnets[j])
            route(public_rt, "default-to-igw", "0.0.0.0/0", gateway_id=igw.id)
            for cidr in [*args.spoke_cidrs, *self.services_cidrs]:
                route(public_rt, f"return-{slug(cidr)}", cidr, vpc_endpoint_id=endpoint[j])

        vpc_endpoints(name, vpc=self.vpc, vpc_cidr=args.cidr_block, region=args.region,
                      subnet_ids=[s.id for s in self.services_subnets],
                      route_table_ids=[rt.id for rt in services_tables],
                      interface_services=EGRESS_INTERFACE_ENDPOINTS, gateway_services=("s3",),
                      organization_id=args.organization_id, aws_owned=args.aws_owned, parent=self)

        self.vpc_id = self.vpc.id
        self.attachment_id = self.attachment.id
        self.register_outputs({
            "vpcId": self.vpc_id,
            "attachmentId": self.attachment_id,
            "natGatewayIds": [n.id for n in self.nat_gateways],
            "servicesSubnetIds": [s.id for s in self.services_subnets],
        })
