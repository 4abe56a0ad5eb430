"""The log archive account: the organization's tamper-resistant log store and its analytics [16].

One bucket per log type (trail, Config, VPC flow logs, WAF, API/load-balancer access logs), each
SSE-KMS with the log archive key, versioned, Object Lock in compliance mode and admitting delivery only
from the organization's own accounts (`aws:SourceOrgID`); their S3 server access logs go to a sixth
bucket. OpenSearch Ingestion pipelines index every new object into an OpenSearch domain inside a small
isolated VPC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config_recorder import ConfigDelivery, ConfigRecorder
from components.isolated_vpc import IsolatedVpc, IsolatedVpcArgs
from components.kms_key import KeyGrant, KmsKey, KmsKeyArgs
from components.log_bucket import Lifecycle, LogBucket, LogBucketArgs
from components.log_destination import LogDestination, LogDestinationArgs
from components.log_ingestion import LogIngestion, LogIngestionArgs, LogSource, ingestion_role
from components.log_replica import LogReplica, LogReplicaArgs, ReplicaSource
from components.network_firewall import FIREWALL_LOG_PREFIX
from components.opensearch_domain import OpenSearchDomain, OpenSearchDomainArgs
from components.vpc_baseline import FLOW_LOG_FILE_FORMAT, FLOW_LOG_PREFIX

from .base import Account, AccountContext

LOG_DELIVERY_SERVICES = ("cloudtrail.amazonaws.com", "config.amazonaws.com", "delivery.logs.amazonaws.com")

#: Bucket key -> the service that delivers into it.
LOG_BUCKETS: dict[str, str] = {
    "trail": "cloudtrail.amazonaws.com",
    "config": "config.amazonaws.com",
    "flow-logs": "delivery.logs.amazonaws.com",
    "waf": "delivery.logs.amazonaws.com",
    "access-logs": "delivery.logs.amazonaws.com",
}

#: Where the API Gateway access logs land in the access-logs bucket (Firehose, from the log archive's CloudWatch Logs
#: destination), and where the stream puts the records it could not process or deliver.
API_ACCESS_LOG_PREFIX, API_ACCESS_LOG_ERROR_PREFIX = "api-gateway/", "api-gateway-errors/"

#: The Data Prepper codec of each VPC flow log file format; the writers' format (FLOW_LOG_FILE_FORMAT) picks it.
FLOW_LOG_CODECS: dict[str, dict[str, Any]] = {
    "parquet": {"parquet": {}},
    "plain-text": {"csv": {"delimiter": " ", "detect_header": True}},
}


@dataclass(frozen=True)
class IngestedLogs:
    """One kind of log object the pipelines index: where it lands (bucket and key prefix), how it decodes."""

    #: The LOG_BUCKETS key of the bucket it lands in.
    bucket: str
    #: Key prefix its writers use ("": the whole bucket); one format per prefix, one pipeline per prefix.
    prefix: str
    #: The Data Prepper S3 codec of its writers' format.
    codec: dict[str, Any]
    #: The OpenSearch index it goes to.
    index: str


#: Pipeline key -> what it reads. The flow-logs bucket holds two formats under two prefixes: every VPC's flow
#: logs (components/vpc_baseline.py: Parquet under `vpc-flow-logs/`) and the Network Firewall's alert and flow
#: logs (components/network_firewall.py: JSON lines under `network-firewall/`, a format the firewall does not
#: let us choose), so it gets a pipeline for each (docs/foundation.md, "Ingestion").
INGESTED_LOGS: dict[str, IngestedLogs] = {
    "trail": IngestedLogs("trail", "", {"json": {}}, "cloudtrail-%{yyyy.MM.dd}"),
    "config": IngestedLogs("config", "", {"json": {}}, "config-%{yyyy.MM.dd}"),
    "flow-logs": IngestedLogs("flow-logs", f"{FLOW_LOG_PREFIX}/", FLOW_LOG_CODECS[FLOW_LOG_FILE_FORMAT],
                              "vpc-flow-logs-%{yyyy.MM.dd}"),
    "network-firewall": IngestedLogs("flow-logs", f"{FIREWALL_LOG_PREFIX}/", {"ndjson": {}},
                                     "network-firewall-%{yyyy.MM.dd}"),
    "waf": IngestedLogs("waf", "", {"ndjson": {}}, "waf-%{yyyy.MM.dd}"),
    "access-logs": IngestedLogs("access-logs", "", {"newline": {}}, "access-logs-%{yyyy.MM.dd}"),
}


#: The buckets replicated to the replica region: the audit record (who did what, what changed). Flow, WAF and
#: access logs are high-volume telemetry kept in the home region only (docs/foundation.md, "Region loss").
REPLICATED_LOGS = ("trail", "config")


@dataclass(frozen=True)
class ReplicaPlacement:
    """Where the log archive's copy lives: a second region and the account's provider there."""

    #: The replica region (config `foundation.logArchive.replicaRegion`).
    region: str
    #: The log archive account's provider in that region (environments/providers.py).
    provider: aws.Provider


@dataclass(frozen=True)
class OpenSearchSizing:
    """The log analytics domain's size and the isolated VPC it lives in (config `foundation.openSearch`)."""

    #: Engine and version, e.g. "OpenSearch_2.19".
    engine_version: str
    #: Data node instance type, e.g. "r6g.large.search".
    instance_type: str
    #: Number of data nodes; with more than one zone, a multiple of `availability_zones`.
    instance_count: int
    #: Size of each data node's gp3 EBS volume, in GiB.
    volume_size_gb: int
    #: Zones the isolated VPC's subnets and the data nodes span (1-3); above 1, zone awareness is on.
    availability_zones: int
    #: Instance type of the dedicated master nodes; None: no dedicated masters.
    dedicated_master_type: str | None
    #: Number of dedicated master nodes (3 or 5); ignored without `dedicated_master_type`.
    dedicated_master_count: int
    #: IPv4 range of the isolated VPC the domain and the ingestion pipelines live in; the only source
    #: the domain admits on HTTPS.
    vpc_cidr: str


@dataclass(frozen=True)
class LogArchiveArgs:
    """The organization and retention settings of the central log store and its analytics."""

    #: The organization's id (`o-...`): only its accounts may deliver to the log buckets and
    #: encrypt with the log key (`aws:SourceOrgID`).
    organization_id: str
    #: Days every log object is retained under Object Lock in compliance mode: nobody, root
    #: included, can delete or overwrite it sooner.
    object_lock_days: int
    #: When log objects (every log bucket's, the access-log bucket's too) move to STANDARD_IA and GLACIER and expire.
    lifecycle: Lifecycle
    #: Retention of the account's CloudWatch log groups (OpenSearch audit, pipelines).
    log_retention_days: int
    #: Size of the log analytics domain and of its isolated VPC.
    opensearch: OpenSearchSizing
    #: The roles that may assume the domain's master role (config `foundation.openSearch.administratorRoleArns`).
    opensearch_administrator_role_arns: Sequence[str]
    #: The second region the buckets of :data:`REPLICATED_LOGS` replicate to; None: no replica.
    replica: ReplicaPlacement | None = None


def bucket_name(prefix: str, key: str, account_id: str, region: str) -> str:
    """Physical bucket names; WAF only delivers to buckets named `aws-waf-logs-*`."""
    base = f"{prefix}-{key}-{account_id}-{region}"
    return f"aws-waf-logs-{prefix}-{account_id}-{region}" if key == "waf" else base


class LogArchiveAccount(Account):
    """Log key, log buckets, the account's Config recorder, and the OpenSearch log analytics with its ingestion."""

    TYPE = "openbanking:account:LogArchive"

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    bucket_arns: dict[str, pulumi.Output[str]]
    bucket_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, ctx: AccountContext, args: LogArchiveArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, ctx, opts)
        org_condition = {"StringEquals": {"aws:SourceOrgID": args.organization_id}}
        own_account = {"StringEquals": {"aws:SourceAccount": ctx.account_id}}
        self.key = KmsKey(
            f"{name}-log-key",
            KmsKeyArgs(
                description=f"{ctx.name_prefix}: encrypts the organization's logs",
                account_id=ctx.account_id,
                alias=f"{ctx.name_prefix}/logs",
                service_principals=[*LOG_DELIVERY_SERVICES, f"logs.{ctx.region}.amazonaws.com"],
                service_condition=org_condition,
                grants=[KeyGrant("ServerAccessLogsEncrypt", ["logging.s3.amazonaws.com"], own_account)],
                protect=ctx.protect,
            ),
            opts=self.child,
        )
        self.access_log_bucket = LogBucket(
            f"{name}-s3-access",
            LogBucketArgs(
                bucket_name=bucket_name(ctx.name_prefix, "s3-access", ctx.account_id, ctx.region),
                kms_key_arn=self.key.arn,
                retention_days=args.object_lock_days,
                lock_mode="COMPLIANCE",
                delivery_services=["logging.s3.amazonaws.com"],
                delivery_condition=own_account,
                default_retention=False,
                lifecycle=args.lifecycle,
                protect=ctx.protect,
            ),
            opts=self.child,
        )
        self.buckets: dict[str, LogBucket] = {
            key: LogBucket(
                f"{name}-{key}",
                LogBucketArgs(
                    bucket_name=bucket_name(ctx.name_prefix, key, ctx.account_id, ctx.region),
                    kms_key_arn=self.key.arn,
                    retention_days=args.object_lock_days,
                    lock_mode="COMPLIANCE",
                    delivery_services=[service],
                    delivery_condition=org_condition,
                    lifecycle=args.lifecycle,
                    access_log_bucket=self.access_log_bucket.bucket_name,
                    protect=ctx.protect,
                ),
                opts=self.child,
            ) for key, service in LOG_BUCKETS.items()
        }
        self.bucket_arns = {key: b.arn for key, b in self.buckets.items()}
        self.bucket_names = {key: b.bucket_name for key, b in self.buckets.items()}
        self.replica: LogReplica | None = None
        if args.replica is not None:
            there = args.replica.region
            self.replica = LogReplica(f"{name}-replica", LogReplicaArgs(
                region=there, provider=args.replica.provider, home_region=ctx.region, account_id=ctx.account_id,
                name_prefix=ctx.name_prefix,
                sources={key: ReplicaSource(self.buckets[key], bucket_name(ctx.name_prefix, key, ctx.account_id, there))
                         for key in REPLICATED_LOGS},
                source_key_arn=self.key.arn,
                access_log_bucket_name=bucket_name(ctx.name_prefix, "s3-access", ctx.account_id, there),
                retention_days=args.object_lock_days, lifecycle=args.lifecycle, protect=ctx.protect,
            ), opts=self.child)
        self.config_delivery = ConfigDelivery(bucket_name=self.bucket_names["config"], kms_key_arn=self.key.arn)
        # This account's own recorder delivers to the bucket just made (named and aliased as the baseline's
        # child it was before the baseline became complete when constructed).
        self.config_recorder = ConfigRecorder(
            f"{name}-baseline-config", self.config_delivery,
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=self.baseline)]))

        self.analytics_key = KmsKey(
            f"{name}-analytics-key",
            KmsKeyArgs(
                description=f"{ctx.name_prefix}: encrypts log analytics (OpenSearch, ingestion queues and buffers)",
                account_id=ctx.account_id,
                alias=f"{ctx.name_prefix}/log-analytics",
                service_principals=[f"logs.{ctx.region}.amazonaws.com", "s3.amazonaws.com"],
                service_condition=own_account,
                protect=ctx.protect,
            ),
            opts=self.child,
        )
        # API Gateway access logs reach CloudWatch Logs only: the organization's stages subscribe their access log
        # groups to this destination, and Firehose writes the lines into the access-logs bucket (docs/edge.md).
        self.api_access_logs = LogDestination(f"{name}-api-access-logs", LogDestinationArgs(
            destination_name=f"{ctx.name_prefix}-api-access-logs", account_id=ctx.account_id, region=ctx.region,
            organization_id=args.organization_id, bucket_arn=self.bucket_arns["access-logs"],
            prefix=API_ACCESS_LOG_PREFIX, error_prefix=API_ACCESS_LOG_ERROR_PREFIX, kms_key_arn=self.key.arn,
            log_group_kms_key_arn=self.analytics_key.arn, log_retention_days=args.log_retention_days), opts=self.child)
        sizing = args.opensearch
        self.vpc = IsolatedVpc(
            f"{name}-analytics-vpc",
            IsolatedVpcArgs(cidr=sizing.vpc_cidr, region=ctx.region, availability_zones=sizing.availability_zones,
                            name_prefix=f"{ctx.name_prefix}-analytics", flow_log_bucket_arn=self.bucket_arns["flow-logs"]),
            opts=self.child,
        )
        role = ingestion_role(f"{name}-ingestion-role", f"{ctx.name_prefix}-log-ingestion", ctx.account_id, self.child)
        self.opensearch = OpenSearchDomain(
            f"{name}-opensearch",
            OpenSearchDomainArgs(
                domain_name=f"{ctx.environment}-logs"[:28],
                account_id=ctx.account_id,
                region=ctx.region,
                engine_version=sizing.engine_version,
                instance_type=sizing.instance_type,
                instance_count=sizing.instance_count,
                volume_size_gb=sizing.volume_size_gb,
                availability_zones=sizing.availability_zones,
                dedicated_master_type=sizing.dedicated_master_type,
                dedicated_master_count=sizing.dedicated_master_count,
                vpc_id=self.vpc.vpc_id,
                vpc_cidr=sizing.vpc_cidr,
                subnet_ids=self.vpc.subnet_ids,
                kms_key_arn=self.analytics_key.arn,
                log_retention_days=args.log_retention_days,
                administrator_role_arns=args.opensearch_administrator_role_arns,
                writer_role_arns=[role.arn],
                protect=ctx.protect,
            ),
            opts=self.child,
        )
        self.ingestion = LogIngestion(
            f"{name}-ingestion",
            LogIngestionArgs(
                account_id=ctx.account_id,
                region=ctx.region,
                sources=[LogSource(key=key, bucket_name=self.bucket_names[logs.bucket],
                                   bucket_arn=self.bucket_arns[logs.bucket], codec=logs.codec, index=logs.index,
                                   prefix=logs.prefix, bucket_key=logs.bucket)
                         for key, logs in INGESTED_LOGS.items()],
                domain_arn=self.opensearch.arn,
                domain_endpoint=self.opensearch.endpoint,
                role=role,
                subnet_ids=self.vpc.subnet_ids,
                vpc_id=self.vpc.vpc_id,
                vpc_cidr=sizing.vpc_cidr,
                kms_key_arn=self.analytics_key.arn,
                log_kms_key_arn=self.key.arn,
                log_retention_days=args.log_retention_days,
            ),
            opts=self.child,
        )
        # Flow logs are the bucket every VPC of every stack delivers to (the historical "log archive bucket").
        self.bucket_name = self.bucket_names["flow-logs"]
        self.bucket_arn = self.bucket_arns["flow-logs"]
        self.key_arn = self.key.arn
        self.register_outputs({"bucketArns": self.bucket_arns, "keyArn": self.key_arn,
                               "openSearchEndpoint": self.opensearch.endpoint})
