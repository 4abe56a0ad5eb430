"""The controls every account gets on day one, whatever its role.

Account-level S3 public access block, EBS encryption by default with a customer-managed key, an
account KMS key for the account's own data, a CIS-grade IAM password policy and an account-scoped IAM
Access Analyzer (CIS 1.19, 1.8-1.9, 2.1.4, 5.1.1; FSBP S3.1, EC2.7, KMS.4), and an AWS Config
recorder delivering to the log archive (CIS 3.3; FSBP Config.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .config_recorder import ConfigDelivery, ConfigRecorder
from .kms_key import KmsKey, KmsKeyArgs


@dataclass(frozen=True)
class AccountBaselineArgs:
    """The account the baseline is laid down in."""

    #: The AWS account id (the account-level public access block and key policies name it).
    account_id: str
    #: The region (the account key admits this region's CloudWatch Logs service).
    region: str
    #: Prefix of physical names, e.g. "dev-api": the key aliases (`alias/<prefix>/account`, `alias/<prefix>/ebs`)
    #: and the Access Analyzer (`<prefix>-account`).
    name_prefix: str
    #: Pulumi `protect` and `retain_on_delete` on both KMS keys: no update deletes them and a destroy
    #: leaves them in the account (prod).
    protect: bool = True
    #: Where the Config recorder delivers. None only in the log archive, whose own Config bucket does not
    #: exist yet when its baseline is laid down: it starts its recorder itself, once the bucket exists.
    config_delivery: ConfigDelivery | None = None


class AccountBaseline(pulumi.ComponentResource):
    """Public access block, EBS default encryption, account and EBS keys, password policy, analyzer, Config."""

    account_key: KmsKey
    ebs_key: KmsKey
    config_recorder: ConfigRecorder | None

    def __init__(self, name: str, args: AccountBaselineArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:account:AccountBaseline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        aws.s3.AccountPublicAccessBlock(
            f"{name}-s3-public-access-block",
            account_id=args.account_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        self.account_key = KmsKey(
            f"{name}-account-key",
            KmsKeyArgs(
                description=f"{args.name_prefix}: encrypts this account's data at rest",
                account_id=args.account_id,
                alias=f"{args.name_prefix}/account",
                service_principals=[f"logs.{args.region}.amazonaws.com", "sns.amazonaws.com",
                                    "sqs.amazonaws.com", "events.amazonaws.com", "cloudwatch.amazonaws.com"],
                service_condition={"StringEquals": {"aws:SourceAccount": args.account_id}},
                protect=args.protect,
            ),
            opts=child,
        )
        self.ebs_key = KmsKey(
            f"{name}-ebs-key",
            KmsKeyArgs(
                description=f"{args.name_prefix}: default key for EBS volumes and snapshots",
                account_id=args.account_id,
                alias=f"{args.name_prefix}/ebs",
                protect=args.protect,
            ),
            opts=child,
        )
        encryption = aws.ebs.EncryptionByDefault(f"{name}-ebs-encryption-by-default", enabled=True, opts=child)
        self.ebs_default_key = aws.ebs.DefaultKmsKey(
            f"{name}-ebs-default-key",
            key_arn=self.ebs_key.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[encryption]),
        )
        aws.iam.AccountPasswordPolicy(
            f"{name}-password-policy",
            minimum_password_length=14,
            require_lowercase_characters=True,
            require_uppercase_characters=True,
            require_numbers=True,
            require_symbols=True,
            allow_users_to_change_password=True,
            password_reuse_prevention=24,
            max_password_age=90,
            opts=child,
        )
        aws.accessanalyzer.Analyzer(
            f"{name}-access-analyzer",
            analyzer_name=f"{args.name_prefix}-account",
            type="ACCOUNT",
            opts=child,
        )
        self.config_recorder = None if args.config_delivery is None else ConfigRecorder(
            f"{name}-config", args.config_delivery, opts=child)
        self.register_outputs({"accountKeyArn": self.account_key.arn, "ebsKeyArn": self.ebs_key.arn})
