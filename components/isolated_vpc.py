"""A small private VPC with no route out: no internet gateway, no NAT, no Transit Gateway attachment.

For services that only other AWS services reach (the log archive's OpenSearch domain and its
ingestion pipelines): private subnets across the zones, the default security group emptied, and
flow logs of all traffic delivered to the central flow-log bucket like every other VPC's
(:func:`components.vpc_baseline.flow_log`: Parquet under `vpc-flow-logs/<name>/`).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .vpc_baseline import flow_log


@dataclass(frozen=True)
class IsolatedVpcArgs:
    """A private VPC with no route out, and where its flow logs go."""

    #: The VPC's IPv4 range; split from its start into equal subnets (halves for one or two zones,
    #: quarters for three), each at least /28.
    cidr: str
    #: The region; the subnets go in its zones by name (`<region>a`, `<region>b`, `<region>c`).
    region: str
    #: How many private subnets, one per zone (1-3).
    availability_zones: int
    #: Prefix of the `Name` tags: `<prefix>-isolated`, `<prefix>-private`, `<prefix>-private-<zone>`.
    name_prefix: str
    #: ARN of the bucket the VPC's flow logs (ALL traffic, Parquet, hourly partitions) go to, under
    #: `vpc-flow-logs/<component name>/`.
    flow_log_bucket_arn: pulumi.Input[str]


def subnet_cidrs(cidr: str, count: int) -> list[str]:
    """`count` equal subnets carved from the start of `cidr` (the smallest power of two that fits)."""
    net = ipaddress.IPv4Network(cidr)
    extra_bits = max(1, math.ceil(math.log2(count))) if count > 1 else 1
    subnets = list(net.subnets(prefixlen_diff=extra_bits))
    if subnets[0].prefixlen > 28:
        raise ValueError(f"{cidr} is too small for {count} subnets of at least /28")
    return [str(s) for s in subnets[:count]]


class IsolatedVpc(pulumi.ComponentResource):
    """VPC, private subnets sharing a route table of local routes, emptied default security group, flow logs."""

    vpc_id: pulumi.Output[str]
    subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: IsolatedVpcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:IsolatedVpc", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.vpc = aws.ec2.Vpc(
            name,
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{args.name_prefix}-isolated"},
            opts=child,
        )
        on_vpc = pulumi.ResourceOptions(parent=self.vpc)
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=self.vpc.id, opts=on_vpc)
        route_table = aws.ec2.RouteTable(
            f"{name}-private", vpc_id=self.vpc.id, tags={"Name": f"{args.name_prefix}-private"}, opts=on_vpc)
        self.subnets: list[aws.ec2.Subnet] = []
        for index, cidr in enumerate(subnet_cidrs(args.cidr, args.availability_zones)):
            zone = f"{args.region}{'abc'[index]}"
            subnet = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{args.name_prefix}-private-{zone}"},
                opts=on_vpc,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=subnet.id, route_table_id=route_table.id, opts=on_vpc)
            self.subnets.append(subnet)
        flow_log(name, self.vpc, args.flow_log_bucket_arn, on_vpc)
        self.vpc_id = self.vpc.id
        self.subnet_ids = [s.id for s in self.subnets]
        self.register_outputs({"vpcId": self.vpc_id, "subnetIds": self.subnet_ids})
