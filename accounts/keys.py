"""Which account a component deploys into: its role in the reference architecture and, for workload
accounts, the workload's name. One value, parsed and printed in one place."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccountRole(StrEnum):
    """The account roles of the reference architecture; each gets its own provider and component."""

    ORGANIZATION = "organization"
    LOG_ARCHIVE = "logArchive"
    SECURITY = "security"
    NETWORK = "network"
    IDENTITY = "identity"
    API = "api"
    SANDBOX = "sandbox"
    #: A workload account: one per entry of the config's `workloads`.
    WORKLOAD = "workload"


@dataclass(frozen=True)
class AccountKey:
    """An account of the environment: `network`, or `workload:ais` (a workload account carries its name)."""

    #: The account's role in the reference architecture.
    role: AccountRole
    #: The workload's name (e.g. "ais"); set exactly when `role` is WORKLOAD.
    workload: str | None = None

    def __post_init__(self) -> None:
        if (self.role is AccountRole.WORKLOAD) != (self.workload is not None):
            raise ValueError(f"account key {self.role}/{self.workload}: a workload account, and only one, has a name")

    @classmethod
    def of_workload(cls, name: str) -> AccountKey:
        return cls(AccountRole.WORKLOAD, name)

    def __str__(self) -> str:
        """`workload:ais` or `network`: the provider's AccountRole tag and `lz`'s account label."""
        return f"{self.role}:{self.workload}" if self.workload else str(self.role)

    @property
    def label(self) -> str:
        """`workload-ais` or `network`: the part of resource names that says which account."""
        return f"{self.role}-{self.workload}" if self.workload else str(self.role)
