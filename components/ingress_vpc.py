"""The ingress VPC of the network account: the one public way in to the identity provider (`auth.<domain>`).

Third parties must reach Keycloak with their own TLS session (the IdP binds tokens to the client certificate it
sees), and only the network account may have an internet gateway. So: a public NLB with one Elastic IP per AZ,
listening on TCP 443 and passing the bytes through (no TLS listener), whose `ip` targets are the pinned addresses
of an interface endpoint to the identity account's endpoint service, in this VPC's endpoint subnets. The endpoint
and its targets are made once the identity account's endpoint service exists (:mod:`components.identity_entry`).

The VPC is never attached to the Transit Gateway: nothing behind it can be reached from the internet but that one
endpoint, and it reaches nothing of the environment (`lz`'s reachability matrix shows its `ingress` segment, which
reaches nothing and nothing reaches). With Shield Advanced, each Elastic IP is a protected resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .cidr_plan import INGRESS_TIERS, carve
from .vpc_baseline import harden_vpc

#: The segment tag of the ingress VPC (not a Transit Gateway segment: the VPC has no attachment).
INGRESS_SEGMENT = "ingress"
#: The port third parties connect to, and that the endpoint service listens on.
PUBLIC_PORT = 443


@dataclass(frozen=True)
class IngressVpcArgs:
    """The ingress VPC of one network hub."""

    #: Prefix of physical names, e.g. "prod-network".
    name_prefix: str
    #: The VPC's range (config `network.ingressVpcCidr`), carved into the public and endpoint tiers per AZ.
    cidr_block: str
    #: Availability zones: a public and an endpoint subnet, an Elastic IP and an NLB node in each.
    az_count: int
    #: Availability Zone IDs, in order (the same physical zones as every other VPC of the environment).
    zone_ids: pulumi.Input[Sequence[str]]
    #: The region and account (Shield protections name the Elastic IPs by ARN).
    region: str
    #: The network account's id.
    account_id: str
    #: The log archive's flow-logs bucket ARN, and its access-logs bucket name (the NLB's).
    flow_log_bucket_arn: pulumi.Input[str]
    #: The log archive's access-logs bucket name (the NLB's access logs).
    access_logs_bucket: pulumi.Input[str]
    #: Protect the Elastic IPs with Shield Advanced (subscribes the account: a one-year commitment).
    shield_advanced: bool
    #: The public name, for people reading tags (e.g. "auth.prod.openbanking.example-bank.co.uk").
    hostname: str


class IngressVpc(pulumi.ComponentResource):
    """VPC, internet gateway, public and endpoint subnets, Elastic IPs, the public pass-through NLB and its targets."""

    vpc: aws.ec2.Vpc
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup

    def __init__(self, name: str, args: IngressVpcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:IngressVpc", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan = carve(args.cidr_block, INGRESS_TIERS, args.az_count)
        self.vpc = aws.ec2.Vpc(name, cidr_block=args.cidr_block, enable_dns_support=True, enable_dns_hostnames=True,
                               tags={"Name": name, "lz:segment": INGRESS_SEGMENT}, opts=child)
        harden_vpc(name, self.vpc, args.flow_log_bucket_arn, self)
        zone_ids = pulumi.Output.from_input(args.zone_ids)
        subnets = {tier: [aws.ec2.Subnet(
            f"{name}-{tier}-{i}", vpc_id=self.vpc.id, cidr_block=cidr,
            availability_zone_id=zone_ids.apply(lambda z, i=i: z[i]), map_public_ip_on_launch=False,
            tags={"Name": f"{name}-{tier}-{i}", "lz:tier": tier}, opts=child) for i, cidr in enumerate(cidrs)]
            for tier, cidrs in plan.items()}
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": name}, opts=child)
        public_table = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=self.vpc.id, tags={"Name": f"{name}-public"},
                                          opts=child)
        aws.ec2.Route(f"{name}-public-default", route_table_id=public_table.id, destination_cidr_block="0.0.0.0/0",
                      gateway_id=igw.id, opts=pulumi.ResourceOptions(parent=public_table))
        # The endpoint subnets have the local route only: the endpoint answers the NLB, nothing else.
        endpoint_table = aws.ec2.RouteTable(f"{name}-endpoint-rt", vpc_id=self.vpc.id,
                                            tags={"Name": f"{name}-endpoint"}, opts=child)
        for tier, table in (("public", public_table), ("endpoint", endpoint_table)):
            for i, subnet in enumerate(subnets[tier]):
                aws.ec2.RouteTableAssociation(f"{name}-{tier}-{i}-rt", subnet_id=subnet.id, route_table_id=table.id,
                                              opts=pulumi.ResourceOptions(parent=subnet))

        self.eips = [aws.ec2.Eip(f"{name}-eip-{i}", domain="vpc", tags={"Name": f"{name}-{i}"}, opts=child)
                     for i in range(args.az_count)]
        group = aws.ec2.SecurityGroup(
            f"{name}-nlb-sg", vpc_id=self.vpc.id, description=f"{args.hostname}: TCP 443 from the internet, "
            "passed through to the identity endpoint", tags={"Name": f"{name}-nlb", "lz:internet-facing": "true"},
            opts=child)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-nlb-from-internet", security_group_id=group.id, ip_protocol="tcp", from_port=PUBLIC_PORT,
            to_port=PUBLIC_PORT, cidr_ipv4="0.0.0.0/0", description="third parties (TLS passes through)",
            tags={"lz:internet-facing": "true"}, opts=pulumi.ResourceOptions(parent=group))
        for i, cidr in enumerate(plan["endpoint"]):
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-nlb-to-endpoint-{i}", security_group_id=group.id, ip_protocol="tcp", from_port=PUBLIC_PORT,
                to_port=PUBLIC_PORT, cidr_ipv4=cidr, description="the identity endpoint's address in this zone",
                opts=pulumi.ResourceOptions(parent=group))
        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-nlb", name=f"{args.name_prefix}-auth"[:32], load_balancer_type="network", internal=False,
            subnet_mappings=[aws.lb.LoadBalancerSubnetMappingArgs(subnet_id=s.id, allocation_id=e.allocation_id)
                             for s, e in zip(subnets["public"], self.eips, strict=True)],
            security_groups=[group.id], enable_cross_zone_load_balancing=True, enable_deletion_protection=True,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=args.access_logs_bucket, enabled=True,
                                                          prefix=f"{args.name_prefix}-auth"),
            tags={"Name": f"{name}-auth"}, opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]))
        self.target_group = aws.lb.TargetGroup(
            f"{name}-targets", name=f"{args.name_prefix}-auth"[:32], target_type="ip", protocol="TCP",
            port=PUBLIC_PORT, vpc_id=self.vpc.id, deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(protocol="TCP", port=str(PUBLIC_PORT), interval=10,
                                                          healthy_threshold=3, unhealthy_threshold=3),
            opts=child)
        # TCP, not TLS: the third party's TLS session ends in Keycloak, which sees its certificate.
        aws.lb.Listener(
            f"{name}-tcp", load_balancer_arn=self.load_balancer.arn, protocol="TCP", port=PUBLIC_PORT,
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.target_group.arn)],
            opts=pulumi.ResourceOptions(parent=self.load_balancer))

        if args.shield_advanced:
            subscription = aws.shield.Subscription(f"{name}-shield", auto_renew="ENABLED", skip_destroy=True,
                                                   opts=child)
            for i, eip in enumerate(self.eips):
                aws.shield.Protection(
                    f"{name}-eip-{i}-shield", name=f"{args.name_prefix}-auth-{i}",
                    resource_arn=pulumi.Output.concat(f"arn:aws:ec2:{args.region}:{args.account_id}:eip-allocation/",
                                                      eip.allocation_id),
                    opts=pulumi.ResourceOptions(parent=eip, depends_on=[subscription]))

        self.vpc_id = self.vpc.id
        self.endpoint_subnet_ids = [s.id for s in subnets["endpoint"]]
        #: The endpoint tier's CIDRs: the endpoint's pinned addresses come from them.
        self.endpoint_cidrs = plan["endpoint"]
        #: The public tier's CIDRs: the NLB's nodes, the only sources the endpoint admits.
        self.public_cidrs = plan["public"]
        self.dns_name = self.load_balancer.dns_name
        self.zone_id = self.load_balancer.zone_id
        self.public_ips = [e.public_ip for e in self.eips]
        self.register_outputs({"vpcId": self.vpc_id, "dnsName": self.dns_name, "publicIps": self.public_ips})
