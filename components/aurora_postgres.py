"""Aurora PostgreSQL (Serverless v2): the account's copy of the core-banking system of record [12].

Storage is encrypted with the account's customer key; the master password is generated, kept and rotated
by RDS in Secrets Manager under the same key (nobody types it, the program never sees it); applications
sign in with IAM database authentication; every connection must use TLS (`rds.force_ssl`); the
`postgresql` and `iam-db-auth-error` logs go to KMS-encrypted log groups made here with the configured
retention. The cluster lives in the data subnets behind a security group that admits PostgreSQL from the
workloads that use it and from nothing else. Deletion protection is on in every stage; prod adds a final
snapshot on delete and `protect`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .network_access import admit

ENGINE = aws.rds.EngineType.AURORA_POSTGRESQL
ENGINE_VERSION = "16.6"
PARAMETER_FAMILY = "aurora-postgresql16"
PORT = 5432
LOG_EXPORTS = ("postgresql", "iam-db-auth-error")


@dataclass(frozen=True)
class AuroraPostgresArgs:
    """One Aurora PostgreSQL cluster."""

    #: Cluster identifier and the prefix of its instances, parameter and subnet groups, e.g. "prod-workload-ais-ledger".
    cluster_identifier: str
    #: The database the services use.
    database_name: str
    #: The VPC of the data subnets (the cluster's security group lives there).
    vpc_id: pulumi.Input[str]
    #: The data subnets, one per AZ (the cluster spans them).
    subnet_ids: Sequence[pulumi.Input[str]]
    #: Workloads that may connect (their security group ids, by a name for the rule).
    client_security_group_ids: Mapping[str, pulumi.Input[str]]
    #: The account's customer key: storage, the master secret, Performance Insights, the log groups.
    kms_key_arn: pulumi.Input[str]
    #: Serverless v2 capacity range in ACUs (0 lets an idle cluster pause: the sandbox).
    min_capacity: float
    #: The largest the cluster scales to, in ACUs (1 ACU: about 2 GiB of memory).
    max_capacity: float
    #: Instances: one writer plus readers in other AZs (prod: 2 at least, so a failover has somewhere to go).
    instances: int
    #: Days of automated backups (point-in-time restore window).
    backup_retention_days: int
    #: Days the exported database logs are kept.
    log_retention_days: int
    #: Prod: deletion protection, a final snapshot on delete, `protect` and `retain_on_delete`.
    protect: bool
    #: Seconds an idle cluster waits before pausing when `min_capacity` is 0.
    seconds_until_auto_pause: int = 600


class AuroraPostgres(pulumi.ComponentResource):
    cluster: aws.rds.Cluster
    security_group: aws.ec2.SecurityGroup

    def __init__(self, name: str, args: AuroraPostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:data:AuroraPostgres", name, None, opts)
        if not 0 <= args.min_capacity <= args.max_capacity <= 256:
            raise ValueError(f"{name}: capacity must satisfy 0 <= min ({args.min_capacity}) <= max "
                             f"({args.max_capacity}) <= 256 ACUs")
        if not 1 <= args.instances <= 15:
            raise ValueError(f"{name}: {args.instances} instances; Aurora runs 1 to 15")
        if not 1 <= args.backup_retention_days <= 35:
            raise ValueError(f"{name}: backup retention {args.backup_retention_days} days; Aurora keeps 1 to 35")
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        cid = args.cluster_identifier
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description=f"{cid}: PostgreSQL from its workloads only",
            tags={"Name": f"{cid}-db"}, opts=child)
        for client, group_id in args.client_security_group_ids.items():
            admit(f"{name}-from-{client}", group_id=self.security_group.id, port=PORT, from_group_id=group_id,
                  description=f"PostgreSQL from {client}", parent=self.security_group)
        subnets = aws.rds.SubnetGroup(f"{name}-subnets", name=cid, subnet_ids=list(args.subnet_ids),
                                      description=f"{cid}: the data subnets", opts=child)
        parameters = aws.rds.ClusterParameterGroup(
            f"{name}-parameters", name=cid, family=PARAMETER_FAMILY,
            description=f"{cid}: TLS for every connection, connection and statement logging",
            parameters=[
                aws.rds.ClusterParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
                aws.rds.ClusterParameterGroupParameterArgs(name="ssl_min_protocol_version", value="TLSv1.2"),
                aws.rds.ClusterParameterGroupParameterArgs(name="log_connections", value="1"),
                aws.rds.ClusterParameterGroupParameterArgs(name="log_disconnections", value="1"),
                aws.rds.ClusterParameterGroupParameterArgs(name="log_min_duration_statement", value="1000"),
            ],
            opts=child,
        )
        log_groups = [aws.cloudwatch.LogGroup(
            f"{name}-log-{kind}", name=f"/aws/rds/cluster/{cid}/{kind}", kms_key_id=args.kms_key_arn,
            retention_in_days=args.log_retention_days, opts=child) for kind in LOG_EXPORTS]
        self.cluster = aws.rds.Cluster(
            f"{name}-cluster",
            cluster_identifier=cid,
            engine=ENGINE,
            engine_version=ENGINE_VERSION,
            engine_mode="provisioned",
            database_name=args.database_name,
            master_username="ob_admin",
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.kms_key_arn,
            iam_database_authentication_enabled=True,
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            db_subnet_group_name=subnets.name,
            db_cluster_parameter_group_name=parameters.name,
            vpc_security_group_ids=[self.security_group.id],
            port=PORT,
            serverlessv2_scaling_configuration=aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
                min_capacity=args.min_capacity, max_capacity=args.max_capacity,
                seconds_until_auto_pause=args.seconds_until_auto_pause if args.min_capacity == 0 else None),
            backup_retention_period=args.backup_retention_days,
            preferred_backup_window="02:00-03:00",
            preferred_maintenance_window="sun:03:30-sun:04:30",
            copy_tags_to_snapshot=True,
            # On in every stage (the pack's ob-rds-deletion-protection): tearing a ledger down is a deliberate act.
            deletion_protection=True,
            skip_final_snapshot=not args.protect,
            final_snapshot_identifier=f"{cid}-final" if args.protect else None,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            database_insights_mode="standard",
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.kms_key_arn,
            performance_insights_retention_period=7,
            ca_certificate_identifier="rds-ca-rsa2048-g1",
            opts=pulumi.ResourceOptions.merge(stateful, pulumi.ResourceOptions(depends_on=log_groups)),
        )
        self.instances = [aws.rds.ClusterInstance(
            f"{name}-instance-{i}",
            identifier=f"{cid}-{i}",
            cluster_identifier=self.cluster.id,
            instance_class="db.serverless",
            engine=ENGINE,
            engine_version=ENGINE_VERSION,
            db_subnet_group_name=subnets.name,
            publicly_accessible=False,
            promotion_tier=i,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.kms_key_arn,
            performance_insights_retention_period=7,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            auto_minor_version_upgrade=True,
            opts=stateful,
        ) for i in range(args.instances)]
        self.endpoint = self.cluster.endpoint
        self.port = PORT
        self.security_group_id = self.security_group.id
        #: The RDS-managed master secret (JSON with `username` and `password`), for the one-off migration task.
        self.master_secret_arn = self.cluster.master_user_secrets.apply(lambda s: (s[0].secret_arn or "") if s else "")
        self.resource_id = self.cluster.cluster_resource_id
        self.register_outputs({"endpoint": self.endpoint, "masterSecretArn": self.master_secret_arn})

    def db_user_arn(self, region: str, account_id: str, user: str) -> pulumi.Output[str]:
        """The `rds-db:connect` resource of `user` on this cluster (IAM database authentication)."""
        return pulumi.Output.concat(f"arn:aws:rds-db:{region}:{account_id}:dbuser:", self.resource_id, f"/{user}")
