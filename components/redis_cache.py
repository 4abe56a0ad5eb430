"""ElastiCache (Valkey) replication group: the services' read-through cache of the ledger [10].

TLS is required in transit, data at rest is encrypted with the account's customer key, and access is by
RBAC users only: the mandatory `default` user is switched off, and each workload signs in as its own user
with IAM authentication (no password exists), allowed only the key prefix it uses. Prod: a replica in
another AZ with automatic failover. Slow and engine logs go to KMS-encrypted log groups; snapshots are kept
a week.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .network_access import admit

ENGINE = "valkey"
ENGINE_VERSION = "8.0"
PORT = 6379


@dataclass(frozen=True)
class CacheUser:
    """A workload's sign-in to the cache."""

    #: The user name and id (IAM authentication needs them equal), e.g. "ais".
    name: str
    #: Key patterns it may touch, e.g. ("ob:prod:*",) (Redis ACL `~pattern`).
    key_patterns: Sequence[str]
    #: Its tasks' security group: admitted on the cache port.
    security_group_id: pulumi.Input[str]


@dataclass(frozen=True)
class RedisCacheArgs:
    """One replication group."""

    #: Replication group id (40 characters at most), e.g. "prod-workload-ais-cache".
    replication_group_id: str
    #: The VPC of the data subnets (the cache's security group lives there).
    vpc_id: pulumi.Input[str]
    #: The data subnets, one per AZ.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: The workloads that sign in.
    users: Sequence[CacheUser]
    #: Node type, e.g. "cache.t4g.small".
    node_type: str
    #: Replicas besides the primary; 1 or more turns on Multi-AZ with automatic failover.
    replicas: int
    #: The account's customer key: data at rest and the log groups.
    kms_key_arn: pulumi.Input[str]
    #: Days the slow-log and engine-log groups keep their events.
    log_retention_days: int
    #: Prod: `protect` the replication group (a lost cache is a cold ledger and a failover without warm-up).
    protect: bool = False
    #: Days of daily snapshots.
    snapshot_retention_days: int = 7


class RedisCache(pulumi.ComponentResource):
    replication_group: aws.elasticache.ReplicationGroup
    security_group: aws.ec2.SecurityGroup

    def __init__(self, name: str, args: RedisCacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:data:RedisCache", name, None, opts)
        if len(args.replication_group_id) > 40:
            raise ValueError(f"{name}: replication group id {args.replication_group_id!r} exceeds 40 characters")
        if not 0 <= args.replicas <= 5:
            raise ValueError(f"{name}: {args.replicas} replicas; ElastiCache allows 0 to 5")
        names = [u.name for u in args.users]
        if not names or "default" in names or len(set(names)) != len(names):
            raise ValueError(f"{name}: cache users {names} must be distinct workload names (not 'default')")
        child = pulumi.ResourceOptions(parent=self)
        rid = args.replication_group_id
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description=f"{rid}: Valkey from its workloads only",
            tags={"Name": rid}, opts=child)
        for user in args.users:
            admit(f"{name}-from-{user.name}", group_id=self.security_group.id, port=PORT,
                  from_group_id=user.security_group_id, description=f"Valkey from {user.name}",
                  parent=self.security_group)
        subnets = aws.elasticache.SubnetGroup(f"{name}-subnets", name=rid, subnet_ids=list(args.subnet_ids),
                                              description=f"{rid}: the data subnets", opts=child)
        # Every user group must hold a user named `default`; this one can do nothing.
        default_user = aws.elasticache.User(
            f"{name}-default-user", engine=ENGINE, user_id=f"{rid}-default", user_name="default",
            access_string="off -@all", authentication_mode=aws.elasticache.UserAuthenticationModeArgs(
                type="no-password-required"), opts=child)
        users = [aws.elasticache.User(
            f"{name}-user-{user.name}", engine=ENGINE, user_id=user.name, user_name=user.name,
            access_string=" ".join(["on", *(f"~{p}" for p in user.key_patterns), "+@all", "-@dangerous"]),
            authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="iam"), opts=child)
            for user in args.users]
        group = aws.elasticache.UserGroup(
            f"{name}-users", engine=ENGINE, user_group_id=rid,
            user_ids=[default_user.user_id, *(u.user_id for u in users)], opts=child)
        logs = {kind: aws.cloudwatch.LogGroup(
            f"{name}-{kind}", name=f"/aws/elasticache/{rid}/{kind}", kms_key_id=args.kms_key_arn,
            retention_in_days=args.log_retention_days, opts=child) for kind in ("slow-log", "engine-log")}
        highly_available = args.replicas >= 1
        self.replication_group = aws.elasticache.ReplicationGroup(
            f"{name}-group",
            replication_group_id=rid,
            description=f"{rid}: read-through cache of the ledger",
            engine=ENGINE,
            engine_version=ENGINE_VERSION,
            node_type=args.node_type,
            num_cache_clusters=1 + args.replicas,
            automatic_failover_enabled=highly_available,
            multi_az_enabled=highly_available,
            port=PORT,
            subnet_group_name=subnets.name,
            security_group_ids=[self.security_group.id],
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            at_rest_encryption_enabled=True,
            kms_key_id=args.kms_key_arn,
            user_group_ids=[group.user_group_id],
            snapshot_retention_limit=args.snapshot_retention_days,
            snapshot_window="01:00-02:00",
            maintenance_window="sun:04:30-sun:05:30",
            auto_minor_version_upgrade=True,
            apply_immediately=False,
            log_delivery_configurations=[aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                destination=group_.name, destination_type="cloudwatch-logs", log_format="json", log_type=kind)
                for kind, group_ in logs.items()],
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        self.endpoint = self.replication_group.primary_endpoint_address
        self.port = PORT
        self.security_group_id = self.security_group.id
        #: User name -> its user's ARN (the `elasticache:Connect` resource with the group's).
        self.user_arns: Mapping[str, pulumi.Output[str]] = {u.name: user.arn for u, user in zip(args.users, users,
                                                                                               strict=True)}
        self.register_outputs({"endpoint": self.endpoint})
