"""`make sandbox` end to end: the real `python -m openbanking.sandbox serve` in a subprocess (its own PostgreSQL
database, Redis cache namespace, state directory and port), driven over HTTP exactly as services/README.md tells a
TPP to: credentials from the CLI, a certificate-bound token, consents the PSU authorises at `/sandbox/authorize`,
account reads, a signed and idempotent domestic payment, and the refusals API Gateway's authorizer would make."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from joserfc.jwk import RSAKey
from psycopg import sql
from redis import Redis
from sqlalchemy.orm import Session

from openbanking.ledger import available_balance
from openbanking.ledger.db import create_ledger_engine
from openbanking.sandbox.server import free_port
from tests.services.ledger.support import PG_ADMIN_URL, PG_URL_TEMPLATE, REDIS_URL, unique_name
from tests.services.pis.support import Tpp, verify_detached

SERVICES = Path(__file__).resolve().parents[3] / "services"
AIS, PIS = "/open-banking/v3.1/aisp", "/open-banking/v3.1/pisp"
CERT_HEADER = "x-amzn-mtls-clientcert"
STARTUP_SECONDS = 20.0


@dataclass
class Sandbox:
    base_url: str
    state_dir: Path
    env: dict[str, str]
    output: Path
    database_url: str
    environment: str
    http: httpx.Client

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`python -m openbanking.sandbox ...` from services/, as the README runs it, against this sandbox's state."""
        return subprocess.run([sys.executable, "-m", "openbanking.sandbox", *args], cwd=SERVICES, env=self.env,
                              capture_output=True, text=True, timeout=30, check=False)


@dataclass
class Credentials:
    """What `credentials --out DIR` wrote: the mTLS header, the client certificate and the request-signing key."""

    tpp_id: str
    directory: Path

    @property
    def mtls(self) -> dict[str, str]:
        name, _, value = (self.directory / "mtls-header.txt").read_text().strip().partition(": ")
        assert name == CERT_HEADER
        return {name: value}

    @property
    def signer(self) -> Tpp:
        kid = (self.directory / "signing.kid").read_text().strip()
        key = RSAKey.import_key((self.directory / "signing.key").read_bytes(), {"kid": kid})
        return Tpp(self.tpp_id, f"{self.tpp_id}-client", key)


def _clean_env() -> dict[str, str]:
    """The caller's environment without any OB_* setting that could point the sandbox at shared state."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OB_") and k not in ("PORT", "PYTHONPATH")}


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the sandbox's process group (uvicorn and moto's threads), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def _wait_healthy(process: subprocess.Popen[bytes], base_url: str, output: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the sandbox exited with {process.returncode} before answering /health:\n{output.read_text()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the sandbox did not answer /health within {STARTUP_SECONDS:.0f} s:\n{output.read_text()}")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    database = unique_name("e2e")
    environment = f"e2e{uuid.uuid4().hex[:12]}"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    work = tmp_path_factory.mktemp("sandbox")
    state_dir, output = work / "state", work / "serve.log"
    database_url = PG_URL_TEMPLATE.format(db=database)
    env = {**_clean_env(), "PORT": str(port), "OB_SANDBOX_DIR": str(state_dir), "OB_DATABASE_URL": database_url,
           "OB_REDIS_URL": REDIS_URL, "OB_ENVIRONMENT": environment, "PYTHONDONTWRITEBYTECODE": "1"}
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    process: subprocess.Popen[bytes] | None = None
    try:
        with output.open("wb") as sink:
            process = subprocess.Popen([sys.executable, "-m", "openbanking.sandbox", "serve"], cwd=SERVICES, env=env,
                                       stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_healthy(process, base_url, output)
        with httpx.Client(base_url=base_url, timeout=10.0) as http:
            yield Sandbox(base_url, state_dir, env, output, database_url, environment, http)
    finally:
        if process is not None:
            _stop(process)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        redis = Redis.from_url(REDIS_URL)
        keys = list(redis.scan_iter(match=f"ob:{environment}:*", count=500))
        if keys:
            redis.delete(*keys)
        redis.close()


def _issue(sandbox: Sandbox, directory: Path, tpp_id: str) -> Credentials:
    result = sandbox.cli("credentials", "--tpp-id", tpp_id, "--out", str(directory))
    assert result.returncode == 0, result.stderr
    assert f"for TPP {tpp_id}" in result.stdout
    for name in ("client.pem", "client.key", "ca.pem", "signing.key", "signing.kid", "mtls-header.txt"):
        assert (directory / name).is_file(), name
    assert (directory / "client.key").stat().st_mode & 0o077 == 0, "the private key must not be group/world readable"
    return Credentials(tpp_id, directory)


@pytest.fixture(scope="module")
def tpp(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return _issue(sandbox, tmp_path_factory.mktemp("tpp"), "e2e-tpp")


@pytest.fixture(scope="module")
def other_tpp(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return _issue(sandbox, tmp_path_factory.mktemp("other-tpp"), "e2e-other-tpp")


def token(sandbox: Sandbox, credentials: Credentials, scope: str) -> str:
    """Step 2 of the README: client credentials, the client authenticated by its certificate."""
    answer = sandbox.http.post("/sandbox/token", data={"grant_type": "client_credentials", "scope": scope},
                               headers=credentials.mtls)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["scope"] == scope and answer.headers["cache-control"] == "no-store"
    return str(body["access_token"])


def authorise(sandbox: Sandbox, credentials: Credentials, decision: dict[str, Any]) -> str:
    """Step 4: the PSU's decision, answered with the consent-bound token."""
    answer = sandbox.http.post("/sandbox/authorize", json=decision, headers=credentials.mtls)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["Status"] == "Authorised" and body["ConsentId"] == decision["ConsentId"]
    return str(body["access_token"])


def api_headers(credentials: Credentials, access_token: str | None) -> dict[str, str]:
    headers = {**credentials.mtls, "x-fapi-interaction-id": str(uuid.uuid4()), "accept": "application/json"}
    if access_token:
        headers["authorization"] = f"Bearer {access_token}"
    return headers


def obie(answer: httpx.Response, request_headers: dict[str, str], status: int) -> dict[str, Any]:
    """The status, the interaction id echoed, and an OBIE document: Data/Links/Meta, or OBErrorResponse1."""
    assert answer.status_code == status, answer.text
    assert answer.headers["x-fapi-interaction-id"] == request_headers["x-fapi-interaction-id"]
    body = answer.json()
    if status < 400:
        assert {"Data", "Links", "Meta"} <= body.keys(), body
        assert str(body["Links"]["Self"]).startswith("http://127.0.0.1:"), body["Links"]
    else:
        assert body["Code"].startswith(str(status)) and body["Errors"], body
        assert all({"ErrorCode", "Message"} <= error.keys() for error in body["Errors"]), body
    return body


def signed(credentials: Credentials, document: dict[str, Any], access_token: str) -> dict[str, Any]:
    """`httpx` keyword arguments for a PIS POST: exact body bytes, x-jws-signature with the issued signing key and
    a fresh x-idempotency-key."""
    body = json.dumps(document).encode()
    headers = {**api_headers(credentials, access_token), "content-type": "application/json",
               "x-idempotency-key": uuid.uuid4().hex, "x-jws-signature": credentials.signer.sign(body)}
    return {"content": body, "headers": headers}


def test_startup_output_tells_a_tpp_how_to_start(sandbox: Sandbox) -> None:
    printed = sandbox.output.read_text()
    assert f"Open Banking sandbox on {sandbox.base_url}" in printed
    assert "python -m openbanking.sandbox credentials --tpp-id" in printed
    assert f"{sandbox.base_url}/sandbox/token" in printed and "grant_type=client_credentials" in printed
    assert f"{sandbox.base_url}/open-banking/v3.1/aisp/account-access-consents" in printed
    assert f"{sandbox.base_url}/sandbox/authorize" in printed
    assert f"{sandbox.base_url}/open-banking/v3.1/aisp/accounts" in printed
    assert str(sandbox.state_dir) in printed, "the state directory must be the one OB_SANDBOX_DIR names"
    assert (sandbox.state_dir / "ca.pem").is_file() and (sandbox.state_dir / "aspsp-signing.pem").is_file()


def test_account_information_journey(sandbox: Sandbox, tpp: Credentials) -> None:
    client_token = token(sandbox, tpp, "accounts")
    headers = api_headers(tpp, client_token)
    permissions = ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail", "ReadTransactionsCredits",
                   "ReadTransactionsDebits"]
    created = obie(sandbox.http.post(f"{AIS}/account-access-consents", headers=headers,
                                     json={"Data": {"Permissions": permissions}, "Risk": {}}), headers, 201)
    consent_id = created["Data"]["ConsentId"]
    assert consent_id.startswith("aac-") and created["Data"]["Status"] == "AwaitingAuthorisation"
    assert created["Data"]["Permissions"] == permissions

    access = authorise(sandbox, tpp, {"ConsentId": consent_id, "PsuId": "psu-0001"})
    headers = api_headers(tpp, client_token)
    consent = obie(sandbox.http.get(f"{AIS}/account-access-consents/{consent_id}", headers=headers), headers, 200)
    assert consent["Data"]["Status"] == "Authorised"

    headers = api_headers(tpp, access)
    accounts = obie(sandbox.http.get(f"{AIS}/accounts", headers=headers), headers, 200)["Data"]["Account"]
    account_ids = [account["AccountId"] for account in accounts]
    assert account_ids and all(account_id.startswith("acc-0001-") for account_id in account_ids)
    assert all(account["Currency"] == "GBP" and account["Account"] for account in accounts), "Detail shows Account"

    account_id = account_ids[0]
    headers = api_headers(tpp, access)
    balances = obie(sandbox.http.get(f"{AIS}/accounts/{account_id}/balances", headers=headers), headers, 200)
    assert balances["Data"]["Balance"]
    for balance in balances["Data"]["Balance"]:
        assert balance["AccountId"] == account_id and balance["CreditDebitIndicator"] in ("Credit", "Debit")
        assert {"Amount", "Currency"} <= balance["Amount"].keys() and balance["Type"] and balance["DateTime"]

    headers = api_headers(tpp, access)
    page = obie(sandbox.http.get(f"{AIS}/accounts/{account_id}/transactions", headers=headers), headers, 200)
    transactions = page["Data"]["Transaction"]
    assert transactions and all(t["AccountId"] == account_id for t in transactions)
    booked = [t["BookingDateTime"] for t in transactions]
    assert booked == sorted(booked, reverse=True), "newest first"
    assert page["Meta"]["TotalPages"] >= 1 and page["Links"]["Self"].startswith(f"{sandbox.base_url}{AIS}/")

    redis = Redis.from_url(REDIS_URL)
    try:
        cached = list(redis.scan_iter(match=f"ob:{sandbox.environment}:ledger:acct:*", count=500))
    finally:
        redis.close()
    assert cached, "the reads must go through the ledger cache, under this sandbox's own OB_ENVIRONMENT prefix"


def test_domestic_payment_journey(sandbox: Sandbox, tpp: Credentials) -> None:
    client_token = token(sandbox, tpp, "payments")
    initiation = {"InstructionIdentification": "e2e-instr-1", "EndToEndIdentification": "e2e-end-to-end-1",
                  "InstructedAmount": {"Amount": "10.00", "Currency": "GBP"},
                  "CreditorAccount": {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "08080021325698",
                                      "Name": "ACME Inc"},
                  "RemittanceInformation": {"Reference": "FRESCO-101", "Unstructured": "Internal ops code 5120101"}}
    risk = {"PaymentContextCode": "EcommerceGoods"}
    request = signed(tpp, {"Data": {"Initiation": initiation}, "Risk": risk}, client_token)
    answer = sandbox.http.post(f"{PIS}/domestic-payment-consents", **request)
    created = obie(answer, request["headers"], 201)
    consent_id = created["Data"]["ConsentId"]
    assert consent_id.startswith("pdc-") and created["Data"]["Status"] == "AwaitingAuthorisation"
    aspsp_key = RSAKey.import_key((sandbox.state_dir / "aspsp-signing.pem").read_bytes())
    verify_detached(answer.headers["x-jws-signature"], answer.content, aspsp_key)

    debtor = "acc-0001-01"
    access = authorise(sandbox, tpp, {"ConsentId": consent_id, "PsuId": "psu-0001", "AccountId": debtor})

    headers = api_headers(tpp, access)
    funds = obie(sandbox.http.get(f"{PIS}/domestic-payment-consents/{consent_id}/funds-confirmation",
                                  headers=headers), headers, 200)
    engine = create_ledger_engine(sandbox.database_url)
    try:
        with Session(engine) as session:
            balance = available_balance(session, debtor)
    finally:
        engine.dispose()
    assert balance is not None and balance.currency == "GBP"
    assert funds["Data"]["FundsAvailableResult"]["FundsAvailable"] is (balance.amount >= Decimal("10.00"))

    payment = {"Data": {"ConsentId": consent_id, "Initiation": initiation}, "Risk": risk}
    request = signed(tpp, payment, access)
    answer = sandbox.http.post(f"{PIS}/domestic-payments", **request)
    made = obie(answer, request["headers"], 201)
    payment_id = made["Data"]["DomesticPaymentId"]
    assert payment_id.startswith("pdp-") and made["Data"]["ConsentId"] == consent_id
    verify_detached(answer.headers["x-jws-signature"], answer.content, aspsp_key)

    replay = obie(sandbox.http.post(f"{PIS}/domestic-payments", **request), request["headers"], 201)
    assert replay["Data"]["DomesticPaymentId"] == payment_id, "the same x-idempotency-key makes no second payment"

    headers = api_headers(tpp, client_token)
    fetched = obie(sandbox.http.get(f"{PIS}/domestic-payments/{payment_id}", headers=headers), headers, 200)
    assert fetched["Data"]["DomesticPaymentId"] == payment_id and fetched["Data"]["Initiation"] == initiation
    headers = api_headers(tpp, client_token)
    consumed = obie(sandbox.http.get(f"{PIS}/domestic-payment-consents/{consent_id}", headers=headers), headers, 200)
    assert consumed["Data"]["Status"] == "Consumed"


def test_unsigned_payment_consent_is_refused(sandbox: Sandbox, tpp: Credentials) -> None:
    request = signed(tpp, {"Data": {"Initiation": {}}, "Risk": {}}, token(sandbox, tpp, "payments"))
    del request["headers"]["x-jws-signature"]
    body = obie(sandbox.http.post(f"{PIS}/domestic-payment-consents", **request), request["headers"], 400)
    assert body["Errors"][0]["ErrorCode"] == "UK.OBIE.Signature.Missing"


def test_request_without_token_is_401_with_an_obie_body(sandbox: Sandbox, tpp: Credentials) -> None:
    headers = api_headers(tpp, None)
    obie(sandbox.http.get(f"{AIS}/accounts", headers=headers), headers, 401)
    headers = api_headers(tpp, None)
    obie(sandbox.http.post(f"{AIS}/account-access-consents", headers=headers,
                           json={"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}}), headers, 401)


def test_token_presented_with_another_certificate_is_refused(sandbox: Sandbox, tpp: Credentials,
                                                             other_tpp: Credentials) -> None:
    stolen = token(sandbox, tpp, "accounts")
    headers = {**api_headers(tpp, stolen), **other_tpp.mtls}
    answer = sandbox.http.post(f"{AIS}/account-access-consents", headers=headers,
                               json={"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}})
    assert answer.status_code in (401, 403), answer.text
    obie(answer, headers, answer.status_code)


def test_client_credentials_token_cannot_read_accounts(sandbox: Sandbox, tpp: Credentials) -> None:
    headers = api_headers(tpp, token(sandbox, tpp, "accounts"))
    obie(sandbox.http.get(f"{AIS}/accounts", headers=headers), headers, 403)


def test_revoked_certificate_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    revoked = _issue(sandbox, tmp_path / "revoked", "e2e-revoked-tpp")
    issued_before = token(sandbox, revoked, "accounts")
    result = sandbox.cli("revoke", "--cert", str(revoked.directory / "client.pem"))
    assert result.returncode == 0 and result.stdout.startswith("revoked serial "), result.stderr

    refused = sandbox.http.post("/sandbox/token", data={"grant_type": "client_credentials", "scope": "accounts"},
                                headers=revoked.mtls)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"

    headers = api_headers(revoked, issued_before)
    answer = sandbox.http.post(f"{AIS}/account-access-consents", headers=headers,
                               json={"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}})
    assert answer.status_code in (401, 403), "a token issued before revocation dies with its certificate"
    obie(answer, headers, answer.status_code)


def test_internal_endpoints_are_not_exposed(sandbox: Sandbox, tpp: Credentials) -> None:
    for path in ("/internal/aisp/account-access-consents/aac-00000000-0000-0000-0000-000000000000/authorisation",
                 "/internal/pisp/domestic-payment-consents/pdc-00000000-0000-0000-0000-000000000000/authorisation",
                 "/internal"):
        answer = sandbox.http.post(path, headers=api_headers(tpp, token(sandbox, tpp, "accounts")),
                                   json={"Status": "Authorised", "PsuId": "psu-0001"})
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Resource.NotFound"
