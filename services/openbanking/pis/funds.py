"""Funds confirmation against the system-of-record copy: does the debtor account's available balance
cover the instructed amount (same currency; no FX at this point)?"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ..common.errors import ErrorCode, bad_request
from ..ledger import available_balance
from ..ledger.models import Account
from .store import Consent


class FundsChecker(Protocol):
    def funds_available(self, consent: Consent) -> bool: ...


class LedgerFunds:
    """Reads the ledger (PostgreSQL) through `openbanking.ledger.available_balance`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def funds_available(self, consent: Consent) -> bool:
        amount = consent.initiation["InstructedAmount"]
        with Session(self.engine) as session:
            account_id = self._debtor_account(session, consent)
            balance = available_balance(session, account_id)
        if balance is None or balance.currency != amount["Currency"]:
            return False
        return balance.amount >= Decimal(amount["Amount"])

    @staticmethod
    def _debtor_account(session: Session, consent: Consent) -> str:
        """The account the PSU chose at authorisation, or the consent's DebtorAccount among the PSU's accounts."""
        owned = select(Account.account_id).where(Account.psu_id == consent.psu_id)
        if consent.account_id is not None:
            found = session.scalar(owned.where(Account.account_id == consent.account_id))
        else:
            debtor = consent.initiation.get("DebtorAccount")
            if debtor is None:
                raise bad_request(ErrorCode.FIELD_MISSING, "the consent names no DebtorAccount and the PSU chose "
                                  "no account at authorisation", "Data.Initiation.DebtorAccount")
            found = session.scalar(owned.where(Account.scheme_name == debtor["SchemeName"],
                                               Account.identification == debtor["Identification"]))
        if found is None:
            raise bad_request(ErrorCode.RESOURCE_CONSENT_MISMATCH,
                              "the debtor account of this consent is not an account of the authorising PSU",
                              "Data.Initiation.DebtorAccount")
        return found
