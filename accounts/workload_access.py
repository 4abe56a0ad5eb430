"""What each deployable of a workload account is told and may do, from what it declares it uses.

The services' registry (`services/openbanking/deployables.py`) says, per deployable, which tables it reads
and writes, how it uses the ledger, whether it uses the cache, the signing key, the event bus or queue, the
core-banking feed or the internet. This module turns that into the three things the infrastructure gives it:
its settings (`OB_*` variables, secrets apart) and IAM statements (each resource by ARN, nothing else):
:func:`wiring`; and its security group's egress (each peer by port): :func:`egress_of`, which needs only the
network plan, so the groups exist before the data stores that admit them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import pulumi

from components.network_access import Egress


class HealthCheck(Protocol):
    """A container health check as the registry declares it (`openbanking.deployables.HealthCheck`)."""

    @property
    def command(self) -> tuple[str, ...]: ...
    @property
    def path(self) -> str | None: ...


class Deployable(Protocol):
    """A deployable as the services' registry declares it (`openbanking.deployables.Deployable`)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def dockerfile(self) -> str | None: ...
    @property
    def user(self) -> str | None: ...
    @property
    def port(self) -> int | None: ...
    @property
    def health_check(self) -> HealthCheck | None: ...
    @property
    def handler(self) -> str | None: ...
    @property
    def archive(self) -> str | None: ...
    @property
    def memory_mb(self) -> int | None: ...
    @property
    def timeout_seconds(self) -> int | None: ...
    @property
    def schedule(self) -> str | None: ...
    @property
    def batch_size(self) -> int | None: ...
    @property
    def reads_tables(self) -> tuple[str, ...]: ...
    @property
    def writes_tables(self) -> tuple[str, ...]: ...
    @property
    def consumes_streams(self) -> tuple[str, ...]: ...
    @property
    def tables(self) -> tuple[str, ...]: ...
    @property
    def serves_http(self) -> bool: ...
    @property
    def uses_tables(self) -> bool: ...
    @property
    def uses_ledger(self) -> bool: ...
    @property
    def logs_in_to_ledger(self) -> bool: ...
    @property
    def owns_ledger(self) -> bool: ...
    @property
    def uses_master_credentials(self) -> bool: ...
    @property
    def ledger_role(self) -> str | None: ...
    @property
    def uses_cache(self) -> bool: ...
    @property
    def uses_signing_key(self) -> bool: ...
    @property
    def signs(self) -> bool: ...
    @property
    def uses_tpp_directory(self) -> bool: ...
    @property
    def uses_event_bus(self) -> bool: ...
    @property
    def uses_event_queue(self) -> bool: ...
    @property
    def uses_dead_letter_queue(self) -> bool: ...
    @property
    def uses_feed(self) -> bool: ...
    @property
    def builds_public_links(self) -> bool: ...
    @property
    def needs_internet(self) -> bool: ...
    @property
    def vets_callbacks(self) -> bool: ...


#: The DynamoDB actions of a reader, and the further ones of a writer.
TABLE_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
              "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable")
TABLE_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
#: Ports of the account's data stores (in the data subnets).
POSTGRES_PORT, REDIS_PORT = 5432, 6379
#: The services that raise OBIE events from their status changes (they publish through the outbox).
EVENT_RAISERS = ("ais", "pis", "events")
#: Kafka topics of the feed: where core banking publishes, and where a consumer parks what it cannot apply.
FEED_TOPIC = "core-banking.ledger"


@dataclass(frozen=True)
class Ledger:
    """The account's Aurora cluster, as a deployable connects to it."""

    #: The cluster's writer endpoint.
    host: pulumi.Input[str]
    #: The database the services use.
    database: str
    #: The `rds-db:connect` resource of each login role (IAM database authentication).
    user_arns: Mapping[str, pulumi.Input[str]]
    #: The RDS-managed master secret (JSON `username`, `password`): the migration task's only.
    master_secret_arn: pulumi.Input[str]


@dataclass(frozen=True)
class Cache:
    """The account's Valkey replication group."""

    #: The primary endpoint.
    host: pulumi.Input[str]
    #: The replication group's id (the IAM auth token names it).
    replication_group_id: str
    #: The replication group's ARN (`elasticache:Connect` names it).
    replication_group_arn: pulumi.Input[str]
    #: Workload name -> its cache user's ARN (`elasticache:Connect` needs the group's and the user's).
    user_arns: Mapping[str, pulumi.Input[str]]


@dataclass(frozen=True)
class Feed:
    """Where the account's ingestion consumer reads the core-banking feed."""

    #: `msk` or `rabbitmq`.
    kind: Literal["msk", "rabbitmq"]
    #: Bootstrap brokers (msk) or the AMQPS endpoint (rabbitmq).
    bootstrap: pulumi.Input[str]
    #: MSK: the cluster's ARN (IAM data-plane resources derive from it); the consumer group of this account.
    cluster_arn: pulumi.Input[str] | None = None
    #: MSK: this account's consumer group (each account reads the whole feed).
    consumer_group: str | None = None
    #: rabbitmq: the broker user's secret (JSON `username`, `password`).
    secret_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class AccountResources:
    """What a workload account holds that its deployables use."""

    #: The environment's name (`OB_ENVIRONMENT`).
    environment: str
    #: The region of every AWS client (`OB_AWS_REGION`).
    region: str
    #: The account's id.
    account_id: str
    #: The account key: tables, queues, logs, secrets are encrypted with it.
    kms_key_arn: pulumi.Input[str]
    #: `<env>-<workload>-`: the services' `OB_TABLE_PREFIX`.
    table_prefix: str
    #: Logical table -> ARN, for the tables of this account.
    table_arns: Mapping[str, pulumi.Input[str]]
    #: https://api.<domain>: what the services build their public links with.
    public_base_url: str
    #: The ASPSP's Open Banking organisation id (`x-fapi-financial-id`).
    financial_id: str
    #: The Open Banking Directory's TPP signing JWKS, `{tpp_id}` substituted.
    tpp_jwks_url_template: str
    #: The VPC's CIDR (no proxy for it).
    vpc_cidr: str
    #: The egress proxy (`http://proxy.<domain>:3128`).
    proxy_url: str
    #: The bank's TPP callback domains (`network.callbackDomains`): `OB_CALLBACK_DOMAINS` of those that vet callbacks.
    callback_domains: Sequence[str]
    #: The ledger, where the account keeps one.
    ledger: Ledger | None = None
    #: The cache, where the account has one.
    cache: Cache | None = None
    #: The core-banking feed, where ingestion here reads one.
    feed: Feed | None = None
    #: The signing key's ARN, where a deployable here signs.
    signing_key_arn: pulumi.Input[str] | None = None
    #: Its id: the `kid` the signatures carry (`OB_SIGNING_KEY_ID`).
    signing_key_id: pulumi.Input[str] | None = None
    #: The bus the outbox publishes to (in this account or the events account), and the delivery queue here.
    event_bus_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class NetworkPlan:
    """Where a workload account's peers are, known before any of them exists."""

    #: The VPC's CIDR: its interface endpoints for AWS APIs.
    vpc_cidr: str
    #: The S3 and DynamoDB gateway endpoints' prefix lists.
    gateway_prefix_list_ids: Sequence[pulumi.Input[str]]
    #: The data subnets' CIDRs: the ledger, the cache, the feed's brokers or its multi-VPC endpoints live there.
    data_cidrs: Sequence[str]
    #: The egress VPC's CIDR (the egress proxy).
    egress_vpc_cidr: str
    #: The feed's client ports (first, last) as the consumer here reaches them; None when no feed is reachable.
    feed_ports: tuple[int, int] | None = None


@dataclass(frozen=True)
class DeployableSettings:
    """What a deployable is told beyond what its registry flags say: settings only its account knows (the sandbox's
    CA and IdP: their keys, the CA certificate, the public URLs they write into certificates and tokens)."""

    #: Plain settings.
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    #: Variable -> Secrets Manager `valueFrom` (a secret ARN): values the program never sees.
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


@dataclass
class Wiring:
    """A deployable's settings, secrets (`valueFrom` of Secrets Manager) and IAM statements."""

    #: Settings, as plain environment variables.
    environment: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    #: Variable -> Secrets Manager `valueFrom` (the secret ARN, with a JSON key).
    secrets: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    #: IAM statements of the deployable's own role.
    statements: list[pulumi.Input[Mapping[str, Any]]] = field(default_factory=list)


def egress_of(spec: Deployable, plan: NetworkPlan) -> list[Egress]:
    """The peers `spec` opens connections to, each on its port: nothing it does not use."""
    # Every container pulls its image layers from S3, and every deployable calls AWS APIs through the endpoints.
    egress = [Egress("AWS API interface endpoints", 443, cidr=plan.vpc_cidr),
              *[Egress("S3 and DynamoDB gateway endpoints", 443, prefix_list_id=p) for p in plan.gateway_prefix_list_ids]]
    if spec.uses_ledger:
        egress += [Egress("the ledger (Aurora PostgreSQL)", POSTGRES_PORT, cidr=c) for c in plan.data_cidrs]
    if spec.uses_cache:
        egress += [Egress("the cache (Valkey)", REDIS_PORT, cidr=c) for c in plan.data_cidrs]
    if spec.uses_feed:
        if plan.feed_ports is None:
            raise ValueError(f"{spec.name} consumes the core-banking feed, but the account reaches none")
        low, high = plan.feed_ports
        egress += [Egress("the core-banking feed", low, cidr=c, to_port=high if high != low else None)
                   for c in plan.data_cidrs]
    if spec.needs_internet or spec.uses_tpp_directory:
        egress.append(Egress("the egress proxy (Squid)", 3128, cidr=plan.egress_vpc_cidr))
    return egress


def _table_statements(spec: Deployable, arns: Mapping[str, pulumi.Input[str]]) -> list[Mapping[str, Any]]:
    statements = []
    for tables, actions in ((spec.reads_tables, TABLE_READ), (spec.writes_tables, TABLE_READ + TABLE_WRITE)):
        if tables:
            resources: list[pulumi.Input[str]] = []
            for table in tables:
                resources += [arns[table], pulumi.Output.concat(arns[table], "/index/*")]
            statements.append({"Effect": "Allow", "Action": list(actions), "Resource": resources})
    return statements


def wiring(spec: Deployable, res: AccountResources) -> Wiring:
    """Everything `spec` is given in this account, from what it declares it uses (and nothing it does not)."""
    w = Wiring()
    w.environment |= {"OB_ENVIRONMENT": res.environment, "OB_AWS_REGION": res.region}
    if spec.kind == "service":  # the API Gateway authorizer has judged the caller; the services read its verdict
        w.environment["OB_AUTH_MODE"] = "gateway"
    if spec.serves_http:  # request counts, 5xx and latency as embedded metrics: the service alarms watch them
        w.environment["OB_REQUEST_METRICS"] = "true"
    if spec.uses_tables:
        missing = [t for t in spec.tables if t not in res.table_arns]
        if missing:
            raise ValueError(f"{spec.name} uses tables {missing} that this account does not hold")
        w.environment["OB_TABLE_PREFIX"] = res.table_prefix
        w.statements += _table_statements(spec, res.table_arns)
    if spec.name in EVENT_RAISERS:
        w.environment["OB_EVENT_PUBLISHING"] = "outbox"
    if spec.builds_public_links:
        w.environment["OB_BASE_URL"] = res.public_base_url
    if spec.uses_ledger:
        _ledger(spec, res, w)
    if spec.uses_cache:
        _cache(spec, res, w)
    if spec.uses_signing_key:
        if res.signing_key_arn is None or res.signing_key_id is None:
            raise ValueError(f"{spec.name} signs, but the account has no signing key")
        w.environment |= {"OB_SIGNING_KMS_KEY_ARN": res.signing_key_arn, "OB_SIGNING_KEY_ID": res.signing_key_id,
                          "OB_FINANCIAL_ID": res.financial_id}
        if spec.signs:
            w.statements.append(
                {"Sid": "SignPS256", "Effect": "Allow", "Action": "kms:Sign", "Resource": res.signing_key_arn,
                 "Condition": {"StringEquals": {"kms:SigningAlgorithm": "RSASSA_PSS_SHA_256"}}})
        w.statements.append(
            {"Sid": "PublicKey", "Effect": "Allow", "Action": "kms:GetPublicKey", "Resource": res.signing_key_arn})
    if spec.uses_tpp_directory:
        w.environment["OB_TPP_JWKS_URL_TEMPLATE"] = res.tpp_jwks_url_template
    if spec.uses_feed:
        _feed(spec, res, w)
    if spec.vets_callbacks:
        w.environment["OB_CALLBACK_DOMAINS"] = json.dumps(list(res.callback_domains))
    if spec.needs_internet or spec.uses_tpp_directory:
        # AWS APIs stay on the VPC endpoints; only the internet goes through the proxy.
        w.environment |= {"HTTPS_PROXY": res.proxy_url, "HTTP_PROXY": res.proxy_url,
                          "NO_PROXY": f"169.254.169.254,169.254.170.2,localhost,127.0.0.1,.amazonaws.com,{res.vpc_cidr}"}
    return w


def _ledger(spec: Deployable, res: AccountResources, w: Wiring) -> None:
    ledger = res.ledger
    if ledger is None:
        raise ValueError(f"{spec.name} uses the ledger, but the account has none")
    w.environment |= {"OB_DATABASE_HOST": ledger.host, "OB_DATABASE_NAME": ledger.database}
    if spec.logs_in_to_ledger:
        role = str(spec.ledger_role)
        w.environment |= {"OB_DATABASE_USER": role, "OB_DATABASE_IAM_AUTH": "true"}
        w.statements.append({"Sid": "LedgerLogin", "Effect": "Allow", "Action": "rds-db:connect",
                             "Resource": ledger.user_arns[role]})
    if spec.uses_master_credentials:
        # The master credentials, straight from the RDS-managed secret into the task's environment (the migration,
        # and the sandbox's seeding).
        w.secrets |= {"OB_DATABASE_MASTER_USERNAME": pulumi.Output.concat(ledger.master_secret_arn, ":username::"),
                      "OB_DATABASE_MASTER_PASSWORD": pulumi.Output.concat(ledger.master_secret_arn, ":password::")}


def _cache(spec: Deployable, res: AccountResources, w: Wiring) -> None:
    cache = res.cache
    if cache is None:
        raise ValueError(f"{spec.name} uses the cache, but the account has none")
    w.environment |= {"OB_REDIS_URL": pulumi.Output.concat("rediss://", cache.host, f":{REDIS_PORT}/0"),
                      "OB_REDIS_USER": spec.name, "OB_REDIS_IAM_AUTH": "true",
                      "OB_REDIS_CACHE_NAME": cache.replication_group_id}
    w.statements.append({"Sid": "CacheLogin", "Effect": "Allow", "Action": "elasticache:Connect",
                         "Resource": [cache.replication_group_arn, cache.user_arns[spec.name]]})


def _feed(spec: Deployable, res: AccountResources, w: Wiring) -> None:
    feed = res.feed
    if feed is None:
        raise ValueError(f"{spec.name} consumes the core-banking feed, but the account reaches none")
    if feed.kind == "msk":
        group = str(feed.consumer_group)
        w.environment |= {"OB_TRANSPORT": "kafka", "OB_KAFKA_BOOTSTRAP_SERVERS": feed.bootstrap,
                          "OB_KAFKA_IAM_AUTH": "true", "OB_KAFKA_GROUP_ID": group,
                          "OB_KAFKA_TOPIC": FEED_TOPIC, "OB_KAFKA_PARKING_TOPIC": f"{FEED_TOPIC}.parking.{group}"}
        arn = pulumi.Output.from_input(feed.cluster_arn or "")
        base = arn.apply(lambda a: a.partition(":cluster/"))
        topic = base.apply(lambda p: f"{p[0]}:topic/{p[2]}/{FEED_TOPIC}")
        parking = base.apply(lambda p: f"{p[0]}:topic/{p[2]}/{FEED_TOPIC}.parking.{group}")
        group_arn = base.apply(lambda p: f"{p[0]}:group/{p[2]}/{group}")
        w.statements += [
            {"Sid": "FeedConnect", "Effect": "Allow", "Action": ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
             "Resource": arn},
            {"Sid": "FeedRead", "Effect": "Allow", "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
             "Resource": topic},
            {"Sid": "FeedPark", "Effect": "Allow", "Resource": parking,
             "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]},
            {"Sid": "FeedGroup", "Effect": "Allow", "Action": ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
             "Resource": group_arn},
        ]
    else:
        secret = pulumi.Output.from_input(feed.secret_arn or "")
        # Amazon MQ's endpoint is already `amqps://<broker>:5671`; the user and password come as secrets.
        w.environment |= {"OB_TRANSPORT": "amqp", "OB_AMQP_URL": feed.bootstrap}
        w.secrets |= {"OB_AMQP_USERNAME": pulumi.Output.concat(secret, ":username::"),
                      "OB_AMQP_PASSWORD": pulumi.Output.concat(secret, ":password::")}
