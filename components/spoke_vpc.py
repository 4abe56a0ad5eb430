"""A spoke VPC: private subnets only, reached and leaving through the Transit Gateway.

No internet gateway, no NAT: the only way out is the default route to the TGW (and from there the
egress VPC's firewall and proxy). AWS APIs are reached through gateway and interface endpoints whose
policies keep the organization's principals to the organization's resources (and name the AWS-owned ones
the workloads need), since the gateway routes bypass the firewall. The
attachment is created here, with the spoke account's provider; everything that needs both sides (the
hub's acceptance and routing, then the spoke's default route, proxy zone and Resolver rules) is one
:class:`components.spoke_link.SpokeLink`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .cidr_plan import SPOKE_TIERS, carve
from .endpoint_policies import CONTAINER_WORKLOADS, AwsOwnedAccess
from .vpc_baseline import SPOKE_INTERFACE_ENDPOINTS, harden_vpc, vpc_endpoints


@dataclass(frozen=True)
class SpokeVpcArgs:
    """One account's VPC in the environment's hub-and-spoke network."""

    #: The VPC's IPv4 range (from the config's CIDR plan), carved into the spoke tiers per AZ.
    cidr_block: str
    #: How many availability zones the subnets span.
    az_count: int
    #: Availability Zone IDs (not names: names differ per account) shared with the hub, in order.
    zone_ids: pulumi.Input[Sequence[str]]
    #: The region, for the endpoint service names.
    region: str
    #: The hub's Transit Gateway (shared with this account by RAM).
    transit_gateway_id: pulumi.Input[str]
    #: The log archive bucket ARN flow logs are delivered to.
    flow_log_bucket_arn: pulumi.Input[str]
    #: The TGW segment this VPC joins (a tag, for people and for `lz`'s reachability).
    segment: str
    #: The organization (`o-...`): every endpoint's policy admits its principals to its resources only.
    organization_id: pulumi.Input[str]
    #: What the attachment must wait for: the RAM principal association sharing the TGW with this account.
    share_ready: Sequence[pulumi.Resource] = ()
    #: AWS services reached through interface endpoints (private DNS) instead of the internet.
    interface_endpoints: Sequence[str] = SPOKE_INTERFACE_ENDPOINTS
    #: The AWS-owned resources the VPC's workloads reach through its endpoints besides the organization's
    #: (default: what Fargate tasks need, ECR's layer bucket and GuardDuty's agent image).
    aws_owned: Sequence[AwsOwnedAccess] = CONTAINER_WORKLOADS


class SpokeVpc(pulumi.ComponentResource):
    """Spoke VPC, private/data/TGW subnets, route tables, endpoints and the TGW attachment awaiting acceptance."""

    vpc: aws.ec2.Vpc
    attachment: aws.ec2transitgateway.VpcAttachment
    subnets: dict[str, list[aws.ec2.Subnet]]

    def __init__(self, name: str, args: SpokeVpcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:SpokeVpc", name, None, opts)
        #: The component's name: the link to the hub names the spoke-side resources after it.
        self.name = name
        child = pulumi.ResourceOptions(parent=self)
        plan = carve(args.cidr_block, SPOKE_TIERS, args.az_count)
        self.vpc = aws.ec2.Vpc(
            name,
            cidr_block=args.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": name, "lz:segment": args.segment},
            opts=child,
        )
        harden_vpc(name, self.vpc, args.flow_log_bucket_arn, self)
        zone_ids = pulumi.Output.from_input(args.zone_ids)
        self.subnets = {
            tier: [aws.ec2.Subnet(
                f"{name}-{tier}-{i}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone_id=zone_ids.apply(lambda z, i=i: z[i]),
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-{tier}-{i}", "lz:tier": tier},
                opts=child,
            ) for i, cidr in enumerate(cidrs)]
            for tier, cidrs in plan.items()
        }
        # Workload subnets (private, data) share one table: local, the gateway endpoints, 0/0 -> TGW.
        self.route_table = aws.ec2.RouteTable(f"{name}-rt", vpc_id=self.vpc.id,
                                              tags={"Name": f"{name}-workload"}, opts=child)
        # TGW subnets hold only the attachment ENIs: local routes only.
        self.tgw_route_table = aws.ec2.RouteTable(f"{name}-tgw-rt", vpc_id=self.vpc.id,
                                                  tags={"Name": f"{name}-tgw"}, opts=child)
        for tier, subnets in self.subnets.items():
            table = self.tgw_route_table if tier == "tgw" else self.route_table
            for i, subnet in enumerate(subnets):
                aws.ec2.RouteTableAssociation(f"{name}-{tier}-{i}-rt", subnet_id=subnet.id,
                                              route_table_id=table.id, opts=pulumi.ResourceOptions(parent=subnet))
        self.endpoint_security_group, gateways = vpc_endpoints(
            name, vpc=self.vpc, vpc_cidr=args.cidr_block, region=args.region,
            subnet_ids=[s.id for s in self.subnets["private"]], route_table_ids=[self.route_table.id],
            interface_services=args.interface_endpoints, organization_id=args.organization_id,
            aws_owned=args.aws_owned, parent=self)
        self.attachment = aws.ec2transitgateway.VpcAttachment(
            f"{name}-tgw-attachment",
            transit_gateway_id=args.transit_gateway_id,
            vpc_id=self.vpc.id,
            subnet_ids=[s.id for s in self.subnets["tgw"]],
            dns_support="enable",
            tags={"Name": name, "lz:segment": args.segment},
            # One attachment per VPC and gateway: a replacement must let go of the old one first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.share_ready), delete_before_replace=True),
        )
        self.vpc_id = self.vpc.id
        self.attachment_id = self.attachment.id
        self.private_subnet_ids = [s.id for s in self.subnets["private"]]
        self.data_subnet_ids = [s.id for s in self.subnets["data"]]
        #: The private tier's CIDRs (tasks, functions, load balancers).
        self.private_cidrs = plan["private"]
        #: The data tier's CIDRs (databases, caches, brokers): what a workload's egress to a data store names.
        self.data_cidrs = plan["data"]
        #: The S3 and DynamoDB gateway endpoints' prefix lists (egress rules to them name these).
        self.gateway_prefix_list_ids = [endpoint.prefix_list_id for endpoint in gateways.values()]
        #: Service ("s3", "dynamodb") -> its gateway endpoint's prefix list.
        self.gateway_prefix_lists = {service: endpoint.prefix_list_id for service, endpoint in gateways.items()}
        self.register_outputs({
            "vpcId": self.vpc_id,
            "attachmentId": self.attachment_id,
            "privateSubnetIds": self.private_subnet_ids,
            "dataSubnetIds": self.data_subnet_ids,
        })
