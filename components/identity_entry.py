"""How third parties reach the identity provider: `auth.<domain>` -> the network account's public NLB (TCP) -> an
interface endpoint in its ingress VPC -> PrivateLink -> the identity account's endpoint service -> Keycloak's NLB
(TCP) -> Keycloak, which terminates the TLS session and sees the client certificate.

It spans three accounts, so the environment builds it once all three exist, each resource with its account's
provider:

- network: the interface endpoint (its addresses pinned in the ingress VPC's endpoint subnets, admitting the NLB's
  nodes only) and the NLB's targets, those addresses;
- identity: the acceptance of that endpoint's connection (the endpoint service requires acceptance and admits the
  network account only);
- api (the public zone's account): `auth.<domain>` as an alias of the NLB, and the CNAME ACM validates the IdP's
  certificate by.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .ingress_vpc import PUBLIC_PORT, IngressVpc
from .private_integration import pinned_address


@dataclass(frozen=True)
class IdentityEntryArgs:
    """The pieces of the three accounts the path joins."""

    #: The network account's ingress VPC (its NLB, target group and endpoint subnets).
    ingress: IngressVpc
    #: The identity account's endpoint service (Keycloak's NLB).
    endpoint_service_name: pulumi.Input[str]
    #: Its id (the acceptance names it).
    endpoint_service_id: pulumi.Input[str]
    #: The IdP's public host, `auth.<domain>`.
    hostname: str
    #: The environment's public zone (in the api account).
    zone_id: pulumi.Input[str]
    #: The CNAME ACM asks for to validate the IdP's certificate: its name and value.
    validation_record_name: pulumi.Input[str]
    #: The CNAME's value.
    validation_record_value: pulumi.Input[str]
    #: Prefix of physical names, e.g. "prod-network".
    name_prefix: str
    #: Each account's provider: the network account's (endpoint, targets) ...
    network_provider: aws.Provider
    #: ... the identity account's (the acceptance) ...
    identity_provider: aws.Provider
    #: ... and the api account's (the public zone's records).
    zone_provider: aws.Provider


class IdentityEntry(pulumi.ComponentResource):
    """The public path to Keycloak, across the network, identity and api accounts."""

    endpoint: aws.ec2.VpcEndpoint

    def __init__(self, name: str, args: IdentityEntryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:identity:IdentityEntry", name, None, opts)
        ingress = args.ingress
        network = pulumi.ResourceOptions(parent=self, provider=args.network_provider)
        addresses = [pinned_address(cidr, 0) for cidr in ingress.endpoint_cidrs]
        group = aws.ec2.SecurityGroup(
            f"{name}-endpoint-sg", vpc_id=ingress.vpc_id, tags={"Name": f"{args.name_prefix}-auth-endpoint"},
            description=f"{args.hostname}: the identity endpoint, reached by the public NLB's nodes only", opts=network)
        for i, cidr in enumerate(ingress.public_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-endpoint-from-nlb-{i}", security_group_id=group.id, ip_protocol="tcp", from_port=PUBLIC_PORT,
                to_port=PUBLIC_PORT, cidr_ipv4=cidr, description="the public NLB's node in this zone",
                opts=pulumi.ResourceOptions(parent=group, provider=args.network_provider))
        self.endpoint = aws.ec2.VpcEndpoint(
            f"{name}-endpoint", vpc_id=ingress.vpc_id, service_name=args.endpoint_service_name,
            vpc_endpoint_type="Interface", private_dns_enabled=False, ip_address_type="ipv4",
            subnet_ids=list(ingress.endpoint_subnet_ids), security_group_ids=[group.id],
            subnet_configurations=[aws.ec2.VpcEndpointSubnetConfigurationArgs(subnet_id=subnet, ipv4=address)
                                   for subnet, address in zip(ingress.endpoint_subnet_ids, addresses, strict=True)],
            tags={"Name": f"{args.name_prefix}-auth-endpoint"}, opts=network)
        accepter = aws.ec2.VpcEndpointConnectionAccepter(
            f"{name}-acceptance", vpc_endpoint_service_id=args.endpoint_service_id, vpc_endpoint_id=self.endpoint.id,
            opts=pulumi.ResourceOptions(parent=self, provider=args.identity_provider))
        for i, address in enumerate(addresses):
            aws.lb.TargetGroupAttachment(
                f"{name}-target-{i}", target_group_arn=ingress.target_group.arn, target_id=address, port=PUBLIC_PORT,
                opts=pulumi.ResourceOptions(parent=self, provider=args.network_provider, depends_on=[accepter]))

        zone = pulumi.ResourceOptions(parent=self, provider=args.zone_provider)
        aws.route53.Record(
            f"{name}-certificate-validation", zone_id=args.zone_id, type="CNAME", ttl=300,
            name=args.validation_record_name, records=[args.validation_record_value], allow_overwrite=True, opts=zone)
        aws.route53.Record(
            f"{name}-alias", zone_id=args.zone_id, name=args.hostname, type="A",
            aliases=[aws.route53.RecordAliasArgs(name=ingress.dns_name, zone_id=ingress.zone_id,
                                                 evaluate_target_health=True)], opts=zone)
        self.addresses = addresses
        self.register_outputs({"endpointId": self.endpoint.id, "addresses": addresses})
