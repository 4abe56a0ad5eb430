"""The log archive account: the organization's tamper-resistant log store [16].

The bucket and its key admit log delivery only from the organization's own accounts
(`aws:SourceOrgID`), so workload stacks can point trails, flow logs and WAF logs at it.
"""

from __future__ import annotations

import pulumi

from components.kms_key import KmsKey, KmsKeyArgs
from components.log_bucket import LogBucket, LogBucketArgs

from .base import Account, AccountContext

LOG_DELIVERY_SERVICES = ("cloudtrail.amazonaws.com", "config.amazonaws.com", "delivery.logs.amazonaws.com")


class LogArchiveAccount(Account):
    TYPE = "openbanking:account:LogArchive"

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]

    def __init__(self, name: str, ctx: AccountContext, organization_id: str, retention_days: int,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, opts)
        org_condition = {"StringEquals": {"aws:SourceOrgID": organization_id}}
        self.key = KmsKey(
            f"{name}-log-key",
            KmsKeyArgs(
                description=f"{ctx.name_prefix}: encrypts the organization's logs",
                account_id=ctx.account_id,
                alias=f"{ctx.name_prefix}/logs",
                service_principals=[*LOG_DELIVERY_SERVICES, f"logs.{ctx.region}.amazonaws.com"],
                service_condition=org_condition,
                protect=ctx.protect,
            ),
            opts=self.child,
        )
        self.bucket = LogBucket(
            f"{name}-log-bucket",
            LogBucketArgs(
                bucket_name=f"{ctx.name_prefix}-{ctx.account_id}-{ctx.region}",
                kms_key_arn=self.key.arn,
                retention_days=retention_days,
                delivery_services=LOG_DELIVERY_SERVICES,
                delivery_condition=org_condition,
                protect=ctx.protect,
            ),
            opts=self.child,
        )
        self.bucket_name = self.bucket.bucket_name
        self.bucket_arn = self.bucket.arn
        self.key_arn = self.key.arn
        self.register_outputs({"bucketName": self.bucket_name, "bucketArn": self.bucket_arn,
                               "keyArn": self.key_arn})
