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

    #: Label of the VIF, unique in the environment; the VIF is named `<prefix>-<name>`.
    name: str
    #: The dedicated Direct Connect connection the VIF is created on (`dxcon-xxxxxxxx`).
    connection_id: str
    #: 802.1Q VLAN tag of the VIF on the connection (1-4094), as agreed with the data centre.
    vlan: int
    #: BGP ASN of the data centre's router on this VIF.
    customer_asn: int
    #: MTU of the VIF in bytes: 8500 (jumbo frames) or 1500.
    mtu: int = 8500


@dataclass(frozen=True)
class DirectConnectSpec:
    """The Direct Connect gateway and the transit VIFs that reach it."""

    #: Amazon-side BGP ASN of the Direct Connect gateway (a private ASN).
    gateway_asn: int
    #: Transit VIFs to create on dedicated connections; empty: none.
    transit_vifs: Sequence[TransitVif] = ()
    #: Hosted transit VIFs a partner created (`dxvif-xxxxxxxx`), accepted onto the gateway; empty: none.
    hosted_vif_ids: Sequence[str] = ()


@dataclass(frozen=True)
class CustomerGatewaySpec:
    """One of the data centre's VPN devices; it gets one Site-to-Site VPN connection to the TGW."""

    #: Label of the device: names its customer gateway and VPN connection (`<prefix>-<name>`) and its
    #: TGW attachment in the hub (`vpn-<name>`).
    name: str
    #: The device's public IPv4 address: the remote end of both tunnels.
    ip_address: str
    #: The device's BGP ASN (routes are exchanged over BGP; the connection has no static routes).
    bgp_asn: int


@dataclass(frozen=True)
class HybridConnectivityArgs:
    """The data centre link: Direct Connect, Site-to-Site VPN, or both, on one Transit Gateway."""

    #: Prefix of physical names: the DX gateway (`<prefix>-dx`), the VIFs, customer gateways and
    #: VPN connections, and the VPN log group (`/openbanking/<prefix>/site-to-site-vpn`).
    name_prefix: str
    #: The hub's Transit Gateway: the DX gateway is associated with it and the VPNs attach to it.
    transit_gateway_id: pulumi.Input[str]
    #: AWS-side prefixes advertised to the data centre over Direct Connect (at most 20).
    allowed_prefixes: Sequence[str]
    #: The Direct Connect gateway and its VIFs; None: no Direct Connect.
    direct_connect: DirectConnectSpec | None = None
    #: One VPN connection (two IKEv2 tunnels, both started by AWS) per device; empty: no
    #: VPN and no VPN log group.
    customer_gateways: Sequence[CustomerGatewaySpec] = field(default_factory=tuple)
    #: Encrypts the VPN log group; None: CloudWatch Logs' default encryption.
    log_kms_key_arn: pulumi.Input[str] | None = None
    #: Days CloudWatch keeps the VPN tunnel and BGP log events.
    log_retention_days: int = 400


@dataclass(frozen=True)
class OnPremAttachment:
    """A Transit Gateway attachment of the data centre link, for the hub to route in the `onprem` segment."""

    #: `dx` or `vpn-<customer gateway name>`: the attachment's name in the hub's routes.
    name: str
    #: The TGW attachment id: the DX gateway association's or the VPN connection's.
    attachment_id: pulumi.Output[str]
    #: What the hub's association must wait for: the DX gateway association or the VPN connection.
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
    """A Direct Connect gateway with its VIFs, and Site-to-Site VPN connections, on the hub's TGW."""

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
