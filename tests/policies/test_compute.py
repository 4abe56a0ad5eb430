"""Tests for the compute rules (ECS, Lambda, ECR, load balancers)."""

from __future__ import annotations

import json

import pytest
from openbanking_policies import compute
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import run_resource_policy

GOOD_CONTAINER = {
    "name": "api",
    "image": "1.dkr.ecr.eu-west-2.amazonaws.com/api@sha256:abc",
    "essential": True,
    "user": "1000:1000",
    "readonlyRootFilesystem": True,
    "privileged": False,
    "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/api"}},
    "environment": [{"name": "DB_SECRET_ARN", "value": "arn:aws:secretsmanager:..."}],
    "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:..."}],
}


# ob-ecs-task --------------------------------------------------------------------------------------


def test_ecs_task_passes() -> None:
    props = {"family": "api", "containerDefinitions": json.dumps([GOOD_CONTAINER])}
    assert run_resource_policy(compute.ecs_task, compute.TASK_DEFINITION, props) == []


def test_ecs_task_insecure_fails() -> None:
    bad = {
        "name": "api",
        "image": "x",
        "privileged": True,
        "environment": [
            {"name": "AWS_SECRET_ACCESS_KEY", "value": "abc"},
            {"name": "LOG_LEVEL", "value": "i"},
        ],
    }
    props = {"family": "api", "pidMode": "host", "containerDefinitions": json.dumps([bad])}
    msgs = run_resource_policy(compute.ecs_task, compute.TASK_DEFINITION, props)
    joined = "\n".join(msgs)
    assert "pidMode is 'host'" in joined
    assert "containerDefinitions[0] (api).privileged is true" in joined
    assert "readonlyRootFilesystem is absent" in joined
    assert "logConfiguration is absent" in joined
    assert "'AWS_SECRET_ACCESS_KEY'" in joined and "LOG_LEVEL" not in joined
    assert "containerDefinitions[0] (api).user is absent" in joined
    assert len(msgs) == 6


@pytest.mark.parametrize(("name", "secretish"), [
    ("OB_TOKEN_ISSUER", False), ("OB_JWKS_URL", False), ("TOKEN_SIGNING_KEY_ARN", False),
    ("OB_TOKEN", True), ("TOKEN_ISSUER_SECRET", True), ("API_KEY", True),
])
def test_ecs_task_plain_values_that_only_name_a_credential_pass(name: str, secretish: bool) -> None:
    container = {**GOOD_CONTAINER, "environment": [{"name": name, "value": "https://idp.example/realms/ob"}]}
    msgs = run_resource_policy(compute.ecs_task, compute.TASK_DEFINITION,
                               {"family": "api", "containerDefinitions": json.dumps([container])})
    assert bool(msgs) is secretish, msgs


@pytest.mark.parametrize(("user", "root"), [
    ("1000", False), ("1000:1000", False), ("app", False), ("app:app", False), (1000, False),
    ("0", True), ("0:0", True), ("root", True), ("root:app", True), ("", True), (None, True),
])
def test_ecs_task_container_user(user: object, root: bool) -> None:
    container = {**GOOD_CONTAINER, "user": user}
    msgs = run_resource_policy(compute.ecs_task, compute.TASK_DEFINITION,
                               {"containerDefinitions": json.dumps([container])})
    assert (len(msgs) == 1 and "non-root user" in msgs[0]) if root else msgs == []


def test_ecs_task_windows_containers_have_no_linux_user() -> None:
    container = {k: v for k, v in GOOD_CONTAINER.items() if k != "user"}
    props = {"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"},
             "containerDefinitions": json.dumps([container])}
    assert run_resource_policy(compute.ecs_task, compute.TASK_DEFINITION, props) == []


def test_ecs_task_host_network_fails() -> None:
    props = {"networkMode": "host", "containerDefinitions": json.dumps([GOOD_CONTAINER])}
    msgs = run_resource_policy(compute.ecs_task, compute.TASK_DEFINITION, props)
    assert msgs == ["networkMode is 'host'; tasks must not share the host's network namespace (use 'awsvpc')."]
    props["networkMode"] = "awsvpc"
    assert run_resource_policy(compute.ecs_task, compute.TASK_DEFINITION, props) == []


def test_ecs_task_unknown_definitions_pass() -> None:
    props = {"family": "api", "containerDefinitions": UNKNOWN_STRING_VALUE}
    assert run_resource_policy(compute.ecs_task, compute.TASK_DEFINITION, props) == []


# ob-ecs-service -----------------------------------------------------------------------------------


def test_ecs_service_private_passes() -> None:
    props = {
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": False},
    }
    assert run_resource_policy(compute.ecs_service, compute.ECS_SERVICE, props) == []
    assert run_resource_policy(compute.ecs_service, compute.ECS_SERVICE, {"launchType": "FARGATE"}) == []


def test_ecs_service_exec_fails() -> None:
    props = {"launchType": "FARGATE", "enableExecuteCommand": True,
             "networkConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": False}}
    msgs = run_resource_policy(compute.ecs_service, compute.ECS_SERVICE, props)
    assert len(msgs) == 1 and msgs[0].startswith("enableExecuteCommand is true; it must be false or unset")
    props["enableExecuteCommand"] = False
    assert run_resource_policy(compute.ecs_service, compute.ECS_SERVICE, props) == []


def test_ecs_service_public_old_platform_fails() -> None:
    props = {
        "launchType": "FARGATE",
        "platformVersion": "1.3.0",
        "networkConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": True},
    }
    msgs = run_resource_policy(compute.ecs_service, compute.ECS_SERVICE, props)
    assert len(msgs) == 2
    assert any("assignPublicIp is true" in m for m in msgs)
    assert any("platformVersion is '1.3.0'" in m for m in msgs)


# ob-lambda-hardening ------------------------------------------------------------------------------

GOOD_LAMBDA = {
    "runtime": "python3.12",
    "vpcConfig": {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]},
    "tracingConfig": {"mode": "Active"},
    "environment": {"variables": {"TABLE": "t"}},
    "kmsKeyArn": "arn:aws:kms:eu-west-2:1:key/k",
}


def test_lambda_hardened_passes() -> None:
    assert run_resource_policy(compute.lambda_hardening, compute.LAMBDA_FUNCTION, GOOD_LAMBDA) == []


def test_lambda_unknown_kms_key_passes() -> None:
    props = {**GOOD_LAMBDA, "kmsKeyArn": UNKNOWN_STRING_VALUE}
    assert run_resource_policy(compute.lambda_hardening, compute.LAMBDA_FUNCTION, props) == []


def test_lambda_defaults_fail() -> None:
    props = {"runtime": "python3.8", "environment": {"variables": {"TABLE": "t"}}}
    msgs = run_resource_policy(compute.lambda_hardening, compute.LAMBDA_FUNCTION, props)
    joined = "\n".join(msgs)
    assert "vpcConfig.subnetIds is absent" in joined
    assert "tracingConfig.mode is absent (PassThrough)" in joined
    assert "kmsKeyArn is absent" in joined
    assert "runtime is 'python3.8'" in joined
    assert len(msgs) == 4


@pytest.mark.parametrize(
    ("runtime", "ok"),
    [
        ("python3.11", True),
        ("python3.13", True),
        ("python3.10", False),
        ("nodejs20.x", True),
        ("nodejs22.x", True),
        ("nodejs18.x", False),
        ("java17", True),
        ("java21", True),
        ("java11", False),
        ("java8.al2", False),
        ("provided.al2023", True),
        ("provided.al2", True),
        ("provided", False),
        ("go1.x", False),
        ("dotnet8", True),
        ("dotnet6", False),
        ("ruby2.7", False),
    ],
)
def test_supported_runtimes(runtime: str, ok: bool) -> None:
    assert compute.supported_runtime(runtime) is ok


# ob-ecr -------------------------------------------------------------------------------------------


def test_ecr_hardened_passes() -> None:
    props = {
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": UNKNOWN_STRING_VALUE}],
    }
    assert run_resource_policy(compute.ecr, compute.ECR_REPOSITORY, props) == []


def test_ecr_defaults_fail() -> None:
    msgs = run_resource_policy(compute.ecr, compute.ECR_REPOSITORY, {"name": "api"})
    assert len(msgs) == 3
    assert any("imageTagMutability is absent (MUTABLE)" in m for m in msgs)
    assert any("scanOnPush is absent" in m for m in msgs)
    assert any("encryptionType is absent (AES256)" in m for m in msgs)


def test_ecr_kms_without_cmk_fails() -> None:
    props = {
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfigurations": [{"encryptionType": "KMS"}],
    }
    msgs = run_resource_policy(compute.ecr, compute.ECR_REPOSITORY, props)
    assert msgs == ["encryptionConfigurations[0].kmsKey is absent; use a customer managed KMS key."]


# ob-lb --------------------------------------------------------------------------------------------

GOOD_LB = {
    "loadBalancerType": "application",
    "internal": False,
    "dropInvalidHeaderFields": True,
    "enableDeletionProtection": True,
    "accessLogs": {"bucket": "lb-logs", "enabled": True},
}


def test_https_listener_passes() -> None:
    props = {
        "protocol": "HTTPS",
        "port": 443.0,
        "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}],
    }
    assert run_resource_policy(compute.lb, compute.LB_LISTENER, props) == []


def test_https_listener_old_policy_fails() -> None:
    props = {
        "protocol": "HTTPS",
        "sslPolicy": "ELBSecurityPolicy-2016-08",
        "defaultActions": [{"type": "forward"}],
    }
    msgs = run_resource_policy(compute.lb, compute.LB_LISTENER, props)
    assert len(msgs) == 1 and "sslPolicy is 'ELBSecurityPolicy-2016-08'" in msgs[0]
    no_policy = {"protocol": "TLS", "defaultActions": [{"type": "forward"}]}
    assert "absent" in run_resource_policy(compute.lb, compute.LB_LISTENER, no_policy)[0]


def test_http_listener_must_redirect() -> None:
    redirect = {
        "protocol": "HTTP",
        "port": 80.0,
        "defaultActions": [
            {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
        ],
    }
    assert run_resource_policy(compute.lb, compute.LB_LISTENER, redirect) == []
    forward = {"protocol": "HTTP", "port": 80.0, "defaultActions": [{"type": "forward"}]}
    msgs = run_resource_policy(compute.lb, compute.LB_LISTENER, forward)
    assert len(msgs) == 1 and "protocol is 'HTTP'" in msgs[0] and "forward" in msgs[0]


def test_load_balancer_passes() -> None:
    assert run_resource_policy(compute.lb, compute.LOAD_BALANCER, GOOD_LB) == []
    nlb = {
        "loadBalancerType": "network",
        "enableDeletionProtection": True,
        "accessLogs": {"bucket": "lb-logs", "enabled": True},
    }
    assert run_resource_policy(compute.lb, compute.LOAD_BALANCER, nlb) == []


def test_load_balancer_defaults_fail() -> None:
    msgs = run_resource_policy(compute.lb, compute.LOAD_BALANCER, {"name": "edge"})
    assert len(msgs) == 3
    assert any("dropInvalidHeaderFields is absent" in m for m in msgs)
    assert any("enableDeletionProtection is absent" in m for m in msgs)
    assert any("accessLogs is absent" in m for m in msgs)
    msgs = run_resource_policy(compute.lb, compute.LOAD_BALANCER, {**GOOD_LB, "accessLogs": {"bucket": "b"}})
    assert len(msgs) == 1 and "accessLogs.enabled is absent" in msgs[0]


# ob-ecs-cluster -----------------------------------------------------------------------------------


def test_ecs_cluster_insights() -> None:
    t = compute.ECS_CLUSTER
    for value in ("enabled", "enhanced"):
        props = {"settings": [{"name": "containerInsights", "value": value}]}
        assert run_resource_policy(compute.ecs_cluster, t, props) == []
    msgs = run_resource_policy(compute.ecs_cluster, t, {"name": "c"})
    assert len(msgs) == 1 and "containerInsights is absent" in msgs[0]
    msgs = run_resource_policy(
        compute.ecs_cluster, t, {"settings": [{"name": "containerInsights", "value": "disabled"}]}
    )
    assert len(msgs) == 1 and "'disabled'" in msgs[0]


# ob-ebs-encryption --------------------------------------------------------------------------------

KEY = "arn:aws:kms:eu-west-2:1:key/k"


@pytest.mark.parametrize(("typ", "props"), [
    (compute.EBS_VOLUME, {"availabilityZone": "eu-west-2a", "size": 20.0, "encrypted": True, "kmsKeyId": KEY}),
    (compute.EBS_VOLUME, {"availabilityZone": "eu-west-2a", "snapshotId": "snap-1"}),
    (compute.EC2_INSTANCE, {"ami": "ami-1", "rootBlockDevice": {"encrypted": True},
                            "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True, "kmsKeyId": KEY}]}),
    (compute.EC2_INSTANCE, {"launchTemplate": {"id": "lt-1"}}),
    (compute.LAUNCH_TEMPLATE, {"blockDeviceMappings": [{"deviceName": "/dev/xvda",
                                                        "ebs": {"encrypted": "true", "kmsKeyId": KEY}},
                                                       {"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}]}),
    (compute.LAUNCH_TEMPLATE, {"imageId": "ami-1"}),
    (compute.EBS_VOLUME, {"encrypted": UNKNOWN_STRING_VALUE}),
])
def test_ebs_encrypted_passes(typ: str, props: dict) -> None:
    assert run_resource_policy(compute.ebs_encryption, typ, props) == []


@pytest.mark.parametrize(("typ", "props", "fragment"), [
    (compute.EBS_VOLUME, {"availabilityZone": "eu-west-2a", "size": 20.0}, "encrypted is absent"),
    (compute.EBS_VOLUME, {"encrypted": True, "kmsKeyId": "alias/aws/ebs"}, "AWS-managed key"),
    (compute.EC2_INSTANCE, {"ami": "ami-1"}, "rootBlockDevice is absent"),
    (compute.EC2_INSTANCE, {"ami": "ami-1", "rootBlockDevice": {"encrypted": False}},
     "rootBlockDevice.encrypted is false"),
    (compute.EC2_INSTANCE, {"ami": "ami-1", "rootBlockDevice": {"encrypted": True},
                            "ebsBlockDevices": [{"deviceName": "/dev/sdf"}]}, "ebsBlockDevices[0].encrypted is absent"),
    (compute.LAUNCH_TEMPLATE, {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}]},
     "blockDeviceMappings[0].ebs.encrypted is 'false'"),
])
def test_ebs_unencrypted_fails(typ: str, props: dict, fragment: str) -> None:
    msgs = run_resource_policy(compute.ebs_encryption, typ, props)
    assert len(msgs) == 1 and fragment in msgs[0], msgs
