"""The Environment component: one stack's accounts, each with its own provider."""

from __future__ import annotations

from typing import Any

import pulumi

from accounts.api import ApiAccount
from accounts.base import Account, AccountContext
from accounts.identity import IdentityAccount
from accounts.log_archive import LogArchiveAccount, LogArchiveArgs, OpenSearchSizing
from accounts.network_hub import NetworkHubAccount
from accounts.organization import SECURITY, OrganizationAccount, OrganizationArgs, TrailSettings
from accounts.sandbox import SandboxAccount
from accounts.security import SecurityAccount, SecurityArgs
from accounts.spoke import SpokeAccount
from accounts.workload import WorkloadAccount
from components.config_recorder import ConfigDelivery
from components.log_bucket import Lifecycle
from components.organization_structure import NewAccount
from components.spoke_link import SpokeLink, SpokeLinkArgs
from components.spoke_vpc import SpokeVpcArgs

from . import foundation as fnd
from .config import (
    CONFIG_KEY,
    AccountRole,
    ConfigError,
    DataClassification,
    EnvironmentConfig,
    FoundationConfig,
    WorkloadConfig,
)
from .network import network_hub_args, spoke_plans
from .providers import account_provider, default_tags
from .validation import load_environment, parse_config_json

#: Spoke accounts with nothing but the common constructor (and their spoke VPC).
SPOKE_ACCOUNTS: dict[AccountRole, type[SpokeAccount]] = {
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
        return load_environment(parse_config_json(raw))
    except ConfigError as exc:
        count = len(exc.problems)
        raise pulumi.RunError(f"invalid environment config ({count} problem{'s' if count > 1 else ''}):\n"
                              + "\n".join(exc.problems)) from None


#: The foundation accounts in dependency order: the log archive first (every Config recorder and the
#: organization trail deliver to it), then the management account (which registers the security account
#: as delegated administrator), then the security account.
FOUNDATION_ORDER = (AccountRole.LOG_ARCHIVE, AccountRole.ORGANIZATION, AccountRole.SECURITY)


def construction_order(account_ids: dict[str, str]) -> list[tuple[str, str]]:
    """`account_ids` with the foundation roles first, in :data:`FOUNDATION_ORDER`; others keep their order."""
    rank = {role.value: i for i, role in enumerate(FOUNDATION_ORDER)}
    return sorted(account_ids.items(), key=lambda item: rank.get(item[0], len(rank)))


def account_ids(config: EnvironmentConfig) -> dict[str, str]:
    """Every account this stack deploys into, keyed by role (workloads as `workload:<name>`)."""
    ids: dict[str, str] = {str(role): acct for role, acct in config.accounts.by_role().items()}
    if isinstance(config, WorkloadConfig):
        ids.update({f"workload:{name}": w.account_id for name, w in config.workloads.items()})
    return ids


def log_archive_args(config: FoundationConfig) -> LogArchiveArgs:
    settings = config.foundation
    logs, search = settings.log_archive, settings.open_search
    return LogArchiveArgs(
        organization_id=str(config.organization_id),
        object_lock_days=logs.object_lock_days,
        lifecycle=Lifecycle(logs.infrequent_access_after_days, logs.glacier_after_days, logs.expire_after_days),
        log_retention_days=config.log_retention_days,
        opensearch=OpenSearchSizing(
            engine_version=search.engine_version, instance_type=search.instance_type,
            instance_count=search.instance_count, volume_size_gb=search.volume_size_gb,
            availability_zones=search.availability_zones, dedicated_master_type=search.dedicated_master_type,
            dedicated_master_count=search.dedicated_master_count, vpc_cidr=search.vpc_cidr),
    )


def organization_args(config: FoundationConfig, log_archive: LogArchiveAccount) -> OrganizationArgs:
    settings = config.foundation
    tags = default_tags(config, AccountRole.ORGANIZATION.value)
    return OrganizationArgs(
        deploy_role_name=config.deploy_role_name,
        allowed_regions=settings.allowed_regions,
        security_account_id=str(config.accounts.security),
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


def security_args(config: FoundationConfig, accounts: dict[str, Account]) -> SecurityArgs:
    settings = config.foundation
    organization = accounts.get(AccountRole.ORGANIZATION)
    return SecurityArgs(
        macie=settings.macie, malware_protection=settings.guardduty_malware_protection,
        delegated_administrators=(organization.delegated_administrators
                                  if isinstance(organization, OrganizationAccount) else ()),
    )


class Environment(pulumi.ComponentResource):
    """Composes the account components this stack owns; `exports` are the stack outputs."""

    accounts: dict[str, Account]
    exports: dict[str, Any]

    def __init__(self, name: str, config: EnvironmentConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__("openbanking:environment:Environment", name, None, opts)
        self.config = config
        self.accounts = {}
        self.network_hub: NetworkHubAccount | None = None
        self.foundation = (None if isinstance(config, FoundationConfig)
                           else fnd.FoundationOutputs.read(config.foundation_stack, parent=self))

        for role, account_id in construction_order(account_ids(config)):
            ctx = AccountContext(
                role=role, account_id=account_id, region=config.region, environment=config.name,
                provider=account_provider(config, role, account_id, parent=self),
                protect=config.protect_stateful_resources,
                config_delivery=self._config_delivery(),
            )
            opts_ = pulumi.ResourceOptions(parent=self)
            component_name = f"{config.name}-{role.replace(':', '-')}"
            if role == AccountRole.LOG_ARCHIVE and isinstance(config, FoundationConfig):
                self.accounts[role] = LogArchiveAccount(component_name, ctx, log_archive_args(config), opts=opts_)
            elif role == AccountRole.ORGANIZATION and isinstance(config, FoundationConfig):
                self.accounts[role] = OrganizationAccount(
                    component_name, ctx, organization_args(config, self._log_archive()), opts=opts_)
            elif role == AccountRole.SECURITY and isinstance(config, FoundationConfig):
                self.accounts[role] = SecurityAccount(component_name, ctx, security_args(config, self.accounts),
                                                      opts=opts_)
            elif role == AccountRole.NETWORK and not isinstance(config, FoundationConfig):
                self.network_hub = NetworkHubAccount(component_name, ctx, network_hub_args(config, self._foundation()),
                                                     opts=opts_)
                self.accounts[role] = self.network_hub
            elif role.startswith("workload:") and isinstance(config, WorkloadConfig):
                workload = role.split(":", 1)[1]
                self.accounts[role] = WorkloadAccount(
                    component_name, ctx, workload=workload,
                    description=config.workloads[workload].description, vpc=self._spoke_vpc(role), opts=opts_)
            else:
                self.accounts[role] = SPOKE_ACCOUNTS[AccountRole(role)](component_name, ctx, vpc=self._spoke_vpc(role),
                                                                        opts=opts_)
        self._join_spokes()

        self.exports = self._exports()
        self.register_outputs(self.exports)

    def _foundation(self) -> fnd.FoundationOutputs:
        if self.foundation is None:  # only the foundation stack has none, and it has no network account
            raise ConfigError([f"{CONFIG_KEY}.foundationStack: the network hub reads the log archive from it"])
        return self.foundation

    def _spoke_vpc(self, role: str) -> SpokeVpcArgs | None:
        """The spoke VPC of `role`'s account, from the network hub built before it (none without a hub)."""
        if isinstance(self.config, FoundationConfig):
            return None
        plan = spoke_plans(self.config).get(role)
        if self.network_hub is None or plan is None:
            return None
        return self.network_hub.spoke_vpc_args(plan, self.config.region)

    def _join_spokes(self) -> None:
        """Link every spoke VPC to the hub: a `SpokeLink` spans the network account and the spoke's account,
        so it belongs to the environment, with each side's provider explicit."""
        hub = self.network_hub
        if hub is None or isinstance(self.config, FoundationConfig):
            return
        for role, plan in spoke_plans(self.config).items():
            account = self.accounts.get(role)
            if isinstance(account, SpokeAccount) and account.vpc is not None:
                SpokeLink(f"{self.config.name}-{plan.label}-link", SpokeLinkArgs(
                    label=plan.label, segment=plan.segment, cidr=plan.cidr, hub=hub.hub, spoke=account.vpc,
                    hub_provider=hub.ctx.provider, spoke_provider=account.ctx.provider,
                    proxy_zone=hub.proxy.zone,
                    resolver_rule_ids={label: rule.id for label, rule in (hub.dns.rules if hub.dns else {}).items()},
                    resolver_rules_shared=[*hub.resolver_rules_shared, hub.hub.principal_associations[plan.account_id]],
                ), opts=pulumi.ResourceOptions(parent=self))

    def _log_archive(self) -> LogArchiveAccount:
        log_archive = self.accounts.get(AccountRole.LOG_ARCHIVE)
        if not isinstance(log_archive, LogArchiveAccount):
            raise ConfigError([f"{CONFIG_KEY}.accounts.logArchive: the organization account needs the log archive"])
        return log_archive

    def _config_delivery(self) -> ConfigDelivery | None:
        """Where this stack's Config recorders deliver: the foundation's Config bucket, read through the
        StackReference, or (in the foundation stack) the log archive built just before."""
        if self.foundation is not None:
            return ConfigDelivery(bucket_name=self.foundation.config_bucket_name,
                                  kms_key_arn=self.foundation.log_archive_key_arn)
        log_archive = self.accounts.get(AccountRole.LOG_ARCHIVE)
        return log_archive.config_delivery if isinstance(log_archive, LogArchiveAccount) else None

    def _exports(self) -> dict[str, Any]:
        config = self.config
        exports: dict[str, Any] = {
            "environment": config.name,
            "kind": config.kind,
            "region": config.region,
            "accounts": account_ids(config),
        }
        log_archive = self.accounts.get(AccountRole.LOG_ARCHIVE)
        if isinstance(log_archive, LogArchiveAccount) and isinstance(config, FoundationConfig):
            exports |= {
                fnd.ORGANIZATION_ID: config.organization_id,
                fnd.LOG_ARCHIVE_ACCOUNT_ID: log_archive.ctx.account_id,
                fnd.LOG_ARCHIVE_BUCKET_NAME: log_archive.bucket_name,
                fnd.LOG_ARCHIVE_BUCKET_ARN: log_archive.bucket_arn,
                fnd.LOG_ARCHIVE_KEY_ARN: log_archive.key_arn,
                fnd.FLOW_LOGS_BUCKET_ARN: log_archive.bucket_arns["flow-logs"],
                fnd.TRAIL_BUCKET_ARN: log_archive.bucket_arns["trail"],
                fnd.CONFIG_BUCKET_NAME: log_archive.bucket_names["config"],
                fnd.CONFIG_BUCKET_ARN: log_archive.bucket_arns["config"],
                fnd.WAF_LOGS_BUCKET_ARN: log_archive.bucket_arns["waf"],
                fnd.ACCESS_LOGS_BUCKET_ARN: log_archive.bucket_arns["access-logs"],
                fnd.LOG_ANALYTICS_KEY_ARN: log_archive.analytics_key.arn,
                fnd.SECURITY_ACCOUNT_ID: config.accounts.security,
            }
        organization = self.accounts.get(AccountRole.ORGANIZATION)
        if isinstance(organization, OrganizationAccount):
            exports |= {
                fnd.ORGANIZATION_ROOT_ID: organization.organization_root_id,
                fnd.OU_IDS: organization.ou_ids,
                fnd.ORGANIZATION_TRAIL_ARN: organization.trail.trail_arn,
            }
        security = self.accounts.get(AccountRole.SECURITY)
        if isinstance(security, SecurityAccount):
            exports[fnd.FINDINGS_TOPIC_ARN] = security.findings_topic_arn
        hub = self.accounts.get(AccountRole.NETWORK)
        if isinstance(hub, NetworkHubAccount):
            # what a team's own stack needs to join this environment's network
            exports |= {
                "transitGatewayId": hub.hub.transit_gateway.id,
                "egressVpcId": hub.egress.vpc_id,
                "egressProxyUrl": hub.proxy.endpoint,
            }
        if self.foundation is not None:
            exports |= {
                "organizationId": self.foundation.organization_id,
                "logDestinationBucketArn": self.foundation.log_archive_bucket_arn,
                "logDestinationKeyArn": self.foundation.log_archive_key_arn,
                "configDeliveryBucketName": self.foundation.config_bucket_name,
            }
        return exports
