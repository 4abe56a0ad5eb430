"""The identity account's arguments from the config, and the links the environment builds between it and the other
accounts once they exist: the public entry (network -> identity, its name and certificate validation in the api
account's zone) and the consent services (identity -> workloads), both over PrivateLink.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
from cryptography import x509
from cryptography.x509.oid import NameOID

from accounts.api import ApiAccount
from accounts.identity import ExternalIdp, IdentityAccount, IdentityAccountArgs, KeycloakDeployment, auth_host
from accounts.keys import AccountKey, AccountRole
from accounts.network_hub import NetworkHubAccount, bucket_name_of
from accounts.workload import WorkloadAccount
from components.consent_links import ConsentLinks, ConsentLinksArgs, ConsentService
from components.egress_proxy import proxy_url
from components.identity_entry import IdentityEntry, IdentityEntryArgs
from components.keycloak import KeycloakSizing
from components.keycloak_realm import ConsentClient, RealmLimits, RealmSettings, ThirdPartyClient
from components.spoke_vpc import SpokeVpcArgs
from openbanking.claims import INTERNAL_AUTHORISATION_PATHS
from openbanking.deployables import DEPLOYABLES

from .config import IdentitySettings, WorkloadConfig
from .edge import truststore_pem

#: The client id of the consent step's own client in the realm.
CONSENT_CLIENT_ID = "openbanking-consent-step"


def internal_domain(config: WorkloadConfig) -> str:
    """The zone of the services' internal names (on their private-CA certificates)."""
    return f"internal.{config.domain}"


def keycloak_subject(subject: str) -> str:
    """A subject DN as Keycloak compares it: RFC 4514, with `organizationIdentifier` (which Java's X.500 parser does
    not name) written as its OID, 2.5.4.97."""
    name = x509.Name.from_rfc4514_string(subject, {"organizationIdentifier": NameOID.ORGANIZATION_IDENTIFIER})
    return name.rfc4514_string({NameOID.ORGANIZATION_IDENTIFIER: "2.5.4.97"})


def realm_settings(environment: str, domain: str, identity: IdentitySettings) -> RealmSettings:
    """The realm the config describes (components/keycloak_realm.py makes the file)."""
    realm = identity.realm
    return RealmSettings(
        name=realm.name, display_name=f"{environment} Open Banking",
        limits=RealmLimits(
            access_token=realm.access_token_lifespan_seconds,
            authorization_code=realm.authorization_code_lifespan_seconds,
            par_request_uri=realm.par_request_uri_lifespan_seconds, ciba_expires_in=realm.ciba_expires_in_seconds,
            ciba_poll_interval=realm.ciba_poll_interval_seconds, sso_session_idle=realm.sso_session_idle_seconds,
            sso_session_max=realm.sso_session_max_seconds),
        clients=[ThirdPartyClient(
            client_id=c.client_id, organisation_id=c.organisation_id,
            certificate_subject_dn=keycloak_subject(c.certificate_subject_dn), jwks_uri=c.jwks_uri,
            redirect_uris=tuple(c.redirect_uris), scopes=tuple(c.scopes), authentication=c.authentication,
            signing_algorithm=c.signing_algorithm) for c in identity.clients],
        consent_client=ConsentClient(client_id=CONSENT_CLIENT_ID,
                                     certificate_subject_dn=f"CN=consent-step.{auth_host(domain)}"),
    )


def consent_services(config: WorkloadConfig) -> list[str]:
    """The services the consent step reports PSU decisions to: those with an internal authorisation endpoint that
    the stack runs."""
    placed = {s for w in config.workloads.values() for s in w.services.names()}
    return sorted(s for s in INTERNAL_AUTHORISATION_PATHS if s in placed)


def identity_account_args(config: WorkloadConfig, vpc: SpokeVpcArgs | None, network_account_id: str,
                          access_logs_bucket_arn: pulumi.Input[str], services_dir: Path) -> IdentityAccountArgs:
    identity = config.identity
    keycloak = external = None
    if identity.provider == "external":
        assert identity.issuer and identity.jwks_url and identity.mtls_endpoint_aliases  # the config requires them
        external = ExternalIdp(issuer=identity.issuer, jwks_url=identity.jwks_url,
                               mtls_endpoint_aliases=identity.mtls_endpoint_aliases.metadata())
    else:
        assert identity.image is not None  # the config requires it
        rotation = DEPLOYABLES["idp_certificate"]
        internal = internal_domain(config)
        keycloak = KeycloakDeployment(
            image=identity.image,
            sizing=KeycloakSizing(
                cpu=identity.cpu, memory_mb=identity.memory, min_tasks=identity.min_tasks,
                max_tasks=identity.max_tasks, database_min_capacity=identity.database.min_capacity,
                database_max_capacity=identity.database.max_capacity, database_instances=identity.database.instances,
                backup_retention_days=identity.database.backup_retention_days),
            realm=realm_settings(config.name, config.domain, identity),
            tpp_truststore_pem=truststore_pem(config.edge.truststore_bundle),
            certificate_function_archive=services_dir / "dist" / str(rotation.archive),
            certificate_function_handler=str(rotation.handler),
            consent_endpoints={s: f"https://{s}.{internal}{INTERNAL_AUTHORISATION_PATHS[s]}"
                               for s in consent_services(config)},
            no_proxy_domains=[f".{internal}"])
    return IdentityAccountArgs(
        vpc=vpc, domain=config.domain, keycloak=keycloak, external=external, entry_account_id=network_account_id,
        proxy_url=proxy_url(config.domain), egress_vpc_cidr=config.network.egress_vpc_cidr,
        access_logs_bucket=bucket_name_of(access_logs_bucket_arn), log_retention_days=config.log_retention_days)


def link_identity(config: WorkloadConfig, accounts: Mapping[AccountKey, Any], parent: pulumi.Resource) -> None:
    """The identity account's links to the others, once every account exists (with Keycloak; an external IdP has its
    own entry and its own way to the services)."""
    identity = accounts.get(AccountKey(AccountRole.IDENTITY))
    network = accounts.get(AccountKey(AccountRole.NETWORK))
    api = accounts.get(AccountKey(AccountRole.API))
    if not isinstance(identity, IdentityAccount) or identity.keycloak is None or identity.certificate is None:
        return
    assert identity.vpc is not None and identity.hostname is not None  # Keycloak lives in the spoke VPC
    if not isinstance(network, NetworkHubAccount) or network.ingress is None or not isinstance(api, ApiAccount) \
            or api.edge is None:
        raise RuntimeError("Keycloak needs the network account's ingress VPC and the api account's public zone")
    IdentityEntry(f"{config.name}-identity-entry", IdentityEntryArgs(
        ingress=network.ingress, endpoint_service_name=identity.keycloak.endpoint_service.service_name,
        endpoint_service_id=identity.keycloak.endpoint_service.service_id, hostname=identity.hostname,
        zone_id=api.edge.zone.zone_id,
        validation_record_name=identity.certificate.validation_record_name,
        validation_record_value=identity.certificate.validation_record_value,
        name_prefix=network.ctx.name_prefix, network_provider=network.ctx.provider,
        identity_provider=identity.ctx.provider, zone_provider=api.ctx.provider),
        opts=pulumi.ResourceOptions(parent=parent))
    services = [ConsentService(service=service, endpoint_service_name=endpoint.service_name,
                               endpoint_service_id=endpoint.service_id, provider=account.ctx.provider)
                for account in accounts.values() if isinstance(account, WorkloadAccount)
                for service, endpoint in sorted(account.endpoint_services.items())
                if service in INTERNAL_AUTHORISATION_PATHS]
    ConsentLinks(f"{config.name}-consent-links", ConsentLinksArgs(
        services=services, vpc_id=identity.vpc.vpc_id, subnet_ids=identity.vpc.private_subnet_ids,
        caller_security_group_id=identity.keycloak_security_group_id, internal_domain=internal_domain(config),
        name_prefix=identity.ctx.name_prefix, identity_provider=identity.ctx.provider),
        opts=pulumi.ResourceOptions(parent=parent))
