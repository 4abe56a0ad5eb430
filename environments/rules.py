"""Rules that span sections of the environment config, read from the typed sections.

A rule names the sections it needs as its parameters (the config's field names), annotated with their
types. :func:`cross_section_problems` runs it when each of those sections validated on its own and has that
type, so a rule about the data centre's links sees a workload network only, and a section with its own
errors (already reported) does not hide the rules that do not need it. A parameter typed `X | None` receives
None when the stack kind has no such section. Each rule yields `<key path>: <value as written> <rule>`,
relative to the config key. Defaults live in the model, never here.
"""

from __future__ import annotations

import ipaddress
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from components.cidr_plan import SPOKE_TIERS

from .config import (
    ECR_IMAGE,
    MAX_DX_ALLOWED_PREFIXES,
    SANDBOX_OPEN_ENTRY,
    SINGLETON_SERVICES,
    Accounts,
    EdgeSettings,
    FoundationSettings,
    IdentitySettings,
    Network,
    OpenBankingSettings,
    Perimeter,
    SandboxSettings,
    Stage,
    Workload,
    WorkloadNetwork,
    as_written,
    subnet_plan_problem,
    truststore_certificates,
)

Rule = Callable[..., Iterator[str]]


def account_ids_unique(accounts: Accounts, workloads: dict[str, Workload] | None) -> Iterator[str]:
    """Every account role has its own account."""
    seen: dict[str, str] = {}
    places = [(f"accounts.{role}", acct) for role, acct in accounts.by_role().items()]
    places += [(f"workloads.{name}.accountId", w.account_id) for name, w in (workloads or {}).items()]
    for path, acct in places:
        if acct in seen:
            yield f"{path}: {as_written(acct)} is already used by {seen[acct]}; every account role needs its own account"
        else:
            seen[acct] = path


def cidrs_do_not_overlap(network: Network, workloads: dict[str, Workload] | None) -> Iterator[str]:
    """No VPC overlaps another, nor the data centre's ranges."""
    nets = [(f"network.{key}", ipaddress.IPv4Network(cidr)) for key, (cidr, _) in network.vpc_plans().items()]
    nets += [(f"workloads.{name}.vpcCidr", ipaddress.IPv4Network(w.vpc_cidr)) for name, w in (workloads or {}).items()]
    nets += [(f"network.onPremisesCidrs[{i}]", ipaddress.IPv4Network(c)) for i, c in enumerate(network.on_premises_cidrs)]
    for i, (path_a, a) in enumerate(nets):
        for path_b, b in nets[i + 1:]:
            if a.overlaps(b):
                yield f"{path_b}: {as_written(str(b))} overlaps {path_a} ({a})"


def workload_vpcs_fit_the_azs(network: WorkloadNetwork, workloads: dict[str, Workload]) -> Iterator[str]:
    for name, workload in workloads.items():
        if problem := subnet_plan_problem(workload.vpc_cidr, len(SPOKE_TIERS), network.availability_zones):
            yield f"workloads.{name}.vpcCidr: {problem}"


def prod_spans_availability_zones(stage: Stage, network: Network) -> Iterator[str]:
    if stage is Stage.PROD and network.availability_zones < 2:
        yield (f"network.availabilityZones: {network.availability_zones} is below the prod minimum of 2 "
               "availability zones")


def prod_protects_state(stage: Stage, protect_stateful_resources: bool) -> Iterator[str]:
    if stage is Stage.PROD and not protect_stateful_resources:
        yield "protectStatefulResources: false must be true in prod (stateful resources are protected)"


def prod_network(stage: Stage, network: WorkloadNetwork) -> Iterator[str]:
    """Prod keeps every AZ independent (a NAT per AZ, a proxy per AZ) and has both data centre links."""
    if stage is not Stage.PROD:
        return
    if network.nat_gateway_per_az is False:
        yield "network.natGatewayPerAz: false must be true in prod (an AZ outage must not cut egress)"
    for key, value, what in (("directConnect", network.direct_connect, "Direct Connect"),
                             ("vpn", network.vpn, "the Site-to-Site VPN backup")):
        if value is None:
            yield f"network.{key}: is required in prod ({what} to the data centre)"
    if network.egress_proxy.min_size < network.availability_zones:
        yield (f"network.egressProxy.minSize: {network.egress_proxy.min_size} is below the prod minimum of one "
               f"proxy per availability zone ({network.availability_zones})")


def direct_connect_prefix_budget(network: WorkloadNetwork, workloads: dict[str, Workload]) -> Iterator[str]:
    """A Direct Connect gateway association advertises at most 20 prefixes to the data centre."""
    if network.direct_connect is None:
        return
    prefixes = len(workloads) + 1 + network.availability_zones  # workload VPCs, identity, one services subnet per AZ
    if prefixes > MAX_DX_ALLOWED_PREFIXES:
        yield (f"network.directConnect: {prefixes} prefixes would be advertised to the data centre (workload and "
               f"identity VPCs, one services subnet per AZ); a gateway association allows {MAX_DX_ALLOWED_PREFIXES}")


def allowed_regions_include_home(region: str, foundation: FoundationSettings) -> Iterator[str]:
    if region not in foundation.allowed_regions:
        yield (f"foundation.allowedRegions: {as_written(foundation.allowed_regions)} does not include the stack's "
               f"own region {as_written(region)}; the region SCP would deny the landing zone itself")


def log_replica_in_a_second_allowed_region(region: str, foundation: FoundationSettings) -> Iterator[str]:
    """The log archive's replica region is one the region SCP allows, and not the home region."""
    replica = foundation.log_archive.replica_region
    if replica is None:
        return
    if replica == region:
        yield (f"foundation.logArchive.replicaRegion: {as_written(replica)} is the stack's own region; the replica "
               "must be in a second region to survive the loss of the first")
    elif replica not in foundation.allowed_regions:
        yield (f"foundation.logArchive.replicaRegion: {as_written(replica)} is not in foundation.allowedRegions "
               f"({as_written(foundation.allowed_regions)}); the region SCP would deny the replica")


def prod_foundation(stage: Stage, foundation: FoundationSettings) -> Iterator[str]:
    """Prod log analytics survives the loss of a node or a zone; prod logs are kept a year at least, and the
    audit logs survive the loss of the region."""
    if stage is not Stage.PROD:
        return
    search = foundation.open_search
    if search.dedicated_master_type is None:
        yield "foundation.openSearch.dedicatedMasterType: is required in prod (dedicated master nodes)"
    if search.availability_zones < 2:
        yield (f"foundation.openSearch.availabilityZones: {search.availability_zones} is below the prod minimum "
               "of 2 (zone awareness)")
    if foundation.log_archive.object_lock_days < 365:
        yield (f"foundation.logArchive.objectLockDays: {foundation.log_archive.object_lock_days} is below the prod "
               "minimum of 365 days")
    if foundation.log_archive.replica_region is None:
        yield ("foundation.logArchive.replicaRegion: is required in prod (the trail and Config logs are replicated "
               "to a second region)")


def services_run_once(workloads: dict[str, Workload]) -> Iterator[str]:
    """ais, pis and events each run in exactly one account of the stack (the api edge routes each there)."""
    for service in SINGLETON_SERVICES:
        places = [name for name, w in workloads.items() if service in w.services.names()]
        if not places:
            yield (f"workloads: no account runs {service}; a workload stack runs each of "
                   f"{', '.join(SINGLETON_SERVICES)} in exactly one account")
        for extra in places[1:]:
            yield (f"workloads.{extra}.services.{service}: already runs in workloads.{places[0]}; each of "
                   f"{', '.join(SINGLETON_SERVICES)} runs in exactly one account")


def one_core_banking_feed(workloads: dict[str, Workload]) -> Iterator[str]:
    """One feed per stack, in an account that runs ingestion, able to serve every account that does."""
    consumers = [name for name, w in workloads.items() if "ingestion" in w.services.names()]
    owners = [name for name, w in workloads.items() if w.core_banking_feed is not None]
    if consumers and not owners:
        yield (f"workloads: ingestion runs in {', '.join(consumers)} but no account has the coreBankingFeed "
               "(set it on one of them)")
    for extra in owners[1:]:
        yield (f"workloads.{extra}.coreBankingFeed: workloads.{owners[0]} has the stack's feed already; core "
               "banking publishes to one")
    if not owners:
        return
    owner = owners[0]
    feed = workloads[owner].core_banking_feed
    remote = [name for name in consumers if name != owner]
    if feed is None or not remote:
        return
    if feed.type == "rabbitmq":
        yield (f"workloads.{owner}.coreBankingFeed.type: 'rabbitmq' cannot serve ingestion in {', '.join(remote)}: "
               "Amazon MQ has no cross-account connectivity; use msk")
    elif feed.instance_type.startswith("kafka.t3."):
        yield (f"workloads.{owner}.coreBankingFeed.instanceType: {as_written(feed.instance_type)} does not support "
               f"MSK multi-VPC connectivity, which ingestion in {', '.join(remote)} needs (kafka.m5.large or larger)")


def prod_workloads(stage: Stage, workloads: dict[str, Workload]) -> Iterator[str]:
    """Prod survives the loss of a task, an instance or an AZ: two tasks at least, a reader to fail over to, a
    cache replica, a broker with a customer key and rotatable credentials."""
    if stage is not Stage.PROD:
        return
    for name, workload in workloads.items():
        for service in workload.services.names():
            sizing = getattr(workload.services, service)
            if sizing.min_tasks < 2:
                yield (f"workloads.{name}.services.{service}.minTasks: {sizing.min_tasks} is below the prod minimum "
                       "of 2 (one task per availability zone at least)")
        if workload.ledger is not None and workload.ledger.instances < 2:
            yield (f"workloads.{name}.ledger.instances: {workload.ledger.instances} is below the prod minimum of 2 "
                   "(a reader in another AZ to fail over to)")
        if workload.cache is not None and workload.cache.replicas < 1:
            yield (f"workloads.{name}.cache.replicas: {workload.cache.replicas} is below the prod minimum of 1 "
                   "(Multi-AZ with automatic failover)")
        feed = workload.core_banking_feed
        if feed is not None and feed.type == "rabbitmq":
            yield (f"workloads.{name}.coreBankingFeed.type: 'rabbitmq' is not allowed in prod: Amazon MQ keeps "
                   "RabbitMQ data with an AWS-owned key and cannot rotate the broker user's password; use msk")


def _lets_out(allowed: list[str], host: str) -> bool:
    """Whether the egress allow-list lets `host` out (a leading dot covers the domain and its subdomains)."""
    return any(d == host or (d.startswith(".") and (host == d[1:] or host.endswith(d))) for d in allowed)


def tpp_directory_is_reachable(open_banking: OpenBankingSettings, network: WorkloadNetwork) -> Iterator[str]:
    """The services fetch TPPs' keys through the egress proxy: the directory must be on its allow-list."""
    host = open_banking.tpp_directory_host()
    if not _lets_out(network.egress_allowed_domains, host):
        yield (f"openBanking.tppJwksUrlTemplate: {as_written(open_banking.tpp_jwks_url_template)} names {host}, which "
               "network.egressAllowedDomains does not let out; the services could not fetch TPPs' keys")


def edge_perimeter_fits(stage: Stage, edge: EdgeSettings) -> Iterator[str]:
    """The perimeter has what it needs, and nothing meant for the other one."""
    perimeter = edge.perimeter_of(stage)
    if perimeter is Perimeter.CLOUDFRONT and edge.origin_certificate_authority_arn is None:
        yield ("edge.originCertificateAuthorityArn: is missing; the cloudfront perimeter needs the us-east-1 private "
               "CA that issues CloudFront's origin client certificate (the API then admits CloudFront only)")
    if perimeter is Perimeter.REGIONAL and edge.origin_certificate_authority_arn is not None:
        yield (f"edge.originCertificateAuthorityArn: {as_written(edge.origin_certificate_authority_arn)} is only used "
               "by the cloudfront perimeter; this stack's perimeter is regional")
    if perimeter is Perimeter.REGIONAL and edge.shield_advanced:
        yield ("edge.shieldAdvanced: true needs the cloudfront perimeter: Shield Advanced cannot protect a regional "
               "API Gateway")


def identity_image_in_the_stack_region(region: str, identity: IdentitySettings) -> Iterator[str]:
    """Fargate pulls Keycloak's image through the identity VPC's ECR endpoints, which serve the stack's region."""
    match = ECR_IMAGE.match(identity.image or "")
    if match and match["region"] != region:
        yield (f"identity.image: {as_written(identity.image)} is in {match['region']}, not the stack's region "
               f"{as_written(region)}; the identity VPC's ECR endpoints reach its own region only (replicate the "
               "repository)")


def prod_identity(stage: Stage, identity: IdentitySettings) -> Iterator[str]:
    """Prod's IdP survives the loss of a task, an instance or an AZ."""
    if stage is not Stage.PROD or identity.provider != "keycloak":
        return
    if identity.min_tasks < 2:
        yield (f"identity.minTasks: {identity.min_tasks} is below the prod minimum of 2 (one Keycloak task per "
               "availability zone at least)")
    if identity.database.instances < 2:
        yield (f"identity.database.instances: {identity.database.instances} is below the prod minimum of 2 (a reader "
               "in another AZ to fail over to)")


def idp_keys_are_reachable(domain: str, identity: IdentitySettings, network: WorkloadNetwork) -> Iterator[str]:
    """The authorizer fetches the IdP's JWKS, and Keycloak the TPPs' JWKS, through the egress proxy: their hosts
    must be on its allow-list."""
    allowed = network.egress_allowed_domains
    if identity.provider == "keycloak":
        host = f"auth.{domain}"
        if not _lets_out(allowed, host):
            yield (f"network.egressAllowedDomains: does not let out {host}, where the API authorizer fetches "
                   "Keycloak's JWKS (through the egress proxy); add it")
        for i, client in enumerate(identity.clients):
            jwks_host = urlsplit(client.jwks_uri).hostname or ""
            if not _lets_out(allowed, jwks_host):
                yield (f"identity.clients[{i}].jwksUri: {as_written(client.jwks_uri)} names {jwks_host}, which "
                       "network.egressAllowedDomains does not let out; Keycloak could not fetch the client's keys")
    elif identity.jwks_url is not None:
        host = urlsplit(identity.jwks_url).hostname or ""
        if not _lets_out(allowed, host):
            yield (f"identity.jwksUrl: {as_written(identity.jwks_url)} names {host}, which "
                   "network.egressAllowedDomains does not let out; the API authorizer could not fetch its keys")


def ingress_vpc_goes_with_keycloak(identity: IdentitySettings, network: WorkloadNetwork) -> Iterator[str]:
    """Third parties reach Keycloak through the network account's ingress VPC; an external IdP has its own entry."""
    if identity.provider == "keycloak" and network.ingress_vpc_cidr is None:
        yield ("network.ingressVpcCidr: is required with identity.provider keycloak (the public NLB that passes "
               "third parties' TLS through to auth.<domain>)")
    if identity.provider == "external" and network.ingress_vpc_cidr is not None:
        yield (f"network.ingressVpcCidr: {as_written(network.ingress_vpc_cidr)} is not used: identity.provider is "
               "external, which runs its own entry")


def keycloak_fits_its_task_definition(name: str, domain: str, identity: IdentitySettings,
                                      edge: EdgeSettings) -> Iterator[str]:
    """Keycloak's task definition carries the realm file and the TPPs' CA bundle; ECS allows 64 KiB in all."""
    if identity.provider != "keycloak":
        return
    # Late imports: the realm generator and the bundle's reader belong to the program, not to the config's types.
    from components.keycloak import MAX_CARRIED_BYTES
    from components.keycloak_realm import realm_json

    from .edge import truststore_pem
    from .identity import realm_settings

    realm = len(realm_json(realm_settings(name, domain, identity)).encode())
    bundle = len(truststore_pem(edge.truststore_bundle).encode())
    if realm + bundle > MAX_CARRIED_BYTES:
        yield (f"identity.clients: {len(identity.clients)} clients make a realm file of {realm} bytes; with the TPPs' "
               f"CA bundle ({bundle} bytes) Keycloak's task definition would carry {realm + bundle}, over its "
               f"{MAX_CARRIED_BYTES} (ECS allows 64 KiB per task definition): register fewer clients here (dynamic "
               "client registration is the way to many)")


def zonal_stores_have_two_zones(network: Network, workloads: dict[str, Workload] | None,
                                sandbox: SandboxSettings | None) -> Iterator[str]:
    """Aurora's DB subnet group and an MSK cluster's client subnets must span two availability zones, whatever the
    stage: a stack that keeps a ledger (or MSK) cannot live in one."""
    if network.availability_zones >= 2:
        return
    needs = [f"workloads.{n}.ledger" for n, w in (workloads or {}).items() if w.ledger is not None]
    needs += [f"workloads.{n}.coreBankingFeed" for n, w in (workloads or {}).items()
              if w.core_banking_feed is not None and w.core_banking_feed.type == "msk"]
    if sandbox is not None:
        needs.append("sandbox.ledger")
    if needs:
        yield (f"network.availabilityZones: {network.availability_zones} cannot hold {', '.join(needs)}: Aurora's DB "
               "subnet group and MSK's client subnets must span 2 availability zones (a single-AZ stack keeps no "
               "ledger)")


def sandbox_entry_is_regional(sandbox: SandboxSettings, stage: Stage, edge: EdgeSettings) -> Iterator[str]:
    """The sandbox's entry is API Gateway's own mutual-TLS domain: its IdP reads the TPP's certificate from there
    (behind CloudFront the domain sees CloudFront's), and Shield Advanced cannot protect it."""
    if edge.perimeter_of(stage) is not Perimeter.REGIONAL:
        yield (f"edge.perimeter: {as_written(edge.perimeter_of(stage).value)} is not available to the sandbox: its IdP "
               "authenticates TPPs by the certificate of API Gateway's own mutual TLS; use regional")
    if edge.shield_advanced:
        yield "edge.shieldAdvanced: true is not for the sandbox (a regional entry; synthetic data)"


def sandbox_truststore_is_its_ca(sandbox: SandboxSettings, edge: EdgeSettings) -> Iterator[str]:
    """The sandbox's truststore is the sandbox CA's certificate, and only it: the CA service signs with the key of
    exactly that certificate, and the entry must admit nothing else."""
    try:
        certificates = truststore_certificates(edge.truststore_bundle)
    except ValueError:
        return  # the field's own rule reported it
    if len(certificates) != 1:
        yield (f"edge.truststoreBundle: {as_written(edge.truststore_bundle)} holds {len(certificates)} certificates; "
               "the sandbox's holds exactly one, the sandbox CA's (python -m openbanking.sandbox deployment-keys)")
    elif certificates[0].subject != certificates[0].issuer:
        yield (f"edge.truststoreBundle: {as_written(edge.truststore_bundle)} is not a self-signed CA; the sandbox CA "
               "is its own root (python -m openbanking.sandbox deployment-keys)")


def sandbox_open_entry_is_reachable(sandbox: SandboxSettings, domain: str, network: Network) -> Iterator[str]:
    """The authorizer (OCSP, CRL, the IdP's keys) and PIS and events (the TPPs' keys) reach the sandbox's entry
    without client certificates through the egress proxy: its host must be on the allow-list."""
    host = f"{SANDBOX_OPEN_ENTRY}.{domain}"
    allowed = network.egress_allowed_domains
    if not any(d == host or (d.startswith(".") and (host == d[1:] or host.endswith(d))) for d in allowed):
        yield (f"network.egressAllowedDomains: {as_written(allowed)} does not let out {host}, the sandbox's entry "
               "without client certificates; the authorizer could not check revocation and the services could not "
               "fetch TPPs' keys")


RULES: tuple[Rule, ...] = (
    account_ids_unique, cidrs_do_not_overlap, workload_vpcs_fit_the_azs, prod_spans_availability_zones,
    prod_protects_state, prod_network, direct_connect_prefix_budget, allowed_regions_include_home,
    log_replica_in_a_second_allowed_region, prod_foundation,
    services_run_once, one_core_banking_feed, prod_workloads, tpp_directory_is_reachable, edge_perimeter_fits,
    identity_image_in_the_stack_region, prod_identity, idp_keys_are_reachable, ingress_vpc_goes_with_keycloak,
    keycloak_fits_its_task_definition,
    zonal_stores_have_two_zones, sandbox_entry_is_regional, sandbox_truststore_is_its_ca,
    sandbox_open_entry_is_reachable,
)

#: A section the stack kind does not have (as opposed to one that failed its own validation).
ABSENT: Any = object()


def _fits(value: Any, annotation: Any) -> bool:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(_fits(value, member) for member in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    return isinstance(value, typing.get_origin(annotation) or annotation)


def cross_section_problems(sections: Mapping[str, Any]) -> list[str]:
    """Run every rule whose sections validated. `sections`: field name -> typed value, or :data:`ABSENT`
    when the stack kind has no such field; a field that failed its own validation is missing."""
    problems: list[str] = []
    for rule in RULES:
        hints = typing.get_type_hints(rule)
        hints.pop("return", None)
        arguments = {}
        for name, annotation in hints.items():
            value = sections.get(name)
            if name not in sections:
                break  # invalid: already reported
            if value is ABSENT:
                value = None
            if not _fits(value, annotation):
                break  # another kind's section, or absent where the rule needs it
            arguments[name] = value
        else:
            problems.extend(rule(**arguments))
    return problems

