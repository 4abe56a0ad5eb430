"""The link between the network hub and one spoke VPC, which spans two accounts.

Everything one spoke needs from the hub, and everything the spoke does once the hub has it, in one place:
the hub (network account's provider) accepts the spoke's attachment, associates it with its segment's
route table, propagates and blackholes it (:class:`SegmentAttachment`) and authorises the spoke's VPC on
the egress proxy's private zone; the spoke (its own account's provider) then adds its default route to the
Transit Gateway, associates the proxy zone and the Resolver forwarding rules shared by RAM. Each side's
provider is an argument, so each resource lands in the account it belongs to whatever the parent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .spoke_vpc import SpokeVpc
from .transit_gateway import Attachment, Segment, SegmentAttachment, SegmentAttachmentArgs, TransitGatewayHub


@dataclass(frozen=True)
class SpokeLinkArgs:
    """One spoke VPC joining the hub."""

    #: Logical name of the spoke in the hub (e.g. "workload-ais"); names its attachment's routes.
    label: str
    #: The segment whose route table the spoke's attachment is associated with.
    segment: Segment
    #: The spoke's CIDR, blackholed in the spoke tables that must not reach it.
    cidr: str
    #: The network hub the spoke joins: its TGW and segment route tables.
    hub: TransitGatewayHub
    #: The spoke VPC and its (not yet accepted) TGW attachment, built in the spoke account.
    spoke: SpokeVpc
    #: The network account's provider (accepter, association, propagations, blackholes, zone authorisation).
    hub_provider: pulumi.ProviderResource
    #: The spoke account's provider (default route, zone and Resolver rule associations).
    spoke_provider: pulumi.ProviderResource
    #: The egress proxy's private hosted zone (network account) the spoke associates to resolve the proxy.
    proxy_zone: aws.route53.Zone | None = None
    #: Resolver forwarding rules shared by RAM (label -> rule id) to associate with the spoke VPC.
    resolver_rule_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    #: What the rule associations must wait for: the rules' RAM share associations.
    resolver_rules_shared: Sequence[pulumi.Resource] = ()


class SpokeLink(pulumi.ComponentResource):
    """Accepted, routed and resolvable: the spoke can reach what its segment allows once this exists."""

    accepter: aws.ec2transitgateway.VpcAttachmentAccepter
    routing: SegmentAttachment

    def __init__(self, name: str, args: SpokeLinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:SpokeLink", name, None, opts)
        hub, spoke = args.hub, args.spoke
        on_hub = pulumi.ResourceOptions(parent=self, provider=args.hub_provider)
        # Resources deployed before this component existed keep their state through aliases of their old parents.
        self.accepter = aws.ec2transitgateway.VpcAttachmentAccepter(
            f"{hub.name}-accept-{args.label}",
            transit_gateway_attachment_id=spoke.attachment_id,
            transit_gateway_default_route_table_association=False,
            transit_gateway_default_route_table_propagation=False,
            tags={"Name": f"{hub.name_prefix}-{args.label}"},
            opts=pulumi.ResourceOptions.merge(on_hub, pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=hub)])),
        )
        self.routing = SegmentAttachment(
            f"{name}-routing",
            SegmentAttachmentArgs(hub=hub, attachment=Attachment(args.label, args.segment, spoke.attachment_id,
                                                                 [args.cidr], [self.accepter])),
            opts=on_hub,
        )
        on_spoke = pulumi.ResourceOptions(parent=self, provider=args.spoke_provider)
        aws.ec2.Route(
            f"{spoke.name}-default-to-tgw",
            route_table_id=spoke.route_table.id,
            destination_cidr_block="0.0.0.0/0",
            transit_gateway_id=hub.transit_gateway_id,
            opts=pulumi.ResourceOptions.merge(on_spoke, pulumi.ResourceOptions(
                depends_on=[spoke.attachment, self.accepter, self.routing.association],
                aliases=[pulumi.Alias(parent=spoke.route_table)])),
        )
        if args.proxy_zone is not None:
            authorization = aws.route53.VpcAssociationAuthorization(
                f"{hub.name_prefix}-{args.label}-proxy-zone-authorization",
                zone_id=args.proxy_zone.zone_id,
                vpc_id=spoke.vpc_id,
                opts=pulumi.ResourceOptions.merge(on_hub, pulumi.ResourceOptions(
                    aliases=[pulumi.Alias(parent=args.proxy_zone)])),
            )
            aws.route53.ZoneAssociation(
                f"{spoke.name}-proxy-zone",
                zone_id=args.proxy_zone.zone_id,
                vpc_id=spoke.vpc_id,
                opts=pulumi.ResourceOptions.merge(on_spoke, pulumi.ResourceOptions(
                    depends_on=[authorization], aliases=[pulumi.Alias(parent=spoke)])),
            )
        for label, rule_id in args.resolver_rule_ids.items():
            aws.route53.ResolverRuleAssociation(
                f"{spoke.name}-resolver-{label}",
                resolver_rule_id=rule_id,
                vpc_id=spoke.vpc_id,
                opts=pulumi.ResourceOptions.merge(on_spoke, pulumi.ResourceOptions(
                    depends_on=list(args.resolver_rules_shared), aliases=[pulumi.Alias(parent=spoke)])),
            )
        self.register_outputs({"accepterId": self.accepter.id, "associationId": self.routing.association.id})
