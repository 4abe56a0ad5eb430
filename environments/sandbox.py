"""The sandbox account's arguments, from the sandbox stack's config: the services of the workload accounts in sandbox
mode, plus the sandbox's own IdP and CA, behind an edge of its own (docs/sandbox.md).

Everything a TPP reads about the sandbox comes from the material the services use: the REST API and the static site
from the implemented operations and the official specs (as the api account's), the IdP's and CA's routes from the
services' registry (:data:`openbanking.operations.SANDBOX_ROUTES`), and the developer portal from the same specs,
the script the local sandbox prints (its deployed variant) and the gateway's own refusals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi

from accounts.edge import AuthorizerSettings, EdgeArgs, EdgeLimits, OpenEntry
from accounts.network_hub import bucket_name_of
from accounts.sandbox import SandboxAccountArgs
from accounts.service_plane import (
    AlarmThresholds,
    CacheSizing,
    LedgerSizing,
    ServiceSizing,
    WorkloadAccountArgs,
    event_bus_name,
)
from accounts.workload_access import DeployableSettings
from components.api_definition import GATEWAY_RESPONSES, published_document
from components.content_bucket import ContentObject
from components.developer_portal import ApiReference, GatewayRefusal, GuideStep, PortalContent, portal_pages
from components.egress_proxy import proxy_url
from components.open_http_api import OpenRoute
from components.spoke_vpc import SpokeVpcArgs
from openbanking.common.tables import TABLES
from openbanking.deployables import DEPLOYABLES
from openbanking.operations import OPERATIONS, SANDBOX_ROUTES, SPECS, Operation
from openbanking.sandbox.instructions import DeployedEntries, instructions, steps

from .config import SANDBOX_OPEN_ENTRY, SandboxConfig
from .edge import load_specs, published_specs, truststore_pem
from .foundation import FoundationExports

#: The sandbox account's workload name (its tables are `<env>-sandbox-<table>`).
WORKLOAD = "sandbox"
#: The one-off tasks: the ledger's migration, then the synthetic data.
TASKS = ("ledger_migrate", "sandbox_seed")
#: Who calls whom inside the account, past the edge: the IdP records the PSU's decisions and the payments' progress
#: on the services' internal endpoints.
INTERNAL_CALLERS = {"ais": ("sandbox_idp",), "pis": ("sandbox_idp",)}
#: The getting-started step that makes a first request to each API (by its title in the printed steps).
FIRST_REQUEST = {"account-info-openapi.yaml": "Account information",
                 "payment-initiation-openapi.yaml": "A domestic payment",
                 "events-openapi.yaml": "Events"}


def urls(config: SandboxConfig) -> dict[str, str]:
    """The sandbox's public names: the mutual-TLS entry, the entry without certificates, the static data."""
    return {"api": f"https://api.{config.domain}", "open": f"https://{SANDBOX_OPEN_ENTRY}.{config.domain}",
            "static": f"https://static.{config.domain}", "internal": f"internal.{config.domain}"}


def token_issuer(config: SandboxConfig) -> str:
    """The sandbox IdP's issuer: where its token endpoint is (the services' and the authorizer's issuer)."""
    return f"{urls(config)['api']}/sandbox"


def jwks_url(config: SandboxConfig) -> str:
    """The sandbox IdP's keys, where the authorizer fetches them without a client certificate."""
    return f"{urls(config)['open']}/sandbox/jwks"


def sandbox_settings(config: SandboxConfig, ca_certificate_pem: str) -> dict[str, DeployableSettings]:
    """What the sandbox's own deployables are told beyond their registry flags (the keys come from the account)."""
    u = urls(config)
    common = {"OB_SANDBOX_CA_CERTIFICATE": ca_certificate_pem}
    return {
        "sandbox_ca": DeployableSettings(environment={
            **common, "OB_SANDBOX_OCSP_URL": f"{u['open']}/sandbox/ocsp", "OB_SANDBOX_CRL_URL": f"{u['open']}/sandbox/crl"}),
        "sandbox_idp": DeployableSettings(environment={
            **common, "OB_TOKEN_ISSUER": token_issuer(config),
            "OB_SANDBOX_AIS_URL": f"https://ais.{u['internal']}", "OB_SANDBOX_PIS_URL": f"https://pis.{u['internal']}",
            "OB_SANDBOX_SETTLEMENT_SECONDS": str(config.sandbox.settlement_seconds)}),
        "sandbox_seed": DeployableSettings(environment={
            "OB_SANDBOX_CUSTOMERS": str(config.sandbox.customers), "OB_SANDBOX_MONTHS": str(config.sandbox.months)}),
    }


def plane_args(config: SandboxConfig, vpc: SpokeVpcArgs, account_id: str, services_dir: Path,
               access_logs_bucket_arn: pulumi.Input[str], ca_certificate_pem: str) -> WorkloadAccountArgs:
    """The sandbox's service plane: every service on Fargate Spot, no feed (the seeding task fills the ledger), no
    endpoint service (the edge is in the same account)."""
    box, network, u = config.sandbox, config.network, urls(config)
    events = box.services.events
    return WorkloadAccountArgs(
        workload=WORKLOAD, description="Developer sandbox: the Open Banking services with synthetic data",
        vpc=vpc, services={name: ServiceSizing(cpu=s.cpu, memory_mb=s.memory, min_tasks=s.min_tasks,
                                               max_tasks=s.max_tasks, image_digest=s.image)
                           for name, s in box.services.sizing().items()},
        deployables=DEPLOYABLES, tables=TABLES, services_dir=services_dir,
        ledger=LedgerSizing(min_capacity=box.ledger.min_capacity, max_capacity=box.ledger.max_capacity,
                            instances=box.ledger.instances, backup_retention_days=box.ledger.backup_retention_days,
                            migration_image_digest=box.ledger.migration_image),
        cache=CacheSizing(node_type=box.cache.node_type, replicas=box.cache.replicas),
        feed=None, remote_feed=None,
        event_bus_arn=f"arn:aws:events:{config.region}:{account_id}:event-bus/{event_bus_name(config.name)}",
        event_publisher_account_ids=[], delivery_concurrency=events.delivery_concurrency,
        endpoint_principals={}, internal_ca_arn=None, internal_domain=u["internal"],
        public_base_url=u["api"], financial_id=box.financial_id,
        tpp_jwks_url_template=f"{u['open']}/sandbox/tpps/{{tpp_id}}/jwks",
        proxy_url=proxy_url(config.domain), callback_domains=network.callback_domains,
        egress_vpc_cidr=network.egress_vpc_cidr,
        on_premises_cidrs=network.on_premises_cidrs, access_logs_bucket=bucket_name_of(access_logs_bucket_arn),
        log_retention_days=config.log_retention_days,
        alarms=AlarmThresholds(p99_latency_ms=config.alarms.p99_latency_ms,
                               server_error_percent=config.alarms.server_error_percent,
                               dead_letters=config.alarms.dead_letters, feed_lag_seconds=config.alarms.feed_lag_seconds),
        spot=True, tasks=TASKS,
        task_image_digests={"sandbox_seed": box.seed_image} if box.seed_image else {},
        settings=sandbox_settings(config, ca_certificate_pem), internal_callers=INTERNAL_CALLERS)


def error_codes(specs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The `OBError1.ErrorCode` values the specs define, each once, in the specs' order."""
    found: dict[str, None] = {}
    for document in specs.values():
        code = document["components"]["schemas"]["OBError1"]["properties"]["ErrorCode"]
        found |= dict.fromkeys(code.get("x-namespaced-enum") or code.get("enum") or [])
    return list(found)


def statuses(specs: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """HTTP status -> what it means, from the specs' shared error responses (`400Error`: Bad request)."""
    found: dict[str, str] = {}
    for document in specs.values():
        for name, response in document["components"]["responses"].items():
            if name.endswith("Error") and name[:3].isdigit():
                found.setdefault(name[:3], str(response.get("description", "")))
    return found


def portal_content(config: SandboxConfig, specs: Mapping[str, Mapping[str, Any]],
                   operations: Sequence[Operation]) -> PortalContent:
    """What the developer portal shows: the published specs, the deployed getting-started steps, the error codes."""
    u = urls(config)
    printed = instructions(base_url=u["api"], python="python3", settlement_seconds=config.sandbox.settlement_seconds,
                           deployed=DeployedEntries(api_url=u["api"], directory_url=u["open"]))
    guide = [GuideStep(s.number, s.title, s.text) for s in steps(printed)]
    by_title = {s.title: s for s in guide}
    apis = []
    for spec, base in SPECS.items():
        paths: dict[str, list[str]] = {}
        for op in operations:
            if op.spec == spec:
                paths.setdefault(op.spec_path, []).append(op.method)
        if not paths:
            continue
        if FIRST_REQUEST[spec] not in by_title:
            raise ValueError(f"the printed steps have no step {FIRST_REQUEST[spec]!r} for {spec}")
        apis.append(ApiReference(slug=spec.removesuffix("-openapi.yaml"),
                                 document=published_document(specs[spec], paths, u["api"] + base),
                                 first_request=by_title[FIRST_REQUEST[spec]]))
    return PortalContent(
        environment=config.name, api_url=u["api"], open_url=u["open"], static_url=u["static"], steps=guide,
        apis=apis, error_codes=error_codes(specs), statuses=statuses(specs),
        refusals=[GatewayRefusal(r.type, r.status, r.error_code, r.message.replace("$context.authorizer.reason",
                                                                                    "(the reason)"))
                  for r in GATEWAY_RESPONSES])


def sandbox_account_args(config: SandboxConfig, account_id: str, vpc: SpokeVpcArgs, services_dir: Path,
                         foundation: FoundationExports) -> SandboxAccountArgs:
    """The sandbox account's arguments (the account completes what depends on what it builds)."""
    u = urls(config)
    edge = config.edge
    ca_pem = truststore_pem(edge.truststore_bundle)
    operations = [op for op in OPERATIONS if op.service in ("ais", "pis", "events")]
    specs = load_specs(services_dir)
    static = published_specs(specs, operations, u["api"])
    static["index.json"] = ContentObject(json.dumps({
        "api": u["api"], "directory": u["open"], "jwks": "/jwks.json",
        "openapi": sorted(f"/{k}" for k in static if k.startswith("openapi/")),
    }, indent=2) + "\n", "application/json", "max-age=300")
    portal = {path: ContentObject(page, "text/html; charset=utf-8", "max-age=300")
              for path, page in portal_pages(portal_content(config, specs, operations)).items()}
    authorizer = DEPLOYABLES["authorizer"]
    certificate_routes = [r for r in SANDBOX_ROUTES if "mtls" in r.entries]
    open_routes = [OpenRoute(method=r.method, path=r.path, backend=r.service) for r in SANDBOX_ROUTES
                   if "open" in r.entries]
    return SandboxAccountArgs(
        vpc=vpc,
        plane=plane_args(config, vpc, account_id, services_dir, foundation.access_logs_bucket_arn, ca_pem),
        api_backends=tuple(sorted({op.service for op in operations} | {r.service for r in certificate_routes})),
        edge=EdgeArgs(
            domain=config.domain, perimeter="regional", tpp_truststore_pem=ca_pem, origin_certificate_authority_arn=None,
            shield_advanced=False,
            limits=EdgeLimits(throttle_rate=edge.throttle_rate, throttle_burst=edge.throttle_burst,
                              rate_limit_per_ip=edge.rate_limit_per_ip, max_body_bytes=edge.max_request_body_kib * 1024),
            backends={}, operations=operations, specs=specs,
            authorizer=AuthorizerSettings(
                archive_path=services_dir / "dist" / str(authorizer.archive), handler=str(authorizer.handler),
                memory_mb=int(authorizer.memory_mb or 512), timeout_seconds=int(authorizer.timeout_seconds or 10),
                token_issuer=token_issuer(config), jwks_url=jwks_url(config), proxy_url=proxy_url(config.domain),
                egress_vpc_cidr=config.network.egress_vpc_cidr),
            static_objects=static, waf_logs_bucket_arn=foundation.waf_logs_bucket_arn,
            access_logs_bucket_arn=foundation.access_logs_bucket_arn,
            access_logs_bucket_name=bucket_name_of(foundation.access_logs_bucket_arn),
            log_retention_days=config.log_retention_days,
            access_log_destination_arn=foundation.api_access_log_destination_arn, certificate_routes=certificate_routes,
            open_entry=OpenEntry(subdomain=SANDBOX_OPEN_ENTRY, backends={}, routes=open_routes), portal=portal))
