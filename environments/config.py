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
from typing import Annotated, Any

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


class Network(_Model):
    """The environment's CIDR plan and the data centre's ranges it must not overlap."""

    availability_zones: Annotated[int, Field(ge=1, le=4)]
    egress_vpc_cidr: VpcCidr
    identity_vpc_cidr: VpcCidr | None = None
    api_vpc_cidr: VpcCidr | None = None
    sandbox_vpc_cidr: VpcCidr | None = None
    on_premises_cidrs: list[Cidr] = Field(default_factory=list)


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
