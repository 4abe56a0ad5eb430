"""The Lambda authorizer end to end: certificate revocation over HTTP, token binding, scopes and consent types,
IAM policy on the methodArn and the context the integration maps into x-ob-* headers; the certificate read from
API Gateway's mutual TLS or from CloudFront's forwarded header, one source only."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerRequestEvent

from openbanking.lambdas import authorizer as authorizer_module
from openbanking.lambdas.authorizer import Authorizer, Unauthorized, handler, json_safe
from openbanking.sandbox.pki import cert_pem
from openbanking.security.certificates import Truststore, thumbprint_s256
from openbanking.security.client_certificate import ClientCertSource
from openbanking.security.revocation import RevocationChecker
from openbanking.security.tokens import AccessTokenVerifier, JwksCache, MtlsAuthenticator
from tests.services.lambdas.context import lambda_context
from tests.services.security.support import ISSUER, TPP_ID, Clock, Idp, Pki, RevocationServer, unsigned_token

AIS, PIS = "/open-banking/v3.1/aisp", "/open-banking/v3.1/pisp"
AAC = "aac-4b6f2c1e-1d2b-4c5e-9f0a-1b2c3d4e5f60"
PDC = "pdc-0e7d5a0b-6f55-4c0e-8a51-3c1f0b1e2d3a"


def make_event(method: str, path: str, resource: str, token: str | None, pem: str | None,
               headers: dict[str, str] | None = None) -> dict[str, Any]:
    """`pem` is the certificate of API Gateway's mutual TLS; `headers` are further request headers."""
    headers = {"Host": "api.bank.example", **(headers or {})}
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
def authenticator(pki: Pki, clock: Clock, revocation_server: RevocationServer) -> Iterator[MtlsAuthenticator]:
    with httpx.Client(timeout=2.0) as http:
        tokens = AccessTokenVerifier(ISSUER, JwksCache(f"{revocation_server.base}/jwks", http).key)
        yield MtlsAuthenticator(tokens, Truststore.from_pem(pki.truststore_pem),
                                RevocationChecker(http, clock=clock), clock=clock)


@pytest.fixture
def decide(authenticator: MtlsAuthenticator) -> Any:
    """The authorizer of the `regional` perimeter: the certificate of API Gateway's mutual TLS."""
    authorizer = Authorizer(authenticator, certificate_source=ClientCertSource.MTLS)
    return lambda raw: authorizer(APIGatewayAuthorizerRequestEvent(raw))


@pytest.fixture
def decide_behind_cloudfront(authenticator: MtlsAuthenticator) -> Any:
    """The authorizer of the `cloudfront` perimeter: the certificate CloudFront forwards."""
    authorizer = Authorizer(authenticator, certificate_source=ClientCertSource.CLOUDFRONT)
    return lambda raw: authorizer(APIGatewayAuthorizerRequestEvent(raw))


def pem_of(issued: Any) -> str:
    return cert_pem(issued.certificate).decode()


def forwarded_by_cloudfront(issued: Any, *, safe: str = "") -> dict[str, str]:
    """The headers CloudFront's viewer mutual TLS adds to the origin request (the leaf's PEM, URL-encoded)."""
    return {"CloudFront-Viewer-Cert-Present": "1", "CloudFront-Viewer-Cert-Pem": quote(pem_of(issued), safe=safe),
            "CloudFront-Viewer-Cert-Serial-Number": format(issued.serial, "x")}


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
                                 "consentId": AAC, "certThumbprint": thumbprint_s256(pki.good.certificate),
                                 "interactionId": ""}


def test_every_verdict_carries_the_tpps_interaction_id_for_the_access_log(decide: Any, idp: Idp, pki: Pki) -> None:
    """The stage's access log reads `$context.authorizer.interactionId`: the TPP's UUID, on Allow and Deny alike;
    anything that is not a UUID is left out (the service answers it)."""
    interaction = "93bac548-d2de-4546-b106-880a5018460d"
    good = idp.token(pki.good.certificate, openbanking_intent_id=AAC)
    for token, expected in ((good, "Allow"), (idp.token(pki.revoked.certificate), "Deny")):
        raw = make_event("GET", f"{AIS}/accounts", "/accounts", token, pem_of(pki.good),
                         headers={"x-fapi-interaction-id": interaction})
        result = decide(raw)
        assert effect(result) == expected and result["context"]["interactionId"] == interaction
    raw = make_event("GET", f"{AIS}/accounts", "/accounts", good, pem_of(pki.good),
                     headers={"x-fapi-interaction-id": '"},{"injected": "x'})
    assert decide(raw)["context"]["interactionId"] == ""


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


@pytest.fixture
def cold_handler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pki: Pki,
                 revocation_server: RevocationServer) -> Callable[[str | None], None]:
    """Configure the handler's environment as the api account does (the certificate source if given) and start
    from a cold container."""
    def configure(certificate_source: str | None) -> None:
        truststore = tmp_path / "truststore.pem"
        truststore.write_bytes(pki.truststore_pem)
        monkeypatch.setenv("OB_TOKEN_ISSUER", ISSUER)
        monkeypatch.setenv("OB_JWKS_URL", f"{revocation_server.base}/jwks")
        monkeypatch.setenv("OB_TRUSTSTORE", str(truststore))
        if certificate_source is not None:
            monkeypatch.setenv("OB_CLIENT_CERT_SOURCE", certificate_source)
        monkeypatch.setattr(authorizer_module, "_authorizer", None)

    return configure


def test_handler_from_environment(cold_handler: Callable[[str | None], None], idp: Idp, pki: Pki,
                                  revocation_server: RevocationServer) -> None:
    cold_handler(None)
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


# --- where the certificate comes from ----------------------------------------------------------------------------


@pytest.mark.parametrize("safe", ["", "+/="], ids=["all-encoded", "base64-left-as-is"])
def test_cloudfront_source_reads_the_forwarded_certificate(safe: str, decide_behind_cloudfront: Any, idp: Idp,
                                                           pki: Pki) -> None:
    """Behind CloudFront, API Gateway's own identity has no certificate of the TPP; the forwarded PEM is the one the
    token must be bound to, however its base64 '+', '/' and '=' were encoded."""
    token = idp.token(pki.good.certificate, openbanking_intent_id=AAC)
    result = decide_behind_cloudfront(make_event("GET", f"{AIS}/accounts", "/accounts", token, None,
                                                 forwarded_by_cloudfront(pki.good, safe=safe)))
    assert effect(result) == "Allow"
    assert result["context"]["certThumbprint"] == thumbprint_s256(pki.good.certificate)


def test_cloudfront_source_checks_revocation_of_the_forwarded_certificate(decide_behind_cloudfront: Any, idp: Idp,
                                                                          pki: Pki) -> None:
    token = idp.token(pki.revoked.certificate, openbanking_intent_id=AAC)
    result = decide_behind_cloudfront(make_event("GET", f"{AIS}/accounts", "/accounts", token, None,
                                                 forwarded_by_cloudfront(pki.revoked)))
    assert effect(result) == "Deny" and "revoked" in result["context"]["reason"]


def test_cloudfront_source_ignores_the_api_gateway_certificate(decide_behind_cloudfront: Any, idp: Idp,
                                                               pki: Pki) -> None:
    """What API Gateway sees behind CloudFront (nothing, or CloudFront's origin certificate) is never used."""
    token = idp.token(pki.good.certificate, openbanking_intent_id=AAC)
    with pytest.raises(Unauthorized):
        decide_behind_cloudfront(make_event("GET", f"{AIS}/accounts", "/accounts", token, pem_of(pki.good)))
    result = decide_behind_cloudfront(make_event("GET", f"{AIS}/accounts", "/accounts", token, pem_of(pki.good),
                                                 forwarded_by_cloudfront(pki.other)))
    assert effect(result) == "Deny" and "different client certificate" in result["context"]["reason"]


@pytest.mark.parametrize("present", [None, "0", ""])
def test_cloudfront_source_needs_present_1(present: str | None, decide_behind_cloudfront: Any, idp: Idp,
                                           pki: Pki) -> None:
    headers = forwarded_by_cloudfront(pki.good)
    if present is None:
        del headers["CloudFront-Viewer-Cert-Present"]
    else:
        headers["CloudFront-Viewer-Cert-Present"] = present
    token = idp.token(pki.good.certificate, openbanking_intent_id=AAC)
    with pytest.raises(Unauthorized):
        decide_behind_cloudfront(make_event("GET", f"{AIS}/accounts", "/accounts", token, None, headers))


def test_cloudfront_source_refuses_two_certificates(decide_behind_cloudfront: Any, idp: Idp, pki: Pki) -> None:
    """A second CloudFront-Viewer-Cert-Pem (one the client sent, one CloudFront added) is never resolved by picking."""
    token = idp.token(pki.good.certificate, openbanking_intent_id=AAC)
    raw = make_event("GET", f"{AIS}/accounts", "/accounts", token, None, forwarded_by_cloudfront(pki.good))
    raw["multiValueHeaders"]["cloudfront-viewer-cert-pem"] = [quote(pem_of(pki.other), safe="")]
    result = decide_behind_cloudfront(raw)
    assert effect(result) == "Deny"
    assert result["context"]["reason"] == "the request carries 2 CloudFront-Viewer-Cert-Pem headers; CloudFront sends one"


def test_mtls_source_ignores_a_forged_cloudfront_header(decide: Any, idp: Idp, pki: Pki,
                                                        revocation_server: RevocationServer) -> None:
    """A TPP writes what headers it likes: under `mtls` a CloudFront-Viewer-Cert-Pem is never a certificate."""
    token = idp.token(pki.good.certificate, openbanking_intent_id=AAC)
    with pytest.raises(Unauthorized):
        decide(make_event("GET", f"{AIS}/accounts", "/accounts", token, None, forwarded_by_cloudfront(pki.good)))
    assert revocation_server.responder.hits == {"ocsp": 0, "crl": 0}, "the forged certificate was not even checked"
    # the thief of a token bound to another TPP's (public) certificate presents its own and forges the header
    result = decide(make_event("GET", f"{AIS}/accounts", "/accounts", token, pem_of(pki.other),
                               forwarded_by_cloudfront(pki.good)))
    assert effect(result) == "Deny" and "different client certificate" in result["context"]["reason"]


def test_handler_behind_cloudfront_from_environment(cold_handler: Callable[[str | None], None], idp: Idp,
                                                    pki: Pki) -> None:
    cold_handler("cloudfront")
    token = idp.token(pki.good.certificate, scope="payments", openbanking_intent_id=PDC)
    behind = make_event("POST", f"{PIS}/domestic-payments", "/domestic-payments", token, None,
                        forwarded_by_cloudfront(pki.good))
    assert effect(handler(behind, CONTEXT)) == "Allow"
    with pytest.raises(Unauthorized):
        handler(make_event("POST", f"{PIS}/domestic-payments", "/domestic-payments", token, pem_of(pki.good)), CONTEXT)


def test_handler_with_an_unknown_certificate_source_denies(cold_handler: Callable[[str | None], None], idp: Idp,
                                                           pki: Pki) -> None:
    cold_handler("both")
    raw = make_event("GET", f"{AIS}/accounts", "/accounts", idp.token(pki.good.certificate, openbanking_intent_id=AAC),
                     pem_of(pki.good), forwarded_by_cloudfront(pki.good))
    assert effect(handler(raw, CONTEXT)) == "Deny"


# --- the reason is substituted into a JSON body by API Gateway ----------------------------------------------------


def test_a_deny_reason_cannot_break_the_error_body(decide: Any, idp: Idp, pki: Pki) -> None:
    """The `kid` is the caller's to choose and ends up in the reason: quotes and control characters never survive."""
    kid = 'x","Errors":[{"ErrorCode":"UK.OBIE.Injected"}],"y":"\\\n'
    token = idp.token(pki.good.certificate, header={"kid": kid}, openbanking_intent_id=AAC)
    result = decide(make_event("GET", f"{AIS}/accounts", "/accounts", token, pem_of(pki.good)))
    reason = result["context"]["reason"]
    assert effect(result) == "Deny" and "is not in the issuer's JWKS" in reason
    assert not set(reason) & {'"', "\\", "\n"}
    assert json.loads('{"Message":"' + reason + '"}')["Message"] == reason


def test_json_safe_bounds_the_length() -> None:
    assert json_safe("a" * 1000) == "a" * 297 + "..."
    assert json_safe('say "no"\\t\n') == "say 'no' t "
