"""The sandbox's mutual-TLS entry, as the sandbox stack renders its REST API: the IdP's routes pass the authorizer by
and hand the IdP the certificate of the TLS connection (never one a client writes into the header), the APIs'
routes still go through the authorizer, and the real sandbox IdP issues a token bound to that certificate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey

from components.api_definition import AUTHORIZER, CLIENT_CERT_HEADER
from lz.render import Rendering
from openbanking.operations import SANDBOX_ROUTES
from openbanking.sandbox.directory import FileDirectory
from openbanking.sandbox.idp.service import InternalApi, SandboxIdp, gateway_credentials
from openbanking.sandbox.pki import cert_pem
from openbanking.security.certificates import Truststore, thumbprint_s256
from tests.services.security.support import Pki

from .connection import TppConnection
from .definition import definition_from_record, service_hosts
from .doubles import CALLER, EchoService, StubAuthorizer, allow
from .gateway import LocalGateway

BALANCES = "/open-banking/v3.1/aisp/accounts/acc-1/balances"


@pytest.fixture(scope="module")
def sandbox_document(rendered: Callable[[str], Rendering]) -> dict[str, Any]:
    """The sandbox stack's REST API definition, exactly as rendered."""
    document = definition_from_record(rendered("sandbox").resources)
    assert document is not None, "the sandbox stack renders a REST API"
    return document


def _gateway(document: dict[str, Any], pki: Pki, backends: dict[str, Any], stub: StubAuthorizer) -> LocalGateway:
    return LocalGateway(document, backends=backends, authorizers={AUTHORIZER: stub}, mtls_truststore=pki.truststore_pem)


def test_the_idp_routes_skip_the_authorizer_and_get_the_connections_certificate(sandbox_document: dict[str, Any],
                                                                                pki: Pki) -> None:
    echo, stub = EchoService(), StubAuthorizer(lambda event: allow(event, CALLER))
    hosts = service_hosts(sandbox_document)
    gateway = _gateway(sandbox_document, pki, {host: echo for host in hosts.values()}, stub)
    mine, forged = cert_pem(pki.good.certificate).decode(), cert_pem(pki.other.certificate).decode()
    client = TestClient(TppConnection(gateway, [mine]), base_url="https://api.sandbox.bank.example")
    for route in (r for r in SANDBOX_ROUTES if "mtls" in r.entries):
        path = route.path.replace("{DomesticPaymentId}", "pdp-1")
        answer = client.request(route.method, path, headers={CLIENT_CERT_HEADER: forged.replace("\n", " ")})
        assert answer.status_code == 200, (route, answer.text)
        assert echo.received[-1]["server"][0] == hosts["sandbox_idp"] and echo.received[-1]["path"] == path
        assert echo.header_values(CLIENT_CERT_HEADER) == [mine], "the connection's certificate, and only it"
    assert stub.events == [], "no IdP route runs the API authorizer"
    # the APIs keep theirs
    assert client.get(BALANCES, headers={"Authorization": "Bearer t"}).status_code == 200
    assert len(stub.events) == 1 and echo.header_values(CLIENT_CERT_HEADER) == []


def test_without_a_sandbox_certificate_the_entry_refuses_before_the_idp(sandbox_document: dict[str, Any],
                                                                         pki: Pki) -> None:
    echo, stub = EchoService(), StubAuthorizer(lambda event: allow(event, CALLER))
    gateway = _gateway(sandbox_document, pki, {host: echo for host in service_hosts(sandbox_document).values()}, stub)
    for chain in ([], [cert_pem(pki.stranger.certificate).decode()]):
        answer = TestClient(TppConnection(gateway, chain)).post("/sandbox/token", data={"grant_type": "client_credentials"})
        assert (answer.status_code, answer.json()) == (403, {"message": "Forbidden"})
    assert echo.received == []


def test_the_sandbox_idp_behind_the_entry_binds_its_token_to_the_tls_certificate(sandbox_document: dict[str, Any],
                                                                                 pki: Pki, tmp_path: Path) -> None:
    token_key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"})
    token_key.ensure_kid()
    internal = InternalApi(ais=httpx.AsyncClient(), pis=httpx.AsyncClient(), credentials=gateway_credentials)
    idp = SandboxIdp(issuer="https://api.sandbox.bank.example/sandbox", token_key=token_key,
                     truststore=Truststore((pki.ca.certificate,)), directory=FileDirectory(tmp_path),
                     consents=lambda _: None, payments=lambda _: None, accounts_of=lambda _: [], internal=internal,
                     aspsp_jwks=lambda: {"keys": []})
    stub = StubAuthorizer(lambda event: allow(event, CALLER))
    gateway = _gateway(sandbox_document, pki, {service_hosts(sandbox_document)["sandbox_idp"]: idp.app()}, stub)
    client = TestClient(TppConnection(gateway, [cert_pem(pki.good.certificate).decode()]),
                        base_url="https://api.sandbox.bank.example")
    try:
        answer = client.post("/sandbox/token", data={"grant_type": "client_credentials", "scope": "accounts"})
        assert answer.status_code == 200, answer.text
        claims = jwt.decode(answer.json()["access_token"], token_key).claims
        assert claims["cnf"] == {"x5t#S256": thumbprint_s256(pki.good.certificate)}
        assert stub.events == []
    finally:
        loop = asyncio.new_event_loop()  # not asyncio.run: later tests (Pulumi's mocks) need the main thread's loop
        try:
            loop.run_until_complete(internal.aclose())
        finally:
            loop.close()
