"""The ledger as payment initiation sees it: which of the PSU's accounts pays (checked when the PSU authorises a
consent, so a consent can never name another customer's account or one that does not exist), and whether its
available balance covers the instructed amount (same currency; no FX at this point)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ..common.errors import ErrorCode, bad_request
from ..ledger import available_balance
from ..ledger.models import Account, Customer
from .store import Consent


class FundsChecker(Protocol):
    def payer_account(self, psu_id: str, account_id: str | None, debtor: dict[str, Any] | None) -> str:
        """The ledger account the PSU pays from: `account_id` (the PSU's choice at authorisation) or the consent's
        `debtor` (DebtorAccount), which must be one of the PSU's accounts and agree with each other when both are
        given. Raises :class:`~openbanking.common.errors.OBIEError` (400) naming what is wrong."""
        ...

    def funds_available(self, consent: Consent) -> bool: ...


class LedgerFunds:
    """Reads the ledger (PostgreSQL): the PSU's accounts, and `openbanking.ledger.available_balance`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def payer_account(self, psu_id: str, account_id: str | None, debtor: dict[str, Any] | None) -> str:
        with Session(self.engine) as session:
            return _payer_account(session, psu_id, account_id, debtor)

    def funds_available(self, consent: Consent) -> bool:
        amount = consent.initiation["InstructedAmount"]
        with Session(self.engine) as session:
            if consent.psu_id is None:
                raise bad_request(ErrorCode.RESOURCE_INVALID_CONSENT_STATUS, "the consent has no authorising PSU",
                                  "ConsentId")
            account_id = _payer_account(session, consent.psu_id, consent.account_id,
                                        consent.initiation.get("DebtorAccount"))
            balance = available_balance(session, account_id)
        if balance is None or balance.currency != amount["Currency"]:
            return False
        return balance.amount >= Decimal(amount["Amount"])


def _payer_account(session: Session, psu_id: str, account_id: str | None, debtor: dict[str, Any] | None) -> str:
    if session.get(Customer, psu_id) is None:
        raise bad_request(ErrorCode.FIELD_INVALID, f"PSU {psu_id} is not a customer", "PsuId")
    owned = select(Account.account_id, Account.scheme_name, Account.identification).where(Account.psu_id == psu_id)
    if account_id is not None:
        chosen = session.execute(owned.where(Account.account_id == account_id)).first()
        if chosen is None:
            raise bad_request(ErrorCode.FIELD_INVALID, f"account {account_id} is not an account of {psu_id}",
                              "AccountId")
        if debtor is not None and (chosen.scheme_name, chosen.identification) != (
                debtor.get("SchemeName"), debtor.get("Identification")):
            raise bad_request(ErrorCode.RESOURCE_CONSENT_MISMATCH,
                              f"the consent's DebtorAccount is not account {account_id}",
                              "Data.Initiation.DebtorAccount")
        return account_id
    if debtor is None:
        raise bad_request(ErrorCode.FIELD_MISSING, "the consent names no DebtorAccount, so the PSU must choose the "
                          "account to pay from", "AccountId")
    found = session.scalar(select(Account.account_id).where(
        Account.psu_id == psu_id, Account.scheme_name == debtor.get("SchemeName"),
        Account.identification == debtor.get("Identification")))
    if found is None:
        raise bad_request(ErrorCode.RESOURCE_CONSENT_MISMATCH,
                          "the debtor account of this consent is not an account of the authorising PSU",
                          "Data.Initiation.DebtorAccount")
    return found
