"""The deployed sandbox's entry points, built from their settings alone as ECS would start them (keys through
`secrets` as PEM text, the CA certificate from a file standing in for the truststore object, tables in moto, the
ASPSP key in moto's KMS): `openbanking.sandbox.ca.main:create` and `openbanking.sandbox.idp.main:create`."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from moto import mock_aws
from sqlalchemy import Engine, text

from openbanking.common.dynamo import create_tables, table_name
from openbanking.common.dynamo_items import to_item
from openbanking.common.settings import ServiceSettings
from openbanking.ledger.seed import seed
from openbanking.sandbox.ca import main as ca_main
from openbanking.sandbox.idp import main as idp_main
from openbanking.sandbox.pki import CertificateAuthority, cert_pem, key_pem
from openbanking.security.certificates import crl_urls, ocsp_urls, thumbprint_s256
from tests.services.ledger.support import SEED_UNTIL, ledger_database

OCSP_URL, CRL_URL = "https://pki.sandbox.bank.example/sandbox/ocsp", "https://pki.sandbox.bank.example/sandbox/crl"
ISSUER = "https://sandbox.bank.example/sandbox"
AAC = "aac-4b6f2c1e-1d2b-4c5e-9f0a-1b2c3d4e5f60"


class InternalCalls:
    """AIS and PIS behind their load balancer, as the IdP reaches them: records each call and its headers."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
                calls.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def ledger() -> Iterator[Engine]:
    with ledger_database("sandbox_idp") as engine:
        seed(engine, customers=1, months=1, seed=9, until=SEED_UNTIL)
        yield engine


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger: Engine) -> Iterator[dict[str, Any]]:
    """The sandbox account's environment: what the task definitions of sandbox_ca and sandbox_idp set."""
    for name in [n for n in os.environ if n.startswith("OB_")]:
        monkeypatch.delenv(name)
    ca = CertificateAuthority.create("Deployed Sandbox CA")
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey)
    truststore = tmp_path / "truststore.pem"
    truststore.write_bytes(cert_pem(ca.certificate))
    idp_key = ec.generate_private_key(ec.SECP256R1())
    internal = InternalCalls()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "OB_ENVIRONMENT": "sandbox",
           "OB_AWS_REGION": "eu-west-2", "OB_TABLE_PREFIX": f"sbx-{uuid.uuid4().hex[:8]}-",
           "OB_SANDBOX_CA_KEY": key_pem(ca.key).decode(), "OB_SANDBOX_CA_CERTIFICATE": str(truststore),
           "OB_SANDBOX_OCSP_URL": OCSP_URL, "OB_SANDBOX_CRL_URL": CRL_URL,
           "OB_SANDBOX_IDP_KEY": key_pem(idp_key).decode(), "OB_TOKEN_ISSUER": ISSUER,
           "OB_SANDBOX_AIS_URL": internal.url, "OB_SANDBOX_PIS_URL": internal.url,
           "OB_SANDBOX_SETTLEMENT_SECONDS": "0", "OB_SIGNING_KEY_ID": "aspsp-sandbox-2025",
           "OB_DATABASE_URL": ledger.url.render_as_string(hide_password=False)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        kms = boto3.client("kms", region_name="eu-west-2")
        key_arn = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
        monkeypatch.setenv("OB_SIGNING_KMS_KEY_ARN", key_arn)
        settings = ServiceSettings()
        create_tables(settings, ["consents", "payments", "sandbox_directory"])
        try:
            yield {"ca": ca, "idp_key": idp_key, "internal": internal, "settings": settings, "kms": kms,
                   "key_arn": key_arn}
        finally:
            internal.close()


def _certified(ca_app: TestClient, tpp_id: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, str]:
    secret = ca_app.post("/sandbox/tpps", json={"TppId": tpp_id}).json()["RegistrationSecret"]
    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "anything")])).sign(key, hashes.SHA256())
    issued = ca_app.post(f"/sandbox/tpps/{tpp_id}/certificates", headers={"authorization": f"Bearer {secret}"},
                         json={"Csr": csr.public_bytes(serialization.Encoding.PEM).decode()})
    assert issued.status_code == 201, issued.text
    return key, x509.load_pem_x509_certificate(issued.json()["Certificate"].encode()), secret


def test_the_deployed_ca_issues_certificates_naming_its_public_ocsp_and_crl(deployed: dict[str, Any]) -> None:
    with TestClient(ca_main.create()) as ca_app:
        _, certificate, secret = _certified(ca_app, "tpp-deployed")
        assert certificate.issuer == deployed["ca"].certificate.subject
        assert ocsp_urls(certificate) == [OCSP_URL] and crl_urls(certificate) == [CRL_URL]
        request = ocsp.OCSPRequestBuilder().add_certificate(certificate, deployed["ca"].certificate,
                                                            hashes.SHA1()).build()

        def status() -> ocsp.OCSPCertStatus:
            answer = ca_app.post("/sandbox/ocsp", content=request.public_bytes(serialization.Encoding.DER),
                                 headers={"content-type": "application/ocsp-request"})
            return ocsp.load_der_ocsp_response(answer.content).certificate_status

        assert status() == ocsp.OCSPCertStatus.GOOD
        revoked = ca_app.post("/sandbox/tpps/tpp-deployed/revocations", headers={"authorization": f"Bearer {secret}"},
                              json={"SerialNumber": f"{certificate.serial_number:x}"})
        assert revoked.status_code == 200, revoked.text
        assert status() == ocsp.OCSPCertStatus.REVOKED
        crl = x509.load_der_x509_crl(ca_app.get("/sandbox/crl").content)
        assert crl.is_signature_valid(deployed["ca"].key.public_key())
        assert crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None
    table = table_name(deployed["settings"], "sandbox_directory")
    stored = boto3.client("dynamodb", region_name="eu-west-2").get_item(
        TableName=table, Key=to_item({"Key": f"cert#{certificate.serial_number:x}"}))["Item"]
    assert stored["TppId"] == {"S": "tpp-deployed"} and "RevokedAt" in stored


def test_the_deployed_idp_issues_bound_tokens_and_calls_the_services_as_the_gateway_would(
        deployed: dict[str, Any], ledger: Engine) -> None:
    with ledger.connect() as connection:
        accounts = [row[0] for row in connection.execute(text(
            "SELECT account_id FROM accounts WHERE psu_id = 'psu-0001' ORDER BY account_id"))]
    with TestClient(ca_main.create()) as ca_app:
        _, certificate, _ = _certified(ca_app, "tpp-idp")
    header = {"x-amzn-mtls-clientcert": quote(cert_pem(certificate).decode(), safe="")}
    dynamodb = boto3.client("dynamodb", region_name="eu-west-2")
    dynamodb.put_item(TableName=table_name(deployed["settings"], "consents"), Item=to_item({
        "ConsentId": AAC, "TppId": "tpp-idp", "Status": "AwaitingAuthorisation", "ConsentType": "account-access"}))
    with TestClient(idp_main.create()) as idp:
        answer = idp.post("/sandbox/token", data={"grant_type": "client_credentials", "scope": "accounts"},
                          headers=header)
        assert answer.status_code == 200, answer.text
        # behind the sandbox's API Gateway entry the header is the PEM as the parameter mapping copies it
        pem = cert_pem(certificate).decode().strip()
        for as_mapped in (pem.replace("\n", " "), pem.replace("\n", "")):
            mapped = idp.post("/sandbox/token", data={"grant_type": "client_credentials", "scope": "accounts"},
                              headers={"x-amzn-mtls-clientcert": as_mapped})
            assert mapped.status_code == 200, mapped.text
        token_key = ECKey.import_key(deployed["idp_key"].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        claims = jwt.decode(answer.json()["access_token"], token_key).claims
        assert claims["iss"] == ISSUER and claims["cnf"] == {"x5t#S256": thumbprint_s256(certificate)}
        assert idp.get("/sandbox/jwks").json()["keys"][0]["kty"] == "EC"

        authorised = idp.post("/sandbox/authorize", headers=header, json={"ConsentId": AAC, "PsuId": "psu-0001"})
        assert authorised.status_code == 200, authorised.text
        [(path, headers, body)] = deployed["internal"].calls
        assert path == f"/internal/aisp/account-access-consents/{AAC}/authorisation"
        assert (headers["x-ob-tpp-id"], headers["x-ob-scopes"]) == ("sandbox-idp", "openbanking:consent-authorisation")
        assert accounts and body == {"Status": "Authorised", "PsuId": "psu-0001", "AccountIds": accounts}, \
            "the PSU's accounts, read from the ledger"

        published = idp.get("/sandbox/aspsp/jwks").json()
        [key] = KeySet.import_key_set(published).keys
        public = deployed["kms"].get_public_key(KeyId=deployed["key_arn"])["PublicKey"]
        assert key.kid == "aspsp-sandbox-2025" and key.get("alg") == "PS256"
        assert key.public_key.public_bytes(serialization.Encoding.DER,  # type: ignore[union-attr]
                                           serialization.PublicFormat.SubjectPublicKeyInfo) == public


def test_a_missing_key_is_named_by_its_setting(deployed: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OB_SANDBOX_CA_KEY", "/no/such/key.pem")
    with pytest.raises(ValueError, match=r"^OB_SANDBOX_CA_KEY: '/no/such/key.pem' cannot be read"):
        ca_main.create()
    monkeypatch.setenv("OB_SANDBOX_CA_CERTIFICATE", "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----")
    with pytest.raises(ValueError, match="OB_SANDBOX_CA_CERTIFICATE: not a PEM certificate"):
        idp_main.create()
