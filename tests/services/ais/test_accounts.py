"""Accounts and per-account resources: only the consent's accounts, only what its permissions show."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from .conftest import ALL_PERMISSIONS, BASE, BASE_URL, OTHER_TPP, authorised, headers, resource

BASIC = ["ReadAccountsBasic", "ReadBalances", "ReadBeneficiariesBasic", "ReadDirectDebits", "ReadParty",
         "ReadPartyPSU", "ReadProducts", "ReadStandingOrdersBasic", "ReadTransactionsBasic", "ReadTransactionsCredits",
         "ReadTransactionsDebits"]


@pytest.fixture(scope="module")
def detail(app_client: TestClient) -> str:
    return authorised(app_client, ALL_PERMISSIONS)


@pytest.fixture(scope="module")
def basic(app_client: TestClient) -> str:
    return authorised(app_client, BASIC)


def codes(response) -> list[str]:
    return [e["ErrorCode"] for e in response.json()["Errors"]]


def test_accounts_lists_exactly_the_consented_accounts_with_detail(client: TestClient, detail: str) -> None:
    response = resource(client, "/accounts", detail)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [a["AccountId"] for a in body["Data"]["Account"]] == ["acc-0002-01", "acc-0002-02"]
    first = body["Data"]["Account"][0]
    assert first["Account"][0]["SchemeName"] == "UK.OBIE.SortCodeAccountNumber"
    assert first["Servicer"]["SchemeName"] == "UK.OBIE.BICFI"
    assert body["Links"]["Self"] == f"{BASE_URL}{BASE}/accounts"
    assert body["Meta"]["TotalPages"] == 1
    assert "MaturityDate" not in first  # absent optional fields are omitted, not null


def test_basic_accounts_hide_identification_and_servicer(client: TestClient, basic: str) -> None:
    account = resource(client, "/accounts/acc-0002-01", basic).json()["Data"]["Account"][0]
    assert account["AccountId"] == "acc-0002-01" and account["Currency"] == "GBP"
    assert "Account" not in account and "Servicer" not in account


def test_detail_implies_basic(client: TestClient) -> None:
    consent = authorised(client, ["ReadAccountsDetail", "ReadTransactionsDetail", "ReadTransactionsDebits"])
    assert resource(client, "/accounts", consent).status_code == 200
    transactions = resource(client, "/accounts/acc-0002-01/transactions", consent)
    assert transactions.status_code == 200
    assert all(t["CreditDebitIndicator"] == "Debit" for t in transactions.json()["Data"]["Transaction"])


@pytest.mark.parametrize("account_id", ["acc-0001-01", "acc-9999-01"])
def test_accounts_outside_the_consent_are_unknown_400(client: TestClient, detail: str, account_id: str) -> None:
    for suffix in ("", "/balances", "/transactions", "/beneficiaries", "/standing-orders", "/direct-debits",
                   "/party", "/product"):
        response = resource(client, f"/accounts/{account_id}{suffix}", detail)
        assert response.status_code == 400, (suffix, response.text)
        assert codes(response) == ["UK.OBIE.Resource.NotFound"]


def test_another_tpps_consent_is_forbidden(client: TestClient, detail: str) -> None:
    response = resource(client, "/accounts", detail, tpp=OTHER_TPP)
    assert response.status_code == 403 and codes(response) == ["UK.OBIE.Resource.ConsentMismatch"]


def test_resources_need_a_consent_bound_token_with_the_accounts_scope(client: TestClient, detail: str) -> None:
    no_consent = client.get(f"{BASE}/accounts", headers=headers())
    assert no_consent.status_code == 403
    wrong_scope = client.get(f"{BASE}/accounts", headers=headers(scopes="payments", consent_id=detail))
    assert wrong_scope.status_code == 403
    unknown_consent = resource(client, "/accounts", "aac-never-issued")
    assert unknown_consent.status_code == 403
    anonymous = client.get(f"{BASE}/accounts")
    assert anonymous.status_code == 401 and anonymous.headers["x-fapi-interaction-id"]


@pytest.mark.parametrize(("path", "needs"), [
    ("/accounts/acc-0002-01/balances", "ReadBalances"),
    ("/accounts/acc-0002-01/transactions", "ReadTransactionsBasic"),
    ("/accounts/acc-0002-01/beneficiaries", "ReadBeneficiariesBasic"),
    ("/accounts/acc-0002-01/standing-orders", "ReadStandingOrdersBasic"),
    ("/accounts/acc-0002-01/direct-debits", "ReadDirectDebits"),
    ("/accounts/acc-0002-01/party", "ReadParty"),
    ("/accounts/acc-0002-01/product", "ReadProducts"),
    ("/party", "ReadPartyPSU"),
])
def test_each_resource_needs_its_permission(client: TestClient, path: str, needs: str) -> None:
    accounts_only = authorised(client, ["ReadAccountsBasic"])
    refused = resource(client, path, accounts_only)
    assert refused.status_code == 403 and needs in refused.json()["Errors"][0]["Message"]


def test_balances(client: TestClient, detail: str) -> None:
    body = resource(client, "/accounts/acc-0002-01/balances", detail).json()
    balances = {b["Type"]: b for b in body["Data"]["Balance"]}
    assert set(balances) == {"InterimAvailable", "InterimBooked"}
    booked, available = balances["InterimBooked"], balances["InterimAvailable"]
    assert booked["Amount"]["Currency"] == "GBP" and booked["AccountId"] == "acc-0002-01"
    signed = {k: float(b["Amount"]["Amount"]) * (1 if b["CreditDebitIndicator"] == "Credit" else -1)
              for k, b in balances.items()}
    # the overdraft is included in what is available
    assert available["CreditLine"][0]["Included"] is True
    assert signed["InterimAvailable"] == pytest.approx(signed["InterimBooked"] + 1000)


def test_beneficiaries_and_standing_orders_basic_vs_detail(client: TestClient, detail: str, basic: str) -> None:
    for path, key in (("beneficiaries", "Beneficiary"), ("standing-orders", "StandingOrder")):
        full = resource(client, f"/accounts/acc-0002-01/{path}", detail).json()["Data"][key]
        short = resource(client, f"/accounts/acc-0002-01/{path}", basic).json()["Data"][key]
        assert full and len(full) == len(short)
        assert all("CreditorAccount" in item for item in full)
        assert not any("CreditorAccount" in item or "CreditorAgent" in item for item in short)
    savings = resource(client, "/accounts/acc-0002-02/standing-orders", detail).json()["Data"]["StandingOrder"]
    assert savings == []  # an empty collection is 200 with []


def test_direct_debits_party_product(client: TestClient, detail: str) -> None:
    debits = resource(client, "/accounts/acc-0002-01/direct-debits", detail).json()["Data"]["DirectDebit"]
    assert debits and all(d["AccountId"] == "acc-0002-01" and d["MandateIdentification"] for d in debits)
    party = resource(client, "/accounts/acc-0002-01/party", detail).json()["Data"]["Party"]
    assert party["PartyId"] == "party-0002" and party["AccountRole"] == "UK.OBIE.Principal"
    product = resource(client, "/accounts/acc-0002-02/product", detail).json()["Data"]["Product"]
    assert product == [{"AccountId": "acc-0002-02", "ProductId": "prod-sav-01", "ProductName": "Instant Access Saver",
                        "ProductType": "Other", "SecondaryProductId": "saver-2024"}]
    psu = resource(client, "/party", detail).json()["Data"]["Party"]
    assert psu["PartyId"] == "party-0002" and "AccountRole" not in psu


def date_times(document: object) -> list[str]:
    """Every date-time value of a response document (fields named ...DateTime or ...Date)."""
    if isinstance(document, dict):
        return [v for k, v in document.items() if k.endswith(("DateTime", "Date")) and isinstance(v, str)] + [
            t for v in document.values() for t in date_times(v)]
    if isinstance(document, list):
        return [t for v in document for t in date_times(v)]
    return []


def test_date_times_carry_a_numeric_offset_as_in_pis(client: TestClient, detail: str) -> None:
    """One format across the APIs: `2017-04-05T10:43:07+00:00` (PIS's, the specs' examples), never `...Z`."""
    account = "acc-0002-01"
    seen: list[str] = []
    for path in ("/accounts", f"/accounts/{account}", f"/accounts/{account}/balances",
                 f"/accounts/{account}/transactions", f"/accounts/{account}/standing-orders",
                 f"/accounts/{account}/direct-debits"):
        answer = resource(client, path, detail)
        assert answer.status_code == 200, (path, answer.text)
        seen += date_times(answer.json())
    consent = client.get(f"{BASE}/account-access-consents/{detail}", headers=headers()).json()
    seen += date_times(consent)
    assert len(seen) > 20
    offset = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")
    assert all(offset.match(value) for value in seen), [v for v in seen if not offset.match(v)][:5]
