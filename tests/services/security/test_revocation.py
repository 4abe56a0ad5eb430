"""OCSP with CRL fallback over real HTTP, fail closed, cache bounded by 5 minutes and nextUpdate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from openbanking.sandbox.pki import CertificateAuthority
from openbanking.security.revocation import RevocationChecker, RevocationStatus, RevocationUnavailable

from .support import Clock, Pki, RevocationServer, closed_port_url


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def checker(http: httpx.Client, clock: Clock) -> RevocationChecker:
    return RevocationChecker(http, clock=clock)


def test_good_certificate_is_good_by_ocsp(pki: Pki, checker: RevocationChecker, revocation_server: RevocationServer) -> None:
    result = checker.check(pki.good.certificate, pki.ca.certificate)
    assert result.status is RevocationStatus.GOOD
    assert result.source.endswith("/ocsp")
    assert revocation_server.responder.hits == {"ocsp": 1, "crl": 0}


def test_revoked_certificate_is_revoked_by_ocsp(pki: Pki, checker: RevocationChecker) -> None:
    result = checker.check(pki.revoked.certificate, pki.ca.certificate)
    assert result.revoked and result.source.endswith("/ocsp")


def test_ocsp_down_falls_back_to_crl(pki: Pki, checker: RevocationChecker, revocation_server: RevocationServer) -> None:
    revocation_server.responder.ocsp = "down"
    revoked = checker.check(pki.revoked.certificate, pki.ca.certificate)
    good = checker.check(pki.good.certificate, pki.ca.certificate)
    assert revoked.revoked and revoked.source.endswith("/crl")
    assert good.status is RevocationStatus.GOOD and good.source.endswith("/crl")
    assert revocation_server.responder.hits["crl"] == 1, "the verified CRL is reused for the second certificate"


def test_both_down_fails_closed(pki: Pki, checker: RevocationChecker, revocation_server: RevocationServer) -> None:
    revocation_server.responder.ocsp = revocation_server.responder.crl = "down"
    with pytest.raises(RevocationUnavailable, match="HTTP 503"):
        checker.check(pki.good.certificate, pki.ca.certificate)


def test_unreachable_responder_falls_back_then_fails_closed(http: httpx.Client, clock: Clock) -> None:
    ca = CertificateAuthority.create("Dead CA", ocsp_url=closed_port_url("/ocsp"), crl_url=closed_port_url("/crl"))
    leaf = ca.issue_client("tpp", "client")
    with pytest.raises(RevocationUnavailable) as caught:
        RevocationChecker(http, clock=clock).check(leaf.certificate, ca.certificate)
    assert [r.split(" ")[0] for r in caught.value.reasons] == ["OCSP", "CRL"]


def test_certificate_without_revocation_information_fails_closed(http: httpx.Client, clock: Clock) -> None:
    ca = CertificateAuthority.create("Silent CA")
    leaf = ca.issue_client("tpp", "client")
    with pytest.raises(RevocationUnavailable, match="names no OCSP responder"):
        RevocationChecker(http, clock=clock).check(leaf.certificate, ca.certificate)


def test_result_is_cached_at_most_five_minutes(pki: Pki, checker: RevocationChecker, clock: Clock,
                                               revocation_server: RevocationServer) -> None:
    checker.check(pki.good.certificate, pki.ca.certificate)
    clock.advance(299)
    checker.check(pki.good.certificate, pki.ca.certificate)
    assert revocation_server.responder.hits["ocsp"] == 1
    pki.ca.revoke(pki.other.serial)  # revoked meanwhile: visible once the cache entry ends
    try:
        checker.check(pki.other.certificate, pki.ca.certificate)
        clock.advance(2)
        assert checker.check(pki.good.certificate, pki.ca.certificate).status is RevocationStatus.GOOD
        assert revocation_server.responder.hits["ocsp"] == 3, "the 5-minute bound expired: asked again"
    finally:
        del pki.ca.revoked[pki.other.serial]


def test_cache_never_outlives_next_update(pki: Pki, checker: RevocationChecker, clock: Clock,
                                          revocation_server: RevocationServer) -> None:
    revocation_server.responder.ocsp_body = lambda req: pki.ca.ocsp_response(req, validity=timedelta(seconds=60))
    first = checker.check(pki.good.certificate, pki.ca.certificate)
    assert first.cache_until <= clock.now + timedelta(seconds=60)
    clock.advance(61)
    checker.check(pki.good.certificate, pki.ca.certificate)
    assert revocation_server.responder.hits["ocsp"] == 2


def test_revocation_becomes_visible_after_cache_expiry(pki: Pki, checker: RevocationChecker, clock: Clock) -> None:
    leaf = pki.ca.issue_client("tpp", "later-revoked")
    assert checker.check(leaf.certificate, pki.ca.certificate).status is RevocationStatus.GOOD
    pki.ca.revoke(leaf.serial)
    assert checker.check(leaf.certificate, pki.ca.certificate).status is RevocationStatus.GOOD, "cached"
    clock.advance(301)
    assert checker.check(leaf.certificate, pki.ca.certificate).revoked


def test_cache_bound_cannot_exceed_five_minutes(http: httpx.Client) -> None:
    with pytest.raises(ValueError, match="between 0 and 300"):
        RevocationChecker(http, cache_seconds=301)


def test_ocsp_signed_by_another_key_is_not_trusted(pki: Pki, checker: RevocationChecker,
                                                    revocation_server: RevocationServer) -> None:
    impostor = CertificateAuthority.create("Test Issuing CA")  # same name as the real CA, another key

    def forged(request_der: bytes) -> bytes:
        request = ocsp.load_der_ocsp_request(request_der)
        now = datetime.now(UTC)
        return (ocsp.OCSPResponseBuilder()
                .add_response_by_hash(request.issuer_name_hash, request.issuer_key_hash, request.serial_number,
                                      request.hash_algorithm, ocsp.OCSPCertStatus.GOOD, now, now + timedelta(hours=1),
                                      None, None)
                .responder_id(ocsp.OCSPResponderEncoding.NAME, impostor.certificate)
                .add_extension(request.extensions.get_extension_for_class(x509.OCSPNonce).value, critical=False)
                .sign(impostor.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))

    revocation_server.responder.ocsp_body = forged
    revocation_server.responder.crl = "down"
    with pytest.raises(RevocationUnavailable, match="signature does not verify"):
        checker.check(pki.good.certificate, pki.ca.certificate)


def test_delegated_responder_with_ocsp_signing_eku_is_accepted(pki: Pki, checker: RevocationChecker,
                                                                revocation_server: RevocationServer) -> None:
    delegate = pki.ca.issue_ocsp_responder()
    revocation_server.responder.ocsp_body = lambda req: pki.ca.ocsp_response(req, signer=delegate)
    assert checker.check(pki.revoked.certificate, pki.ca.certificate).revoked
    assert revocation_server.responder.hits["crl"] == 0


def test_delegated_responder_without_eku_is_refused(pki: Pki, checker: RevocationChecker,
                                                    revocation_server: RevocationServer) -> None:
    not_a_responder = pki.ca.issue_client("tpp", "not-a-responder")
    revocation_server.responder.ocsp_body = lambda req: pki.ca.ocsp_response(req, signer=not_a_responder)
    revocation_server.responder.crl = "down"
    with pytest.raises(RevocationUnavailable, match="OCSP-signing"):
        checker.check(pki.good.certificate, pki.ca.certificate)


def test_stale_ocsp_response_falls_back_to_crl(pki: Pki, checker: RevocationChecker, clock: Clock,
                                               revocation_server: RevocationServer) -> None:
    past = clock.now - timedelta(days=2)
    revocation_server.responder.ocsp_body = lambda req: pki.ca.ocsp_response(req, now=past)
    result = checker.check(pki.revoked.certificate, pki.ca.certificate)
    assert result.revoked and result.source.endswith("/crl")


def test_replayed_nonce_is_refused(pki: Pki, checker: RevocationChecker, revocation_server: RevocationServer) -> None:
    replay = ocsp.OCSPRequestBuilder().add_certificate(pki.revoked.certificate, pki.ca.certificate, hashes.SHA1()) \
        .add_extension(x509.OCSPNonce(b"n" * 16), critical=False).build().public_bytes(serialization.Encoding.DER)
    recorded = pki.ca.ocsp_response(replay)
    revocation_server.responder.ocsp_body = lambda req: recorded
    revocation_server.responder.crl = "down"
    with pytest.raises(RevocationUnavailable, match="nonce does not match"):
        checker.check(pki.revoked.certificate, pki.ca.certificate)


def test_response_for_another_certificate_is_refused(pki: Pki, checker: RevocationChecker,
                                                     revocation_server: RevocationServer) -> None:
    about_other = ocsp.OCSPRequestBuilder().add_certificate(pki.other.certificate, pki.ca.certificate, hashes.SHA1()) \
        .build().public_bytes(serialization.Encoding.DER)
    revocation_server.responder.ocsp_body = lambda req: pki.ca.ocsp_response(about_other)
    revocation_server.responder.crl = "down"
    with pytest.raises(RevocationUnavailable, match="does not answer for this certificate"):
        checker.check(pki.revoked.certificate, pki.ca.certificate)


def test_crl_signed_by_another_ca_is_refused(pki: Pki, checker: RevocationChecker,
                                             revocation_server: RevocationServer) -> None:
    forger = CertificateAuthority.create("Forger")
    forger.certificate = pki.ca.certificate
    revocation_server.responder.ocsp = "down"
    revocation_server.responder.crl_body = lambda: forger.crl().public_bytes(serialization.Encoding.DER)
    with pytest.raises(RevocationUnavailable, match="CRL signature does not verify"):
        checker.check(pki.good.certificate, pki.ca.certificate)


def test_expired_crl_is_refused(pki: Pki, checker: RevocationChecker, revocation_server: RevocationServer) -> None:
    old = datetime.now(UTC) - timedelta(days=3)
    revocation_server.responder.ocsp = "down"
    revocation_server.responder.crl_body = lambda: pki.ca.crl(now=old, validity=timedelta(hours=4)).public_bytes(
        serialization.Encoding.DER)
    with pytest.raises(RevocationUnavailable, match="out of date"):
        checker.check(pki.good.certificate, pki.ca.certificate)


def test_garbage_answers_fail_closed(pki: Pki, checker: RevocationChecker, revocation_server: RevocationServer) -> None:
    revocation_server.responder.ocsp_body = lambda req: b"<html>proxy error</html>"
    revocation_server.responder.crl_body = lambda: b"not a crl"
    with pytest.raises(RevocationUnavailable) as caught:
        checker.check(pki.good.certificate, pki.ca.certificate)
    assert "not an OCSP response" in str(caught.value) and "not a CRL" in str(caught.value)


def test_failures_are_not_cached(pki: Pki, checker: RevocationChecker, revocation_server: RevocationServer) -> None:
    revocation_server.responder.ocsp = revocation_server.responder.crl = "down"
    with pytest.raises(RevocationUnavailable):
        checker.check(pki.good.certificate, pki.ca.certificate)
    revocation_server.responder.ocsp = "ok"
    assert checker.check(pki.good.certificate, pki.ca.certificate).status is RevocationStatus.GOOD
