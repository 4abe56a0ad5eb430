"""The real authorizer handler and the real AIS service behind the local gateway, for both perimeters: a TPP with a
certificate of the test PKI and tokens of the test IdP is served; a revoked certificate, a token bound to another
certificate, the wrong scope, a consent of the wrong type, a missing token and forged headers are refused with OBIE
error bodies before the service sees the request, or overruled by the authorizer's verdict."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from openbanking.sandbox.pki import cert_pem
from tests.services.security.support import Idp, Pki, RevocationServer

from .connection import CloudFrontViewerMtls, TlsHandshakeFailed, TppConnection
from .fixtures import GatewayTpp, authorizer_environment, local_gateway
from .gateway import LocalGateway
from .gateway_responses import RESPONSE_TYPE_HEADER
from .services import AIS, ais_service, authorise_account_access
from .test_gateway import OB_ERROR

PERMISSIONS = ["ReadAccountsDetail", "ReadBalances"]


@dataclass
class World:
    app: FastAPI
    gateway: LocalGateway
    alpha: GatewayTpp
    beta: GatewayTpp
    alpha_consent: str
    beta_consent: str


def create_account_access(tpp: GatewayTpp, gateway: Any) -> str:
    response = tpp.client(gateway).post(f"{AIS}/account-access-consents", headers=tpp.caller_headers("accounts"),
                                        json={"Data": {"Permissions": PERMISSIONS}, "Risk": {}})
    assert response.status_code == 201, response.text
    return response.json()["Data"]["ConsentId"]


@pytest.fixture(scope="module")
def world(mtls_authorizer: None, rest_api_document: dict[str, Any], pki: Pki, idp: Idp) -> Iterator[World]:
    with ais_service("gateway_authorizer") as app:
        gateway = local_gateway(rest_api_document, {"ais": app}, mtls_truststore=pki.truststore_pem)
        alpha = GatewayTpp.of(pki, idp, "0015800001041RALPHA", "client-alpha")
        beta = GatewayTpp.of(pki, idp, "0015800001041RBETAA", "client-beta")
        alpha_consent, beta_consent = create_account_access(alpha, gateway), create_account_access(beta, gateway)
        authorise_account_access(app, alpha_consent, "psu-0002", ["acc-0002-01", "acc-0002-02"])
        authorise_account_access(app, beta_consent, "psu-0003", ["acc-0003-01"])
        yield World(app, gateway, alpha, beta, alpha_consent, beta_consent)


def get_accounts(connection: Any, authorization: str | None, **headers: str) -> Response:
    sent = {"x-fapi-interaction-id": str(uuid.uuid4()), **headers}
    if authorization is not None:
        sent["Authorization"] = f"Bearer {authorization}"
    response = TestClient(connection, base_url="https://api.bank.example").get(f"{AIS}/accounts", headers=sent)
    assert response.headers.get("x-fapi-interaction-id") == sent["x-fapi-interaction-id"], response.headers
    return response


def account_ids(response: Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(a["AccountId"] for a in response.json()["Data"]["Account"])


def refused(response: Response, status: int, response_type: str, reason: str = "") -> dict[str, Any]:
    """An OBIE error body the gateway made (the service never answered), naming `reason`."""
    assert response.status_code == status, response.text
    assert response.headers[RESPONSE_TYPE_HEADER] == response_type
    body = response.json()
    jsonschema.validate(body, OB_ERROR)
    assert reason in body["Message"], body
    return body


def test_a_tpp_reads_the_accounts_of_its_consent(world: World) -> None:
    token = world.alpha.token("accounts", world.alpha_consent)
    assert account_ids(get_accounts(world.alpha.connect(world.gateway), token)) == ["acc-0002-01", "acc-0002-02"]


def test_caller_headers_the_tpp_sends_are_overruled_by_the_authorizer(world: World) -> None:
    """Alpha claims to be beta, with beta's consent and more scopes: the service acts on alpha's verdict."""
    token = world.alpha.token("accounts", world.alpha_consent)
    forged = {"x-ob-tpp-id": world.beta.tpp_id, "x-ob-client-id": world.beta.client_id,
              "x-ob-scopes": "accounts payments", "x-ob-consent-id": world.beta_consent}
    assert account_ids(get_accounts(world.alpha.connect(world.gateway), token, **forged)) == [
        "acc-0002-01", "acc-0002-02"]


def test_a_revoked_certificate_is_refused(world: World, pki: Pki, idp: Idp) -> None:
    revoked = GatewayTpp.of(pki, idp, world.alpha.tpp_id, world.alpha.client_id)
    assert revoked.issued is not None
    pki.ca.revoke(revoked.issued.serial)
    response = get_accounts(revoked.connect(world.gateway), revoked.token("accounts", world.alpha_consent))
    refused(response, 403, "ACCESS_DENIED", "the client certificate is revoked")


def test_a_token_bound_to_another_certificate_is_refused(world: World, pki: Pki, idp: Idp) -> None:
    """Alpha's token, presented over a connection with another of alpha's own certificates."""
    second = GatewayTpp.of(pki, idp, world.alpha.tpp_id, world.alpha.client_id)
    response = get_accounts(second.connect(world.gateway), world.alpha.token("accounts", world.alpha_consent))
    refused(response, 403, "ACCESS_DENIED", "the token is bound to a different client certificate")


def test_a_token_without_the_routes_scope_is_refused(world: World) -> None:
    response = get_accounts(world.alpha.connect(world.gateway), world.alpha.token("payments", world.alpha_consent))
    refused(response, 403, "ACCESS_DENIED", "needs the scope accounts")


def test_a_consent_of_the_wrong_type_is_refused(world: World) -> None:
    token = world.alpha.token("accounts", "pdc-0e7d5a0b-6f55-4c0e-8a51-3c1f0b1e2d3a")
    refused(get_accounts(world.alpha.connect(world.gateway), token), 403, "ACCESS_DENIED",
            "needs a consent of type 'aac-'")


def test_a_client_credentials_token_is_refused_on_a_psu_resource(world: World) -> None:
    refused(get_accounts(world.alpha.connect(world.gateway), world.alpha.token("accounts")), 403, "ACCESS_DENIED",
            "needs a token the PSU authorised for a consent")


def test_a_request_without_a_token_is_refused(world: World) -> None:
    response = get_accounts(world.alpha.connect(world.gateway), None)
    body = refused(response, 401, "UNAUTHORIZED")
    assert body["Errors"][0]["ErrorCode"] == "UK.OBIE.Header.Missing"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_request"'


def test_another_tpps_consent_is_refused_by_the_service(world: World) -> None:
    """The authorizer checks the consent's type; whose consent it is, the service knows (403 of its own)."""
    response = get_accounts(world.alpha.connect(world.gateway), world.alpha.token("accounts", world.beta_consent))
    assert response.status_code == 403 and RESPONSE_TYPE_HEADER not in response.headers, response.text
    jsonschema.validate(response.json(), OB_ERROR)


def test_a_hostile_key_id_cannot_rewrite_the_error_body(world: World) -> None:
    token = world.alpha.token("accounts", world.alpha_consent,
                              header={"kid": '","Errors":[{"ErrorCode":"UK.OBIE.Injected","Message":"x"}],"Id":"'})
    body = refused(get_accounts(world.alpha.connect(world.gateway), token), 403, "ACCESS_DENIED", "is not in the issuer")
    assert [e["ErrorCode"] for e in body["Errors"]] == ["UK.OBIE.Resource.ConsentMismatch"]


def test_a_forged_cloudfront_header_is_no_certificate_at_the_regional_edge(world: World) -> None:
    """Beta holds alpha's token and alpha's (public) certificate: presenting it as CloudFront's header over its own
    mutual TLS connection gets it nothing."""
    stolen = world.alpha.token("accounts", world.alpha_consent)
    forged = {"CloudFront-Viewer-Cert-Present": "1", "CloudFront-Viewer-Cert-Pem": quote(world.alpha.pem, safe="")}
    refused(get_accounts(world.beta.connect(world.gateway), stolen, **forged), 403, "ACCESS_DENIED",
            "the token is bound to a different client certificate")


def test_the_domain_refuses_connections_its_truststore_does_not_anchor(world: World, pki: Pki) -> None:
    token = world.alpha.token("accounts", world.alpha_consent)
    for chain in ([], [cert_pem(pki.stranger.certificate).decode()]):
        response = TestClient(TppConnection(world.gateway, chain)).get(
            f"{AIS}/accounts", headers={"Authorization": f"Bearer {token}"})
        assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})


# --- the cloudfront perimeter -------------------------------------------------------------------------------------


@pytest.fixture
def behind_cloudfront(world: World, rest_api_document: dict[str, Any], pki: Pki, revocation_server: RevocationServer,
                      truststore_file: Path) -> Iterator[tuple[CloudFrontViewerMtls, LocalGateway]]:
    """CloudFront (viewer mTLS, presenting an origin certificate of its own) in front of an API Gateway domain without
    mutual TLS, and the authorizer reading `OB_CLIENT_CERT_SOURCE=cloudfront`."""
    with authorizer_environment(revocation_server, truststore_file, source="cloudfront"):
        origin = local_gateway(rest_api_document, {"ais": world.app})
        cloudfront_origin_cert = cert_pem(pki.other.certificate).decode()
        yield CloudFrontViewerMtls(origin, trust_store=pki.truststore_pem,
                                   origin_certificate=cloudfront_origin_cert), origin


def test_behind_cloudfront_a_tpp_reads_its_accounts(world: World,
                                                    behind_cloudfront: tuple[CloudFrontViewerMtls, Any]) -> None:
    edge, _ = behind_cloudfront
    token = world.alpha.token("accounts", world.alpha_consent)
    assert account_ids(get_accounts(TppConnection(edge, [world.alpha.pem]), token)) == ["acc-0002-01", "acc-0002-02"]


def test_behind_cloudfront_a_revoked_certificate_is_refused(world: World, pki: Pki, idp: Idp,
                                                            behind_cloudfront: tuple[CloudFrontViewerMtls, Any]) -> None:
    edge, _ = behind_cloudfront
    revoked = GatewayTpp.of(pki, idp, world.alpha.tpp_id, world.alpha.client_id)
    assert revoked.issued is not None
    pki.ca.revoke(revoked.issued.serial)
    response = get_accounts(TppConnection(edge, [revoked.pem]), revoked.token("accounts", world.alpha_consent))
    refused(response, 403, "ACCESS_DENIED", "the client certificate is revoked")


def test_behind_cloudfront_a_viewers_own_certificate_header_is_refused(
        world: World, behind_cloudfront: tuple[CloudFrontViewerMtls, Any]) -> None:
    """Beta, over its own mutual TLS with CloudFront, adds a CloudFront-Viewer-Cert-Pem of alpha's: two headers."""
    edge, _ = behind_cloudfront
    forged = {"CloudFront-Viewer-Cert-Present": "1", "CloudFront-Viewer-Cert-Pem": quote(world.alpha.pem, safe="")}
    response = get_accounts(TppConnection(edge, [world.beta.pem]), world.alpha.token("accounts", world.alpha_consent),
                            **forged)
    refused(response, 403, "ACCESS_DENIED", "the request carries 2 CloudFront-Viewer-Cert-Pem headers")


def test_behind_cloudfront_a_viewer_without_a_certificate_gets_no_connection(
        world: World, behind_cloudfront: tuple[CloudFrontViewerMtls, Any]) -> None:
    edge, _ = behind_cloudfront
    with pytest.raises(TlsHandshakeFailed):
        get_accounts(TppConnection(edge, []), world.alpha.token("accounts", world.alpha_consent))


def test_behind_cloudfront_the_api_gateway_certificate_is_never_used(
        world: World, behind_cloudfront: tuple[CloudFrontViewerMtls, LocalGateway]) -> None:
    """Straight to the origin with alpha's certificate on the TLS connection and no CloudFront header (what the
    origin lock stops): the `cloudfront` authorizer does not fall back to API Gateway's mutual TLS."""
    _, origin = behind_cloudfront
    response = get_accounts(world.alpha.connect(origin), world.alpha.token("accounts", world.alpha_consent))
    refused(response, 401, "UNAUTHORIZED")


def test_behind_cloudfront_the_origin_lock_is_what_keeps_the_header_honest(
        world: World, behind_cloudfront: tuple[CloudFrontViewerMtls, LocalGateway]) -> None:
    """Why services/README.md calls the `cloudfront` source safe only with the origin lock: whoever reaches API
    Gateway directly writes CloudFront-Viewer-Cert-Pem, and a stolen token with its public certificate passes."""
    _, origin = behind_cloudfront
    forged = {"CloudFront-Viewer-Cert-Present": "1", "CloudFront-Viewer-Cert-Pem": quote(world.alpha.pem, safe="")}
    response = get_accounts(TppConnection(origin, []), world.alpha.token("accounts", world.alpha_consent), **forged)
    assert account_ids(response) == ["acc-0002-01", "acc-0002-02"]
