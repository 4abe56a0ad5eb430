"""Parsing, thumbprints, organisation ids and the chain to the truststore."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from openbanking.sandbox.pki import CertificateAuthority, cert_pem, new_key
from openbanking.security.certificates import (
    CertificateError,
    Truststore,
    certificate_from_header,
    check_client_certificate,
    crl_urls,
    load_certificate,
    load_certificates,
    ocsp_urls,
    thumbprint_s256,
    tpp_id_of,
)

from .support import TPP_ID, Pki


def test_pem_and_der_parse_to_the_same_certificate(pki: Pki) -> None:
    der = pki.good.certificate.public_bytes(serialization.Encoding.DER)
    assert load_certificate(der) == load_certificate(cert_pem(pki.good.certificate).decode()) == pki.good.certificate


def test_a_header_certificate_is_read_in_every_form_a_front_end_writes_it(pki: Pki) -> None:
    pem = cert_pem(pki.good.certificate).decode()
    der = pki.good.certificate.public_bytes(serialization.Encoding.DER)
    forms = {
        "URL-encoded PEM (ALB, the local sandbox)": quote(pem, safe=""),
        "the PEM as API Gateway copies clientCertPem": pem,
        "its line breaks folded into spaces": pem.replace("\n", " "),
        "its line breaks dropped": pem.replace("\n", ""),
        "bare base64 DER": base64.b64encode(der).decode(),
    }
    for form, value in forms.items():
        assert certificate_from_header(value) == pki.good.certificate, form


def test_a_header_that_holds_no_certificate_is_refused_by_name() -> None:
    with pytest.raises(CertificateError, match="neither a PEM certificate nor base64 DER"):
        certificate_from_header("-----BEGIN CERTIFICATE-----not base64!-----END CERTIFICATE-----")
    with pytest.raises(CertificateError, match="not a valid PEM or DER"):
        certificate_from_header(base64.b64encode(b"not a certificate").decode())
    with pytest.raises(CertificateError, match="at most 16384 are read"):
        certificate_from_header("A" * 20000)


def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(CertificateError, match="not a valid PEM or DER"):
        load_certificate(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(CertificateError, match="not a valid PEM or DER"):
        load_certificate(b"\x30\x03\x02\x01\x01")


def test_thumbprint_is_base64url_sha256_of_der_without_padding(pki: Pki) -> None:
    der = pki.good.certificate.public_bytes(serialization.Encoding.DER)
    expected = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")
    thumbprint = thumbprint_s256(pki.good.certificate)
    assert thumbprint == expected and len(thumbprint) == 43 and "=" not in thumbprint


def test_revocation_locations_and_tpp_id(pki: Pki) -> None:
    assert ocsp_urls(pki.good.certificate) == [f"{pki.server.base}/ocsp"]
    assert crl_urls(pki.good.certificate) == [f"{pki.server.base}/crl"]
    assert tpp_id_of(pki.good.certificate) == TPP_ID


def test_organization_identifier_wins_over_ou() -> None:
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "PSDGB-OB-0015800001ZEZ1AAK"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "ignored"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "software")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    assert tpp_id_of(certificate) == "0015800001ZEZ1AAK"


def test_chain_reaches_the_anchor(pki: Pki) -> None:
    store = Truststore.from_pem(pki.truststore_pem)
    assert store.chain(pki.good.certificate, datetime.now(UTC)) == [pki.good.certificate, pki.ca.certificate]


def test_chain_through_an_intermediate() -> None:
    root = CertificateAuthority.create("Root")
    # an intermediate CA signed by the root
    intermediate = CertificateAuthority.create("Intermediate")
    public = intermediate.key.public_key()
    now = datetime.now(UTC)
    intermediate.certificate = (
        x509.CertificateBuilder().subject_name(intermediate.certificate.subject).issuer_name(root.certificate.subject)
        .public_key(public).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(root.key, hashes.SHA256()))
    leaf = intermediate.issue_client("tpp", "client")
    store = Truststore.from_pem(cert_pem(root.certificate) + cert_pem(intermediate.certificate))
    assert store.chain(leaf.certificate, now) == [leaf.certificate, intermediate.certificate, root.certificate]
    only_root = Truststore.from_pem(cert_pem(root.certificate))
    assert len(only_root.chain(leaf.certificate, now, [intermediate.certificate])) == 3
    with pytest.raises(CertificateError, match="not issued by a CA of the truststore"):
        only_root.chain(leaf.certificate, now)


def test_untrusted_and_expired_certificates_are_refused(pki: Pki) -> None:
    store = Truststore.from_pem(pki.truststore_pem)
    with pytest.raises(CertificateError, match="not issued by a CA of the truststore"):
        store.chain(pki.stranger.certificate, datetime.now(UTC))
    with pytest.raises(CertificateError, match="expired"):
        store.chain(pki.good.certificate, datetime.now(UTC) + timedelta(days=400))


def test_truststore_must_hold_cas_only(pki: Pki) -> None:
    with pytest.raises(CertificateError, match="not a CA certificate"):
        Truststore.from_pem(cert_pem(pki.good.certificate))
    assert len(load_certificates(pki.truststore_pem + cert_pem(pki.good.certificate))) == 2


def test_client_certificate_rules(pki: Pki) -> None:
    check_client_certificate(pki.good.certificate)
    with pytest.raises(CertificateError, match="is a CA certificate"):
        check_client_certificate(pki.ca.certificate)
    with pytest.raises(CertificateError, match="does not allow TLS client authentication"):
        check_client_certificate(pki.ca.issue_ocsp_responder().certificate)
