"""The data centre link: a Direct Connect gateway associated with the Transit Gateway, and a Site-to-Site
VPN attached to the same TGW as its backup. Both optional; the hub routes their attachments in the
`onprem` segment.

The physical side is referenced, never invented: dedicated connections by id (`dxcon-...`) get a transit
virtual interface each; a partner's hosted transit VIFs (`dxvif-...`) are accepted onto the gateway. The
TGW prefers Direct Connect routes over VPN-propagated routes for the same prefix, which is what makes
the VPN a backup. VPN tunnels are IKEv2 only with AES-256-GCM / SHA2-384 and DH groups 20/21, and log
to CloudWatch (KMS-encrypted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class TransitVif:
    """A transit VIF on a dedicated connection."""

    name: str
    connection_id: str
    vlan: int
    customer_asn: int
    mtu: int = 8500


@dataclass(frozen=True)
class DirectConnectSpec:
    gateway_asn: int
    transit_vifs: Sequence[TransitVif] = ()
    hosted_vif_ids: Sequence[str] = ()


@dataclass(frozen=True)
class CustomerGatewaySpec:
    name: str
    ip_address: str
    bgp_asn: int


@dataclass(frozen=True)
class HybridConnectivityArgs:
    name_prefix: str
    transit_gateway_id: pulumi.Input[str]
    #: AWS-side prefixes advertised to the data centre over Direct Connect (at most 20).
    allowed_prefixes: Sequence[str]
    direct_connect: DirectConnectSpec | None = None
    customer_gateways: Sequence[CustomerGatewaySpec] = field(default_factory=tuple)
    log_kms_key_arn: pulumi.Input[str] | None = None
    log_retention_days: int = 400


@dataclass(frozen=True)
class OnPremAttachment:
    name: str
    attachment_id: pulumi.Output[str]
    ready: Sequence[pulumi.Resource]


STRONG_IKE: dict[str, Any] = {
    "ike_versions": ["ikev2"],
    "phase1_encryption_algorithms": ["AES256-GCM-16"],
    "phase1_integrity_algorithms": ["SHA2-384"],
    "phase1_dh_group_numbers": [20, 21],
    "phase2_encryption_algorithms": ["AES256-GCM-16"],
    "phase2_integrity_algorithms": ["SHA2-384"],
    "phase2_dh_group_numbers": [20, 21],
}


class HybridConnectivity(pulumi.ComponentResource):
    attachments: list[OnPremAttachment]

    def __init__(self, name: str, args: HybridConnectivityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:network:HybridConnectivity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.attachments = []
        if args.direct_connect is not None:
            dx = args.direct_connect
            gateway = aws.directconnect.Gateway(
                f"{name}-dx-gateway", name=f"{args.name_prefix}-dx", amazon_side_asn=str(dx.gateway_asn), opts=child)
            association = aws.directconnect.GatewayAssociation(
                f"{name}-dx-association",
                dx_gateway_id=gateway.id,
                associated_gateway_id=args.transit_gateway_id,
                allowed_prefixes=list(args.allowed_prefixes),
                opts=pulumi.ResourceOptions(parent=gateway),
            )
            for vif in dx.transit_vifs:
                aws.directconnect.TransitVirtualInterface(
                    f"{name}-vif-{vif.name}",
                    name=f"{args.name_prefix}-{vif.name}",
                    connection_id=vif.connection_id,
                    dx_gateway_id=gateway.id,
                    vlan=vif.vlan,
                    bgp_asn=vif.customer_asn,
                    address_family="ipv4",
                    mtu=vif.mtu,
                    opts=pulumi.ResourceOptions(parent=gateway),
                )
            for vif_id in dx.hosted_vif_ids:
                aws.directconnect.HostedTransitVirtualInterfaceAcceptor(
                    f"{name}-hosted-vif-{vif_id}",
                    virtual_interface_id=vif_id,
                    dx_gateway_id=gateway.id,
                    opts=pulumi.ResourceOptions(parent=gateway),
                )
            self.attachments.append(OnPremAttachment(
                "dx", association.transit_gateway_attachment_id, [association]))
        if args.customer_gateways:
            log_group = aws.cloudwatch.LogGroup(
                f"{name}-vpn-logs",
                name=f"/openbanking/{args.name_prefix}/site-to-site-vpn",
                retention_in_days=args.log_retention_days,
                kms_key_id=args.log_kms_key_arn,
                opts=child,
            )
            cloudwatch: dict[str, Any] = {"log_enabled": True, "log_group_arn": log_group.arn, "log_output_format": "json",
                          "bgp_log_enabled": True, "bgp_log_group_arn": log_group.arn, "bgp_log_output_format": "json"}
            for cgw in args.customer_gateways:
                gateway = aws.ec2.CustomerGateway(
                    f"{name}-cgw-{cgw.name}",
                    bgp_asn=str(cgw.bgp_asn),
                    ip_address=cgw.ip_address,
                    type="ipsec.1",
                    tags={"Name": f"{args.name_prefix}-{cgw.name}"},
                    opts=child,
                )
                tunnels: dict[str, Any] = {f"tunnel{t}_{k}": v for t in (1, 2) for k, v in STRONG_IKE.items()}
                connection = aws.ec2.VpnConnection(
                    f"{name}-vpn-{cgw.name}",
                    customer_gateway_id=gateway.id,
                    transit_gateway_id=args.transit_gateway_id,
                    type="ipsec.1",
                    static_routes_only=False,
                    tunnel1_log_options=aws.ec2.VpnConnectionTunnel1LogOptionsArgs(
                        cloudwatch_log_options=aws.ec2.VpnConnectionTunnel1LogOptionsCloudwatchLogOptionsArgs(**cloudwatch)),
                    tunnel2_log_options=aws.ec2.VpnConnectionTunnel2LogOptionsArgs(
                        cloudwatch_log_options=aws.ec2.VpnConnectionTunnel2LogOptionsCloudwatchLogOptionsArgs(**cloudwatch)),
                    tunnel1_startup_action="start",
                    tunnel2_startup_action="start",
                    tags={"Name": f"{args.name_prefix}-{cgw.name}"},
                    **tunnels,
                    opts=pulumi.ResourceOptions(parent=gateway, additional_secret_outputs=[
                        "tunnel1PresharedKey", "tunnel2PresharedKey", "customerGatewayConfiguration"]),
                )
                self.attachments.append(OnPremAttachment(
                    f"vpn-{cgw.name}", connection.transit_gateway_attachment_id, [connection]))
        self.register_outputs({"attachmentIds": {a.name: a.attachment_id for a in self.attachments}})
