"""The core-banking feed [1]: the broker core banking publishes ledger events to, consumed by the ingestion
service of every account that keeps a copy of the ledger.

Two kinds, by config (docs/workloads.md says when to choose which):

- `msk`: Amazon MSK (provisioned), IAM authentication only (no unauthenticated access), TLS between clients
  and brokers and inside the cluster, storage encrypted with the account's customer key, broker logs to a
  KMS-encrypted log group, topics never created by accident. Ingestion consumers in *other* workload
  accounts connect through MSK multi-VPC private connectivity (PrivateLink): the cluster policy names those
  accounts exactly, and each creates its own VPC connection (:class:`FeedConnection`).
- `rabbitmq`: Amazon MQ for RabbitMQ, private, AMQPS only, a multi-AZ cluster in prod, general logs on; one
  broker user whose generated password lives in Secrets Manager under the account's key. Amazon MQ keeps
  RabbitMQ data with an AWS-owned key (it takes no customer key for RabbitMQ) and has no cross-account
  connectivity of its own, so it serves consumers in its own account only.

Core banking (on-prem) reaches the brokers over Direct Connect / VPN: the brokers' security group admits
the data centre's ranges on the client port, and the workloads' consumers by security group.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from .network_access import admit

KAFKA_VERSION = "3.8.x"
#: IAM-authenticated TLS listener of MSK brokers (in the cluster's own VPC).
MSK_IAM_PORT = 9098
#: The ports multi-VPC private connectivity gives IAM-authenticated clients in other VPCs (one per broker).
MSK_VPC_CONNECTIVITY_PORTS = (14001, 14100)
RABBITMQ_VERSION = "3.13"
AMQPS_PORT = 5671


@dataclass(frozen=True)
class FeedArgs:
    """The broker(s) and who may use them."""

    #: `msk` or `rabbitmq`.
    kind: Literal["msk", "rabbitmq"]
    #: Cluster or broker name, e.g. "prod-workload-ais-core-banking".
    name: str
    #: The VPC of the data subnets (the brokers' security group lives there).
    vpc_id: pulumi.Input[str]
    #: The data subnets, one per AZ (brokers spread over them).
    subnet_ids: Sequence[pulumi.Input[str]]
    #: Broker instance type, e.g. "kafka.m7g.large" or "mq.m7g.large".
    instance_type: str
    #: MSK: brokers in each AZ (the cluster has this many times the subnets); RabbitMQ: ignored.
    brokers_per_az: int
    #: MSK: EBS storage per broker in GiB.
    storage_gb: int
    #: RabbitMQ: a three-node cluster across AZs (prod) instead of a single instance.
    multi_az: bool
    #: Consumers in this account: name -> their security group id.
    consumer_security_group_ids: Mapping[str, pulumi.Input[str]]
    #: Ingestion consumers in other workload accounts (MSK only): account ids named in the cluster policy.
    remote_consumer_account_ids: Sequence[str]
    #: The data centre's ranges: core banking publishes from there.
    producer_cidrs: Sequence[str]
    #: The account key: storage (MSK), the broker password secret (RabbitMQ), the log groups.
    kms_key_arn: pulumi.Input[str]
    #: Days the broker log group keeps its events.
    log_retention_days: int
    #: Prod: `protect` the broker (a lost log loses replay).
    protect: bool


class CoreBankingFeed(pulumi.ComponentResource):
    """`bootstrap` is what consumers in this account connect to; `port` its TCP port."""

    security_group: aws.ec2.SecurityGroup

    def __init__(self, name: str, args: FeedArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:messaging:CoreBankingFeed", name, None, opts)
        if args.kind == "rabbitmq" and args.remote_consumer_account_ids:
            raise ValueError(f"{name}: Amazon MQ has no cross-account connectivity; consumers in "
                             f"{list(args.remote_consumer_account_ids)} need the msk feed")
        if args.kind == "msk" and args.remote_consumer_account_ids and args.instance_type.startswith("kafka.t3."):
            raise ValueError(f"{name}: MSK multi-VPC connectivity does not support {args.instance_type} brokers")
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        self.port = MSK_IAM_PORT if args.kind == "msk" else AMQPS_PORT
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, tags={"Name": args.name},
            description=f"{args.name}: core banking publishes, the ingestion consumers read", opts=child)
        for consumer, group_id in args.consumer_security_group_ids.items():
            admit(f"{name}-from-{consumer}", group_id=self.security_group.id, port=self.port,
                  from_group_id=group_id, description=f"consumer {consumer}", parent=self.security_group)
        for i, cidr in enumerate(args.producer_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-core-banking-{i}", security_group_id=self.security_group.id, ip_protocol="tcp",
                from_port=self.port, to_port=self.port, cidr_ipv4=cidr, description="core banking (data centre)",
                opts=pulumi.ResourceOptions(parent=self.security_group))
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/{args.kind}/{args.name}", kms_key_id=args.kms_key_arn,
            retention_in_days=args.log_retention_days, opts=child)

        self.cluster_arn: pulumi.Output[str] | None = None
        self.broker_arn: pulumi.Output[str] | None = None
        self.secret_arn: pulumi.Output[str] | None = None
        if args.kind == "msk":
            brokers = args.brokers_per_az * len(args.subnet_ids)
            configuration = aws.msk.Configuration(
                f"{name}-configuration", name=args.name, kafka_versions=[KAFKA_VERSION],
                description="Core-banking feed: no topic created by accident, no unclean leader election",
                server_properties="\n".join([
                    "auto.create.topics.enable=false",
                    f"default.replication.factor={min(3, brokers)}",
                    f"min.insync.replicas={2 if brokers >= 3 else 1}",
                    "unclean.leader.election.enable=false",
                    "allow.everyone.if.no.acl.found=false",
                ]),
                opts=child,
            )
            shared = bool(args.remote_consumer_account_ids)
            cluster = aws.msk.Cluster(
                f"{name}-cluster",
                cluster_name=args.name,
                kafka_version=KAFKA_VERSION,
                number_of_broker_nodes=brokers,
                broker_node_group_info=aws.msk.ClusterBrokerNodeGroupInfoArgs(
                    instance_type=args.instance_type,
                    client_subnets=list(args.subnet_ids),
                    security_groups=[self.security_group.id],
                    storage_info=aws.msk.ClusterBrokerNodeGroupInfoStorageInfoArgs(
                        ebs_storage_info=aws.msk.ClusterBrokerNodeGroupInfoStorageInfoEbsStorageInfoArgs(
                            volume_size=args.storage_gb)),
                    connectivity_info=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoArgs(
                        vpc_connectivity=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoVpcConnectivityArgs(
                            client_authentication=aws.msk.
                            ClusterBrokerNodeGroupInfoConnectivityInfoVpcConnectivityClientAuthenticationArgs(
                                sasl=aws.msk.
                                ClusterBrokerNodeGroupInfoConnectivityInfoVpcConnectivityClientAuthenticationSaslArgs(
                                    iam=True)))) if shared else None,
                ),
                client_authentication=aws.msk.ClusterClientAuthenticationArgs(
                    sasl=aws.msk.ClusterClientAuthenticationSaslArgs(iam=True), unauthenticated=False),
                encryption_info=aws.msk.ClusterEncryptionInfoArgs(
                    encryption_at_rest_kms_key_arn=args.kms_key_arn,
                    encryption_in_transit=aws.msk.ClusterEncryptionInfoEncryptionInTransitArgs(
                        client_broker="TLS", in_cluster=True)),
                configuration_info=aws.msk.ClusterConfigurationInfoArgs(arn=configuration.arn,
                                                                        revision=configuration.latest_revision),
                enhanced_monitoring="PER_TOPIC_PER_BROKER",
                logging_info=aws.msk.ClusterLoggingInfoArgs(broker_logs=aws.msk.ClusterLoggingInfoBrokerLogsArgs(
                    cloudwatch_logs=aws.msk.ClusterLoggingInfoBrokerLogsCloudwatchLogsArgs(
                        enabled=True, log_group=log_group.name))),
                opts=stateful,
            )
            self.cluster_arn = cluster.arn
            self.bootstrap = cluster.bootstrap_brokers_sasl_iam
            #: What a consumer in another account connects to, through its own VPC connection.
            self.remote_bootstrap = cluster.bootstrap_brokers_vpc_connectivity_sasl_iam
            if shared:
                remote = sorted(args.remote_consumer_account_ids)
                aws.msk.ClusterPolicy(
                    f"{name}-policy",
                    cluster_arn=cluster.arn,
                    policy=cluster.arn.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [{
                        "Sid": "IngestionAccountsConnect", "Effect": "Allow",
                        "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in remote]},
                        "Action": ["kafka:CreateVpcConnection", "kafka:GetBootstrapBrokers", "kafka:DescribeCluster",
                                   "kafka:DescribeClusterV2", "kafka-cluster:Connect", "kafka-cluster:DescribeTopic",
                                   "kafka-cluster:ReadData", "kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
                        "Resource": [arn, *_data_plane(arn)]}]})),
                    opts=pulumi.ResourceOptions(parent=cluster),
                )
        else:
            password = random.RandomPassword(f"{name}-password", length=32, special=False,
                                             opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["result"]))
            secret = aws.secretsmanager.Secret(
                f"{name}-credentials", name=f"{args.name}/ingestion", kms_key_id=args.kms_key_arn,
                description="Amazon MQ user of the ingestion consumer (username, password)",
                recovery_window_in_days=30, opts=child)
            aws.secretsmanager.SecretVersion(
                f"{name}-credentials-value", secret_id=secret.id,
                secret_string=pulumi.Output.json_dumps({"username": "ingestion", "password": password.result}),
                opts=pulumi.ResourceOptions(parent=secret))
            broker = aws.mq.Broker(
                f"{name}-broker",
                broker_name=args.name,
                engine_type="RabbitMQ",
                engine_version=RABBITMQ_VERSION,
                host_instance_type=args.instance_type,
                deployment_mode="CLUSTER_MULTI_AZ" if args.multi_az else "SINGLE_INSTANCE",
                publicly_accessible=False,
                subnet_ids=list(args.subnet_ids) if args.multi_az else [args.subnet_ids[0]],
                security_groups=[self.security_group.id],
                auto_minor_version_upgrade=True,
                authentication_strategy="simple",
                logs=aws.mq.BrokerLogsArgs(general=True),
                users=[aws.mq.BrokerUserArgs(username="ingestion", password=password.result)],
                opts=stateful,
            )
            self.broker_arn = broker.arn
            self.secret_arn = secret.arn
            self.bootstrap = broker.instances.apply(
                lambda instances: (instances[0].endpoints or [""])[0] if instances else "")
            self.remote_bootstrap = None
        self.security_group_id = self.security_group.id
        self.register_outputs({"bootstrap": self.bootstrap, "securityGroupId": self.security_group_id})


def _data_plane(cluster_arn: str) -> list[str]:
    """The topic and group ARNs of a cluster (`arn:aws:kafka:r:a:cluster/name/uuid` -> `.../topic/name/uuid/*`)."""
    prefix, _, rest = cluster_arn.partition(":cluster/")
    return [f"{prefix}:topic/{rest}/*", f"{prefix}:group/{rest}/*"]


@dataclass(frozen=True)
class FeedConnectionArgs:
    """A consumer account's private connection to an MSK cluster in another workload account."""

    #: The cluster (its policy must name this account).
    cluster_arn: pulumi.Input[str]
    #: The consumer account's VPC (the connection's endpoints are created in it).
    vpc_id: pulumi.Input[str]
    #: The consumer account's data subnets, one per AZ.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: The consumers' security group id (admitted on the multi-VPC connectivity ports).
    consumer_security_group_id: pulumi.Input[str]
    #: Name of the connection's security group.
    name: str


class FeedConnection(pulumi.ComponentResource):
    """The VPC connection (PrivateLink endpoints MSK manages) in the consumer's own account."""

    def __init__(self, name: str, args: FeedConnectionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:messaging:FeedConnection", name, None, opts)
        group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, tags={"Name": args.name},
            description=f"{args.name}: the core-banking feed's endpoints in this VPC, for the ingestion consumer",
            opts=pulumi.ResourceOptions(parent=self))
        low, high = MSK_VPC_CONNECTIVITY_PORTS
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-consumer", security_group_id=group.id, ip_protocol="tcp", from_port=low, to_port=high,
            referenced_security_group_id=args.consumer_security_group_id, description="the ingestion consumer",
            opts=pulumi.ResourceOptions(parent=group))
        self.connection = aws.msk.VpcConnection(
            name,
            authentication="SASL_IAM",
            target_cluster_arn=args.cluster_arn,
            vpc_id=args.vpc_id,
            client_subnets=list(args.subnet_ids),
            security_groups=[group.id],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.security_group_id = group.id
        self.register_outputs({"connectionArn": self.connection.arn})
