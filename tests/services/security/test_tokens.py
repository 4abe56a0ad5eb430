"""Access-token verification: algorithms, issuer, lifetimes, RFC 8705 binding, JWKS cache, and the TokenVerifier."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from joserfc.jwk import ECKey, RSAKey

from openbanking.common.errors import OBIEError
from openbanking.sandbox.pki import cert_pem
from openbanking.security.certificates import Truststore, thumbprint_s256
from openbanking.security.revocation import RevocationChecker
from openbanking.security.tokens import (
    AccessTokenVerifier,
    JwksCache,
    LocalTokenVerifier,
    MtlsAuthenticator,
    TokenRejected,
)

from .support import ISSUER, TPP_ID, Clock, Idp, Pki, RevocationServer, hs256_token, unsigned_token


class JwksEndpoint:
    """A JWKS served through httpx.MockTransport, counting fetches."""

    def __init__(self, idp: Idp) -> None:
        self.document = idp.jwks()
        self.fetches = 0
        self.fail = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if self.fail:
            return httpx.Response(503)
        return httpx.Response(200, json=self.document)


@pytest.fixture
def jwks(idp: Idp) -> JwksEndpoint:
    return JwksEndpoint(idp)


class Ticker:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def cache(jwks: JwksEndpoint, ticker: Ticker) -> Iterator[JwksCache]:
    with httpx.Client(transport=httpx.MockTransport(jwks.handler)) as client:
        yield JwksCache("https://idp.test.example/jwks", client, min_refresh_seconds=30, monotonic=ticker)


@pytest.fixture
def verifier(cache: JwksCache) -> AccessTokenVerifier:
    return AccessTokenVerifier(ISSUER, cache.key, audience=None, leeway_seconds=30)


def test_valid_es256_and_ps256_tokens(verifier: AccessTokenVerifier, idp: Idp, pki: Pki) -> None:
    for alg in ("ES256", "PS256"):
        token = idp.token(pki.good.certificate, alg=alg, scope="accounts payments",
                          openbanking_intent_id="aac-4b6f2c1e-1d2b-4c5e-9f0a-1b2c3d4e5f60")
        access = verifier.verify(token, pki.good.certificate)
        assert access.tpp_id == TPP_ID and access.client_id == "client-good"
        assert access.scopes == frozenset({"accounts", "payments"})
        assert access.consent_id == "aac-4b6f2c1e-1d2b-4c5e-9f0a-1b2c3d4e5f60"
        assert access.certificate_thumbprint == thumbprint_s256(pki.good.certificate)


def test_token_bound_to_another_certificate_is_refused(verifier: AccessTokenVerifier, idp: Idp, pki: Pki) -> None:
    token = idp.token(pki.other.certificate)
    with pytest.raises(TokenRejected, match="bound to a different client certificate"):
        verifier.verify(token, pki.good.certificate)


def test_bearer_token_without_cnf_is_refused(verifier: AccessTokenVerifier, idp: Idp, pki: Pki) -> None:
    with pytest.raises(TokenRejected, match="not sender-constrained"):
        verifier.verify(idp.token(pki.good.certificate, cnf=None), pki.good.certificate)


@pytest.mark.parametrize("make", [
    lambda idp, cert, now: unsigned_token({"iss": ISSUER, "exp": int(now) + 60, "iat": int(now)}),
    lambda idp, cert, now: hs256_token({"iss": ISSUER, "exp": int(now) + 60, "iat": int(now)}),
    lambda idp, cert, now: idp.token(cert, alg="RS256", key=idp.ps256),
], ids=["none", "HS256", "RS256"])
def test_disallowed_algorithms_are_refused(make, verifier: AccessTokenVerifier, idp: Idp, pki: Pki) -> None:
    with pytest.raises(TokenRejected, match="is not allowed"):
        verifier.verify(make(idp, pki.good.certificate, time.time()), pki.good.certificate)


def test_hs256_with_public_key_as_secret_is_refused(verifier: AccessTokenVerifier, idp: Idp, pki: Pki) -> None:
    """The classic key-confusion attack: HMAC keyed with the published public key."""
    public = idp.es256.as_pem(private=False)  # type: ignore[attr-defined]
    token = hs256_token({"iss": ISSUER, "exp": int(time.time()) + 60, "iat": int(time.time())}, secret=public)
    with pytest.raises(TokenRejected, match="'HS256' is not allowed"):
        verifier.verify(token, pki.good.certificate)


def test_alg_and_key_type_must_agree(verifier: AccessTokenVerifier, idp: Idp, pki: Pki) -> None:
    token = idp.token(pki.good.certificate, alg="ES256", key=idp.es256, header={"kid": "ps-1"})
    with pytest.raises(TokenRejected, match="ES256 token must be signed with a P-256 key"):
        verifier.verify(token, pki.good.certificate)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"iss": "https://evil.example"}, "claims are not acceptable"),
    ({"exp": int(time.time()) - 120}, "claims are not acceptable"),
    ({"exp": None}, "claims are not acceptable"),
    ({"nbf": int(time.time()) + 600}, "claims are not acceptable"),
    ({"iat": int(time.time()) + 600}, "claims are not acceptable"),
    ({"client_id": None}, "names no client"),
    ({"scope": ""}, "scope"),
    ({"org_id": "another-org"}, "organisation does not match"),
    ({"openbanking_intent_id": "aac-1/../x"}, "malformed"),
])
def test_bad_claims_are_refused(overrides: dict, message: str, verifier: AccessTokenVerifier, idp: Idp,
                                pki: Pki) -> None:
    with pytest.raises(TokenRejected, match=message):
        verifier.verify(idp.token(pki.good.certificate, **overrides), pki.good.certificate)


def test_small_clock_skew_is_tolerated(verifier: AccessTokenVerifier, idp: Idp, pki: Pki) -> None:
    now = time.time()
    verifier.verify(idp.token(pki.good.certificate, now=now + 20), pki.good.certificate)  # iat/nbf 20 s ahead
    verifier.verify(idp.token(pki.good.certificate, exp=int(now) - 20), pki.good.certificate)  # expired 20 s ago


def test_audience_is_enforced_when_configured(cache: JwksCache, idp: Idp, pki: Pki) -> None:
    verifier = AccessTokenVerifier(ISSUER, cache.key, audience="https://aspsp.example")
    with pytest.raises(TokenRejected, match="claims are not acceptable"):
        verifier.verify(idp.token(pki.good.certificate), pki.good.certificate)
    verifier.verify(idp.token(pki.good.certificate, aud="https://aspsp.example"), pki.good.certificate)


def test_tampered_signature_is_refused(verifier: AccessTokenVerifier, idp: Idp, pki: Pki) -> None:
    header, _payload, signature = idp.token(pki.good.certificate).split(".")
    forged_payload = idp.token(pki.good.certificate, scope="payments").split(".")[1]
    with pytest.raises(TokenRejected, match="signature does not verify"):
        verifier.verify(f"{header}.{forged_payload}.{signature}", pki.good.certificate)


def test_unknown_signing_key_is_refused(verifier: AccessTokenVerifier, idp: Idp, pki: Pki) -> None:
    rogue = ECKey.generate_key("P-256", parameters={"kid": "rogue"})
    with pytest.raises(TokenRejected, match="not in the issuer's JWKS"):
        verifier.verify(idp.token(pki.good.certificate, key=rogue), pki.good.certificate)


def test_jwks_is_cached_and_refreshed_on_unknown_kid_rate_limited(cache: JwksCache, jwks: JwksEndpoint,
                                                                   ticker: Ticker, idp: Idp) -> None:
    cache.key("es-1")
    cache.key("ps-1")
    assert jwks.fetches == 1
    rotated = RSAKey.generate_key(2048, parameters={"kid": "ps-2", "use": "sig"})
    jwks.document = {"keys": [*idp.jwks()["keys"], rotated.as_dict(private=False)]}
    with pytest.raises(TokenRejected):
        cache.key("ps-2")  # within 30 s of the last fetch: no new request
    assert jwks.fetches == 1
    ticker.value += 31
    assert cache.key("ps-2").kid == "ps-2"
    assert jwks.fetches == 2
    for _ in range(5):
        with pytest.raises(TokenRejected):
            cache.key("forged-kid")
    assert jwks.fetches == 2, "forged kids do not hammer the IdP"


def test_jwks_outage_keeps_known_keys(cache: JwksCache, jwks: JwksEndpoint, ticker: Ticker) -> None:
    cache.key("es-1")
    jwks.fail = True
    ticker.value += 7200  # stale: a refresh is attempted and fails
    assert cache.key("es-1").kid == "es-1"
    assert jwks.fetches == 2


def test_jwks_initial_outage_refuses(jwks: JwksEndpoint, ticker: Ticker) -> None:
    jwks.fail = True
    with httpx.Client(transport=httpx.MockTransport(jwks.handler)) as client, pytest.raises(TokenRejected):
        JwksCache("https://idp.test.example/jwks", client, monotonic=ticker).key("es-1")


@pytest.fixture
def local_verifier(verifier: AccessTokenVerifier, pki: Pki, revocation_server: RevocationServer) -> Iterator[
        LocalTokenVerifier]:
    with httpx.Client(timeout=2.0) as http:
        checker = RevocationChecker(http, clock=Clock())
        yield LocalTokenVerifier(MtlsAuthenticator(verifier, Truststore.from_pem(pki.truststore_pem), checker))


def test_local_verifier_returns_the_caller(local_verifier: LocalTokenVerifier, idp: Idp, pki: Pki) -> None:
    caller = local_verifier(idp.token(pki.good.certificate), cert_pem(pki.good.certificate).decode())
    assert (caller.tpp_id, caller.client_id, caller.scopes, caller.consent_id) == (
        TPP_ID, "client-good", frozenset({"accounts"}), None)


@pytest.mark.parametrize(("who", "message"), [
    ("revoked", "revoked"), ("stranger", "not trusted"), ("missing", "client certificate (mTLS) is required"),
])
def test_local_verifier_refuses_with_401(who: str, message: str, local_verifier: LocalTokenVerifier, idp: Idp,
                                         pki: Pki) -> None:
    issued = {"revoked": pki.revoked, "stranger": pki.stranger, "missing": pki.good}[who]
    pem = None if who == "missing" else cert_pem(issued.certificate).decode()
    with pytest.raises(OBIEError) as caught:
        local_verifier(idp.token(issued.certificate), pem)
    assert caught.value.status == 401 and message in caught.value.message


def test_local_verifier_fails_closed_when_revocation_is_unknown(local_verifier: LocalTokenVerifier, idp: Idp,
                                                                pki: Pki, revocation_server: RevocationServer) -> None:
    revocation_server.responder.ocsp = revocation_server.responder.crl = "down"
    with pytest.raises(OBIEError) as caught:
        local_verifier(idp.token(pki.good.certificate), cert_pem(pki.good.certificate).decode())
    assert caught.value.status == 401 and "cannot be established" in caught.value.message


def test_invalid_token_never_triggers_revocation_traffic(local_verifier: LocalTokenVerifier, idp: Idp, pki: Pki,
                                                         revocation_server: RevocationServer) -> None:
    with pytest.raises(OBIEError):
        local_verifier(idp.token(pki.good.certificate, iss="https://evil.example"),
                       cert_pem(pki.good.certificate).decode())
    assert revocation_server.responder.hits == {"ocsp": 0, "crl": 0}
