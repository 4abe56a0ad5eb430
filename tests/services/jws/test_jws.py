"""Detached JWS for x-jws-signature: every way a request signature can be wrong is a 400 with the right
`UK.OBIE.Signature.*` code; the ASPSP's signatures verify with an independent PS256 implementation."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import RSAKey

from openbanking.common.errors import OBIEError
from openbanking.common.jws import (
    CRITICAL_CLAIMS,
    IAT_CLAIM,
    ISS_CLAIM,
    TAN_CLAIM,
    DetachedJwsSigner,
    DetachedJwsVerifier,
    JwksKeyResolver,
    KeyNotFound,
    StaticKeyResolver,
    load_signer,
)
from openbanking.common.settings import ServiceSettings
from tests.services.pis.support import DROP, FINANCIAL_ID, Tpp, b64url, new_rsa_key, verify_detached

TPP_ORG = "0015800000jfwxXAAQ"
BODY = json.dumps({"Data": {"Initiation": {"InstructedAmount": {"Amount": "10.00", "Currency": "GBP"}}}}).encode()


@pytest.fixture(scope="module")
def tpp() -> Tpp:
    return Tpp(TPP_ORG, "ssa-123", new_rsa_key("tpp-k1"))


@pytest.fixture(scope="module")
def stranger_key() -> RSAKey:
    return new_rsa_key("tpp-k1")  # same kid, different key: a forged signature


@pytest.fixture(scope="module")
def verifier(tpp: Tpp) -> DetachedJwsVerifier:
    return DetachedJwsVerifier(StaticKeyResolver({tpp.tpp_id: [tpp.key]}))


def rejection(verifier: DetachedJwsVerifier, signature: str | None, tpp: Tpp, body: bytes = BODY) -> tuple[int, str]:
    with pytest.raises(OBIEError) as caught:
        verifier.verify(signature, body, tpp.tpp_id)
    error = caught.value
    assert error.errors[0].path == "x-jws-signature"
    return error.status, error.errors[0].code.value


def test_a_valid_signature_verifies_and_returns_its_header(verifier: DetachedJwsVerifier, tpp: Tpp) -> None:
    header = verifier.verify(tpp.sign(BODY), BODY, tpp.tpp_id)
    assert header["alg"] == "PS256" and header["kid"] == tpp.kid
    assert header[ISS_CLAIM] == f"{tpp.tpp_id}/{tpp.client_id}"


@pytest.mark.parametrize("signature", [None, "", "   "])
def test_a_missing_signature_is_signature_missing(verifier: DetachedJwsVerifier, tpp: Tpp, signature: str | None) -> None:
    assert rejection(verifier, signature, tpp) == (400, "UK.OBIE.Signature.Missing")


def test_malformed_signatures_are_signature_malformed(verifier: DetachedJwsVerifier, tpp: Tpp) -> None:
    good = tpp.sign(BODY)
    header, _, sig = good.split(".")
    attached = f"{header}.{b64url(BODY)}.{sig}"
    for broken in ("abc", "a.b", f"{header}.{sig}", attached, f"!!!..{sig}", f"{b64url(b'[1,2]')}..{sig}",
                   f"{b64url(b'not json')}..{sig}", f"{header}..", f"{good}.extra"):
        assert rejection(verifier, broken, tpp) == (400, "UK.OBIE.Signature.Malformed"), broken


def test_a_signature_by_another_key_is_invalid(verifier: DetachedJwsVerifier, tpp: Tpp, stranger_key: RSAKey) -> None:
    assert rejection(verifier, tpp.sign(BODY, key=stranger_key), tpp) == (400, "UK.OBIE.Signature.Invalid")


def test_a_changed_body_is_invalid(verifier: DetachedJwsVerifier, tpp: Tpp) -> None:
    signature = tpp.sign(BODY)
    assert rejection(verifier, signature, tpp, BODY.replace(b"10.00", b"99.00")) == (400, "UK.OBIE.Signature.Invalid")
    assert rejection(verifier, signature, tpp, BODY + b" ") == (400, "UK.OBIE.Signature.Invalid")


def test_an_unknown_kid_or_tpp_is_invalid(verifier: DetachedJwsVerifier, tpp: Tpp) -> None:
    assert rejection(verifier, tpp.sign(BODY, kid="rotated-away"), tpp) == (400, "UK.OBIE.Signature.Invalid")
    other = Tpp("0015800000unknownAA", "ssa-9", tpp.key)
    assert rejection(verifier, other.sign(BODY), other) == (400, "UK.OBIE.Signature.Invalid")


@pytest.mark.parametrize(("changes", "code"), [
    ({"alg": "RS256"}, "UK.OBIE.Signature.InvalidClaim"),
    ({"alg": "none"}, "UK.OBIE.Signature.InvalidClaim"),
    ({"alg": "HS256"}, "UK.OBIE.Signature.InvalidClaim"),
    ({"alg": DROP}, "UK.OBIE.Signature.MissingClaim"),
    ({"kid": DROP}, "UK.OBIE.Signature.MissingClaim"),
    ({"kid": 7}, "UK.OBIE.Signature.InvalidClaim"),
    ({"iat": DROP}, "UK.OBIE.Signature.MissingClaim"),
    ({"iss": DROP}, "UK.OBIE.Signature.MissingClaim"),
    ({"tan": DROP}, "UK.OBIE.Signature.MissingClaim"),
    ({"crit": DROP}, "UK.OBIE.Signature.MissingClaim"),
    ({"crit": [IAT_CLAIM, ISS_CLAIM]}, "UK.OBIE.Signature.InvalidClaim"),
    ({"crit": [*CRITICAL_CLAIMS, "b64"], "b64": True}, "UK.OBIE.Signature.InvalidClaim"),
    ({"crit": f"{IAT_CLAIM},{ISS_CLAIM},{TAN_CLAIM}"}, "UK.OBIE.Signature.InvalidClaim"),
    ({"b64": False}, "UK.OBIE.Signature.InvalidClaim"),
    ({"iat": int(time.time()) + 3600}, "UK.OBIE.Signature.InvalidClaim"),
    ({"iat": "1700000000"}, "UK.OBIE.Signature.InvalidClaim"),
    ({"iat": int(time.time()) - 3600}, "UK.OBIE.Signature.InvalidClaim"),
    ({"iat": 0}, "UK.OBIE.Signature.InvalidClaim"),
    ({"iss": "0015800000someoneElse/ssa-123"}, "UK.OBIE.Signature.InvalidClaim"),
    ({"iss": TPP_ORG}, "UK.OBIE.Signature.InvalidClaim"),
    ({"iss": f"{TPP_ORG}/"}, "UK.OBIE.Signature.InvalidClaim"),
    ({"iss": f"{TPP_ORG}/ssa/extra"}, "UK.OBIE.Signature.InvalidClaim"),
    ({"tan": "openbanking.example"}, "UK.OBIE.Signature.InvalidClaim"),
])
def test_header_claims_are_enforced(verifier: DetachedJwsVerifier, tpp: Tpp, changes: dict[str, Any], code: str) -> None:
    """Each header is otherwise valid and correctly signed: only the named claim is wrong."""
    assert rejection(verifier, tpp.sign(BODY, **changes), tpp) == (400, code)


def test_a_long_but_valid_header_verifies(verifier: DetachedJwsVerifier) -> None:
    """A 40-character kid and a 128-character software statement id: past joserfc's 512-byte default."""
    long = Tpp(TPP_ORG, "s" * 128, new_rsa_key("k" * 40))
    resolver = StaticKeyResolver({TPP_ORG: [long.key]})
    signature = long.sign(BODY)
    assert len(signature.split(".")[0]) > 512
    assert DetachedJwsVerifier(resolver).verify(signature, BODY, TPP_ORG)["kid"] == "k" * 40


def test_the_aspsp_signature_verifies_independently_and_carries_the_obie_header() -> None:
    signer = DetachedJwsSigner(new_rsa_key("aspsp-1"), "aspsp-1", FINANCIAL_ID)
    signature = signer.sign(BODY)
    header = verify_detached(signature, BODY, signer.key)
    assert header["alg"] == "PS256" and header["kid"] == "aspsp-1"
    assert header[ISS_CLAIM] == FINANCIAL_ID and header[TAN_CLAIM] == "openbanking.org.uk"
    assert sorted(header["crit"]) == sorted(CRITICAL_CLAIMS) and "b64" not in header
    assert abs(header[IAT_CLAIM] - time.time()) < 5
    # an ASPSP signs with its bare organisation id as `iss`; a TPP's request must name its software statement too
    verifier = DetachedJwsVerifier(StaticKeyResolver({FINANCIAL_ID: [signer.key]}))
    with pytest.raises(OBIEError, match="software statement"):
        verifier.verify(signature, BODY, FINANCIAL_ID)
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidSignature
        verify_detached(signature, BODY + b"x", signer.key)


def test_the_signer_refuses_a_public_key() -> None:
    key = new_rsa_key("k")
    with pytest.raises(ValueError, match="private"):
        DetachedJwsSigner(RSAKey.import_key(key.as_dict(private=False)), "k", FINANCIAL_ID)


def test_static_resolver_needs_kids_and_serves_public_keys_only() -> None:
    with pytest.raises(ValueError, match="kid"):
        StaticKeyResolver({"tpp": [RSAKey.generate_key(2048, private=True)]})
    key = new_rsa_key("k1")
    resolved = StaticKeyResolver({"tpp": [key]}).resolve("tpp", "k1")
    assert not resolved.is_private
    with pytest.raises(KeyNotFound):
        StaticKeyResolver({"tpp": [key]}).resolve("tpp", "k2")


class _Jwks:
    def __init__(self, *keys: RSAKey) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.fail = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        assert request.url.path == "/tpp-1.jwks"
        if self.fail:
            return httpx.Response(503)
        return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in self.keys]})


def test_jwks_resolver_caches_refetches_on_rotation_and_fails_closed() -> None:
    first, second = new_rsa_key("k1"), new_rsa_key("k2")
    jwks, now = _Jwks(first), [1000.0]
    resolver = JwksKeyResolver("https://keystore.example/{tpp_id}.jwks", ttl_seconds=300, refetch_interval_seconds=30,
                               http=httpx.Client(transport=httpx.MockTransport(jwks.handler)), clock=lambda: now[0])
    assert resolver.resolve("tpp-1", "k1").kid == "k1"
    assert resolver.resolve("tpp-1", "k1").kid == "k1"
    assert jwks.fetches == 1, "a cached JWKS is not fetched again within its TTL"
    jwks.keys.append(second)
    with pytest.raises(KeyNotFound):
        resolver.resolve("tpp-1", "k2")  # unknown kid right after a fetch: no refetch (no hammering)
    assert jwks.fetches == 1
    now[0] += 31
    assert resolver.resolve("tpp-1", "k2").kid == "k2"  # the TPP rotated: one refetch finds the new key
    assert jwks.fetches == 2
    now[0] += 301
    jwks.fail = True
    with pytest.raises(KeyNotFound):
        resolver.resolve("tpp-1", "k1")  # expired cache and the directory is down: no stale trust
    with pytest.raises(ValueError, match="tpp_id"):
        JwksKeyResolver("https://keystore.example/static.jwks")


def test_load_signer(tmp_path: Path) -> None:
    assert load_signer(ServiceSettings(environment="local")).key.is_private
    with pytest.raises(ValueError, match="OB_SIGNING_KEY_PATH"):
        load_signer(ServiceSettings(environment="prod"))
    key = new_rsa_key("file-key")
    pem = key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,  # type: ignore[union-attr]
                                        serialization.NoEncryption())
    path = tmp_path / "signing.pem"
    path.write_bytes(pem)
    signer = load_signer(ServiceSettings(environment="prod", signing_key_path=str(path), signing_key_id="kid-9"))
    assert signer.kid == "kid-9" and signer.issuer == ServiceSettings().financial_id
    verify_detached(signer.sign(BODY), BODY, key)
