"""Signing with an RSA key that never leaves KMS (PS256 = RSASSA_PSS_SHA_256), against moto: response signatures and
event SETs made through KMS verify with joserfc against the public key `GetPublicKey` returns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import RSAKey

from openbanking.common.dynamo import create_tables
from openbanking.common.jws import DetachedJwsSigner, StaticKeyResolver, _registry, load_signer
from openbanking.common.keys import KmsRsaKey, load_signing_key
from openbanking.common.settings import ServiceSettings
from openbanking.events.app import build_app as build_events
from openbanking.events.tokens import SetSigner
from tests.services.kms.support import REGION, kms_signing_as_aws, signing_key
from tests.services.pis.support import FINANCIAL_ID

BODY = json.dumps({"Data": {"Status": "AcceptedSettlementCompleted"}, "Note": "x" * 10_000}).encode()


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with kms_signing_as_aws(monkeypatch) as client:
        yield client


def public_key(kms: Any, arn: str) -> RSAKey:
    return RSAKey.import_key(kms.get_public_key(KeyId=arn)["PublicKey"])


def verify(signature: str, body: bytes, key: RSAKey) -> dict[str, Any]:
    """joserfc's PS256 (32-byte salt), as a TPP verifies our responses (the OBIE critical header claims known; the
    ASPSP's `iss` is its bare organisation id, which the services' request verifier rightly refuses from a TPP)."""
    public = RSAKey.import_key({**key.as_dict(private=False), "kid": "kms-1", "use": "sig"})
    try:
        verified = jws.deserialize_compact(signature, public, algorithms=["PS256"], registry=_registry(), payload=body)
    except JoseError as exc:
        raise AssertionError(f"the signature does not verify: {exc}") from exc
    assert verified.protected["http://openbanking.org.uk/iss"] == FINANCIAL_ID
    return dict(verified.protected)


def test_a_response_signature_made_in_kms_verifies_with_its_public_key(kms: Any) -> None:
    arn = signing_key(kms)
    signer = DetachedJwsSigner(KmsRsaKey(kms, arn), "kms-1", FINANCIAL_ID)
    signature = signer.sign(BODY)
    header = verify(signature, BODY, public_key(kms, arn))
    assert header["kid"] == "kms-1" and header["alg"] == "PS256"
    with pytest.raises(Exception, match="does not verify"):
        verify(signature, BODY + b" ", public_key(kms, arn))
    with pytest.raises(Exception, match="does not verify"):
        verify(signature, BODY, public_key(kms, signing_key(kms)))  # another KMS key


def test_kms_signs_the_digest_so_large_bodies_never_leave_the_service(kms: Any) -> None:
    sent: list[dict[str, Any]] = []
    kms.meta.events.register("provide-client-params.kms.Sign", lambda params, **_: sent.append(dict(params)))
    DetachedJwsSigner(KmsRsaKey(kms, signing_key(kms)), "kms-1", FINANCIAL_ID).sign(BODY)
    assert [(p["MessageType"], len(p["Message"]), p["SigningAlgorithm"]) for p in sent] == \
        [("DIGEST", 32, "RSASSA_PSS_SHA_256")], "KMS takes at most 4096 bytes of RAW message; the body is 10 KB"


def test_event_sets_signed_in_kms_verify_with_joserfc(kms: Any) -> None:
    arn = signing_key(kms)
    token = SetSigner(KmsRsaKey(kms, arn), "kms-1", clock=lambda: 1_750_000_000).sign(
        {"iss": "https://api.bank.example", "jti": "j-1", "aud": "tpp-1", "toe": 1_749_999_990,
         "events": {"urn:uk:org:openbanking:events:resource-update": {}}})
    decoded = jwt.decode(token, public_key(kms, arn), algorithms=["PS256"])
    assert decoded.header == {"alg": "PS256", "typ": "secevent+jwt", "kid": "kms-1"}
    assert decoded.claims["jti"] == "j-1" and decoded.claims["iat"] == 1_750_000_000
    with pytest.raises(BadSignatureError):
        jwt.decode(token, public_key(kms, signing_key(kms)), algorithms=["PS256"])


def test_settings_select_the_kms_key_and_publish_its_public_half(kms: Any) -> None:
    arn = signing_key(kms)
    settings = ServiceSettings(environment="prod", aws_region=REGION, signing_kms_key_arn=arn,
                               signing_key_id="aspsp-2025", signing_key_path="/nonexistent/ignored.pem")
    key = load_signing_key(settings)
    assert isinstance(key, KmsRsaKey) and key.key_id == arn
    jwks = load_signer(settings).public_jwks()
    assert jwks["keys"] == [{**public_key(kms, arn).as_dict(private=False), "kid": "aspsp-2025", "use": "sig",
                             "alg": "PS256"}]
    assert "d" not in jwks["keys"][0], "no private part can be published"


def test_a_key_that_cannot_sign_ps256_is_refused_by_name(kms: Any) -> None:
    arn = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["Arn"]
    with pytest.raises(ValueError, match=rf"OB_SIGNING_KMS_KEY_ARN: {arn} is not an RSA SIGN_VERIFY key"):
        KmsRsaKey(kms, arn).public_key()


def test_the_events_service_signs_its_responses_in_kms(kms: Any) -> None:
    arn = signing_key(kms)
    settings = ServiceSettings(environment="prod", aws_region=REGION, table_prefix="kms-ev-",
                               base_url="https://api.bank.example", financial_id=FINANCIAL_ID,
                               signing_kms_key_arn=arn, signing_key_id="kms-1")
    create_tables(settings, ["event_subscriptions", "events"])
    app = build_events(settings, key_resolver=StaticKeyResolver({}))
    with TestClient(app) as client:
        response = client.get("/open-banking/v3.1/event-subscriptions",
                              headers={"x-ob-tpp-id": "tpp-1", "x-ob-client-id": "c-1", "x-ob-scopes": "accounts"})
    assert response.status_code == 200, response.text
    header = verify(response.headers["x-jws-signature"], response.content, public_key(kms, arn))
    assert header["http://openbanking.org.uk/iss"] == FINANCIAL_ID
