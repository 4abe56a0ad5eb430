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
    return aws.Provider(
        f"aws-{key.label}",
        region=config.region,
        allowed_account_ids=[account_id],
        assume_roles=[aws.ProviderAssumeRoleArgs(
            role_arn=f"arn:aws:iam::{account_id}:role/{config.deploy_role_name}",
            session_name=f"pulumi-{config.name}-{key.label}",
        )],
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(config, key)),
        opts=pulumi.ResourceOptions(parent=parent),
    )
