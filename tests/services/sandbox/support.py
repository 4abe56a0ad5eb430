"""Helpers of the sandbox tests: a uvicorn server in a thread, and a TPP's credentials as the CLI writes them."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from joserfc.jwk import RSAKey

from tests.services.pis.support import Tpp

CERT_HEADER = "x-amzn-mtls-clientcert"


class Server:
    """An ASGI app on 127.0.0.1:`port` (its lifespan run), until `stop`."""

    def __init__(self, app: object, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",  # type: ignore[arg-type]
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@dataclass
class Credentials:
    """What `credentials --out DIR` wrote: the mTLS header, the client certificate and the request-signing key."""

    tpp_id: str
    directory: Path

    @property
    def mtls(self) -> dict[str, str]:
        name, _, value = (self.directory / "mtls-header.txt").read_text().strip().partition(": ")
        assert name == CERT_HEADER
        return {name: value}

    @property
    def registration(self) -> dict[str, str]:
        return dict(json.loads((self.directory / "registration.json").read_text()))

    @property
    def signer(self) -> Tpp:
        """The TPP as tests/services/pis signs: an independent JWS implementation with the issued key."""
        kid = (self.directory / "signing.kid").read_text().strip()
        key = RSAKey.import_key((self.directory / "signing.key").read_bytes(), {"kid": kid})
        return Tpp(self.tpp_id, self.registration["ClientId"], key)
