"""Apply core-banking events to the ledger: idempotent, in order per account, poison parked, transport-agnostic.

One PostgreSQL transaction per message, holding the account's cursor row lock (`SELECT … FOR UPDATE`),
so concurrent consumers serialise per account and never interleave. For an event of account A with
sequence n and A's cursor at c:

- message id seen before              -> DUPLICATE: nothing changes (a broker redelivery or a replay);
- n <= c                              -> STALE: older than what is applied; recorded, ignored;
- n == c + 1                          -> applied; then any held events c+2, c+3, … are applied in turn;
- n >  c + 1                          -> HELD in `ingestion_held` until the gap fills. If it does not fill
                                         within `max_gap_wait`, :meth:`IngestionHandler.release_stalled`
                                         skips the missing sequence numbers (logged as an error: core
                                         banking lost or never sent them) and applies what was held.

A message that does not parse, or that cannot apply (an unknown PSU, a transaction id of another
account, a database constraint), is parked through the transport's `park(body, reason)` callback *inside*
the transaction: if parking fails the transaction rolls back and the transport leaves the message to its
broker (nack / no commit), so a message is never lost. An in-order event that is parked still consumes
its sequence number so the account does not stall behind it.

The cache of an account is invalidated after the commit; a failed invalidation raises so the transport
redelivers, and the redelivery (a DUPLICATE) invalidates again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from openbanking.ledger.cache import LedgerCache
from openbanking.ledger.models import (
    Account,
    Balance,
    Customer,
    IngestionCursor,
    IngestionHeld,
    IngestionMessage,
    Transaction,
)

from .messages import AccountEvent, BalanceEvent, InvalidMessage, TransactionEvent, parse

log = logging.getLogger(__name__)

Event = AccountEvent | BalanceEvent | TransactionEvent
#: `park(body, reason)`: hand a message that cannot be applied to the parking lot; raise if that fails.
Park = Callable[[bytes, str], None]


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    HELD = "held"
    PARKED = "parked"


@dataclass
class Result:
    outcome: Outcome
    account_id: str | None = None
    #: sequences whose changes this call applied to the ledger (held ones it released included)
    applied: list[int] = field(default_factory=list)


class ParkingFailed(RuntimeError):
    """The parking lot did not take a poison message: the transport must leave it with the broker."""


class IngestionHandler:
    def __init__(self, engine: Engine, cache: LedgerCache | None, *, max_gap_wait: timedelta = timedelta(minutes=5),
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.cache = cache
        self.max_gap_wait = max_gap_wait
        self.now = now

    # --- entry points ---------------------------------------------------------------------------------------

    def handle(self, body: bytes, park: Park) -> Result:
        try:
            event = parse(body)
        except InvalidMessage as exc:
            _park(park, body, str(exc))
            return Result(Outcome.PARKED)
        with Session(self.engine) as session, session.begin():
            cursor = self._lock_cursor(session, event.AccountId)
            result = self._route(session, cursor, event, body, park)
        if result.applied or result.outcome is Outcome.DUPLICATE:  # a redelivery re-does a failed invalidation
            self._invalidate(event.AccountId)
        return result

    def release_stalled(self, park: Park) -> list[Result]:
        """Skip sequence gaps that stayed open longer than `max_gap_wait`, applying what was held behind them."""
        cutoff = self.now() - self.max_gap_wait
        with Session(self.engine) as session:
            stalled = session.scalars(select(IngestionHeld.account_id).group_by(IngestionHeld.account_id)
                                      .having(func.min(IngestionHeld.received_at) <= cutoff)).all()
        results = []
        for account_id in stalled:
            with Session(self.engine) as session, session.begin():
                cursor = self._lock_cursor(session, account_id)
                lowest = session.scalar(select(func.min(IngestionHeld.sequence))
                                        .where(IngestionHeld.account_id == account_id))
                if lowest is None:
                    continue
                log.error("ledger ingestion: account %s sequences %d..%d never arrived; skipping them",
                          account_id, cursor.last_sequence + 1, lowest - 1)
                cursor.last_sequence = lowest - 1
                result = Result(Outcome.APPLIED, account_id)
                self._drain(session, cursor, park, result)
            if result.applied:
                self._invalidate(account_id)
            results.append(result)
        return results

    # --- internals ------------------------------------------------------------------------------------------

    def _lock_cursor(self, session: Session, account_id: str) -> IngestionCursor:
        session.execute(pg_insert(IngestionCursor).values(account_id=account_id, last_sequence=0, updated_at=self.now())
                        .on_conflict_do_nothing(index_elements=["account_id"]))
        return session.execute(select(IngestionCursor).where(IngestionCursor.account_id == account_id)
                               .with_for_update()).scalar_one()

    def _route(self, session: Session, cursor: IngestionCursor, event: Event, body: bytes, park: Park) -> Result:
        result = Result(Outcome.APPLIED, event.AccountId)
        if session.get(IngestionMessage, event.MessageId) is not None:
            result.outcome = Outcome.DUPLICATE
            return result
        if event.Sequence <= cursor.last_sequence:
            self._record(session, event, Outcome.STALE)
            log.info("ledger ingestion: %s sequence %d is older than applied %d; ignored", event.AccountId,
                     event.Sequence, cursor.last_sequence)
            result.outcome = Outcome.STALE
            return result
        if event.Sequence > cursor.last_sequence + 1:
            session.execute(pg_insert(IngestionHeld).values(
                account_id=event.AccountId, sequence=event.Sequence, message_id=event.MessageId, body=body,
                received_at=self.now()).on_conflict_do_nothing(index_elements=["account_id", "sequence"]))
            self._record(session, event, Outcome.HELD)
            result.outcome = Outcome.HELD
            return result
        outcome = self._apply_or_park(session, cursor, event, body, park)
        self._record(session, event, outcome)
        result.outcome = outcome
        if outcome is Outcome.APPLIED:
            result.applied.append(event.Sequence)
        self._drain(session, cursor, park, result)
        return result

    def _drain(self, session: Session, cursor: IngestionCursor, park: Park, result: Result) -> None:
        while True:
            held = session.get(IngestionHeld, (cursor.account_id, cursor.last_sequence + 1))
            if held is None:
                return
            try:
                event = parse(held.body)
            except InvalidMessage as exc:  # it parsed when it was held; only a code change can get here
                _park(park, held.body, str(exc))
                cursor.last_sequence += 1
                outcome = Outcome.PARKED
            else:
                outcome = self._apply_or_park(session, cursor, event, held.body, park)
            session.execute(delete(IngestionHeld).where(IngestionHeld.account_id == held.account_id,
                                                        IngestionHeld.sequence == held.sequence))
            message = session.get(IngestionMessage, held.message_id)
            if message is not None:
                message.outcome = outcome.value
                message.processed_at = self.now()
            if outcome is Outcome.APPLIED:
                result.applied.append(held.sequence)

    def _apply_or_park(self, session: Session, cursor: IngestionCursor, event: Event, body: bytes,
                       park: Park) -> Outcome:
        try:
            with session.begin_nested():
                _apply(session, event)
        except (InvalidMessage, IntegrityError, DataError) as exc:
            reason = str(exc) if isinstance(exc, InvalidMessage) else f"rejected by the ledger: {exc.orig}"
            _park(park, body, reason)
            outcome = Outcome.PARKED
        else:
            outcome = Outcome.APPLIED
        cursor.last_sequence = event.Sequence
        cursor.updated_at = self.now()
        return outcome

    def _record(self, session: Session, event: Event, outcome: Outcome) -> None:
        session.add(IngestionMessage(message_id=event.MessageId, account_id=event.AccountId, sequence=event.Sequence,
                                     outcome=outcome.value, processed_at=self.now()))
        session.flush()

    def _invalidate(self, account_id: str) -> None:
        if self.cache is not None:
            self.cache.invalidate(account_id)


def _park(park: Park, body: bytes, reason: str) -> None:
    log.warning("ledger ingestion: parking a message: %s", reason)
    try:
        park(body, reason)
    except Exception as exc:
        raise ParkingFailed(f"could not park a message ({reason}): {exc}") from exc


# --- applying one event ---------------------------------------------------------------------------------------

def _apply(session: Session, event: Event) -> None:
    if isinstance(event, AccountEvent):
        _apply_account(session, event)
    elif session.get(Account, event.AccountId) is None:
        raise InvalidMessage(f"account {event.AccountId} is not in the ledger (no account.upsert before it)")
    elif isinstance(event, BalanceEvent):
        _apply_balances(session, event)
    else:
        _apply_transactions(session, event)
    session.flush()


def _apply_account(session: Session, event: AccountEvent) -> None:
    state = event.Payload
    if session.get(Customer, state.PsuId) is None:
        raise InvalidMessage(f"PSU {state.PsuId} of account {event.AccountId} is not a customer in the ledger")
    values = {
        "psu_id": state.PsuId, "status": state.Status, "status_update_date_time": state.StatusUpdateDateTime,
        "currency": state.Currency, "account_type": state.AccountType, "account_sub_type": state.AccountSubType,
        "description": state.Description, "nickname": state.Nickname, "opening_date": state.OpeningDate,
        "maturity_date": state.MaturityDate, "scheme_name": state.SchemeName, "identification": state.Identification,
        "account_name": state.Name, "secondary_identification": state.SecondaryIdentification,
        "servicer_bic": state.ServicerBic, "product_id": state.ProductId,
    }
    session.execute(pg_insert(Account).values(account_id=event.AccountId, **values)
                    .on_conflict_do_update(index_elements=["account_id"], set_=values))


def _apply_balances(session: Session, event: BalanceEvent) -> None:
    rows = [{"account_id": event.AccountId, "type": b.Type, "credit_debit": b.CreditDebitIndicator,
             "amount": b.Amount, "currency": b.Currency, "date_time": b.DateTime, "credit_lines": b.CreditLines}
            for b in event.Payload.Balances]
    statement = pg_insert(Balance).values(rows)
    session.execute(statement.on_conflict_do_update(index_elements=["account_id", "type"], set_={
        name: statement.excluded[name] for name in ("credit_debit", "amount", "currency", "date_time", "credit_lines")}))


def _apply_transactions(session: Session, event: TransactionEvent) -> None:
    ids = [t.TransactionId for t in event.Payload.Transactions]
    foreign = session.scalars(select(Transaction.transaction_id).where(Transaction.transaction_id.in_(ids),
                                                                       Transaction.account_id != event.AccountId)).all()
    if foreign:
        raise InvalidMessage(f"transactions {', '.join(sorted(foreign))} belong to another account")
    rows = [{
        "transaction_id": t.TransactionId, "account_id": event.AccountId, "transaction_reference": t.TransactionReference,
        "credit_debit": t.CreditDebitIndicator, "status": t.Status, "booking_date_time": t.BookingDateTime,
        "value_date_time": t.ValueDateTime, "transaction_information": t.TransactionInformation, "amount": t.Amount,
        "currency": t.Currency, "bank_transaction_code": t.BankTransactionCode,
        "bank_transaction_sub_code": t.BankTransactionSubCode, "proprietary_code": t.ProprietaryCode,
        "proprietary_issuer": t.ProprietaryIssuer, "merchant_name": t.MerchantName,
        "merchant_category_code": t.MerchantCategoryCode, "counterparty_scheme_name": t.CounterpartySchemeName,
        "counterparty_identification": t.CounterpartyIdentification, "counterparty_name": t.CounterpartyName,
        "balance_credit_debit": t.BalanceCreditDebitIndicator, "balance_amount": t.BalanceAmount,
    } for t in event.Payload.Transactions]
    statement = pg_insert(Transaction).values(rows)
    updatable = [c for c in rows[0] if c not in ("transaction_id", "account_id")]
    session.execute(statement.on_conflict_do_update(index_elements=["transaction_id"],
                                                    set_={c: statement.excluded[c] for c in updatable}))
