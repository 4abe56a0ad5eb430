"""Route 53 Resolver endpoints between the environment and the data centre's DNS.

Outbound: queries for the data centre's domains leave through the outbound endpoint to its resolvers
(one FORWARD rule per domain; the hub shares the rules by RAM and every spoke VPC associates them).
Inbound: the data centre's resolvers forward the environment's private zones to the inbound endpoint.
Both endpoints sit in the egress VPC's services subnets, one address per AZ (two in the one subnet
when the environment has a single AZ: AWS requires two).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

DNS_PORT = 53


@dataclass(frozen=True)
class DnsResolverArgs:
    """The Resolver endpoints' place in the egress VPC and the data centre's domains and resolvers."""

    #: Prefix of the endpoints' and rules' names: `<prefix>-inbound`, `<prefix>-outbound`, `<prefix>-<domain label>`.
    name_prefix: str
    #: The egress VPC the endpoints and their two security groups are created in.
    vpc_id: pulumi.Input[str]
    #: The egress VPC's services subnets, one per AZ: each endpoint takes an address in each (in the one
    #: subnet twice when there is a single AZ, since AWS requires two addresses).
    subnet_ids: Sequence[pulumi.Input[str]]
    #: The data centre's ranges: the only sources the inbound endpoint admits on port 53 (TCP and UDP).
    on_premises_cidrs: Sequence[str]
    #: Domains the data centre answers for, e.g. "corp.example.com": one FORWARD rule each, through
    #: the outbound endpoint; the rules are keyed by the domain's label (`corp-example-com`).
    forward_domains: Sequence[str]
    #: IPv4 addresses of the data centre's resolvers: every rule's targets (port 53), and the only
    #: destinations the outbound endpoint's security group lets out.
    target_ips: Sequence[str]


def rule_label(domain: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", domain.lower()).strip("-")


class DnsResolver(pulumi.ComponentResource):
    """Inbound and outbound Route 53 Resolver endpoints, and one FORWARD rule per data-centre domain."""

    #: Domain label -> the FORWARD rule for it.
    rules: dict[str, aws.route53.ResolverRule]

    def __init__(self, name: str, args: DnsResolverArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:DnsResolver", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        subnets = list(args.subnet_ids) if len(args.subnet_ids) > 1 else [args.subnet_ids[0]] * 2

        inbound_sg = aws.ec2.SecurityGroup(f"{name}-inbound-sg", vpc_id=args.vpc_id,
                                           description="Resolver inbound endpoint: DNS from the data centre",
                                           tags={"Name": f"{name}-inbound"}, opts=child)
        outbound_sg = aws.ec2.SecurityGroup(f"{name}-outbound-sg", vpc_id=args.vpc_id,
                                            description="Resolver outbound endpoint: DNS to the data centre resolvers",
                                            tags={"Name": f"{name}-outbound"}, opts=child)
        for protocol in ("tcp", "udp"):
            for i, cidr in enumerate(args.on_premises_cidrs):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-inbound-{protocol}-{i}", security_group_id=inbound_sg.id, ip_protocol=protocol,
                    from_port=DNS_PORT, to_port=DNS_PORT, cidr_ipv4=cidr, description="data centre resolvers",
                    opts=pulumi.ResourceOptions(parent=inbound_sg))
            for i, ip in enumerate(args.target_ips):
                aws.vpc.SecurityGroupEgressRule(
                    f"{name}-outbound-{protocol}-{i}", security_group_id=outbound_sg.id, ip_protocol=protocol,
                    from_port=DNS_PORT, to_port=DNS_PORT, cidr_ipv4=f"{ip}/32", description="data centre resolver",
                    opts=pulumi.ResourceOptions(parent=outbound_sg))

        def endpoint(direction: str, group: aws.ec2.SecurityGroup) -> aws.route53.ResolverEndpoint:
            return aws.route53.ResolverEndpoint(
                f"{name}-{direction.lower()}",
                name=f"{args.name_prefix}-{direction.lower()}",
                direction=direction,
                security_group_ids=[group.id],
                ip_addresses=[aws.route53.ResolverEndpointIpAddressArgs(subnet_id=s) for s in subnets],
                protocols=["Do53"],
                opts=child,
            )

        self.inbound = endpoint("INBOUND", inbound_sg)
        self.outbound = endpoint("OUTBOUND", outbound_sg)
        self.rules = {
            rule_label(domain): aws.route53.ResolverRule(
                f"{name}-forward-{rule_label(domain)}",
                name=f"{args.name_prefix}-{rule_label(domain)}",
                domain_name=domain,
                rule_type="FORWARD",
                resolver_endpoint_id=self.outbound.id,
                target_ips=[aws.route53.ResolverRuleTargetIpArgs(ip=ip, port=DNS_PORT) for ip in args.target_ips],
                opts=child,
            )
            for domain in args.forward_domains
        }
        self.register_outputs({"inboundEndpointId": self.inbound.id, "outboundEndpointId": self.outbound.id,
                               "ruleIds": {label: r.id for label, r in self.rules.items()}})
