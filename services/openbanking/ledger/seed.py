"""Synthetic system-of-record data for the sandbox, the tests and the benchmark.

`seed(engine, customers=5, months=6, seed=1)` creates PSUs `psu-0001`, `psu-0002`, ... each with a personal
current account (salary, card spending, standing orders and direct debits as transactions, an overdraft
credit line), every second one a savings account, every fifth one a business current account; balances
consistent with the transactions; beneficiaries, standing orders, direct debits, the PSU's party and the
accounts' products. Same `seed` and `until` -> the same rows. An already seeded database is left alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from .models import (
    Account,
    AccountParty,
    Balance,
    Beneficiary,
    Customer,
    DirectDebit,
    IngestionCursor,
    Party,
    Product,
    StandingOrder,
    Transaction,
)

SERVICER_BIC = "MODLGB2LXXX"
PRODUCTS = [
    {"product_id": "prod-pca-01", "product_name": "Everyday Current Account", "product_type": "PersonalCurrentAccount",
     "marketing_state_id": "regular"},
    {"product_id": "prod-sav-01", "product_name": "Instant Access Saver", "product_type": "Other",
     "secondary_product_id": "saver-2024"},
    {"product_id": "prod-bca-01", "product_name": "Business Current Account", "product_type": "BusinessCurrentAccount",
     "marketing_state_id": "regular"},
]
FIRST_NAMES = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Freya", "Leo", "Lily", "Oscar"]
LAST_NAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Evans"]
TOWNS = [("London", "EC1A 1BB"), ("Leeds", "LS1 4AP"), ("Bristol", "BS1 5TR"), ("Glasgow", "G1 1XQ")]
MERCHANTS = [("Tesco Stores", "5411"), ("Pret A Manger", "5814"), ("TfL Travel", "4111"), ("Amazon UK", "5942"),
             ("Shell Petrol", "5541"), ("Boots", "5912"), ("Sainsbury's", "5411"), ("Netflix", "4899")]
PAYEES = [("Landlord Ltd", "Rent"), ("J Smith", "Dinner"), ("Gym Club", "Membership"), ("A Patel", "Gift"),
          ("City Council", "Council Tax")]
BILLERS = [("British Gas", "BG-"), ("Thames Water", "TW-"), ("Vodafone", "VF-"), ("Aviva Insurance", "AV-")]


@dataclass
class SeedSummary:
    accounts: dict[str, list[str]] = field(default_factory=dict)  # PSU id -> account ids
    transactions: int = 0
    created: bool = True


def _day_start(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _sort_code_account(rng: random.Random) -> str:
    return f"40{rng.randint(1000, 9999)}{rng.randint(10000000, 99999999)}"


class _Builder:
    def __init__(self, rng: random.Random, start: datetime, until: datetime) -> None:
        self.rng, self.start, self.until = rng, start, until
        self.rows: dict[type, list[dict[str, Any]]] = {m: [] for m in (
            Party, Customer, Account, AccountParty, Balance, Transaction, Beneficiary, StandingOrder, DirectDebit,
            IngestionCursor)}
        self.summary = SeedSummary()

    def customer(self, number: int) -> None:
        rng = self.rng
        psu_id, party_id = f"psu-{number:04d}", f"party-{number:04d}"
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        town, postcode = rng.choice(TOWNS)
        self.rows[Party].append({
            "party_id": party_id, "party_number": f"{number:08d}", "party_type": "Sole",
            "name": f"{first} {last}", "full_legal_name": f"{first} {last}", "legal_structure": "UK.OBIE.Individual",
            "email_address": f"{first.lower()}.{last.lower()}{number}@example.com",
            "mobile": f"+44-7{rng.randint(100000000, 999999999)}",
            "addresses": [{"AddressType": "Residential", "BuildingNumber": str(rng.randint(1, 200)),
                           "StreetName": rng.choice(["High Street", "Station Road", "Church Lane", "Park Avenue"]),
                           "TownName": town, "PostCode": postcode, "Country": "GB"}],
        })
        self.rows[Customer].append({"psu_id": psu_id, "party_id": party_id})
        kinds = ["current"] + (["savings"] if number % 2 == 0 else []) + (["business"] if number % 5 == 0 else [])
        ids = []
        for index, kind in enumerate(kinds, start=1):
            account_id = f"acc-{number:04d}-{index:02d}"
            ids.append(account_id)
            self.account(account_id, psu_id, party_id, kind, f"{first} {last}")
        self.summary.accounts[psu_id] = ids

    def account(self, account_id: str, psu_id: str, party_id: str, kind: str, holder: str) -> None:
        rng = self.rng
        sub_type, account_type, product = {
            "current": ("CurrentAccount", "Personal", "prod-pca-01"),
            "savings": ("Savings", "Personal", "prod-sav-01"),
            "business": ("CurrentAccount", "Business", "prod-bca-01"),
        }[kind]
        opened = self.start - timedelta(days=rng.randint(200, 3000))
        self.rows[Account].append({
            "account_id": account_id, "psu_id": psu_id, "status": "Enabled", "status_update_date_time": opened,
            "currency": "GBP", "account_type": account_type, "account_sub_type": sub_type,
            "description": {"current": "Personal current account", "savings": "Instant access savings",
                            "business": "Business current account"}[kind],
            "nickname": {"current": "Bills", "savings": "Rainy day", "business": "Shop"}[kind],
            "opening_date": opened, "maturity_date": None, "scheme_name": "UK.OBIE.SortCodeAccountNumber",
            "identification": _sort_code_account(rng), "account_name": holder, "secondary_identification": None,
            "servicer_bic": SERVICER_BIC, "product_id": product,
        })
        self.rows[AccountParty].append({"account_id": account_id, "party_id": party_id,
                                        "account_role": "UK.OBIE.Principal", "beneficial_ownership": True,
                                        "primary": True})
        self.rows[IngestionCursor].append({"account_id": account_id, "last_sequence": 0, "updated_at": self.until})
        events = self.activity(account_id, kind)
        balance = Decimal(rng.randint(200, 4000)) + Decimal(rng.randint(0, 99)) / 100
        for n, (when, amount, fields) in enumerate(sorted(events, key=lambda e: e[0]), start=1):
            balance += amount
            self.rows[Transaction].append({
                "transaction_id": f"tx-{account_id}-{n:05d}", "account_id": account_id,
                "credit_debit": "Credit" if amount >= 0 else "Debit", "status": "Booked",
                "booking_date_time": when, "value_date_time": when, "amount": abs(amount), "currency": "GBP",
                "balance_credit_debit": "Credit" if balance >= 0 else "Debit", "balance_amount": abs(balance),
                **fields,
            })
        self.summary.transactions += len(events)
        overdraft = Decimal(1000) if kind != "savings" else Decimal(0)
        available = balance + overdraft
        credit_lines = [{"Included": True, "Type": "Pre-Agreed",
                         "Amount": {"Amount": f"{overdraft:.2f}", "Currency": "GBP"}}] if overdraft else []
        for balance_type, amount, lines in (("InterimBooked", balance, []),
                                            ("InterimAvailable", available, credit_lines)):
            self.rows[Balance].append({
                "account_id": account_id, "type": balance_type, "credit_debit": "Credit" if amount >= 0 else "Debit",
                "amount": abs(amount), "currency": "GBP", "date_time": self.until, "credit_lines": lines})

    def activity(self, account_id: str, kind: str) -> list[tuple[datetime, Decimal, dict[str, Any]]]:
        """Dated signed amounts and the descriptive fields of each transaction."""
        rng = self.rng
        out: list[tuple[datetime, Decimal, dict[str, Any]]] = []

        def at(day: datetime) -> datetime:
            return day + timedelta(hours=rng.randint(7, 21), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))

        def pennies(low: int, high: int) -> Decimal:
            return Decimal(rng.randint(low * 100, high * 100)) / 100

        days = (self.until - self.start).days
        if kind == "savings":
            for month_day in range(0, days - 1, 30):
                out.append((at(self.start + timedelta(days=month_day + 1)), pennies(50, 400),
                            {"transaction_information": "Monthly saving", "bank_transaction_code": "ReceivedCreditTransfers",
                             "bank_transaction_sub_code": "DomesticCreditTransfer", "proprietary_code": "TFR"}))
            return out
        salary = pennies(1800, 4500) if kind == "current" else pennies(3000, 9000)
        payees = rng.sample(PAYEES, 2)
        billers = rng.sample(BILLERS, 2)
        for offset in range(days):
            day = self.start + timedelta(days=offset)
            if day.day == 25:
                out.append((at(day), salary, {
                    "transaction_information": "Salary" if kind == "current" else "Card settlements",
                    "transaction_reference": f"PAY{day:%Y%m}", "bank_transaction_code": "ReceivedCreditTransfers",
                    "bank_transaction_sub_code": "DomesticCreditTransfer", "proprietary_code": "BGC",
                    "counterparty_scheme_name": "UK.OBIE.SortCodeAccountNumber",
                    "counterparty_identification": _sort_code_account(rng), "counterparty_name": "ACME Payroll"}))
            if day.day == 15:
                payee, reference = payees[0]
                out.append((at(day), -pennies(20, 600), {
                    "transaction_information": f"Standing order {payee}", "transaction_reference": reference,
                    "bank_transaction_code": "IssuedCreditTransfers", "bank_transaction_sub_code": "StandingOrder",
                    "proprietary_code": "SO", "counterparty_scheme_name": "UK.OBIE.SortCodeAccountNumber",
                    "counterparty_identification": _sort_code_account(rng), "counterparty_name": payee}))
            if day.day in (1, 10):
                biller, prefix = billers[0 if day.day == 1 else 1]
                out.append((at(day), -pennies(15, 120), {
                    "transaction_information": f"Direct debit {biller}", "transaction_reference": f"{prefix}{day:%Y%m}",
                    "bank_transaction_code": "IssuedDirectDebits", "bank_transaction_sub_code": "DirectDebitPayment",
                    "proprietary_code": "DD"}))
            for _ in range(rng.choice((0, 1, 1, 2))):
                merchant, mcc = rng.choice(MERCHANTS)
                out.append((at(day), -pennies(2, 80), {
                    "transaction_information": f"Card purchase {merchant}", "bank_transaction_code": "IssuedCardPayments",
                    "bank_transaction_sub_code": "POSPayment", "proprietary_code": "POS", "proprietary_issuer": "VISA",
                    "merchant_name": merchant, "merchant_category_code": mcc}))
        self.mandates(account_id, payees, billers)
        return out

    def mandates(self, account_id: str, payees: list[tuple[str, str]], billers: list[tuple[str, str]]) -> None:
        rng = self.rng
        for n, (payee, reference) in enumerate(payees, start=1):
            self.rows[Beneficiary].append({
                "beneficiary_id": f"ben-{account_id}-{n:02d}", "account_id": account_id,
                "beneficiary_type": "Trusted" if n == 1 else "Ordinary", "reference": reference,
                "creditor_scheme_name": "UK.OBIE.SortCodeAccountNumber",
                "creditor_identification": _sort_code_account(rng), "creditor_name": payee,
                "creditor_agent_bic": None})
        payee, reference = payees[0]
        amount = Decimal(rng.randint(2000, 60000)) / 100
        self.rows[StandingOrder].append({
            "standing_order_id": f"so-{account_id}-01", "account_id": account_id, "frequency": "IntrvlMnthDay:01:15",
            "reference": reference, "status": "Active", "currency": "GBP",
            "first_payment_date_time": self.start.replace(day=15), "first_payment_amount": amount,
            "next_payment_date_time": (self.until + timedelta(days=31)).replace(day=15), "next_payment_amount": amount,
            "last_payment_date_time": None, "last_payment_amount": None,
            "final_payment_date_time": None, "final_payment_amount": None, "number_of_payments": None,
            "creditor_scheme_name": "UK.OBIE.SortCodeAccountNumber",
            "creditor_identification": _sort_code_account(rng), "creditor_name": payee})
        for n, (biller, prefix) in enumerate(billers, start=1):
            self.rows[DirectDebit].append({
                "direct_debit_id": f"dd-{account_id}-{n:02d}", "account_id": account_id,
                "mandate_identification": f"{prefix}{rng.randint(100000, 999999)}", "status": "Active",
                "name": biller, "frequency": "UK.OBIE.Monthly",
                "previous_payment_date_time": self.until - timedelta(days=rng.randint(1, 28)),
                "previous_payment_amount": Decimal(rng.randint(1500, 12000)) / 100, "currency": "GBP"})


def seed(engine: Engine, *, customers: int = 5, months: int = 6, seed: int = 1,
         until: datetime | None = None) -> SeedSummary:
    """Fill an empty ledger. Transactions run up to `until` (default: the start of today, UTC), balances are
    as at `until`."""
    if customers < 1 or months < 1:
        raise ValueError(f"seed: customers ({customers}) and months ({months}) must be at least 1")
    end = _day_start(until or datetime.now(UTC))
    start = end - timedelta(days=round(months * 30.44))
    with Session(engine) as session, session.begin():
        session.execute(text("SELECT pg_advisory_xact_lock(7291002)"))  # concurrent seeders: one seeds, one finds it
        if session.scalar(select(func.count()).select_from(Customer)):
            existing = SeedSummary(created=False)
            for psu_id, account_id in session.execute(select(Account.psu_id, Account.account_id)
                                                      .order_by(Account.account_id)):
                existing.accounts.setdefault(psu_id, []).append(account_id)
            existing.transactions = session.scalar(select(func.count()).select_from(Transaction)) or 0
            return existing
        builder = _Builder(random.Random(seed), start, end)
        for number in range(1, customers + 1):
            builder.customer(number)
        builder.rows = {Product: list(PRODUCTS), **builder.rows}
        for model, rows in builder.rows.items():
            if rows:  # executemany needs one key set: absent optional fields become NULL
                columns = [c.key for c in model.__table__.columns]
                session.execute(insert(model), [{c: row.get(c) for c in columns} for row in rows])
    return builder.summary
