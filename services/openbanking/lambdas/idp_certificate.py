"""Keeps the IdP's TLS key current: the Secrets Manager rotation function of the Keycloak TLS secret.

Keycloak terminates its third parties' TLS itself (token binding needs the client certificate of its own TLS
session), so it needs the private key of `auth.<domain>`'s certificate. ACM issues and renews that certificate
(public, exportable); this function is what moves it into the secret the Keycloak tasks read at start, in the four
steps Secrets Manager calls a rotation function with:

- `createSecret`: export the certificate from ACM (`ExportCertificate`, a one-time passphrase), decrypt the key and
  store `{"certificate": <leaf and chain, PEM>, "privateKey": <PKCS#8 PEM>, "serialNumber": ..., "notAfter": ...}`
  as the AWSPENDING version (once per rotation token);
- `setSecret`: nothing: no other system holds the key;
- `testSecret`: the pending key is the certificate's key, the certificate is valid now and names the IdP's host;
- `finishSecret`: make the pending version AWSCURRENT and, when its certificate is not the one the current version
  held (ACM renewed it, or it is the first), start a new deployment of the Keycloak service: its tasks read the
  secret when they start.

The rotation runs on a schedule (weekly) and right after the secret is created, so a renewal ACM made reaches
Keycloak within a week, well inside ACM's renewal window.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from openbanking.common.settings import Deployed

logger = Logger(service="ob-idp-certificate")

PENDING, CURRENT = "AWSPENDING", "AWSCURRENT"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class IdpCertificateSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OB_", extra="ignore", frozen=True)

    aws_region: Annotated[str, Deployed()] = Field(default="eu-west-2", description="the region of every AWS client")
    certificate_arn: Annotated[str, Deployed()] = Field(
        default="", description="the ACM certificate (exportable) of the IdP's public host")
    tls_hostname: Annotated[str, Deployed()] = Field(default="", description="the IdP's public host, auth.<domain>")
    ecs_cluster: Annotated[str, Deployed()] = Field(default="", description="the cluster running Keycloak")
    ecs_service: Annotated[str, Deployed()] = Field(default="", description="the Keycloak service, redeployed when "
                                                                            "its certificate changes")


#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (IdpCertificateSettings,)


class RotationError(Exception):
    """The rotation cannot go on; the message says why (Secrets Manager retries at the next schedule)."""


def _names(certificate: x509.Certificate) -> set[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = set(san.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = set()
    names |= {str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}
    return names


def _covers(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        head, _, tail = host.partition(".")
        return bool(head) and tail == pattern[2:]
    return pattern == host


class CertificateRotation:
    """The four steps, on injected clients (`secrets`: Secrets Manager, `acm`, `ecs`)."""

    def __init__(self, secretsmanager: Any, acm: Any, ecs: Any, settings: IdpCertificateSettings, *,
                 passphrase: Callable[[], bytes] = lambda: secrets.token_urlsafe(32).encode(),
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._secrets = secretsmanager
        self._acm = acm
        self._ecs = ecs
        self._settings = settings
        self._passphrase = passphrase
        self._now = now

    def run(self, step: str, secret_id: str, token: str) -> None:
        if step not in STEPS:
            raise RotationError(f"unknown rotation step {step!r}")
        stages = self._secrets.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
        if token not in stages:
            raise RotationError(f"version {token} is not a version of {secret_id}")
        if PENDING not in stages[token]:
            if CURRENT in stages[token]:
                logger.info("version is already current", extra={"step": step, "version": token})
                return
            raise RotationError(f"version {token} of {secret_id} is not pending rotation")
        # The secret's first version is both pending and current (Secrets Manager makes a secret's first version
        # current): its rotation still runs every step, and its finish redeploys.
        getattr(self, f"_{step[:-len('Secret')]}")(secret_id, token, stages)

    # --- the steps --------------------------------------------------------------------------------------------

    def _create(self, secret_id: str, token: str, stages: dict[str, list[str]]) -> None:
        try:
            self._secrets.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage=PENDING)
            return  # this rotation's version exists: a retried step changes nothing
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
        passphrase = self._passphrase()
        exported = self._acm.export_certificate(CertificateArn=self._settings.certificate_arn, Passphrase=passphrase)
        key = serialization.load_pem_private_key(exported["PrivateKey"].encode(), password=passphrase)
        leaf = x509.load_pem_x509_certificate(exported["Certificate"].encode())
        value = {
            "certificate": exported["Certificate"].strip() + "\n" + exported.get("CertificateChain", "").strip() + "\n",
            "privateKey": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()).decode(),
            "serialNumber": format(leaf.serial_number, "x"),
            "notAfter": leaf.not_valid_after_utc.isoformat(),
        }
        self._secrets.put_secret_value(SecretId=secret_id, ClientRequestToken=token, SecretString=json.dumps(value),
                                       VersionStages=[PENDING])
        logger.info("exported the certificate into the pending version", extra={"serial": value["serialNumber"]})

    def _set(self, secret_id: str, token: str, stages: dict[str, list[str]]) -> None:
        """Nothing holds the key but the secret: the tasks read it when they start."""

    def _test(self, secret_id: str, token: str, stages: dict[str, list[str]]) -> None:
        value = self._value(secret_id, VersionId=token, VersionStage=PENDING)
        leaf = x509.load_pem_x509_certificate(value["certificate"].encode())
        key = serialization.load_pem_private_key(value["privateKey"].encode(), password=None)
        if key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) \
                != leaf.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo):
            raise RotationError("the pending private key is not the pending certificate's key")
        now = self._now()
        if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
            raise RotationError(f"the pending certificate is not valid now (valid {leaf.not_valid_before_utc} to "
                                f"{leaf.not_valid_after_utc})")
        host = self._settings.tls_hostname
        if not any(_covers(name, host) for name in _names(leaf)):
            raise RotationError(f"the pending certificate names {sorted(_names(leaf))}, not {host}")

    def _finish(self, secret_id: str, token: str, stages: dict[str, list[str]]) -> None:
        current = next((version for version, names in stages.items() if CURRENT in names), None)
        previous = None
        if current != token:
            previous = self._value(secret_id, VersionId=current).get("serialNumber") if current else None
            self._secrets.update_secret_version_stage(
                SecretId=secret_id, VersionStage=CURRENT, MoveToVersionId=token,
                **({"RemoveFromVersionId": current} if current else {}))
        serial = self._value(secret_id, VersionId=token).get("serialNumber")
        if serial != previous:
            self._ecs.update_service(cluster=self._settings.ecs_cluster, service=self._settings.ecs_service,
                                     forceNewDeployment=True)
            logger.info("new certificate: redeploying Keycloak", extra={"serial": serial, "previous": previous})
        else:
            logger.info("certificate unchanged: nothing to redeploy", extra={"serial": serial})

    def _value(self, secret_id: str, **version: str) -> dict[str, Any]:
        try:
            text = self._secrets.get_secret_value(SecretId=secret_id, **version)["SecretString"]
            value = json.loads(text)
        except (KeyError, ValueError) as exc:
            raise RotationError(f"version {version} of {secret_id} is not this function's JSON") from exc
        if not isinstance(value, dict):
            raise RotationError(f"version {version} of {secret_id} is not a JSON object")
        return value


def _clients(settings: IdpCertificateSettings) -> tuple[Any, Any, Any]:
    region = settings.aws_region
    return (boto3.client("secretsmanager", region_name=region), boto3.client("acm", region_name=region),
            boto3.client("ecs", region_name=region))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    """Secrets Manager's rotation call: `{"Step", "SecretId", "ClientRequestToken"}`."""
    settings = IdpCertificateSettings()
    step, secret_id, token = event.get("Step"), event.get("SecretId"), event.get("ClientRequestToken")
    if not (isinstance(step, str) and isinstance(secret_id, str) and isinstance(token, str)):
        raise RotationError("the event is not a Secrets Manager rotation call (Step, SecretId, ClientRequestToken)")
    CertificateRotation(*_clients(settings), settings).run(step, secret_id, token)
