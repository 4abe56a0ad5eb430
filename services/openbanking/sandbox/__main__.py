"""`python -m openbanking.sandbox serve | credentials --tpp-id ID --out DIR | revoke --cert PEM`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .state import DEFAULT_DIR, SandboxState


def _base_url(port: int) -> str:
    return os.environ.get("OB_BASE_URL", f"http://127.0.0.1:{port}").rstrip("/")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openbanking.sandbox",
                                     description="The local Open Banking sandbox (AIS, PIS, events and a test IdP).")
    parser.add_argument("--state-dir", type=Path, default=Path(os.environ.get("OB_SANDBOX_DIR", DEFAULT_DIR)),
                        help="where the sandbox CA and keys live (default .sandbox, or OB_SANDBOX_DIR)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")),
                        help="the sandbox port (default 8000, or PORT)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the APIs on 127.0.0.1:PORT")
    credentials = commands.add_parser("credentials", help="issue a TPP client certificate and signing key")
    credentials.add_argument("--tpp-id", required=True, help="the TPP's organisation id (certificate OU)")
    credentials.add_argument("--client-id", help="the OAuth client id (certificate CN; default <tpp-id>-client)")
    credentials.add_argument("--out", type=Path, required=True, help="directory for client.pem, client.key, ...")
    revoke = commands.add_parser("revoke", help="revoke a sandbox-issued client certificate")
    revoke.add_argument("--cert", type=Path, required=True, help="the certificate (PEM) to revoke")
    args = parser.parse_args(argv)

    state = SandboxState.open(args.state_dir, _base_url(args.port))
    if args.command == "credentials":
        try:
            issued = state.issue_credentials(args.tpp_id, args.out, args.client_id)
        except ValueError as exc:
            parser.error(str(exc))
        print(f"issued {args.out}/client.pem (serial {issued.serial:x}) and client.key for TPP {args.tpp_id}; "
              f"request-signing key {args.out}/signing.key (kid in signing.kid); mTLS header in "
              f"{args.out}/mtls-header.txt")
        return 0
    if args.command == "revoke":
        from openbanking.security.certificates import load_certificate

        certificate = load_certificate(args.cert.read_bytes())
        if certificate.issuer != state.ca.certificate.subject:
            print(f"error: {args.cert} was not issued by this sandbox's CA", file=sys.stderr)
            return 1
        state.revoke(certificate.serial_number)
        print(f"revoked serial {certificate.serial_number:x}")
        return 0
    return _serve(state, args.port, str(args.state_dir))


def _serve(state: SandboxState, port: int, state_dir: str) -> int:
    import uvicorn

    from .server import build_sandbox, instructions

    sandbox = build_sandbox(state, port=port)
    print(instructions(state.base_url, state_dir), flush=True)
    try:
        uvicorn.run(sandbox.app, host="127.0.0.1", port=port, log_level="info", lifespan="on")
    finally:
        sandbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
