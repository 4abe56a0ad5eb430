"""The environment config: one structured key, `landingzone:environment`, per stack.

Field rules (an account id has 12 digits, a region exists, a CIDR parses) live in the pydantic types;
rules that span fields (ids unique across roles, CIDRs that do not overlap, prod-only rules) live in
:mod:`environments.rules`. :func:`load_environment` runs both and reports every problem at once, each
naming its key path, the bad value and the rule, before the program registers any resource.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

CONFIG_KEY = "landingzone:environment"


class ConfigError(Exception):
    """The environment config is invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@functools.cache
def known_regions() -> frozenset[str]:
    """AWS commercial regions, from botocore's partition data rather than a hand-kept list."""
    from botocore.loaders import Loader

    partitions = Loader().load_data("partitions")["partitions"]
    return frozenset(region for partition in partitions if partition["id"] == "aws"
                     for region in partition["regions"] if region != "aws-global")


def _account_id(v: str) -> str:
    if not re.fullmatch(r"\d{12}", v):
        raise ValueError("is not a 12-digit AWS account id")
    return v


def _region(v: str) -> str:
    if v not in known_regions():
        raise ValueError("is not a known AWS region")
    return v


_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"


def _domain(v: str) -> str:
    if len(v) > 253 or not re.fullmatch(rf"{_LABEL}(\.{_LABEL})+", v):
        raise ValueError("is not a lower-case DNS domain name (labels of a-z, 0-9 and '-', dot-separated)")
    return v


def _cidr(v: str) -> str:
    try:
        net = ipaddress.IPv4Network(v, strict=True)
    except ValueError as exc:
        raise ValueError(f"is not an IPv4 CIDR block ({exc})") from None
    if not net.is_private:
        raise ValueError("is not a private (RFC 1918) range")
    return str(net)


def _vpc_cidr(v: str) -> str:
    v = _cidr(v)
    if not 16 <= ipaddress.IPv4Network(v).prefixlen <= 28:
        raise ValueError("is not a valid VPC size (AWS allows /16 to /28)")
    return v


def _stack_ref(v: str) -> str:
    if not re.fullmatch(r"([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+", v):
        raise ValueError("is not a stack reference ('org/project/stack' or 'stack')")
    return v


def _role_name(v: str) -> str:
    if not re.fullmatch(r"[\w+=,.@-]{1,64}", v):
        raise ValueError("is not a valid IAM role name")
    return v


AccountId = Annotated[str, AfterValidator(_account_id)]
Region = Annotated[str, AfterValidator(_region)]
DomainName = Annotated[str, AfterValidator(_domain)]
Cidr = Annotated[str, AfterValidator(_cidr)]
VpcCidr = Annotated[str, AfterValidator(_vpc_cidr)]
StackRef = Annotated[str, AfterValidator(_stack_ref)]
RoleName = Annotated[str, AfterValidator(_role_name)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,20}$")]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


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


class AccountRole(StrEnum):
    """The account roles of the reference architecture; each gets its own provider and component."""

    ORGANIZATION = "organization"
    LOG_ARCHIVE = "logArchive"
    SECURITY = "security"
    NETWORK = "network"
    IDENTITY = "identity"
    API = "api"
    SANDBOX = "sandbox"


ROLES_BY_KIND: dict[StackKind, tuple[AccountRole, ...]] = {
    StackKind.FOUNDATION: (AccountRole.ORGANIZATION, AccountRole.LOG_ARCHIVE, AccountRole.SECURITY),
    StackKind.WORKLOAD: (AccountRole.NETWORK, AccountRole.IDENTITY, AccountRole.API),
    StackKind.SANDBOX: (AccountRole.NETWORK, AccountRole.SANDBOX),
}


class Tags(_Model):
    """Tags every resource carries, through each provider's `default_tags`."""

    owner: Annotated[str, Field(min_length=2, max_length=128)]
    cost_centre: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{2,32}$")]
    data_classification: DataClassification


class Accounts(_Model):
    """Account role → AWS account id, for the roles this stack deploys into."""

    organization: AccountId | None = None
    log_archive: AccountId | None = None
    security: AccountId | None = None
    network: AccountId | None = None
    identity: AccountId | None = None
    api: AccountId | None = None
    sandbox: AccountId | None = None

    def by_role(self) -> dict[AccountRole, str]:
        return {role: getattr(self, _field_of(role)) for role in AccountRole
                if getattr(self, _field_of(role)) is not None}


def _field_of(role: AccountRole) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", role.value).lower()


class Workload(_Model):
    """A workload account (e.g. `ais`, `pis`): one Open Banking service family in its own account."""

    account_id: AccountId
    vpc_cidr: VpcCidr
    description: Annotated[str, Field(min_length=3, max_length=200)]


def _private_asn(v: int) -> int:
    if not (64512 <= v <= 65534 or 4200000000 <= v <= 4294967294):
        raise ValueError("is not a private ASN (64512-65534 or 4200000000-4294967294)")
    return v


def _asn(v: int) -> int:
    if not 1 <= v <= 4294967294:
        raise ValueError("is not a BGP ASN (1-4294967294)")
    return v


_NOT_PUBLIC = [ipaddress.IPv4Network(n) for n in ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
                                                    "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
                                                    "224.0.0.0/3")]


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
    if not re.fullmatch(rf"\.?{_LABEL}(\.{_LABEL})+", v):
        raise ValueError("is not a domain ('api.example.com', or '.example.com' for it and its subdomains)")
    return v


PrivateAsn = Annotated[int, AfterValidator(_private_asn)]
Asn = Annotated[int, AfterValidator(_asn)]
PublicIp = Annotated[str, AfterValidator(_public_ip)]
IpAddress = Annotated[str, AfterValidator(_ip)]
EgressDomain = Annotated[str, AfterValidator(_egress_domain)]


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

    instance_type: Annotated[str, Field(pattern=r"^[a-z]+\d+g[a-z]*\.[a-z0-9]+$")] = "t4g.small"
    min_size: Annotated[int, Field(ge=1, le=20)] = 2
    max_size: Annotated[int, Field(ge=1, le=50)] = 4


class Network(_Model):
    """The environment's CIDR plan and the data centre's ranges it must not overlap, the hub's routing
    and hybrid links, and the egress allow-list."""

    availability_zones: Annotated[int, Field(ge=1, le=4)]
    egress_vpc_cidr: VpcCidr
    identity_vpc_cidr: VpcCidr | None = None
    api_vpc_cidr: VpcCidr | None = None
    sandbox_vpc_cidr: VpcCidr | None = None
    on_premises_cidrs: list[Cidr] = Field(default_factory=list)
    transit_gateway_asn: PrivateAsn = 64512
    #: One NAT gateway (and firewall lane) per AZ; default: in prod only.
    nat_gateway_per_az: bool | None = None
    #: Domains the firewall and the proxy let out (TLS SNI / HTTP Host); everything else is dropped.
    egress_allowed_domains: list[EgressDomain] = Field(default_factory=list)
    egress_proxy: EgressProxy = EgressProxy()
    direct_connect: DirectConnect | None = None
    vpn: Vpn | None = None
    on_premises_dns: OnPremisesDns | None = None

    def nat_per_az(self, stage: Stage) -> bool:
        return self.nat_gateway_per_az if self.nat_gateway_per_az is not None else stage is Stage.PROD


Email = Annotated[str, Field(pattern=r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", max_length=64)]


class AccountCreation(_Model):
    """Have the organization create this account (the default is to adopt the existing id)."""

    email: Email
    name: Annotated[str, Field(min_length=1, max_length=50)]


class LogArchiveSettings(_Model):
    """Retention of the central log buckets: Object Lock (compliance mode) and the lifecycle after it."""

    object_lock_days: Annotated[int, Field(ge=1, le=36500)] = 2557
    infrequent_access_after_days: Annotated[int, Field(ge=30)] = 90
    glacier_after_days: Annotated[int, Field(ge=31)] = 365
    expire_after_days: Annotated[int, Field(ge=1, le=36500)] = 2557


class TrailSettings(_Model):
    """Data events the organization trail records on top of every management event."""

    data_event_bucket_names: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]] = \
        Field(default_factory=list)
    data_event_table_arns: list[Annotated[str, Field(
        pattern=r"^arn:aws:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255}$")]] = Field(default_factory=list)


class OpenSearchSettings(_Model):
    """The log analytics domain in the log archive account and the small private VPC it lives in."""

    instance_type: Annotated[str, Field(pattern=r"^[a-z0-9]+\.[a-z0-9]+\.search$")] = "r6g.large.search"
    instance_count: Annotated[int, Field(ge=1, le=80)] = 2
    dedicated_master_type: Annotated[str, Field(pattern=r"^[a-z0-9]+\.[a-z0-9]+\.search$")] | None = None
    dedicated_master_count: Literal[3, 5] = 3
    volume_size_gb: Annotated[int, Field(ge=10, le=16384)] = 100
    availability_zones: Annotated[int, Field(ge=1, le=3)] = 2
    vpc_cidr: VpcCidr = "10.255.0.0/24"
    engine_version: Annotated[str, Field(pattern=r"^OpenSearch_\d+\.\d+$")] = "OpenSearch_2.19"


class FoundationSettings(_Model):
    """What only the foundation stack configures: guardrails, central logging, detective controls."""

    allowed_regions: Annotated[list[Region], Field(min_length=1)]
    log_archive: LogArchiveSettings = LogArchiveSettings()
    trail: TrailSettings = TrailSettings()
    open_search: OpenSearchSettings = OpenSearchSettings()
    macie: bool = True
    guardduty_malware_protection: bool = True
    #: Role (logArchive, security) -> create the account; roles not listed are adopted by id.
    account_creation: dict[Literal["logArchive", "security"], AccountCreation] = Field(default_factory=dict)
    backup_retention_days: Annotated[int, Field(ge=7, le=36500)] = 35


class EnvironmentConfig(_Model):
    """The whole environment of one stack."""

    name: Name
    kind: StackKind
    stage: Stage
    region: Region
    domain: DomainName | None = None
    organization_id: Annotated[str, Field(pattern=r"^o-[a-z0-9]{10,32}$")] | None = None
    foundation_stack: StackRef | None = None
    deploy_role_name: RoleName = "OpenBankingLandingZoneDeployer"
    protect_stateful_resources: bool = True
    log_retention_days: Annotated[int, Field(ge=1, le=3653)] = 400
    tags: Tags
    accounts: Accounts
    workloads: dict[Name, Workload] = Field(default_factory=dict)
    network: Network | None = None
    foundation: FoundationSettings | None = None

    @property
    def is_prod(self) -> bool:
        return self.stage is Stage.PROD

    def account_ids(self) -> dict[str, str]:
        """Every account this stack deploys into, keyed by role (workloads as `workload:<name>`)."""
        ids: dict[str, str] = {str(role): acct for role, acct in self.accounts.by_role().items()}
        ids.update({f"workload:{name}": w.account_id for name, w in self.workloads.items()})
        return ids


# --- error reporting --------------------------------------------------------------------------------

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known key",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "list_type": "must be a list",
}


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join([CONFIG_KEY, *(str(p) for p in loc)])


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per pydantic error: `<key path>: <value> <rule>`."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not str(p).startswith("function-after"))
        if err["type"] == "value_error":
            rule = str(err["msg"]).removeprefix("Value error, ")
        else:
            rule = _MESSAGES.get(err["type"], str(err["msg"]).lower())
        if err["type"] == "missing":
            lines.append(f"{_path(loc)}: {rule}")
        elif err["type"] == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            lines.append(f"{_path(loc)}: {err['input']!r} is not one of {expected}")
        else:
            lines.append(f"{_path(loc)}: {err['input']!r} {rule}")
    return lines


def load_environment(raw: Any) -> EnvironmentConfig:
    """Validate `raw` (the decoded config value) and return the model, or raise :class:`ConfigError`."""
    from .rules import cross_field_problems

    if not isinstance(raw, Mapping):
        raise ConfigError([f"{CONFIG_KEY}: must be a mapping (got {type(raw).__name__})"])
    problems: list[str] = []
    model: EnvironmentConfig | None = None
    try:
        model = EnvironmentConfig.model_validate(raw)
    except ValidationError as exc:
        problems.extend(format_validation_error(exc))
    problems.extend(f"{CONFIG_KEY}.{p}" for p in cross_field_problems(raw))
    if problems or model is None:
        raise ConfigError(sorted(dict.fromkeys(problems)))
    return model
