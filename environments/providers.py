"""One explicit AWS provider per account role.

Each assumes the deploy role in its account, refuses to act on any other account
(`allowed_account_ids`), and stamps the environment's tags on every resource it creates.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from accounts.keys import AccountKey

from .config import EnvironmentConfig

#: Tag keys every resource carries; `AccountRole` also tells `lz` which account a provider serves.
TAG_ENVIRONMENT = "Environment"
TAG_ACCOUNT_ROLE = "AccountRole"


def default_tags(config: EnvironmentConfig, key: AccountKey) -> dict[str, str]:
    return {
        TAG_ENVIRONMENT: config.name,
        TAG_ACCOUNT_ROLE: str(key),
        "Owner": config.tags.owner,
        "CostCentre": config.tags.cost_centre,
        "DataClassification": config.tags.data_classification.value,
        "ManagedBy": "pulumi/open-banking-landing-zone",
    }


def account_provider(config: EnvironmentConfig, key: AccountKey, account_id: str,
                     parent: pulumi.Resource | None = None) -> aws.Provider:
    """The provider for `key`'s account; resources in that account name it (directly or through their parent)."""
    return _provider(f"aws-{key.label}", config.region, config, key, account_id, parent)


def second_region_provider(config: EnvironmentConfig, key: AccountKey, account_id: str, region: str,
                           parent: pulumi.Resource | None = None) -> aws.Provider:
    """`key`'s account in another region (the log archive's replica region), named `aws-<label>-<region>`: the
    same deploy role, account pin and tags as its home provider, so only the region differs."""
    return _provider(f"aws-{key.label}-{region}", region, config, key, account_id, parent)


def _provider(name: str, region: str, config: EnvironmentConfig, key: AccountKey, account_id: str,
              parent: pulumi.Resource | None) -> aws.Provider:
    return aws.Provider(
        name,
        region=region,
        allowed_account_ids=[account_id],
        assume_roles=[aws.ProviderAssumeRoleArgs(
            role_arn=f"arn:aws:iam::{account_id}:role/{config.deploy_role_name}",
            session_name=f"pulumi-{config.name}-{name.removeprefix('aws-')}",
        )],
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(config, key)),
        opts=pulumi.ResourceOptions(parent=parent),
    )
