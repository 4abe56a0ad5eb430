from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.services.security.support import Idp, Pki, RevocationServer, build_pki


@pytest.fixture(scope="session")
def revocation_server() -> Iterator[RevocationServer]:
    server = RevocationServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def pki(revocation_server: RevocationServer) -> Pki:
    return build_pki(revocation_server)


@pytest.fixture(autouse=True)
def _reset_responder(revocation_server: RevocationServer) -> Iterator[None]:
    revocation_server.responder.reset()
    yield
    revocation_server.responder.reset()


@pytest.fixture(scope="session")
def idp(revocation_server: RevocationServer) -> Idp:
    idp = Idp()
    revocation_server.jwks = idp.jwks()
    return idp
