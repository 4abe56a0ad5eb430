"""The log archive's copy in a second region: S3 replication of audit log buckets into replica buckets there.

A region loss must not take the audit record with it. Each replicated bucket gets a replica in the second
region with the same Object Lock (compliance mode, same retention) and lifecycle, encrypted with a key of
that region, TLS-only, written by nothing but the replication role; their server access logs stay in that
region. One role of least privilege reads the sources' versions (and their retention) and writes the replicas.

Replication rules: every object, SSE-KMS objects included, within 15 minutes (S3 Replication Time Control,
with metrics to alarm on); delete markers are NOT replicated: a DELETE on the home bucket only adds a marker
(Object Lock keeps every version) and must not hide the copy; replica modification sync is on, so retention
and legal holds set on a replica flow back once the reverse rule exists (failback after a region loss).
What a region loss keeps and loses: docs/foundation.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .kms_key import KeyGrant, KmsKey, KmsKeyArgs
from .log_bucket import Lifecycle, LogBucket, LogBucketArgs

#: Minutes within which S3 Replication Time Control replicates an object (its SLA, and the metrics' threshold).
REPLICATION_MINUTES = 15


@dataclass(frozen=True)
class ReplicaSource:
    """A home log bucket to replicate."""

    #: The bucket component: its name, ARN and versioning (replication waits for it).
    bucket: LogBucket
    #: Physical name of its replica in the second region (globally unique).
    replica_name: str


@dataclass(frozen=True)
class LogReplicaArgs:
    """Where the copy goes, what it copies and how long it keeps it."""

    #: The second region (of the region SCP's allowed regions, not the home region).
    region: str
    #: The provider of the same account in `region`; the replica buckets and key are created with it.
    provider: aws.Provider
    #: The home region: the sources' key is used through S3 there (`kms:ViaService`).
    home_region: str
    #: The log archive account's id: the role trusts S3 for it only, the key grants are scoped to it.
    account_id: str
    #: Prefix of the key alias (`<prefix>/logs-replica`).
    name_prefix: str
    #: Key -> the home bucket to replicate (e.g. "trail", "config"); names the replica's resources.
    sources: Mapping[str, ReplicaSource]
    #: The key the home buckets are encrypted with (the role decrypts with it).
    source_key_arn: pulumi.Input[str]
    #: Physical name of the replica region's server access log bucket.
    access_log_bucket_name: str
    #: Object Lock retention of the replicas, in days: the same as the home buckets'.
    retention_days: int
    #: When replica objects move to cheaper storage and expire: the same as the home buckets'.
    lifecycle: Lifecycle
    #: Pulumi `protect` and `retain_on_delete` on the replica buckets and key (prod).
    protect: bool = True

    def __post_init__(self) -> None:
        if self.region == self.home_region:
            raise ValueError(f"the log replica region {self.region!r} is the home region; a replica must be elsewhere")
        if not self.sources:
            raise ValueError("a log replica needs at least one bucket to replicate")


def replication_role_policy(sources: Sequence[str], replicas: Sequence[str], source_key: str, replica_key: str,
                            home_region: str, replica_region: str) -> str:
    """What S3 replication needs, on exactly these buckets and keys: read the sources' configuration and
    versions (with their Object Lock retention), write the replicas, decrypt with the home key and encrypt with
    the replica key, each only through S3 in its region and for these buckets."""
    def objects(arns: Sequence[str]) -> list[str]:
        return [f"{arn}/*" for arn in arns]

    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadReplicationConfiguration", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": list(sources)},
        {"Sid": "ReadSourceVersions", "Effect": "Allow",
         "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging",
                    "s3:GetObjectRetention", "s3:GetObjectLegalHold"], "Resource": objects(sources)},
        {"Sid": "WriteReplicas", "Effect": "Allow",
         "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], "Resource": objects(replicas)},
        {"Sid": "DecryptSources", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": source_key,
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{home_region}.amazonaws.com"},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": [*sources, *objects(sources)]}}},
        {"Sid": "EncryptReplicas", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
         "Resource": replica_key,
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{replica_region}.amazonaws.com"},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": [*replicas, *objects(replicas)]}}},
    ]})


class LogReplica(pulumi.ComponentResource):
    """Replica key, replica buckets and their access-log bucket in the second region; the replication role and
    each source's replication configuration in the home region."""

    replicas: dict[str, LogBucket]
    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: LogReplicaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:logging:LogReplica", name, None, opts)
        there = pulumi.ResourceOptions(parent=self, provider=args.provider)
        own_account = {"StringEquals": {"aws:SourceAccount": args.account_id}}
        self.key = KmsKey(f"{name}-key", KmsKeyArgs(
            description=f"{args.name_prefix}: encrypts the organization's replicated audit logs in {args.region}",
            account_id=args.account_id, alias=f"{args.name_prefix}/logs-replica",
            grants=[KeyGrant("ServerAccessLogsEncrypt", ["logging.s3.amazonaws.com"], own_account)],
            protect=args.protect), opts=there)
        self.key_arn = self.key.arn
        self.role = aws.iam.Role(
            f"{name}-replication-role",
            description=f"S3 replication of the audit log buckets to {args.region}",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": own_account}]}),
            opts=pulumi.ResourceOptions(parent=self),
        )
        access_logs = LogBucket(f"{name}-s3-access", LogBucketArgs(
            bucket_name=args.access_log_bucket_name, kms_key_arn=self.key.arn, retention_days=args.retention_days,
            lock_mode="COMPLIANCE", delivery_services=["logging.s3.amazonaws.com"], delivery_condition=own_account,
            default_retention=False, lifecycle=args.lifecycle, protect=args.protect), opts=there)
        self.replicas = {
            key: LogBucket(f"{name}-{key}", LogBucketArgs(
                bucket_name=source.replica_name, kms_key_arn=self.key.arn, retention_days=args.retention_days,
                lock_mode="COMPLIANCE", lifecycle=args.lifecycle, access_log_bucket=access_logs.bucket_name,
                replicated_by=self.role.arn, protect=args.protect), opts=there)
            for key, source in args.sources.items()
        }
        keys = list(args.sources)
        aws.iam.RolePolicy(
            f"{name}-replication-policy",
            role=self.role.name,
            policy=pulumi.Output.all(
                sources=[args.sources[k].bucket.arn for k in keys], replicas=[self.replicas[k].arn for k in keys],
                source_key=args.source_key_arn, replica_key=self.key.arn,
            ).apply(lambda a: replication_role_policy(a["sources"], a["replicas"], a["source_key"], a["replica_key"],
                                                      args.home_region, args.region)),
            opts=pulumi.ResourceOptions(parent=self.role),
        )
        for key, source in args.sources.items():
            replica = self.replicas[key]
            aws.s3.BucketReplicationConfig(
                f"{name}-{key}-replication",
                bucket=source.bucket.bucket.id,
                role=self.role.arn,
                rules=[aws.s3.BucketReplicationConfigRuleArgs(
                    id=f"{key}-to-{args.region}",
                    status="Enabled",
                    filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                    delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                        status="Disabled"),
                    source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                        sse_kms_encrypted_objects=aws.s3.
                        BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(status="Enabled"),
                        replica_modifications=aws.s3.
                        BucketReplicationConfigRuleSourceSelectionCriteriaReplicaModificationsArgs(status="Enabled"),
                    ),
                    destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                        bucket=replica.arn,
                        encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                            replica_kms_key_id=self.key.arn),
                        metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                            status="Enabled",
                            event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                                minutes=REPLICATION_MINUTES)),
                        replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                            status="Enabled",
                            time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                                minutes=REPLICATION_MINUTES)),
                    ),
                )],
                # both sides must be versioned before S3 accepts the configuration
                opts=pulumi.ResourceOptions(parent=self, depends_on=[source.bucket.versioning, replica.versioning]),
            )
        self.register_outputs({"keyArn": self.key_arn,
                               "replicaBucketArns": {key: b.arn for key, b in self.replicas.items()}})
