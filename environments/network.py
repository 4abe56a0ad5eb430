"""From the environment config to the network hub's arguments and each spoke's place in the plan."""

from __future__ import annotations

from accounts.network_hub import NetworkHubArgs, ProxySizing, SpokePlan
from components.hybrid_connectivity import CustomerGatewaySpec, DirectConnectSpec, TransitVif
from components.transit_gateway import Segment

from .config import AccountRole, SandboxConfig, WorkloadConfig, WorkloadNetwork
from .foundation import FoundationOutputs

#: The TGW segment of each spoke account role (workload accounts are all `workloads`).
SEGMENT_OF_ROLE = {
    AccountRole.IDENTITY.value: Segment.IDENTITY,
    AccountRole.API.value: Segment.EDGE,
    AccountRole.SANDBOX.value: Segment.SANDBOX,
}


def spoke_plans(config: WorkloadConfig | SandboxConfig) -> dict[str, SpokePlan]:
    """Account role -> its spoke VPC, for every spoke account of the stack."""
    cidrs: dict[str, str] = {}
    if isinstance(config, WorkloadConfig):
        cidrs = {AccountRole.IDENTITY.value: config.network.identity_vpc_cidr,
                 AccountRole.API.value: config.network.api_vpc_cidr}
        cidrs |= {f"workload:{name}": w.vpc_cidr for name, w in config.workloads.items()}
    else:
        cidrs = {AccountRole.SANDBOX.value: config.network.sandbox_vpc_cidr}
    ids = {str(role): acct for role, acct in config.accounts.by_role().items()}
    if isinstance(config, WorkloadConfig):
        ids |= {f"workload:{name}": w.account_id for name, w in config.workloads.items()}
    return {role: SpokePlan(label=role.replace(":", "-"), account_id=ids[role],
                            segment=SEGMENT_OF_ROLE.get(role, Segment.WORKLOADS), cidr=cidr)
            for role, cidr in cidrs.items()}


def network_hub_args(config: WorkloadConfig | SandboxConfig, foundation: FoundationOutputs) -> NetworkHubArgs:
    network = config.network
    dx = network.direct_connect if isinstance(network, WorkloadNetwork) else None
    vpn = network.vpn if isinstance(network, WorkloadNetwork) else None
    dns = network.on_premises_dns if isinstance(network, WorkloadNetwork) else None
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
                           for c in (vpn.customer_gateways if vpn else [])],
        dns_domains=dns.domains if dns else (),
        dns_resolver_ips=dns.resolver_ips if dns else (),
    )
