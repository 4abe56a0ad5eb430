"""Steps of the payment journey, as the TPP, the IdP and core banking take them."""

from __future__ import annotations

from typing import Any

from httpx import Client, Response

from tests.services.pis.support import PIS, Tpp, consent_request, payment_request

IDP_HEADERS = {"x-ob-tpp-id": "aspsp-idp", "x-ob-client-id": "idp", "x-ob-scopes": "openbanking:consent-authorisation"}
CORE_HEADERS = {"x-ob-tpp-id": "aspsp-core", "x-ob-client-id": "core", "x-ob-scopes": "openbanking:payment-status"}


def create_consent(client: Client, tpp: Tpp, document: dict[str, Any] | None = None,
                   key: str | None = None) -> dict[str, Any]:
    response = client.post(f"{PIS}/domestic-payment-consents", **tpp.signed_post(document or consent_request(), key=key))
    assert response.status_code == 201, response.text
    return response.json()


def decide(client: Client, consent_id: str, psu_id: str, status: str = "Authorised",
           account_id: str | None = None) -> Response:
    body: dict[str, Any] = {"Status": status, "PsuId": psu_id}
    if account_id:
        body["AccountId"] = account_id
    return client.post(f"/internal/pisp/domestic-payment-consents/{consent_id}/authorisation", json=body,
                       headers=IDP_HEADERS)


def authorised_consent(client: Client, tpp: Tpp, psu_id: str, account_id: str | None = None,
                       document: dict[str, Any] | None = None, *, idp_client: Client | None = None) -> str:
    """`idp_client` reaches the service's internal endpoint when `client` goes through the API gateway."""
    consent_id = create_consent(client, tpp, document)["Data"]["ConsentId"]
    assert decide(idp_client or client, consent_id, psu_id, account_id=account_id).status_code == 204
    return consent_id


def submit(client: Client, tpp: Tpp, consent_id: str, document: dict[str, Any] | None = None,
           key: str | None = None) -> Response:
    return client.post(f"{PIS}/domestic-payments",
                       **tpp.signed_post(document or payment_request(consent_id), key=key, consent_id=consent_id))


def set_status(client: Client, payment_id: str, status: str) -> Response:
    return client.post(f"/internal/pisp/domestic-payments/{payment_id}/status", json={"Status": status},
                       headers=CORE_HEADERS)
