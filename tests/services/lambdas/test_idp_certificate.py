"""The IdP certificate rotation: Secrets Manager's four steps (against moto) move ACM's exportable certificate into
Keycloak's TLS secret, never store a key that is not the certificate's or a certificate for another host, change
nothing when a step is retried, and redeploy Keycloak only when the certificate changed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from moto import mock_aws

from openbanking.lambdas import idp_certificate
from openbanking.lambdas.idp_certificate import CertificateRotation, IdpCertificateSettings, RotationError
from tests.services.lambdas.context import lambda_context

HOST = "auth.dev.example-bank.co.uk"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
SETTINGS = IdpCertificateSettings(aws_region="eu-west-2", certificate_arn="arn:aws:acm:eu-west-2:1:certificate/c",
                                  tls_hostname=HOST, ecs_cluster="dev-identity", ecs_service="dev-identity-keycloak")


def issue(host: str, serial: int, key: rsa.RSAPrivateKey | None = None) -> tuple[rsa.RSAPrivateKey, str]:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(serial).not_valid_before(NOW - timedelta(days=1))
                   .not_valid_after(NOW + timedelta(days=200))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
                   .sign(key, hashes.SHA256()))
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


class FakeAcm:
    """ACM's ExportCertificate: the certificate, its chain, and its key encrypted with the caller's passphrase."""

    def __init__(self) -> None:
        self.key, self.certificate = issue(HOST, 1)
        self.calls = 0

    def renew(self, host: str = HOST) -> None:
        self.key, self.certificate = issue(host, self.calls + 100)

    def export_certificate(self, CertificateArn: str, Passphrase: bytes) -> dict[str, str]:
        assert CertificateArn == SETTINGS.certificate_arn and len(Passphrase) >= 4
        self.calls += 1
        encrypted = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.BestAvailableEncryption(Passphrase)).decode()
        return {"Certificate": self.certificate, "CertificateChain": "", "PrivateKey": encrypted}


class FakeEcs:
    def __init__(self) -> None:
        self.deployments: list[dict[str, Any]] = []

    def update_service(self, **call: Any) -> dict[str, Any]:
        self.deployments.append(call)
        return {}


@pytest.fixture
def world() -> Iterator[tuple[Any, FakeAcm, FakeEcs, str]]:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-2")
        arn = client.create_secret(Name="dev-identity/keycloak-tls")["ARN"]
        yield client, FakeAcm(), FakeEcs(), arn


def rotate(client: Any, acm: FakeAcm, ecs: FakeEcs, arn: str, steps: tuple[str, ...] = idp_certificate.STEPS) -> str:
    """What Secrets Manager does: a new version id marked AWSPENDING by the first step, then the four steps."""
    token = str(uuid.uuid4())
    rotation = CertificateRotation(client, acm, ecs, SETTINGS, now=lambda: NOW)
    for step in steps:
        if step == "createSecret":
            _create_as_secrets_manager_does(client, rotation, arn, token)
        else:
            rotation.run(step, arn, token)
    return token


def _create_as_secrets_manager_does(client: Any, rotation: CertificateRotation, arn: str, token: str) -> None:
    """RotateSecret registers the new version id as AWSPENDING before it calls createSecret; moto only knows a
    version once it has a value, so describe_secret is answered as Secrets Manager answers it at that moment."""
    real = client.describe_secret

    def describe(**kwargs: Any) -> dict[str, Any]:
        answer = real(**kwargs)
        versions = answer.setdefault("VersionIdsToStages", {})
        versions.setdefault(token, ["AWSPENDING"])
        return answer

    client.describe_secret = describe
    try:
        rotation.run("createSecret", arn, token)
    finally:
        client.describe_secret = real


def current(client: Any, arn: str) -> dict[str, Any]:
    return json.loads(client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])


def test_a_rotation_moves_the_certificate_and_its_key_into_the_secret_and_redeploys(world: Any) -> None:
    client, acm, ecs, arn = world
    token = rotate(client, acm, ecs, arn)
    value = current(client, arn)
    assert "AWSCURRENT" in client.describe_secret(SecretId=arn)["VersionIdsToStages"][token]
    assert value["certificate"].startswith(acm.certificate.strip())
    key = serialization.load_pem_private_key(value["privateKey"].encode(), password=None)  # stored unencrypted
    assert isinstance(key, rsa.RSAPrivateKey) and key.private_numbers() == acm.key.private_numbers()
    assert value["serialNumber"] == "1"
    assert ecs.deployments == [{"cluster": "dev-identity", "service": "dev-identity-keycloak",
                                "forceNewDeployment": True}]


def test_an_unchanged_certificate_is_not_redeployed_and_a_renewed_one_is(world: Any) -> None:
    client, acm, ecs, arn = world
    rotate(client, acm, ecs, arn)
    rotate(client, acm, ecs, arn)
    assert len(ecs.deployments) == 1
    acm.renew()
    rotate(client, acm, ecs, arn)
    assert len(ecs.deployments) == 2 and current(client, arn)["serialNumber"] != "1"


def test_a_retried_create_step_exports_once(world: Any) -> None:
    client, acm, ecs, arn = world
    token = rotate(client, acm, ecs, arn, steps=("createSecret",))
    CertificateRotation(client, acm, ecs, SETTINGS, now=lambda: NOW).run("createSecret", arn, token)
    assert acm.calls == 1


def test_a_certificate_for_another_host_never_becomes_current(world: Any) -> None:
    client, acm, ecs, arn = world
    acm.renew("auth.other.example.com")
    with pytest.raises(RotationError, match=f"names \\['auth.other.example.com'\\], not {HOST}"):
        rotate(client, acm, ecs, arn)
    assert ecs.deployments == []



def test_a_renewal_for_another_host_leaves_the_current_certificate_in_place(world: Any) -> None:
    client, acm, ecs, arn = world
    rotate(client, acm, ecs, arn)
    acm.renew("auth.other.example.com")
    with pytest.raises(RotationError, match=r"not auth\.dev"):
        rotate(client, acm, ecs, arn)
    assert current(client, arn)["serialNumber"] == "1" and len(ecs.deployments) == 1


def test_a_key_that_is_not_the_certificate_s_is_refused(world: Any) -> None:
    client, acm, ecs, arn = world
    _, acm.certificate = issue(HOST, 7)  # a certificate whose key ACM would not hand out
    with pytest.raises(RotationError, match="not the pending certificate's key"):
        rotate(client, acm, ecs, arn)


def test_the_handler_refuses_what_is_not_a_rotation_call(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OB_CERTIFICATE_ARN", SETTINGS.certificate_arn)
    with pytest.raises(RotationError, match="not a Secrets Manager rotation call"):
        idp_certificate.handler({"source": "aws.events"}, lambda_context("dev-identity-idp-certificate"))


def test_an_unknown_step_or_version_is_refused(world: Any) -> None:
    client, acm, ecs, arn = world
    rotation = CertificateRotation(client, acm, ecs, SETTINGS, now=lambda: NOW)
    with pytest.raises(RotationError, match="unknown rotation step"):
        rotation.run("dropSecret", arn, "t")
    with pytest.raises(RotationError, match="is not a version of"):
        rotation.run("testSecret", arn, str(uuid.uuid4()))
