"""The workload components on their own, under Pulumi mocks: contradictory or unsafe inputs are refused when
the component is constructed (before any child exists), and the pure parts behave."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.aurora_postgres import AuroraPostgres, AuroraPostgresArgs
from components.container_image import ContainerImage, ContainerImageArgs, context_tag
from components.container_task import ContainerSpec, ContainerTask, ContainerTaskArgs, fargate_size_problem
from components.core_banking_feed import CoreBankingFeed, FeedArgs
from components.endpoint_service import EndpointService, EndpointServiceArgs
from components.fargate_service import (
    FargateService,
    FargateServiceArgs,
    InternalTls,
    TargetHealth,
    TcpPassthrough,
)
from components.lambda_function import LambdaFunction, LambdaFunctionArgs
from components.network_access import Egress
from components.redis_cache import CacheUser, RedisCache, RedisCacheArgs
from components.service_alarms import Alarm
from components.signing_key import SigningKey, SigningKeyArgs


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


@pytest.fixture(autouse=True)
def mocks() -> None:
    pulumi.runtime.set_mocks(Mocks(), preview=False)


def refuses(build: Callable[[], Any], message: str) -> None:
    @pulumi.runtime.test
    def run() -> None:
        with pytest.raises(ValueError, match=message):
            build()
    run()


def container(**change: Any) -> ContainerSpec:
    spec = {"image": "repo@sha256:" + "0" * 64, "user": "10001", "health_check": ("CMD", "true"), "cpu": 256,
            "memory_mb": 512, "port": 8000}
    return ContainerSpec(**(spec | change))


def task(**change: Any) -> ContainerTaskArgs:
    args = {"family": "dev-ais", "account_id": "200000000004", "region": "eu-west-2", "container": container(),
            "repository_arn": "arn:aws:ecr:eu-west-2:200000000004:repository/ais", "policy_statements": [],
            "secret_kms_key_arns": [], "log_kms_key_arn": "arn:aws:kms:eu-west-2:200000000004:key/k",
            "log_retention_days": 30}
    return ContainerTaskArgs(**(args | change))


@pytest.mark.parametrize(("change", "message"), [
    ({"container": container(user="0")}, "must be a numeric non-root uid"),
    ({"container": container(user="app")}, "must be a numeric non-root uid"),
    ({"container": container(cpu=256, memory_mb=4096)}, "memory 4096 MiB does not go with cpu 256"),
    ({"container": container(environment={"OB_X": "1"}, secrets={"OB_X": "arn:aws:secretsmanager:r:a:secret:s"})},
     r"\['OB_X'\] set both as plain environment and as secrets"),
    ({"container": container(writable_paths=["/tmp"])}, "writable paths .* must be distinct absolute directories"),
    ({"container": container(writable_paths=["data"])}, "writable paths .* must be distinct absolute directories"),
])
def test_a_task_refuses_root_odd_sizes_and_secrets_in_plain_sight(change: dict, message: str) -> None:
    refuses(lambda: ContainerTask("task", task(**change)), message)


def service(**change: Any) -> FargateServiceArgs:
    args = {"task": task(), "cluster_arn": "arn:cluster", "cluster_name": "dev", "service_name": "dev-ais",
            "vpc_id": "vpc-1", "subnet_ids": ["subnet-1"], "security_group_id": "sg-1", "min_tasks": 1,
            "max_tasks": 2, "tls": InternalTls(certificate_arn="arn:aws:acm:eu-west-2:1:certificate/c"),
            "access_logs_bucket": "logs"}
    return FargateServiceArgs(**(args | change))


@pytest.mark.parametrize(("change", "message"), [
    ({"min_tasks": 3, "max_tasks": 2}, r"1 <= min \(3\) <= max \(2\)"),
    ({"tls": None}, "a container port needs a listener in front of it"),
    ({"passthrough": TcpPassthrough()}, "one listener: TLS termination or TCP pass-through, not both"),
    ({"health": TargetHealth(port=9000, protocol="TCP")}, "health check protocol 'TCP' is not HTTP or HTTPS"),
    ({"service_name": "x" * 33}, "longer than a load balancer's 32 characters"),
    ({"access_logs_bucket": None}, "needs an access-logs bucket"),
])
def test_a_service_refuses_contradictory_inputs(change: dict, message: str) -> None:
    refuses(lambda: FargateService("service", service(**change)), message)


def test_an_endpoint_service_names_accounts_never_everyone() -> None:
    for accounts in ([], ["*"], ["12345"]):
        refuses(lambda accounts=accounts: EndpointService("endpoint", EndpointServiceArgs(
            load_balancer_arn="arn:nlb", allowed_account_ids=accounts, description="x")), "12-digit account ids")


def feed(**change: Any) -> FeedArgs:
    args = {"kind": "msk", "name": "feed", "vpc_id": "vpc-1", "subnet_ids": ["a", "b"],
            "instance_type": "kafka.m7g.large", "brokers_per_az": 1, "storage_gb": 100, "multi_az": True,
            "consumer_security_group_ids": {}, "remote_consumer_account_ids": ["200000000005"], "producer_cidrs": [],
            "kms_key_arn": "arn:key", "log_retention_days": 30, "protect": False}
    return FeedArgs(**(args | change))


def test_a_feed_refuses_consumers_it_cannot_reach() -> None:
    refuses(lambda: CoreBankingFeed("feed", feed(kind="rabbitmq", instance_type="mq.m7g.large")),
            "Amazon MQ has no cross-account connectivity")
    refuses(lambda: CoreBankingFeed("feed", feed(instance_type="kafka.t3.small")),
            "multi-VPC connectivity does not support kafka.t3.small")


def test_data_stores_refuse_sizes_aws_does_not_offer() -> None:
    base: dict[str, Any] = {"cluster_identifier": "c", "database_name": "d", "vpc_id": "v", "subnet_ids": ["s"],
            "client_security_group_ids": {}, "kms_key_arn": "k", "min_capacity": 4, "max_capacity": 2,
            "instances": 1, "backup_retention_days": 7, "log_retention_days": 30, "protect": False}
    refuses(lambda: AuroraPostgres("db", AuroraPostgresArgs(**base)), r"0 <= min \(4\) <= max \(2\)")
    bigger: dict[str, Any] = base | {"max_capacity": 8, "instances": 16}
    refuses(lambda: AuroraPostgres("db", AuroraPostgresArgs(**bigger)), "16 instances")
    cache: dict[str, Any] = {"replication_group_id": "c", "vpc_id": "v", "subnet_ids": ["s"], "node_type": "cache.t4g.small",
             "replicas": 1, "kms_key_arn": "k", "log_retention_days": 30}
    refuses(lambda: RedisCache("cache", RedisCacheArgs(users=[CacheUser("default", ("*",), "sg")], **cache)),
            "must be distinct workload names")
    refuses(lambda: RedisCache("cache", RedisCacheArgs(users=[], **cache)), "must be distinct workload names")


def test_a_signing_key_must_be_able_to_sign_ps256() -> None:
    refuses(lambda: SigningKey("key", SigningKeyArgs(description="d", account_id="200000000005", alias="a",
                                                     key_spec="ECC_NIST_P256")), "cannot sign PS256")


def test_a_lambda_refuses_what_lambda_refuses() -> None:
    args = {"function_name": "f" * 65, "description": "d", "handler": "m.handler", "archive_path": "a.zip",
            "account_id": "1", "region": "eu-west-2", "memory_mb": 256, "timeout_seconds": 30, "environment": {},
            "policy_statements": [], "kms_key_arn": "k", "log_retention_days": 30}
    refuses(lambda: LambdaFunction("f", LambdaFunctionArgs(**args)), "longer than Lambda's 64 characters")
    refuses(lambda: LambdaFunction("f", LambdaFunctionArgs(**(args | {"function_name": "f", "timeout_seconds": 901}))),
            "outside Lambda's")


def test_an_image_reference_is_a_digest() -> None:
    args = {"repository_name": "r", "kms_key_arn": "k", "context": Path("."), "dockerfile": Path("Dockerfile")}
    refuses(lambda: ContainerImage("image", ContainerImageArgs(digest="latest", **args)), "is not an image digest")


def test_the_image_tag_follows_what_the_dockerfile_copies_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print('v1')\n")
    (tmp_path / "requirements.txt").write_text("fastapi==1\n")
    (tmp_path / "notes.md").write_text("not copied\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python\nCOPY requirements.txt /app/\nCOPY app /app/app\n")
    first = context_tag(tmp_path, dockerfile)
    (tmp_path / "notes.md").write_text("changed, still not copied\n")
    (tmp_path / "app" / "__pycache__").mkdir()
    (tmp_path / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    assert context_tag(tmp_path, dockerfile) == first
    (tmp_path / "app" / "main.py").write_text("print('v2')\n")
    assert context_tag(tmp_path, dockerfile) != first


def test_fargate_sizes_are_the_ones_fargate_offers() -> None:
    assert fargate_size_problem(256, 512) is None and fargate_size_problem(16384, 122880) is None
    assert fargate_size_problem(512, 512) is not None and fargate_size_problem(128, 512) is not None


def test_egress_and_alarms_refuse_ambiguity() -> None:
    with pytest.raises(ValueError, match="exactly one of"):
        Egress("db", 5432, cidr="10.0.0.0/24", security_group_id="sg-1")
    with pytest.raises(ValueError, match="give a metric with one statistic"):
        Alarm("a", "d", "GreaterThanThreshold", 1, metric_name="m", namespace="n")
    with pytest.raises(ValueError, match="give a metric with one statistic"):
        Alarm("a", "d", "GreaterThanThreshold", 1, metric_name="m", namespace="n", statistic="Sum",
              expression="m1")
