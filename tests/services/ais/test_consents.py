"""account-access-consents POST/GET/DELETE and the internal PSU authorisation: rules, statuses, ownership."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from .conftest import (
    BASE,
    BASE_URL,
    OTHER_TPP,
    TPP,
    Published,
    authorised,
    create_consent,
    decide,
    headers,
    resource,
)

CONSENTS = f"{BASE}/account-access-consents"


def post(client: TestClient, data: dict, tpp: str = TPP, **extra: str):
    return client.post(CONSENTS, headers=headers(tpp, **extra), json={"Data": data, "Risk": {}})


def error_codes(response) -> list[str]:
    return [e["ErrorCode"] for e in response.json()["Errors"]]


def test_create_answers_awaiting_authorisation_with_the_request_kept(client: TestClient) -> None:
    data = {"Permissions": ["ReadAccountsBasic", "ReadBalances", "ReadBalances"],
            "ExpirationDateTime": "2099-01-01T10:00:00+05:00",
            "TransactionFromDateTime": "2024-01-01T00:00:00+00:00", "TransactionToDateTime": "2025-01-01T00:00:00Z"}
    interaction = headers()["x-fapi-interaction-id"]
    response = post(client, data, **{"x-fapi-interaction-id": interaction})
    assert response.status_code == 201, response.text
    assert response.headers["x-fapi-interaction-id"] == interaction
    body = response.json()
    consent = body["Data"]
    assert consent["ConsentId"].startswith("aac-")
    assert consent["Status"] == "AwaitingAuthorisation"
    assert consent["Permissions"] == ["ReadAccountsBasic", "ReadBalances"]  # duplicates accepted, listed once
    # the ASPSP must not change ExpirationDateTime: same instant, same offset
    assert datetime.fromisoformat(consent["ExpirationDateTime"]) == datetime(2099, 1, 1, 5, tzinfo=UTC)
    assert consent["ExpirationDateTime"].endswith("+05:00")
    assert datetime.fromisoformat(consent["TransactionToDateTime"]) == datetime(2025, 1, 1, tzinfo=UTC)
    assert body["Risk"] == {}
    assert body["Links"]["Self"] == f"{BASE_URL}{CONSENTS}/{consent['ConsentId']}"
    assert "Meta" in body and None not in body["Data"].values()


@pytest.mark.parametrize(("permissions", "fragment"), [
    ([], "at least one"),
    (["ReadBalances"], "ReadAccountsBasic or ReadAccountsDetail"),
    (["ReadAccountsBasic", "ReadTransactionsBasic"], "needs ReadTransactionsCredits or ReadTransactionsDebits"),
    (["ReadAccountsBasic", "ReadTransactionsDetail"], "needs ReadTransactionsCredits or ReadTransactionsDebits"),
    (["ReadAccountsBasic", "ReadTransactionsCredits"], "needs ReadTransactionsBasic or ReadTransactionsDetail"),
    (["ReadAccountsBasic", "ReadTransactionsDebits"], "needs ReadTransactionsBasic or ReadTransactionsDetail"),
    (["ReadAccountsBasic", "ReadOffers"], "not supported"),
    (["ReadAccountsBasic", "ReadStatementsDetail"], "not supported"),
    (["ReadAccountsBasic", "ReadEverything"], ""),
])
def test_refused_permission_sets_are_400(client: TestClient, permissions: list[str], fragment: str) -> None:
    response = post(client, {"Permissions": permissions})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["Errors"][0]["ErrorCode"].startswith("UK.OBIE.Field.")
    assert body["Errors"][0].get("Path", "").startswith("Data.Permissions")
    assert fragment in body["Errors"][0]["Message"]


@pytest.mark.parametrize(("data", "code"), [
    ({"Permissions": ["ReadAccountsBasic"], "ExpirationDateTime": "2001-01-01T00:00:00+00:00"},
     "UK.OBIE.Field.InvalidDate"),
    ({"Permissions": ["ReadAccountsBasic"], "ExpirationDateTime": "not a date"}, "UK.OBIE.Field.InvalidDate"),
    ({"Permissions": ["ReadAccountsBasic"], "TransactionFromDateTime": "2025-02-01T00:00:00+00:00",
      "TransactionToDateTime": "2025-01-01T00:00:00+00:00"}, "UK.OBIE.Field.InvalidDate"),
    ({"Permissions": ["ReadAccountsBasic"], "Surprise": 1}, "UK.OBIE.Field.Unexpected"),
])
def test_bad_consent_bodies_are_400(client: TestClient, data: dict, code: str) -> None:
    response = post(client, data)
    assert response.status_code == 400, response.text
    assert code in error_codes(response)


def test_risk_is_required_and_must_be_empty(client: TestClient) -> None:
    missing = client.post(CONSENTS, headers=headers(), json={"Data": {"Permissions": ["ReadAccountsBasic"]}})
    assert missing.status_code == 400 and "UK.OBIE.Field.Missing" in error_codes(missing)
    extra = client.post(CONSENTS, headers=headers(), json={"Data": {"Permissions": ["ReadAccountsBasic"]},
                                                           "Risk": {"x": 1}})
    assert extra.status_code == 400


def test_consent_endpoints_need_the_accounts_scope_and_an_authorizer_verdict(client: TestClient) -> None:
    wrong_scope = client.post(CONSENTS, headers=headers(scopes="payments"),
                              json={"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}})
    assert wrong_scope.status_code == 403
    anonymous = client.post(CONSENTS, json={"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}})
    assert anonymous.status_code == 401 and anonymous.json()["Errors"]


def test_get_own_consent_other_tpp_forbidden_unknown_is_400(client: TestClient) -> None:
    consent = create_consent(client, ["ReadAccountsBasic"])
    url = f"{CONSENTS}/{consent['ConsentId']}"
    mine = client.get(url, headers=headers())
    assert mine.status_code == 200 and mine.json()["Data"] == consent
    theirs = client.get(url, headers=headers(OTHER_TPP))
    assert theirs.status_code == 403 and error_codes(theirs) == ["UK.OBIE.Resource.ConsentMismatch"]
    unknown = client.get(f"{CONSENTS}/aac-does-not-exist", headers=headers())
    assert unknown.status_code == 400 and error_codes(unknown) == ["UK.OBIE.Resource.NotFound"]


def test_delete_removes_the_consent_and_its_access(client: TestClient, published: Published) -> None:
    consent_id = authorised(client, ["ReadAccountsBasic"])
    assert resource(client, "/accounts", consent_id).status_code == 200
    assert client.delete(f"{CONSENTS}/{consent_id}", headers=headers(OTHER_TPP)).status_code == 403
    before = len(published.events)
    deleted = client.delete(f"{CONSENTS}/{consent_id}", headers=headers())
    assert deleted.status_code == 204 and deleted.content == b""
    assert deleted.headers["x-fapi-interaction-id"]
    assert client.get(f"{CONSENTS}/{consent_id}", headers=headers()).status_code == 400
    assert client.delete(f"{CONSENTS}/{consent_id}", headers=headers()).status_code == 400
    gone = resource(client, "/accounts", consent_id)
    assert gone.status_code == 403 and error_codes(gone) == ["UK.OBIE.Resource.InvalidConsentStatus"]
    # the TPP deleted its own consent: it is told nothing it does not know
    assert len(published.events) == before


def test_the_psu_revoking_at_the_bank_is_a_revocation_event(client: TestClient, published: Published) -> None:
    consent_id = authorised(client, ["ReadAccountsBasic"])
    url = f"/internal/aisp/account-access-consents/{consent_id}/revocation"
    bank = headers("bank", scopes="openbanking:consent-authorisation")
    assert client.post(url, json={"PsuId": "psu-0002"}, headers=headers()).status_code == 403, "not a TPP's call"
    not_theirs = client.post(url, json={"PsuId": "psu-0001"}, headers=bank)
    assert not_theirs.status_code == 400 and error_codes(not_theirs) == ["UK.OBIE.Resource.NotFound"]
    before = len(published.events)
    assert client.post(url, json={"PsuId": "psu-0002"}, headers=bank).status_code == 204
    read = client.get(f"{CONSENTS}/{consent_id}", headers=headers()).json()["Data"]
    assert read["Status"] == "Revoked"
    refused = resource(client, "/accounts", consent_id)
    assert refused.status_code == 403 and error_codes(refused) == ["UK.OBIE.Resource.InvalidConsentStatus"]
    assert len(published.events) == before + 1
    tpp_id, event_type, subject = published.events[-1]
    assert (tpp_id, event_type) == (TPP, "urn:uk:org:openbanking:events:consent-authorization-revoked")
    assert subject.resource_id == consent_id and subject.resource_type == "account-access-consent"
    again = client.post(url, json={"PsuId": "psu-0002"}, headers=bank)
    assert again.status_code == 400 and error_codes(again) == ["UK.OBIE.Resource.InvalidConsentStatus"]
    awaiting = create_consent(client, ["ReadAccountsBasic"])["ConsentId"]
    assert client.post(f"/internal/aisp/account-access-consents/{awaiting}/revocation", json={"PsuId": "psu-0002"},
                       headers=bank).status_code == 400
    assert len(published.events) == before + 1


def test_deleting_an_unauthorised_consent_publishes_nothing(client: TestClient, published: Published) -> None:
    consent = create_consent(client, ["ReadAccountsBasic"])
    before = len(published.events)
    assert client.delete(f"{CONSENTS}/{consent['ConsentId']}", headers=headers()).status_code == 204
    assert len(published.events) == before


def test_authorisation_moves_the_consent_once(client: TestClient) -> None:
    consent = create_consent(client, ["ReadAccountsBasic"])
    consent_id = consent["ConsentId"]
    assert decide(client, consent_id, accounts=["acc-0002-01"]).status_code == 204
    read = client.get(f"{CONSENTS}/{consent_id}", headers=headers()).json()["Data"]
    assert read["Status"] == "Authorised"
    assert read["StatusUpdateDateTime"] >= consent["StatusUpdateDateTime"]
    again = decide(client, consent_id, status="Rejected")
    assert again.status_code == 400 and error_codes(again) == ["UK.OBIE.Resource.InvalidConsentStatus"]


def test_rejected_consent_gives_no_access(client: TestClient) -> None:
    consent_id = create_consent(client, ["ReadAccountsBasic"])["ConsentId"]
    assert decide(client, consent_id, status="Rejected", accounts=["acc-0002-01"]).status_code == 204
    assert client.get(f"{CONSENTS}/{consent_id}", headers=headers()).json()["Data"]["Status"] == "Rejected"
    refused = resource(client, "/accounts", consent_id)
    assert refused.status_code == 403 and error_codes(refused) == ["UK.OBIE.Resource.InvalidConsentStatus"]


def test_awaiting_consent_gives_no_access(client: TestClient) -> None:
    consent_id = create_consent(client, ["ReadAccountsBasic"])["ConsentId"]
    assert resource(client, "/accounts", consent_id).status_code == 403


@pytest.mark.parametrize(("psu", "accounts", "path"), [
    ("psu-0002", ["acc-0001-01"], "AccountIds"),   # another customer's account
    ("psu-0002", [], "AccountIds"),                # nothing selected
    ("psu-9999", ["acc-0002-01"], "PsuId"),         # not a customer
])
def test_authorisation_checks_the_accounts_belong_to_the_psu(client: TestClient, psu: str, accounts: list[str],
                                                            path: str) -> None:
    consent_id = create_consent(client, ["ReadAccountsBasic"])["ConsentId"]
    response = decide(client, consent_id, psu=psu, accounts=accounts)
    assert response.status_code == 400 and response.json()["Errors"][0]["Path"] == path
    assert client.get(f"{CONSENTS}/{consent_id}", headers=headers()).json()["Data"]["Status"] == "AwaitingAuthorisation"


def test_authorisation_endpoint_needs_its_scope_and_a_known_consent(client: TestClient) -> None:
    consent_id = create_consent(client, ["ReadAccountsBasic"])["ConsentId"]
    url = f"/internal/aisp/account-access-consents/{consent_id}/authorisation"
    body = {"Status": "Authorised", "PsuId": "psu-0002", "AccountIds": ["acc-0002-01"]}
    assert client.post(url, json=body, headers=headers()).status_code == 403  # a TPP token cannot authorise
    unknown = decide(client, "aac-unknown", accounts=["acc-0002-01"])
    assert unknown.status_code == 400 and error_codes(unknown) == ["UK.OBIE.Resource.NotFound"]
    invalid = client.post(url, json={**body, "Status": "Revoked"},
                          headers=headers("idp", scopes="openbanking:consent-authorisation"))
    assert invalid.status_code == 400


def test_expired_consent_cannot_be_authorised_or_used(client: TestClient, clock) -> None:
    expiry = datetime.now(UTC) + timedelta(hours=1)
    consent_id = authorised(client, ["ReadAccountsBasic"], ExpirationDateTime=expiry.isoformat())
    assert resource(client, "/accounts", consent_id).status_code == 200
    clock.moment = expiry + timedelta(seconds=1)
    expired = resource(client, "/accounts", consent_id)
    assert expired.status_code == 403 and error_codes(expired) == ["UK.OBIE.Resource.InvalidConsentStatus"]
    late = create_consent(client, ["ReadAccountsBasic"], ExpirationDateTime=(expiry + timedelta(hours=1)).isoformat())
    clock.moment = expiry + timedelta(hours=2)
    assert decide(client, late["ConsentId"], accounts=["acc-0002-01"]).status_code == 400
