"""Detached JWS (RFC 7515 Appendix F) for the OBIE `x-jws-signature` header, PS256 only.

Since v3.1.4 the payload is signed as base64url-encoded (no `b64: false`); the signature travels without it
(`<header>..<signature>`). The protected header carries `alg`, `kid` and the three OBIE claims
`http://openbanking.org.uk/iat`, `/iss` and `/tan`, all three listed in `crit`.

- Requests: :class:`DetachedJwsVerifier` checks a TPP's signature against the TPP's public key, which a
  :class:`KeyResolver` looks up by (TPP id, `kid`): in AWS from the Open Banking Directory's JWKS
  (:class:`JwksKeyResolver`), in tests from memory (:class:`StaticKeyResolver`). Every failure is a 400 with a
  `UK.OBIE.Signature.*` code saying what was wrong.
- Responses: :class:`DetachedJwsSigner` signs with the ASPSP's key (a PEM key in memory, or an RSA key in KMS:
  :mod:`openbanking.common.keys`); :class:`SignedResponseMiddleware` adds
  the header to every JSON response of a service, errors included (the spec declares it on 400s too).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.registry import HeaderParameter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ErrorCode, OBIEError
from .keys import SigningKey, load_signing_key, public_jwk, sign_compact
from .settings import ServiceSettings

log = logging.getLogger(__name__)

JWS_HEADER = "x-jws-signature"
ALGORITHM = "PS256"
IAT_CLAIM = "http://openbanking.org.uk/iat"
ISS_CLAIM = "http://openbanking.org.uk/iss"
TAN_CLAIM = "http://openbanking.org.uk/tan"
CRITICAL_CLAIMS = (IAT_CLAIM, ISS_CLAIM, TAN_CLAIM)
#: The trust anchor of the Open Banking Directory (`tan`).
OB_TRUST_ANCHOR = "openbanking.org.uk"
#: The largest base64url-encoded protected header accepted (the OBIE claims, a kid and an iss of up to 128
#: characters each, fit several times over).
MAX_PROTECTED_HEADER_BYTES = 4096
#: How old a request signature may be (`iat` behind our clock): a request is signed when it is sent.
MAX_SIGNATURE_AGE_SECONDS = 300
#: A software statement id (the part of a TPP's `iss` after `<org id>/`).
_SOFTWARE_STATEMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _registry() -> jws.JWSRegistry:
    """A PS256-only registry that knows the OBIE critical header claims (joserfc rejects unknown `crit`)."""
    registry = jws.JWSRegistry(header_registry={
        IAT_CLAIM: HeaderParameter("OBIE signing time", "int", True),
        ISS_CLAIM: HeaderParameter("OBIE signer", "str", True),
        TAN_CLAIM: HeaderParameter("OBIE trust anchor", "str", True),
    }, algorithms=[ALGORITHM])
    registry.max_payload_length = 1024 * 1024
    # joserfc's default (512 bytes) refuses a valid OBIE header with a long kid and software statement id, and
    # reports it as a bad signature: the encoded header is bounded by the HTTP header it travels in instead
    registry.max_header_length = MAX_PROTECTED_HEADER_BYTES
    return registry


class KeyNotFound(LookupError):
    """No public key with that `kid` is registered for the TPP."""


class KeyResolver(Protocol):
    """Finds a TPP's public signing key by `kid` (in AWS: from the TPP's Open Banking Directory JWKS)."""

    def resolve(self, tpp_id: str, kid: str) -> RSAKey: ...


def _rsa_signing_key(key_set: KeySet, kid: str) -> RSAKey:
    for key in key_set.keys:
        if key.kid == kid and isinstance(key, RSAKey) and key.get("use", "sig") == "sig":
            return key
    raise KeyNotFound(kid)


class StaticKeyResolver:
    """TPP keys held in memory: for tests, the sandbox, or a fixed set of partners."""

    def __init__(self, keys: dict[str, Iterable[RSAKey]] | None = None) -> None:
        self._keys: dict[str, KeySet] = {}
        for tpp_id, tpp_keys in (keys or {}).items():
            for key in tpp_keys:
                self.add(tpp_id, key)

    def add(self, tpp_id: str, key: RSAKey) -> None:
        if not key.kid:
            raise ValueError(f"the key of TPP {tpp_id!r} has no 'kid'")
        public = RSAKey.import_key(key.as_dict(private=False))
        existing = self._keys.get(tpp_id)
        self._keys[tpp_id] = KeySet([*(existing.keys if existing else []), public])

    def resolve(self, tpp_id: str, kid: str) -> RSAKey:
        key_set = self._keys.get(tpp_id)
        if key_set is None:
            raise KeyNotFound(kid)
        return _rsa_signing_key(key_set, kid)


@dataclass
class _CachedKeySet:
    keys: KeySet
    fetched_at: float


class JwksKeyResolver:
    """TPP keys fetched from a JWKS URL per TPP (`url_template` with `{tpp_id}`), cached for `ttl_seconds`.

    An unknown `kid` triggers one refetch (a TPP may just have rotated its key), at most once every
    `refetch_interval_seconds` per TPP so that unknown kids cannot be used to hammer the directory.
    """

    def __init__(self, url_template: str, *, ttl_seconds: float = 300.0, refetch_interval_seconds: float = 30.0,
                 http: httpx.Client | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if "{tpp_id}" not in url_template:
            raise ValueError(f"the JWKS URL template {url_template!r} must contain '{{tpp_id}}'")
        self.url_template = url_template
        self.ttl_seconds = ttl_seconds
        self.refetch_interval_seconds = refetch_interval_seconds
        self._http = http or httpx.Client(timeout=5.0)
        self._clock = clock
        self._cache: dict[str, _CachedKeySet] = {}
        self._lock = threading.Lock()

    def _fetch(self, tpp_id: str) -> _CachedKeySet:
        response = self._http.get(self.url_template.format(tpp_id=tpp_id))
        response.raise_for_status()
        entry = _CachedKeySet(KeySet.import_key_set(response.json()), self._clock())
        with self._lock:
            self._cache[tpp_id] = entry
        return entry

    def resolve(self, tpp_id: str, kid: str) -> RSAKey:
        with self._lock:
            entry = self._cache.get(tpp_id)
        now = self._clock()
        try:
            if entry is None or now - entry.fetched_at > self.ttl_seconds:
                entry = self._fetch(tpp_id)
            try:
                return _rsa_signing_key(entry.keys, kid)
            except KeyNotFound:
                if now - entry.fetched_at < self.refetch_interval_seconds:
                    raise
                return _rsa_signing_key(self._fetch(tpp_id).keys, kid)
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            log.warning("JWKS of TPP %s could not be fetched: %s", tpp_id, exc)
            raise KeyNotFound(kid) from exc


def _signature_error(code: ErrorCode, message: str) -> OBIEError:
    return OBIEError.of(400, code, message, JWS_HEADER)


def _b64url_json(segment: str) -> dict[str, Any]:
    padded = segment + "=" * (-len(segment) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    if not isinstance(value, dict):
        raise ValueError("the JWS header is not a JSON object")
    return value


class DetachedJwsVerifier:
    """Verifies a request's `x-jws-signature` over the exact bytes of its body."""

    def __init__(self, resolver: KeyResolver, *, trust_anchor: str = OB_TRUST_ANCHOR,
                 max_clock_skew_seconds: int = 300, max_age_seconds: int = MAX_SIGNATURE_AGE_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        """`iat` may be at most `max_clock_skew_seconds` ahead of our clock and `max_age_seconds` behind it."""
        self.resolver = resolver
        self.trust_anchor = trust_anchor
        self.max_clock_skew_seconds = max_clock_skew_seconds
        self.max_age_seconds = max_age_seconds
        self._clock = clock
        self._registry = _registry()

    def verify(self, signature: str | None, body: bytes, tpp_id: str) -> dict[str, Any]:
        """The verified protected header; raises :class:`OBIEError` (400 `UK.OBIE.Signature.*`) otherwise."""
        if signature is None or not signature.strip():
            raise _signature_error(ErrorCode.SIGNATURE_MISSING, "the request must carry a detached JWS in x-jws-signature")
        parts = signature.strip().split(".")
        if len(parts) != 3 or parts[1] != "" or not parts[0] or not parts[2]:
            raise _signature_error(ErrorCode.SIGNATURE_MALFORMED,
                                   "x-jws-signature must be a detached JWS: '<protected header>..<signature>'")
        try:
            header = _b64url_json(parts[0])
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise _signature_error(ErrorCode.SIGNATURE_MALFORMED,
                                   "the protected header of x-jws-signature is not base64url-encoded JSON") from None
        self._check_header(header, tpp_id)
        try:
            key = self.resolver.resolve(tpp_id, header["kid"])
        except KeyNotFound:
            raise _signature_error(ErrorCode.SIGNATURE_INVALID,
                                   f"no signing key with kid {header['kid']!r} is registered for this TPP") from None
        try:
            jws.deserialize_compact(signature.strip(), key, algorithms=[ALGORITHM], registry=self._registry,
                                    payload=body)
        except JoseError:
            raise _signature_error(ErrorCode.SIGNATURE_INVALID,
                                   "x-jws-signature does not verify against the request body") from None
        except (ValueError, binascii.Error):
            raise _signature_error(ErrorCode.SIGNATURE_MALFORMED, "the signature of x-jws-signature is not base64url") \
                from None
        return header

    def _check_header(self, header: dict[str, Any], tpp_id: str) -> None:
        alg = header.get("alg")
        if alg is None:
            raise _signature_error(ErrorCode.SIGNATURE_MISSING_CLAIM, "the JWS header has no 'alg'")
        if alg != ALGORITHM:
            raise _signature_error(ErrorCode.SIGNATURE_INVALID_CLAIM, f"the JWS 'alg' must be {ALGORITHM}, not {alg!r}")
        if "b64" in header:
            raise _signature_error(ErrorCode.SIGNATURE_INVALID_CLAIM,
                                   "the JWS header must not carry 'b64' (removed in OBIE v3.1.4)")
        kid = header.get("kid")
        if not kid:
            raise _signature_error(ErrorCode.SIGNATURE_MISSING_CLAIM, "the JWS header has no 'kid'")
        if not isinstance(kid, str):
            raise _signature_error(ErrorCode.SIGNATURE_INVALID_CLAIM, "the JWS 'kid' must be a string")
        for claim in CRITICAL_CLAIMS:
            if claim not in header:
                raise _signature_error(ErrorCode.SIGNATURE_MISSING_CLAIM, f"the JWS header has no '{claim}'")
        crit = header.get("crit")
        if crit is None:
            raise _signature_error(ErrorCode.SIGNATURE_MISSING_CLAIM, "the JWS header has no 'crit'")
        if not isinstance(crit, list) or sorted(map(str, crit)) != sorted(CRITICAL_CLAIMS) or len(crit) != 3:
            raise _signature_error(ErrorCode.SIGNATURE_INVALID_CLAIM,
                                   f"the JWS 'crit' must list exactly {', '.join(CRITICAL_CLAIMS)}")
        iat = header[IAT_CLAIM]
        if isinstance(iat, bool) or not isinstance(iat, int):
            raise _signature_error(ErrorCode.SIGNATURE_INVALID_CLAIM, f"'{IAT_CLAIM}' must be a JSON number (seconds)")
        now = self._clock()
        if iat > now + self.max_clock_skew_seconds:
            raise _signature_error(ErrorCode.SIGNATURE_INVALID_CLAIM, f"'{IAT_CLAIM}' is in the future")
        if iat < now - self.max_age_seconds:
            raise _signature_error(ErrorCode.SIGNATURE_INVALID_CLAIM,
                                   f"'{IAT_CLAIM}' is more than {self.max_age_seconds} seconds old: sign each request "
                                   "when it is sent")
        iss = header[ISS_CLAIM]
        organisation, _, statement = iss.partition("/") if isinstance(iss, str) else ("", "", "")
        if organisation != tpp_id or not _SOFTWARE_STATEMENT.fullmatch(statement):
            raise _signature_error(ErrorCode.SIGNATURE_INVALID_CLAIM,
                                   f"'{ISS_CLAIM}' must name the calling TPP and its software statement "
                                   f"('{tpp_id}/<software statement id>')")
        if header[TAN_CLAIM] != self.trust_anchor:
            raise _signature_error(ErrorCode.SIGNATURE_INVALID_CLAIM, f"'{TAN_CLAIM}' must be '{self.trust_anchor}'")


K = TypeVar("K", bound=SigningKey)


class DetachedJwsSigner(Generic[K]):
    """Signs payloads with the ASPSP's private key (in memory or in KMS) as OBIE detached JWS (PS256)."""

    def __init__(self, key: K, kid: str, issuer: str, *, trust_anchor: str = OB_TRUST_ANCHOR,
                 clock: Callable[[], float] = time.time) -> None:
        if not key.is_private:
            raise ValueError("the signing key must be a private RSA key")
        self.key = key
        self.kid = kid
        self.issuer = issuer
        self.trust_anchor = trust_anchor
        self._clock = clock

    def protected_header(self) -> dict[str, Any]:
        return {"alg": ALGORITHM, "kid": self.kid, "typ": "JOSE", "cty": "application/json",
                IAT_CLAIM: int(self._clock()), ISS_CLAIM: self.issuer, TAN_CLAIM: self.trust_anchor,
                "crit": list(CRITICAL_CLAIMS)}

    def sign(self, payload: bytes) -> str:
        return jws.detach_content(sign_compact(self.key, self.protected_header(), payload))

    def public_jwks(self) -> dict[str, Any]:
        """The JWKS a TPP verifies our signatures with (published in the directory)."""
        return {"keys": [public_jwk(self.key, self.kid)]}


def load_signer(settings: ServiceSettings) -> DetachedJwsSigner[SigningKey]:
    """The ASPSP's response signer: the key of `OB_SIGNING_KEY_PATH` (see :func:`load_signing_key`), its
    `OB_SIGNING_KEY_ID`, and the ASPSP's organisation id as `iss`."""
    return DetachedJwsSigner(load_signing_key(settings), settings.signing_key_id, settings.financial_id)


def key_resolver_from_settings(settings: ServiceSettings) -> KeyResolver:
    """TPP keys from the Open Banking Directory: `OB_TPP_JWKS_URL_TEMPLATE` (with `{tpp_id}`)."""
    if not settings.tpp_jwks_url_template:
        raise ValueError("OB_TPP_JWKS_URL_TEMPLATE must be set to verify request signatures "
                         "(or pass key_resolver to build_app)")
    return JwksKeyResolver(settings.tpp_jwks_url_template)


class SignedResponseMiddleware:
    """Adds `x-jws-signature` over the exact body bytes to every JSON response (pure ASGI, buffers one body)."""

    def __init__(self, app: ASGIApp, signer: DetachedJwsSigner, exempt_paths: Iterable[str] = ("/health",)) -> None:
        self.app = app
        self.signer = signer
        self.exempt_paths = tuple(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(self.exempt_paths):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if content_type.split(b";")[0].strip().lower() != b"application/json":
                    await send(message)
                    return
                start = message
                return
            if message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != JWS_HEADER.encode()]
                if body:
                    headers.append((JWS_HEADER.encode(), self.signer.sign(body).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, buffered)
