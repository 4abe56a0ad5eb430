"""The network hub account: Transit Gateway shared by RAM, Direct Connect and VPN, egress VPC with the
Network Firewall and the Squid proxy fleet, Route 53 Resolver endpoints [2][3][4], and (with Keycloak) the ingress
VPC whose public NLB passes third parties' TLS through to the identity provider.

Built before the spoke accounts: it hands each spoke what its VPC needs (:meth:`spoke_vpc_args`); the
environment then links each spoke to it (:class:`components.spoke_link.SpokeLink`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.dns_resolver import DnsResolver, DnsResolverArgs
from components.egress_proxy import EgressProxy, EgressProxyArgs
from components.egress_vpc import EgressVpc, EgressVpcArgs
from components.hybrid_connectivity import (
    CustomerGatewaySpec,
    DirectConnectSpec,
    HybridConnectivity,
    HybridConnectivityArgs,
)
from components.ingress_vpc import IngressVpc, IngressVpcArgs
from components.kms_key import KmsKey, KmsKeyArgs
from components.spoke_vpc import SpokeVpcArgs
from components.transit_gateway import (
    SPOKE_SEGMENTS,
    Attachment,
    Segment,
    SegmentAttachment,
    SegmentAttachmentArgs,
    TransitGatewayHub,
    TransitGatewayHubArgs,
)

from .base import Account, AccountContext


@dataclass(frozen=True)
class SpokePlan:
    """One spoke VPC of the environment: whose it is, its segment and its CIDR."""

    #: The spoke account's label, e.g. "workload-ais": names its RAM principal association and, through
    #: its SpokeLink, its attachment in the hub's routes.
    label: str
    #: The spoke account's id: the Transit Gateway is shared with it by RAM.
    account_id: str
    #: The TGW segment the spoke's attachment is associated with; the hub gets a route table for each present.
    segment: Segment
    #: The spoke VPC's IPv4 range: a client of the egress proxy, in the firewall's HOME_NET, blackholed where denied.
    cidr: str


@dataclass(frozen=True)
class ProxySizing:
    """The Squid fleet's instance type and size (config `network.egressProxy`)."""

    #: EC2 instance type of the Squid hosts; a Graviton (arm64) type, e.g. "t4g.small".
    instance_type: str
    #: Fewest Squid hosts the Auto Scaling group keeps running.
    min_size: int
    #: Most Squid hosts it scales out to on CPU.
    max_size: int


@dataclass(frozen=True)
class IngressPlan:
    """The public entry to the identity provider: the ingress VPC and its pass-through NLB."""

    #: The ingress VPC's range (config `network.ingressVpcCidr`).
    cidr: str
    #: The IdP's public host (`auth.<domain>`).
    hostname: str
    #: Protect its Elastic IPs with Shield Advanced (config `edge.shieldAdvanced`).
    shield_advanced: bool


@dataclass(frozen=True)
class NetworkHubArgs:
    """One environment's network hub: CIDRs, routing, egress allow-list, hybrid link and DNS forwarding."""

    #: The environment's DNS domain: the spokes reach the proxy at `proxy.<domain>:3128`.
    domain: str
    #: Availability zones of the egress VPC and of every spoke VPC: the first `az_count` zone IDs
    #: in sorted order, so every account uses the same physical zones.
    az_count: int
    #: IPv4 range of the egress VPC, carved into its tgw, firewall, public and services tiers per AZ.
    egress_vpc_cidr: str
    #: One NAT gateway and firewall lane per AZ (prod); False: one lane for all AZs.
    nat_per_az: bool
    #: The Transit Gateway's Amazon-side BGP ASN (a private ASN).
    transit_gateway_asn: int
    #: Every spoke VPC of the environment: the TGW is shared with each account, and each segment
    #: present gets a route table.
    spokes: Sequence[SpokePlan]
    #: The data centre's ranges: blackholed (by managed prefix list) in the spoke route tables
    #: that must not reach them; with a hybrid link, routed from the egress services subnets to the TGW.
    on_premises_cidrs: Sequence[str]
    #: The egress allow-list, enforced by the Network Firewall and by the Squid proxy alike.
    allowed_domains: Sequence[str]
    #: The TPPs' event-notification callback domains: let out over HTTPS through the proxy, to `callback_senders`
    #: only (the firewall passes them from the proxy alone).
    callback_domains: Sequence[str]
    #: The VPC CIDR of the account running the events service, the one whose delivery function posts to callbacks.
    callback_senders: Sequence[str]
    #: The Squid fleet's instance type and size.
    proxy: ProxySizing
    #: The log archive's flow-logs bucket: VPC flow logs and Network Firewall logs go to it.
    flow_logs_bucket_arn: pulumi.Input[str]
    #: The log archive's access-logs bucket: the proxy NLB's access logs go to it.
    access_logs_bucket_arn: pulumi.Input[str]
    #: Days CloudWatch keeps the Site-to-Site VPN log events.
    log_retention_days: int
    #: The organization (`o-...`, from the foundation stack): the egress and spoke VPCs' endpoint policies
    #: admit its principals to its resources only.
    organization_id: pulumi.Input[str]
    #: The Direct Connect gateway and its VIFs; None: no Direct Connect.
    direct_connect: DirectConnectSpec | None = None
    #: The data centre's VPN devices, one VPN connection each; empty: no VPN. With either
    #: link the hub has an `onprem` segment.
    customer_gateways: Sequence[CustomerGatewaySpec] = ()
    #: Data-centre domains Route 53 Resolver forwards; empty: no Resolver endpoints and no rules.
    dns_domains: Sequence[str] = ()
    #: IPv4 addresses of the data centre's resolvers the forwarding rules target.
    dns_resolver_ips: Sequence[str] = field(default_factory=tuple)
    #: The public entry to the identity provider (with Keycloak); None: no ingress VPC.
    ingress: IngressPlan | None = None


def bucket_name_of(arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """`arn:aws:s3:::name` -> `name` (services that log to S3 by bucket name)."""
    return pulumi.Output.from_input(arn).apply(lambda a: a.split(":::", 1)[1])


def first_zone_ids(ids: Sequence[str], count: int) -> list[str]:
    """The first `count` zone IDs in sorted order: the same physical AZs in every account (AZ *names*
    map to different zones per account)."""
    chosen = sorted(ids)[:count]
    if len(chosen) < count:
        raise ValueError(f"network.availabilityZones is {count} but the region offers only {len(chosen)} "
                         f"availability zones ({', '.join(chosen)})")
    return chosen


class NetworkHubAccount(Account):
    """Transit Gateway hub, egress VPC with firewall and proxy, hybrid link and Resolver endpoints."""

    TYPE = "openbanking:account:NetworkHub"

    hub: TransitGatewayHub
    egress: EgressVpc
    proxy: EgressProxy
    hybrid: HybridConnectivity | None
    dns: DnsResolver | None
    ingress: IngressVpc | None

    def __init__(self, name: str, ctx: AccountContext, args: NetworkHubArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, opts)
        self.args = args
        prefix = ctx.name_prefix
        zones = aws.get_availability_zones_output(
            state="available",
            filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
            opts=pulumi.InvokeOutputOptions(parent=self, provider=ctx.provider))
        self.zone_ids = zones.zone_ids.apply(lambda ids: first_zone_ids(ids, args.az_count))
        hybrid = args.direct_connect is not None or bool(args.customer_gateways)
        wanted: list[Segment] = [*(s.segment for s in args.spokes), Segment.EGRESS,
                                 *([Segment.ONPREM] if hybrid else [])]
        segments = list(dict.fromkeys(wanted))
        self.hub = TransitGatewayHub(f"{name}-tgw", TransitGatewayHubArgs(
            name_prefix=prefix, amazon_side_asn=args.transit_gateway_asn, segments=segments,
            share_with={s.account_id: s.label for s in args.spokes}, on_premises_cidrs=args.on_premises_cidrs,
        ), opts=self.child)

        firewall_key = KmsKey(f"{name}-firewall-key", KmsKeyArgs(
            description=f"{prefix}: encrypts the Network Firewall, its policy and rule groups",
            account_id=ctx.account_id, alias=f"{prefix}/network-firewall", protect=ctx.protect), opts=self.child)
        spoke_cidrs = [s.cidr for s in args.spokes]
        flow_logs_bucket = bucket_name_of(args.flow_logs_bucket_arn)
        self.egress = EgressVpc(f"{name}-egress", EgressVpcArgs(
            name_prefix=prefix, cidr_block=args.egress_vpc_cidr, az_count=args.az_count, zone_ids=self.zone_ids,
            region=ctx.region, nat_per_az=args.nat_per_az, transit_gateway_id=self.hub.transit_gateway_id,
            spoke_cidrs=spoke_cidrs, on_premises_cidrs=args.on_premises_cidrs if hybrid else (),
            allowed_domains=args.allowed_domains, callback_domains=args.callback_domains,
            firewall_kms_key_arn=firewall_key.arn,
            log_bucket_arn=args.flow_logs_bucket_arn, log_bucket_name=flow_logs_bucket,
            organization_id=args.organization_id,
        ), opts=self.child)
        # Spokes send everything they do not reach directly to the egress VPC; the data centre reaches its
        # services subnets only (the Resolver inbound endpoint).
        static_routes: dict[Segment, dict[str, str]] = {
            segment: {"default": "0.0.0.0/0"} for segment in self.hub.route_tables if segment in SPOKE_SEGMENTS}
        if Segment.ONPREM in self.hub.route_tables:
            static_routes[Segment.ONPREM] = {f"services-{i}": cidr for i, cidr in enumerate(self.egress.services_cidrs)}
        self.egress_routing = SegmentAttachment(f"{name}-egress-routing", SegmentAttachmentArgs(
            hub=self.hub, attachment=Attachment("egress", Segment.EGRESS, self.egress.attachment_id,
                                                [args.egress_vpc_cidr]),
            static_routes=static_routes,
        ), opts=self.child)

        self.proxy = EgressProxy(f"{name}-proxy", EgressProxyArgs(
            name_prefix=prefix, vpc_id=self.egress.vpc_id,
            subnet_ids=[s.id for s in self.egress.services_subnets], client_cidrs=spoke_cidrs,
            allowed_domains=args.allowed_domains, zone_name=f"proxy.{args.domain}",
            callback_domains=args.callback_domains, callback_senders=args.callback_senders,
            ebs_kms_key_arn=self.baseline.ebs_key.arn, log_bucket_name=bucket_name_of(args.access_logs_bucket_arn),
            instance_type=args.proxy.instance_type, min_size=args.proxy.min_size, max_size=args.proxy.max_size,
        ), opts=self.child)

        self.hybrid = None
        if hybrid:
            reached_from_onprem = [s.cidr for s in args.spokes
                                   if s.segment in (Segment.WORKLOADS, Segment.IDENTITY)]
            self.hybrid = HybridConnectivity(f"{name}-hybrid", HybridConnectivityArgs(
                name_prefix=prefix, transit_gateway_id=self.hub.transit_gateway_id,
                allowed_prefixes=[*reached_from_onprem, *self.egress.services_cidrs],
                direct_connect=args.direct_connect, customer_gateways=args.customer_gateways,
                log_kms_key_arn=self.baseline.account_key.arn, log_retention_days=args.log_retention_days,
            ), opts=self.child)
            for link in self.hybrid.attachments:
                SegmentAttachment(f"{name}-{link.name}-routing", SegmentAttachmentArgs(
                    hub=self.hub, attachment=Attachment(link.name, Segment.ONPREM, link.attachment_id, [], link.ready),
                ), opts=self.child)

        self.dns = None
        #: The Resolver rules' RAM share associations: a spoke associates the rules once they exist.
        self.resolver_rules_shared: list[pulumi.Resource] = []
        if args.dns_domains:
            self.dns = DnsResolver(f"{name}-dns", DnsResolverArgs(
                name_prefix=prefix, vpc_id=self.egress.vpc_id,
                subnet_ids=[s.id for s in self.egress.services_subnets],
                on_premises_cidrs=args.on_premises_cidrs, forward_domains=args.dns_domains,
                target_ips=args.dns_resolver_ips,
            ), opts=self.child)
            self.resolver_rules_shared = [
                aws.ram.ResourceAssociation(
                    f"{self.hub.name}-share-resolver-{label}", resource_arn=rule.arn,
                    resource_share_arn=self.hub.share.arn,
                    opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=self.hub.share)]))
                for label, rule in self.dns.rules.items()]
        self.ingress = None
        if args.ingress is not None:
            self.ingress = IngressVpc(f"{name}-ingress", IngressVpcArgs(
                name_prefix=prefix, cidr_block=args.ingress.cidr, az_count=args.az_count, zone_ids=self.zone_ids,
                region=ctx.region, account_id=ctx.account_id, flow_log_bucket_arn=args.flow_logs_bucket_arn,
                access_logs_bucket=bucket_name_of(args.access_logs_bucket_arn),
                shield_advanced=args.ingress.shield_advanced, hostname=args.ingress.hostname), opts=self.child)
        self.register_outputs({
            "transitGatewayId": self.hub.transit_gateway_id,
            "egressVpcId": self.egress.vpc_id,
            "proxyEndpoint": self.proxy.endpoint,
        })

    def spoke_vpc_args(self, plan: SpokePlan, region: str) -> SpokeVpcArgs:
        """What the spoke account needs to build its VPC and attachment."""
        return SpokeVpcArgs(
            cidr_block=plan.cidr, az_count=self.args.az_count, zone_ids=self.zone_ids, region=region,
            transit_gateway_id=self.hub.transit_gateway_id, flow_log_bucket_arn=self.args.flow_logs_bucket_arn,
            segment=str(plan.segment), organization_id=self.args.organization_id,
            share_ready=[self.hub.principal_associations[plan.account_id]],
        )
