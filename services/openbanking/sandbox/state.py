"""The local sandbox's persistent state, in one directory (default `services/.sandbox`, git-ignored; wherever it is,
it holds a `.gitignore` of its own): the sandbox CA's key and certificate, the IdP's token-signing key, the ASPSP's
response-signing key, the directory of TPPs, certificates and signing keys (`directory/`), and `server.json`, where
`serve` records the address it answers on (the CLI reads it, so it reaches the right sandbox from any directory).

Everything is created once and kept: certificates issued earlier stay valid across restarts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey

from .directory import FileDirectory
from .pki import CertificateAuthority, cert_pem, key_pem

#: The state directory when none is named: inside services/, the same whatever the current directory.
DEFAULT_DIR = Path(__file__).resolve().parents[2] / ".sandbox"
OCSP_PATH, CRL_PATH = "/sandbox/ocsp", "/sandbox/crl"
SERVER_FILE = "server.json"


def write_private(path: Path, data: bytes) -> None:
    """A file only its owner may read (keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def ignored_by_git(directory: Path) -> None:
    """Private material lives here: a `.gitignore` that ignores everything, wherever the directory is."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ".gitignore").write_text("*\n")


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
        directory = directory.resolve()
        ignored_by_git(directory)
        base_url = base_url.rstrip("/")
        ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
        if ca_key.exists() and ca_cert.exists():
            key = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{ca_key} is not the sandbox CA's EC key")
            ca = CertificateAuthority(key, x509.load_pem_x509_certificate(ca_cert.read_bytes()))
        else:
            ca = CertificateAuthority.create("OpenBanking Sandbox Issuing CA")
            assert isinstance(ca.key, ec.EllipticCurvePrivateKey)
            write_private(ca_key, key_pem(ca.key))
            ca_cert.write_bytes(cert_pem(ca.certificate))
        ca.ocsp_url, ca.crl_url = base_url + OCSP_PATH, base_url + CRL_PATH
        idp_path = directory / "idp-signing.pem"
        if not idp_path.exists():
            write_private(idp_path, key_pem(ec.generate_private_key(ec.SECP256R1())))
        idp_key = ECKey.import_key(idp_path.read_bytes(), parameters={"use": "sig", "alg": "ES256"})
        idp_key.ensure_kid()
        aspsp_path = directory / "aspsp-signing.pem"
        if not aspsp_path.exists():
            rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            write_private(aspsp_path, rsa_key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
        return cls(directory, base_url, ca, idp_key, aspsp_path)

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/sandbox"

    @property
    def tpp_directory(self) -> FileDirectory:
        """The TPPs, certificates and signing keys the sandbox CA knows."""
        return FileDirectory(self.directory / "directory")

    def record_server(self) -> None:
        """Note where `serve` answers, for the CLI (`server_url`)."""
        (self.directory / SERVER_FILE).write_text(json.dumps({"BaseUrl": self.base_url}) + "\n")


def server_url(directory: Path) -> str | None:
    """The address the sandbox serving from `directory` recorded, if it did."""
    recorded = directory / SERVER_FILE
    if not recorded.exists():
        return None
    return str(json.loads(recorded.read_text())["BaseUrl"])
