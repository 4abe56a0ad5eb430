"""The Environment component: one stack's accounts, each with its own provider."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from accounts.api import ApiAccount
from accounts.base import Account, AccountContext
from accounts.identity import IdentityAccount
from accounts.log_archive import LogArchiveAccount
from accounts.network_hub import NetworkHubAccount
from accounts.organization import OrganizationAccount
from accounts.sandbox import SandboxAccount
from accounts.security import SecurityAccount
from accounts.workload import WorkloadAccount

from . import foundation as fnd
from .config import CONFIG_KEY, AccountRole, ConfigError, EnvironmentConfig, StackKind, load_environment
from .providers import account_provider

#: Account components with nothing but the common constructor.
SIMPLE_ACCOUNTS: dict[AccountRole, type[Account]] = {
    AccountRole.ORGANIZATION: OrganizationAccount,
    AccountRole.SECURITY: SecurityAccount,
    AccountRole.NETWORK: NetworkHubAccount,
    AccountRole.IDENTITY: IdentityAccount,
    AccountRole.API: ApiAccount,
    AccountRole.SANDBOX: SandboxAccount,
}


def load_stack_config() -> EnvironmentConfig:
    """Read and validate `landingzone:environment`; a bad config stops the program before any resource
    is registered, with every problem listed and no traceback (`pulumi.RunError`)."""
    namespace, key = CONFIG_KEY.split(":")
    raw: Any = pulumi.Config(namespace).get(key)
    try:
        if raw is None:
            raise ConfigError([f"{CONFIG_KEY}: is missing from the stack's config file"])
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise ConfigError([f"{CONFIG_KEY}: must be a structured (YAML mapping) value"]) from None
        return load_environment(value)
    except ConfigError as exc:
        count = len(exc.problems)
        raise pulumi.RunError(f"invalid environment config ({count} problem{'s' if count > 1 else ''}):\n"
                              + "\n".join(exc.problems)) from None


class Environment(pulumi.ComponentResource):
    """Composes the account components this stack owns; `exports` are the stack outputs."""

    accounts: dict[str, Account]
    exports: dict[str, Any]

    def __init__(self, name: str, config: EnvironmentConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__("openbanking:environment:Environment", name, None, opts)
        self.config = config
        self.accounts = {}
        self.foundation = (None if config.kind is StackKind.FOUNDATION
                           else fnd.FoundationOutputs.read(str(config.foundation_stack), parent=self))

        for role, account_id in config.account_ids().items():
            ctx = AccountContext(
                role=role, account_id=account_id, region=config.region, environment=config.name,
                provider=account_provider(config, role, account_id, parent=self),
                protect=config.protect_stateful_resources,
            )
            opts_ = pulumi.ResourceOptions(parent=self)
            component_name = f"{config.name}-{role.replace(':', '-')}"
            if role == AccountRole.LOG_ARCHIVE:
                self.accounts[role] = LogArchiveAccount(
                    component_name, ctx, organization_id=str(config.organization_id),
                    retention_days=config.log_retention_days, opts=opts_)
            elif role.startswith("workload:"):
                workload = role.split(":", 1)[1]
                self.accounts[role] = WorkloadAccount(
                    component_name, ctx, workload=workload,
                    description=config.workloads[workload].description, opts=opts_)
            else:
                self.accounts[role] = SIMPLE_ACCOUNTS[AccountRole(role)](component_name, ctx, opts=opts_)

        self.exports = self._exports()
        self.register_outputs(self.exports)

    def _exports(self) -> dict[str, Any]:
        config = self.config
        exports: dict[str, Any] = {
            "environment": config.name,
            "kind": config.kind.value,
            "region": config.region,
            "accounts": config.account_ids(),
        }
        log_archive = self.accounts.get(AccountRole.LOG_ARCHIVE)
        if isinstance(log_archive, LogArchiveAccount):
            exports |= {
                fnd.ORGANIZATION_ID: config.organization_id,
                fnd.LOG_ARCHIVE_ACCOUNT_ID: log_archive.ctx.account_id,
                fnd.LOG_ARCHIVE_BUCKET_NAME: log_archive.bucket_name,
                fnd.LOG_ARCHIVE_BUCKET_ARN: log_archive.bucket_arn,
                fnd.LOG_ARCHIVE_KEY_ARN: log_archive.key_arn,
                fnd.SECURITY_ACCOUNT_ID: config.accounts.security,
            }
        if self.foundation is not None:
            exports |= {
                "organizationId": self.foundation.organization_id,
                "logDestinationBucketArn": self.foundation.log_archive_bucket_arn,
                "logDestinationKeyArn": self.foundation.log_archive_key_arn,
            }
        return exports
