"""What a test needs to go through the local gateway: the REST API definition (rendered, or generated), the real
authorizer handler configured against the test PKI and IdP, TPPs holding a certificate of that PKI and minting tokens
bound to it, and the gateway built in front of the service apps."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from components.api_definition import AUTHORIZER
from openbanking.lambdas import authorizer as authorizer_module
from openbanking.sandbox.pki import Issued, cert_pem
from tests.services.pis.support import Tpp, new_rsa_key
from tests.services.security.support import ISSUER, Idp, Pki, RevocationServer

from .connection import TppConnection
from .definition import definition_from_record, generated_definition, service_hosts
from .gateway import LocalGateway
from .method_request import ASGIApp


@contextmanager
def authorizer_environment(revocation_server: RevocationServer, truststore: Path, *,
                           source: str = "mtls") -> Iterator[None]:
    """The real authorizer handler's settings (as the api account sets them) pointing at the test IdP and PKI, and a
    cold container: the handler builds its authorizer from them on its first invocation."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"OB_TOKEN_ISSUER": ISSUER, "OB_JWKS_URL": f"{revocation_server.base}/jwks",
                            "OB_TRUSTSTORE": str(truststore), "OB_CLIENT_CERT_SOURCE": source}.items():
            patch.setenv(name, value)
        patch.setattr(authorizer_module, "_authorizer", None)
        yield


@pytest.fixture(scope="session")
def truststore_file(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The truststore bundle (the test CA), as the authorizer reads it (`OB_TRUSTSTORE`)."""
    path = tmp_path_factory.mktemp("truststore") / "truststore.pem"
    path.write_bytes(pki.truststore_pem)
    return path


@pytest.fixture(scope="module")
def mtls_authorizer(revocation_server: RevocationServer, truststore_file: Path) -> Iterator[None]:
    """The authorizer of the `regional` perimeter (certificate from API Gateway's mutual TLS) for a whole module."""
    with authorizer_environment(revocation_server, truststore_file, source="mtls"):
        yield


@pytest.fixture(scope="session")
def rest_api_document(rendered: Any) -> dict[str, Any]:
    """The REST API definition the gateway serves: the body of the RestApi in the rendered dev stack when the program
    renders one (exactly what would be deployed); until the api account renders one, the same generator the program
    uses (`components/api_definition.py`) with the test backends."""
    # the rendered record when it holds a RestApi (the lead's api account), the generator until then
    return definition_from_record(rendered("dev").resources) or generated_definition()


def local_gateway(document: Mapping[str, Any], apps: Mapping[str, ASGIApp], *,
                  mtls_truststore: bytes | None = None) -> LocalGateway:
    """The gateway serving `document`, with each service's app (by service name: `ais`, `pis`, `events`) behind the
    integration host the document routes that service to, and the real authorizer handler."""
    hosts = service_hosts(document)
    return LocalGateway(document, backends={hosts[service]: app for service, app in apps.items()},
                        authorizers={AUTHORIZER: authorizer_module.handler}, mtls_truststore=mtls_truststore)


@dataclass
class GatewayTpp(Tpp):
    """A TPP that calls through the gateway: its client certificate from the test PKI, its access tokens from the
    test IdP, bound to that certificate (RFC 8705). `caller_headers` gives the `Authorization` a TPP sends where the
    bare-app tests give the `x-ob-*` headers the authorizer would have produced, so the shared journeys (signed
    posts, consent flows) run through the gateway unchanged."""

    issued: Issued | None = None
    idp: Idp | None = None

    @classmethod
    def of(cls, pki: Pki, idp: Idp, tpp_id: str, client_id: str) -> GatewayTpp:
        return cls(tpp_id, client_id, new_rsa_key(f"{client_id}-sig"), issued=pki.ca.issue_client(tpp_id, client_id),
                   idp=idp)

    @property
    def pem(self) -> str:
        assert self.issued is not None
        return cert_pem(self.issued.certificate).decode()

    def token(self, scopes: str = "payments", consent_id: str | None = None, **claims: Any) -> str:
        assert self.issued is not None and self.idp is not None
        return self.idp.token(self.issued.certificate, scope=scopes, client_id=self.client_id, sub=self.client_id,
                              org_id=self.tpp_id, openbanking_intent_id=consent_id, **claims)

    def caller_headers(self, scopes: str = "payments", consent_id: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(scopes, consent_id)}"}

    def connect(self, gateway: ASGIApp) -> TppConnection:
        """The gateway as this TPP reaches it: over mutual TLS with its certificate."""
        return TppConnection(gateway, [self.pem])

    def client(self, gateway: ASGIApp) -> TestClient:
        return TestClient(self.connect(gateway), base_url="https://api.bank.example")
