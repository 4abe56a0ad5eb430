"""What every VPC gets, whatever it is for: flow logs of ALL traffic to the log archive, and the default
security group adopted with no rules (FSBP EC2.2 / EC2.6, CIS 3.7 / 5.5)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from .endpoint_policies import AwsOwnedAccess, endpoint_policy

#: Key prefix of VPC flow logs in the log archive bucket.
FLOW_LOG_PREFIX = "vpc-flow-logs"
#: The one format every VPC writes its flow logs in, so the prefix has one format and one pipeline reads it:
#: Parquet, typed columns for Athena and for the ingestion pipeline's `parquet` codec (accounts/log_archive.py).
FLOW_LOG_FILE_FORMAT = "parquet"

#: Interface endpoints every spoke VPC needs so AWS API calls never leave the VPC.
SPOKE_INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "sts", "kms", "secretsmanager", "ssm")
#: And those the workload accounts' services and Lambdas call besides: SQS (the event queues), EventBridge
#: (the outbox publishes), X-Ray (Lambda tracing).
WORKLOAD_INTERFACE_ENDPOINTS = (*SPOKE_INTERFACE_ENDPOINTS, "sqs", "events", "xray")
#: And the api account's: X-Ray (the authorizer's traces).
API_INTERFACE_ENDPOINTS = (*SPOKE_INTERFACE_ENDPOINTS, "xray")
#: And the identity account's: ACM and ECS (the IdP certificate's rotation exports it and redeploys Keycloak), X-Ray
#: (the rotation function's traces).
IDENTITY_INTERFACE_ENDPOINTS = (*SPOKE_INTERFACE_ENDPOINTS, "acm", "ecs", "xray")
#: Gateway endpoints (free, routed through the route tables).
GATEWAY_ENDPOINTS = ("s3", "dynamodb")


def flow_log_destination(bucket_arn: pulumi.Input[str], vpc_name: str) -> pulumi.Output[str]:
    """`arn:aws:s3:::<bucket>/vpc-flow-logs/<vpc>/`: one prefix per VPC in the log archive bucket."""
    return pulumi.Output.concat(bucket_arn, f"/{FLOW_LOG_PREFIX}/{vpc_name}/")


def flow_log(name: str, vpc: aws.ec2.Vpc, log_bucket_arn: pulumi.Input[str],
             opts: pulumi.ResourceOptions) -> aws.ec2.FlowLog:
    """The VPC's flow log, as every VPC writes it: ALL traffic, each minute, to `vpc-flow-logs/<name>/` of the
    log archive bucket in :data:`FLOW_LOG_FILE_FORMAT` with hourly hive partitions (Athena's layout)."""
    return aws.ec2.FlowLog(
        f"{name}-flow-log",
        vpc_id=vpc.id,
        traffic_type="ALL",
        log_destination_type="s3",
        log_destination=flow_log_destination(log_bucket_arn, name),
        max_aggregation_interval=60,
        destination_options=aws.ec2.FlowLogDestinationOptionsArgs(
            file_format=FLOW_LOG_FILE_FORMAT, hive_compatible_partitions=True, per_hour_partition=True),
        tags={"Name": f"{name}-flow-log"},
        opts=opts,
    )


def harden_vpc(name: str, vpc: aws.ec2.Vpc, log_bucket_arn: pulumi.Input[str], parent: pulumi.Resource) -> None:
    """Flow logs (:func:`flow_log`) and an emptied default security group."""
    child = pulumi.ResourceOptions(parent=parent)
    flow_log(name, vpc, log_bucket_arn, child)
    aws.ec2.DefaultSecurityGroup(
        f"{name}-default-sg",
        vpc_id=vpc.id,
        ingress=[],
        egress=[],
        tags={"Name": f"{name}-default-deny-all"},
        opts=child,
    )


def vpc_endpoints(name: str, *, vpc: aws.ec2.Vpc, vpc_cidr: str, region: str,
                  subnet_ids: Sequence[pulumi.Input[str]], route_table_ids: Sequence[pulumi.Input[str]],
                  interface_services: Sequence[str], organization_id: pulumi.Input[str],
                  aws_owned: Sequence[AwsOwnedAccess], parent: pulumi.Resource,
                  gateway_services: Sequence[str] = GATEWAY_ENDPOINTS,
                  ) -> tuple[aws.ec2.SecurityGroup, dict[str, aws.ec2.VpcEndpoint]]:
    """Gateway endpoints on `route_table_ids`, interface endpoints (private DNS) in `subnet_ids` behind a
    security group that admits HTTPS from this VPC only; every endpoint's policy admits the organization
    (`organization_id`) and, by name, the AWS-owned resources of `aws_owned` (:mod:`.endpoint_policies`).
    Returns that security group and the gateway endpoints by service (their prefix lists are what a security
    group's egress to S3 or DynamoDB names)."""
    child = pulumi.ResourceOptions(parent=parent)
    org = pulumi.Output.from_input(organization_id)

    def policy(service: str) -> pulumi.Output[str]:
        return org.apply(lambda org_id: endpoint_policy(service, region, org_id, aws_owned))

    gateways: dict[str, aws.ec2.VpcEndpoint] = {}
    for service in gateway_services:
        gateways[service] = aws.ec2.VpcEndpoint(
            f"{name}-{service}",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.{service}",
            vpc_endpoint_type="Gateway",
            route_table_ids=list(route_table_ids),
            policy=policy(service),
            tags={"Name": f"{name}-{service}"},
            opts=child,
        )
    group = aws.ec2.SecurityGroup(
        f"{name}-endpoints-sg",
        vpc_id=vpc.id,
        description="Interface endpoints: HTTPS from this VPC only",
        tags={"Name": f"{name}-endpoints"},
        opts=child,
    )
    aws.vpc.SecurityGroupIngressRule(
        f"{name}-endpoints-https",
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        cidr_ipv4=vpc_cidr,
        description="HTTPS to the AWS API endpoints from this VPC",
        opts=pulumi.ResourceOptions(parent=group),
    )
    for service in interface_services:
        aws.ec2.VpcEndpoint(
            f"{name}-{service.replace('.', '-')}",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.{service}",
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=list(subnet_ids),
            security_group_ids=[group.id],
            policy=policy(service),
            tags={"Name": f"{name}-{service}"},
            opts=child,
        )
    return group, gateways
