"""How each account of a stack is built from the config: one builder per account role, in one table per
stack kind (the table's order is the construction order), each with the translator from config to that
account's arguments beside it.

A builder gets the typed config of its kind, the :class:`Assembly` of what is built so far and the account's
:class:`AccountContext`, and returns the account component.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pulumi

import openbanking
from accounts.api import ApiAccount
from accounts.base import Account, AccountContext
from accounts.identity import IdentityAccount, auth_host
from accounts.keys import AccountKey, AccountRole
from accounts.log_archive import LogArchiveAccount, LogArchiveArgs, OpenSearchSizing, ReplicaPlacement
from accounts.network_hub import (
    IngressPlan,
    NetworkHubAccount,
    NetworkHubArgs,
    ProxySizing,
    SpokePlan,
    bucket_name_of,
)
from accounts.organization import SECURITY, OrganizationAccount, OrganizationArgs, TrailSettings
from accounts.sandbox import SandboxAccount
from accounts.security import SecurityAccount, SecurityArgs
from accounts.service_plane import (
    AlarmThresholds,
    CacheSizing,
    FeedSettings,
    LedgerSizing,
    RemoteFeed,
    ServiceSizing,
    WorkloadAccountArgs,
    consumer_group,
    event_bus_name,
)
from accounts.workload import WorkloadAccount
from components.config_recorder import ConfigDelivery
from components.egress_proxy import proxy_url
from components.hybrid_connectivity import CustomerGatewaySpec, DirectConnectSpec, TransitVif
from components.log_bucket import Lifecycle
from components.organization_structure import NewAccount
from components.spoke_vpc import SpokeVpcArgs
from components.transit_gateway import Segment
from components.vpc_baseline import API_INTERFACE_ENDPOINTS, IDENTITY_INTERFACE_ENDPOINTS, WORKLOAD_INTERFACE_ENDPOINTS
from openbanking.common.tables import TABLES
from openbanking.deployables import DEPLOYABLES

from .config import DataClassification, FoundationConfig, SandboxConfig, WorkloadConfig, WorkloadNetwork
from .edge import api_account_args
from .foundation import FoundationExports
from .identity import identity_account_args
from .providers import default_tags, second_region_provider
from .sandbox import sandbox_account_args


@dataclass(kw_only=True)
class Assembly:
    """What is built so far, in construction order."""

    #: The Environment component: every account component is its child.
    parent: pulumi.Resource
    #: Account key -> its component, in construction order: later builders read the accounts built before.
    accounts: dict[AccountKey, Account] = field(default_factory=dict)

    @property
    def child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent)

    def config_delivery(self) -> ConfigDelivery | None:
        """Where the next account's Config recorder delivers (None: the log archive, before its bucket)."""
        log_archive = self.accounts.get(AccountKey(AccountRole.LOG_ARCHIVE))
        return log_archive.config_delivery if isinstance(log_archive, LogArchiveAccount) else None


@dataclass(kw_only=True)
class EnvironmentAssembly(Assembly):
    """A workload or sandbox stack's assembly: it builds on the foundation stack and has a network hub."""

    #: The foundation stack's exports (read through a StackReference): every account's Config
    #: recorder delivers to its Config bucket and the network hub logs to its buckets.
    foundation: FoundationExports
    #: Built first; every spoke account's VPC joins it.
    network_hub: NetworkHubAccount | None = None

    def config_delivery(self) -> ConfigDelivery | None:
        return ConfigDelivery(bucket_name=self.foundation.config_bucket_name,
                              kms_key_arn=self.foundation.log_archive_key_arn)

    def spoke_vpc(self, config: WorkloadConfig | SandboxConfig, key: AccountKey) -> SpokeVpcArgs:
        """The spoke VPC of `key`'s account, from the network hub built before it."""
        if self.network_hub is None:
            raise RuntimeError("the network hub is built before the spoke accounts (see the builder tables)")
        args = self.network_hub.spoke_vpc_args(spoke_plans(config)[key], config.region)
        # The services and Lambdas call SQS, EventBridge and X-Ray besides what every spoke calls (the sandbox runs
        # them too); the api account's authorizer traces to X-Ray.
        if key.role in (AccountRole.WORKLOAD, AccountRole.SANDBOX):
            return replace(args, interface_endpoints=WORKLOAD_INTERFACE_ENDPOINTS)
        if key.role is AccountRole.API:
            return replace(args, interface_endpoints=API_INTERFACE_ENDPOINTS)
        if key.role is AccountRole.IDENTITY:
            return replace(args, interface_endpoints=IDENTITY_INTERFACE_ENDPOINTS)
        return args


# --- the foundation stack -----------------------------------------------------------------------------------

def log_archive_args(config: FoundationConfig, replica: ReplicaPlacement | None = None) -> LogArchiveArgs:
    logs, search = config.foundation.log_archive, config.foundation.open_search
    return LogArchiveArgs(
        organization_id=config.organization_id,
        object_lock_days=logs.object_lock_days,
        lifecycle=Lifecycle(logs.infrequent_access_after_days, logs.glacier_after_days, logs.expire_after_days),
        log_retention_days=config.log_retention_days,
        opensearch=OpenSearchSizing(
            engine_version=search.engine_version, instance_type=search.instance_type,
            instance_count=search.instance_count, volume_size_gb=search.volume_size_gb,
            availability_zones=search.availability_zones, dedicated_master_type=search.dedicated_master_type,
            dedicated_master_count=search.dedicated_master_count, vpc_cidr=search.vpc_cidr),
        opensearch_administrator_role_arns=search.administrator_role_arns,
        replica=replica,
    )


def build_log_archive(config: FoundationConfig, assembly: Assembly, ctx: AccountContext) -> Account:
    """The log archive, with its account's provider in the replica region when the config names one."""
    region = config.foundation.log_archive.replica_region
    replica = None if region is None else ReplicaPlacement(
        region=region, provider=second_region_provider(config, ctx.key, ctx.account_id, region, parent=assembly.parent))
    return LogArchiveAccount(_name(config, ctx), ctx, log_archive_args(config, replica), opts=assembly.child)


def organization_args(config: FoundationConfig, log_archive: LogArchiveAccount) -> OrganizationArgs:
    settings = config.foundation
    tags = default_tags(config, AccountKey(AccountRole.ORGANIZATION))
    return OrganizationArgs(
        deploy_role_name=config.deploy_role_name,
        allowed_regions=settings.allowed_regions,
        security_account_id=config.accounts.security,
        trail=TrailSettings(
            bucket_name=log_archive.bucket_names["trail"], kms_key_arn=log_archive.key_arn,
            log_retention_days=config.log_retention_days,
            data_event_bucket_names=settings.trail.data_event_bucket_names,
            data_event_table_arns=settings.trail.data_event_table_arns),
        tag_keys=[key for key in tags if key != "ManagedBy"],
        tag_values={"DataClassification": [c.value for c in DataClassification] + ["audit"]},
        backup_retention_days=settings.backup_retention_days,
        macie=settings.macie,
        new_accounts=[NewAccount(key=role, name=spec.name, email=spec.email, ou=SECURITY)
                      for role, spec in settings.account_creation.items()],
    )


def security_args(config: FoundationConfig, organization: OrganizationAccount) -> SecurityArgs:
    return SecurityArgs(macie=config.foundation.macie, malware_protection=config.foundation.guardduty_malware_protection,
                        delegated_administrators=organization.delegated_administrators)


def _log_archive(assembly: Assembly) -> LogArchiveAccount:
    account = assembly.accounts[AccountKey(AccountRole.LOG_ARCHIVE)]
    assert isinstance(account, LogArchiveAccount)  # the table builds it first
    return account


def _organization(assembly: Assembly) -> OrganizationAccount:
    account = assembly.accounts[AccountKey(AccountRole.ORGANIZATION)]
    assert isinstance(account, OrganizationAccount)  # the table builds it before the security account
    return account


FoundationBuilder = Callable[[FoundationConfig, Assembly, AccountContext], Account]

#: The foundation accounts in dependency order: the log archive first (every Config recorder and the
#: organization trail deliver to it), then the management account (which registers the security account as
#: delegated administrator), then the security account.
FOUNDATION_ACCOUNTS: dict[AccountRole, FoundationBuilder] = {
    AccountRole.LOG_ARCHIVE: build_log_archive,
    AccountRole.ORGANIZATION: lambda config, assembly, ctx: OrganizationAccount(
        _name(config, ctx), ctx, organization_args(config, _log_archive(assembly)), opts=assembly.child),
    AccountRole.SECURITY: lambda config, assembly, ctx: SecurityAccount(
        _name(config, ctx), ctx, security_args(config, _organization(assembly)), opts=assembly.child),
}


# --- workload and sandbox stacks --------------------------------------------------------------------------

#: The TGW segment of each spoke account role.
SEGMENT_OF_ROLE = {
    AccountRole.IDENTITY: Segment.IDENTITY,
    AccountRole.API: Segment.EDGE,
    AccountRole.SANDBOX: Segment.SANDBOX,
    AccountRole.WORKLOAD: Segment.WORKLOADS,
}


def account_ids(config: WorkloadConfig | SandboxConfig | FoundationConfig) -> dict[AccountKey, str]:
    """Every account this stack deploys into, workload accounts included (in construction order)."""
    ids = {AccountKey(role): account_id for role, account_id in config.accounts.by_role().items()}
    if isinstance(config, WorkloadConfig):
        ids |= {AccountKey.of_workload(name): config.workloads[name].account_id for name in workload_order(config)}
    return ids


def spoke_plans(config: WorkloadConfig | SandboxConfig) -> dict[AccountKey, SpokePlan]:
    """Each spoke account's VPC: its CIDR and segment."""
    if isinstance(config, WorkloadConfig):
        cidrs = {AccountKey(AccountRole.IDENTITY): config.network.identity_vpc_cidr,
                 AccountKey(AccountRole.API): config.network.api_vpc_cidr}
        cidrs |= {AccountKey.of_workload(name): w.vpc_cidr for name, w in config.workloads.items()}
    else:
        cidrs = {AccountKey(AccountRole.SANDBOX): config.network.sandbox_vpc_cidr}
    ids = account_ids(config)
    return {key: SpokePlan(label=key.label, account_id=ids[key], segment=SEGMENT_OF_ROLE[key.role], cidr=cidr)
            for key, cidr in cidrs.items()}


def network_hub_args(config: WorkloadConfig | SandboxConfig, foundation: FoundationExports) -> NetworkHubArgs:
    network = config.network
    hybrid = network if isinstance(network, WorkloadNetwork) else None
    dx = hybrid.direct_connect if hybrid else None
    vpn = hybrid.vpn if hybrid else None
    dns = hybrid.on_premises_dns if hybrid else None
    return NetworkHubArgs(
        domain=config.domain,
        az_count=network.availability_zones,
        egress_vpc_cidr=network.egress_vpc_cidr,
        nat_per_az=network.nat_per_az(config.stage),
        transit_gateway_asn=network.transit_gateway_asn,
        spokes=list(spoke_plans(config).values()),
        on_premises_cidrs=network.on_premises_cidrs,
        allowed_domains=network.egress_allowed_domains,
        callback_domains=network.callback_domains, callback_senders=[callback_sender(config)],
        proxy=ProxySizing(network.egress_proxy.instance_type, network.egress_proxy.min_size,
                          network.egress_proxy.max_size),
        flow_logs_bucket_arn=foundation.flow_logs_bucket_arn,
        access_logs_bucket_arn=foundation.access_logs_bucket_arn,
        log_retention_days=config.log_retention_days,
        organization_id=foundation.organization_id,
        direct_connect=None if dx is None else DirectConnectSpec(
            gateway_asn=dx.gateway_asn,
            transit_vifs=[TransitVif(v.name, v.connection_id, v.vlan, v.customer_asn, v.mtu)
                          for v in dx.transit_virtual_interfaces],
            hosted_vif_ids=dx.hosted_virtual_interface_ids),
        customer_gateways=[CustomerGatewaySpec(c.name, c.ip_address, c.bgp_asn)
                           for c in (vpn.customer_gateways if vpn else [])],
        dns_domains=dns.domains if dns else (),
        dns_resolver_ips=dns.resolver_ips if dns else (),
        ingress=ingress_plan(config),
    )


def callback_sender(config: WorkloadConfig | SandboxConfig) -> str:
    """The VPC CIDR of the account running the events service, whose delivery function posts to TPP callbacks."""
    if isinstance(config, WorkloadConfig):
        return config.workloads[events_workload(config)].vpc_cidr
    return config.network.sandbox_vpc_cidr


def ingress_plan(config: WorkloadConfig | SandboxConfig) -> IngressPlan | None:
    """The public entry to Keycloak (the ingress VPC); None for an external IdP or a sandbox stack."""
    if not isinstance(config, WorkloadConfig) or config.identity.provider != "keycloak":
        return None
    cidr = config.network.ingress_vpc_cidr
    if cidr is None:
        raise RuntimeError("the config's rules require network.ingressVpcCidr with Keycloak")
    return IngressPlan(cidr=cidr, hostname=auth_host(config.domain), shield_advanced=config.edge.shield_of(config.stage))


def build_network_hub(config: WorkloadConfig | SandboxConfig, assembly: EnvironmentAssembly,
                      ctx: AccountContext) -> Account:
    assembly.network_hub = NetworkHubAccount(_name(config, ctx), ctx, network_hub_args(config, assembly.foundation),
                                             opts=assembly.child)
    return assembly.network_hub


#: The services' code (Dockerfiles, the archives `make lambdas` builds in dist/): where the `openbanking` package
#: the program reads its registry from lives, so images and archives are built from the very code described.
SERVICES_DIR = Path(openbanking.__file__).resolve().parents[1]
#: Who calls each exposed service through PrivateLink: the api account's gateway, and the IdP where it records
#: the PSU's decision on the services' internal authorisation endpoints (ais, pis; with Keycloak only: an external
#: IdP does not run in the identity account).
ENDPOINT_CALLERS: dict[str, tuple[AccountRole, ...]] = {
    "ais": (AccountRole.API, AccountRole.IDENTITY),
    "pis": (AccountRole.API, AccountRole.IDENTITY),
    "events": (AccountRole.API,),
}


def endpoint_callers(config: WorkloadConfig, service: str) -> tuple[AccountRole, ...]:
    """The account roles allowed to connect to `service`'s endpoint service in this stack."""
    callers = ENDPOINT_CALLERS[service]
    if config.identity.provider != "keycloak":
        callers = tuple(role for role in callers if role is not AccountRole.IDENTITY)
    return callers


def feed_owner(config: WorkloadConfig) -> str | None:
    """The workload that holds the stack's core-banking feed (the config's rules make it one at most)."""
    return next((name for name, w in config.workloads.items() if w.core_banking_feed is not None), None)


def events_workload(config: WorkloadConfig) -> str:
    """The workload that runs the events service (the config's rules make it exactly one)."""
    return next(name for name, w in config.workloads.items() if w.services.events is not None)


def workload_order(config: WorkloadConfig) -> list[str]:
    """Workloads in construction order: the feed's owner first (the others connect to its cluster)."""
    owner = feed_owner(config)
    return sorted(config.workloads, key=lambda name: name != owner)


def workload_args(config: WorkloadConfig, assembly: EnvironmentAssembly, key: AccountKey) -> WorkloadAccountArgs:
    """One workload account's arguments: its services and stores from its config, its links to the rest of
    the stack (the feed, the events bus, who may call it) from the other workloads' config."""
    name = str(key.workload)
    workload = config.workloads[name]
    ids = account_ids(config)
    services = {service: ServiceSizing(cpu=s.cpu, memory_mb=s.memory, min_tasks=s.min_tasks, max_tasks=s.max_tasks,
                                       image_digest=s.image)
                for service in workload.services.names() if (s := getattr(workload.services, service)) is not None}
    ingesting = [n for n, w in config.workloads.items() if w.services.ingestion is not None]
    owner = feed_owner(config)
    feed = remote = None
    if workload.core_banking_feed is not None:
        f = workload.core_banking_feed
        others = [n for n in ingesting if n != name]
        feed = FeedSettings(kind=f.type, instance_type=f.instance_type, brokers_per_az=f.brokers_per_az,
                            storage_gb=f.storage_gb,
                            remote_consumer_account_ids=[ids[AccountKey.of_workload(n)] for n in others],
                            remote_consumer_groups=[consumer_group(n) for n in others])
    elif owner is not None and name in ingesting:
        held = assembly.accounts.get(AccountKey.of_workload(owner))
        if not isinstance(held, WorkloadAccount) or held.feed is None or held.feed.cluster_arn is None \
                or held.feed.remote_bootstrap is None:
            raise RuntimeError(f"the feed's owner ({owner}) is built before {name} (workload_order) and holds MSK")
        remote = RemoteFeed(cluster_arn=held.feed.cluster_arn, bootstrap=held.feed.remote_bootstrap)
    events_at = events_workload(config)
    events_account = ids[AccountKey.of_workload(events_at)]
    raisers = [n for n, w in config.workloads.items() if {"ais", "pis", "events"} & set(w.services.names())]
    events = workload.services.events
    network = config.network
    return WorkloadAccountArgs(
        workload=name, description=workload.description, vpc=assembly.spoke_vpc(config, key),
        services=services, deployables=DEPLOYABLES, tables=TABLES, services_dir=SERVICES_DIR,
        ledger=None if workload.ledger is None else LedgerSizing(
            min_capacity=workload.ledger.min_capacity, max_capacity=workload.ledger.max_capacity,
            instances=workload.ledger.instances, backup_retention_days=workload.ledger.backup_retention_days,
            migration_image_digest=workload.ledger.migration_image),
        cache=None if workload.cache is None else CacheSizing(node_type=workload.cache.node_type,
                                                              replicas=workload.cache.replicas),
        feed=feed, remote_feed=remote,
        event_bus_arn=f"arn:aws:events:{config.region}:{events_account}:event-bus/{event_bus_name(config.name)}",
        event_publisher_account_ids=[ids[AccountKey.of_workload(n)] for n in raisers if n != events_at]
        if name == events_at else [],
        delivery_concurrency=events.delivery_concurrency if events is not None else 0,
        endpoint_principals={service: [ids[AccountKey(role)] for role in endpoint_callers(config, service)]
                             for service in services if service in ENDPOINT_CALLERS},
        internal_ca_arn=config.internal_certificate_authority_arn, internal_domain=f"internal.{config.domain}",
        public_base_url=f"https://api.{config.domain}", financial_id=config.open_banking.financial_id,
        tpp_jwks_url_template=config.open_banking.tpp_jwks_url_template,
        proxy_url=proxy_url(config.domain), callback_domains=network.callback_domains,
        egress_vpc_cidr=network.egress_vpc_cidr,
        on_premises_cidrs=network.on_premises_cidrs, access_logs_bucket=bucket_name_of(
            assembly.foundation.access_logs_bucket_arn),
        log_retention_days=config.log_retention_days,
        alarms=AlarmThresholds(p99_latency_ms=config.alarms.p99_latency_ms,
                               server_error_percent=config.alarms.server_error_percent,
                               dead_letters=config.alarms.dead_letters,
                               feed_lag_seconds=config.alarms.feed_lag_seconds),
    )


def build_workload(config: WorkloadConfig, assembly: EnvironmentAssembly, ctx: AccountContext) -> Account:
    return WorkloadAccount(_name(config, ctx), ctx, workload_args(config, assembly, ctx.key), opts=assembly.child)


def build_api(config: WorkloadConfig, assembly: EnvironmentAssembly, ctx: AccountContext) -> Account:
    return ApiAccount(_name(config, ctx), ctx, api_account_args(
        config, assembly.accounts, vpc=assembly.spoke_vpc(config, ctx.key), services_dir=SERVICES_DIR,
        access_logs_bucket_arn=assembly.foundation.access_logs_bucket_arn,
        waf_logs_bucket_arn=assembly.foundation.waf_logs_bucket_arn,
        access_log_destination_arn=assembly.foundation.api_access_log_destination_arn), opts=assembly.child)


def build_identity(config: WorkloadConfig, assembly: EnvironmentAssembly, ctx: AccountContext) -> Account:
    return IdentityAccount(_name(config, ctx), ctx, identity_account_args(
        config, vpc=assembly.spoke_vpc(config, ctx.key), network_account_id=config.accounts.network,
        access_logs_bucket_arn=assembly.foundation.access_logs_bucket_arn, services_dir=SERVICES_DIR),
        opts=assembly.child)


EnvironmentBuilder = Callable[[WorkloadConfig, EnvironmentAssembly, AccountContext], Account]
SandboxBuilder = Callable[[SandboxConfig, EnvironmentAssembly, AccountContext], Account]

#: A workload stack: the network hub first (every spoke VPC joins it), the identity account (the api account's
#: authorizer trusts its issuer), one workload account per entry of `workloads`, then the api account (it routes to
#: the workloads' endpoint services). The environment then links the identity account to the others.
WORKLOAD_ACCOUNTS: dict[AccountRole, EnvironmentBuilder] = {
    AccountRole.NETWORK: build_network_hub,
    AccountRole.IDENTITY: build_identity,
    AccountRole.WORKLOAD: build_workload,
    AccountRole.API: build_api,
}

def build_sandbox(config: SandboxConfig, assembly: EnvironmentAssembly, ctx: AccountContext) -> Account:
    return SandboxAccount(_name(config, ctx), ctx, sandbox_account_args(
        config, ctx.account_id, assembly.spoke_vpc(config, ctx.key), SERVICES_DIR, assembly.foundation),
        opts=assembly.child)


#: The sandbox stack: its network hub, then the sandbox account (its services and its edge).
SANDBOX_ACCOUNTS: dict[AccountRole, SandboxBuilder] = {
    AccountRole.NETWORK: build_network_hub,
    AccountRole.SANDBOX: build_sandbox,
}


def _name(config: FoundationConfig | WorkloadConfig | SandboxConfig, ctx: AccountContext) -> str:
    """The account component's name: `dev-workload-ais`."""
    return f"{config.name}-{ctx.key.label}"
