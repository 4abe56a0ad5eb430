"""The Environment component: one stack's accounts, each with its own provider, and the links between them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pulumi

from accounts.api import ApiAccount
from accounts.base import Account, AccountContext
from accounts.identity import IdentityAccount
from accounts.keys import AccountKey, AccountRole
from accounts.log_archive import LogArchiveAccount
from accounts.network_hub import NetworkHubAccount
from accounts.organization import OrganizationAccount
from accounts.sandbox import SandboxAccount
from accounts.security import SecurityAccount
from accounts.spoke import SpokeAccount
from accounts.workload import WorkloadAccount
from components.spoke_link import SpokeLink, SpokeLinkArgs

from .builders import (
    FOUNDATION_ACCOUNTS,
    SANDBOX_ACCOUNTS,
    WORKLOAD_ACCOUNTS,
    Assembly,
    EnvironmentAssembly,
    account_ids,
    spoke_plans,
)
from .config import CONFIG_KEY, ConfigError, EnvironmentConfig, FoundationConfig, SandboxConfig, WorkloadConfig
from .edge import accept_endpoints
from .foundation import FoundationExports
from .identity import link_identity
from .providers import account_provider
from .validation import load_environment, parse_config_json


def load_stack_config() -> EnvironmentConfig:
    """Read and validate `landingzone:environment`; a bad config stops the program before any resource
    is registered, with every problem listed and no traceback (`pulumi.RunError`)."""
    namespace, key = CONFIG_KEY.split(":")
    raw: Any = pulumi.Config(namespace).get(key)
    try:
        if raw is None:
            raise ConfigError([f"{CONFIG_KEY}: is missing from the stack's config file"])
        return load_environment(parse_config_json(raw))
    except ConfigError as exc:
        count = len(exc.problems)
        raise pulumi.RunError(f"invalid environment config ({count} problem{'s' if count > 1 else ''}):\n"
                              + "\n".join(exc.problems)) from None


C = TypeVar("C", FoundationConfig, WorkloadConfig, SandboxConfig)
A = TypeVar("A", bound=Assembly)


class Environment(pulumi.ComponentResource):
    """Composes the account components this stack owns; `exports` are the stack outputs."""

    accounts: dict[AccountKey, Account]
    exports: dict[str, Any]

    def __init__(self, name: str, config: EnvironmentConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__("openbanking:environment:Environment", name, None, opts)
        self.config = config
        if isinstance(config, FoundationConfig):
            self.accounts = self._build(config, FOUNDATION_ACCOUNTS, Assembly(parent=self))
            self.exports = self._common_exports() | foundation_exports(config, self.accounts).exports()
        else:
            assembly = EnvironmentAssembly(parent=self, foundation=FoundationExports.read(config.foundation_stack,
                                                                                           parent=self))
            if isinstance(config, WorkloadConfig):
                self.accounts = self._build(config, WORKLOAD_ACCOUNTS, assembly)
                accept_endpoints(config.name, self.accounts, parent=self)
                link_identity(config, self.accounts, parent=self)
            else:
                self.accounts = self._build(config, SANDBOX_ACCOUNTS, assembly)
            self._link_spokes(config, assembly)
            self.exports = self._common_exports() | environment_exports(assembly)
        self.register_outputs(self.exports)

    def _build(self, config: C, table: Mapping[AccountRole, Callable[[C, A, AccountContext], Account]],
               assembly: A) -> dict[AccountKey, Account]:
        """Each account in the table's order: its provider, its context, then its builder."""
        ids = account_ids(config)
        for role, build in table.items():
            for key in (k for k in ids if k.role is role):
                ctx = AccountContext(
                    key=key, account_id=ids[key], region=config.region, environment=config.name,
                    provider=account_provider(config, key, ids[key], parent=self),
                    protect=config.protect_stateful_resources, config_delivery=assembly.config_delivery())
                assembly.accounts[key] = build(config, assembly, ctx)
        return assembly.accounts

    def _link_spokes(self, config: WorkloadConfig | SandboxConfig, assembly: EnvironmentAssembly) -> None:
        """Link every spoke VPC to the hub: a `SpokeLink` spans the network account and the spoke's account,
        so it belongs to the environment, with each side's provider explicit."""
        hub = assembly.network_hub
        if hub is None:
            return
        for key, plan in spoke_plans(config).items():
            account = assembly.accounts[key]
            if isinstance(account, SpokeAccount) and account.vpc is not None:
                SpokeLink(f"{config.name}-{plan.label}-link", SpokeLinkArgs(
                    label=plan.label, segment=plan.segment, cidr=plan.cidr, hub=hub.hub, spoke=account.vpc,
                    hub_provider=hub.ctx.provider, spoke_provider=account.ctx.provider,
                    proxy_zone=hub.proxy.zone,
                    resolver_rule_ids={label: rule.id for label, rule in (hub.dns.rules if hub.dns else {}).items()},
                    resolver_rules_shared=[*hub.resolver_rules_shared, hub.hub.principal_associations[plan.account_id]],
                ), opts=pulumi.ResourceOptions(parent=self))

    def _common_exports(self) -> dict[str, Any]:
        return {
            "environment": self.config.name,
            "kind": self.config.kind,
            "region": self.config.region,
            "accounts": {str(key): account.ctx.account_id for key, account in self.accounts.items()},
        }


def foundation_exports(config: FoundationConfig, accounts: Mapping[AccountKey, Account]) -> FoundationExports:
    """The foundation stack's side of the contract, from the accounts it built."""
    log_archive = accounts[AccountKey(AccountRole.LOG_ARCHIVE)]
    organization = accounts[AccountKey(AccountRole.ORGANIZATION)]
    security = accounts[AccountKey(AccountRole.SECURITY)]
    assert isinstance(log_archive, LogArchiveAccount) and isinstance(organization, OrganizationAccount)
    assert isinstance(security, SecurityAccount)
    return FoundationExports(
        organization_id=config.organization_id,
        organization_root_id=organization.organization_root_id,
        organizational_unit_ids=organization.ou_ids,
        log_archive_account_id=log_archive.ctx.account_id,
        log_archive_key_arn=log_archive.key_arn,
        flow_logs_bucket_name=log_archive.bucket_names["flow-logs"],
        flow_logs_bucket_arn=log_archive.bucket_arns["flow-logs"],
        trail_bucket_arn=log_archive.bucket_arns["trail"],
        config_bucket_name=log_archive.bucket_names["config"],
        config_bucket_arn=log_archive.bucket_arns["config"],
        waf_logs_bucket_arn=log_archive.bucket_arns["waf"],
        access_logs_bucket_arn=log_archive.bucket_arns["access-logs"],
        api_access_log_destination_arn=log_archive.api_access_logs.arn,
        log_analytics_key_arn=log_archive.analytics_key.arn,
        organization_trail_arn=organization.trail.trail_arn,
        security_account_id=security.ctx.account_id,
        security_findings_topic_arn=security.findings_topic_arn,
    )


def environment_exports(assembly: EnvironmentAssembly) -> dict[str, Any]:
    """What a team's own stack needs to join this environment: its network, and where its logs go."""
    exports: dict[str, Any] = {
        "organizationId": assembly.foundation.organization_id,
        "logDestinationBucketArn": assembly.foundation.flow_logs_bucket_arn,
        "logDestinationKeyArn": assembly.foundation.log_archive_key_arn,
        "configDeliveryBucketName": assembly.foundation.config_bucket_name,
    }
    hub = assembly.network_hub
    if isinstance(hub, NetworkHubAccount):
        exports |= {
            "transitGatewayId": hub.hub.transit_gateway.id,
            "egressVpcId": hub.egress.vpc_id,
            "egressProxyUrl": hub.proxy.endpoint,
        }
    identity = assembly.accounts.get(AccountKey(AccountRole.IDENTITY))
    if isinstance(identity, IdentityAccount):
        exports["identity"] = identity.exports
    api = assembly.accounts.get(AccountKey(AccountRole.API))
    if isinstance(api, ApiAccount) and api.exports:
        exports["edge"] = api.exports
    sandbox = assembly.accounts.get(AccountKey(AccountRole.SANDBOX))
    if isinstance(sandbox, SandboxAccount) and sandbox.exports:
        exports["sandbox"] = sandbox.exports
    endpoints = {service: endpoint.service_name for account in assembly.accounts.values()
                 if isinstance(account, WorkloadAccount) for service, endpoint in account.endpoint_services.items()}
    if endpoints:
        exports["endpointServices"] = endpoints
    return exports
