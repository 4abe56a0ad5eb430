"""The Transit Gateway hub: one TGW shared by RAM, one route table per segment, and the routes that make
the segment matrix true.

Who may reach whom is data (:data:`REACHES`), and the hub turns it into AWS resources when an attachment
joins: it is associated with its segment's route table, propagated into the route tables of the
segments allowed to reach it, and blackholed (a static blackhole route for its CIDRs) in the route
tables of the spoke segments that must not. Spoke segments send everything else (0.0.0.0/0) to the
egress VPC; the blackholes are what stop that default route from hair-pinning one spoke into another
through the egress VPC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import pulumi
import pulumi_aws as aws

SEGMENT_TAG = "lz:segment"


class Segment(StrEnum):
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
    name_prefix: str
    amazon_side_asn: int
    #: The segments this environment has route tables for.
    segments: Sequence[Segment]
    #: Account id -> logical name, for every account the TGW is shared with (one RAM principal each).
    share_with: Mapping[str, str]
    #: The data centre's ranges (what DX/VPN propagate); kept as a managed prefix list so spoke route
    #: tables that must not reach on-prem blackhole all of them with one reference.
    on_premises_cidrs: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    """An attachment the hub routes: its id, segment and (for a VPC) the CIDRs behind it."""

    name: str
    segment: Segment
    attachment_id: pulumi.Output[str]
    cidrs: Sequence[str]
    #: Resources the hub-side association must wait for (e.g. the attachment accepter).
    ready: Sequence[pulumi.Resource] = ()


class TransitGatewayHub(pulumi.ComponentResource):
    """TGW + RAM share + segment route tables. Attachments join through :meth:`connect`."""

    transit_gateway: aws.ec2transitgateway.TransitGateway
    route_tables: dict[Segment, aws.ec2transitgateway.RouteTable]
    principal_associations: dict[str, aws.ram.PrincipalAssociation]

    def __init__(self, name: str, args: TransitGatewayHubArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:TransitGatewayHub", name, None, opts)
        self._name = name
        self._args = args
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
            for segment in self._spokes_denied(Segment.ONPREM):
                aws.ec2transitgateway.PrefixListReference(
                    f"{name}-rt-{segment}-blackhole-onprem",
                    prefix_list_id=self.on_premises_prefix_list.id,
                    transit_gateway_route_table_id=self.route_tables[segment].id,
                    blackhole=True,
                    opts=pulumi.ResourceOptions(parent=self.route_tables[segment]),
                )
        self.register_outputs({
            "transitGatewayId": self.transit_gateway.id,
            "resourceShareArn": self.share.arn,
            "routeTableIds": {str(s): rt.id for s, rt in self.route_tables.items()},
        })

    @property
    def transit_gateway_id(self) -> pulumi.Output[str]:
        return self.transit_gateway.id

    def _spokes_denied(self, target: Segment) -> list[Segment]:
        """Spoke segments present here whose route table must blackhole `target`'s prefixes."""
        return [s for s in self.route_tables if s in SPOKE_SEGMENTS and target not in REACHES[s]]

    def share_resource(self, name: str, resource_arn: pulumi.Input[str]) -> aws.ram.ResourceAssociation:
        """Add another resource (e.g. a Resolver rule) to the environment's network share."""
        return aws.ram.ResourceAssociation(f"{self._name}-share-{name}", resource_arn=resource_arn,
                                           resource_share_arn=self.share.arn,
                                           opts=pulumi.ResourceOptions(parent=self.share))

    def accept(self, name: str, attachment_id: pulumi.Input[str]) -> aws.ec2transitgateway.VpcAttachmentAccepter:
        """Accept a spoke account's attachment: auto-accept is off, so nothing joins unless the program says so."""
        return aws.ec2transitgateway.VpcAttachmentAccepter(
            f"{self._name}-accept-{name}",
            transit_gateway_attachment_id=attachment_id,
            transit_gateway_default_route_table_association=False,
            transit_gateway_default_route_table_propagation=False,
            tags={"Name": f"{self._args.name_prefix}-{name}"},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def connect(self, attachment: Attachment) -> aws.ec2transitgateway.RouteTableAssociation:
        """Associate `attachment` with its segment's route table, propagate it where :data:`REACHES`
        allows, and blackhole its CIDRs in the spoke route tables that must not reach it (its own segment's
        included: peers in one segment do not talk through the TGW; a VPC's own traffic never reaches it)."""
        segment = attachment.segment
        if segment not in self.route_tables:
            raise ValueError(f"attachment {attachment.name!r}: this hub has no {segment!r} route table "
                             f"(it has {sorted(self.route_tables)})")
        wait = pulumi.ResourceOptions(parent=self, depends_on=list(attachment.ready))
        association = aws.ec2transitgateway.RouteTableAssociation(
            f"{self._name}-assoc-{attachment.name}",
            transit_gateway_attachment_id=attachment.attachment_id,
            transit_gateway_route_table_id=self.route_tables[segment].id,
            replace_existing_association=False,
            opts=wait,
        )
        for source, table in self.route_tables.items():
            if segment in REACHES[source] and not (source is Segment.ONPREM and segment is Segment.EGRESS):
                aws.ec2transitgateway.RouteTablePropagation(
                    f"{self._name}-prop-{attachment.name}-to-{source}",
                    transit_gateway_attachment_id=attachment.attachment_id,
                    transit_gateway_route_table_id=table.id,
                    opts=wait,
                )
        for source in self._spokes_denied(segment):
            for cidr in attachment.cidrs:
                aws.ec2transitgateway.Route(
                    f"{self._name}-rt-{source}-blackhole-{attachment.name}-{_slug(cidr)}",
                    destination_cidr_block=cidr,
                    transit_gateway_route_table_id=self.route_tables[source].id,
                    blackhole=True,
                    opts=pulumi.ResourceOptions(parent=self.route_tables[source]),
                )
        return association

    def route(self, name: str, segment: Segment, destination_cidr: str,
              attachment_id: pulumi.Input[str], depends_on: Sequence[pulumi.Resource] = ()) -> aws.ec2transitgateway.Route:
        """A static route in `segment`'s route table."""
        return aws.ec2transitgateway.Route(
            f"{self._name}-rt-{segment}-{name}",
            destination_cidr_block=destination_cidr,
            transit_gateway_route_table_id=self.route_tables[segment].id,
            transit_gateway_attachment_id=attachment_id,
            opts=pulumi.ResourceOptions(parent=self.route_tables[segment], depends_on=list(depends_on)),
        )

    def default_routes_to(self, attachment_id: pulumi.Input[str],
                          depends_on: Sequence[pulumi.Resource] = ()) -> None:
        """0.0.0.0/0 from every spoke segment to the egress VPC."""
        for segment in self.route_tables:
            if segment in SPOKE_SEGMENTS:
                self.route("default", segment, "0.0.0.0/0", attachment_id, depends_on)


def _slug(cidr: str) -> str:
    return cidr.replace(".", "-").replace("/", "-")
