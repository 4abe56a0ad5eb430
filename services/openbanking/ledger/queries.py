"""Reads of the system-of-record copy, returning the OBIE resource shapes with every field the ledger holds.

The results are plain JSON-ready dicts so the Redis cache can keep them as they are; the AIS service
removes what a consent's permissions do not cover (Basic vs Detail, credits vs debits) afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, and_, func, inspect, select
from sqlalchemy.orm import Session

from .models import (
    Account,
    AccountParty,
    Balance,
    Beneficiary,
    Customer,
    DirectDebit,
    Party,
    Product,
    StandingOrder,
    Transaction,
)

#: The balance types that say what the customer can spend now, most authoritative first.
AVAILABLE_BALANCE_TYPES = ("InterimAvailable", "ClosingAvailable", "Expected", "InterimBooked", "ClosingBooked")


@dataclass(frozen=True)
class AvailableBalance:
    """Signed amount (negative = overdrawn) in the account's currency, and the balance type it came from."""

    account_id: str
    amount: Decimal
    currency: str
    type: str


def available_balance(session: Session, account_id: str) -> AvailableBalance | None:
    """What the account can spend now (for funds confirmation); None if the ledger has no such balance."""
    rows = session.scalars(select(Balance).where(Balance.account_id == account_id,
                                                 Balance.type.in_(AVAILABLE_BALANCE_TYPES))).all()
    by_type = {row.type: row for row in rows}
    for kind in AVAILABLE_BALANCE_TYPES:
        row = by_type.get(kind)
        if row is not None:
            signed = row.amount if row.credit_debit == "Credit" else -row.amount
            return AvailableBalance(account_id, signed, row.currency, kind)
    return None


def fmt_amount(value: Decimal) -> str:
    """OBIE amount text (`^\\d{1,13}\\.\\d{1,5}$`): at least two decimals, at most five, never negative."""
    value = abs(value)
    text = f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else format(value.normalize(), "f")
    return text


def fmt_time(value: datetime) -> str:
    """ISO 8601 in UTC with an explicit offset (naive values are UTC by convention of this schema)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _money(amount: Decimal | None, currency: str | None) -> dict[str, str] | None:
    if amount is None or currency is None:
        return None
    return {"Amount": fmt_amount(amount), "Currency": currency}


def _drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    """OBIE: optional fields are omitted, never sent empty."""
    return {k: v for k, v in doc.items() if v is not None}


# --- accounts -----------------------------------------------------------------------------------------------

def account_ids_of_psu(session: Session, psu_id: str) -> set[str]:
    return set(session.scalars(select(Account.account_id).where(Account.psu_id == psu_id)).all())


def psu_exists(session: Session, psu_id: str) -> bool:
    return session.get(Customer, psu_id) is not None


def account_doc(account: Account) -> dict[str, Any]:
    """OBAccount6 with the identification and servicer (the Detail view)."""
    identification = _drop_none({
        "SchemeName": account.scheme_name, "Identification": account.identification,
        "Name": account.account_name, "SecondaryIdentification": account.secondary_identification})
    return _drop_none({
        "AccountId": account.account_id,
        "Status": account.status,
        "StatusUpdateDateTime": fmt_time(account.status_update_date_time),
        "Currency": account.currency,
        "AccountType": account.account_type,
        "AccountSubType": account.account_sub_type,
        "Description": account.description,
        "Nickname": account.nickname,
        "OpeningDate": fmt_time(account.opening_date) if account.opening_date else None,
        "MaturityDate": fmt_time(account.maturity_date) if account.maturity_date else None,
        "Account": [identification],
        "Servicer": {"SchemeName": "UK.OBIE.BICFI", "Identification": account.servicer_bic}
        if account.servicer_bic else None,
    })


def accounts(session: Session, account_ids: list[str]) -> list[dict[str, Any]]:
    """The accounts among `account_ids` that the ledger holds, in the given order."""
    rows = {a.account_id: a for a in session.scalars(select(Account).where(Account.account_id.in_(account_ids)))}
    return [account_doc(rows[i]) for i in account_ids if i in rows]


def account(session: Session, account_id: str) -> dict[str, Any] | None:
    row = session.get(Account, account_id)
    return account_doc(row) if row is not None else None


# --- balances -----------------------------------------------------------------------------------------------

def balances(session: Session, account_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(Balance).where(Balance.account_id == account_id).order_by(Balance.type)).all()
    return [_drop_none({
        "AccountId": b.account_id,
        "CreditDebitIndicator": b.credit_debit,
        "Type": b.type,
        "DateTime": fmt_time(b.date_time),
        "Amount": _money(b.amount, b.currency),
        "CreditLine": list(b.credit_lines) or None,
    }) for b in rows]


# --- transactions -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TransactionWindow:
    """Which transactions a request may see: booking time bounds (inclusive, UTC) and direction."""

    from_time: datetime | None = None
    to_time: datetime | None = None
    credit_debit: str | None = None  # "Credit", "Debit" or None for both

    def key(self) -> str:
        def iso(value: datetime | None) -> str:
            return fmt_time(value) if value else "-"
        return f"{iso(self.from_time)}|{iso(self.to_time)}|{self.credit_debit or '*'}"


#: Every mapped column of a transaction, selected as plain row values: a page is read once into a JSON-ready dict
#: and cached, so ORM objects (identity map, change tracking, instrumented attributes) would be pure overhead.
_TRANSACTION_COLUMNS = tuple(getattr(Transaction, column.key) for column in inspect(Transaction).column_attrs)


def transaction_doc(t: Transaction | Row[*tuple[Any, ...]]) -> dict[str, Any]:
    counterparty = _drop_none({"SchemeName": t.counterparty_scheme_name,
                               "Identification": t.counterparty_identification,
                               "Name": t.counterparty_name}) if t.counterparty_identification else None
    return _drop_none({
        "AccountId": t.account_id,
        "TransactionId": t.transaction_id,
        "TransactionReference": t.transaction_reference,
        "CreditDebitIndicator": t.credit_debit,
        "Status": t.status,
        "BookingDateTime": fmt_time(t.booking_date_time),
        "ValueDateTime": fmt_time(t.value_date_time) if t.value_date_time else None,
        "TransactionInformation": t.transaction_information,
        "Amount": _money(t.amount, t.currency),
        "BankTransactionCode": {"Code": t.bank_transaction_code, "SubCode": t.bank_transaction_sub_code}
        if t.bank_transaction_code and t.bank_transaction_sub_code else None,
        "ProprietaryBankTransactionCode": _drop_none({"Code": t.proprietary_code, "Issuer": t.proprietary_issuer})
        if t.proprietary_code else None,
        "Balance": {"CreditDebitIndicator": t.balance_credit_debit, "Type": "InterimBooked",
                    "Amount": _money(t.balance_amount, t.currency)}
        if t.balance_amount is not None and t.balance_credit_debit else None,
        "MerchantDetails": _drop_none({"MerchantName": t.merchant_name, "MerchantCategoryCode": t.merchant_category_code})
        if t.merchant_name or t.merchant_category_code else None,
        "CreditorAccount": counterparty if t.credit_debit == "Debit" else None,
        "DebtorAccount": counterparty if t.credit_debit == "Credit" else None,
    })


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def transactions_page(session: Session, account_id: str, window: TransactionWindow, query: TransactionWindow,
                      page: int, page_size: int) -> dict[str, Any]:
    """One page (1-based, newest first) of the transactions inside both `window` (what the consent allows)
    and `query` (the request's filters), with the total count and the first/last available booking times
    inside `window`."""
    base = [Transaction.account_id == account_id]
    if window.from_time:
        base.append(Transaction.booking_date_time >= _utc(window.from_time))
    if window.to_time:
        base.append(Transaction.booking_date_time <= _utc(window.to_time))
    if window.credit_debit:
        base.append(Transaction.credit_debit == window.credit_debit)
    narrowed = list(base)
    if query.from_time:
        narrowed.append(Transaction.booking_date_time >= _utc(query.from_time))
    if query.to_time:
        narrowed.append(Transaction.booking_date_time <= _utc(query.to_time))
    # one statement for the window's bounds and the filtered count (the filters only narrow the window)
    count = func.count().filter(and_(*narrowed[len(base):])) if len(narrowed) > len(base) else func.count()
    first, last, total = session.execute(select(func.min(Transaction.booking_date_time),
                                                func.max(Transaction.booking_date_time), count).where(*base)).one()
    rows = session.execute(select(*_TRANSACTION_COLUMNS).where(*narrowed)
                           .order_by(Transaction.booking_date_time.desc(), Transaction.transaction_id.desc())
                           .offset((page - 1) * page_size).limit(page_size)).all()
    return {
        "Transactions": [transaction_doc(t) for t in rows],
        "Total": int(total or 0),
        "FirstAvailableDateTime": fmt_time(first) if first else None,
        "LastAvailableDateTime": fmt_time(last) if last else None,
    }


# --- beneficiaries, standing orders, direct debits ----------------------------------------------------------

def beneficiaries(session: Session, account_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(Beneficiary).where(Beneficiary.account_id == account_id)
                           .order_by(Beneficiary.beneficiary_id)).all()
    return [_drop_none({
        "AccountId": b.account_id,
        "BeneficiaryId": b.beneficiary_id,
        "BeneficiaryType": b.beneficiary_type,
        "Reference": b.reference,
        "CreditorAgent": {"SchemeName": "UK.OBIE.BICFI", "Identification": b.creditor_agent_bic}
        if b.creditor_agent_bic else None,
        "CreditorAccount": _drop_none({"SchemeName": b.creditor_scheme_name, "Identification": b.creditor_identification,
                                       "Name": b.creditor_name}),
    }) for b in rows]


def standing_orders(session: Session, account_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(StandingOrder).where(StandingOrder.account_id == account_id)
                           .order_by(StandingOrder.standing_order_id)).all()

    def when(value: datetime | None) -> str | None:
        return fmt_time(value) if value else None

    return [_drop_none({
        "AccountId": s.account_id,
        "StandingOrderId": s.standing_order_id,
        "Frequency": s.frequency,
        "Reference": s.reference,
        "FirstPaymentDateTime": when(s.first_payment_date_time),
        "NextPaymentDateTime": when(s.next_payment_date_time),
        "LastPaymentDateTime": when(s.last_payment_date_time),
        "FinalPaymentDateTime": when(s.final_payment_date_time),
        "NumberOfPayments": s.number_of_payments,
        "StandingOrderStatusCode": s.status,
        "FirstPaymentAmount": _money(s.first_payment_amount, s.currency),
        "NextPaymentAmount": _money(s.next_payment_amount, s.currency),
        "LastPaymentAmount": _money(s.last_payment_amount, s.currency),
        "FinalPaymentAmount": _money(s.final_payment_amount, s.currency),
        "CreditorAccount": _drop_none({"SchemeName": s.creditor_scheme_name, "Identification": s.creditor_identification,
                                       "Name": s.creditor_name}),
    }) for s in rows]


def direct_debits(session: Session, account_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(DirectDebit).where(DirectDebit.account_id == account_id)
                           .order_by(DirectDebit.direct_debit_id)).all()
    return [_drop_none({
        "AccountId": d.account_id,
        "DirectDebitId": d.direct_debit_id,
        "MandateIdentification": d.mandate_identification,
        "DirectDebitStatusCode": d.status,
        "Name": d.name,
        "PreviousPaymentDateTime": fmt_time(d.previous_payment_date_time) if d.previous_payment_date_time else None,
        "Frequency": d.frequency,
        "PreviousPaymentAmount": _money(d.previous_payment_amount, d.currency),
    }) for d in rows]


# --- party and product --------------------------------------------------------------------------------------

def party_doc(party: Party, link: AccountParty | None = None) -> dict[str, Any]:
    return _drop_none({
        "PartyId": party.party_id,
        "PartyNumber": party.party_number,
        "PartyType": party.party_type,
        "Name": party.name,
        "FullLegalName": party.full_legal_name,
        "LegalStructure": party.legal_structure,
        "BeneficialOwnership": link.beneficial_ownership if link else None,
        "AccountRole": link.account_role if link else None,
        "EmailAddress": party.email_address,
        "Phone": party.phone,
        "Mobile": party.mobile,
        "Address": list(party.addresses) or None,
    })


def account_party(session: Session, account_id: str) -> dict[str, Any] | None:
    """The account's primary party (the account holder), with its role on the account."""
    row = session.execute(select(Party, AccountParty).join(AccountParty, AccountParty.party_id == Party.party_id)
                          .where(AccountParty.account_id == account_id)
                          .order_by(AccountParty.primary.desc(), Party.party_id).limit(1)).first()
    return party_doc(row[0], row[1]) if row else None


def psu_party(session: Session, psu_id: str) -> dict[str, Any] | None:
    """The party of the PSU who authorised the consent (GET /party)."""
    row = session.execute(select(Party).join(Customer, Customer.party_id == Party.party_id)
                          .where(Customer.psu_id == psu_id)).scalar_one_or_none()
    return party_doc(row) if row else None


def product(session: Session, account_id: str) -> dict[str, Any] | None:
    row = session.execute(select(Product).join(Account, Account.product_id == Product.product_id)
                          .where(Account.account_id == account_id)).scalar_one_or_none()
    if row is None:
        return None
    return _drop_none({
        "AccountId": account_id,
        "ProductId": row.product_id,
        "ProductName": row.product_name,
        "ProductType": row.product_type,
        "SecondaryProductId": row.secondary_product_id,
        "MarketingStateId": row.marketing_state_id,
    })
