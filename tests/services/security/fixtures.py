"""The test PKI and IdP fixtures shared by the security and Lambda tests: one revocation server (OCSP,
CRL and the IdP's JWKS over real HTTP) per session, its responder reset around every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import Idp, Pki, RevocationServer, build_pki


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
    """The IdP, its JWKS published by the revocation server at /jwks."""
    idp = Idp()
    revocation_server.jwks = idp.jwks()
    return idp
