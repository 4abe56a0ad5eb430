"""The developer sandbox account for third parties [14]: the same services as the workload accounts, in sandbox mode
with synthetic data, behind an edge of its own, routed to nothing but egress (the `sandbox` segment blackholes
everything else). docs/sandbox.md draws it.

It holds, in order: its public zone (the services' certificates are validated there before the edge exists), the two
secrets only the operator fills (the sandbox CA's key, the IdP's key), a :class:`~accounts.service_plane.ServicePlane`
running ais, pis, events, the sandbox IdP and CA (Fargate Spot) with their Lambdas, ledger, cache, tables, signing
key and events bus, and an :class:`~accounts.edge.Edge`: the mutual-TLS entry whose truststore is the sandbox CA, a
VPC link to each service's own NLB, the IdP's routes, the entry without client certificates for the CA and the
published keys, the static data and the developer portal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from components.content_bucket import ContentObject
from components.open_http_api import OpenBackend
from components.public_zone import PublicZone, PublicZoneArgs
from components.signing_key import jwks_document, rsa_jwk
from components.spoke_vpc import SpokeVpcArgs

from .base import AccountContext
from .edge import Edge, EdgeArgs, EdgePlacement, ServiceBackend
from .service_plane import ServicePlane, WorkloadAccountArgs
from .spoke import SpokeAccount
from .workload_access import DeployableSettings

#: The settings that carry the two keys the operator puts into Secrets Manager (ECS `secrets`).
CA_KEY_VARIABLE, IDP_KEY_VARIABLE = "OB_SANDBOX_CA_KEY", "OB_SANDBOX_IDP_KEY"
#: Which deployable reads which key.
KEY_READERS = {CA_KEY_VARIABLE: "sandbox_ca", IDP_KEY_VARIABLE: "sandbox_idp"}
#: What each key does, for the secret's description.
KEY_PURPOSES = {CA_KEY_VARIABLE: "the sandbox CA's key (PEM, EC or RSA): it signs TPP certificates, OCSP answers and "
                                 "the CRL",
                IDP_KEY_VARIABLE: "the sandbox IdP's key (PEM, EC P-256): it signs what the IdP issues"}


@dataclass(frozen=True)
class SandboxAccountArgs:
    """The sandbox account: its VPC, the services and the edge in front of them."""

    #: The sandbox VPC (None: the stack has no network hub, so nothing but the baseline is built).
    vpc: SpokeVpcArgs | None
    #: The services (`endpoint_principals` empty: nothing outside the account calls them); the account adds the
    #: key secrets to the CA's and the IdP's settings and the zone their certificates are validated in.
    plane: WorkloadAccountArgs
    #: The edge; the account fills its backends (each service's NLB), the open entry's backends and the JWKS.
    edge: EdgeArgs
    #: The services the REST API reaches: their internal host names (`<service>.<internal domain>`).
    api_backends: tuple[str, ...]


class SandboxAccount(SpokeAccount):
    """Baseline, spoke VPC in the `sandbox` segment, public zone, key secrets, service plane and edge."""

    TYPE = "openbanking:account:Sandbox"

    def __init__(self, name: str, ctx: AccountContext, args: SandboxAccountArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, args.vpc, opts)
        self.plane: ServicePlane | None = None
        self.edge: Edge | None = None
        self.exports: dict[str, Any] = {}
        if self.vpc is not None and args.vpc is not None:
            key = self.baseline.account_key.arn
            prefix = ctx.name_prefix
            self.zone = PublicZone(f"{name}-zone", PublicZoneArgs(
                domain=args.edge.domain, account_id=ctx.account_id, name_prefix=prefix,
                log_retention_days=args.edge.log_retention_days, protect=ctx.protect), opts=self.child)

            # The keys: the program makes the secrets, the operator puts the values (docs/sandbox.md), so no key is
            # ever in the program, its config or its state.
            self.key_secrets = {variable: aws.secretsmanager.Secret(
                f"{name}-{reader.replace('_', '-')}-key", name=f"{prefix}/{reader.replace('_', '-')}-key",
                kms_key_id=key, recovery_window_in_days=30,
                description=f"{KEY_PURPOSES[variable]}; the operator sets its value (python -m openbanking.sandbox "
                            "deployment-keys, docs/sandbox.md)",
                tags={"Rotation": "manual: re-keying, docs/sandbox.md"}, opts=self.child)
                for variable, reader in KEY_READERS.items()}
            settings = dict(args.plane.settings)
            for variable, reader in KEY_READERS.items():
                given = settings.get(reader, DeployableSettings())
                settings[reader] = replace(given, secrets={**given.secrets, variable: self.key_secrets[variable].arn})
            self.plane = ServicePlane(name, ctx, self.vpc, key, replace(
                args.plane, settings=settings, internal_certificate_zone_id=self.zone.zone_id), opts=self.child)

            edge = self._edge_args(args)
            self.edge = Edge(name, edge, EdgePlacement(
                vpc=self.vpc, vpc_cidr=args.vpc.cidr_block, account_id=ctx.account_id, region=ctx.region,
                environment=ctx.environment, name_prefix=prefix, kms_key_arn=key, protect=ctx.protect,
                zone=self.zone), opts=self.child)
            self.exports = self.edge.exports | {
                "keySecrets": {variable: secret.arn for variable, secret in self.key_secrets.items()},
                "tasks": {task: t.task_definition_arn for task, t in self.plane.tasks.items()},
            }
        self.register_outputs(self.spoke_outputs | self.exports)

    def _edge_args(self, args: SandboxAccountArgs) -> EdgeArgs:
        """The edge, given what the plane built: each service's NLB, and the signing key's public half."""
        plane = self.plane
        assert plane is not None
        internal = args.plane.internal_domain

        def host(service: str) -> str:
            return f"{service.replace('_', '-')}.{internal}"

        backends = {}
        for service in args.api_backends:
            nlb = plane.services[service].load_balancer_arn
            if nlb is None:
                raise ValueError(f"{service} is published, but it has no load balancer")
            backends[service] = ServiceBackend(host=host(service), load_balancer_arn=nlb)
        objects = dict(args.edge.static_objects)
        if plane.signing_key is not None:
            public = aws.kms.get_public_key_output(key_id=plane.signing_key.arn,
                                                   opts=pulumi.InvokeOutputOptions(parent=self))
            jwks = pulumi.Output.all(public.public_key, plane.signing_key.key_id).apply(
                lambda p: jwks_document([rsa_jwk(p[0], p[1])]))
            objects["jwks.json"] = ContentObject(jwks, "application/jwk-set+json", "max-age=300")
        entry = args.edge.open_entry
        if entry is not None:
            open_backends = {}
            for service in sorted({r.backend for r in entry.routes}):
                target = plane.services[service]
                if target.listener_arn is None or target.load_balancer_security_group_id is None:
                    raise ValueError(f"{service} is published without a client certificate, but has no load balancer")
                open_backends[service] = OpenBackend(listener_arn=target.listener_arn, server_name=host(service),
                                                     security_group_id=target.load_balancer_security_group_id)
            entry = replace(entry, backends=open_backends)
        return replace(args.edge, backends=backends, static_objects=objects, open_entry=entry)
