"""Is a client certificate revoked? OCSP first (RFC 6960), the CRL distribution points as fallback (RFC 5280).

API Gateway's mTLS truststore does no revocation checking, so the authorizer does it (open-banking-api.md,
section 4). The rules, all fail-closed:

- OCSP: a request with a nonce is POSTed to each AIA responder; the response must be signed by the issuing CA or
  by a responder certificate the CA issued with the OCSP-signing EKU, answer for exactly this certificate, echo
  the nonce when it carries one (or always, with `require_nonce`), and be fresh (`thisUpdate` not in the future,
  `nextUpdate` not passed; without `nextUpdate`, no older than the cache bound). `unknown` counts as no answer.
- CRL: fetched from each distribution point, signed by the issuing CA, not a delta CRL, `nextUpdate` not passed.
- A verdict is cached for at most `cache_seconds` (5 minutes by default, never more) and never beyond the
  `nextUpdate` of the response or CRL it came from; failures are not cached.
- When neither source gives a verifiable answer, :class:`RevocationUnavailable` is raised: callers deny.
"""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, SignatureAlgorithmOID

from .certificates import check_validity, crl_urls, has_extended_key_usage, is_issued_by, ocsp_urls

MAX_CACHE_SECONDS = 300
_OCSP_MAX_BYTES = 64 * 1024
_CRL_MAX_BYTES = 16 * 1024 * 1024
_CACHE_MAX_ENTRIES = 10_000

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class RevocationStatus(StrEnum):
    GOOD = "good"
    REVOKED = "revoked"


@dataclass(frozen=True)
class RevocationResult:
    """A verified verdict: `source` is the URL that gave it, `cache_until` when it must be asked again."""

    status: RevocationStatus
    source: str
    checked_at: datetime
    cache_until: datetime
    detail: str = ""

    @property
    def revoked(self) -> bool:
        return self.status is RevocationStatus.REVOKED


class RevocationUnavailable(Exception):
    """No OCSP responder or CRL gave a verifiable answer: the certificate must be refused (fail closed)."""

    def __init__(self, serial: int, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(f"revocation status of certificate serial {serial:x} could not be established: "
                         + ("; ".join(reasons) or "it names no OCSP responder and no CRL distribution point"))


class _Unusable(Exception):
    """One source (responder or CRL) failed; the next one is tried."""


@dataclass(frozen=True)
class _CachedCrl:
    crl: x509.CertificateRevocationList
    cache_until: datetime


class RevocationChecker:
    """Checks certificates against OCSP and CRLs, with a bounded in-memory cache shared across calls (a Lambda
    container keeps it between invocations). Thread-safe; `clock` is injectable for tests."""

    def __init__(self, http: httpx.Client, *, clock: Clock = utc_now, cache_seconds: int = MAX_CACHE_SECONDS,
                 clock_skew_seconds: int = 60, require_nonce: bool = False) -> None:
        if not 0 <= cache_seconds <= MAX_CACHE_SECONDS:
            raise ValueError(f"cache_seconds must be between 0 and {MAX_CACHE_SECONDS}, got {cache_seconds}")
        self._http = http
        self._clock = clock
        self._cache_for = timedelta(seconds=cache_seconds)
        self._skew = timedelta(seconds=clock_skew_seconds)
        self._require_nonce = require_nonce
        self._lock = threading.Lock()
        self._results: dict[tuple[bytes, int], RevocationResult] = {}
        self._crls: dict[str, _CachedCrl] = {}

    def check(self, certificate: x509.Certificate, issuer: x509.Certificate) -> RevocationResult:
        """The certificate's status; raises :class:`RevocationUnavailable` when it cannot be established."""
        now = self._clock()
        key = (issuer.public_bytes(Encoding.DER), certificate.serial_number)
        with self._lock:
            cached = self._results.get(key)
        if cached is not None and now < cached.cache_until:
            return cached
        reasons: list[str] = []
        result: RevocationResult | None = None
        for url in ocsp_urls(certificate):
            try:
                result = self._ask_ocsp(certificate, issuer, url, now)
                break
            except _Unusable as exc:
                reasons.append(f"OCSP {url}: {exc}")
        if result is None:
            for url in crl_urls(certificate):
                try:
                    result = self._consult_crl(certificate, issuer, url, now)
                    break
                except _Unusable as exc:
                    reasons.append(f"CRL {url}: {exc}")
        if result is None:
            raise RevocationUnavailable(certificate.serial_number, reasons)
        if result.cache_until > now:
            with self._lock:
                self._store(self._results, key, result, now)
        return result

    def _cache_until(self, now: datetime, next_update: datetime | None) -> datetime:
        bound = now + self._cache_for
        return min(bound, next_update) if next_update is not None else bound

    @staticmethod
    def _store(cache: dict, key: object, value: RevocationResult | _CachedCrl, now: datetime) -> None:
        if len(cache) >= _CACHE_MAX_ENTRIES:
            for stale in [k for k, v in cache.items() if v.cache_until <= now]:
                del cache[stale]
            while len(cache) >= _CACHE_MAX_ENTRIES:
                del cache[next(iter(cache))]
        cache[key] = value

    # --- OCSP -------------------------------------------------------------------------------------------------

    def _ask_ocsp(self, certificate: x509.Certificate, issuer: x509.Certificate, url: str,
                  now: datetime) -> RevocationResult:
        nonce = os.urandom(16)
        request = (ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA1())
                   .add_extension(x509.OCSPNonce(nonce), critical=False).build())
        body = self._fetch("POST", url, request.public_bytes(Encoding.DER), _OCSP_MAX_BYTES,
                           {"content-type": "application/ocsp-request", "accept": "application/ocsp-response"})
        try:
            response = ocsp.load_der_ocsp_response(body)
        except ValueError as exc:
            raise _Unusable(f"the answer is not an OCSP response ({exc})") from exc
        if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise _Unusable(f"the responder answered '{response.response_status.name}'")
        signer = self._ocsp_signer(response, issuer, now)
        if not _signature_valid(signer.public_key(), response.signature, response.tbs_response_bytes,
                                response.signature_algorithm_oid, lambda: response.signature_hash_algorithm):
            raise _Unusable("the response signature does not verify")
        self._check_nonce(response, nonce)
        single = _matching_single_response(response, certificate, issuer)
        this_update, next_update = single.this_update_utc, single.next_update_utc
        if this_update > now + self._skew:
            raise _Unusable(f"thisUpdate {this_update.isoformat()} is in the future")
        if next_update is not None and now > next_update + self._skew:
            raise _Unusable(f"the response expired at {next_update.isoformat()} (nextUpdate)")
        if next_update is None and this_update < now - self._cache_for - self._skew:
            raise _Unusable(f"the response has no nextUpdate and thisUpdate {this_update.isoformat()} is stale")
        status = single.certificate_status
        if status is ocsp.OCSPCertStatus.UNKNOWN:
            raise _Unusable("the responder does not know the certificate")
        if status is ocsp.OCSPCertStatus.REVOKED:
            when = single.revocation_time_utc
            reason = single.revocation_reason
            detail = f"revoked at {when.isoformat() if when else '?'}" + (f" ({reason.value})" if reason else "")
            return RevocationResult(RevocationStatus.REVOKED, url, now, self._cache_until(now, next_update), detail)
        return RevocationResult(RevocationStatus.GOOD, url, now, self._cache_until(now, next_update))

    @staticmethod
    def _ocsp_signer(response: ocsp.OCSPResponse, issuer: x509.Certificate, now: datetime) -> x509.Certificate:
        """The issuing CA itself, or a delegated responder certificate it issued with the OCSP-signing EKU."""

        def is_responder(candidate: x509.Certificate) -> bool:
            if response.responder_name is not None:
                return candidate.subject == response.responder_name
            key_id = x509.SubjectKeyIdentifier.from_public_key(candidate.public_key()).digest
            return response.responder_key_hash is not None and hmac.compare_digest(key_id, response.responder_key_hash)

        if is_responder(issuer):
            return issuer
        for candidate in response.certificates:
            if not is_responder(candidate):
                continue
            if not is_issued_by(candidate, issuer):
                raise _Unusable("the delegated responder certificate is not issued by the certificate's issuer")
            if not has_extended_key_usage(candidate, ExtendedKeyUsageOID.OCSP_SIGNING):
                raise _Unusable("the delegated responder certificate lacks the OCSP-signing extended key usage")
            try:
                check_validity(candidate, now)
            except ValueError as exc:
                raise _Unusable(f"the delegated responder certificate is not valid: {exc}") from exc
            return candidate
        raise _Unusable("the response is signed neither by the issuer nor by a delegated responder it issued")

    def _check_nonce(self, response: ocsp.OCSPResponse, nonce: bytes) -> None:
        try:
            echoed = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            if self._require_nonce:
                raise _Unusable("the response does not echo the request nonce") from None
            return
        if not hmac.compare_digest(echoed, nonce):
            raise _Unusable("the response nonce does not match the request nonce (replayed response?)")

    # --- CRL --------------------------------------------------------------------------------------------------

    def _consult_crl(self, certificate: x509.Certificate, issuer: x509.Certificate, url: str,
                     now: datetime) -> RevocationResult:
        crl = self._crl(url, issuer, now)
        cache_until = self._cache_until(now, crl.next_update_utc)
        entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if entry is None:
            return RevocationResult(RevocationStatus.GOOD, url, now, cache_until)
        return RevocationResult(RevocationStatus.REVOKED, url, now, cache_until,
                                f"revoked at {entry.revocation_date_utc.isoformat()} (CRL)")

    def _crl(self, url: str, issuer: x509.Certificate, now: datetime) -> x509.CertificateRevocationList:
        """The CRL at `url`, verified; a verified CRL is reused until its cache bound (<= 5 min, <= nextUpdate)."""
        with self._lock:
            cached = self._crls.get(url)
        if cached is not None and now < cached.cache_until and cached.crl.issuer == issuer.subject:
            return cached.crl
        data = self._fetch("GET", url, None, _CRL_MAX_BYTES, {"accept": "application/pkix-crl"})
        try:
            crl = (x509.load_pem_x509_crl(data) if data.lstrip().startswith(b"-----BEGIN")
                   else x509.load_der_x509_crl(data))
        except ValueError as exc:
            raise _Unusable(f"the answer is not a CRL ({exc})") from exc
        if crl.issuer != issuer.subject:
            raise _Unusable("the CRL is not issued by the certificate's issuer (indirect CRLs are not supported)")
        usage = _key_usage(issuer)
        if usage is not None and not usage.crl_sign:
            raise _Unusable("the issuer's key usage does not allow signing CRLs")
        try:
            valid = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
        except (TypeError, UnsupportedAlgorithm):
            valid = False
        if not valid:
            raise _Unusable("the CRL signature does not verify with the issuer's key")
        if any(extension.oid == ExtensionOID.DELTA_CRL_INDICATOR for extension in crl.extensions):
            raise _Unusable("a delta CRL is not a complete revocation list")
        next_update = crl.next_update_utc
        if crl.last_update_utc > now + self._skew:
            raise _Unusable(f"thisUpdate {crl.last_update_utc.isoformat()} is in the future")
        if next_update is None or now > next_update + self._skew:
            raise _Unusable("the CRL is out of date (nextUpdate passed or missing)")
        cache_until = self._cache_until(now, next_update)
        if cache_until > now:
            with self._lock:
                self._store(self._crls, url, _CachedCrl(crl, cache_until), now)
        return crl

    # --- transport --------------------------------------------------------------------------------------------

    def _fetch(self, method: str, url: str, content: bytes | None, limit: int, headers: dict[str, str]) -> bytes:
        try:
            with self._http.stream(method, url, content=content, headers=headers) as response:
                if response.status_code != 200:
                    raise _Unusable(f"HTTP {response.status_code}")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise _Unusable(f"the answer is larger than {limit} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise _Unusable(f"{type(exc).__name__}: {exc}") from exc


def _key_usage(certificate: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def _matching_single_response(response: ocsp.OCSPResponse, certificate: x509.Certificate,
                              issuer: x509.Certificate) -> ocsp.OCSPSingleResponse:
    """The single response about exactly this certificate (serial and issuer name/key hashes)."""
    for single in response.responses:
        if single.serial_number != certificate.serial_number:
            continue
        try:
            expected = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, single.hash_algorithm).build()
        except (ValueError, UnsupportedAlgorithm):
            continue
        if (hmac.compare_digest(single.issuer_key_hash, expected.issuer_key_hash)
                and hmac.compare_digest(single.issuer_name_hash, expected.issuer_name_hash)):
            return single
    raise _Unusable("the response does not answer for this certificate")


def _signature_valid(public_key: object, signature: bytes, data: bytes, algorithm: x509.ObjectIdentifier,
                     hash_algorithm: Callable[[], hashes.HashAlgorithm | None]) -> bool:
    """Verify a signature made with the algorithm `algorithm` names (RSA PKCS#1 v1.5 or PSS, ECDSA, EdDSA)."""
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            public_key.verify(signature, data)
            return True
        digest = hash_algorithm()
        if digest is None:
            return False
        if isinstance(public_key, rsa.RSAPublicKey):
            pad: padding.AsymmetricPadding = (
                padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.AUTO)
                if algorithm == SignatureAlgorithmOID.RSASSA_PSS else padding.PKCS1v15())
            public_key.verify(signature, data, pad, digest)
            return True
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(digest))
            return True
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return False
