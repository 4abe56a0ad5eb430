"""The ingestion handler on the real ledger: replays, ordering, gaps, poison, cache invalidation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from openbanking.ingestion.handler import IngestionHandler, Outcome, ParkingFailed
from openbanking.ledger.cache import LedgerCache

from .conftest import (
    Clock,
    Parked,
    account_event,
    balance_event,
    booked,
    cursor,
    event,
    new_account_id,
    snapshot,
    transaction_event,
)


@pytest.fixture
def account(handler: IngestionHandler, parked: Parked) -> str:
    """A new account created by its first event (sequence 1)."""
    account_id = new_account_id()
    assert handler.handle(account_event(account_id), parked).outcome is Outcome.APPLIED
    return account_id


def test_an_account_event_creates_the_account(ledger: Engine, account: str) -> None:
    state = snapshot(ledger, account)
    assert state["account"] and state["account"][0][1] == "psu-0001"
    assert cursor(ledger, account) == 1


def test_a_replay_changes_nothing(handler: IngestionHandler, ledger: Engine, account: str, parked: Parked) -> None:
    message = balance_event(account, 2, "100.00")
    assert handler.handle(message, parked).outcome is Outcome.APPLIED
    before = snapshot(ledger, account)
    for _ in range(3):
        result = handler.handle(message, parked)
        assert result.outcome is Outcome.DUPLICATE and result.applied == []
    assert snapshot(ledger, account) == before and not parked


def test_out_of_order_events_apply_in_sequence_order(handler: IngestionHandler, ledger: Engine, account: str,
                                                     parked: Parked) -> None:
    newest, middle = balance_event(account, 3, "300.00"), balance_event(account, 2, "200.00")
    held = handler.handle(newest, parked)
    assert held.outcome is Outcome.HELD and booked(ledger, account) is None
    assert snapshot(ledger, account)["held"] == [(3,)]
    released = handler.handle(middle, parked)
    assert released.outcome is Outcome.APPLIED and released.applied == [2, 3]
    assert booked(ledger, account) == "300.00"          # the later state wins although it arrived first
    assert cursor(ledger, account) == 3 and snapshot(ledger, account)["held"] == []
    assert handler.handle(newest, parked).outcome is Outcome.DUPLICATE  # a redelivery of the held one


def test_an_older_event_is_ignored(handler: IngestionHandler, ledger: Engine, account: str, parked: Parked) -> None:
    handler.handle(balance_event(account, 2, "200.00"), parked)
    handler.handle(balance_event(account, 3, "300.00"), parked)
    late = handler.handle(balance_event(account, 2, "999.00"), parked)  # a different message, an old sequence
    assert late.outcome is Outcome.STALE
    assert booked(ledger, account) == "300.00" and cursor(ledger, account) == 3


def test_transactions_upsert_by_id(handler: IngestionHandler, ledger: Engine, account: str, parked: Parked) -> None:
    handler.handle(transaction_event(account, 2, f"{account}-tx1", status="Pending"), parked)
    handler.handle(transaction_event(account, 3, f"{account}-tx1", status="Booked", amount="13.00"), parked)
    with ledger.connect() as connection:
        rows = connection.execute(text("SELECT status, amount FROM transactions WHERE account_id = :a"),
                                  {"a": account}).all()
    assert [(status, f"{amount:.2f}") for status, amount in rows] == [("Booked", "13.00")]


@pytest.mark.parametrize(("body", "fragment"), [
    (b"{not json", "not a core-banking ledger event"),
    (b'{"MessageId": "m", "AccountId": "a", "Sequence": 0, "Type": "balance.upsert", "OccurredAt": '
     b'"2025-01-01T00:00:00Z", "Payload": {"Balances": []}}', "Sequence"),
    (b'{"MessageId": "m", "AccountId": "a", "Sequence": 1, "Type": "account.delete", "OccurredAt": '
     b'"2025-01-01T00:00:00Z", "Payload": {}}', "not a core-banking ledger event"),
])
def test_unparseable_or_invalid_messages_are_parked_with_the_reason(handler: IngestionHandler, parked: Parked,
                                                                    body: bytes, fragment: str) -> None:
    assert handler.handle(body, parked).outcome is Outcome.PARKED
    assert parked == [(body, parked[0][1])] and fragment in parked[0][1]


def test_negative_amounts_are_poison(handler: IngestionHandler, ledger: Engine, account: str, parked: Parked) -> None:
    body = balance_event(account, 2, "-5.00")
    assert handler.handle(body, parked).outcome is Outcome.PARKED
    assert "Amount" in parked[0][1] and cursor(ledger, account) == 1


def test_an_event_that_cannot_apply_is_parked_and_does_not_stall_the_account(
        handler: IngestionHandler, ledger: Engine, account: str, parked: Parked) -> None:
    orphan = new_account_id()
    result = handler.handle(balance_event(orphan, 1, "1.00"), parked)
    assert result.outcome is Outcome.PARKED and "not in the ledger" in parked[-1][1]
    foreign = transaction_event(account, 2, "tx-acc-0001-01-00001")  # a seeded transaction of another account
    assert handler.handle(foreign, parked).outcome is Outcome.PARKED
    assert "belong to another account" in parked[-1][1]
    assert handler.handle(balance_event(account, 3, "30.00"), parked).outcome is Outcome.APPLIED
    assert booked(ledger, account) == "30.00"
    assert handler.handle(account_event(new_account_id(), psu="psu-9999"), parked).outcome is Outcome.PARKED


def test_a_held_event_that_cannot_apply_is_parked_when_released(handler: IngestionHandler, ledger: Engine,
                                                                account: str, parked: Parked) -> None:
    handler.handle(transaction_event(account, 3, "tx-acc-0001-01-00002"), parked)  # foreign id, held
    result = handler.handle(balance_event(account, 2, "20.00"), parked)
    assert result.applied == [2] and cursor(ledger, account) == 3
    assert len(parked) == 1 and "belong to another account" in parked[0][1]


def test_a_gap_that_never_fills_is_skipped_after_the_wait(handler: IngestionHandler, ledger: Engine, account: str,
                                                          parked: Parked, clock: Clock) -> None:
    handler.handle(balance_event(account, 4, "40.00"), parked)
    handler.handle(balance_event(account, 5, "50.00"), parked)
    assert handler.release_stalled(parked) == []        # not waited long enough
    clock.moment += timedelta(minutes=6)
    [released] = handler.release_stalled(parked)
    assert released.account_id == account and released.applied == [4, 5]
    assert booked(ledger, account) == "50.00" and cursor(ledger, account) == 5


def test_when_parking_fails_nothing_is_committed(handler: IngestionHandler, ledger: Engine, account: str) -> None:
    def broken(_body: bytes, _reason: str) -> None:
        raise ConnectionError("parking lot unreachable")

    before = snapshot(ledger, account)
    with pytest.raises(ParkingFailed):
        handler.handle(balance_event(new_account_id(), 1, "1.00"), broken)
    with pytest.raises(ParkingFailed):
        handler.handle(transaction_event(account, 2, "tx-acc-0001-01-00003"), broken)
    assert snapshot(ledger, account) == before  # the cursor did not move: the broker will redeliver
    with ledger.connect() as connection:
        seen = connection.execute(text("SELECT count(*) FROM ingestion_messages WHERE account_id = :a AND sequence = 2"),
                                  {"a": account}).scalar()
    assert seen == 0


def test_an_applied_event_invalidates_the_accounts_cache(handler: IngestionHandler, cache: LedgerCache,
                                                         account: str, parked: Parked) -> None:
    cache.get(account, "balances", lambda: ["cached"])
    assert cache.cached_fields(account) == {"balances"}
    handler.handle(balance_event(account, 3, "1.00"), parked)         # held: nothing applied yet
    assert cache.cached_fields(account) == {"balances"}
    handler.handle(balance_event(account, 2, "2.00"), parked)         # applies 2 and 3
    assert cache.cached_fields(account) == set()


def test_a_failed_invalidation_is_redone_by_the_redelivery(ledger: Engine, cache: LedgerCache, account: str,
                                                           parked: Parked, clock: Clock) -> None:
    class FlakyCache(LedgerCache):
        fail = True

        def invalidate(self, *account_ids: str) -> None:
            if self.fail:
                self.fail = False
                raise ConnectionError("redis down")
            super().invalidate(*account_ids)

    flaky = FlakyCache(cache.redis, prefix=cache.prefix, ttl_seconds=60)
    handler = IngestionHandler(ledger, flaky, now=clock)
    cache.get(account, "balances", lambda: ["stale"])
    message = balance_event(account, 2, "5.00")
    with pytest.raises(ConnectionError):
        handler.handle(message, parked)  # committed, but the cache still holds the old balances
    assert booked(ledger, account) == "5.00" and cache.cached_fields(account) == {"balances"}
    assert handler.handle(message, parked).outcome is Outcome.DUPLICATE
    assert cache.cached_fields(account) == set()


def test_event_helper_rejects_nothing_it_should_accept(handler: IngestionHandler, account: str,
                                                       parked: Parked) -> None:
    body = event(account, 2, "account.upsert", {
        "PsuId": "psu-0001", "Status": "Disabled", "StatusUpdateDateTime": "2025-06-01T09:00:00+01:00",
        "Currency": "GBP", "AccountType": "Business", "AccountSubType": "Savings",
        "SchemeName": "UK.OBIE.IBAN", "Identification": "GB29NWBK60161331926819"})
    assert handler.handle(body, parked).outcome is Outcome.APPLIED and not parked
