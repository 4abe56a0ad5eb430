"""A Lambda function deployed from a reproducible archive of `make lambdas`, with its own role, log group
and security group, in the VPC.

Its role may do what `policy_statements` say and nothing else (plus writing its own log group and, in the
VPC, the network interfaces Lambda manages). Environment variables are encrypted with the account's key,
tracing is active, logs are JSON in a KMS-encrypted group with the configured retention. An asynchronously
invoked function (EventBridge rule or schedule) gets an on-failure destination, so a failed event is kept,
not dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

#: The Python runtime the archives are built for (`services/build_lambdas.py`: CPython 3.11, x86_64).
RUNTIME = "python3.11"
ARCHITECTURE = "x86_64"


@dataclass(frozen=True)
class LambdaNetwork:
    """Where the function runs in the VPC."""

    #: Private subnets (one per AZ).
    subnet_ids: Sequence[pulumi.Input[str]]
    #: Its security group, made by the caller (its egress is everything the function may reach: AWS API
    #: endpoints, data stores, the egress proxy; see :func:`components.network_access.workload_security_group`).
    security_group_id: pulumi.Input[str]


@dataclass(frozen=True)
class LambdaFunctionArgs:
    """One function."""

    #: Physical function name, e.g. "prod-workload-pis-outbox-relay" (64 characters at most).
    function_name: str
    #: What the function does, for people reading the console.
    description: str
    #: `module.function`, e.g. "openbanking.lambdas.outbox_relay.handler".
    handler: str
    #: Path of the archive `make lambdas` built (services/dist/<name>.zip).
    archive_path: str
    #: The account, for the role's trust condition and ARNs.
    account_id: str
    #: The function's region.
    region: str
    #: Memory in MiB (128-10240) and timeout in seconds (1-900).
    memory_mb: int
    #: Seconds an invocation may run (1-900).
    timeout_seconds: int
    #: Environment variables (settings); encrypted at rest with `kms_key_arn`. Never secrets: those are fetched.
    environment: Mapping[str, pulumi.Input[str]]
    #: IAM statements of the function's own role, each naming its resources by ARN.
    policy_statements: Sequence[pulumi.Input[Mapping[str, Any]]]
    #: The account key: environment variables and the log group are encrypted with it.
    kms_key_arn: pulumi.Input[str]
    #: Days the log group keeps the function's logs.
    log_retention_days: int
    #: The VPC placement; None only for functions that must run outside it.
    network: LambdaNetwork | None = None
    #: Concurrent executions reserved (and capped) for the function; None leaves it to the account pool.
    reserved_concurrency: int | None = None
    #: For asynchronously invoked functions: where an event goes after the retries (an SQS queue ARN).
    on_failure_arn: pulumi.Input[str] | None = None
    #: Retries of an asynchronous invocation (0-2) and how long an event may wait (60-21600 s).
    async_retry_attempts: int = 2
    #: Seconds an asynchronous event may wait for a try (60-21600).
    async_max_event_age_seconds: int = 3600
    #: Tags on the function, beyond the provider's default tags.
    tags: Mapping[str, str] = field(default_factory=dict)


class LambdaFunction(pulumi.ComponentResource):
    function: aws.lambda_.Function
    role: aws.iam.Role

    def __init__(self, name: str, args: LambdaFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:compute:LambdaFunction", name, None, opts)
        if len(args.function_name) > 64:
            raise ValueError(f"{name}: function name {args.function_name!r} is longer than Lambda's 64 characters")
        if not (128 <= args.memory_mb <= 10240 and 1 <= args.timeout_seconds <= 900):
            raise ValueError(f"{name}: memory {args.memory_mb} MiB / timeout {args.timeout_seconds} s is outside "
                             "Lambda's 128-10240 MiB / 1-900 s")
        child = pulumi.ResourceOptions(parent=self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/lambda/{args.function_name}", kms_key_id=args.kms_key_arn,
            retention_in_days=args.log_retention_days, opts=child)
        self.role = aws.iam.Role(
            f"{name}-role",
            description=f"{args.function_name}: {args.description}"[:1000],
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}}}]}),
            opts=child,
        )
        own_logs = {"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": pulumi.Output.concat(log_group.arn, ":*")}
        tracing = {"Sid": "Tracing", "Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                   "Resource": "*"}  # X-Ray has no resource-level permissions
        # The function reads its environment through the account key (a customer key needs kms:Decrypt).
        own_key = {"Sid": "EnvironmentKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": args.kms_key_arn}
        statements: list[pulumi.Input[Mapping[str, Any]]] = [own_logs, tracing, own_key, *args.policy_statements]
        if args.on_failure_arn is not None:
            statements.append({"Sid": "FailedEvents", "Effect": "Allow", "Action": "sqs:SendMessage",
                               "Resource": args.on_failure_arn})
            statements.append({"Sid": "FailedEventsKey", "Effect": "Allow",
                               "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": args.kms_key_arn})
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
            opts=pulumi.ResourceOptions(parent=self.role),
        )
        vpc_config = None
        ready: list[pulumi.Resource] = []
        if args.network is not None:
            ready.append(aws.iam.RolePolicyAttachment(
                f"{name}-vpc-access", role=self.role.name,
                policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
                opts=pulumi.ResourceOptions(parent=self.role)))
            vpc_config = aws.lambda_.FunctionVpcConfigArgs(subnet_ids=list(args.network.subnet_ids),
                                                          security_group_ids=[args.network.security_group_id])
        self.function = aws.lambda_.Function(
            name,
            name=args.function_name,
            description=args.description[:256],
            role=self.role.arn,
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=args.handler,
            code=pulumi.FileArchive(args.archive_path),
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(args.environment)),
            kms_key_arn=args.kms_key_arn,
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            reserved_concurrent_executions=args.reserved_concurrency,
            vpc_config=vpc_config,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, *ready]),
        )
        if args.on_failure_arn is not None:
            aws.lambda_.FunctionEventInvokeConfig(
                f"{name}-async",
                function_name=self.function.name,
                maximum_retry_attempts=args.async_retry_attempts,
                maximum_event_age_in_seconds=args.async_max_event_age_seconds,
                destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                    on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                        destination=args.on_failure_arn)),
                opts=pulumi.ResourceOptions(parent=self.function),
            )
        self.arn = self.function.arn
        self.name = self.function.name
        self.role_arn = self.role.arn
        self.register_outputs({"arn": self.arn, "roleArn": self.role_arn})
