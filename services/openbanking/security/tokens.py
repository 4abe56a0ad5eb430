"""FAPI access tokens: a JWT from the configured IdP, sender-constrained to the TPP's client certificate (RFC 8705).

:class:`AccessTokenVerifier` checks one token: the JOSE header allows only PS256/ES256 (never `none`, HS* or RS256),
the signature verifies with the IdP's JWKS (cached, refreshed on an unknown `kid` at most once per interval), `iss`
is the issuer, `aud` the audience when one is configured, `exp`/`nbf`/`iat` hold with a small leeway, and
`cnf.x5t#S256` equals the thumbprint of the certificate presented on the connection.

:class:`MtlsAuthenticator` adds the certificate checks (chain to the truststore, not revoked, fail closed), and
:class:`LocalTokenVerifier` is its :class:`~openbanking.common.context.TokenVerifier` face for services running
in `local` auth mode; the Lambda authorizer uses the same authenticator.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from cryptography import x509
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, RSAKey

from openbanking.claims import (
    CERTIFICATE_THUMBPRINT,
    CLIENT_ID_CLAIMS,
    CONFIRMATION_CLAIM,
    INTENT_ID_CLAIM,
    SIGNING_ALGORITHMS,
    TPP_ID_CLAIM,
)

from .certificates import (
    CertificateError,
    Truststore,
    check_client_certificate,
    load_certificate,
    thumbprint_s256,
    tpp_id_of,
)
from .revocation import RevocationChecker, RevocationUnavailable, utc_now

if TYPE_CHECKING:  # the service side only: the Lambda authorizer must not pull in FastAPI
    from openbanking.common.context import Caller

log = logging.getLogger(__name__)

#: FAPI 1 Advanced / FAPI 2: PS256 or ES256 only (the IdP contract, `openbanking.claims`).
ALLOWED_ALGORITHMS: tuple[str, ...] = SIGNING_ALGORITHMS
_CONSENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 scope-token
_MAX_TOKEN_LENGTH = 16 * 1024


class TokenRejected(Exception):
    """The access token (or the certificate it is bound to) must not be accepted; the message says why."""


@dataclass(frozen=True)
class AccessToken:
    """What a verified token says about the caller."""

    client_id: str
    tpp_id: str
    scopes: frozenset[str]
    consent_id: str | None
    certificate_thumbprint: str
    claims: dict[str, Any] = field(repr=False, compare=False)

    def caller(self) -> Caller:
        from openbanking.common.context import Caller

        return Caller(tpp_id=self.tpp_id, client_id=self.client_id, scopes=self.scopes, consent_id=self.consent_id)


class JwksCache:
    """The IdP's signing keys, fetched from its JWKS URL and kept for `max_age_seconds`. A token with an unknown
    `kid` triggers a refresh (key rotation), at most once per `min_refresh_seconds`, so forged `kid`s cannot turn
    the verifier into a load generator against the IdP. On a failed refresh the keys already known stay in use."""

    def __init__(self, url: str, http: httpx.Client, *, max_age_seconds: float = 3600, min_refresh_seconds: float = 30,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._url = url
        self._http = http
        self._max_age = max_age_seconds
        self._min_refresh = min_refresh_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keys: dict[str, Key] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None

    def key(self, kid: str | None) -> Key:
        with self._lock:
            now = self._monotonic()
            stale = self._fetched_at is None or now - self._fetched_at >= self._max_age
            unknown = self._lookup(kid) is None
            may_refresh = self._attempted_at is None or now - self._attempted_at >= self._min_refresh
            if (stale or unknown) and may_refresh:
                self._refresh(now)
            key = self._lookup(kid)
        if key is None:
            raise TokenRejected(f"the token's signing key (kid {kid!r}) is not in the issuer's JWKS")
        return key

    def _lookup(self, kid: str | None) -> Key | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        self._attempted_at = now
        try:
            response = self._http.get(self._url, headers={"accept": "application/json"})
            response.raise_for_status()
            document = response.json()
            keys = KeySet.import_key_set(document).keys
        except (httpx.HTTPError, ValueError, KeyError, TypeError, JoseError) as exc:
            log.warning("JWKS refresh from %s failed: %s", self._url, exc)
            return
        self._keys = {key.kid: key for key in keys if key.kid and key.get("use") in (None, "sig")}
        self._fetched_at = now


KeyResolver = Callable[[str | None], Key]


def _jose_header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected("the access token is not a signed JWT (JWS compact serialisation)")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise TokenRejected("the access token's JOSE header is not valid base64url JSON") from exc
    if not isinstance(header, dict):
        raise TokenRejected("the access token's JOSE header is not a JSON object")
    return header


def _check_key_fits(key: Key, algorithm: str) -> None:
    if algorithm == "PS256" and not (isinstance(key, RSAKey) and key.raw_value.key_size >= 2048):
        raise TokenRejected("a PS256 token must be signed with an RSA key of at least 2048 bits")
    if algorithm == "ES256" and not (isinstance(key, ECKey) and key.curve_name == "P-256"):
        raise TokenRejected("an ES256 token must be signed with a P-256 key")


def _scopes(value: object) -> frozenset[str]:
    if isinstance(value, str):
        items = value.split()
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise TokenRejected("the token's 'scope' claim must be a space-separated string")
    if not items or not all(_SCOPE_TOKEN.match(item) for item in items):
        raise TokenRejected("the token's 'scope' claim is empty or malformed")
    return frozenset(items)


class AccessTokenVerifier:
    """Verifies access tokens of one issuer. `clock` returns Unix seconds (injectable for tests)."""

    def __init__(self, issuer: str, keys: KeyResolver, *, audience: str | None = None, leeway_seconds: int = 30,
                 tpp_id_claim: str = TPP_ID_CLAIM, clock: Callable[[], float] = time.time) -> None:
        if not issuer:
            raise ValueError("the token issuer must be configured")
        self._issuer = issuer
        self._keys = keys
        self._audience = audience
        self._leeway = leeway_seconds
        self._tpp_id_claim = tpp_id_claim
        self._clock = clock

    def verify(self, token: str, certificate: x509.Certificate) -> AccessToken:
        """The token's facts, if it is valid and bound to `certificate`; raises :class:`TokenRejected` otherwise."""
        if len(token) > _MAX_TOKEN_LENGTH:
            raise TokenRejected("the access token is too long")
        header = _jose_header(token)
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise TokenRejected(f"the token algorithm {algorithm!r} is not allowed (only {', '.join(ALLOWED_ALGORITHMS)})")
        if "crit" in header:
            raise TokenRejected("the token has critical header parameters this verifier does not understand")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenRejected("the token's 'kid' must be a string")
        key = self._keys(kid)
        _check_key_fits(key, algorithm)
        try:
            decoded = jwt.decode(token, key, algorithms=[algorithm])
        except (JoseError, ValueError) as exc:
            raise TokenRejected(f"the token signature does not verify ({type(exc).__name__})") from exc
        claims = decoded.claims
        self._validate_claims(claims)
        return self._facts(claims, certificate)

    def _validate_claims(self, claims: dict[str, Any]) -> None:
        options: dict[str, Any] = {"iss": {"essential": True, "value": self._issuer},
                                   "exp": {"essential": True}, "iat": {"essential": True}}
        if self._audience:
            options["aud"] = {"essential": True, "value": self._audience}
        registry = jwt.JWTClaimsRegistry(now=lambda: int(self._clock()), leeway=self._leeway, **options)
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise TokenRejected(f"the token's claims are not acceptable: {exc.error}: {exc.description or ''}".rstrip(": ")
                                ) from exc

    def _facts(self, claims: dict[str, Any], certificate: x509.Certificate) -> AccessToken:
        confirmation = claims.get(CONFIRMATION_CLAIM)
        bound_to = confirmation.get(CERTIFICATE_THUMBPRINT) if isinstance(confirmation, dict) else None
        if not isinstance(bound_to, str) or not bound_to:
            raise TokenRejected("the token is not sender-constrained (no cnf.x5t#S256): bearer tokens are refused")
        thumbprint = thumbprint_s256(certificate)
        if not hmac.compare_digest(bound_to.encode(), thumbprint.encode()):
            raise TokenRejected("the token is bound to a different client certificate (cnf.x5t#S256 mismatch)")
        client_id = next((claims[c] for c in CLIENT_ID_CLAIMS if c in claims), None)
        if not isinstance(client_id, str) or not client_id:
            raise TokenRejected("the token names no client ('client_id')")
        tpp_id = self._tpp_id(claims, certificate)
        consent_id = claims.get(INTENT_ID_CLAIM)
        if consent_id is not None and not (isinstance(consent_id, str) and _CONSENT_ID.match(consent_id)):
            raise TokenRejected(f"the token's '{INTENT_ID_CLAIM}' claim is malformed")
        return AccessToken(client_id=client_id, tpp_id=tpp_id, scopes=_scopes(claims.get("scope")),
                           consent_id=consent_id, certificate_thumbprint=thumbprint, claims=claims)

    def _tpp_id(self, claims: dict[str, Any], certificate: x509.Certificate) -> str:
        """The TPP: the token's organisation claim and the certificate's organisation must agree when both exist."""
        from_token = claims.get(self._tpp_id_claim)
        from_certificate = tpp_id_of(certificate)
        if from_token is not None and not (isinstance(from_token, str) and from_token):
            raise TokenRejected(f"the token's '{self._tpp_id_claim}' claim is malformed")
        if from_token and from_certificate and from_token != from_certificate:
            raise TokenRejected("the token's organisation does not match the client certificate's organisation")
        tpp_id = from_token or from_certificate
        if not tpp_id:
            raise TokenRejected(f"neither the token ('{self._tpp_id_claim}') nor the certificate names the TPP")
        return tpp_id


class MtlsAuthenticator:
    """The whole credential check of one request: the client certificate (parsable, a client certificate, chains
    to the truststore, not revoked: fail closed) and the access token bound to it. Cheap local checks run before
    the network is touched, so an invalid token never causes an OCSP or CRL request."""

    def __init__(self, tokens: AccessTokenVerifier, truststore: Truststore, revocation: RevocationChecker, *,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._tokens = tokens
        self._truststore = truststore
        self._revocation = revocation
        self._clock = clock

    def authenticate(self, token: str, client_cert_pem: str | bytes) -> AccessToken:
        try:
            certificate = load_certificate(client_cert_pem)
            check_client_certificate(certificate)
        except CertificateError as exc:
            raise TokenRejected(str(exc)) from exc
        access = self._tokens.verify(token, certificate)
        try:
            chain = self._truststore.chain(certificate, self._clock())
        except CertificateError as exc:
            raise TokenRejected(f"the client certificate is not trusted: {exc}") from exc
        try:
            verdict = self._revocation.check(certificate, chain[1])
        except RevocationUnavailable as exc:
            log.warning("revocation check failed closed: %s", exc)
            raise TokenRejected("the client certificate's revocation status cannot be established") from exc
        if verdict.revoked:
            raise TokenRejected(f"the client certificate is revoked ({verdict.detail})")
        return access


class LocalTokenVerifier:
    """:class:`~openbanking.common.context.TokenVerifier` for `local` auth mode: any failure is a 401 with an
    OBIE error body; scope and consent checks stay with the routes (403)."""

    def __init__(self, authenticator: MtlsAuthenticator) -> None:
        self._authenticator = authenticator

    def __call__(self, token: str, client_cert_pem: str | None) -> Caller:
        from openbanking.common.context import unauthorized

        if not client_cert_pem:
            raise unauthorized("a client certificate (mTLS) is required")
        try:
            return self._authenticator.authenticate(token, client_cert_pem).caller()
        except TokenRejected as exc:
            raise unauthorized(str(exc)) from exc
