"""The sandbox's persistent state in a local directory (default `.sandbox/`, git-ignored): the sandbox CA, the IdP's
token-signing key, the ASPSP's response-signing key, the revocation list and the TPPs' request-signing keys.
Created once; `credentials` and `revoke` change it from another process, and the server re-reads what they write."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey, KeySet, RSAKey

from openbanking.common.jws import KeyNotFound

from .pki import CertificateAuthority, Issued, cert_pem, key_pem

DEFAULT_DIR = Path(".sandbox")
OCSP_PATH, CRL_PATH = "/sandbox/ocsp", "/sandbox/crl"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


@dataclass
class SandboxState:
    directory: Path
    base_url: str
    ca: CertificateAuthority
    idp_key: ECKey
    aspsp_key_path: Path

    @classmethod
    def open(cls, directory: Path, base_url: str) -> SandboxState:
        """Load the state, creating whatever is missing (the CA only once: certificates issued earlier stay valid)."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / ".gitignore").write_text("*\n")
        base_url = base_url.rstrip("/")
        ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
        if ca_key.exists() and ca_cert.exists():
            key = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{ca_key} is not the sandbox CA's EC key")
            ca = CertificateAuthority(key, x509.load_pem_x509_certificate(ca_cert.read_bytes()))
        else:
            ca = CertificateAuthority.create("OpenBanking Sandbox Issuing CA")
            _write_private(ca_key, key_pem(ca.key))
            ca_cert.write_bytes(cert_pem(ca.certificate))
        ca.ocsp_url, ca.crl_url = base_url + OCSP_PATH, base_url + CRL_PATH
        idp_path = directory / "idp-signing.pem"
        if not idp_path.exists():
            _write_private(idp_path, key_pem(ec.generate_private_key(ec.SECP256R1())))
        idp_key = ECKey.import_key(idp_path.read_bytes(), parameters={"use": "sig", "alg": "ES256"})
        idp_key.ensure_kid()
        aspsp_path = directory / "aspsp-signing.pem"
        if not aspsp_path.exists():
            rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _write_private(aspsp_path, rsa_key.private_bytes(serialization.Encoding.PEM,
                                                             serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))
        state = cls(directory, base_url, ca, idp_key, aspsp_path)
        state.reload_revocations()
        return state

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/sandbox"

    def jwks(self) -> dict[str, object]:
        return dict(KeySet([self.idp_key]).as_dict(private=False))

    # --- revocation ---------------------------------------------------------------------------------------------

    @property
    def _revoked_file(self) -> Path:
        return self.directory / "revoked.json"

    def reload_revocations(self) -> None:
        if self._revoked_file.exists():
            entries = json.loads(self._revoked_file.read_text())
            self.ca.revoked = {int(serial, 16): datetime.fromisoformat(at) for serial, at in entries.items()}

    def revoke(self, serial: int) -> None:
        self.reload_revocations()
        self.ca.revoke(serial, datetime.now(UTC))
        self._revoked_file.write_text(json.dumps(
            {f"{s:x}": at.isoformat() for s, at in sorted(self.ca.revoked.items())}, indent=2))

    # --- TPP credentials ----------------------------------------------------------------------------------------

    def issue_credentials(self, tpp_id: str, out: Path, client_id: str | None = None) -> Issued:
        """A transport certificate (client.pem/client.key) and a request-signing key (signing.key, kid in
        signing.kid) for the TPP, the CA certificate (ca.pem), and the mTLS header file curl can send."""
        if not tpp_id or any(c in tpp_id for c in "/\\,=+\"<>;"):
            raise ValueError(f"--tpp-id {tpp_id!r} must be a plain identifier (letters, digits, '-', '_')")
        client_id = client_id or f"{tpp_id}-client"
        issued = self.ca.issue_client(tpp_id, client_id)
        out.mkdir(parents=True, exist_ok=True)
        _write_private(out / "client.key", key_pem(issued.key))
        (out / "client.pem").write_bytes(cert_pem(issued.certificate))
        (out / "ca.pem").write_bytes(cert_pem(self.ca.certificate))
        from urllib.parse import quote

        (out / "mtls-header.txt").write_text(
            f"x-amzn-mtls-clientcert: {quote(cert_pem(issued.certificate).decode(), safe='')}\n")
        signing = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "PS256"})
        signing.ensure_kid()
        _write_private(out / "signing.key", signing.as_pem(private=True))
        (out / "signing.kid").write_text(f"{signing.kid}\n")
        self._register_signing_key(tpp_id, signing)
        return issued

    def _tpp_keys_file(self, tpp_id: str) -> Path:
        return self.directory / "tpps" / f"{tpp_id}.jwks.json"

    def _register_signing_key(self, tpp_id: str, key: RSAKey) -> None:
        path = self._tpp_keys_file(tpp_id)
        keys = json.loads(path.read_text())["keys"] if path.exists() else []
        keys.append(dict(key.as_dict(private=False)))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"keys": keys}, indent=2))

    def tpp_jwks(self, tpp_id: str) -> dict[str, object] | None:
        path = self._tpp_keys_file(tpp_id)
        return json.loads(path.read_text()) if path.exists() else None


class SandboxKeyResolver:
    """:class:`openbanking.common.jws.KeyResolver` over the TPP keys `credentials` registered (read per call, so
    keys issued while the sandbox runs are known at once)."""

    def __init__(self, state: SandboxState) -> None:
        self._state = state

    def resolve(self, tpp_id: str, kid: str) -> RSAKey:
        document = self._state.tpp_jwks(tpp_id) if "/" not in tpp_id and "\\" not in tpp_id else None
        for entry in (document or {}).get("keys", []):  # type: ignore[union-attr]
            if entry.get("kid") == kid and entry.get("kty") == "RSA":
                return RSAKey.import_key(entry)
        raise KeyNotFound(kid)
