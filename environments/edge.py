"""The api account's arguments, from the config and the workload accounts built before it, and the workload side
of its PrivateLink connections.

The authorizer trusts the issuer and JWKS of the identity account (Keycloak's, or the external IdP's). The REST
API routes each implemented operation (:data:`openbanking.operations.OPERATIONS`) to the workload
account running its service, through that account's endpoint service; the static site publishes the same
operations' specs and the public halves of the workloads' signing keys (KMS `GetPublicKey`, read with each
workload's provider).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml
from cryptography.hazmat.primitives import serialization

from accounts.api import ApiAccount, ApiAccountArgs
from accounts.edge import AuthorizerSettings, EdgeArgs, EdgeLimits, ServiceBackend
from accounts.identity import IdentityAccount
from accounts.keys import AccountKey, AccountRole
from accounts.network_hub import bucket_name_of
from accounts.workload import WorkloadAccount
from components.api_definition import published_document
from components.content_bucket import ContentObject
from components.egress_proxy import proxy_url
from components.private_integration import EndpointAcceptance, EndpointAcceptanceArgs
from components.signing_key import jwks_document, rsa_jwk
from openbanking.deployables import DEPLOYABLES
from openbanking.operations import OPERATIONS, SPEC_DIRECTORY, SPECS, Operation

from .config import WorkloadConfig, truststore_certificates


def truststore_pem(path: str) -> str:
    """The bundle as uploaded: each certificate re-encoded, nothing else (comments and stray text dropped)."""
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in truststore_certificates(path))


@cache
def load_specs(services_dir: Path) -> dict[str, dict[str, Any]]:
    """The official OBIE specs the services are tested against, parsed (with libyaml where PyYAML has it: the same
    documents, ten times faster, and they are a megabyte of YAML every render reads)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {name: yaml.load((services_dir / SPEC_DIRECTORY / name).read_text(), Loader=loader)
            for name in SPECS}


def published_specs(specs: Mapping[str, Mapping[str, Any]], operations: Sequence[Operation],
                    api_url: str) -> dict[str, ContentObject]:
    """Each spec as the static site publishes it (implemented operations only), and an index of them."""
    objects: dict[str, ContentObject] = {}
    for spec, base in SPECS.items():
        paths: dict[str, list[str]] = {}
        for op in operations:
            if op.spec == spec:
                paths.setdefault(op.spec_path, []).append(op.method)
        if paths:
            document = published_document(specs[spec], paths, api_url + base)
            objects[f"openapi/{spec.removesuffix('.yaml')}.json"] = ContentObject(
                json.dumps(document, indent=2, sort_keys=True) + "\n", "application/json", "max-age=300")
    return objects


def signing_jwks(workloads: Sequence[WorkloadAccount]) -> pulumi.Output[str]:
    """The public halves of every workload's signing key, read in its own account."""
    jwks: list[pulumi.Output[dict[str, str]]] = []
    for account in workloads:
        key = account.signing_key
        if key is None:
            continue
        public = aws.kms.get_public_key_output(key_id=key.arn, opts=pulumi.InvokeOutputOptions(
            parent=account, provider=account.ctx.provider))
        jwks.append(pulumi.Output.all(public.public_key, key.key_id).apply(lambda p: rsa_jwk(p[0], p[1])))
    return pulumi.Output.all(*jwks).apply(jwks_document)


def _workloads(accounts: Mapping[AccountKey, Any]) -> list[WorkloadAccount]:
    return [a for k, a in accounts.items() if k.role is AccountRole.WORKLOAD and isinstance(a, WorkloadAccount)]


def api_account_args(config: WorkloadConfig, accounts: Mapping[AccountKey, Any], vpc: Any,
                     services_dir: Path, access_logs_bucket_arn: pulumi.Input[str],
                     waf_logs_bucket_arn: pulumi.Input[str],
                     access_log_destination_arn: pulumi.Input[str]) -> ApiAccountArgs:
    """The api account's arguments; `accounts` holds the identity and workload accounts, built before it."""
    workloads = _workloads(accounts)
    identity = accounts.get(AccountKey(AccountRole.IDENTITY))
    if not isinstance(identity, IdentityAccount):
        raise RuntimeError("the identity account is built before the api account (its authorizer trusts its issuer)")
    backends: dict[str, ServiceBackend] = {}
    for account in workloads:
        for service, endpoint in account.endpoint_services.items():
            backends[service] = ServiceBackend(host=f"{service}.internal.{config.domain}",
                                               endpoint_service_name=endpoint.service_name)
    operations = [op for op in OPERATIONS if op.service in backends]
    edge = config.edge
    api_url = f"https://api.{config.domain}"
    authorizer = DEPLOYABLES["authorizer"]
    specs = load_specs(services_dir)
    static = published_specs(specs, operations, api_url)
    static["jwks.json"] = ContentObject(signing_jwks(workloads), "application/jwk-set+json", "max-age=300")
    static["index.json"] = ContentObject(json.dumps({
        "api": api_url, "jwks": "/jwks.json", "openapi": sorted(f"/{k}" for k in static if k.startswith("openapi/")),
    }, indent=2) + "\n", "application/json", "max-age=300")
    perimeter = edge.perimeter_of(config.stage)
    return ApiAccountArgs(vpc=vpc, edge=EdgeArgs(
        domain=config.domain, perimeter=perimeter.value,
        tpp_truststore_pem=truststore_pem(edge.truststore_bundle),
        origin_certificate_authority_arn=edge.origin_certificate_authority_arn,
        shield_advanced=edge.shield_of(config.stage),
        limits=EdgeLimits(throttle_rate=edge.throttle_rate, throttle_burst=edge.throttle_burst,
                          rate_limit_per_ip=edge.rate_limit_per_ip, max_body_bytes=edge.max_request_body_kib * 1024),
        backends=backends, operations=operations, specs=specs,
        authorizer=AuthorizerSettings(
            archive_path=services_dir / "dist" / str(authorizer.archive), handler=str(authorizer.handler),
            memory_mb=int(authorizer.memory_mb or 512), timeout_seconds=int(authorizer.timeout_seconds or 10),
            token_issuer=identity.issuer, jwks_url=identity.jwks_url, proxy_url=proxy_url(config.domain),
            egress_vpc_cidr=config.network.egress_vpc_cidr),
        static_objects=static, waf_logs_bucket_arn=waf_logs_bucket_arn,
        access_logs_bucket_arn=access_logs_bucket_arn, access_logs_bucket_name=bucket_name_of(access_logs_bucket_arn),
        log_retention_days=config.log_retention_days, access_log_destination_arn=access_log_destination_arn))


def accept_endpoints(name: str, accounts: Mapping[AccountKey, Any], parent: pulumi.Resource) -> list[EndpointAcceptance]:
    """Each workload accepts the api account's endpoint to each of its services (built with its provider)."""
    api = accounts.get(AccountKey(AccountRole.API))
    if not isinstance(api, ApiAccount):
        return []
    accepted = []
    for account in _workloads(accounts):
        for service, endpoint in account.endpoint_services.items():
            link = api.edge.links.get(service) if api.edge else None
            if link is None:
                continue
            accepted.append(EndpointAcceptance(f"{name}-{service}-endpoint-acceptance", EndpointAcceptanceArgs(
                endpoint_service_id=endpoint.service_id, endpoint_id=link.endpoint_id,
                provider=account.ctx.provider), opts=pulumi.ResourceOptions(parent=parent)))
    return accepted
