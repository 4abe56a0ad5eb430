"""Test helpers shared by the PIS, events, JWS, delivery and contract tests.

TPP signatures are made here with `cryptography` directly, not with the service's own JWS code, so the tests
check interoperability with an independent implementation (and can build the broken signatures a real
attacker or a buggy TPP would send).
"""

from __future__ import annotations

import base64
import copy
import json
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc.jwk import RSAKey

from openbanking.common.jws import CRITICAL_CLAIMS, IAT_CLAIM, ISS_CLAIM, TAN_CLAIM, DetachedJwsSigner

PIS = "/open-banking/v3.1/pisp"
BASE_URL = "https://api.bank.example"
FINANCIAL_ID = "0015800001041RHAAY"
_DROP = object()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, {"kid": kid, "use": "sig"}, private=True)


def _private(key: RSAKey) -> rsa.RSAPrivateKey:
    private = key.private_key
    assert isinstance(private, rsa.RSAPrivateKey)
    return private


def _public(key: RSAKey) -> rsa.RSAPublicKey:
    public = key.public_key
    assert isinstance(public, rsa.RSAPublicKey)
    return public


def detached_jws(header: dict[str, Any], body: bytes, key: RSAKey) -> str:
    """`<header>..<signature>` over `<header>.<base64url(body)>`; the signature follows `header["alg"]`."""
    encoded = b64url(json.dumps(header).encode())
    signing_input = f"{encoded}.{b64url(body)}".encode()
    alg = header.get("alg")
    if alg == "RS256":
        signature = _private(key).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "none":
        signature = b"not-a-signature"
    else:
        signature = _private(key).sign(signing_input, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                                       hashes.SHA256())
    return f"{encoded}..{b64url(signature)}"


def verify_detached(signature: str, body: bytes, key: RSAKey) -> dict[str, Any]:
    """Independent check of the ASPSP's response signature: PS256 over `<header>.<base64url(body)>`."""
    encoded, middle, sig = signature.split(".")
    assert middle == "", "the payload must be detached"
    header = json.loads(b64url_decode(encoded))
    _public(key).verify(b64url_decode(sig), f"{encoded}.{b64url(body)}".encode(),
                        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO), hashes.SHA256())
    return header


@dataclass
class Tpp:
    tpp_id: str
    client_id: str
    key: RSAKey
    #: The TPP's clock (signatures' `iat`); tests that move the service's clock move this one with it.
    clock: Callable[[], float] = time.time

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    def header(self, **changes: Any) -> dict[str, Any]:
        header: dict[str, Any] = {"alg": "PS256", "kid": self.kid, "typ": "JOSE", "cty": "application/json",
                                  IAT_CLAIM: int(self.clock()) - 1, ISS_CLAIM: f"{self.tpp_id}/{self.client_id}",
                                  TAN_CLAIM: "openbanking.org.uk", "crit": list(CRITICAL_CLAIMS)}
        for name, value in changes.items():
            name = {"iat": IAT_CLAIM, "iss": ISS_CLAIM, "tan": TAN_CLAIM}.get(name, name)
            if value is _DROP:
                header.pop(name, None)
            else:
                header[name] = value
        return header

    def sign(self, body: bytes, *, key: RSAKey | None = None, **changes: Any) -> str:
        return detached_jws(self.header(**changes), body, key or self.key)

    def caller_headers(self, scopes: str = "payments", consent_id: str | None = None) -> dict[str, str]:
        """What API Gateway's authorizer passes to the service (`x-ob-*`)."""
        headers = {"x-ob-tpp-id": self.tpp_id, "x-ob-client-id": self.client_id, "x-ob-scopes": scopes}
        if consent_id:
            headers["x-ob-consent-id"] = consent_id
        return headers

    def signed_post(self, document: Any, *, key: str | None = None, scopes: str = "payments",
                    consent_id: str | None = None) -> dict[str, Any]:
        """Keyword arguments for `client.post`: the exact body bytes, their signature and a fresh idempotency key."""
        body = json.dumps(document).encode()
        headers = {**self.caller_headers(scopes, consent_id), "content-type": "application/json",
                   "x-jws-signature": self.sign(body), "x-idempotency-key": key or str(uuid.uuid4())}
        return {"content": body, "headers": headers}


DROP = _DROP


class EnoughFunds:
    """A ledger stand-in for PIS: every PSU pays from `acc-<psu>` (or the account chosen), and always has the money."""

    def payer_account(self, psu_id: str, account_id: str | None, debtor: dict[str, Any] | None) -> str:
        return account_id or f"acc-{psu_id}"

    def funds_available(self, consent: Any) -> bool:
        return True


class FakeResolver:
    """A name resolver the test controls (no real DNS here): name -> addresses, or a list of answers given in turn
    (the last one repeated); every lookup is recorded. Unknown names fail as the system resolver does."""

    def __init__(self, answers: dict[str, list[str] | list[list[str]]]) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        for name, value in answers.items():
            turns = [a for a in value if isinstance(a, list)]
            self.answers[name] = turns or [[a for a in value if isinstance(a, str)]]
        self.lookups: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.lookups.append(host)
        turns = self.answers.get(host)
        if not turns:
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: name or service not known")
        return turns.pop(0) if len(turns) > 1 else list(turns[0])


#: The TPP callback host of the tests, resolving to a public address.
TPP_CALLBACK_HOST = "tpp.example"


def public_names() -> FakeResolver:
    return FakeResolver({TPP_CALLBACK_HOST: ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]})


def aspsp_signer() -> DetachedJwsSigner:
    return DetachedJwsSigner(new_rsa_key("aspsp-sig"), "aspsp-sig", FINANCIAL_ID)


INITIATION: dict[str, Any] = {
    "InstructionIdentification": "ACME412",
    "EndToEndIdentification": "FRESCO.21302.GFX.20",
    "LocalInstrument": "UK.OBIE.FPS",
    "InstructedAmount": {"Amount": "165.88", "Currency": "GBP"},
    "CreditorAccount": {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "08080021325698",
                        "Name": "ACME Inc", "SecondaryIdentification": "0002"},
    "RemittanceInformation": {"Reference": "FRESCO-101", "Unstructured": "Internal ops code 5120101"},
}
RISK: dict[str, Any] = {"PaymentContextCode": "EcommerceGoods", "MerchantCategoryCode": "5967",
                        "MerchantCustomerIdentification": "053598653254",
                        "DeliveryAddress": {"AddressLine": ["Flat 7", "Acacia Lodge"], "StreetName": "Acacia Avenue",
                                            "BuildingNumber": "27", "PostCode": "GU31 2ZZ", "TownName": "Sparsholt",
                                            "Country": "GB"}}


def consent_request(initiation: dict[str, Any] | None = None, **data: Any) -> dict[str, Any]:
    return {"Data": {"Initiation": copy.deepcopy(initiation or INITIATION), **data}, "Risk": copy.deepcopy(RISK)}


def payment_request(consent_id: str, initiation: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"Data": {"ConsentId": consent_id, "Initiation": copy.deepcopy(initiation or INITIATION)},
            "Risk": copy.deepcopy(RISK)}
