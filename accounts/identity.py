"""The identity provider account [13]: the OAuth 2.0 / OpenID Connect / FAPI authorization server that issues third
parties their access tokens, in an account of its own so other workloads of the bank can use it too. Its spoke VPC
is in the `identity` segment (on-prem and egress).

Two providers, by config:

- `keycloak`: Keycloak on Fargate with Aurora (:mod:`components.keycloak`), its realm generated from config
  (:mod:`components.keycloak_realm`), its public certificate from ACM rotated into its TLS secret
  (:mod:`components.idp_certificate`), reached by third parties at `auth.<domain>` through the network account's
  public entry (TLS passes through to Keycloak) and reaching the services' internal authorisation endpoints over
  PrivateLink; the environment builds those links (:mod:`components.identity_entry`);
- `external`: an IdP the bank already runs; nothing is built here, but its issuer and JWKS are what the API edge's
  authorizer trusts.

Either way :attr:`IdentityAccount.issuer` and :attr:`IdentityAccount.jwks_url` are what the edge reads: the
authorizer never trusts a literal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.idp_certificate import CERTIFICATE_KEY, PRIVATE_KEY_KEY, IdpCertificate, IdpCertificateArgs, only_readers
from components.keycloak import (
    Keycloak,
    KeycloakArgs,
    KeycloakPlacement,
    KeycloakSizing,
    cluster_name,
    service_name,
)
from components.keycloak_realm import RealmSettings, realm_json
from components.lambda_function import LambdaNetwork
from components.network_access import Egress, workload_security_group
from components.spoke_vpc import SpokeVpcArgs

from .base import AccountContext
from .spoke import SpokeAccount


@dataclass(frozen=True)
class ExternalIdp:
    """An IdP the bank already runs: what the edge trusts it by."""

    #: Its issuer (`iss` of its access tokens).
    issuer: str
    #: Its JWKS URL.
    jwks_url: str
    #: Its RFC 8705 mutual-TLS endpoint aliases (metadata name -> URL).
    mtls_endpoint_aliases: Mapping[str, str]


@dataclass(frozen=True)
class KeycloakDeployment:
    """Keycloak in this account."""

    #: The image in the bank's ECR registry, by digest.
    image: str
    #: Task and database sizing.
    sizing: KeycloakSizing
    #: The realm (and the third parties' clients).
    realm: RealmSettings
    #: The TPPs' CA bundle (PEM), the same the API edge trusts.
    tpp_truststore_pem: str
    #: The `idp_certificate` rotation function's archive (`make lambdas`) and handler.
    certificate_function_archive: Path
    #: Its handler string.
    certificate_function_handler: str
    #: Service -> the internal authorisation URL the consent step reports a PSU's decision to.
    consent_endpoints: Mapping[str, str]
    #: Domains Keycloak reaches directly, not through the proxy (the consent services' internal names).
    no_proxy_domains: Sequence[str]


@dataclass(frozen=True)
class IdentityAccountArgs:
    """The identity account of one environment."""

    #: Its spoke VPC (None: the stack has no hub, so nothing but the baseline is built).
    vpc: SpokeVpcArgs | None
    #: The environment's domain: Keycloak's public host is `auth.<domain>`.
    domain: str
    #: Keycloak, when the provider is `keycloak`.
    keycloak: KeycloakDeployment | None
    #: The external IdP, when the provider is `external`.
    external: ExternalIdp | None
    #: The account of the public entry (the network account): the only one the endpoint service admits.
    entry_account_id: str
    #: The egress proxy URL and the egress VPC's CIDR.
    proxy_url: str
    #: The egress VPC's CIDR (where the proxy listens).
    egress_vpc_cidr: str
    #: The log archive's access-logs bucket (load balancer logs).
    access_logs_bucket: pulumi.Input[str]
    #: Days the account's logs are kept.
    log_retention_days: int


def auth_host(domain: str) -> str:
    """Keycloak's public host."""
    return f"auth.{domain}"


class IdentityAccount(SpokeAccount):
    """The identity provider account: baseline, spoke VPC in the `identity` segment, and Keycloak (or nothing, for
    an external IdP)."""

    TYPE = "openbanking:account:Identity"

    #: The issuer and JWKS URL the API edge's authorizer trusts.
    issuer: str
    jwks_url: str
    keycloak: Keycloak | None
    certificate: IdpCertificate | None

    def __init__(self, name: str, ctx: AccountContext, args: IdentityAccountArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, args.vpc, opts)
        if (args.keycloak is None) == (args.external is None):
            raise ValueError(f"{name}: an identity account runs Keycloak or trusts an external IdP, exactly one")
        self.keycloak = None
        self.certificate = None
        self.hostname: str | None = None
        if args.external is not None:
            self.issuer, self.jwks_url = args.external.issuer, args.external.jwks_url
            self.exports: dict[str, Any] = {"provider": "external", "issuer": self.issuer, "jwksUrl": self.jwks_url,
                                            "mtlsEndpointAliases": dict(args.external.mtls_endpoint_aliases)}
            self.register_outputs(self.spoke_outputs | self.exports)
            return
        deployment = args.keycloak
        assert deployment is not None
        self.hostname = auth_host(args.domain)
        self.issuer = f"https://{self.hostname}/realms/{deployment.realm.name}"
        self.jwks_url = f"{self.issuer}/protocol/openid-connect/certs"
        self.exports = {"provider": "keycloak", "issuer": self.issuer, "jwksUrl": self.jwks_url,
                        "discovery": f"{self.issuer}/.well-known/openid-configuration"}
        if self.vpc is None or args.vpc is None:
            self.register_outputs(self.spoke_outputs | self.exports)
            return
        vpc = self.vpc
        prefix, key = ctx.name_prefix, self.baseline.account_key.arn

        # The public certificate, rotated from ACM into Keycloak's TLS secret.
        rotation_group = workload_security_group(
            f"{name}-certificate-rotation", vpc_id=vpc.vpc_id, parent=self,
            description=f"{prefix} certificate rotation: the VPC's AWS API endpoints only",
            egress=[Egress("AWS API endpoints in the VPC (Secrets Manager, ACM, ECS)", 443, cidr=args.vpc.cidr_block)])
        self.certificate = IdpCertificate(f"{name}-certificate", IdpCertificateArgs(
            hostname=self.hostname, secret_name=f"{prefix}/keycloak-tls", kms_key_arn=key, account_id=ctx.account_id,
            region=ctx.region, archive_path=str(deployment.certificate_function_archive),
            handler=deployment.certificate_function_handler, function_name=f"{prefix}-idp-certificate",
            network=LambdaNetwork(subnet_ids=vpc.private_subnet_ids, security_group_id=rotation_group.id),
            ecs_cluster_name=cluster_name(prefix), ecs_service_name=service_name(prefix),
            log_retention_days=args.log_retention_days), opts=self.child)

        self.keycloak = Keycloak(f"{name}-keycloak", KeycloakArgs(
            name_prefix=prefix, account_id=ctx.account_id, region=ctx.region, image=deployment.image,
            sizing=deployment.sizing, hostname=self.hostname, realm_name=deployment.realm.name,
            realm_json=realm_json(deployment.realm), tpp_truststore_pem=deployment.tpp_truststore_pem,
            tls_secret_arn=self.certificate.secret_arn, tls_secret_keys=(CERTIFICATE_KEY, PRIVATE_KEY_KEY),
            placement=KeycloakPlacement(
                vpc_id=vpc.vpc_id, vpc_cidr=args.vpc.cidr_block, private_subnet_ids=vpc.private_subnet_ids,
                data_subnet_ids=vpc.data_subnet_ids, data_cidrs=vpc.data_cidrs,
                s3_prefix_list_id=vpc.gateway_prefix_lists["s3"], egress_vpc_cidr=args.egress_vpc_cidr),
            proxy_url=args.proxy_url, no_proxy_domains=deployment.no_proxy_domains,
            consent_endpoints=deployment.consent_endpoints, entry_account_id=args.entry_account_id,
            access_logs_bucket=args.access_logs_bucket, kms_key_arn=key, log_retention_days=args.log_retention_days,
            protect=ctx.protect, ready=[self.certificate.rotation]), opts=self.child)
        only_readers(f"{name}-tls-readers", self.certificate.secret_arn,
                     [self.keycloak.execution_role_arn, self.certificate.rotation_role_arn], parent=self.certificate)

        #: The security group of Keycloak's tasks (the consent services' endpoints admit it).
        self.keycloak_security_group_id = self.keycloak.security_group.id
        self.exports |= {"endpointServiceName": self.keycloak.endpoint_service.service_name}
        self.register_outputs(self.spoke_outputs | self.exports)
