"""The environment config: one structured key, `landingzone:environment`, per stack.

One pydantic model per stack kind (foundation, workload, sandbox), chosen by `kind`, with the fields that
kind needs required and the fields it does not use refused. Field rules (an account id has 12 ASCII digits,
a region exists, a CIDR is RFC 1918) are types; rules within one section (the proxy fleet's sizes, the
lifecycle's order, the data centre's BGP ASNs) are that section's validators; rules across sections live in
:mod:`environments.rules`. Types are strict: `'1'` is not a number, `0` is not `false`, keys are camelCase
only. :func:`environments.validation.load_environment` reports every problem at once, each as
`<key path>: <value as written> <rule>`, before the program registers any resource.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import NameOID
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from accounts.keys import AccountRole
from components.cidr_plan import EGRESS_TIERS, INGRESS_TIERS, MIN_SUBNET_PREFIX, SPOKE_TIERS
from components.network_firewall import CALLBACK_CAPACITY, MAX_ALLOWED_DOMAINS
from openbanking.claims import API_SCOPES

CONFIG_KEY = "landingzone:environment"
#: The project's directory (Pulumi.yaml): files the config names are relative to it.
PROJECT_DIR = Path(__file__).resolve().parents[1]


class ConfigError(Exception):
    """The environment config is invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


#: Characters of a value an error line shows; a longer value is cut there, with its size.
MAX_SHOWN = 160


def as_written(value: Any) -> str:
    """A config value the way the user wrote it in YAML: `false`, `null`, `'1'` (a string), `1` (a number); a
    long one cut at :data:`MAX_SHOWN` characters with its size, so a huge value cannot bury the rule it broke."""
    text = _written(value)
    if len(text) <= MAX_SHOWN:
        return text
    size = f"{len(value)} items" if isinstance(value, list | tuple | dict) else f"{len(text)} characters"
    return f"{text[:MAX_SHOWN]}... ({size})"


def _written(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_written(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_written(v)}" for k, v in value.items()) + "}"
    return repr(value)


# --- problems found by a section's own validator ----------------------------------------------------------

SECTION_RULES = "section_rules"


def section_problems(problems: list[tuple[str, str]]) -> PydanticCustomError:
    """Every problem a section's validator found, as one pydantic error carrying (relative path, text) pairs;
    the formatter turns each into its own `<key path>: <text>` line."""
    return PydanticCustomError(SECTION_RULES, "{summary}",
                               {"summary": "; ".join(f"{p}: {t}" for p, t in problems), "problems": problems})


# --- field types --------------------------------------------------------------------------------------------

@functools.cache
def known_regions() -> frozenset[str]:
    """AWS commercial regions, from botocore's partition data rather than a hand-kept list."""
    from botocore.loaders import Loader

    partitions = Loader().load_data("partitions")["partitions"]
    return frozenset(region for partition in partitions if partition["id"] == "aws"
                     for region in partition["regions"] if region != "aws-global")


@functools.cache
def _public_suffixes() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def _account_id(v: str) -> str:
    if not re.fullmatch(r"[0-9]{12}", v):
        raise ValueError("is not a 12-digit AWS account id")
    return v


def _region(v: str) -> str:
    if v not in known_regions():
        raise ValueError("is not a known AWS region")
    return v


_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
#: The top-level label of a DNS name starts with a letter, so an IP address is never a domain.
_TLD = r"[a-z][a-z0-9-]{0,62}(?<!-)"


def _domain(v: str) -> str:
    if len(v) > 253 or not re.fullmatch(rf"{_LABEL}(\.{_LABEL})*\.{_TLD}", v):
        raise ValueError("is not a lower-case DNS domain name (labels of a-z, 0-9 and '-', dot-separated)")
    return v


#: Private IPv4 ranges (RFC 1918): what a VPC or the data centre's network may use.
RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _cidr(v: str) -> str:
    try:
        net = ipaddress.IPv4Network(v, strict=True)
    except ValueError as exc:
        raise ValueError(f"is not an IPv4 CIDR block ({exc})") from None
    if not any(net.subnet_of(private) for private in RFC1918):
        raise ValueError("is not inside a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    return str(net)


def _vpc_cidr(v: str) -> str:
    v = _cidr(v)
    if not 16 <= ipaddress.IPv4Network(v).prefixlen <= 28:
        raise ValueError("is not a valid VPC size (AWS allows /16 to /28)")
    return v


_IAM_NAME = r"[A-Za-z0-9+=,.@_-]"


def _role_arn(v: str) -> str:
    """One named IAM role: an exact role ARN, or an IAM Identity Center role whose generated suffix is `*`."""
    exact = rf"arn:aws:iam::[0-9]{{12}}:role/(?:{_IAM_NAME}+/)*{_IAM_NAME}{{1,64}}"
    identity_center = (r"arn:aws:iam::[0-9]{12}:role/aws-reserved/sso\.amazonaws\.com/(?:[a-z0-9-]+/)?"
                       rf"AWSReservedSSO_{_IAM_NAME}{{1,32}}_\*")
    if not (re.fullmatch(exact, v) or re.fullmatch(identity_center, v)):
        raise ValueError("is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/[<path>/]<name>, or an IAM "
                         "Identity Center role arn:aws:iam::<12-digit account>:role/aws-reserved/sso.amazonaws.com/"
                         "[<region>/]AWSReservedSSO_<permission set>_*)")
    return v


def _stack_ref(v: str) -> str:
    if not re.fullmatch(r"([A-Za-z0-9_.-]{1,100}/){0,2}[A-Za-z0-9_.-]{1,100}", v):
        raise ValueError("is not a stack reference ('org/project/stack' or 'stack')")
    return v


def _role_name(v: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_+=,.@-]{1,64}", v):
        raise ValueError("is not a valid IAM role name")
    return v


def _private_asn(v: int) -> int:
    if not (64512 <= v <= 65534 or 4200000000 <= v <= 4294967294):
        raise ValueError("is not a private ASN (64512-65534 or 4200000000-4294967294)")
    return v


def _asn(v: int) -> int:
    if not 1 <= v <= 4294967294:
        raise ValueError("is not a BGP ASN (1-4294967294)")
    return v


#: Ranges a VPN peer on the internet cannot have (the documentation ranges stay allowed for examples).
_NOT_PUBLIC = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3"))


def _public_ip(v: str) -> str:
    try:
        ip = ipaddress.IPv4Address(v)
    except ValueError:
        raise ValueError("is not an IPv4 address") from None
    if any(ip in net for net in _NOT_PUBLIC):
        raise ValueError("is not a public address (a VPN customer gateway is reached over the internet)")
    return v


def _ip(v: str) -> str:
    try:
        return str(ipaddress.IPv4Address(v))
    except ValueError:
        raise ValueError("is not an IPv4 address") from None


def _egress_domain(v: str) -> str:
    if not re.fullmatch(rf"\.?{_LABEL}(\.{_LABEL})*\.{_TLD}", v) or len(v) > 253:
        raise ValueError("is not a domain ('api.example.com', or '.example.com' for it and its subdomains)")
    if _public_suffixes().is_public(v.lstrip(".")):
        raise ValueError("is a public suffix: it would let out every domain registered under it")
    return v


AccountId = Annotated[str, AfterValidator(_account_id)]
Region = Annotated[str, AfterValidator(_region)]
DomainName = Annotated[str, AfterValidator(_domain)]
Cidr = Annotated[str, AfterValidator(_cidr)]
VpcCidr = Annotated[str, AfterValidator(_vpc_cidr)]
StackRef = Annotated[str, AfterValidator(_stack_ref)]
RoleName = Annotated[str, AfterValidator(_role_name)]
RoleArn = Annotated[str, AfterValidator(_role_arn)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,20}$")]
PrivateAsn = Annotated[int, AfterValidator(_private_asn)]
Asn = Annotated[int, AfterValidator(_asn)]
PublicIp = Annotated[str, AfterValidator(_public_ip)]
IpAddress = Annotated[str, AfterValidator(_ip)]
EgressDomain = Annotated[str, AfterValidator(_egress_domain)]
Email = Annotated[str, Field(pattern=r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", max_length=64)]


class _Model(BaseModel):
    """camelCase keys only, unknown keys refused, no coercion (validated from JSON in strict mode), frozen."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True, strict=True)


# --- enums --------------------------------------------------------------------------------------------------

class StackKind(StrEnum):
    """What a stack lays down: the organization-wide foundation, a workload environment or the sandbox."""

    FOUNDATION = "foundation"
    WORKLOAD = "workload"
    SANDBOX = "sandbox"


class Stage(StrEnum):
    PROD = "prod"
    NONPROD = "nonprod"


class DataClassification(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"


# --- sections shared by every kind --------------------------------------------------------------------------

class Tags(_Model):
    """Tags every resource carries, through each provider's `default_tags`."""

    owner: Annotated[str, Field(min_length=2, max_length=128)]
    cost_centre: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{2,32}$")]
    data_classification: DataClassification


class Accounts(_Model):
    """Account role -> AWS account id, for the roles this stack kind deploys into (each required)."""

    def by_role(self) -> dict[AccountRole, str]:
        return {AccountRole(to_camel(field)): getattr(self, field) for field in type(self).model_fields}


class FoundationAccounts(Accounts):
    organization: AccountId
    log_archive: AccountId
    security: AccountId


class WorkloadAccounts(Accounts):
    network: AccountId
    identity: AccountId
    api: AccountId


class SandboxAccounts(Accounts):
    network: AccountId
    sandbox: AccountId


#: The services a workload account can run (the Fargate deployables of services/openbanking/deployables.py).
ServiceName = Literal["ais", "pis", "events", "ingestion"]
#: Services that read the ledger (a copy of the system of record) and so need one in their account.
LEDGER_READERS = ("ais", "pis")
#: Services that use the Redis cache (AIS reads through it; ingestion invalidates it).
CACHE_USERS = ("ais", "ingestion")
#: Services a workload stack runs in exactly one account.
SINGLETON_SERVICES = ("ais", "pis", "events")

Digest = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
#: Fargate's task CPU units -> the memory (MiB) each accepts.
_FARGATE_MEMORY = {256: (512, 2048, 512), 512: (1024, 4096, 1024), 1024: (2048, 8192, 1024),
                   2048: (4096, 16384, 1024), 4096: (8192, 30720, 1024), 8192: (16384, 61440, 4096),
                   16384: (32768, 122880, 8192)}


def fargate_problems(cpu: int, memory: int, min_tasks: int, max_tasks: int) -> list[tuple[str, str]]:
    """(key, problem) for a task size Fargate does not run, or a task range out of order."""
    problems = []
    if cpu not in _FARGATE_MEMORY:
        problems.append(("cpu", f"{cpu} is not a Fargate size ({', '.join(map(str, _FARGATE_MEMORY))})"))
    else:
        low, high, step = _FARGATE_MEMORY[cpu]
        if not (low <= memory <= high and (memory - low) % step == 0):
            problems.append(("memory", f"{memory} does not go with cpu {cpu} (Fargate: {low}-{high} "
                             f"MiB in steps of {step})"))
    if max_tasks < min_tasks:
        problems.append(("maxTasks", f"{max_tasks} is below minTasks ({min_tasks})"))
    return problems


class ServiceSizing(_Model):
    """How one service runs: task size, how many tasks, and which image."""

    #: Fargate task CPU units (256, 512, 1024, ...).
    cpu: int = 512
    #: Task memory in MiB (a size Fargate pairs with `cpu`).
    memory: int = 1024
    #: Tasks autoscaling keeps at least and at most (CPU target tracking).
    min_tasks: Annotated[int, Field(ge=1, le=100)] = 2
    max_tasks: Annotated[int, Field(ge=1, le=100)] = 4
    #: The image digest CI promoted into the account's ECR repository; omitted: built at `pulumi up` (Docker).
    image: Digest | None = None

    @model_validator(mode="after")
    def _fits_fargate(self) -> Self:
        problems = fargate_problems(self.cpu, self.memory, self.min_tasks, self.max_tasks)
        if problems:
            raise section_problems(problems)
        return self


class EventsSizing(ServiceSizing):
    """The events service, and how hard its delivery Lambda may push on TPP callbacks."""

    #: Concurrent event-delivery Lambdas (reserved): the most callbacks in flight at once.
    delivery_concurrency: Annotated[int, Field(ge=1, le=100)] = 5


class WorkloadServices(_Model):
    """The services a workload account runs; each of ais, pis and events in exactly one account."""

    ais: ServiceSizing | None = None
    pis: ServiceSizing | None = None
    events: EventsSizing | None = None
    ingestion: ServiceSizing | None = None

    def names(self) -> list[ServiceName]:
        return [name for name in ("ais", "pis", "events", "ingestion") if getattr(self, name) is not None]


class AuroraSizing(_Model):
    """Aurora PostgreSQL Serverless v2: capacity, instances and backups of one cluster."""

    #: Capacity range in Aurora capacity units (0.5 steps; a minimum of 0 lets an idle cluster pause).
    min_capacity: Annotated[float, Field(ge=0, le=256, multiple_of=0.5)] = 0.5
    max_capacity: Annotated[float, Field(ge=1, le=256, multiple_of=0.5)] = 4
    #: Instances: the writer plus readers in other AZs.
    instances: Annotated[int, Field(ge=1, le=15)] = 1
    #: Days of automated backups.
    backup_retention_days: Annotated[int, Field(ge=1, le=35)] = 7

    @model_validator(mode="after")
    def _range_in_order(self) -> Self:
        if self.max_capacity < self.min_capacity:
            raise section_problems([("maxCapacity", f"{self.max_capacity} is below minCapacity ({self.min_capacity})")])
        return self


class LedgerSizing(AuroraSizing):
    """Aurora PostgreSQL Serverless v2: the account's copy of the system of record."""

    #: The migration task's image digest, promoted like the services'; omitted: built at `pulumi up`.
    migration_image: Digest | None = None


class CacheSizing(_Model):
    """ElastiCache Valkey: the ledger's read-through cache."""

    node_type: Annotated[str, Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")] = "cache.t4g.small"
    #: Replicas besides the primary (1 or more: Multi-AZ with automatic failover).
    replicas: Annotated[int, Field(ge=0, le=5)] = 0


class CoreBankingFeedSettings(_Model):
    """The broker core banking publishes ledger events to (one per stack)."""

    #: `msk` (Amazon MSK, IAM auth, shared across workload accounts) or `rabbitmq` (Amazon MQ, one account).
    type: Literal["msk", "rabbitmq"]
    #: Broker instance type: `kafka.*` for msk, `mq.*` for rabbitmq.
    instance_type: str
    #: MSK brokers in each availability zone.
    brokers_per_az: Annotated[int, Field(ge=1, le=10)] = 1
    #: MSK storage per broker in GiB.
    storage_gb: Annotated[int, Field(ge=1, le=16384)] = 100

    @model_validator(mode="after")
    def _instance_fits_type(self) -> Self:
        prefix = "kafka." if self.type == "msk" else "mq."
        if not re.fullmatch(rf"{re.escape(prefix)}[a-z0-9]+\.[a-z0-9]+", self.instance_type):
            raise section_problems([("instanceType", f"{as_written(self.instance_type)} is not a {self.type} "
                                     f"instance type ({prefix}<family>.<size>)")])
        return self


class Workload(_Model):
    """A workload account (e.g. `ais`, `pis`): Open Banking services in their own account."""

    account_id: AccountId
    vpc_cidr: VpcCidr
    description: Annotated[str, Field(min_length=3, max_length=200)]
    #: What the account runs.
    services: WorkloadServices = WorkloadServices()
    #: Its copy of the ledger: required where ais, pis or ingestion run.
    ledger: LedgerSizing | None = None
    #: Its cache: required where ais or ingestion run.
    cache: CacheSizing | None = None
    #: The stack's core-banking feed, in exactly one account that runs ingestion.
    core_banking_feed: CoreBankingFeedSettings | None = None

    @model_validator(mode="after")
    def _stores_follow_services(self) -> Self:
        names = self.services.names()
        readers = [n for n in names if n in LEDGER_READERS]
        problems = []
        if readers and "ingestion" not in names:
            problems.append(("services.ingestion", f"is required where {' and '.join(readers)} run (it fills this "
                             "account's copy of the ledger)"))
        ledger_users = [n for n in names if n in (*LEDGER_READERS, "ingestion")]
        if ledger_users and self.ledger is None:
            problems.append(("ledger", f"is required where {', '.join(ledger_users)} run (this account's copy of "
                             "the ledger)"))
        if not ledger_users and self.ledger is not None:
            problems.append(("ledger", "is not used: no ledger service (ais, pis, ingestion) runs here"))
        cache_users = [n for n in names if n in CACHE_USERS]
        if cache_users and self.cache is None:
            problems.append(("cache", f"is required where {', '.join(cache_users)} run"))
        if not cache_users and self.cache is not None:
            problems.append(("cache", "is not used: neither ais nor ingestion runs here"))
        if self.core_banking_feed is not None and "ingestion" not in names:
            problems.append(("coreBankingFeed", "belongs in an account that runs ingestion"))
        if problems:
            raise section_problems(problems)
        return self


# --- network -----------------------------------------------------------------------------------------------

def subnet_plan_problem(cidr: str, tiers: int, azs: int) -> str | None:
    """Why `cidr` cannot hold `tiers` subnets per AZ of at least /MIN_SUBNET_PREFIX, or None if it can."""
    net = ipaddress.IPv4Network(cidr)
    needed_prefix = MIN_SUBNET_PREFIX - math.ceil(math.log2(tiers * azs))
    if net.prefixlen <= needed_prefix:
        return None
    return (f"{as_written(cidr)} cannot hold {tiers} subnet tiers x {azs} availability zones of at least "
            f"/{MIN_SUBNET_PREFIX} (needs /{needed_prefix} or larger)")


class TransitVirtualInterface(_Model):
    """A transit VIF to create on a dedicated Direct Connect connection that already exists."""

    name: Name
    connection_id: Annotated[str, Field(pattern=r"^dxcon-[a-z0-9]{8}$")]
    vlan: Annotated[int, Field(ge=1, le=4094)]
    customer_asn: Asn
    mtu: Literal[1500, 8500] = 8500


class DirectConnect(_Model):
    """The Direct Connect gateway (associated with the TGW) and the virtual interfaces that reach it."""

    gateway_asn: PrivateAsn
    transit_virtual_interfaces: list[TransitVirtualInterface] = Field(default_factory=list)
    #: Transit VIFs a partner created on a hosted connection, accepted onto the gateway.
    hosted_virtual_interface_ids: list[Annotated[str, Field(pattern=r"^dxvif-[a-z0-9]{8}$")]] = \
        Field(default_factory=list)


class CustomerGateway(_Model):
    """One of the data centre's VPN devices."""

    name: Name
    ip_address: PublicIp
    bgp_asn: Asn


class Vpn(_Model):
    """Site-to-Site VPN to the TGW, the backup of Direct Connect: one connection per customer gateway."""

    customer_gateways: Annotated[list[CustomerGateway], Field(min_length=1)]


class OnPremisesDns(_Model):
    """The data centre's DNS: the domains it answers for and the resolvers Route 53 forwards to."""

    domains: Annotated[list[DomainName], Field(min_length=1)]
    resolver_ips: Annotated[list[IpAddress], Field(min_length=1, max_length=6)]


class EgressProxy(_Model):
    """The Squid fleet (EC2 Auto Scaling, Graviton)."""

    instance_type: Annotated[str, Field(pattern=r"^[a-z]+[0-9]+g[a-z]*\.[a-z0-9]+$")] = "t4g.small"
    min_size: Annotated[int, Field(ge=1, le=20)] = 2
    max_size: Annotated[int, Field(ge=1, le=50)] = 4

    @model_validator(mode="after")
    def _sizes_in_order(self) -> Self:
        if self.max_size < self.min_size:
            raise section_problems([("maxSize", f"{self.max_size} is below minSize ({self.min_size})")])
        return self


def _covers(wildcard: str, domain: str) -> bool:
    """`.example.com` covers example.com and every name under it."""
    return wildcard.startswith(".") and (domain.lstrip(".") == wildcard[1:] or domain.endswith(wildcard))


def _overlap(a: str, b: str) -> bool:
    """Whether two allow-list entries name a host in common."""
    return a.lstrip(".") == b.lstrip(".") or _covers(a, b) or _covers(b, a)


class Network(_Model):
    """What every network hub has: its CIDR plan, routing and egress allow-list."""

    availability_zones: Annotated[int, Field(ge=1, le=4)]
    egress_vpc_cidr: VpcCidr
    #: The data centre's ranges: validated against (no overlap) and blackholed where a segment must not reach them.
    on_premises_cidrs: list[Cidr] = Field(default_factory=list)
    transit_gateway_asn: PrivateAsn = 64512
    #: One NAT gateway (and firewall lane) per AZ; default: in prod only.
    nat_gateway_per_az: bool | None = None
    #: Domains the firewall and the proxy let out (TLS SNI / HTTP Host); everything else is dropped.
    #: At most as many as the firewall's allow-list rule group holds.
    egress_allowed_domains: Annotated[list[EgressDomain], Field(max_length=MAX_ALLOWED_DOMAINS)] = Field(
        default_factory=list)
    #: The TPPs' event-notification callback domains (the bank onboards them): let out over HTTPS to the account
    #: running the events service only, and the only hosts a subscription's `CallbackUrl` may name. At most as many
    #: as the firewall's callback rule group holds.
    callback_domains: Annotated[list[EgressDomain], Field(max_length=CALLBACK_CAPACITY)] = Field(
        default_factory=list)
    egress_proxy: EgressProxy = EgressProxy()

    def nat_per_az(self, stage: Stage) -> bool:
        return self.nat_gateway_per_az if self.nat_gateway_per_az is not None else stage is Stage.PROD

    def spoke_cidrs(self) -> dict[str, str]:
        """camelCase key -> CIDR of the spoke VPCs this section plans (the workload VPCs are elsewhere)."""
        return {}

    def detached_cidrs(self) -> dict[str, str]:
        """camelCase key -> CIDR of the VPCs this section plans outside the Transit Gateway (the ingress VPC)."""
        return {}

    def vpc_plans(self) -> dict[str, tuple[str, int]]:
        """camelCase key -> (CIDR, subnet tiers) of every VPC this section plans."""
        return {"egressVpcCidr": (self.egress_vpc_cidr, len(EGRESS_TIERS)),
                **{key: (cidr, len(SPOKE_TIERS)) for key, cidr in self.spoke_cidrs().items()},
                **{key: (cidr, len(INGRESS_TIERS)) for key, cidr in self.detached_cidrs().items()}}

    @field_validator("egress_allowed_domains", "callback_domains")
    @classmethod
    def _each_domain_once(cls, domains: list[str], info: ValidationInfo) -> list[str]:
        """Squid refuses overlapping `dstdomain` entries, so each list names each domain once."""
        key = "egressAllowedDomains" if info.field_name == "egress_allowed_domains" else "callbackDomains"
        problems = []
        for i, domain in enumerate(domains):
            for j, earlier in enumerate(domains[:i]):
                if _overlap(earlier, domain):
                    problems.append((f"[{i}]", f"{as_written(domain)} overlaps network.{key}[{j}] "
                                     f"({as_written(earlier)}); list each domain once (a leading dot already "
                                     "covers subdomains)"))
                    break
        if problems:
            raise section_problems(problems)
        return domains

    @model_validator(mode="after")
    def _callbacks_apart_from_the_allow_list(self) -> Self:
        """A callback domain is let out to one account only; on the general allow-list it would be open to all."""
        problems = [(f"callbackDomains[{i}]", f"{as_written(domain)} overlaps network.egressAllowedDomains[{j}] "
                     f"({as_written(allowed)}); a TPP callback domain is let out to the events service only, so it "
                     "cannot be on the general allow-list too")
                    for i, domain in enumerate(self.callback_domains)
                    for j, allowed in enumerate(self.egress_allowed_domains) if _overlap(allowed, domain)]
        if problems:
            raise section_problems(problems)
        return self

    @model_validator(mode="after")
    def _vpcs_fit_the_azs(self) -> Self:
        """Each VPC holds its subnet tiers in every AZ: the very plan the VPC components carve."""
        problems = [(key, problem) for key, (cidr, tiers) in self.vpc_plans().items()
                    if (problem := subnet_plan_problem(cidr, tiers, self.availability_zones))]
        if problems:
            raise section_problems(problems)
        return self


#: At most this many prefixes may be advertised over one Direct Connect gateway association.
MAX_DX_ALLOWED_PREFIXES = 20


class WorkloadNetwork(Network):
    """A workload environment's network: the identity and api VPCs, and the links to the data centre."""

    identity_vpc_cidr: VpcCidr
    api_vpc_cidr: VpcCidr
    #: The ingress VPC of the network account: the public NLB third parties reach `auth.<domain>` through,
    #: passing TLS through to the identity account over PrivateLink. Never attached to the Transit Gateway.
    #: Required with `identity.provider: keycloak`, refused otherwise.
    ingress_vpc_cidr: VpcCidr | None = None
    direct_connect: DirectConnect | None = None
    vpn: Vpn | None = None
    on_premises_dns: OnPremisesDns | None = None

    def spoke_cidrs(self) -> dict[str, str]:
        return {"identityVpcCidr": self.identity_vpc_cidr, "apiVpcCidr": self.api_vpc_cidr}

    def detached_cidrs(self) -> dict[str, str]:
        return {"ingressVpcCidr": self.ingress_vpc_cidr} if self.ingress_vpc_cidr is not None else {}

    @model_validator(mode="after")
    def _hybrid_links_fit_together(self) -> Self:
        """Direct Connect, VPN and the data centre's DNS need the data centre's ranges, and BGP needs
        distinct ASNs on every side."""
        problems: list[tuple[str, str]] = []
        links = [key for key, value in (("directConnect", self.direct_connect), ("vpn", self.vpn),
                                        ("onPremisesDns", self.on_premises_dns)) if value is not None]
        onprem = [ipaddress.IPv4Network(c) for c in self.on_premises_cidrs]
        if links and not onprem:
            problems.append(("onPremisesCidrs", f"is required when {', '.join(f'network.{k}' for k in links)} "
                             "is configured (the data centre's ranges are routed in the onprem segment)"))
        if self.on_premises_dns is not None and onprem:
            for i, ip in enumerate(self.on_premises_dns.resolver_ips):
                if not any(ipaddress.IPv4Address(ip) in n for n in onprem):
                    problems.append((f"onPremisesDns.resolverIps[{i}]", f"{as_written(ip)} is not in "
                                     "network.onPremisesCidrs; the resolvers must be reachable over Direct Connect / VPN"))
        problems += self._asn_clashes()
        if problems:
            raise section_problems(problems)
        return self

    def _asn_clashes(self) -> Iterator[tuple[str, str]]:
        amazon = {"transitGatewayAsn": self.transit_gateway_asn}
        if self.direct_connect is not None:
            amazon["directConnect.gatewayAsn"] = self.direct_connect.gateway_asn
        peers = list(amazon.items())
        peers += [(f"vpn.customerGateways[{i}].bgpAsn", c.bgp_asn)
                  for i, c in enumerate(self.vpn.customer_gateways if self.vpn else [])]
        peers += [(f"directConnect.transitVirtualInterfaces[{i}].customerAsn", v.customer_asn)
                  for i, v in enumerate(self.direct_connect.transit_virtual_interfaces if self.direct_connect else [])]
        for path, value in peers:
            for other, asn in amazon.items():
                if path != other and value == asn:
                    yield (path, f"{value} is the ASN of network.{other}; each side of a BGP session needs its own ASN")


class SandboxNetwork(Network):
    """The sandbox's network: one spoke VPC, egress only; it never links to the data centre."""

    sandbox_vpc_cidr: VpcCidr

    def spoke_cidrs(self) -> dict[str, str]:
        return {"sandboxVpcCidr": self.sandbox_vpc_cidr}


# --- foundation ----------------------------------------------------------------------------------------------

class AccountCreation(_Model):
    """Have the organization create this account (the default is to adopt the existing id)."""

    email: Email
    name: Annotated[str, Field(min_length=1, max_length=50)]


class LogArchiveSettings(_Model):
    """Retention of the central log buckets: Object Lock (compliance mode) and the lifecycle after it."""

    object_lock_days: Annotated[int, Field(ge=1, le=36500)] = 2557
    #: A second region of `allowedRegions` the trail and Config buckets replicate to (same Object Lock, a key
    #: of that region); None: no replica (refused in prod).
    replica_region: Region | None = None
    infrequent_access_after_days: Annotated[int, Field(ge=30)] = 90
    glacier_after_days: Annotated[int, Field(ge=31)] = 365
    expire_after_days: Annotated[int, Field(ge=1, le=36500)] = 2557

    @model_validator(mode="after")
    def _lifecycle_in_order(self) -> Self:
        problems = []
        if self.glacier_after_days < self.infrequent_access_after_days + 30:
            problems.append(("glacierAfterDays", f"{self.glacier_after_days} must be at least 30 days after "
                             f"infrequentAccessAfterDays ({self.infrequent_access_after_days}); S3 keeps objects "
                             "30 days in infrequent access"))
        if self.expire_after_days <= self.glacier_after_days:
            problems.append(("expireAfterDays", f"{self.expire_after_days} must be later than glacierAfterDays "
                             f"({self.glacier_after_days})"))
        if self.expire_after_days < self.object_lock_days:
            problems.append(("expireAfterDays", f"{self.expire_after_days} is shorter than objectLockDays "
                             f"({self.object_lock_days}); logs cannot expire while Object Lock still retains them"))
        if problems:
            raise section_problems(problems)
        return self


class TrailSettings(_Model):
    """Data events the organization trail records on top of every management event."""

    data_event_bucket_names: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]] = \
        Field(default_factory=list)
    data_event_table_arns: list[Annotated[str, Field(
        pattern=r"^arn:aws:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$")]] = Field(default_factory=list)


class OpenSearchSettings(_Model):
    """The log analytics domain in the log archive account and the small private VPC it lives in."""

    instance_type: Annotated[str, Field(pattern=r"^[a-z0-9]+\.[a-z0-9]+\.search$")] = "r6g.large.search"
    instance_count: Annotated[int, Field(ge=1, le=80)] = 2
    dedicated_master_type: Annotated[str, Field(pattern=r"^[a-z0-9]+\.[a-z0-9]+\.search$")] | None = None
    dedicated_master_count: Literal[3, 5] = 3
    volume_size_gb: Annotated[int, Field(ge=10, le=16384)] = 100
    availability_zones: Annotated[int, Field(ge=1, le=3)] = 2
    vpc_cidr: VpcCidr = "10.255.0.0/24"
    engine_version: Annotated[str, Field(pattern=r"^OpenSearch_[0-9]+\.[0-9]+$")] = "OpenSearch_2.19"
    #: The roles that may assume the domain's master role (trusted by `aws:PrincipalArn`): a break-glass role,
    #: an IAM Identity Center permission set's role (its generated suffix as `*`); never a whole account.
    administrator_role_arns: Annotated[list[RoleArn], Field(min_length=1, json_schema_extra={
        "requiredBecause": "the roles that may assume the domain's master role: a break-glass or IAM Identity "
                           "Center role, never a whole account"})]

    @model_validator(mode="after")
    def _nodes_spread_evenly(self) -> Self:
        if self.availability_zones > 1 and self.instance_count % self.availability_zones:
            raise section_problems([("instanceCount", f"{self.instance_count} is not a multiple of "
                                     f"availabilityZones ({self.availability_zones}); zone awareness needs the "
                                     "same number of data nodes in every zone")])
        return self


class FoundationSettings(_Model):
    """What only the foundation stack configures: guardrails, central logging, detective controls."""

    allowed_regions: Annotated[list[Region], Field(min_length=1)]
    log_archive: LogArchiveSettings = LogArchiveSettings()
    trail: TrailSettings = TrailSettings()
    #: The log analytics domain: its administrators have no default.
    open_search: Annotated[OpenSearchSettings, Field(json_schema_extra={
        "requiredBecause": "the log analytics domain and who administers it"})]
    macie: bool = True
    guardduty_malware_protection: bool = True
    #: Role (logArchive, security) -> create the account; roles not listed are adopted by id.
    account_creation: dict[Literal["logArchive", "security"], AccountCreation] = Field(default_factory=dict)
    backup_retention_days: Annotated[int, Field(ge=7, le=36500)] = 35


# --- one model per stack kind --------------------------------------------------------------------------------

def _required_because(reason: str) -> Any:
    """Field metadata: why a kind needs the field (the error message for a missing one says so)."""
    return Field(json_schema_extra={"requiredBecause": reason})


class _Environment(_Model):
    """What every stack's config has."""

    name: Name
    stage: Stage
    region: Region
    deploy_role_name: RoleName = "OpenBankingLandingZoneDeployer"
    protect_stateful_resources: bool = True
    log_retention_days: Annotated[int, Field(ge=1, le=3653)] = 400
    tags: Tags


class FoundationConfig(_Environment):
    """The organization-wide foundation: management, log archive and security accounts."""

    kind: Literal["foundation"]
    organization_id: Annotated[str, Field(pattern=r"^o-[a-z0-9]{10,32}$"),
                               _required_because("the AWS Organization id, o-...")]
    accounts: FoundationAccounts
    foundation: Annotated[FoundationSettings, _required_because("allowed regions, log retention, OpenSearch")]


PcaArn = Annotated[str, Field(pattern=r"^arn:aws:acm-pca:[a-z0-9-]+:[0-9]{12}:certificate-authority/[0-9a-f-]{36}$")]


class AlarmThresholds(_Model):
    """When the workload accounts' alarms fire."""

    #: p99 latency of a service's requests, in milliseconds (OBIE's benchmark: 750 ms mean time to last byte).
    p99_latency_ms: Annotated[int, Field(ge=50, le=30000)] = 1000
    #: Share of a service's requests answered 5xx, in percent.
    server_error_percent: Annotated[float, Field(gt=0, le=100)] = 1.0
    #: Messages waiting on any dead-letter queue.
    dead_letters: Annotated[int, Field(ge=1)] = 1
    #: Seconds the ingestion consumers may lag behind core banking (MSK EstimatedMaxTimeLag).
    feed_lag_seconds: Annotated[int, Field(ge=10)] = 300


def _jwks_template(v: str) -> str:
    if not re.fullmatch(r"https://[a-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~/{}-]*", v) or "{tpp_id}" not in v:
        raise ValueError("is not an https URL template with {tpp_id} in it (a TPP's signing JWKS)")
    return v


class OpenBankingSettings(_Model):
    """The ASPSP in the Open Banking ecosystem."""

    #: The ASPSP's Open Banking organisation id: `x-fapi-financial-id`, the `iss` of its signatures.
    financial_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{18}$")]
    #: Where the directory publishes a TPP's signing keys; `{tpp_id}` is replaced by the TPP's organisation id.
    tpp_jwks_url_template: Annotated[str, AfterValidator(_jwks_template)]

    def tpp_directory_host(self) -> str:
        return self.tpp_jwks_url_template.split("/")[2].split(":")[0]


class Perimeter(StrEnum):
    """How a TPP's request reaches the REST API (docs/edge.md)."""

    #: API Gateway's own mutual-TLS domain, WAF on the stage.
    REGIONAL = "regional"
    #: CloudFront (viewer mutual TLS, WAF, Shield Advanced) in front of the API, which admits CloudFront only.
    CLOUDFRONT = "cloudfront"


#: What API Gateway accepts as a truststore (bytes).
MAX_TRUSTSTORE_BYTES = 1024 * 1024


def truststore_certificates(path: str) -> list[x509.Certificate]:
    """The CA certificates of a PEM bundle the config names, each checked; ValueError says what is wrong."""
    file = (PROJECT_DIR / path).resolve()
    if not file.is_file():
        raise ValueError(f"is not a file (looked for {file})")
    data = file.read_bytes()
    if len(data) > MAX_TRUSTSTORE_BYTES:
        raise ValueError(f"is {len(data)} bytes; an API Gateway truststore holds at most {MAX_TRUSTSTORE_BYTES}")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ValueError("holds no PEM certificate, or one that does not parse") from None
    now = datetime.now(UTC)
    for index, certificate in enumerate(certificates):
        subject = certificate.subject.rfc4514_string()
        try:
            is_ca = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            raise ValueError(f"certificate {index} ({subject}) is not a CA certificate (basicConstraints CA:TRUE)")
        if certificate.not_valid_after_utc < now:
            raise ValueError(f"certificate {index} ({subject}) expired on {certificate.not_valid_after_utc:%Y-%m-%d}")
    return certificates


def _truststore_bundle(v: str) -> str:
    truststore_certificates(v)
    return v


UsEast1PcaArn = Annotated[str, Field(
    pattern=r"^arn:aws:acm-pca:us-east-1:[0-9]{12}:certificate-authority/[0-9a-f-]{36}$")]


class EdgeSettings(_Model):
    """How third parties reach the APIs: the api account's edge."""

    #: `regional` or `cloudfront`; omitted: `cloudfront` in prod (Shield Advanced), `regional` otherwise.
    perimeter: Perimeter | None = None
    #: PEM bundle (path relative to the project) of the CAs TPP client certificates chain to: the directory's
    #: issuing CAs and the eIDAS QTSPs the bank accepts. A new bundle is a new truststore version.
    truststore_bundle: Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_truststore_bundle)]
    #: Steady requests per second and burst across the API's methods (API Gateway throttling).
    throttle_rate: Annotated[float, Field(gt=0, le=10000)] = 100.0
    throttle_burst: Annotated[int, Field(ge=1, le=5000)] = 200
    #: Requests one client IP may make in 5 minutes before WAF answers 429.
    rate_limit_per_ip: Annotated[int, Field(ge=10, le=2_000_000_000)] = 1000
    #: Largest request body, in KiB, WAF lets through (413 above it); WAF inspects at most 16 KiB.
    max_request_body_kib: Annotated[int, Field(ge=1, le=16)] = 16
    #: Protect the perimeter and the hosted zone with Shield Advanced (subscribing is a one-year commitment);
    #: omitted: on with the `cloudfront` perimeter. Shield cannot protect a regional API.
    shield_advanced: bool | None = None
    #: With `cloudfront`: the ACM Private CA in us-east-1 that issues CloudFront's origin client certificate
    #: (the only CA the API domain then trusts).
    origin_certificate_authority_arn: UsEast1PcaArn | None = None

    def perimeter_of(self, stage: Stage) -> Perimeter:
        if self.perimeter is not None:
            return self.perimeter
        return Perimeter.CLOUDFRONT if stage is Stage.PROD else Perimeter.REGIONAL

    def shield_of(self, stage: Stage) -> bool:
        if self.shield_advanced is not None:
            return self.shield_advanced
        return self.perimeter_of(stage) is Perimeter.CLOUDFRONT


# --- identity -----------------------------------------------------------------------------------------------

def _https_url(v: str) -> str:
    """An absolute https URL of a DNS host (no user info, query or fragment): what an OAuth endpoint, an issuer or a
    JWKS location must be."""
    parts = urlsplit(v)
    host = parts.hostname or ""
    if parts.scheme != "https" or not host or parts.username or parts.password or parts.query or parts.fragment \
            or not re.fullmatch(rf"{_LABEL}(\.{_LABEL})*\.{_TLD}", host) or "*" in v or len(v) > 2000:
        raise ValueError("is not an https URL of a DNS name (no user info, query, fragment or wildcard)")
    try:
        parts.port  # noqa: B018 - a bad port raises
    except ValueError:
        raise ValueError("is not an https URL of a DNS name (its port is not a number)") from None
    return v


def _redirect_uri(v: str) -> str:
    """FAPI: redirect URIs are https and matched exactly, so no wildcard and no fragment (a query is allowed)."""
    parts = urlsplit(v)
    host = parts.hostname or ""
    if parts.scheme != "https" or not host or parts.fragment or parts.username or "*" in v or len(v) > 2000 \
            or not re.fullmatch(rf"{_LABEL}(\.{_LABEL})*\.{_TLD}", host):
        raise ValueError("is not an exact https redirect URI (a DNS host, no fragment, user info or wildcard)")
    return v


HttpsUrl = Annotated[str, AfterValidator(_https_url)]
RedirectUri = Annotated[str, AfterValidator(_redirect_uri)]

#: `<registry account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest>`: an image in the bank's ECR
#: registry, pinned by digest (Fargate pulls it through the VPC's ECR endpoints; nothing from the internet).
ECR_IMAGE = re.compile(r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9])\.amazonaws\.com/"
                       r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)@(?P<digest>sha256:[0-9a-f]{64})$")


def _ecr_image(v: str) -> str:
    if len(v) > 400 or not ECR_IMAGE.match(v):
        raise ValueError("is not an image in an ECR registry pinned by digest "
                         "(<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits>)")
    return v


EcrImage = Annotated[str, AfterValidator(_ecr_image)]
#: The organisation id of an Open Banking participant (the directory's 18-character id).
OrganisationId = Annotated[str, Field(pattern=r"^[0-9A-Za-z]{18}$")]
#: Names the realm file may hold (Keycloak realm names and client ids).
RealmName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,30}$")]
ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")]
#: The ETSI organisation identifier of an eIDAS or OBWAC certificate: `PSDGB-OB-<org id>` and the like.
_PSD2_ORGANISATION = re.compile(r"^PSD[A-Z]{2}-[A-Z]{2,8}-(?P<id>.+)$")


def organisation_of_subject(subject: str) -> str | None:
    """The organisation a client certificate's subject names, as the services read it from the certificate
    (`openbanking.security.certificates.tpp_id_of`): `organizationIdentifier` (`PSDGB-OB-<id>` -> `<id>`), else
    the OU. ValueError when `subject` is not an RFC 4514 distinguished name."""
    try:
        name = x509.Name.from_rfc4514_string(subject, {"organizationIdentifier": NameOID.ORGANIZATION_IDENTIFIER})
    except ValueError:
        raise ValueError("is not an RFC 4514 distinguished name (e.g. 'CN=<software id>,OU=<org id>,O=OpenBanking,"
                         "C=GB')") from None
    for attribute in name.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER):
        value = str(attribute.value).strip()
        match = _PSD2_ORGANISATION.match(value)
        return match.group("id") if match else value
    for attribute in name.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME):
        return str(attribute.value).strip() or None
    return None


class RealmSettings(_Model):
    """The Keycloak realm third parties use (generated from this and `clients`: components/keycloak_realm.py)."""

    #: The realm's name: the issuer is `https://auth.<domain>/realms/<name>`.
    name: RealmName = "openbanking"
    #: Seconds an access token is valid (FAPI: short-lived, since a bearer of a stolen certificate could use it).
    access_token_lifespan_seconds: Annotated[int, Field(ge=60, le=900)] = 300
    #: Seconds an authorization code is valid (it is exchanged at once).
    authorization_code_lifespan_seconds: Annotated[int, Field(ge=10, le=120)] = 60
    #: Seconds a pushed authorization request's `request_uri` is valid (RFC 9126).
    par_request_uri_lifespan_seconds: Annotated[int, Field(ge=10, le=600)] = 60
    #: Seconds a CIBA authentication request waits for the PSU's decision.
    ciba_expires_in_seconds: Annotated[int, Field(ge=30, le=600)] = 120
    #: Seconds a CIBA client waits between polls of the token endpoint.
    ciba_poll_interval_seconds: Annotated[int, Field(ge=1, le=60)] = 5
    #: Seconds a PSU's session may stay idle, and at most lasts.
    sso_session_idle_seconds: Annotated[int, Field(ge=60, le=3600)] = 600
    sso_session_max_seconds: Annotated[int, Field(ge=300, le=86400)] = 1800

    @model_validator(mode="after")
    def _session_in_order(self) -> Self:
        if self.sso_session_max_seconds < self.sso_session_idle_seconds:
            raise section_problems([("ssoSessionMaxSeconds", f"{self.sso_session_max_seconds} is below "
                                     f"ssoSessionIdleSeconds ({self.sso_session_idle_seconds})")])
        return self


class ThirdPartyClient(_Model):
    """A third party's OAuth client, registered by config until dynamic client registration exists."""

    #: The client id (the directory's software statement id).
    client_id: ClientId
    #: The TPP's Open Banking organisation id: the `org_id` claim of its tokens, and the organisation its
    #: certificate's subject names.
    organisation_id: OrganisationId
    #: The subject of the TPP's transport certificate (RFC 4514), matched exactly by `tls_client_auth`.
    certificate_subject_dn: Annotated[str, Field(min_length=3, max_length=1024)]
    #: Where the TPP publishes its signing keys (request objects, client assertions): the directory's keystore.
    jwks_uri: HttpsUrl
    #: The redirect URIs, matched exactly.
    redirect_uris: Annotated[list[RedirectUri], Field(min_length=1, max_length=20)]
    #: The OBIE scopes it may ask for (`accounts`, `payments`, `fundsconfirmations`).
    scopes: Annotated[list[str], Field(min_length=1)]
    #: How it authenticates at the token endpoint: its certificate (`tls_client_auth`) or a JWT signed with a key
    #: of its JWKS (`private_key_jwt`). Either way its tokens are bound to its certificate.
    authentication: Literal["tls_client_auth", "private_key_jwt"] = "tls_client_auth"
    #: The algorithm its request objects and client assertions are signed with.
    signing_algorithm: Literal["PS256", "ES256"] = "PS256"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[tuple[str, str]] = []
        try:
            organisation = organisation_of_subject(self.certificate_subject_dn)
        except ValueError as exc:
            problems.append(("certificateSubjectDn", f"{as_written(self.certificate_subject_dn)} {exc}"))
        else:
            if organisation != self.organisation_id:
                problems.append(("certificateSubjectDn", f"{as_written(self.certificate_subject_dn)} names the "
                                 f"organisation {as_written(organisation)}, not organisationId "
                                 f"{as_written(self.organisation_id)}; the services refuse tokens whose org_id differs "
                                 "from the certificate's organisation"))
        for i, scope in enumerate(self.scopes):
            if scope not in API_SCOPES:
                problems.append((f"scopes[{i}]", f"{as_written(scope)} is not an OBIE API scope "
                                 f"({', '.join(API_SCOPES)})"))
            elif scope in self.scopes[:i]:
                problems.append((f"scopes[{i}]", f"{as_written(scope)} is listed twice"))
        for i, uri in enumerate(self.redirect_uris):
            if uri in self.redirect_uris[:i]:
                problems.append((f"redirectUris[{i}]", f"{as_written(uri)} is listed twice"))
        if problems:
            raise section_problems(problems)
        return self


class MtlsEndpointAliases(_Model):
    """RFC 8705 `mtls_endpoint_aliases` an external IdP publishes: the endpoints a TPP calls with its certificate."""

    token_endpoint: HttpsUrl
    pushed_authorization_request_endpoint: HttpsUrl | None = None
    userinfo_endpoint: HttpsUrl | None = None
    revocation_endpoint: HttpsUrl | None = None
    introspection_endpoint: HttpsUrl | None = None
    backchannel_authentication_endpoint: HttpsUrl | None = None
    registration_endpoint: HttpsUrl | None = None

    def metadata(self) -> dict[str, str]:
        """The aliases under their RFC 8705 metadata names (`token_endpoint`, ...)."""
        return {name: value for name, value in self.model_dump().items() if value is not None}


#: The keys each provider uses (the other provider's are refused).
_KEYCLOAK_KEYS = ("image", "cpu", "memory", "minTasks", "maxTasks", "database", "realm", "clients")
_EXTERNAL_KEYS = ("issuer", "jwksUrl", "mtlsEndpointAliases")


class IdentitySettings(_Model):
    """The OAuth 2.0 / OpenID Connect provider that issues third parties their access tokens [13]: Keycloak in the
    identity account, or an IdP the bank already runs (`external`), whose issuer and keys the edge then trusts."""

    #: `keycloak` (built here) or `external` (only the wiring: the authorizer trusts its issuer and JWKS).
    provider: Literal["keycloak", "external"]

    # keycloak
    #: The Keycloak image in the bank's ECR registry, by digest (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:
    #: <digest>`), built from keycloak/Dockerfile by the bank's CI. Nothing is pulled from the internet.
    image: EcrImage | None = None
    #: Fargate task CPU units and memory (MiB) of each Keycloak task.
    cpu: int = 1024
    memory: int = 2048
    #: Tasks autoscaling keeps between (prod: 2 at least, spread over the AZs).
    min_tasks: Annotated[int, Field(ge=1, le=20)] = 2
    max_tasks: Annotated[int, Field(ge=1, le=20)] = 4
    #: Keycloak's database (Aurora PostgreSQL Serverless v2).
    database: AuroraSizing = AuroraSizing()
    #: The realm's settings.
    realm: RealmSettings = RealmSettings()
    #: The third parties' clients (until dynamic client registration exists).
    clients: list[ThirdPartyClient] = Field(default_factory=list)

    # external
    #: The external IdP's issuer (`iss` of its access tokens).
    issuer: HttpsUrl | None = None
    #: Its JWKS URL (the authorizer fetches it through the egress proxy).
    jwks_url: HttpsUrl | None = None
    #: Its mutual-TLS endpoint aliases, as it publishes them.
    mtls_endpoint_aliases: MtlsEndpointAliases | None = None

    @model_validator(mode="after")
    def _fits_the_provider(self) -> Self:
        given = {to_camel(name) for name in self.model_fields_set}
        problems: list[tuple[str, str]] = []
        keycloak = self.provider == "keycloak"
        for key in sorted(given & set(_EXTERNAL_KEYS if keycloak else _KEYCLOAK_KEYS)):
            problems.append((key, f"is only used with provider {'external' if keycloak else 'keycloak'}; this "
                             f"identity's provider is {self.provider}"))
        required = ("image",) if keycloak else ("issuer", "jwksUrl", "mtlsEndpointAliases")
        for key in required:
            if getattr(self, _snake(key)) is None:
                why = ("the Keycloak image in the bank's registry, by digest" if keycloak else
                       "what the API edge trusts the external IdP by")
                problems.append((key, f"is required with provider {self.provider} ({why})"))
        if keycloak:
            problems += fargate_problems(self.cpu, self.memory, self.min_tasks, self.max_tasks)
            ids = [c.client_id for c in self.clients]
            problems += [(f"clients[{i}].clientId", f"{as_written(cid)} is already clients[{ids.index(cid)}]'s")
                         for i, cid in enumerate(ids) if cid in ids[:i]]
        if problems:
            raise section_problems(problems)
        return self


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


class WorkloadConfig(_Environment):
    """A workload environment (dev, prod): network hub, identity, api and the workload accounts."""

    kind: Literal["workload"]
    domain: Annotated[DomainName, _required_because("the Open Banking API domain")]
    foundation_stack: Annotated[StackRef, _required_because("it reads the log archive from it")]
    accounts: WorkloadAccounts
    workloads: Annotated[dict[Name, Workload], Field(min_length=1),
                         _required_because("at least one workload account, e.g. ais, pis")]
    network: Annotated[WorkloadNetwork, _required_because("its CIDR plan")]
    open_banking: Annotated[OpenBankingSettings, _required_because("the ASPSP's organisation id and the TPP directory")]
    #: The bank's private CA (ACM Private CA, shared by RAM) that issues the services' internal TLS certificates.
    internal_certificate_authority_arn: Annotated[
        PcaArn, _required_because("the private CA that issues the services' TLS certificates")]
    alarms: AlarmThresholds = AlarmThresholds()
    edge: Annotated[EdgeSettings, _required_because("the TPPs' CA bundle (the API's truststore)")]
    identity: Annotated[IdentitySettings, _required_because(
        "the IdP that issues third parties their tokens: provider keycloak or external")]


class SandboxServiceSizing(ServiceSizing):
    """A sandbox service: small, one task unless the config says more (Fargate Spot)."""

    cpu: int = 256
    memory: int = 512
    min_tasks: Annotated[int, Field(ge=1, le=100)] = 1
    max_tasks: Annotated[int, Field(ge=1, le=100)] = 2


class SandboxEventsSizing(SandboxServiceSizing):
    """The sandbox's events service, and how hard its delivery Lambda may push on TPP callbacks."""

    delivery_concurrency: Annotated[int, Field(ge=1, le=100)] = 2


class SandboxServices(_Model):
    """What the sandbox account runs: every service, each sized here (defaults: 256 CPU units, 512 MiB, 1-2 tasks)."""

    ais: SandboxServiceSizing = SandboxServiceSizing()
    pis: SandboxServiceSizing = SandboxServiceSizing()
    events: SandboxEventsSizing = SandboxEventsSizing()
    sandbox_idp: SandboxServiceSizing = SandboxServiceSizing()
    sandbox_ca: SandboxServiceSizing = SandboxServiceSizing()

    def sizing(self) -> dict[str, SandboxServiceSizing]:
        """Deployable name -> its sizing."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class SandboxLedgerSizing(LedgerSizing):
    """The sandbox's ledger: it pauses when idle (0 ACUs), one instance, a day of backups."""

    min_capacity: Annotated[float, Field(ge=0, le=256, multiple_of=0.5)] = 0
    max_capacity: Annotated[float, Field(ge=1, le=256, multiple_of=0.5)] = 2
    backup_retention_days: Annotated[int, Field(ge=1, le=35)] = 1


class SandboxCacheSizing(CacheSizing):
    """The sandbox's cache: the smallest node, and one replica (automatic failover needs one; a micro node is the
    cheapest part of the account)."""

    node_type: Annotated[str, Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")] = "cache.t4g.micro"
    replicas: Annotated[int, Field(ge=0, le=5)] = 1


class SandboxSettings(_Model):
    """The sandbox's ASPSP, sizing and synthetic data (docs/sandbox.md)."""

    #: The sandbox ASPSP's Open Banking organisation id (`x-fapi-financial-id`, the `iss` of its signatures).
    financial_id: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{18}$"),
                            _required_because("the sandbox ASPSP's organisation id (x-fapi-financial-id)")]
    services: SandboxServices = SandboxServices()
    ledger: SandboxLedgerSizing = SandboxLedgerSizing()
    cache: SandboxCacheSizing = SandboxCacheSizing()
    #: Seconds between a payment's settlement steps (0: payments stay where PIS put them unless a TPP reports one).
    settlement_seconds: Annotated[int, Field(ge=0, le=3600)] = 30
    #: The seeded PSUs and months of transactions.
    customers: Annotated[int, Field(ge=1, le=1000)] = 5
    months: Annotated[int, Field(ge=1, le=36)] = 6
    #: The seeding task's image digest, promoted like the services'; omitted: built at `pulumi up`.
    seed_image: Digest | None = None


#: The sandbox's entry without client certificates, under its domain (the CA, the published keys).
SANDBOX_OPEN_ENTRY = "directory"


class SandboxConfig(_Environment):
    """The developer sandbox offered to third parties: network hub and the sandbox account, egress only."""

    kind: Literal["sandbox"]
    domain: Annotated[DomainName, _required_because("the sandbox API domain")]
    foundation_stack: Annotated[StackRef, _required_because("it reads the log archive from it")]
    accounts: SandboxAccounts
    network: Annotated[SandboxNetwork, _required_because("its CIDR plan")]
    sandbox: Annotated[SandboxSettings, _required_because("the sandbox ASPSP's organisation id")]
    edge: Annotated[EdgeSettings, _required_because("the sandbox CA's certificate (the entry's truststore)")]
    alarms: AlarmThresholds = AlarmThresholds()

    def open_entry_host(self) -> str:
        """`directory.<domain>`: what a TPP, the authorizer and the services reach without a client certificate."""
        return f"{SANDBOX_OPEN_ENTRY}.{self.domain}"


EnvironmentConfig = FoundationConfig | WorkloadConfig | SandboxConfig
#: The model of each stack kind, chosen by `kind`.
MODEL_OF_KIND: dict[StackKind, type[FoundationConfig | WorkloadConfig | SandboxConfig]] = {
    StackKind.FOUNDATION: FoundationConfig,
    StackKind.WORKLOAD: WorkloadConfig,
    StackKind.SANDBOX: SandboxConfig,
}
