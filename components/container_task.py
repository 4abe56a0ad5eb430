"""A Fargate task definition for one container, hardened, with its two roles and its log group.

The container runs as the Dockerfile's non-root user on a read-only root file system (small task-local
writable volumes at `/tmp` and wherever the container says it must write), unprivileged, with every Linux
capability dropped and an init process; its health check is the one its Dockerfile declares. Settings arrive
as `environment`, credentials only as `secrets` (ECS reads them from Secrets Manager at start with the
*execution* role, which may read exactly those secrets, pull exactly its image repository and write exactly
its log group). The *task* role, what the code may do, is `policy_statements` and nothing more. Logs go
through `awslogs` (non-blocking) to a KMS-encrypted group with the configured retention.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

#: Fargate's CPU units -> the memory sizes (MiB) it accepts with them.
FARGATE_SIZES: dict[int, range] = {
    256: range(512, 2049, 512),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
    8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192),
}


def fargate_size_problem(cpu: int, memory: int) -> str | None:
    """Why (cpu, memory) is not a Fargate task size, or None."""
    if cpu not in FARGATE_SIZES:
        return f"cpu {cpu} is not a Fargate size ({', '.join(map(str, FARGATE_SIZES))})"
    sizes = FARGATE_SIZES[cpu]
    if memory not in sizes:
        return (f"memory {memory} MiB does not go with cpu {cpu} (Fargate: {sizes.start}-{sizes.stop - 1} MiB "
                f"in steps of {sizes.step})")
    return None


@dataclass(frozen=True)
class ContainerSpec:
    """The one container of the task, as its Dockerfile builds it."""

    #: `repository@sha256:...` (or a tag the repository keeps immutable).
    image: pulumi.Input[str]
    #: The numeric user the Dockerfile's USER line names (never root).
    user: str
    #: The Dockerfile's HEALTHCHECK command, as ECS's `["CMD", ...]` array.
    health_check: Sequence[str]
    #: Task size: CPU units and memory in MiB (a Fargate combination).
    cpu: int
    #: Task memory in MiB (a size Fargate pairs with `cpu`).
    memory_mb: int
    #: The port the container listens on for the load balancer; None for a worker with no listener.
    port: int | None = None
    #: The command, when not the image's own (e.g. a one-off migration in a service image).
    command: Sequence[str] | None = None
    #: The entry point, when not the image's own (e.g. a shell that writes files from secrets before starting).
    entry_point: Sequence[str] | None = None
    #: Further writable places besides `/tmp`, each a task-local scratch volume (the root file system stays read-only).
    writable_paths: Sequence[str] = ()
    #: Seconds after start before a failed health check counts (a slow-starting server needs more).
    health_check_start_period_seconds: int = 30
    #: Settings (plain values): OB_* variables the code reads.
    environment: Mapping[str, pulumi.Input[str]] | None = None
    #: Variable -> Secrets Manager `valueFrom` (a secret ARN, or `<arn>:<json key>::`).
    secrets: Mapping[str, pulumi.Input[str]] | None = None


@dataclass(frozen=True)
class ContainerTaskArgs:
    """A task definition and what it needs."""

    #: Task family and the prefix of its roles and log group, e.g. "prod-workload-pis-pis".
    family: str
    #: The account: the roles trust ECS tasks of this account only.
    account_id: str
    #: The region: the roles' trust condition and the `awslogs` driver name it.
    region: str
    #: The container the task runs.
    container: ContainerSpec
    #: The image's ECR repository (the execution role pulls from it only).
    repository_arn: pulumi.Input[str]
    #: IAM statements of the task role: what the code may do, each naming its resources by ARN.
    policy_statements: Sequence[pulumi.Input[Mapping[str, Any]]]
    #: Keys that encrypt the container's secrets (the execution role decrypts with them only).
    secret_kms_key_arns: Sequence[pulumi.Input[str]]
    #: The account key the log group is encrypted with, and the days it keeps logs.
    log_kms_key_arn: pulumi.Input[str]
    #: Days the log group keeps the container's output.
    log_retention_days: int
    #: The task's CPU architecture; the images are built for it.
    cpu_architecture: str = "X86_64"


def _trust(account_id: str, region: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                      "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{region}:{account_id}:*"}}}]})


class ContainerTask(pulumi.ComponentResource):
    task_definition: aws.ecs.TaskDefinition
    task_role: aws.iam.Role
    execution_role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup

    #: The container's name in the task definition (the load balancer and `run-task` overrides name it).
    CONTAINER = "app"

    def __init__(self, name: str, args: ContainerTaskArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:compute:ContainerTask", name, None, opts)
        spec = args.container
        if problem := fargate_size_problem(spec.cpu, spec.memory_mb):
            raise ValueError(f"{name}: {problem}")
        if not spec.user.isdigit() or int(spec.user) == 0:
            raise ValueError(f"{name}: the container user {spec.user!r} must be a numeric non-root uid")
        overlap = set(spec.environment or {}) & set(spec.secrets or {})
        if overlap:
            raise ValueError(f"{name}: {sorted(overlap)} set both as plain environment and as secrets")
        writable = ["/tmp", *spec.writable_paths]
        if len(set(writable)) != len(writable) or not all(w.startswith("/") and w != "/" for w in writable):
            raise ValueError(f"{name}: writable paths {writable} must be distinct absolute directories")
        child = pulumi.ResourceOptions(parent=self)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/ecs/{args.family}", kms_key_id=args.log_kms_key_arn,
            retention_in_days=args.log_retention_days, opts=child)

        self.execution_role = aws.iam.Role(
            f"{name}-execution", description=f"{args.family}: ECS starts the task (image, secrets, logs)",
            assume_role_policy=_trust(args.account_id, args.region), opts=child)
        execution: list[pulumi.Input[Mapping[str, Any]]] = [
            {"Sid": "PullImage", "Effect": "Allow", "Resource": args.repository_arn,
             "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]},
            # The registry login token is account-wide: ECR has no resource for it.
            {"Sid": "RegistryLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": pulumi.Output.concat(self.log_group.arn, ":*")},
        ]
        if spec.secrets:
            secret_arns = pulumi.Output.all(*[_secret_arn(v) for v in spec.secrets.values()]).apply(
                lambda arns: sorted(set(arns)))
            execution.append({"Sid": "ReadSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                              "Resource": secret_arns})
            execution.append({"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                              "Resource": list(args.secret_kms_key_arns)})
        aws.iam.RolePolicy(f"{name}-execution-policy", role=self.execution_role.id,
                           policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": execution}),
                           opts=pulumi.ResourceOptions(parent=self.execution_role))

        self.task_role = aws.iam.Role(
            f"{name}-task", description=f"{args.family}: what the code may do",
            assume_role_policy=_trust(args.account_id, args.region), opts=child)
        if args.policy_statements:
            aws.iam.RolePolicy(f"{name}-task-policy", role=self.task_role.id,
                               policy=pulumi.Output.json_dumps({"Version": "2012-10-17",
                                                                "Statement": list(args.policy_statements)}),
                               opts=pulumi.ResourceOptions(parent=self.task_role))

        environment = [{"name": k, "value": v} for k, v in sorted((spec.environment or {}).items())]
        secrets = [{"name": k, "valueFrom": v} for k, v in sorted((spec.secrets or {}).items())]
        container: dict[str, Any] = {
            "name": self.CONTAINER,
            "image": spec.image,
            "essential": True,
            "user": f"{spec.user}:{spec.user}",
            "readonlyRootFilesystem": True,
            "privileged": False,
            "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
            "mountPoints": [{"sourceVolume": _volume(path), "containerPath": path, "readOnly": False}
                            for path in writable],
            "environment": environment,
            "secrets": secrets,
            "healthCheck": {"command": list(spec.health_check), "interval": 15, "timeout": 5, "retries": 3,
                            "startPeriod": spec.health_check_start_period_seconds},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": self.log_group.name, "awslogs-region": args.region,
                "awslogs-stream-prefix": self.CONTAINER, "mode": "non-blocking", "max-buffer-size": "4m"}},
            "stopTimeout": 30,
        }
        if spec.port is not None:
            container["portMappings"] = [{"containerPort": spec.port, "protocol": "tcp"}]
        if spec.command is not None:
            container["command"] = list(spec.command)
        if spec.entry_point is not None:
            container["entryPoint"] = list(spec.entry_point)
        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task-definition",
            family=args.family,
            cpu=str(spec.cpu),
            memory=str(spec.memory_mb),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(operating_system_family="LINUX",
                                                                       cpu_architecture=args.cpu_architecture),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            # The only writable places: task-local scratch volumes (/tmp and any the container names; the root
            # file system is read-only).
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=_volume(path)) for path in writable],
            container_definitions=pulumi.Output.json_dumps([container]),
            opts=child,
        )
        self.task_definition_arn = self.task_definition.arn
        self.register_outputs({"taskDefinitionArn": self.task_definition_arn, "taskRoleArn": self.task_role.arn})


def _volume(path: str) -> str:
    """The scratch volume of a writable path: `tmp` for /tmp, `opt-keycloak-data` for /opt/keycloak/data."""
    return path.strip("/").replace("/", "-").replace("_", "-")


def _secret_arn(value_from: pulumi.Input[str]) -> pulumi.Output[str]:
    """`arn:aws:secretsmanager:r:a:secret:name-AbCdEf:json-key::` -> the secret's ARN (7 colon-separated parts)."""
    return pulumi.Output.from_input(value_from).apply(lambda v: ":".join(v.split(":")[:7]))
