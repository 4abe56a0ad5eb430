"""A test PKI and the HTTP server that answers its OCSP and CRL requests, shared by the security, authorizer and
sandbox tests: revocation is exercised over real HTTP on 127.0.0.1, with switchable failures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from joserfc import jwt
from joserfc.jwk import ECKey, Key, KeySet, RSAKey

from openbanking.sandbox.pki import CertificateAuthority, Issued, cert_pem
from openbanking.security.certificates import thumbprint_s256

ISSUER = "https://idp.test.example/as"
TPP_ID = "0015800001041RHAAY"


class Clock:
    """A settable UTC clock for the revocation cache and token lifetimes."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def unix(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Responder:
    """What the revocation server answers: 'ok', 'down' (HTTP 503) or a custom body factory."""

    ocsp: str = "ok"
    crl: str = "ok"
    ocsp_body: Callable[[bytes], bytes] | None = None
    crl_body: Callable[[], bytes] | None = None
    hits: dict[str, int] = field(default_factory=lambda: {"ocsp": 0, "crl": 0})

    def reset(self) -> None:
        self.ocsp, self.crl, self.ocsp_body, self.crl_body = "ok", "ok", None, None
        self.hits = {"ocsp": 0, "crl": 0}


class RevocationServer:
    """OCSP (POST /ocsp) and CRL (GET /crl) for a CA, on an ephemeral port, in a daemon thread."""

    def __init__(self) -> None:
        self.ca: CertificateAuthority | None = None
        self.jwks: dict[str, Any] | None = None
        self.responder = Responder()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                request = self.rfile.read(int(self.headers.get("content-length", "0")))
                responder = server.responder
                responder.hits["ocsp"] += 1
                if self.path != "/ocsp" or responder.ocsp == "down" or server.ca is None:
                    self._answer(503, b"unavailable", "text/plain")
                    return
                body = responder.ocsp_body(request) if responder.ocsp_body else server.ca.ocsp_response(request)
                self._answer(200, body, "application/ocsp-response")

            def do_GET(self) -> None:
                responder = server.responder
                if self.path == "/jwks" and server.jwks is not None:
                    self._answer(200, json.dumps(server.jwks).encode(), "application/json")
                    return
                responder.hits["crl"] += 1
                if self.path != "/crl" or responder.crl == "down" or server.ca is None:
                    self._answer(503, b"unavailable", "text/plain")
                    return
                body = (responder.crl_body() if responder.crl_body
                        else server.ca.crl().public_bytes(serialization.Encoding.DER))
                self._answer(200, body, "application/pkix-crl")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def closed_port_url(path: str) -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


@dataclass
class Pki:
    server: RevocationServer
    ca: CertificateAuthority
    good: Issued
    other: Issued
    revoked: Issued
    stranger: Issued  # issued by a CA outside the truststore

    @property
    def truststore_pem(self) -> bytes:
        return cert_pem(self.ca.certificate)


def build_pki(server: RevocationServer) -> Pki:
    ca = CertificateAuthority.create("Test Issuing CA", ocsp_url=f"{server.base}/ocsp", crl_url=f"{server.base}/crl")
    server.ca = ca
    good = ca.issue_client(TPP_ID, "client-good")
    other = ca.issue_client(TPP_ID, "client-other")
    revoked = ca.issue_client(TPP_ID, "client-revoked")
    ca.revoke(revoked.serial, datetime.now(UTC) - timedelta(hours=1))
    outsider = CertificateAuthority.create("Untrusted CA")
    return Pki(server, ca, good, other, revoked, outsider.issue_client(TPP_ID, "client-stranger"))


@dataclass
class Idp:
    """An IdP signing key (ES256) and a second one (PS256), published as a JWKS."""

    es256: Key = field(default_factory=lambda: ECKey.generate_key("P-256", parameters={"kid": "es-1", "use": "sig"}))
    ps256: Key = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "ps-1", "use": "sig"}))

    def jwks(self) -> dict[str, Any]:
        return KeySet([self.es256, self.ps256]).as_dict(private=False)  # type: ignore[return-value]

    def token(self, certificate: Any, *, now: float | None = None, alg: str = "ES256", key: Key | None = None,
              header: dict[str, Any] | None = None, **overrides: Any) -> str:
        now = time.time() if now is None else now
        claims: dict[str, Any] = {
            "iss": ISSUER, "sub": "client-good", "client_id": "client-good", "org_id": TPP_ID,
            "scope": "accounts", "iat": int(now), "nbf": int(now), "exp": int(now) + 600, "jti": str(uuid.uuid4()),
            "cnf": {"x5t#S256": thumbprint_s256(certificate)},
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        signing = key or (self.es256 if alg == "ES256" else self.ps256)
        return jwt.encode({"alg": alg, "kid": signing.kid, **(header or {})}, claims, signing, algorithms=[alg])


def unsigned_token(claims: dict[str, Any]) -> str:
    """An `alg: none` JWT."""

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def hs256_token(claims: dict[str, Any], secret: bytes = b"0" * 32) -> str:
    """An HS256 JWT built by hand (joserfc rightly refuses asymmetric key material as an HMAC secret)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'kid': 'es-1'}).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"
