"""The Lambda authorizer end to end: certificate revocation over HTTP, token binding, scopes and consent types,
IAM policy on the methodArn and the context the integration maps into x-ob-* headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerRequestEvent

from openbanking.lambdas import authorizer as authorizer_module
from openbanking.lambdas.authorizer import Authorizer, Unauthorized, handler
from openbanking.sandbox.pki import cert_pem
from openbanking.security.certificates import Truststore, thumbprint_s256
from openbanking.security.revocation import RevocationChecker
from openbanking.security.tokens import AccessTokenVerifier, JwksCache, MtlsAuthenticator
from tests.services.lambdas.context import lambda_context
from tests.services.security.support import ISSUER, TPP_ID, Clock, Idp, Pki, RevocationServer, unsigned_token

AIS, PIS = "/open-banking/v3.1/aisp", "/open-banking/v3.1/pisp"
AAC = "aac-4b6f2c1e-1d2b-4c5e-9f0a-1b2c3d4e5f60"
PDC = "pdc-0e7d5a0b-6f55-4c0e-8a51-3c1f0b1e2d3a"


def make_event(method: str, path: str, resource: str, token: str | None, pem: str | None) -> dict[str, Any]:
    headers = {"Host": "api.bank.example"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    identity: dict[str, Any] = {"sourceIp": "203.0.113.9"}
    if pem is not None:
        identity["clientCert"] = {"clientCertPem": pem, "subjectDN": "CN=client", "issuerDN": "CN=ca",
                                  "serialNumber": "1", "validity": {"notBefore": "x", "notAfter": "y"}}
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:eu-west-2:123456789012:abc123/prod/{method}{path}",
        "resource": resource, "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": {},
        "pathParameters": {}, "stageVariables": {},
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": path, "stage": "prod",
                           "accountId": "123456789012", "apiId": "abc123", "requestId": "r-1", "identity": identity},
    }


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def decide(pki: Pki, idp: Idp, clock: Clock, revocation_server: RevocationServer) -> Iterator[Any]:
    with httpx.Client(timeout=2.0) as http:
        tokens = AccessTokenVerifier(ISSUER, JwksCache(f"{revocation_server.base}/jwks", http).key)
        authenticator = MtlsAuthenticator(tokens, Truststore.from_pem(pki.truststore_pem),
                                          RevocationChecker(http, clock=clock), clock=clock)
        authorizer = Authorizer(authenticator)
        yield lambda raw: authorizer(APIGatewayAuthorizerRequestEvent(raw))


def pem_of(issued: Any) -> str:
    return cert_pem(issued.certificate).decode()


def effect(result: dict[str, Any]) -> str:
    [statement] = result["policyDocument"]["Statement"]
    return statement["Effect"]


def test_allow_carries_policy_on_method_arn_and_context(decide: Any, idp: Idp, pki: Pki) -> None:
    token = idp.token(pki.good.certificate, openbanking_intent_id=AAC)
    raw = make_event("GET", f"{AIS}/accounts/acc-1/transactions", "/accounts/{AccountId}/transactions",
                     token, pem_of(pki.good))
    result = decide(raw)
    assert result["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": raw["methodArn"]}]
    assert result["principalId"] == "client-good"
    assert result["context"] == {"tppId": TPP_ID, "clientId": "client-good", "scopes": "accounts",
                                 "consentId": AAC, "certThumbprint": thumbprint_s256(pki.good.certificate)}


def test_client_credentials_context_has_empty_consent(decide: Any, idp: Idp, pki: Pki) -> None:
    token = idp.token(pki.good.certificate, scope="payments")
    result = decide(make_event("POST", f"{PIS}/domestic-payment-consents", "/domestic-payment-consents", token,
                               pem_of(pki.good)))
    assert effect(result) == "Allow" and result["context"]["consentId"] == ""


def test_revoked_certificate_is_denied(decide: Any, idp: Idp, pki: Pki) -> None:
    token = idp.token(pki.revoked.certificate, openbanking_intent_id=AAC)
    result = decide(make_event("GET", f"{AIS}/accounts", "/accounts", token, pem_of(pki.revoked)))
    assert effect(result) == "Deny" and "revoked" in result["context"]["reason"]


def test_token_bound_to_another_certificate_is_denied(decide: Any, idp: Idp, pki: Pki) -> None:
    token = idp.token(pki.other.certificate, openbanking_intent_id=AAC)
    result = decide(make_event("GET", f"{AIS}/accounts", "/accounts", token, pem_of(pki.good)))
    assert effect(result) == "Deny" and "different client certificate" in result["context"]["reason"]


def test_wrong_scope_is_denied(decide: Any, idp: Idp, pki: Pki) -> None:
    token = idp.token(pki.good.certificate, scope="accounts", openbanking_intent_id=PDC)
    result = decide(make_event("POST", f"{PIS}/domestic-payments", "/domestic-payments", token, pem_of(pki.good)))
    assert effect(result) == "Deny" and "needs the scope payments" in result["context"]["reason"]


def test_wrong_consent_type_is_denied(decide: Any, idp: Idp, pki: Pki) -> None:
    token = idp.token(pki.good.certificate, scope="payments", openbanking_intent_id=AAC)
    result = decide(make_event("POST", f"{PIS}/domestic-payments", "/domestic-payments", token, pem_of(pki.good)))
    assert effect(result) == "Deny" and "consent of type 'pdc-'" in result["context"]["reason"]


def test_ocsp_down_uses_crl(decide: Any, idp: Idp, pki: Pki, revocation_server: RevocationServer) -> None:
    revocation_server.responder.ocsp = "down"
    good = decide(make_event("GET", f"{AIS}/accounts", "/accounts",
                             idp.token(pki.good.certificate, openbanking_intent_id=AAC), pem_of(pki.good)))
    revoked = decide(make_event("GET", f"{AIS}/accounts", "/accounts",
                                idp.token(pki.revoked.certificate, openbanking_intent_id=AAC), pem_of(pki.revoked)))
    assert (effect(good), effect(revoked)) == ("Allow", "Deny")
    assert revocation_server.responder.hits["crl"] >= 1


def test_both_revocation_sources_down_is_denied(decide: Any, idp: Idp, pki: Pki,
                                                revocation_server: RevocationServer) -> None:
    revocation_server.responder.ocsp = revocation_server.responder.crl = "down"
    result = decide(make_event("GET", f"{AIS}/accounts", "/accounts",
                               idp.token(pki.good.certificate, openbanking_intent_id=AAC), pem_of(pki.good)))
    assert effect(result) == "Deny" and "cannot be established" in result["context"]["reason"]


def test_revocation_verdict_is_cached_within_five_minutes(decide: Any, idp: Idp, pki: Pki, clock: Clock,
                                                          revocation_server: RevocationServer) -> None:
    def call() -> str:
        return effect(decide(make_event("GET", f"{AIS}/accounts", "/accounts",
                                        idp.token(pki.good.certificate, openbanking_intent_id=AAC), pem_of(pki.good))))

    assert call() == "Allow"
    revocation_server.responder.ocsp = revocation_server.responder.crl = "down"
    clock.advance(290)
    assert call() == "Allow", "served from the cache"
    clock.advance(20)
    assert call() == "Deny", "the cache never extends past 5 minutes; then fail closed"


@pytest.mark.parametrize("case", ["expired", "wrong-issuer", "none", "untrusted-cert"])
def test_invalid_credentials_are_denied(case: str, decide: Any, idp: Idp, pki: Pki) -> None:
    issued = pki.stranger if case == "untrusted-cert" else pki.good
    token = {
        "expired": lambda: idp.token(issued.certificate, exp=1_600_000_000, iat=1_599_999_000, nbf=1_599_999_000),
        "wrong-issuer": lambda: idp.token(issued.certificate, iss="https://idp.evil.example"),
        "none": lambda: unsigned_token({"iss": ISSUER, "exp": 4_000_000_000, "iat": 1_700_000_000,
                                        "cnf": {"x5t#S256": thumbprint_s256(issued.certificate)}}),
        "untrusted-cert": lambda: idp.token(issued.certificate),
    }[case]()
    result = decide(make_event("GET", f"{AIS}/account-access-consents/{AAC}", "/account-access-consents/{ConsentId}",
                               token, pem_of(issued)))
    assert effect(result) == "Deny" and result["principalId"] == "unknown"


def test_unexposed_route_is_denied(decide: Any, idp: Idp, pki: Pki) -> None:
    token = idp.token(pki.good.certificate, scope="openbanking:consent-authorisation accounts")
    result = decide(make_event("POST", f"/internal/aisp/account-access-consents/{AAC}/authorisation",
                               "/internal/aisp/account-access-consents/{ConsentId}/authorisation", token,
                               pem_of(pki.good)))
    assert effect(result) == "Deny"


@pytest.mark.parametrize("missing", ["token", "certificate"])
def test_missing_credentials_raise_unauthorized(missing: str, decide: Any, idp: Idp, pki: Pki) -> None:
    token = None if missing == "token" else idp.token(pki.good.certificate)
    pem = None if missing == "certificate" else pem_of(pki.good)
    with pytest.raises(Unauthorized, match=r"^Unauthorized$"):
        decide(make_event("GET", f"{AIS}/accounts", "/accounts", token, pem))


CONTEXT = lambda_context("ob-authorizer")


def test_handler_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, idp: Idp, pki: Pki,
                                  revocation_server: RevocationServer) -> None:
    truststore = tmp_path / "truststore.pem"
    truststore.write_bytes(pki.truststore_pem)
    monkeypatch.setenv("OB_TOKEN_ISSUER", ISSUER)
    monkeypatch.setenv("OB_JWKS_URL", f"{revocation_server.base}/jwks")
    monkeypatch.setenv("OB_TRUSTSTORE", str(truststore))
    monkeypatch.setattr(authorizer_module, "_authorizer", None)
    token = idp.token(pki.good.certificate, scope="payments", openbanking_intent_id=PDC)
    raw = make_event("POST", f"{PIS}/domestic-payments", "/domestic-payments", token, pem_of(pki.good))
    assert effect(handler(raw, CONTEXT)) == "Allow"
    hits = dict(revocation_server.responder.hits)
    assert effect(handler(raw, CONTEXT)) == "Allow"
    assert revocation_server.responder.hits == hits, "the warm container reuses the revocation cache"


def test_handler_misconfigured_denies(monkeypatch: pytest.MonkeyPatch, idp: Idp, pki: Pki) -> None:
    monkeypatch.delenv("OB_JWKS_URL", raising=False)
    monkeypatch.setattr(authorizer_module, "_authorizer", None)
    raw = make_event("GET", f"{AIS}/accounts", "/accounts", idp.token(pki.good.certificate), pem_of(pki.good))
    assert effect(handler(raw, CONTEXT)) == "Deny"
