"""X.509 client certificates: parsing (PEM or DER), the RFC 8705 `x5t#S256` thumbprint, the issuer chain up to
a configured truststore, and the facts the revocation check needs (OCSP and CRL locations).

API Gateway's mTLS truststore already anchors the TLS handshake; the authorizer still needs the issuing CA
certificate to build and verify OCSP requests and CRLs, and the local sandbox (no API Gateway in front) needs
the whole chain check, so both live here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, ExtensionOID, NameOID

_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)
_PEM_TEXT = re.compile(r"-----BEGIN CERTIFICATE-----(?P<body>.*?)-----END CERTIFICATE-----", re.DOTALL)
#: The longest header value a certificate is read from (a 4096-bit RSA certificate is under 3 KiB of PEM).
MAX_HEADER_CERTIFICATE_CHARS = 16384
#: An ETSI EN 319 412-1 organisation identifier (`PSDGB-FCA-123456`, `PSDGB-OB-0015800001041REAAY`).
_PSD2_ORG_ID = re.compile(r"^PSD[A-Z]{2}-[A-Z]{2,8}-(?P<id>.+)$")
_MAX_CHAIN_DEPTH = 6


class CertificateError(ValueError):
    """A certificate that cannot be used: unparsable, expired, untrusted or unfit for client authentication."""


def load_certificate(data: bytes | str) -> x509.Certificate:
    """One certificate, PEM (the first block) or DER."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    try:
        if b"-----BEGIN" in raw:
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except ValueError as exc:
        raise CertificateError(f"the client certificate is not a valid PEM or DER X.509 certificate: {exc}") from exc


def certificate_from_header(value: str) -> x509.Certificate:
    """The client certificate a TLS-terminating front end put in a request header, in any of the forms they write:
    the PEM URL-encoded (ALB mTLS pass-through, the local sandbox), the PEM as API Gateway's parameter mapping copies
    `$context.identity.clientCert.clientCertPem` (its line breaks kept, folded into spaces or dropped), or the bare
    base64 DER. Whitespace inside the base64 body is ignored, so no line-break handling on the way can break it."""
    if len(value) > MAX_HEADER_CERTIFICATE_CHARS:
        raise CertificateError(f"the client certificate header is {len(value)} characters; at most "
                               f"{MAX_HEADER_CERTIFICATE_CHARS} are read")
    text = unquote(value)  # base64 and PEM armour hold no '%': an unencoded value passes unchanged
    block = _PEM_TEXT.search(text)
    body = re.sub(r"\s+", "", block.group("body") if block else text)
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise CertificateError("the client certificate header holds neither a PEM certificate nor base64 DER") from None
    return load_certificate(der)


def load_certificates(data: bytes | str) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle (a truststore file); a single DER certificate is accepted too."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    if b"-----BEGIN" not in raw:
        return [load_certificate(raw)]
    blocks = _PEM_BLOCK.findall(raw)
    if not blocks:
        raise CertificateError("the PEM bundle contains no CERTIFICATE block")
    return [load_certificate(block) for block in blocks]


def thumbprint_s256(certificate: x509.Certificate) -> str:
    """RFC 8705 `x5t#S256`: base64url (no padding) of the SHA-256 of the DER certificate."""
    digest = hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _extension(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> x509.ExtensionType | None:
    try:
        return certificate.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def ocsp_urls(certificate: x509.Certificate) -> list[str]:
    """The OCSP responders named in the Authority Information Access extension (http/https only)."""
    aia = _extension(certificate, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    if not isinstance(aia, x509.AuthorityInformationAccess):
        return []
    return [d.access_location.value for d in aia
            if d.access_method == AuthorityInformationAccessOID.OCSP
            and isinstance(d.access_location, x509.UniformResourceIdentifier) and _is_http(d.access_location.value)]


def crl_urls(certificate: x509.Certificate) -> list[str]:
    """The CRL distribution points (full names, http/https only) of the certificate."""
    points = _extension(certificate, ExtensionOID.CRL_DISTRIBUTION_POINTS)
    if not isinstance(points, x509.CRLDistributionPoints):
        return []
    return [name.value for point in points for name in (point.full_name or [])
            if isinstance(name, x509.UniformResourceIdentifier) and _is_http(name.value)]


def _is_http(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def has_extended_key_usage(certificate: x509.Certificate, usage: x509.ObjectIdentifier) -> bool:
    eku = _extension(certificate, ExtensionOID.EXTENDED_KEY_USAGE)
    return isinstance(eku, x509.ExtendedKeyUsage) and usage in eku


def tpp_id_of(certificate: x509.Certificate) -> str | None:
    """The TPP's organisation id from the subject: the ETSI `organizationIdentifier` (OBWAC/eIDAS, e.g.
    `PSDGB-OB-0015800001041REAAY` -> `0015800001041REAAY`), else the OU of the OB legacy transport certificates
    (`O=OpenBanking, OU=<org id>, CN=<software id>`)."""
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER):
        value = str(attribute.value).strip()
        match = _PSD2_ORG_ID.match(value)
        return match.group("id") if match else value
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME):
        return str(attribute.value).strip() or None
    return None


def _describe(certificate: x509.Certificate) -> str:
    return f"'{certificate.subject.rfc4514_string()}' (serial {certificate.serial_number:x})"


def check_validity(certificate: x509.Certificate, at: datetime) -> None:
    if at < certificate.not_valid_before_utc:
        raise CertificateError(f"certificate {_describe(certificate)} is not valid before "
                               f"{certificate.not_valid_before_utc.isoformat()}")
    if at > certificate.not_valid_after_utc:
        raise CertificateError(f"certificate {_describe(certificate)} expired at "
                               f"{certificate.not_valid_after_utc.isoformat()}")


def _is_ca(certificate: x509.Certificate) -> bool:
    constraints = _extension(certificate, ExtensionOID.BASIC_CONSTRAINTS)
    return isinstance(constraints, x509.BasicConstraints) and constraints.ca


def is_issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """The issuer's subject is the certificate's issuer and its key verifies the certificate's signature."""
    if certificate.issuer != issuer.subject:
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True)
class Truststore:
    """The CA certificates client certificates must chain to (roots and intermediates), as in the API Gateway
    mTLS truststore bundle. Only self-signed CAs in it are trust anchors; intermediates must chain to one."""

    certificates: tuple[x509.Certificate, ...]

    @classmethod
    def from_pem(cls, data: bytes | str) -> Truststore:
        certificates = tuple(load_certificates(data))
        for certificate in certificates:
            if not _is_ca(certificate):
                raise CertificateError(f"truststore entry {_describe(certificate)} is not a CA certificate")
        return cls(certificates)

    def issuer_of(self, certificate: x509.Certificate, extra: Iterable[x509.Certificate] = ()) -> x509.Certificate | None:
        """The CA (from the truststore, or `extra` intermediates the client sent) that signed `certificate`."""
        for candidate in (*self.certificates, *extra):
            if _is_ca(candidate) and is_issued_by(certificate, candidate):
                return candidate
        return None

    def chain(self, certificate: x509.Certificate, at: datetime,
              intermediates: Sequence[x509.Certificate] = ()) -> list[x509.Certificate]:
        """[leaf, issuer, ..., anchor]: every link signed by the next, every certificate valid `at`, every issuer a
        CA, ending at a self-signed certificate of this truststore. Raises :class:`CertificateError` otherwise."""
        check_validity(certificate, at)
        chain = [certificate]
        current = certificate
        for _ in range(_MAX_CHAIN_DEPTH):
            if current is not certificate and current in self.certificates and is_issued_by(current, current):
                return chain
            issuer = self.issuer_of(current, intermediates)
            if issuer is None:
                raise CertificateError(f"certificate {_describe(current)} is not issued by a CA of the truststore")
            if issuer == current:
                raise CertificateError(f"certificate {_describe(current)} is self-signed and not a trust anchor")
            check_validity(issuer, at)
            chain.append(issuer)
            current = issuer
        raise CertificateError(f"the chain of {_describe(certificate)} is longer than {_MAX_CHAIN_DEPTH} certificates")


def check_client_certificate(certificate: x509.Certificate) -> None:
    """A client certificate must not be a CA and, when it restricts its use, must allow TLS client authentication."""
    if _is_ca(certificate):
        raise CertificateError(f"certificate {_describe(certificate)} is a CA certificate, not a client certificate")
    eku = _extension(certificate, ExtensionOID.EXTENDED_KEY_USAGE)
    if isinstance(eku, x509.ExtendedKeyUsage) and ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
        raise CertificateError(f"certificate {_describe(certificate)} does not allow TLS client authentication")
