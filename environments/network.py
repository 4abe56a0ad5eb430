"""From the environment config to the network hub's arguments and each spoke's place in the plan."""

from __future__ import annotations

from accounts.network_hub import NetworkHubArgs, ProxySizing, SpokePlan
from components.hybrid_connectivity import CustomerGatewaySpec, DirectConnectSpec, TransitVif
from components.transit_gateway import Segment

from .config import CONFIG_KEY, AccountRole, ConfigError, EnvironmentConfig, Network
from .foundation import FoundationOutputs

#: The TGW segment of each spoke account role (workload accounts are all `workloads`).
SEGMENT_OF_ROLE = {
    AccountRole.IDENTITY.value: Segment.IDENTITY,
    AccountRole.API.value: Segment.EDGE,
    AccountRole.SANDBOX.value: Segment.SANDBOX,
}


def _network(config: EnvironmentConfig) -> Network:
    if config.network is None:  # the config rules require it for every stack with a network account
        raise ConfigError([f"{CONFIG_KEY}.network: is required for a {config.kind} stack"])
    return config.network


def spoke_plans(config: EnvironmentConfig) -> dict[str, SpokePlan]:
    """Account role -> its spoke VPC, for every spoke account of the stack."""
    network = _network(config)
    cidrs = {
        AccountRole.IDENTITY.value: network.identity_vpc_cidr,
        AccountRole.API.value: network.api_vpc_cidr,
        AccountRole.SANDBOX.value: network.sandbox_vpc_cidr,
    }
    plans: dict[str, SpokePlan] = {}
    for role, account_id in config.account_ids().items():
        if role.startswith("workload:"):
            cidr, segment = config.workloads[role.split(":", 1)[1]].vpc_cidr, Segment.WORKLOADS
        elif role in SEGMENT_OF_ROLE:
            cidr, segment = cidrs[role], SEGMENT_OF_ROLE[role]
        else:
            continue
        if cidr is None:  # required_vpcs makes this unreachable for a valid config
            raise ConfigError([f"{CONFIG_KEY}.network: no VPC CIDR for the {role} account"])
        plans[role] = SpokePlan(label=role.replace(":", "-"), account_id=account_id, segment=segment, cidr=cidr)
    return plans


def network_hub_args(config: EnvironmentConfig, foundation: FoundationOutputs) -> NetworkHubArgs:
    network = _network(config)
    dx = network.direct_connect
    return NetworkHubArgs(
        domain=str(config.domain),
        az_count=network.availability_zones,
        egress_vpc_cidr=network.egress_vpc_cidr,
        nat_per_az=network.nat_per_az(config.stage),
        transit_gateway_asn=network.transit_gateway_asn,
        spokes=list(spoke_plans(config).values()),
        on_premises_cidrs=network.on_premises_cidrs,
        allowed_domains=network.egress_allowed_domains,
        proxy=ProxySizing(network.egress_proxy.instance_type, network.egress_proxy.min_size,
                          network.egress_proxy.max_size),
        # The one place the network reads its log destinations from the foundation stack.
        flow_logs_bucket_arn=foundation.flow_logs_bucket_arn,
        access_logs_bucket_arn=foundation.access_logs_bucket_arn,
        log_retention_days=config.log_retention_days,
        direct_connect=None if dx is None else DirectConnectSpec(
            gateway_asn=dx.gateway_asn,
            transit_vifs=[TransitVif(v.name, v.connection_id, v.vlan, v.customer_asn, v.mtu)
                          for v in dx.transit_virtual_interfaces],
            hosted_vif_ids=dx.hosted_virtual_interface_ids),
        customer_gateways=[CustomerGatewaySpec(c.name, c.ip_address, c.bgp_asn)
                           for c in (network.vpn.customer_gateways if network.vpn else [])],
        dns_domains=network.on_premises_dns.domains if network.on_premises_dns else (),
        dns_resolver_ips=network.on_premises_dns.resolver_ips if network.on_premises_dns else (),
    )
