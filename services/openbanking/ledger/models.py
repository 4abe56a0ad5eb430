"""The system-of-record copy: what core banking tells us about customers, accounts and their money.

Tables mirror the OBIE resources closely (one column per field the APIs serve) so the AIS endpoints are
simple projections. Money is `NUMERIC(18, 5)` (OBIE amounts have up to 13 integer and 5 decimal digits)
and always non-negative; the direction lives in `credit_debit`. Timestamps are UTC (`timestamptz`).
The `ingestion_*` tables are the consumer's bookkeeping: the last applied sequence per account, the
message ids already seen, and messages held back until the gap before them fills.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, LargeBinary, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Money = Numeric(18, 5)


class Base(DeclarativeBase):
    pass


class Customer(Base):
    """A PSU: the person who logs in at the bank and authorises consents."""

    __tablename__ = "customers"
    psu_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.party_id"), nullable=False)


class Party(Base):
    """OBParty2: the PSU or another party related to an account."""

    __tablename__ = "parties"
    party_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    party_number: Mapped[str | None] = mapped_column(String(35))
    party_type: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(350))
    full_legal_name: Mapped[str | None] = mapped_column(String(350))
    legal_structure: Mapped[str | None] = mapped_column(String(64))
    email_address: Mapped[str | None] = mapped_column(String(256))
    phone: Mapped[str | None] = mapped_column(String(35))
    mobile: Mapped[str | None] = mapped_column(String(35))
    #: OBParty2.Address items, already in the OBIE shape.
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)


class Product(Base):
    __tablename__ = "products"
    product_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_name: Mapped[str] = mapped_column(String(350), nullable=False)
    product_type: Mapped[str] = mapped_column(String(32), nullable=False)
    secondary_product_id: Mapped[str | None] = mapped_column(String(70))
    marketing_state_id: Mapped[str | None] = mapped_column(String(35))


class Account(Base):
    """OBAccount6 with its one primary identification and servicer."""

    __tablename__ = "accounts"
    account_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    psu_id: Mapped[str] = mapped_column(ForeignKey("customers.psu_id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="Enabled")
    status_update_date_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    account_type: Mapped[str] = mapped_column(String(16), nullable=False)
    account_sub_type: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str | None] = mapped_column(String(35))
    nickname: Mapped[str | None] = mapped_column(String(70))
    opening_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    maturity_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scheme_name: Mapped[str] = mapped_column(String(40), nullable=False)
    identification: Mapped[str] = mapped_column(String(256), nullable=False)
    account_name: Mapped[str | None] = mapped_column(String(350))
    secondary_identification: Mapped[str | None] = mapped_column(String(34))
    servicer_bic: Mapped[str | None] = mapped_column(String(35))
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.product_id"))


class AccountParty(Base):
    """Who is related to an account, and how (OBParty2.AccountRole); `primary` is the `/party` answer."""

    __tablename__ = "account_parties"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("parties.party_id"), primary_key=True)
    account_role: Mapped[str] = mapped_column(String(64), nullable=False)
    beneficial_ownership: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class Balance(Base):
    """One OBReadBalance1 entry per (account, balance type)."""

    __tablename__ = "balances"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id", ondelete="CASCADE"), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), primary_key=True)
    credit_debit: Mapped[str] = mapped_column(String(6), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    date_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    #: OBReadBalance1 CreditLine items, already in the OBIE shape.
    credit_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (Index("ix_transactions_account_booking", "account_id", "booking_date_time", "transaction_id"),)
    transaction_id: Mapped[str] = mapped_column(String(210), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False)
    transaction_reference: Mapped[str | None] = mapped_column(String(210))
    credit_debit: Mapped[str] = mapped_column(String(6), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    booking_date_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    value_date_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    transaction_information: Mapped[str | None] = mapped_column(String(500))
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    bank_transaction_code: Mapped[str | None] = mapped_column(String(35))
    bank_transaction_sub_code: Mapped[str | None] = mapped_column(String(35))
    proprietary_code: Mapped[str | None] = mapped_column(String(35))
    proprietary_issuer: Mapped[str | None] = mapped_column(String(35))
    merchant_name: Mapped[str | None] = mapped_column(String(350))
    merchant_category_code: Mapped[str | None] = mapped_column(String(4))
    #: the other side of the transaction (creditor for debits, debtor for credits)
    counterparty_scheme_name: Mapped[str | None] = mapped_column(String(40))
    counterparty_identification: Mapped[str | None] = mapped_column(String(256))
    counterparty_name: Mapped[str | None] = mapped_column(String(350))
    balance_credit_debit: Mapped[str | None] = mapped_column(String(6))
    balance_amount: Mapped[Decimal | None] = mapped_column(Money)


class Beneficiary(Base):
    __tablename__ = "beneficiaries"
    beneficiary_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    beneficiary_type: Mapped[str | None] = mapped_column(String(10))
    reference: Mapped[str | None] = mapped_column(String(35))
    creditor_scheme_name: Mapped[str] = mapped_column(String(40), nullable=False)
    creditor_identification: Mapped[str] = mapped_column(String(256), nullable=False)
    creditor_name: Mapped[str | None] = mapped_column(String(350))
    creditor_agent_bic: Mapped[str | None] = mapped_column(String(35))


class StandingOrder(Base):
    __tablename__ = "standing_orders"
    standing_order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    frequency: Mapped[str] = mapped_column(String(35), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    first_payment_date_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_payment_amount: Mapped[Decimal | None] = mapped_column(Money)
    next_payment_date_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_payment_amount: Mapped[Decimal | None] = mapped_column(Money)
    last_payment_date_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_payment_amount: Mapped[Decimal | None] = mapped_column(Money)
    final_payment_date_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    final_payment_amount: Mapped[Decimal | None] = mapped_column(Money)
    number_of_payments: Mapped[str | None] = mapped_column(String(35))
    creditor_scheme_name: Mapped[str] = mapped_column(String(40), nullable=False)
    creditor_identification: Mapped[str] = mapped_column(String(256), nullable=False)
    creditor_name: Mapped[str | None] = mapped_column(String(350))


class DirectDebit(Base):
    __tablename__ = "direct_debits"
    direct_debit_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    mandate_identification: Mapped[str] = mapped_column(String(35), nullable=False)
    status: Mapped[str | None] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(70), nullable=False)
    frequency: Mapped[str | None] = mapped_column(String(32))
    previous_payment_date_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    previous_payment_amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))


class IngestionCursor(Base):
    """The last core-banking event sequence applied per account (events for an account are numbered 1, 2, ...)."""

    __tablename__ = "ingestion_cursors"
    account_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class IngestionMessage(Base):
    """Message ids already processed, with what happened to them: a redelivery is recognised and changes nothing."""

    __tablename__ = "ingestion_messages"
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(40), nullable=False)
    sequence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class IngestionHeld(Base):
    """A message that arrived ahead of a gap in its account's sequence, waiting for the gap to fill."""

    __tablename__ = "ingestion_held"
    account_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
