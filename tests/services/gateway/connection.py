"""The TLS in front of the gateway, emulated: there is no TLS locally, so a test's connection carries its client
certificate in the ASGI `tls` extension (`client_cert_chain`, leaf first), as a TLS-terminating server puts it there.

- :class:`TppConnection`: the TPP's mutual TLS connection (to API Gateway's custom domain, or to CloudFront);
- :class:`CloudFrontViewerMtls`: the `cloudfront` perimeter: CloudFront ends the TPP's mutual TLS (viewer mTLS, mode
  `required`) and reaches the origin on a connection of its own, forwarding the certificate as `CloudFront-Viewer-Cert-*`
  headers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from openbanking.security.certificates import is_issued_by

from .method_request import ASGIApp, Receive, Scope, Send

#: Where CloudFront's edge reaches the origin from.
_CLOUDFRONT_CLIENT = ("130.176.0.10", 52000)


class TlsHandshakeFailed(ConnectionError):
    """The TLS handshake was refused: the client gets no HTTP response at all."""


def chain_is_trusted(chain: Sequence[str], truststore: Sequence[x509.Certificate]) -> bool:
    """The leaf was issued by a truststore CA, directly or through intermediates the client sent (a self-signed leaf
    is not trusted): the check API Gateway's and CloudFront's mutual TLS make during the handshake."""
    if not chain:
        return False
    presented = [x509.load_pem_x509_certificate(pem.encode()) for pem in chain]
    current, candidates = presented[0], [*truststore, *presented[1:]]
    for _ in range(5):
        issuer = next((ca for ca in candidates if ca != current and is_issued_by(current, ca)), None)
        if issuer is None:
            return False
        if issuer in truststore:
            return True
        current = issuer
    return False


def _with_tls(scope: Scope, chain: Sequence[str]) -> Scope:
    tls = {"server_cert": None, "client_cert_chain": list(chain), "client_cert_name": None,
           "client_cert_error": None, "tls_version": 0x0303, "cipher_suite": 0xC02F}
    return {**scope, "extensions": {**(scope.get("extensions") or {}), "tls": tls}}


class TppConnection:
    """`app` as reached over one TLS connection presenting `chain` (PEM certificates, leaf first; none: no client
    certificate). Give it to a TestClient or to schemathesis as the app."""

    def __init__(self, app: ASGIApp, chain: Sequence[str | bytes] = ()) -> None:
        self.app = app
        self.chain = [c.decode() if isinstance(c, bytes) else c for c in chain]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = _with_tls(scope, self.chain)
        await self.app(scope, receive, send)


class CloudFrontViewerMtls:
    """CloudFront with viewer mutual TLS in front of `origin`. A viewer without a certificate, or with one its trust
    store does not anchor, fails the handshake (:class:`TlsHandshakeFailed`). The origin request carries CloudFront's
    `CloudFront-Viewer-Cert-*` headers and arrives on CloudFront's own connection: with `origin_certificate` when
    CloudFront presents one to the origin (origin mTLS), without a client certificate otherwise.

    Headers the viewer sent under the same names are kept and CloudFront's are added after them: whether CloudFront
    strips them is not documented, so the authorizer must refuse the ambiguity rather than rely on either."""

    def __init__(self, origin: ASGIApp, *, trust_store: bytes, origin_certificate: str | None = None) -> None:
        self.origin = origin
        self.trust_store = tuple(x509.load_pem_x509_certificates(trust_store))
        self.origin_certificate = origin_certificate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.origin(scope, receive, send)
            return
        chain = list(((scope.get("extensions") or {}).get("tls") or {}).get("client_cert_chain") or [])
        if not chain_is_trusted(chain, self.trust_store):
            raise TlsHandshakeFailed("CloudFront viewer mTLS (required): no client certificate its trust store anchors")
        viewer = scope.get("client") or ("203.0.113.10", 0)
        headers = [*scope.get("headers", []),
                   *((k.encode("latin-1"), v.encode("latin-1")) for k, v in viewer_cert_headers(chain[0]).items()),
                   (b"x-forwarded-for", str(viewer[0]).encode())]
        origin_scope = _with_tls({**scope, "headers": headers, "client": _CLOUDFRONT_CLIENT},
                                 [self.origin_certificate] if self.origin_certificate else [])
        await self.origin(origin_scope, receive, send)


def viewer_cert_headers(pem: str) -> dict[str, str]:
    """What CloudFront forwards to the origin about the viewer's certificate (header names as CloudFront writes
    them; the PEM of the leaf URL-encoded)."""
    certificate = x509.load_pem_x509_certificate(pem.encode())
    serial = format(certificate.serial_number, "x")
    serial = serial if len(serial) % 2 == 0 else "0" + serial
    return {
        "CloudFront-Viewer-Cert-Present": "1",
        "CloudFront-Viewer-Cert-Pem": quote(certificate.public_bytes(Encoding.PEM).decode(), safe=""),
        "CloudFront-Viewer-Cert-Serial-Number": ":".join(serial[i:i + 2] for i in range(0, len(serial), 2)),
        "CloudFront-Viewer-Cert-Issuer": certificate.issuer.rfc4514_string(),
        "CloudFront-Viewer-Cert-Subject": certificate.subject.rfc4514_string(),
        "CloudFront-Viewer-Cert-Sha256": hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest(),
        "CloudFront-Viewer-Cert-Validity": f"NotBefore={certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ};"
                                           f"NotAfter={certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}",
    }
