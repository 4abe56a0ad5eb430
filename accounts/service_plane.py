"""The service plane of an account that runs the Open Banking services [10]-[12], [18] (a workload account; the
sandbox account): the services on ECS Fargate with their data stores, fed from core banking, exposing themselves
through PrivateLink only (or, in the sandbox, to the edge of their own account).

What the plane holds follows from the services it runs (the config's `services`) and what each declares it
uses (the services' registry): the tables of those services and of their Lambdas, the ledger (Aurora) and
cache (Valkey) where a service reads the ledger, the signing key where one signs, the outbox where a table
records status changes, the event bus, router and delivery where the events service runs, and the feed
(or a private connection to it) where ingestion runs. docs/workloads.md draws it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.aurora_postgres import AuroraPostgres, AuroraPostgresArgs
from components.container_image import ContainerImage, ContainerImageArgs
from components.container_task import ContainerSpec, ContainerTask, ContainerTaskArgs
from components.core_banking_feed import (
    AMQPS_PORT,
    MSK_IAM_PORT,
    MSK_VPC_CONNECTIVITY_PORTS,
    CoreBankingFeed,
    FeedArgs,
    FeedConnection,
    FeedConnectionArgs,
)
from components.dns_certificate import DnsCertificate, DnsCertificateArgs
from components.endpoint_service import EndpointService, EndpointServiceArgs
from components.fargate_service import (
    TLS_PORT,
    FargateService,
    FargateServiceArgs,
    InternalTls,
    ServiceCluster,
    ServiceClusterArgs,
)
from components.lambda_function import LambdaFunctionArgs, LambdaNetwork
from components.network_access import admit, workload_security_group
from components.redis_cache import CacheUser, RedisCache, RedisCacheArgs
from components.service_alarms import Alarm, ServiceAlarms, ServiceAlarmsArgs
from components.service_events import (
    Outbox,
    OutboxArgs,
    ScheduledFunction,
    ScheduledFunctionArgs,
    ServiceEvents,
    ServiceEventsArgs,
)
from components.service_tables import ServiceTables, ServiceTablesArgs, TableDefinition
from components.signing_key import SigningKey, SigningKeyArgs
from components.spoke_vpc import SpokeVpc, SpokeVpcArgs

from .base import AccountContext
from .workload_access import (
    FEED_TOPIC,
    AccountResources,
    Cache,
    Deployable,
    DeployableSettings,
    Feed,
    Ledger,
    NetworkPlan,
    Wiring,
    egress_of,
    wiring,
)

#: The metrics namespace the services publish request counts and latencies to (CloudWatch embedded metric format,
#: services/openbanking/common/metrics.py; a test ties the two).
SERVICE_METRICS_NAMESPACE = "OpenBanking/Services"
#: The database every ledger copy is kept in.
LEDGER_DATABASE = "ledger"


@dataclass(frozen=True)
class ServiceSizing:
    """How one of the account's Fargate services runs."""

    #: Fargate task CPU units and memory (MiB).
    cpu: int
    #: Task memory in MiB.
    memory_mb: int
    #: Tasks autoscaling keeps between.
    min_tasks: int
    #: The most tasks autoscaling runs.
    max_tasks: int
    #: The image digest promoted into this account's repository; None: built at `pulumi up`.
    image_digest: str | None = None


@dataclass(frozen=True)
class LedgerSizing:
    """The account's Aurora PostgreSQL Serverless v2 cluster."""

    #: Capacity range in ACUs.
    min_capacity: float
    #: The largest it scales to, in ACUs.
    max_capacity: float
    #: Instances (writer plus readers).
    instances: int
    #: Days of automated backups.
    backup_retention_days: int
    #: The migration task's image digest in this account's repository; None: built at `pulumi up`.
    migration_image_digest: str | None = None


@dataclass(frozen=True)
class CacheSizing:
    """The account's Valkey replication group."""

    #: Node type, e.g. "cache.t4g.small".
    node_type: str
    #: Replicas besides the primary.
    replicas: int


@dataclass(frozen=True)
class FeedSettings:
    """The stack's core-banking feed, when this account holds it."""

    #: `msk` or `rabbitmq`.
    kind: Literal["msk", "rabbitmq"]
    #: Broker instance type.
    instance_type: str
    #: MSK brokers per AZ and their storage (GiB).
    brokers_per_az: int
    #: EBS storage per MSK broker in GiB.
    storage_gb: int
    #: Ingestion consumers in other workload accounts (named in the cluster policy).
    remote_consumer_account_ids: Sequence[str] = ()
    #: Their consumer groups (for the lag alarms kept with the cluster).
    remote_consumer_groups: Sequence[str] = ()


@dataclass(frozen=True)
class RemoteFeed:
    """The stack's MSK feed, held by another workload account: reached through a multi-VPC connection."""

    #: The cluster's ARN (its policy names this account).
    cluster_arn: pulumi.Input[str]
    #: Bootstrap brokers for multi-VPC connectivity (SASL/IAM).
    bootstrap: pulumi.Input[str]


@dataclass(frozen=True)
class AlarmThresholds:
    """When the account's alarms fire."""

    #: p99 request latency (ms) and share of 5xx answers (%) per service.
    p99_latency_ms: int
    #: Share of a service's requests answered 5xx, in percent.
    server_error_percent: float
    #: Messages on any dead-letter queue.
    dead_letters: int
    #: Seconds a feed consumer may lag.
    feed_lag_seconds: int


@dataclass(frozen=True)
class WorkloadAccountArgs:
    """Everything one workload account is built from."""

    #: The workload's name (e.g. "pis") and what it is for.
    workload: str
    #: What the account is for, for people.
    description: str
    #: Its spoke VPC.
    vpc: SpokeVpcArgs
    #: The services it runs, by deployable name, with their sizing.
    services: Mapping[str, ServiceSizing]
    #: The services' registry (`openbanking.deployables.DEPLOYABLES`) and table definitions (`TABLES`).
    deployables: Mapping[str, Deployable]
    #: The table definitions (logical name -> spec) the account's tables are made from.
    tables: Mapping[str, TableDefinition]
    #: Where the services' Dockerfiles and `make lambdas`' archives are (services/, services/dist/).
    services_dir: Path
    #: Its ledger and cache (present where the services need them).
    ledger: LedgerSizing | None
    #: Its cache: present where a service uses it (ais, ingestion).
    cache: CacheSizing | None
    #: The feed, when this account holds it; or the feed held elsewhere, when ingestion here reads it.
    feed: FeedSettings | None
    #: The feed held by another workload account, when ingestion here reads it.
    remote_feed: RemoteFeed | None
    #: The bus the outbox publishes to: this account's own when it runs the events service.
    event_bus_arn: pulumi.Input[str]
    #: When it runs the events service: the other workload accounts whose outbox publishes to its bus.
    event_publisher_account_ids: Sequence[str]
    #: Concurrent event deliveries (when it runs the events service).
    delivery_concurrency: int
    #: Accounts allowed to connect to each service's endpoint service (service name -> account ids); a service not
    #: named gets no endpoint service (the sandbox's edge reaches its services in its own account).
    endpoint_principals: Mapping[str, Sequence[str]]
    #: The private CA issuing the services' internal TLS certificates; None: public ACM certificates validated in
    #: `internal_certificate_zone_id` (the sandbox, which has no private CA and whose HTTP API verifies its backends).
    internal_ca_arn: str | None
    #: The zone of the services' internal names (`<service>.<zone>` on their certificates).
    internal_domain: str
    #: https://api.<domain>, the ASPSP's OB organisation id, the TPP signing JWKS URL template.
    public_base_url: str
    #: The ASPSP's Open Banking organisation id (`x-fapi-financial-id`).
    financial_id: str
    #: Where the directory publishes TPPs' signing keys, `{tpp_id}` replaced.
    tpp_jwks_url_template: str
    #: The egress proxy URL and the egress VPC's CIDR; the data centre's ranges (core banking publishes from there).
    proxy_url: str
    #: The bank's TPP callback domains (`network.callbackDomains`): the events service accepts, and event delivery
    #: posts to, hosts on them only (the egress lets out nothing else).
    callback_domains: Sequence[str]
    #: The egress VPC's CIDR (where the proxy listens).
    egress_vpc_cidr: str
    #: The data centre's ranges: core banking publishes to the feed from there.
    on_premises_cidrs: Sequence[str]
    #: The log archive's access-logs bucket (load balancer access logs).
    access_logs_bucket: pulumi.Input[str]
    #: Days every log group of the account keeps its events.
    log_retention_days: int
    #: When the account's alarms fire.
    alarms: AlarmThresholds
    #: Fargate Spot for the services (the sandbox); on-demand otherwise.
    spot: bool = False
    #: The one-off tasks it runs (deployable names); None: the ledger migration, where the account keeps a ledger.
    tasks: Sequence[str] | None = None
    #: Image digests of one-off tasks other than the migration (whose digest is the ledger's), by deployable.
    task_image_digests: Mapping[str, str] = field(default_factory=dict)
    #: What a deployable is told beyond what its registry flags say (the sandbox's CA and IdP), by deployable.
    settings: Mapping[str, DeployableSettings] = field(default_factory=dict)
    #: Without `internal_ca_arn`: the public zone that validates the services' certificates.
    internal_certificate_zone_id: pulumi.Input[str] | None = None
    #: Service -> deployables of this account that call its load balancer directly (the sandbox's IdP calls ais and
    #: pis): the balancer admits them, and the service's internal name resolves in the VPC (a private zone).
    internal_callers: Mapping[str, Sequence[str]] = field(default_factory=dict)


#: Lambdas that travel with the events service: the router behind its bus, the delivery behind its queue.
EVENT_FUNCTIONS = ("event_router", "event_delivery")


def functions_of(services: Sequence[str], deployables: Mapping[str, Deployable]) -> dict[str, Deployable]:
    """The Lambdas an account running `services` needs: the outbox relay where a service writes a table with a
    stream, the consent expiry where consents are kept, the event router and delivery with the events service."""
    tables = {t for s in services for t in deployables[s].tables}
    functions: dict[str, Deployable] = {}
    for name, spec in deployables.items():
        if spec.kind != "lambda":
            continue
        if name in EVENT_FUNCTIONS:
            wanted = "events" in services
        elif spec.consumes_streams:
            wanted = bool(tables & set(spec.consumes_streams))
        elif spec.schedule is not None:
            wanted = bool(spec.tables) and set(spec.tables) <= tables
        else:
            wanted = False  # the authorizer lives in the api account, idp_certificate in the identity account
        if wanted:
            functions[name] = spec
    return functions


def one_off_tasks(name: str, args: WorkloadAccountArgs) -> dict[str, Deployable]:
    """The account's one-off tasks: those `args.tasks` names, else the ledger's migration where there is a ledger."""
    if args.tasks is None:
        names = [n for n, d in args.deployables.items() if d.kind == "task" and d.owns_ledger] if args.ledger else []
    else:
        names = list(args.tasks)
    wrong = sorted(n for n in names if n not in args.deployables or args.deployables[n].kind != "task")
    if wrong:
        raise ValueError(f"{name}: {wrong} are not tasks of the registry")
    without = sorted(n for n in names if args.deployables[n].uses_ledger and args.ledger is None)
    if without:
        raise ValueError(f"{name}: {without} use the ledger, but the account keeps none")
    return {n: args.deployables[n] for n in names}


def consumer_group(workload: str) -> str:
    """Each account's ingestion reads the whole feed: its own Kafka consumer group."""
    return f"ledger-ingestion-{workload}"


def _slug(name: str) -> str:
    return name.replace("_", "-")


class ServicePlane(pulumi.ComponentResource):
    """The services, their data stores, events, feed, endpoint services and alarms, in the account of `ctx`."""

    def __init__(self, name: str, ctx: AccountContext, vpc: SpokeVpc, kms_key_arn: pulumi.Input[str],
                 args: WorkloadAccountArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:workload:ServicePlane", name, None, opts)
        unknown = sorted(set(args.services) - {n for n, d in args.deployables.items() if d.kind == "service"})
        if unknown:
            raise ValueError(f"{name}: {unknown} are not services of the registry")
        self.vpc = vpc
        self.key_arn = kms_key_arn
        self.workload, self.description = args.workload, args.description
        prefix, key = ctx.name_prefix, kms_key_arn
        services = {n: args.deployables[n] for n in args.services}
        functions = functions_of(list(services), args.deployables)
        tasks = one_off_tasks(name, args)
        runs = {**services, **functions, **tasks}
        strangers = sorted(set(args.settings) - set(runs))
        if strangers:
            raise ValueError(f"{name}: settings for {strangers}, which this account does not run")
        alarms: list[Alarm] = []

        # Tables: those the services and Lambdas here use, from the services' own definitions.
        table_names = sorted({t for d in runs.values() for t in d.tables})
        self.tables = ServiceTables(f"{name}-tables", ServiceTablesArgs(
            tables={t: args.tables[t] for t in table_names}, table_prefix=f"{ctx.environment}-{args.workload}-",
            kms_key_arn=key, protect=ctx.protect), opts=self.child) if table_names else None

        # One security group per deployable, egress only, made before the data stores that admit them.
        feed_ports = None
        if args.feed is not None:
            feed_ports = (MSK_IAM_PORT, MSK_IAM_PORT) if args.feed.kind == "msk" else (AMQPS_PORT, AMQPS_PORT)
        elif args.remote_feed is not None:
            feed_ports = MSK_VPC_CONNECTIVITY_PORTS
        plan = NetworkPlan(vpc_cidr=args.vpc.cidr_block, gateway_prefix_list_ids=vpc.gateway_prefix_list_ids,
                           data_cidrs=vpc.data_cidrs, egress_vpc_cidr=args.egress_vpc_cidr, feed_ports=feed_ports)
        groups = {n: workload_security_group(f"{name}-{_slug(n)}", vpc_id=vpc.vpc_id, egress=egress_of(d, plan),
                                             description=f"{prefix} {n}: egress to what it uses only", parent=self)
                  for n, d in runs.items()}

        self.signing_key = SigningKey(f"{name}-signing-key", SigningKeyArgs(
            description=f"{prefix}: signs response x-jws-signature and event SETs (PS256)", account_id=ctx.account_id,
            alias=f"{prefix}/signing", protect=ctx.protect), opts=self.child) \
            if any(d.uses_signing_key for d in runs.values()) else None
        resources = AccountResources(
            environment=ctx.environment, region=ctx.region, account_id=ctx.account_id, kms_key_arn=key,
            table_prefix=f"{ctx.environment}-{args.workload}-", table_arns=self.tables.arns if self.tables else {},
            public_base_url=args.public_base_url, financial_id=args.financial_id,
            tpp_jwks_url_template=args.tpp_jwks_url_template, vpc_cidr=args.vpc.cidr_block, proxy_url=args.proxy_url,
            callback_domains=args.callback_domains,
            signing_key_arn=self.signing_key.arn if self.signing_key else None,
            signing_key_id=self.signing_key.key_id if self.signing_key else None, event_bus_arn=args.event_bus_arn)

        # The ledger (Aurora) and its cache (Valkey), admitting exactly the deployables that use them.
        self.ledger = None
        if args.ledger is not None:
            users = [n for n, d in runs.items() if d.uses_ledger]
            self.ledger = AuroraPostgres(f"{name}-ledger", AuroraPostgresArgs(
                cluster_identifier=f"{prefix}-ledger", database_name=LEDGER_DATABASE, vpc_id=vpc.vpc_id,
                subnet_ids=vpc.data_subnet_ids, client_security_group_ids={n: groups[n].id for n in users},
                kms_key_arn=key, min_capacity=args.ledger.min_capacity, max_capacity=args.ledger.max_capacity,
                instances=args.ledger.instances, backup_retention_days=args.ledger.backup_retention_days,
                log_retention_days=args.log_retention_days, protect=ctx.protect), opts=self.child)
            roles = sorted({str(d.ledger_role) for d in runs.values() if d.logs_in_to_ledger})
            resources = replace(resources, ledger=Ledger(
                host=self.ledger.endpoint, database=LEDGER_DATABASE,
                user_arns={r: self.ledger.db_user_arn(ctx.region, ctx.account_id, r) for r in roles},
                master_secret_arn=self.ledger.master_secret_arn))
            alarms += ledger_alarms(f"{prefix}-ledger", args.ledger)
        self.cache = None
        if args.cache is not None:
            rid = f"{prefix}-cache"[:40]
            self.cache = RedisCache(f"{name}-cache", RedisCacheArgs(
                replication_group_id=rid, vpc_id=vpc.vpc_id, subnet_ids=vpc.data_subnet_ids,
                users=[CacheUser(n, (f"ob:{ctx.environment}:*",), groups[n].id) for n, d in runs.items() if d.uses_cache],
                node_type=args.cache.node_type, replicas=args.cache.replicas, kms_key_arn=key,
                log_retention_days=args.log_retention_days, protect=ctx.protect), opts=self.child)
            resources = replace(resources, cache=Cache(
                host=self.cache.endpoint, replication_group_id=rid, replication_group_arn=self.cache.replication_group.arn,
                user_arns=self.cache.user_arns))
            alarms.append(Alarm(
                "cache-evictions", "The cache evicts entries: it is too small for the working set",
                "GreaterThanThreshold", 100, namespace="AWS/ElastiCache", metric_name="Evictions", statistic="Sum",
                dimensions={"ReplicationGroupId": rid}, period_seconds=300, evaluation_periods=3, datapoints_to_alarm=2))

        # The core-banking feed: held here, or reached privately from here.
        consumers = [n for n, d in runs.items() if d.uses_feed]
        self.feed = None
        if args.feed is not None:
            self.feed = CoreBankingFeed(f"{name}-feed", FeedArgs(
                kind=args.feed.kind, name=f"{prefix}-core-banking", vpc_id=vpc.vpc_id, subnet_ids=vpc.data_subnet_ids,
                instance_type=args.feed.instance_type, brokers_per_az=args.feed.brokers_per_az,
                storage_gb=args.feed.storage_gb, multi_az=ctx.protect,
                consumer_security_group_ids={n: groups[n].id for n in consumers},
                remote_consumer_account_ids=args.feed.remote_consumer_account_ids,
                producer_cidrs=args.on_premises_cidrs, kms_key_arn=key, log_retention_days=args.log_retention_days,
                protect=ctx.protect), opts=self.child)
            resources = replace(resources, feed=Feed(
                kind=args.feed.kind, bootstrap=self.feed.bootstrap, cluster_arn=self.feed.cluster_arn,
                consumer_group=consumer_group(args.workload), secret_arn=self.feed.secret_arn))
            alarms += feed_alarms(f"{prefix}-core-banking", args.feed,
                                  [consumer_group(args.workload), *args.feed.remote_consumer_groups], args.alarms)
        elif args.remote_feed is not None and consumers:
            FeedConnection(f"{name}-feed-connection", FeedConnectionArgs(
                cluster_arn=args.remote_feed.cluster_arn, vpc_id=vpc.vpc_id, subnet_ids=vpc.data_subnet_ids,
                consumer_security_group_id=groups[consumers[0]].id, name=f"{prefix}-core-banking-connection"),
                opts=self.child)
            resources = replace(resources, feed=Feed(
                kind="msk", bootstrap=args.remote_feed.bootstrap, cluster_arn=args.remote_feed.cluster_arn,
                consumer_group=consumer_group(args.workload)))

        # Event notifications: the outbox where status changes are recorded, the bus, router and delivery where
        # the events service runs, consent expiry where consents are kept.
        def wired(spec: Deployable) -> Wiring:
            """What the registry's flags give `spec` here, and what the account adds for it."""
            w = wiring(spec, resources)
            extra = args.settings.get(spec.name)
            if extra is not None:
                twice = sorted((set(extra.environment) | set(extra.secrets)) & (set(w.environment) | set(w.secrets)))
                if twice:
                    raise ValueError(f"{name}: {spec.name} is given {twice} by its flags already")
                w.environment |= dict(extra.environment)
                w.secrets |= dict(extra.secrets)
            return w

        def function(spec: Deployable, reserved: int | None = None) -> LambdaFunctionArgs:
            return self._function_args(spec, wired(spec), groups[spec.name].id, args, ctx, reserved)

        self.events = None
        if "event_router" in functions:
            self.events = ServiceEvents(f"{name}-events", ServiceEventsArgs(
                bus_name=event_bus_name(ctx.environment), account_id=ctx.account_id, region=ctx.region,
                publisher_account_ids=args.event_publisher_account_ids, router=function(functions["event_router"]),
                queue_variable="OB_EVENT_QUEUE_URL",
                delivery=function(functions["event_delivery"], reserved=args.delivery_concurrency),
                dead_letter_variable="OB_DELIVERY_DEAD_LETTER_QUEUE_URL",
                delivery_queue_name=f"{prefix}-event-delivery",
                router_dead_letter_queue_name=f"{prefix}-event-router-dlq", kms_key_arn=key), opts=self.child)
        self.outbox = None
        if "outbox_relay" in functions and self.tables is not None:
            relay = functions["outbox_relay"]
            self.outbox = Outbox(f"{name}-outbox", OutboxArgs(
                relay=function(relay), bus_arn=args.event_bus_arn, bus_variable="OB_EVENT_BUS",
                stream_arns={t: arn for t, arn in self.tables.stream_arns.items() if t in relay.consumes_streams},
                dead_letter_queue_name=f"{prefix}-outbox-dlq", kms_key_arn=key), opts=self.child)
        self.consent_expiry = None
        if "consent_expiry" in functions:
            expiry = functions["consent_expiry"]
            self.consent_expiry = ScheduledFunction(f"{name}-consent-expiry", ScheduledFunctionArgs(
                function=function(expiry), schedule=str(expiry.schedule),
                dead_letter_queue_name=f"{prefix}-consent-expiry-dlq", kms_key_arn=key, account_id=ctx.account_id),
                opts=self.child)

        # The services: cluster, image, task, service behind its NLB, and the endpoint service in front of it.
        self.cluster = ServiceCluster(f"{name}-cluster", ServiceClusterArgs(cluster_name=prefix, spot=args.spot),
                                      opts=self.child) if services else None
        self.services: dict[str, FargateService] = {}
        self.endpoint_services: dict[str, EndpointService] = {}
        for service, spec in services.items():
            assert self.cluster is not None
            sizing = args.services[service]
            image = self._image(name, spec, sizing.image_digest, args, ctx)
            w = wired(spec)
            tls = None
            if spec.port is not None:
                tls = InternalTls(certificate_arn=self._certificate(name, service, args))
            self.services[service] = FargateService(f"{name}-{service}", FargateServiceArgs(
                task=ContainerTaskArgs(
                    family=f"{prefix}-{_slug(service)}", account_id=ctx.account_id, region=ctx.region,
                    container=ContainerSpec(
                        image=image.image, user=str(spec.user), health_check=health_command(spec), cpu=sizing.cpu,
                        memory_mb=sizing.memory_mb, port=spec.port, environment=w.environment, secrets=w.secrets),
                    repository_arn=image.repository_arn, policy_statements=w.statements, secret_kms_key_arns=[key],
                    log_kms_key_arn=key, log_retention_days=args.log_retention_days),
                cluster_arn=self.cluster.arn, cluster_name=self.cluster.name,
                service_name=f"{ctx.environment}-{args.workload}-{_slug(service)}"[:32], vpc_id=vpc.vpc_id,
                subnet_ids=vpc.private_subnet_ids, security_group_id=groups[service].id, min_tasks=sizing.min_tasks,
                max_tasks=sizing.max_tasks, tls=tls, access_logs_bucket=args.access_logs_bucket,
                health_path=(spec.health_check.path if spec.health_check else None) or "/health",
                spot=args.spot),
                opts=self.child)
            nlb = self.services[service].load_balancer_arn
            if nlb is not None:
                if service in args.endpoint_principals:
                    self.endpoint_services[service] = EndpointService(f"{name}-{service}-endpoint", EndpointServiceArgs(
                        load_balancer_arn=nlb, allowed_account_ids=args.endpoint_principals[service],
                        description=f"{ctx.environment} {args.workload} {service}"), opts=self.child)
                alarms += service_alarms(ctx.environment, service, args.alarms)
        self._internal_callers(name, args, groups)

        # The one-off tasks: the ledger migration (run before each deployment of the services: docs/workloads.md),
        # and in the sandbox the seeding after it.
        self.migration = None
        self.tasks: dict[str, ContainerTask] = {}
        for task, spec in tasks.items():
            digest = args.ledger.migration_image_digest if spec.owns_ledger and args.ledger \
                else args.task_image_digests.get(task)
            image = self._image(name, spec, digest, args, ctx)
            w = wired(spec)
            self.tasks[task] = ContainerTask(f"{name}-{_slug(spec.name)}", ContainerTaskArgs(
                family=f"{prefix}-{_slug(spec.name)}", account_id=ctx.account_id, region=ctx.region,
                container=ContainerSpec(image=image.image, user=str(spec.user), health_check=(), cpu=256,
                                        memory_mb=512, environment=w.environment, secrets=w.secrets),
                repository_arn=image.repository_arn, policy_statements=w.statements, secret_kms_key_arns=[key],
                log_kms_key_arn=key, log_retention_days=args.log_retention_days), opts=self.child)
            if spec.owns_ledger:
                self.migration = self.tasks[task]

        # Alarms: every dead-letter queue, the data stores, the services.
        dead_letters = [*(self.events.dead_letter_queue_arns if self.events else []),
                        *([self.outbox.dead_letter_queue_arn] if self.outbox else []),
                        *([self.consent_expiry.dead_letter_queue_arn] if self.consent_expiry else [])]
        alarms += [dead_letter_alarm(i, arn, args.alarms) for i, arn in enumerate(dead_letters)]
        self.alarms = ServiceAlarms(f"{name}-alarms", ServiceAlarmsArgs(name_prefix=prefix, kms_key_arn=key,
                                                                          alarms=alarms), opts=self.child)
        self.register_outputs({
            "workload": args.workload,
            "endpointServices": {s: e.service_name for s, e in self.endpoint_services.items()},
            "eventBusArn": self.events.bus_arn if self.events else None,
        })

    @property
    def child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def _certificate(self, name: str, service: str, args: WorkloadAccountArgs) -> pulumi.Output[str]:
        """The service's TLS certificate, `<service>.<internal domain>`: from the private CA, or public and
        DNS-validated where there is none."""
        domain = f"{_slug(service)}.{args.internal_domain}"
        if args.internal_ca_arn is not None:
            return aws.acm.Certificate(
                f"{name}-{service}-certificate", domain_name=domain, certificate_authority_arn=args.internal_ca_arn,
                key_algorithm="EC_prime256v1", opts=self.child).arn
        if args.internal_certificate_zone_id is None:
            raise ValueError(f"{name}: {service} needs a certificate: give internal_ca_arn or "
                             "internal_certificate_zone_id")
        return DnsCertificate(f"{name}-{service}-certificate", DnsCertificateArgs(
            domain_name=domain, zone_id=args.internal_certificate_zone_id), opts=self.child).arn

    def _internal_callers(self, name: str, args: WorkloadAccountArgs, groups: Mapping[str, aws.ec2.SecurityGroup]) -> None:
        """Each called service's balancer admits its callers here, and its name resolves in the VPC."""
        if not args.internal_callers:
            return
        zone = aws.route53.Zone(
            f"{name}-internal-zone", name=args.internal_domain, force_destroy=False,
            comment=f"{args.internal_domain}: the services' names inside the VPC",
            vpcs=[aws.route53.ZoneVpcArgs(vpc_id=self.vpc.vpc_id)], opts=self.child)
        for service, callers in sorted(args.internal_callers.items()):
            target = self.services.get(service)
            if target is None or target.load_balancer_security_group_id is None or target.load_balancer_dns_name is None \
                    or target.load_balancer_zone_id is None:
                raise ValueError(f"{name}: {sorted(callers)} call {service}, which has no load balancer here")
            aws.route53.Record(
                f"{name}-{service}-internal-name", zone_id=zone.zone_id, name=f"{_slug(service)}.{args.internal_domain}",
                type="A", aliases=[aws.route53.RecordAliasArgs(
                    name=target.load_balancer_dns_name, zone_id=target.load_balancer_zone_id,
                    evaluate_target_health=False)], opts=pulumi.ResourceOptions(parent=zone))
            for caller in sorted(callers):
                if caller not in groups:
                    raise ValueError(f"{name}: {caller} calls {service}, but this account does not run it")
                admit(f"{name}-{service}-from-{_slug(caller)}", group_id=target.load_balancer_security_group_id,
                      port=TLS_PORT, from_group_id=groups[caller].id,
                      description=f"TLS from {caller} (same account)", parent=self)

    def _image(self, name: str, spec: Deployable, digest: str | None, args: WorkloadAccountArgs,
               ctx: AccountContext) -> ContainerImage:
        """The deployable's image, in this account's own repository."""
        return ContainerImage(f"{name}-{_slug(spec.name)}-image", ContainerImageArgs(
            repository_name=f"{ctx.name_prefix}/{_slug(spec.name)}", kms_key_arn=self.key_arn,
            digest=digest, context=args.services_dir, dockerfile=args.services_dir / str(spec.dockerfile),
            protect=ctx.protect), opts=self.child)

    def _function_args(self, spec: Deployable, w: Wiring, group_id: pulumi.Input[str],
                       args: WorkloadAccountArgs, ctx: AccountContext, reserved: int | None) -> LambdaFunctionArgs:
        """A Lambda of the registry, wired like the services: settings, statements, its security group."""
        if w.secrets:
            raise ValueError(f"{spec.name}: a Lambda reads its secrets itself; the registry gives it {sorted(w.secrets)}")
        return LambdaFunctionArgs(
            function_name=f"{ctx.name_prefix}-{_slug(spec.name)}", description=spec.description,
            handler=str(spec.handler), archive_path=str(args.services_dir / "dist" / str(spec.archive)),
            account_id=ctx.account_id, region=ctx.region, memory_mb=int(spec.memory_mb or 256),
            timeout_seconds=int(spec.timeout_seconds or 30), environment=w.environment, policy_statements=w.statements,
            kms_key_arn=self.key_arn, log_retention_days=args.log_retention_days,
            network=LambdaNetwork(subnet_ids=self.vpc.private_subnet_ids, security_group_id=group_id),
            reserved_concurrency=reserved)


def event_bus_name(environment: str) -> str:
    """The events bus of an environment (one, in the account running the events service)."""
    return f"{environment}-openbanking-events"


def health_command(spec: Deployable) -> tuple[str, ...]:
    """The Dockerfile's HEALTHCHECK as ECS's `["CMD", ...]`."""
    check = spec.health_check
    return ("CMD", *check.command) if check is not None else ()


def service_alarms(environment: str, service: str, limits: AlarmThresholds) -> list[Alarm]:
    """5xx rate and p99 latency of a service, from the request metrics it publishes (embedded metric format)."""
    dims = {"Environment": environment, "Service": service}
    return [
        Alarm(f"{service}-5xx-rate", f"{service}: more than {limits.server_error_percent}% of requests answered 5xx",
              "GreaterThanThreshold", limits.server_error_percent,
              inputs={"errors": (SERVICE_METRICS_NAMESPACE, "ServerErrors", dims, "Sum"),
                      "requests": (SERVICE_METRICS_NAMESPACE, "Requests", dims, "Sum")},
              expression="IF(requests > 0, 100 * errors / requests, 0)"),
        Alarm(f"{service}-p99-latency", f"{service}: p99 latency above {limits.p99_latency_ms} ms",
              "GreaterThanThreshold", limits.p99_latency_ms, namespace=SERVICE_METRICS_NAMESPACE,
              metric_name="Latency", dimensions=dims, extended_statistic="p99"),
    ]


def ledger_alarms(cluster: str, sizing: LedgerSizing) -> list[Alarm]:
    """Aurora CPU, and connections near what its largest size allows (PostgreSQL's max_connections grows with
    memory: about one per 9.5 MB, 5000 at most; an ACU is 2 GiB)."""
    max_connections = min(5000, math.floor(sizing.max_capacity * 2 * 1024 ** 3 / 9531392))
    dims = {"DBClusterIdentifier": cluster}
    return [
        Alarm("ledger-cpu", "The ledger's CPU is above 80%", "GreaterThanThreshold", 80, namespace="AWS/RDS",
              metric_name="CPUUtilization", dimensions=dims, statistic="Average"),
        Alarm("ledger-connections", f"The ledger nears its connection limit ({max_connections} at full size)",
              "GreaterThanThreshold", math.floor(0.8 * max_connections), namespace="AWS/RDS",
              metric_name="DatabaseConnections", dimensions=dims, statistic="Maximum"),
    ]


def feed_alarms(name: str, feed: FeedSettings, groups: Sequence[str], limits: AlarmThresholds) -> list[Alarm]:
    """The ingestion consumers' lag: MSK's estimated time lag per consumer group, or the RabbitMQ queue's depth."""
    if feed.kind == "msk":
        return [Alarm(f"feed-lag-{group}", f"Ingestion ({group}) lags core banking by more than "
                      f"{limits.feed_lag_seconds} s", "GreaterThanThreshold", limits.feed_lag_seconds,
                      namespace="AWS/Kafka", metric_name="EstimatedMaxTimeLag", statistic="Maximum",
                      dimensions={"Cluster Name": name, "Consumer Group": group, "Topic": FEED_TOPIC})
                for group in groups]
    return [Alarm("feed-backlog", "Ingestion falls behind: messages wait on its queue", "GreaterThanThreshold", 1000,
                  namespace="AWS/AmazonMQ", metric_name="MessageCount", statistic="Maximum",
                  dimensions={"Broker": name, "VirtualHost": "/", "Queue": "ledger-ingestion"})]


def dead_letter_alarm(index: int, queue_arn: pulumi.Input[str], limits: AlarmThresholds) -> Alarm:
    return Alarm(f"dead-letters-{index}", "Messages wait on a dead-letter queue: something failed for good",
                 "GreaterThanOrEqualToThreshold", limits.dead_letters, namespace="AWS/SQS",
                 metric_name="ApproximateNumberOfMessagesVisible", statistic="Maximum",
                 dimensions={"QueueName": pulumi.Output.from_input(queue_arn).apply(lambda a: a.rsplit(":", 1)[-1])},
                 period_seconds=300, evaluation_periods=1, datapoints_to_alarm=1)
