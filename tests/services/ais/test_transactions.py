"""GET /accounts/{AccountId}/transactions: pagination links, booking-date filters, the consent's window and
direction, Basic vs Detail."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from openbanking.ledger.models import Transaction

from .conftest import ALL_PERMISSIONS, BASE, BASE_URL, authorised, headers, resource

ACCOUNT = "acc-0002-01"
PATH = f"/accounts/{ACCOUNT}/transactions"


@pytest.fixture(scope="module")
def ledger_rows(ledger: Engine, seeded) -> list[tuple[str, datetime, str]]:
    """(id, booking time, direction) of the account's transactions, newest first, straight from PostgreSQL."""
    with Session(ledger) as session:
        rows = session.execute(select(Transaction.transaction_id, Transaction.booking_date_time,
                                      Transaction.credit_debit)
                               .where(Transaction.account_id == ACCOUNT)
                               .order_by(Transaction.booking_date_time.desc(), Transaction.transaction_id.desc()))
        return [(r[0], r[1].astimezone(UTC), r[2]) for r in rows]


@pytest.fixture(scope="module")
def detail(app_client: TestClient) -> str:
    return authorised(app_client, ALL_PERMISSIONS)


def ids(response) -> list[str]:
    return [t["TransactionId"] for t in response.json()["Data"]["Transaction"]]


def test_pages_walk_every_transaction_once_with_absolute_links(client: TestClient, detail: str,
                                                               ledger_rows: list) -> None:
    expected_pages = math.ceil(len(ledger_rows) / 25)
    assert expected_pages >= 3
    seen: list[str] = []
    url = f"{BASE}{PATH}"
    for page in range(1, expected_pages + 1):
        response = client.get(url, headers=headers(consent_id=detail))
        assert response.status_code == 200, response.text
        body = response.json()
        links, meta = body["Links"], body["Meta"]
        assert meta["TotalPages"] == expected_pages
        assert links["Self"].startswith(BASE_URL) and links["First"].endswith("page=1")
        assert links["Last"].endswith(f"page={expected_pages}")
        assert ("Prev" in links) == (page > 1) and ("Next" in links) == (page < expected_pages)
        seen += ids(response)
        if "Next" in links:
            assert parse_qs(urlsplit(links["Next"]).query)["page"] == [str(page + 1)]
            url = links["Next"].removeprefix(BASE_URL)
    assert seen == [r[0] for r in ledger_rows]
    first = resource(client, PATH, detail).json()["Meta"]
    assert datetime.fromisoformat(first["FirstAvailableDateTime"]) == ledger_rows[-1][1]
    assert datetime.fromisoformat(first["LastAvailableDateTime"]) == ledger_rows[0][1]


def test_links_keep_the_filters_and_a_page_beyond_the_last_is_400(client: TestClient, detail: str) -> None:
    response = resource(client, PATH, detail, fromBookingDateTime="2025-01-01T00:00:00", page=2)
    links = response.json()["Links"]
    assert parse_qs(urlsplit(links["Prev"]).query) == {"fromBookingDateTime": ["2025-01-01T00:00:00"], "page": ["1"]}
    assert parse_qs(urlsplit(links["Self"]).query) == {"fromBookingDateTime": ["2025-01-01T00:00:00"], "page": ["2"]}
    beyond = resource(client, PATH, detail, page=999)
    assert beyond.status_code == 400 and beyond.json()["Errors"][0]["Path"] == "page"
    assert resource(client, PATH, detail, page=0).status_code == 400


def test_booking_date_filters_ignore_the_timezone(client: TestClient, detail: str, ledger_rows: list) -> None:
    pivot = ledger_rows[40][1]
    wall = pivot.replace(tzinfo=None).isoformat()
    # "-05:00" would move the bound by five hours if it were honoured; the spec says to ignore it
    response = resource(client, PATH, detail, fromBookingDateTime=f"{wall}-05:00",
                        toBookingDateTime=(pivot + timedelta(days=3)).replace(tzinfo=None).isoformat() + "+09:00")
    expected = [r[0] for r in ledger_rows if pivot <= r[1] <= pivot + timedelta(days=3)]
    assert ids(response) == expected[:25] and expected


def test_date_only_filter_means_midnight(client: TestClient, detail: str, ledger_rows: list) -> None:
    response = resource(client, PATH, detail, toBookingDateTime="2025-01-10")
    cut = datetime(2025, 1, 10, tzinfo=UTC)
    assert ids(response) == [r[0] for r in ledger_rows if r[1] <= cut][:25]


@pytest.mark.parametrize("params", [{"fromBookingDateTime": "yesterday"}, {"toBookingDateTime": "2025-13-01"},
                                    {"fromBookingDateTime": "2025-02-01", "toBookingDateTime": "2025-01-01"}])
def test_bad_filters_are_400_invalid_date(client: TestClient, detail: str, params: dict) -> None:
    response = resource(client, PATH, detail, **params)
    assert response.status_code == 400
    assert response.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Field.InvalidDate"


@pytest.mark.parametrize(("direction", "permission"), [("Credit", "ReadTransactionsCredits"),
                                                       ("Debit", "ReadTransactionsDebits")])
def test_credits_or_debits_only(client: TestClient, ledger_rows: list, direction: str, permission: str) -> None:
    consent = authorised(client, ["ReadAccountsBasic", "ReadTransactionsDetail", permission])
    body = resource(client, PATH, consent).json()
    expected = [r[0] for r in ledger_rows if r[2] == direction]
    assert [t["TransactionId"] for t in body["Data"]["Transaction"]] == expected[:25]
    assert body["Meta"]["TotalPages"] == math.ceil(len(expected) / 25)


def test_basic_hides_the_detail_elements(client: TestClient, detail: str) -> None:
    basic = authorised(client, ["ReadAccountsBasic", "ReadTransactionsBasic", "ReadTransactionsCredits",
                                "ReadTransactionsDebits"])
    full = resource(client, PATH, detail).json()["Data"]["Transaction"]
    short = resource(client, PATH, basic).json()["Data"]["Transaction"]
    assert [t["TransactionId"] for t in full] == [t["TransactionId"] for t in short]
    assert any("MerchantDetails" in t for t in full) and all("Balance" in t for t in full)
    hidden = {"TransactionInformation", "Balance", "MerchantDetails", "CreditorAccount", "DebtorAccount"}
    assert not any(hidden & t.keys() for t in short)
    assert all({"Amount", "BookingDateTime", "CreditDebitIndicator", "Status"} <= t.keys() for t in short)


def test_the_consent_window_bounds_the_filters(client: TestClient, ledger_rows: list) -> None:
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 31, tzinfo=UTC)
    consent = authorised(client, ALL_PERMISSIONS, TransactionFromDateTime=start.isoformat(),
                         TransactionToDateTime=end.isoformat())
    body = resource(client, PATH, consent, fromBookingDateTime="2024-01-01").json()
    inside = [r for r in ledger_rows if start <= r[1] <= end]
    assert [t["TransactionId"] for t in body["Data"]["Transaction"]] == [r[0] for r in inside][:25]
    assert datetime.fromisoformat(body["Meta"]["FirstAvailableDateTime"]) == inside[-1][1]
    assert datetime.fromisoformat(body["Meta"]["LastAvailableDateTime"]) == inside[0][1]


def test_no_transactions_is_one_empty_page(client: TestClient, detail: str) -> None:
    body = resource(client, PATH, detail, fromBookingDateTime="2030-01-01").json()
    assert body["Data"]["Transaction"] == [] and body["Meta"]["TotalPages"] == 1
    assert "Next" not in body["Links"] and body["Links"]["Self"] == f"{BASE_URL}{BASE}{PATH}?fromBookingDateTime=2030-01-01"
