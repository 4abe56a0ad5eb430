"""A small certificate authority: client certificates whose AIA and CRL distribution point name an OCSP responder
and a CRL this CA answers itself, so revocation works end to end on a laptop and in the tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey
#: What the CA signs with (an EC key it made itself, or the deployed sandbox's key from Secrets Manager).
CaKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
#: The public keys a client certificate may certify: EC P-256/P-384, or RSA of 2048 bits or more.
ClientPublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class CsrRefused(ValueError):
    """The certificate signing request cannot be certified; the message says why."""


def client_public_key(csr: x509.CertificateSigningRequest) -> ClientPublicKey:
    """The CSR's public key, if its signature proves possession of the private key and the key is strong enough."""
    if not csr.is_signature_valid:
        raise CsrRefused("the CSR's signature does not verify: it must be signed with the private key it certifies")
    key = csr.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in ("secp256r1", "secp384r1"):
        return key
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return key
    raise CsrRefused("the CSR's key must be EC P-256 or P-384, or RSA of at least 2048 bits")


def new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Issued:
    key: PrivateKey
    certificate: x509.Certificate

    @property
    def serial(self) -> int:
        return self.certificate.serial_number


@dataclass
class CertificateAuthority:
    """A self-signed CA; `revoked` maps serial numbers to revocation times (the CRL and OCSP answers read it)."""

    key: CaKey
    certificate: x509.Certificate
    ocsp_url: str | None = None
    crl_url: str | None = None
    revoked: dict[int, datetime] = field(default_factory=dict)

    @classmethod
    def create(cls, common_name: str, *, ocsp_url: str | None = None, crl_url: str | None = None,
               now: datetime | None = None, days: int = 3650) -> CertificateAuthority:
        now = now or datetime.now(UTC)
        key = new_key()
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OpenBanking Sandbox"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        public = key.public_key()
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256()))
        return cls(key, certificate, ocsp_url, crl_url)

    def issue_client(self, tpp_id: str, client_id: str, *, now: datetime | None = None, days: int = 365,
                     key: PrivateKey | None = None) -> Issued:
        """An OB-style transport certificate and its new key (see :meth:`certify`)."""
        key = key or new_key()
        return Issued(key, self.certify(key.public_key(), tpp_id, client_id, now=now, days=days))

    def certify(self, public_key: ClientPublicKey, tpp_id: str, client_id: str, *, now: datetime | None = None,
                days: int = 365) -> x509.Certificate:
        """An OB-style transport certificate for `public_key`: `O=OpenBanking, OU=<tpp id>, CN=<client id>`,
        clientAuth, naming this CA's OCSP responder and CRL."""
        now = now or datetime.now(UTC)
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OpenBanking"),
                             x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, tpp_id),
                             x509.NameAttribute(NameOID.COMMON_NAME, client_id)])
        builder = self._leaf(subject, public_key, now, days).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        access = []
        if self.ocsp_url:
            access.append(x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                                 x509.UniformResourceIdentifier(self.ocsp_url)))
        if access:
            builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
        if self.crl_url:
            builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(self.crl_url)], None, None, None)]), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def issue_ocsp_responder(self, *, now: datetime | None = None, days: int = 30) -> Issued:
        """A delegated OCSP responder certificate (id-kp-OCSPSigning)."""
        now = now or datetime.now(UTC)
        key = new_key()
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OpenBanking Sandbox"),
                             x509.NameAttribute(NameOID.COMMON_NAME, "OCSP responder")])
        builder = self._leaf(subject, key.public_key(), now, days).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        return Issued(key, builder.sign(self.key, hashes.SHA256()))

    def _leaf(self, subject: x509.Name, public: ClientPublicKey, now: datetime, days: int) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(self.certificate.subject)
                .public_key(public).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False))

    def revoke(self, serial: int, at: datetime | None = None) -> None:
        self.revoked[serial] = at or datetime.now(UTC)

    def crl(self, *, now: datetime | None = None, validity: timedelta = timedelta(hours=4),
            revoked: Mapping[int, datetime] | None = None) -> x509.CertificateRevocationList:
        """The CRL of `revoked` (serial -> when; default: this object's `revoked`)."""
        now = now or datetime.now(UTC)
        revoked = self.revoked if revoked is None else revoked
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.certificate.subject)
                   .last_update(now - timedelta(seconds=1)).next_update(now + validity)
                   .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False))
        for serial, when in sorted(revoked.items()):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
        return builder.sign(self.key, hashes.SHA256())

    def ocsp_response(self, request_der: bytes, *, now: datetime | None = None,
                      validity: timedelta = timedelta(minutes=10), signer: Issued | None = None,
                      revoked: Mapping[int, datetime] | None = None) -> bytes:
        """The DER OCSP response to a DER request (the nonce echoed); `signer` is a delegated responder; `revoked`
        as for :meth:`crl`."""
        now = now or datetime.now(UTC)
        revoked = self.revoked if revoked is None else revoked
        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
                serialization.Encoding.DER)
        mine = ocsp.OCSPRequestBuilder().add_certificate(self.certificate, self.certificate, request.hash_algorithm) \
            .build()
        if request.issuer_key_hash != mine.issuer_key_hash or request.issuer_name_hash != mine.issuer_name_hash:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
                serialization.Encoding.DER)
        revoked_at = revoked.get(request.serial_number)
        status = ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            request.issuer_name_hash, request.issuer_key_hash, request.serial_number, request.hash_algorithm, status,
            now - timedelta(seconds=1), now + validity, revoked_at, x509.ReasonFlags.key_compromise if revoked_at else None)
        responder = signer.certificate if signer else self.certificate
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder)
        if signer:
            builder = builder.certificates([signer.certificate])
        try:
            nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value
            builder = builder.add_extension(nonce, critical=False)
        except x509.ExtensionNotFound:
            pass
        return builder.sign(signer.key if signer else self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
