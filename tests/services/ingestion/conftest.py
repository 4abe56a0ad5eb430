"""A seeded ledger of its own (real PostgreSQL), a Redis namespace, and helpers to write core-banking events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import Engine, text

from openbanking.ingestion.handler import IngestionHandler
from openbanking.ledger.cache import LedgerCache, cache_prefix
from openbanking.ledger.seed import seed
from tests.services.ledger.support import SEED_UNTIL, ledger_database, redis_namespace


@pytest.fixture(scope="package")
def ledger() -> Iterator[Engine]:
    with ledger_database("ingest") as engine:
        seed(engine, customers=2, months=1, seed=3, until=SEED_UNTIL)
        yield engine


@pytest.fixture(scope="package")
def redis_env() -> Iterator[tuple[Redis, str]]:
    with redis_namespace() as pair:
        yield pair


@pytest.fixture(scope="package")
def cache(redis_env: tuple[Redis, str]) -> LedgerCache:
    return LedgerCache(redis_env[0], prefix=cache_prefix(redis_env[1]), ttl_seconds=60)


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2025, 6, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def handler(ledger: Engine, cache: LedgerCache, clock: Clock) -> IngestionHandler:
    return IngestionHandler(ledger, cache, max_gap_wait=timedelta(minutes=5), now=clock)


class Parked(list[tuple[bytes, str]]):
    def __call__(self, body: bytes, reason: str) -> None:
        self.append((body, reason))


@pytest.fixture
def parked() -> Parked:
    return Parked()


def new_account_id() -> str:
    return f"acc-t{uuid.uuid4().hex[:10]}"


def event(account_id: str, sequence: int, kind: str, payload: dict[str, Any], message_id: str | None = None) -> bytes:
    return json.dumps({"MessageId": message_id or str(uuid.uuid4()), "AccountId": account_id, "Sequence": sequence,
                       "Type": kind, "OccurredAt": "2025-06-01T10:00:00Z", "Payload": payload}).encode()


def account_event(account_id: str, sequence: int = 1, psu: str = "psu-0001", nickname: str = "New") -> bytes:
    return event(account_id, sequence, "account.upsert", {
        "PsuId": psu, "Status": "Enabled", "StatusUpdateDateTime": "2025-06-01T09:00:00Z", "Currency": "GBP",
        "AccountType": "Personal", "AccountSubType": "CurrentAccount", "Nickname": nickname,
        "SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "40111122223333", "Name": "Test Holder"})


def balance_event(account_id: str, sequence: int, amount: str, message_id: str | None = None) -> bytes:
    return event(account_id, sequence, "balance.upsert", {"Balances": [
        {"Type": "InterimBooked", "CreditDebitIndicator": "Credit", "Amount": amount, "Currency": "GBP",
         "DateTime": "2025-06-01T10:00:00Z"},
        {"Type": "InterimAvailable", "CreditDebitIndicator": "Credit", "Amount": amount, "Currency": "GBP",
         "DateTime": "2025-06-01T10:00:00Z"}]}, message_id)


def transaction_event(account_id: str, sequence: int, transaction_id: str, status: str = "Booked",
                      amount: str = "12.50") -> bytes:
    return event(account_id, sequence, "transaction.upsert", {"Transactions": [
        {"TransactionId": transaction_id, "CreditDebitIndicator": "Debit", "Status": status,
         "BookingDateTime": "2025-06-01T09:30:00Z", "Amount": amount, "Currency": "GBP",
         "TransactionInformation": "Card purchase"}]})


def snapshot(engine: Engine, account_id: str) -> dict[str, Any]:
    """Everything the ledger holds about an account, to prove a replay changed nothing."""
    with engine.connect() as connection:
        def rows(sql: str) -> list[tuple]:
            return [tuple(r) for r in connection.execute(text(sql), {"a": account_id})]
        return {
            "account": rows("SELECT * FROM accounts WHERE account_id = :a"),
            "balances": rows("SELECT * FROM balances WHERE account_id = :a ORDER BY type"),
            "transactions": rows("SELECT * FROM transactions WHERE account_id = :a ORDER BY transaction_id"),
            "cursor": rows("SELECT account_id, last_sequence FROM ingestion_cursors WHERE account_id = :a"),
            "held": rows("SELECT sequence FROM ingestion_held WHERE account_id = :a"),
        }


def booked(engine: Engine, account_id: str) -> str | None:
    with engine.connect() as connection:
        value = connection.execute(text("SELECT amount FROM balances WHERE account_id = :a AND type = 'InterimBooked'"),
                                   {"a": account_id}).scalar()
    return None if value is None else f"{value:.2f}"


def cursor(engine: Engine, account_id: str) -> int | None:
    with engine.connect() as connection:
        return connection.execute(text("SELECT last_sequence FROM ingestion_cursors WHERE account_id = :a"),
                                  {"a": account_id}).scalar()
