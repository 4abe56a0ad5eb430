"""The Transit Gateway hub: one TGW shared by RAM, one route table per segment, and the routes that make
the segment matrix true.

Who may reach whom is data (:data:`REACHES`). :class:`TransitGatewayHub` builds the gateway, its RAM share
and one route table per segment; each attachment then joins through a :class:`SegmentAttachment`: it is
associated with its segment's route table, propagated into the route tables of the segments allowed to
reach it, and blackholed (a static blackhole route for its CIDRs) in the route tables of the spoke
segments that must not. Spoke segments send everything else (0.0.0.0/0) to the egress VPC (static routes
of the egress attachment); the blackholes are what stop that default route from hair-pinning one spoke
into another through the egress VPC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import pulumi
import pulumi_aws as aws

SEGMENT_TAG = "lz:segment"


class Segment(StrEnum):
    """A routing domain of the hub: one TGW route table, and the attachments associated with it."""

    WORKLOADS = "workloads"
    IDENTITY = "identity"
    EDGE = "edge"
    SANDBOX = "sandbox"
    EGRESS = "egress"
    ONPREM = "onprem"


#: Spoke segments: VPCs of the environment's accounts, whose default route leads to the egress VPC.
SPOKE_SEGMENTS = frozenset({Segment.WORKLOADS, Segment.IDENTITY, Segment.EDGE, Segment.SANDBOX})

#: Source segment -> the segments its route table has routes to (DESIGN.md, "Network"). The api account
#: (edge) reaches the workloads only through PrivateLink, never through the TGW. On-prem reaches identity
#: too because TGW routing is stateless: identity's own calls to on-prem need the return route. Egress
#: routes back to every spoke (return traffic) and to on-prem (the Route 53 Resolver outbound endpoint);
#: on-prem reaches the egress VPC's services subnets only (the Resolver inbound endpoint), by static route.
#: The network account's ingress VPC (components/ingress_vpc.py) is no segment here: it is attached to nothing.
REACHES: Mapping[Segment, frozenset[Segment]] = {
    Segment.WORKLOADS: frozenset({Segment.ONPREM, Segment.EGRESS}),
    Segment.IDENTITY: frozenset({Segment.ONPREM, Segment.EGRESS}),
    Segment.EDGE: frozenset({Segment.EGRESS}),
    Segment.SANDBOX: frozenset({Segment.EGRESS}),
    Segment.ONPREM: frozenset({Segment.WORKLOADS, Segment.IDENTITY}),
    Segment.EGRESS: frozenset({Segment.WORKLOADS, Segment.IDENTITY, Segment.EDGE, Segment.SANDBOX, Segment.ONPREM}),
}


@dataclass(frozen=True)
class TransitGatewayHubArgs:
    """The hub of one environment."""

    #: Prefix of physical names and `Name` tags, e.g. "dev-network".
    name_prefix: str
    #: The gateway's own BGP ASN (Amazon side of Direct Connect and VPN sessions); a private ASN.
    amazon_side_asn: int
    #: The segments this environment has route tables for (each spoke segment present, egress, onprem if linked).
    segments: Sequence[Segment]
    #: Account id -> logical name, for every account the TGW is shared with (one RAM principal each).
    share_with: Mapping[str, str]
    #: The data centre's ranges (what DX/VPN propagate); kept as a managed prefix list so spoke route
    #: tables that must not reach on-prem blackhole all of them with one reference.
    on_premises_cidrs: Sequence[str] = ()
    #: Extra tags on the gateway, share, route tables and prefix list.
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    """An attachment the hub routes: its id, segment and (for a VPC) the CIDRs behind it."""

    #: Logical name, unique in the hub; part of the route and association names.
    name: str
    #: The segment whose route table the attachment is associated with.
    segment: Segment
    #: The Transit Gateway attachment id (a VPC attachment, DX gateway association or VPN connection).
    attachment_id: pulumi.Input[str]
    #: The CIDRs behind the attachment: blackholed in the spoke tables that must not reach them.
    cidrs: Sequence[str]
    #: Resources the hub-side association must wait for (e.g. the attachment accepter).
    ready: Sequence[pulumi.Resource] = ()


class TransitGatewayHub(pulumi.ComponentResource):
    """TGW + RAM share + segment route tables (+ the on-prem prefix list and its blackholes). Complete when
    constructed; attachments join it through :class:`SegmentAttachment`."""

    transit_gateway: aws.ec2transitgateway.TransitGateway
    share: aws.ram.ResourceShare
    route_tables: dict[Segment, aws.ec2transitgateway.RouteTable]
    principal_associations: dict[str, aws.ram.PrincipalAssociation]

    def __init__(self, name: str, args: TransitGatewayHubArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:TransitGatewayHub", name, None, opts)
        #: The component's name: attachments name their routes after it, so they read as the hub's.
        self.name = name
        self.name_prefix = args.name_prefix
        child = pulumi.ResourceOptions(parent=self)
        self.transit_gateway = aws.ec2transitgateway.TransitGateway(
            f"{name}-tgw",
            description=f"{args.name_prefix}: segmented hub shared with the environment's accounts",
            amazon_side_asn=args.amazon_side_asn,
            auto_accept_shared_attachments="disable",
            default_route_table_association="disable",
            default_route_table_propagation="disable",
            dns_support="enable",
            vpn_ecmp_support="enable",
            tags={"Name": f"{args.name_prefix}-tgw", **args.tags},
            opts=child,
        )
        self.share = aws.ram.ResourceShare(
            f"{name}-share",
            name=f"{args.name_prefix}-network",
            allow_external_principals=False,
            tags={"Name": f"{args.name_prefix}-network", **args.tags},
            opts=child,
        )
        on_share = pulumi.ResourceOptions(parent=self.share)
        aws.ram.ResourceAssociation(
            f"{name}-share-tgw",
            resource_arn=self.transit_gateway.arn,
            resource_share_arn=self.share.arn,
            opts=on_share,
        )
        self.principal_associations = {
            account_id: aws.ram.PrincipalAssociation(
                f"{name}-share-{label}",
                principal=account_id,
                resource_share_arn=self.share.arn,
                opts=on_share,
            )
            for account_id, label in args.share_with.items()
        }
        self.route_tables = {
            segment: aws.ec2transitgateway.RouteTable(
                f"{name}-rt-{segment}",
                transit_gateway_id=self.transit_gateway.id,
                tags={"Name": f"{args.name_prefix}-{segment}", SEGMENT_TAG: str(segment), **args.tags},
                opts=child,
            )
            for segment in args.segments
        }
        self.on_premises_prefix_list: aws.ec2.ManagedPrefixList | None = None
        if args.on_premises_cidrs:
            self.on_premises_prefix_list = aws.ec2.ManagedPrefixList(
                f"{name}-onprem-prefixes",
                name=f"{args.name_prefix}-onprem",
                address_family="IPv4",
                max_entries=max(len(args.on_premises_cidrs), 10),
                entries=[aws.ec2.ManagedPrefixListEntryArgs(cidr=c, description="data centre range")
                         for c in args.on_premises_cidrs],
                tags={"Name": f"{args.name_prefix}-onprem", SEGMENT_TAG: str(Segment.ONPREM), **args.tags},
                opts=child,
            )
            for segment in spokes_denied(self.route_tables, Segment.ONPREM):
                aws.ec2transitgateway.PrefixListReference(
                    f"{name}-rt-{segment}-blackhole-onprem",
                    prefix_list_id=self.on_premises_prefix_list.id,
                    transit_gateway_route_table_id=self.route_tables[segment].id,
                    blackhole=True,
                    opts=pulumi.ResourceOptions(parent=self.route_tables[segment]),
                )
        self.transit_gateway_id = self.transit_gateway.id
        self.register_outputs({
            "transitGatewayId": self.transit_gateway_id,
            "resourceShareArn": self.share.arn,
            "routeTableIds": {str(s): rt.id for s, rt in self.route_tables.items()},
        })


def spokes_denied(route_tables: Mapping[Segment, object], target: Segment) -> list[Segment]:
    """Spoke segments present in `route_tables` whose route table must blackhole `target`'s prefixes."""
    return [s for s in route_tables if s in SPOKE_SEGMENTS and target not in REACHES[s]]


@dataclass(frozen=True)
class SegmentAttachmentArgs:
    """One attachment joining the hub, and the static routes that lead to it."""

    #: The hub it joins; its route tables get the association, propagations, blackholes and static routes.
    hub: TransitGatewayHub
    #: The attachment: its id, its segment and the CIDRs behind it.
    attachment: Attachment
    #: Segment -> {label: destination CIDR}: static routes to this attachment in other segments' tables
    #: (e.g. the spoke segments' 0.0.0.0/0 to the egress VPC). They wait for the association.
    static_routes: Mapping[Segment, Mapping[str, str]] = field(default_factory=dict)


class SegmentAttachment(pulumi.ComponentResource):
    """Associate an attachment with its segment's route table, propagate it where :data:`REACHES` allows,
    and blackhole its CIDRs in the spoke route tables that must not reach it (its own segment's included:
    peers in one segment do not talk through the TGW; a VPC's own traffic never reaches it).

    Runs with the hub account's provider (the caller's `opts`); resource names are the hub's, so each route
    reads as `<hub>-rt-<segment>-...` whichever attachment brought it.
    """

    association: aws.ec2transitgateway.RouteTableAssociation

    def __init__(self, name: str, args: SegmentAttachmentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:SegmentAttachment", name, None, opts)
        hub, attachment = args.hub, args.attachment
        segment = attachment.segment
        if segment not in hub.route_tables:
            raise ValueError(f"attachment {attachment.name!r}: this hub has no {segment!r} route table "
                             f"(it has {sorted(hub.route_tables)})")
        missing = sorted(set(args.static_routes) - set(hub.route_tables))
        if missing:
            raise ValueError(f"attachment {attachment.name!r}: static routes for segments the hub lacks: {missing}")
        # Deployed before these resources had their own component, they were the hub's children.
        was_hubs = [pulumi.Alias(parent=hub)]
        wait = pulumi.ResourceOptions(parent=self, depends_on=list(attachment.ready), aliases=was_hubs)
        self.association = aws.ec2transitgateway.RouteTableAssociation(
            f"{hub.name}-assoc-{attachment.name}",
            transit_gateway_attachment_id=attachment.attachment_id,
            transit_gateway_route_table_id=hub.route_tables[segment].id,
            replace_existing_association=False,
            opts=wait,
        )
        for source, table in hub.route_tables.items():
            if segment in REACHES[source]:
                aws.ec2transitgateway.RouteTablePropagation(
                    f"{hub.name}-prop-{attachment.name}-to-{source}",
                    transit_gateway_attachment_id=attachment.attachment_id,
                    transit_gateway_route_table_id=table.id,
                    opts=wait,
                )
        for source in spokes_denied(hub.route_tables, segment):
            for cidr in attachment.cidrs:
                aws.ec2transitgateway.Route(
                    f"{hub.name}-rt-{source}-blackhole-{attachment.name}-{_slug(cidr)}",
                    destination_cidr_block=cidr,
                    transit_gateway_route_table_id=hub.route_tables[source].id,
                    blackhole=True,
                    opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=hub.route_tables[source])]),
                )
        for source, routes in args.static_routes.items():
            for label, cidr in routes.items():
                aws.ec2transitgateway.Route(
                    f"{hub.name}-rt-{source}-{label}",
                    destination_cidr_block=cidr,
                    transit_gateway_route_table_id=hub.route_tables[source].id,
                    transit_gateway_attachment_id=attachment.attachment_id,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.association],
                                                aliases=[pulumi.Alias(parent=hub.route_tables[source])]),
                )
        self.register_outputs({"associationId": self.association.id})


def _slug(cidr: str) -> str:
    return cidr.replace(".", "-").replace("/", "-")
