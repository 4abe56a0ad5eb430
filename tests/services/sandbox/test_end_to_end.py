"""`make sandbox` end to end: the real `python -m openbanking.sandbox serve` (tests/services/sandbox/conftest.py),
driven over HTTP as a TPP would: first the steps it prints, run as printed in a fresh shell from another directory;
then each journey with its checks: credentials from the command line, certificate-bound tokens, consents the PSU
authorises at `/sandbox/authorize`, account reads, signed and idempotent payments that settle or are rejected,
events signed with the published ASPSP key, body limits on every endpoint, and the refusals API Gateway's
authorizer would make."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy.orm import Session

from openbanking.ledger import available_balance
from openbanking.ledger.db import create_ledger_engine
from openbanking.sandbox.instructions import script_of
from tests.services.pis.support import verify_detached
from tests.services.sandbox.conftest import SETTLEMENT_SECONDS, RunningSandbox, clean_env
from tests.services.sandbox.support import Credentials

AIS, PIS, EVENTS = "/open-banking/v3.1/aisp", "/open-banking/v3.1/pisp", "/open-banking/v3.1"
RESOURCE_UPDATE = "urn:uk:org:openbanking:events:resource-update"
REVOKED = "urn:uk:org:openbanking:events:consent-authorization-revoked"
SETTLED = ["AcceptedSettlementInProcess", "AcceptedSettlementCompleted", "AcceptedCreditSettlementCompleted"]


def _issue(sandbox: RunningSandbox, directory: Path, tpp_id: str) -> Credentials:
    """`credentials` from another directory, knowing neither the port nor the URL: only the state directory, where
    the sandbox recorded its address."""
    env = {k: v for k, v in sandbox.env.items() if k not in ("PORT", "OB_SANDBOX_DIR")}
    result = subprocess.run([sys.executable, "-m", "openbanking.sandbox", "--state-dir", str(sandbox.state_dir),
                             "credentials", "--tpp-id", tpp_id, "--out", str(directory)], cwd="/", env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert f"for TPP {tpp_id}" in result.stdout
    for name in ("client.pem", "client.key", "ca.pem", "signing.key", "signing.kid", "mtls-header.txt"):
        assert (directory / name).is_file(), name
    return Credentials(tpp_id, directory)


@pytest.fixture(scope="module")
def tpp(running_sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return _issue(running_sandbox, tmp_path_factory.mktemp("tpp") / "e2e-tpp", "e2e-tpp")


@pytest.fixture(scope="module")
def other_tpp(running_sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    return _issue(running_sandbox, tmp_path_factory.mktemp("other") / "e2e-other", "e2e-other-tpp")


def token(sandbox: RunningSandbox, credentials: Credentials, scope: str) -> str:
    answer = sandbox.http.post("/sandbox/token", data={"grant_type": "client_credentials", "scope": scope},
                               headers=credentials.mtls)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["scope"] == scope and answer.headers["cache-control"] == "no-store"
    return str(body["access_token"])


def authorise(sandbox: RunningSandbox, credentials: Credentials, decision: dict[str, Any]) -> str:
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
    """`httpx` keyword arguments for a signed POST: exact body bytes, x-jws-signature with the issued signing key
    (by an implementation independent of the sandbox's) and a fresh x-idempotency-key."""
    body = json.dumps(document).encode()
    headers = {**api_headers(credentials, access_token), "content-type": "application/json",
               "x-idempotency-key": uuid.uuid4().hex, "x-jws-signature": credentials.signer.sign(body)}
    return {"content": body, "headers": headers}


def aspsp_key(sandbox: RunningSandbox) -> RSAKey:
    """The ASPSP's signing key, as published for TPPs."""
    [key] = KeySet.import_key_set(sandbox.http.get("/sandbox/aspsp/jwks").json()).keys
    assert isinstance(key, RSAKey) and not key.is_private
    return key


def poll(sandbox: RunningSandbox, credentials: Credentials, access_token: str) -> dict[str, dict[str, Any]]:
    """Every event waiting for the TPP (acknowledging them), as verified claims by jti."""
    headers = {**api_headers(credentials, access_token), "content-type": "application/json"}
    found: dict[str, dict[str, Any]] = {}
    ack: list[str] = []
    while True:
        answer = sandbox.http.post(f"{EVENTS}/events", headers=headers, json={"maxEvents": 100, "ack": ack})
        assert answer.status_code == 200, answer.text
        for jti, token_text in answer.json()["sets"].items():
            found[jti] = jwt.decode(token_text, aspsp_key(sandbox), algorithms=["PS256"]).claims
        ack = list(answer.json()["sets"])
        if not answer.json()["moreAvailable"]:
            if ack:
                sandbox.http.post(f"{EVENTS}/events", headers=headers, json={"maxEvents": 0, "ack": ack})
            return found


def subscribe(sandbox: RunningSandbox, credentials: Credentials, access_token: str) -> None:
    document = {"Data": {"Version": "3.1", "EventTypes": [RESOURCE_UPDATE, REVOKED]}}
    answer = sandbox.http.post(f"{EVENTS}/event-subscriptions", **signed(credentials, document, access_token))
    assert answer.status_code in (201, 409), answer.text


# --- the printed steps ----------------------------------------------------------------------------------------------


def test_startup_output_is_the_steps_and_the_sandbox_keeps_to_itself(running_sandbox: RunningSandbox) -> None:
    printed = running_sandbox.output.read_text()
    assert f"Open Banking sandbox on {running_sandbox.base_url}" in printed
    assert str(running_sandbox.state_dir) in printed, "the state directory must be the one OB_SANDBOX_DIR names"
    assert (running_sandbox.state_dir / "ca.pem").is_file() and (running_sandbox.state_dir / ".gitignore").is_file()
    engine = create_ledger_engine(running_sandbox.database_url)
    try:
        with Session(engine) as session:
            assert available_balance(session, "acc-0001-01") is not None, "its own database, created and seeded"
    finally:
        engine.dispose()


def test_the_printed_steps_run_as_printed_from_a_fresh_shell(running_sandbox: RunningSandbox,
                                                             tmp_path: Path) -> None:
    """The text `serve` printed, run by bash in an empty environment from an unrelated directory: credentials,
    an event subscription, the AIS journey, the PIS journey to settlement, the events, the revocation."""
    script = script_of(running_sandbox.output.read_text())
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=elsewhere, capture_output=True, text=True,
                         timeout=180, check=False, env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)})
    assert run.returncode == 0, f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"
    out = run.stdout
    assert "issued " in out and "for TPP my-tpp" in out
    assert '"EventSubscriptionId":"esub-' in out
    assert '"AccountId":"acc-0001-01"' in out and '"Balance":[' in out, "accounts and balances were read"
    assert '"FundsAvailable":true' in out
    payment = re.search(r"payment (pdp-[0-9a-f-]+): AcceptedCreditSettlementCompleted", out)
    assert payment, "the payment settled"
    events = json.loads(next(line for line in out.splitlines() if line.startswith('{"moreAvailable"')))
    claims = [jwt.decode(t, aspsp_key(running_sandbox), algorithms=["PS256"]).claims
              for t in events["sets"].values()]
    about_payment = [c for c in claims if c["sub"].endswith(f"/domestic-payments/{payment.group(1)}")]
    assert len(about_payment) == 3 and all(RESOURCE_UPDATE in c["events"] for c in about_payment)
    assert re.search(r"^revoked serial [0-9a-f]+ at ", out, re.MULTILINE)
    tpp_dir = running_sandbox.state_dir / "tpps" / "my-tpp"
    assert (tpp_dir / "client.key").stat().st_mode & 0o077 == 0 and (tpp_dir / ".gitignore").read_text() == "*\n"


# --- the journeys ---------------------------------------------------------------------------------------------------


def test_account_information_journey(running_sandbox: RunningSandbox, tpp: Credentials) -> None:
    sandbox = running_sandbox
    client_token = token(sandbox, tpp, "accounts")
    headers = api_headers(tpp, client_token)
    permissions = ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail", "ReadTransactionsCredits",
                   "ReadTransactionsDebits"]
    created = obie(sandbox.http.post(f"{AIS}/account-access-consents", headers=headers,
                                     json={"Data": {"Permissions": permissions}, "Risk": {}}), headers, 201)
    consent_id = created["Data"]["ConsentId"]
    assert consent_id.startswith("aac-") and created["Data"]["Status"] == "AwaitingAuthorisation"
    assert created["Data"]["CreationDateTime"].endswith("+00:00"), "the offset form PIS uses too"
    access = authorise(sandbox, tpp, {"ConsentId": consent_id, "PsuId": "psu-0001"})
    headers = api_headers(tpp, access)
    accounts = obie(sandbox.http.get(f"{AIS}/accounts", headers=headers), headers, 200)["Data"]["Account"]
    account_ids = [account["AccountId"] for account in accounts]
    assert account_ids and all(account_id.startswith("acc-0001-") for account_id in account_ids)
    headers = api_headers(tpp, access)
    page = obie(sandbox.http.get(f"{AIS}/accounts/{account_ids[0]}/transactions", headers=headers), headers, 200)
    booked = [t["BookingDateTime"] for t in page["Data"]["Transaction"]]
    assert booked and booked == sorted(booked, reverse=True) and all(b.endswith("+00:00") for b in booked)


def test_domestic_payment_journey_to_settlement(running_sandbox: RunningSandbox, tpp: Credentials) -> None:
    sandbox = running_sandbox
    client_token = token(sandbox, tpp, "payments")
    subscribe(sandbox, tpp, client_token)
    poll(sandbox, tpp, client_token)  # start from an empty queue
    initiation = {"InstructionIdentification": "e2e-instr-1", "EndToEndIdentification": "e2e-end-to-end-1",
                  "InstructedAmount": {"Amount": "10.00", "Currency": "GBP"},
                  "CreditorAccount": {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "08080021325698",
                                      "Name": "ACME Inc"}}
    risk = {"PaymentContextCode": "EcommerceGoods"}
    request = signed(tpp, {"Data": {"Initiation": initiation}, "Risk": risk}, client_token)
    answer = sandbox.http.post(f"{PIS}/domestic-payment-consents", **request)
    consent_id = obie(answer, request["headers"], 201)["Data"]["ConsentId"]
    verify_detached(answer.headers["x-jws-signature"], answer.content, aspsp_key(sandbox))

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
    assert balance is not None and funds["Data"]["FundsAvailableResult"]["FundsAvailable"] is (
        balance.amount >= Decimal("10.00"))

    request = signed(tpp, {"Data": {"ConsentId": consent_id, "Initiation": initiation}, "Risk": risk}, access)
    answer = sandbox.http.post(f"{PIS}/domestic-payments", **request)
    payment_id = obie(answer, request["headers"], 201)["Data"]["DomesticPaymentId"]
    verify_detached(answer.headers["x-jws-signature"], answer.content, aspsp_key(sandbox))
    replay = obie(sandbox.http.post(f"{PIS}/domestic-payments", **request), request["headers"], 201)
    assert replay["Data"]["DomesticPaymentId"] == payment_id, "the same x-idempotency-key makes no second payment"

    deadline = time.monotonic() + 10 * SETTLEMENT_SECONDS + 20
    status = "Pending"
    while status != SETTLED[-1] and time.monotonic() < deadline:
        time.sleep(0.5)
        headers = api_headers(tpp, client_token)
        status = obie(sandbox.http.get(f"{PIS}/domestic-payments/{payment_id}", headers=headers), headers,
                      200)["Data"]["Status"]
    assert status == SETTLED[-1], "the sandbox settles payments by itself"
    headers = api_headers(tpp, client_token)
    history = obie(sandbox.http.get(f"{PIS}/domestic-payments/{payment_id}/payment-details", headers=headers),
                   headers, 200)["Data"]["PaymentStatus"]
    assert [step["Status"] for step in history] == ["Pending", *SETTLED]
    events = poll(sandbox, tpp, client_token)
    about_payment = sorted((c["toe"], c["txn"]) for c in events.values() if c["sub"].endswith(payment_id))
    assert len(about_payment) == len(SETTLED), "one resource-update per settlement step"
    assert any(c["sub"].endswith(consent_id) for c in events.values()), "and one for the consent's authorisation"


def _initiation(reference: str, amount: str) -> dict[str, Any]:
    return {"InstructionIdentification": reference, "EndToEndIdentification": reference,
            "InstructedAmount": {"Amount": amount, "Currency": "GBP"},
            "CreditorAccount": {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "08080021325698",
                                "Name": "ACME Inc"}}


def _payment_consent(sandbox: RunningSandbox, tpp: Credentials, initiation: dict[str, Any], access: str) -> str:
    request = signed(tpp, {"Data": {"Initiation": initiation}, "Risk": {}}, access)
    return str(obie(sandbox.http.post(f"{PIS}/domestic-payment-consents", **request), request["headers"],
                    201)["Data"]["ConsentId"])


def test_a_payment_the_account_cannot_cover_is_rejected(running_sandbox: RunningSandbox, tpp: Credentials) -> None:
    sandbox = running_sandbox
    client_token = token(sandbox, tpp, "payments")
    initiation = _initiation("e2e-big", "9999999.00")
    consent_id = _payment_consent(sandbox, tpp, initiation, client_token)
    access = authorise(sandbox, tpp, {"ConsentId": consent_id, "PsuId": "psu-0001", "AccountId": "acc-0001-01"})
    request = signed(tpp, {"Data": {"ConsentId": consent_id, "Initiation": initiation}, "Risk": {}}, access)
    made = obie(sandbox.http.post(f"{PIS}/domestic-payments", **request), request["headers"], 201)
    assert made["Data"]["Status"] == "Rejected"
    time.sleep(2 * SETTLEMENT_SECONDS + 0.5)
    headers = api_headers(tpp, client_token)
    later = obie(sandbox.http.get(f"{PIS}/domestic-payments/{made['Data']['DomesticPaymentId']}", headers=headers),
                 headers, 200)
    assert later["Data"]["Status"] == "Rejected", "a rejected payment does not settle"


def test_another_psu_s_account_cannot_pay(running_sandbox: RunningSandbox, tpp: Credentials) -> None:
    sandbox = running_sandbox
    consent_id = _payment_consent(sandbox, tpp, _initiation("e2e-theft", "1.00"), token(sandbox, tpp, "payments"))
    answer = sandbox.http.post("/sandbox/authorize", headers=tpp.mtls,
                               json={"ConsentId": consent_id, "PsuId": "psu-0001", "AccountId": "acc-0002-01"})
    assert answer.status_code == 400 and answer.json()["Errors"][0]["Path"] == "AccountId", answer.text


def test_the_psu_revoking_is_an_event_and_the_tpp_deleting_is_not(running_sandbox: RunningSandbox,
                                                                 other_tpp: Credentials) -> None:
    sandbox = running_sandbox
    client_token = token(sandbox, other_tpp, "accounts")
    subscribe(sandbox, other_tpp, client_token)
    poll(sandbox, other_tpp, client_token)

    def authorised_consent() -> str:
        headers = api_headers(other_tpp, client_token)
        consent_id = obie(sandbox.http.post(f"{AIS}/account-access-consents", headers=headers, json={
            "Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}}), headers, 201)["Data"]["ConsentId"]
        authorise(sandbox, other_tpp, {"ConsentId": consent_id, "PsuId": "psu-0002"})
        return str(consent_id)

    deleted, revoked = authorised_consent(), authorised_consent()
    headers = api_headers(other_tpp, client_token)
    assert sandbox.http.delete(f"{AIS}/account-access-consents/{deleted}", headers=headers).status_code == 204
    answer = sandbox.http.post("/sandbox/consent-revocations", headers=other_tpp.mtls,
                               json={"ConsentId": revoked, "PsuId": "psu-0002"})
    assert answer.status_code == 200 and answer.json()["Status"] == "Revoked", answer.text
    events = poll(sandbox, other_tpp, client_token)
    assert [(c["sub"].rsplit("/", 1)[1], list(c["events"])) for c in events.values()] == [(revoked, [REVOKED])]
    headers = api_headers(other_tpp, client_token)
    assert obie(sandbox.http.get(f"{AIS}/account-access-consents/{revoked}", headers=headers), headers,
                200)["Data"]["Status"] == "Revoked"


# --- limits and refusals --------------------------------------------------------------------------------------------

#: Every POST and PUT that parses JSON, as a TPP reaches it.
JSON_ENDPOINTS = [("POST", f"{AIS}/account-access-consents"), ("POST", f"{PIS}/domestic-payment-consents"),
                  ("POST", f"{PIS}/domestic-payments"), ("POST", f"{EVENTS}/events"),
                  ("POST", f"{EVENTS}/event-subscriptions"), ("PUT", f"{EVENTS}/event-subscriptions/esub-1"),
                  ("POST", "/sandbox/authorize"), ("POST", "/sandbox/consent-revocations"),
                  ("POST", "/sandbox/domestic-payments/pdp-1/status"), ("POST", "/sandbox/tpps")]


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS, ids=[f"{m} {p}" for m, p in JSON_ENDPOINTS])
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_a_400_everywhere(running_sandbox: RunningSandbox, tpp: Credentials, method: str,
                                                path: str, depth: int) -> None:
    headers = {**api_headers(tpp, token(running_sandbox, tpp, "accounts payments")),
               "content-type": "application/json"}
    answer = running_sandbox.http.request(method, path, content=b"[" * depth + b"]" * depth, headers=headers)
    body = obie(answer, headers, 400)
    assert body["Errors"][0]["Path"] == "body" and "deeper than 32 levels" in body["Errors"][0]["Message"]


def _raw_exchange(base_url: str, head: bytes, body_prefix: bytes) -> bytes:
    """Send the request head and the first bytes of its body only; the answer the server gives without the rest."""
    where = urlsplit(base_url)
    with socket.create_connection((str(where.hostname), int(where.port or 80)), timeout=10) as connection:
        connection.sendall(head + body_prefix)
        received = b""
        while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < _length(received):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def _length(received: bytes) -> int:
    match = re.search(rb"content-length: (\d+)", received.split(b"\r\n\r\n", 1)[0], re.IGNORECASE)
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS, ids=[f"{m} {p}" for m, p in JSON_ENDPOINTS])
def test_a_10_mb_body_is_a_413_before_it_is_read(running_sandbox: RunningSandbox, method: str, path: str) -> None:
    size = 10 * 1024 * 1024
    interaction = str(uuid.uuid4())
    head = (f"{method} {path} HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\nx-fapi-interaction-id: {interaction}\r\n\r\n").encode()
    started = time.monotonic()
    answer = _raw_exchange(running_sandbox.base_url, head, b"[" + b"0," * 1000)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"413", answer[:500]
    assert f"x-fapi-interaction-id: {interaction}".encode() in rest.lower().replace(b"X-FAPI", b"x-fapi")
    error = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert error["Errors"][0]["Path"] == "Content-Length" and "1048576 bytes" in error["Errors"][0]["Message"]
    assert time.monotonic() - started < 5, "answered without waiting for the 10 MB"


def test_unsigned_payment_consent_is_refused(running_sandbox: RunningSandbox, tpp: Credentials) -> None:
    request = signed(tpp, {"Data": {"Initiation": {}}, "Risk": {}}, token(running_sandbox, tpp, "payments"))
    del request["headers"]["x-jws-signature"]
    body = obie(running_sandbox.http.post(f"{PIS}/domestic-payment-consents", **request), request["headers"], 400)
    assert body["Errors"][0]["ErrorCode"] == "UK.OBIE.Signature.Missing"


def test_request_without_token_is_401_even_with_bad_optional_headers(running_sandbox: RunningSandbox,
                                                                     tpp: Credentials) -> None:
    headers = {**api_headers(tpp, None), "x-fapi-auth-date": "Sun, 99 Sep 2017 99:99:99 GMT"}
    obie(running_sandbox.http.get(f"{AIS}/accounts", headers=headers), headers, 401)
    headers = {**api_headers(tpp, token(running_sandbox, tpp, "accounts")),
               "x-fapi-auth-date": "Sun, 99 Sep 2017 99:99:99 GMT"}
    refused = obie(running_sandbox.http.post(f"{AIS}/account-access-consents", headers=headers, json={
        "Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}}), headers, 400)
    assert refused["Errors"][0]["Path"] == "x-fapi-auth-date"


def test_token_presented_with_another_certificate_is_refused(running_sandbox: RunningSandbox, tpp: Credentials,
                                                             other_tpp: Credentials) -> None:
    stolen = token(running_sandbox, tpp, "accounts")
    headers = {**api_headers(tpp, stolen), **other_tpp.mtls}
    answer = running_sandbox.http.post(f"{AIS}/account-access-consents", headers=headers,
                                       json={"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}})
    assert answer.status_code in (401, 403), answer.text
    obie(answer, headers, answer.status_code)


def test_client_credentials_token_cannot_read_accounts(running_sandbox: RunningSandbox, tpp: Credentials) -> None:
    headers = api_headers(tpp, token(running_sandbox, tpp, "accounts"))
    obie(running_sandbox.http.get(f"{AIS}/accounts", headers=headers), headers, 403)


def test_revoked_certificate_is_refused(running_sandbox: RunningSandbox, tmp_path: Path) -> None:
    revoked = _issue(running_sandbox, tmp_path / "revoked", "e2e-revoked-tpp")
    issued_before = token(running_sandbox, revoked, "accounts")
    result = running_sandbox.cli("revoke", "--credentials", str(revoked.directory))
    assert result.returncode == 0 and result.stdout.startswith("revoked serial "), result.stderr
    refused = running_sandbox.http.post("/sandbox/token", data={"grant_type": "client_credentials",
                                                                "scope": "accounts"}, headers=revoked.mtls)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    headers = api_headers(revoked, issued_before)
    answer = running_sandbox.http.post(f"{AIS}/account-access-consents", headers=headers,
                                       json={"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}})
    assert answer.status_code in (401, 403), "a token issued before revocation dies with its certificate"
    obie(answer, headers, answer.status_code)


@pytest.mark.parametrize("path", [
    "/internal/aisp/account-access-consents/aac-00000000-0000-0000-0000-000000000000/authorisation",
    "/internal/pisp/domestic-payments/pdp-1/status", "/internal", "/open-banking/v3.1/cbpii/funds-confirmations"])
def test_internal_and_unknown_paths_are_404s_with_the_interaction_id(running_sandbox: RunningSandbox,
                                                                     tpp: Credentials, path: str) -> None:
    headers = api_headers(tpp, token(running_sandbox, tpp, "accounts"))
    body = obie(running_sandbox.http.post(path, headers=headers, json={"Status": "Authorised"}), headers, 404)
    assert body["Errors"][0]["ErrorCode"] == "UK.OBIE.Resource.NotFound" and body["Id"] == \
        headers["x-fapi-interaction-id"]


def test_the_cli_without_a_running_sandbox_says_so(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "openbanking.sandbox", "--url", "http://127.0.0.1:9",
                             "credentials", "--tpp-id", "x", "--out", str(tmp_path / "x")], cwd="/",
                            env=clean_env(), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and "did not answer" in result.stderr and "Traceback" not in result.stderr
