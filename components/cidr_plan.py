"""How a VPC CIDR is carved into subnet tiers, one subnet per tier per availability zone.

One deterministic rule, shared by the config validation (does the plan fit?) and the VPC components
(which subnet gets which range), so what is validated is exactly what is built.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence

#: Tiers of a spoke VPC: application subnets, data subnets (databases, caches), Transit Gateway ENIs.
SPOKE_TIERS = ("private", "data", "tgw")
#: Tiers of the egress/inspection VPC: TGW ENIs, firewall endpoints, NAT gateways (public), and the
#: services the spokes reach (Squid proxy fleet and its NLB, Route 53 Resolver endpoints).
EGRESS_TIERS = ("tgw", "firewall", "public", "services")
#: Tiers of the network account's ingress VPC (never attached to the Transit Gateway): the public NLB's nodes
#: and Elastic IPs (public), and the interface endpoint to the identity account's endpoint service (endpoint).
INGRESS_TIERS = ("public", "endpoint")
#: The smallest subnet the plan hands out (AWS reserves 5 addresses in every subnet).
MIN_SUBNET_PREFIX = 27


class PlanError(ValueError):
    """The VPC CIDR cannot hold the tiers across the availability zones."""


def subnet_prefix(vpc_cidr: str, tier_count: int, az_count: int) -> int:
    """Prefix length of each subnet: the VPC split into the next power of two >= tiers x AZs."""
    net = ipaddress.IPv4Network(vpc_cidr, strict=True)
    return net.prefixlen + math.ceil(math.log2(tier_count * az_count))


def needed_vpc_prefix(tier_count: int, az_count: int) -> int:
    """The longest VPC prefix that still yields subnets of at least /MIN_SUBNET_PREFIX."""
    return MIN_SUBNET_PREFIX - math.ceil(math.log2(tier_count * az_count))


def carve(vpc_cidr: str, tiers: Sequence[str], az_count: int) -> dict[str, list[str]]:
    """Tier -> one CIDR per availability zone, in tier order then AZ order."""
    if az_count < 1:
        raise PlanError(f"{az_count} availability zones: at least one is needed")
    prefix = subnet_prefix(vpc_cidr, len(tiers), az_count)
    if prefix > MIN_SUBNET_PREFIX:
        raise PlanError(f"{vpc_cidr} cannot hold {len(tiers)} subnet tiers x {az_count} availability zones "
                        f"of at least /{MIN_SUBNET_PREFIX} (needs /{needed_vpc_prefix(len(tiers), az_count)} "
                        "or larger)")
    subnets = [str(s) for s in ipaddress.IPv4Network(vpc_cidr, strict=True).subnets(new_prefix=prefix)]
    return {tier: subnets[i * az_count:(i + 1) * az_count] for i, tier in enumerate(tiers)}
