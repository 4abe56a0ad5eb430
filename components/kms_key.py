"""A customer-managed KMS key with rotation, a 30-day deletion window and an explicit key policy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

ENCRYPT_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


@dataclass(frozen=True)
class KeyGrant:
    """A further service grant with its own scope, for services whose condition keys differ from
    `service_principals` (e.g. S3 server access logging scoped to the account, not the organization)."""

    #: The key policy statement's Sid (unique in the policy).
    sid: str
    #: Service principals the statement admits, e.g. "logging.s3.amazonaws.com".
    services: Sequence[str]
    #: The statement's condition, e.g. {"StringEquals": {"aws:SourceAccount": "111122223333"}}; required
    #: (an empty one is refused).
    condition: dict[str, Any]
    #: KMS actions granted; default: encrypt, decrypt, re-encrypt, generate data keys, describe.
    actions: Sequence[str] = ENCRYPT_ACTIONS


@dataclass(frozen=True)
class KmsKeyArgs:
    """`service_principals` may use the key to encrypt on the account's behalf (e.g. `logs.<region>`)."""

    #: The key's description in KMS: what it encrypts.
    description: str
    #: The account that owns the key; its root administers it, so IAM policies decide who else uses it.
    account_id: str
    #: Alias without the `alias/` prefix, e.g. "dev-api/account".
    alias: str
    #: Service principals the key policy lets encrypt and decrypt, e.g. "logs.eu-west-2.amazonaws.com";
    #: empty: no service statement.
    service_principals: Sequence[str] = ()
    #: Condition keys the service grants must carry, e.g. {"StringEquals": {"aws:SourceOrgID": "o-.."}}.
    service_condition: dict[str, Any] = field(default_factory=dict)
    #: Pulumi `protect` and `retain_on_delete` on the key: no update deletes it, a destroy leaves it (prod).
    protect: bool = True
    #: Days KMS waits between a deletion request and deleting the key (7-30).
    deletion_window_in_days: int = 30
    #: Further service statements, each with its own condition (see :class:`KeyGrant`); empty: none.
    grants: Sequence[KeyGrant] = ()
    #: The key's region when it is not the provider's (v7 per-resource region), e.g. "us-east-1" for what
    #: global services (Route 53 query logs, CloudFront) keep there; None: the provider's region.
    region: str | None = None


def key_policy(args: KmsKeyArgs) -> str:
    """The account root administers the key (so IAM policies decide who else may use it); listed
    services may use it, scoped by `service_condition`, and each of `grants` by its own condition.
    No statement grants to `*`."""
    statements: list[dict[str, Any]] = [{
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{args.account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }]
    if args.service_principals:
        grant: dict[str, Any] = {
            "Sid": "ServicesEncrypt",
            "Effect": "Allow",
            "Principal": {"Service": sorted(args.service_principals)},
            "Action": list(ENCRYPT_ACTIONS),
            "Resource": "*",
        }
        if args.service_condition:
            grant["Condition"] = args.service_condition
        statements.append(grant)
    for extra in args.grants:
        if not extra.condition:
            raise ValueError(f"key grant {extra.sid!r}: a service grant must carry a condition")
        statements.append({
            "Sid": extra.sid,
            "Effect": "Allow",
            "Principal": {"Service": sorted(extra.services)},
            "Action": list(extra.actions),
            "Resource": "*",
            "Condition": extra.condition,
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class KmsKey(pulumi.ComponentResource):
    """Key plus alias; `arn` and `key_id` are what other resources reference."""

    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]

    def __init__(self, name: str, args: KmsKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:security:KmsKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(
            name,
            description=args.description,
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.deletion_window_in_days,
            policy=key_policy(args),
            region=args.region,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                protect=args.protect, retain_on_delete=args.protect)),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{args.alias}",
            target_key_id=self.key.key_id,
            region=args.region,
            opts=child,
        )
        self.arn = self.key.arn
        self.key_id = self.key.key_id
        self.register_outputs({"arn": self.arn, "keyId": self.key_id})
