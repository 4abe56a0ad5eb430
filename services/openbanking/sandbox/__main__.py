"""`python -m openbanking.sandbox [--url URL] [--state-dir DIR] COMMAND`: the local sandbox and a TPP's tools for it.

- `serve`: the sandbox on 127.0.0.1:PORT (settings: :mod:`openbanking.sandbox.settings`); prints the steps.
- `credentials --tpp-id ID [--client-id ID] [--out DIR]`: registers the TPP with the sandbox CA (or reuses the
  registration in DIR), makes a key pair and has the CA certify it, makes a request-signing key and registers it as
  the TPP's directory key; writes them to DIR (default `<state dir>/tpps/<ID>`), which is git-ignored.
- `sign --credentials DIR FILE`: the `x-jws-signature` of FILE's exact bytes (detached PS256 JWS, OBIE header).
- `revoke --credentials DIR` (or `--cert PEM`): revokes the certificate.
- `deployment-keys --out DIR [--common-name NAME]`: the operator's step before the deployed sandbox's first start:
  the sandbox CA (its certificate `ca.pem`, which becomes the stack's `edge.truststoreBundle`, and its key `ca.key`)
  and the IdP's token-signing key (`idp.key`), the keys for the two Secrets Manager secrets (docs/sandbox.md).
  Nothing is sent anywhere; existing files are never overwritten.

Every command but `serve` talks to a running sandbox over HTTP (`--url`, else the address the sandbox serving from
the state directory recorded, else `http://127.0.0.1:$PORT`), so it works from any directory, with any environment:
the deployed sandbox too (`--url https://sandbox.<domain>`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from .directory import check_tpp_id
from .state import DEFAULT_DIR, ignored_by_git, server_url, write_private


class CommandFailed(Exception):
    """What the user must know, in one line."""


def _base_url(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url).rstrip("/")
    recorded = server_url(args.state_dir)
    return recorded or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"


def _answer(response: Any, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            body = response.json()
            reason = body.get("Message") or body.get("error_description") or response.text
        except ValueError:
            reason = response.text
        raise CommandFailed(f"{what}: HTTP {response.status_code}: {reason}")
    return dict(response.json())


def credentials(base_url: str, tpp_id: str, out: Path, client_id: str | None) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID
    from joserfc.jwk import RSAKey

    from .pki import key_pem

    ignored_by_git(out)
    registration_file = out / "registration.json"
    registration = json.loads(registration_file.read_text()) if registration_file.exists() else None
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        if registration is None or registration.get("TppId") != tpp_id:
            answer = http.post("/sandbox/tpps", json={"TppId": tpp_id})
            if answer.status_code == 409:
                raise CommandFailed(f"TPP {tpp_id} is registered already, and {registration_file} is not its "
                                    "registration: choose another --tpp-id, or --out the directory that holds it")
            registration = {**_answer(answer, "registering the TPP"), "BaseUrl": base_url}
        secret = {"authorization": f"Bearer {registration['RegistrationSecret']}"}
        key = ec.generate_private_key(ec.SECP256R1())
        client = client_id or f"{tpp_id}-client"
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, client)])).sign(key, hashes.SHA256()))
        issued = _answer(http.post(f"/sandbox/tpps/{tpp_id}/certificates", headers=secret, json={
            "Csr": csr.public_bytes(Encoding.PEM).decode(), "ClientId": client}), "issuing the certificate")
        signing = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "PS256"})
        signing.ensure_kid()
        _answer(http.post(f"/sandbox/tpps/{tpp_id}/keys", headers=secret, json=signing.as_dict(private=False)),
                "registering the signing key")
    registration = {**registration, "ClientId": issued["ClientId"]}
    write_private(out / "registration.json", json.dumps(registration, indent=2).encode())
    write_private(out / "client.key", key_pem(key))
    (out / "client.pem").write_text(issued["Certificate"])
    (out / "ca.pem").write_text(issued["CaCertificate"])
    (out / "mtls-header.txt").write_text(f"x-amzn-mtls-clientcert: {quote(issued['Certificate'], safe='')}\n")
    write_private(out / "signing.key", signing.as_pem(private=True))
    (out / "signing.kid").write_text(f"{signing.kid}\n")
    return (f"issued {out}/client.pem (serial {issued['SerialNumber']}) and client.key for TPP {tpp_id} "
            f"(client {issued['ClientId']}); request-signing key {out}/signing.key (kid in signing.kid); mTLS header "
            f"in {out}/mtls-header.txt")


def sign(directory: Path, document: Path) -> str:
    from joserfc.jwk import RSAKey

    from openbanking.common.jws import DetachedJwsSigner

    registration = json.loads((directory / "registration.json").read_text())
    kid = (directory / "signing.kid").read_text().strip()
    key = RSAKey.import_key((directory / "signing.key").read_bytes())
    # iss names the TPP and its software statement: the client id stands in for the statement in the sandbox
    signer = DetachedJwsSigner(key, kid, f"{registration['TppId']}/{registration['ClientId']}")
    return signer.sign(document.read_bytes())


def revoke(base_url: str, directory: Path, certificate: Path) -> str:
    from openbanking.security.certificates import load_certificate

    registration_file = directory / "registration.json"
    if not registration_file.exists():
        raise CommandFailed(f"{registration_file} does not exist: revoke needs the credentials directory the "
                            "certificate was issued into")
    registration = json.loads(registration_file.read_text())
    serial = load_certificate(certificate.read_bytes()).serial_number
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        answer = _answer(http.post(f"/sandbox/tpps/{registration['TppId']}/revocations",
                                   headers={"authorization": f"Bearer {registration['RegistrationSecret']}"},
                                   json={"SerialNumber": f"{serial:x}"}), "revoking the certificate")
    return f"revoked serial {answer['SerialNumber']} at {answer['RevokedAt']}"


def deployment_keys(out: Path, common_name: str) -> str:
    """The deployed sandbox's CA and IdP key, made here and written to `out` (git-ignored, keys owner-only)."""
    from cryptography.hazmat.primitives import serialization

    from .pki import CertificateAuthority, cert_pem, key_pem, new_key

    files = {name: out / name for name in ("ca.pem", "ca.key", "idp.key")}
    present = sorted(str(path) for path in files.values() if path.exists())
    if present:
        raise CommandFailed(f"{', '.join(present)} exist already: a new CA invalidates every certificate it issued; "
                            "--out another directory to make new keys")
    ignored_by_git(out)
    ca = CertificateAuthority.create(common_name)
    write_private(files["ca.key"], ca.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    files["ca.pem"].write_bytes(cert_pem(ca.certificate))
    write_private(files["idp.key"], key_pem(new_key()))
    return (f"made the sandbox CA {files['ca.pem']} (valid until {ca.certificate.not_valid_after_utc:%Y-%m-%d}; "
            f"the stack's edge.truststoreBundle) with its key {files['ca.key']}, and the IdP's token-signing key "
            f"{files['idp.key']}: put each key into its secret (docs/sandbox.md), then delete them here")


def serve(state_dir: Path, port: int | None) -> int:
    import uvicorn

    from .instructions import instructions
    from .server import build_sandbox
    from .settings import SandboxSettings

    overrides: dict[str, Any] = {"dir": state_dir}
    if port is not None:
        overrides["port"] = port
    settings = SandboxSettings(**overrides)
    sandbox = build_sandbox(settings)
    sandbox.state.record_server()
    print(instructions(base_url=settings.base_url, python=sys.executable, state_dir=sandbox.state.directory,
                       settlement_seconds=settings.settlement_seconds), flush=True)
    try:
        uvicorn.run(sandbox.app, host="127.0.0.1", port=settings.port, log_level="info", lifespan="on")
    finally:
        sandbox.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openbanking.sandbox",
                                     description="The local Open Banking sandbox (AIS, PIS, events, IdP and CA).")
    parser.add_argument("--state-dir", type=Path, default=Path(os.environ.get("OB_SANDBOX_DIR", DEFAULT_DIR)),
                        help=f"the sandbox's state (default {DEFAULT_DIR}, or OB_SANDBOX_DIR)")
    parser.add_argument("--url", help="the sandbox's address (default: the one the sandbox serving from the state "
                                      "directory recorded, else http://127.0.0.1:$PORT)")
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="serve the APIs on 127.0.0.1:PORT")
    serving.add_argument("--port", type=int, help="the port (default PORT, else 8000)")
    issuing = commands.add_parser("credentials", help="a client certificate and a request-signing key for a TPP")
    issuing.add_argument("--tpp-id", required=True, help="the TPP's organisation id (certificate OU)")
    issuing.add_argument("--client-id", help="the OAuth client id (certificate CN; default <tpp-id>-client)")
    issuing.add_argument("--out", type=Path, help="where to write them (default <state dir>/tpps/<tpp-id>)")
    signing = commands.add_parser("sign", help="print the x-jws-signature of a request body file")
    signing.add_argument("--credentials", type=Path, required=True, help="the directory `credentials` wrote")
    signing.add_argument("file", type=Path, help="the request body, exactly as it will be sent")
    revoking = commands.add_parser("revoke", help="revoke a certificate the sandbox CA issued")
    which = revoking.add_mutually_exclusive_group(required=True)
    which.add_argument("--credentials", type=Path, help="the directory `credentials` wrote (its client.pem)")
    which.add_argument("--cert", type=Path, help="a certificate (PEM) in such a directory")
    keys = commands.add_parser("deployment-keys", help="the deployed sandbox's CA and IdP key, for the operator")
    keys.add_argument("--out", type=Path, required=True, help="where to write ca.pem, ca.key and idp.key")
    keys.add_argument("--common-name", default="Open Banking Sandbox CA", help="the CA's common name")
    args = parser.parse_args(argv)
    args.state_dir = args.state_dir.resolve()

    try:
        if args.command == "serve":
            return serve(args.state_dir, args.port)
        if args.command == "credentials":
            out = (args.out or args.state_dir / "tpps" / check_tpp_id(args.tpp_id)).resolve()
            print(credentials(_base_url(args), args.tpp_id, out, args.client_id))
        elif args.command == "sign":
            print(sign(args.credentials, args.file))
        elif args.command == "deployment-keys":
            print(deployment_keys(args.out.resolve(), args.common_name))
        else:
            certificate = args.cert or args.credentials / "client.pem"
            print(revoke(_base_url(args), certificate.resolve().parent, certificate))
    except CommandFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"error: the sandbox at {_base_url(args)} did not answer ({type(exc).__name__}: {exc}); is it "
              "running? (--url names it)", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
