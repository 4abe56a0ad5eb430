"""Workload coverage: credential secrets rotate, clusters force TLS, endpoint services allow named principals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openbanking_policies import workload_coverage as wc
from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policies._support import policy_resource, run_stack_policy

ACCOUNT = "111111111111"
API_ACCOUNT = "arn:aws:iam::333333333333:root"


def secret(name: str, **props: Any) -> PolicyResource:
    arn = f"arn:aws:secretsmanager:eu-west-2:{ACCOUNT}:secret:{name}-AbCdEf"
    return policy_resource(wc.SECRET, {"name": name, "arn": arn, **props}, name=name)


# ob-secrets-rotation-coverage -----------------------------------------------------------------------


@pytest.mark.parametrize(("make", "why"), [
    (lambda: [secret("ingestion-broker-password")], "its name mentions 'password'"),
    (lambda: [secret("ingestion-broker", description="AMQP credentials of the consumer")],
     "its description mentions 'credential'"),
    (lambda: [secret("tpp-client", tags={"lz:credential": "true"})], "tagged lz:credential=true"),
    (lambda: [secret("broker"), policy_resource(wc.SECRET_VERSION, {"secretId": "broker", "secretString": json.dumps(
        {"username": "ingest", "password": "s3cr3t-s3cr3t"})})], 'the key(s) ["password"]'),
    (lambda: [secret("broker-url"), policy_resource(wc.SECRET_VERSION, {
        "secretId": f"arn:aws:secretsmanager:eu-west-2:{ACCOUNT}:secret:broker-url-AbCdEf",
        "secretString": "amqps://ingest:s3cr3t@b-1.mq.eu-west-2.amazonaws.com:5671"})], "a URL with a password"),
    (lambda: [secret("signing"), policy_resource(wc.SECRET_VERSION, {
        "secretId": "signing", "secretString": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"})],
     "a private key"),
])
def test_credential_secret_without_rotation_fails(make: Any, why: str) -> None:
    resources = make()
    found = run_stack_policy(wc.secrets_rotation_coverage, resources)
    assert len(found) == 1, found
    assert found[0][1] == resources[0].urn and why in found[0][0] and "no SecretRotation" in found[0][0]


@pytest.mark.parametrize("secret_id", ["db-password", f"arn:aws:secretsmanager:eu-west-2:{ACCOUNT}:secret:"
                                                      "db-password-AbCdEf"])
def test_rotated_credential_secret_passes(secret_id: str) -> None:
    rotation = policy_resource(wc.SECRET_ROTATION, {"secretId": secret_id,
                                                    "rotationRules": {"automaticallyAfterDays": 30.0}})
    assert run_stack_policy(wc.secrets_rotation_coverage, [secret("db-password"), rotation]) == []


def test_disabled_rotation_does_not_count() -> None:
    rotation = policy_resource(wc.SECRET_ROTATION, {"secretId": "db-password", "rotationEnabled": False})
    found = run_stack_policy(wc.secrets_rotation_coverage, [secret("db-password"), rotation])
    assert len(found) == 1 and "no SecretRotation" in found[0][0]


def test_non_credential_secret_and_unknowns_pass() -> None:
    config = secret("feature-flags", description="JSON switches for the sandbox")
    version = policy_resource(wc.SECRET_VERSION, {"secretId": "feature-flags", "secretString": '{"sandbox": true}'})
    assert run_stack_policy(wc.secrets_rotation_coverage, [config, version]) == []
    unknown_rotation = policy_resource(wc.SECRET_ROTATION, {"secretId": UNKNOWN_STRING_VALUE})
    assert run_stack_policy(wc.secrets_rotation_coverage, [secret("db-password"), unknown_rotation]) == []


# ob-rds-force-ssl-coverage --------------------------------------------------------------------------


def cluster(group: Any = "ob-ledger-tls", engine: str = "aurora-postgresql") -> PolicyResource:
    props: dict[str, Any] = {"engine": engine, "clusterIdentifier": "ledger"}
    if group is not None:
        props["dbClusterParameterGroupName"] = group
    return policy_resource(wc.RDS_CLUSTER, props, name="ledger")


def group(name: str = "ob-ledger-tls", family: str = "aurora-postgresql16", value: str = "1") -> PolicyResource:
    param = "require_secure_transport" if "mysql" in family else "rds.force_ssl"
    return policy_resource(wc.CLUSTER_PARAMETER_GROUP, {"name": name, "family": family, "parameters": [
        {"name": param, "value": value}]}, name=name)


def test_cluster_on_a_tls_forcing_group_passes() -> None:
    assert run_stack_policy(wc.rds_force_ssl_coverage, [cluster(), group()]) == []
    mysql = [cluster(engine="aurora-mysql"), group(family="aurora-mysql8.0", value="ON")]
    assert run_stack_policy(wc.rds_force_ssl_coverage, mysql) == []
    assert run_stack_policy(wc.rds_force_ssl_coverage, [cluster(UNKNOWN_STRING_VALUE), group()]) == []


@pytest.mark.parametrize(("resources", "fragment"), [
    ([cluster(None)], "the engine default group"),
    ([cluster("default.aurora-postgresql16")], "'default.aurora-postgresql16'"),
    ([cluster("shared-group")], "no ClusterParameterGroup of the stack declares"),
    ([cluster(), group(value="0")], "sets rds.force_ssl to '0'"),
])
def test_cluster_without_tls_forcing_group_fails(resources: list[PolicyResource], fragment: str) -> None:
    found = run_stack_policy(wc.rds_force_ssl_coverage, resources)
    assert len(found) == 1 and found[0][1] == resources[0].urn and fragment in found[0][0], found


# ob-endpoint-service ---------------------------------------------------------------------------------


def service(acceptance: Any = True, principals: list[str] | None = None) -> PolicyResource:
    props: dict[str, Any] = {"acceptanceRequired": acceptance, "networkLoadBalancerArns": ["arn:nlb"],
                             "arn": f"arn:aws:ec2:eu-west-2:{ACCOUNT}:vpc-endpoint-service/vpce-svc-0abc",
                             "serviceName": "com.amazonaws.vpce.eu-west-2.vpce-svc-0abc"}
    if principals is not None:
        props["allowedPrincipals"] = principals
    return policy_resource(wc.ENDPOINT_SERVICE, props, name="ais-endpoint-service")


def allowed(principal: str, service_id: Any = "vpce-svc-0abc") -> PolicyResource:
    return policy_resource(wc.ENDPOINT_SERVICE_PRINCIPAL, {"vpcEndpointServiceId": service_id,
                                                           "principalArn": principal}, name="api-account")


@pytest.mark.parametrize("resources", [
    lambda: [service(True)],
    lambda: [service(True, [API_ACCOUNT])],
    lambda: [service(False, [API_ACCOUNT])],
    lambda: [service(False), allowed(API_ACCOUNT)],
    lambda: [service(False), allowed(API_ACCOUNT, UNKNOWN_STRING_VALUE)],
])
def test_endpoint_service_passes(resources: Any) -> None:
    assert run_stack_policy(wc.endpoint_service, resources()) == []


def test_endpoint_service_open_to_everyone_fails() -> None:
    svc = service(True, ["*"])
    found = run_stack_policy(wc.endpoint_service, [svc])
    assert len(found) == 1 and found[0][1] == svc.urn and "'*' lets every AWS account" in found[0][0]
    grant = allowed("*")
    found = run_stack_policy(wc.endpoint_service, [service(True), grant])
    assert len(found) == 1 and found[0][1] == grant.urn and "principalArn '*'" in found[0][0]


@pytest.mark.parametrize("acceptance", [False, None])
def test_endpoint_service_without_acceptance_or_principals_fails(acceptance: Any) -> None:
    svc = service(acceptance)
    found = run_stack_policy(wc.endpoint_service, [svc, allowed(API_ACCOUNT, "vpce-svc-other")])
    assert len(found) == 1 and found[0][1] == svc.urn and "no allowed principal" in found[0][0], found
