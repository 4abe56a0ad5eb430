"""The ledger's Redis read-through cache, through the API and directly: cold, warm, invalidated, raced, down."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from openbanking.ledger.cache import LedgerCache
from openbanking.ledger.models import Balance

from .conftest import ALL_PERMISSIONS, authorised, resource

ACCOUNT = "acc-0003-01"


def booked(client: TestClient, consent: str) -> str:
    balances = resource(client, f"/accounts/{ACCOUNT}/balances", consent).json()["Data"]["Balance"]
    return next(b["Amount"]["Amount"] for b in balances if b["Type"] == "InterimBooked")


def set_booked(ledger: Engine, amount: str) -> None:
    with Session(ledger) as session, session.begin():
        session.execute(update(Balance).where(Balance.account_id == ACCOUNT, Balance.type == "InterimBooked")
                        .values(amount=Decimal(amount), credit_debit="Credit"))


def test_cold_then_warm_then_invalidated(client: TestClient, ledger: Engine, cache: LedgerCache) -> None:
    consent = authorised(client, ALL_PERMISSIONS, psu="psu-0003", accounts=[ACCOUNT])
    cache.invalidate(ACCOUNT)
    assert cache.cached_fields(ACCOUNT) == set()
    original = booked(client, consent)                     # cold: read from PostgreSQL and stored
    assert "balances" in cache.cached_fields(ACCOUNT)
    set_booked(ledger, "123.45")                           # the ledger changes behind the cache's back
    assert booked(client, consent) == original             # warm: served from Redis
    cache.invalidate(ACCOUNT)                              # what ingestion does after its commit
    assert booked(client, consent) == "123.45"
    resource(client, f"/accounts/{ACCOUNT}/transactions", consent)
    assert any(f.startswith("tx|") for f in cache.cached_fields(ACCOUNT))


def test_entries_expire_with_the_ttl(client: TestClient, cache: LedgerCache) -> None:
    consent = authorised(client, ["ReadAccountsBasic"], psu="psu-0003", accounts=[ACCOUNT])
    cache.invalidate(ACCOUNT)
    resource(client, f"/accounts/{ACCOUNT}", consent)
    ttl = cache.redis.ttl(cache.key(ACCOUNT))
    assert 0 < ttl <= cache.ttl_seconds  # type: ignore[operator]


def test_a_load_that_raced_an_invalidation_is_not_stored(redis_env: tuple[Redis, str]) -> None:
    redis, environment = redis_env
    cache = LedgerCache(redis, prefix=f"ob:{environment}:race:", ttl_seconds=30)

    def stale_loader() -> str:
        cache.invalidate("acc-x")  # ingestion commits and invalidates while this read is in flight
        return "stale"

    assert cache.get("acc-x", "balances", stale_loader) == "stale"
    assert cache.get("acc-x", "balances", lambda: "fresh") == "fresh"
    assert cache.get("acc-x", "balances", lambda: pytest.fail("must be cached")) == "fresh"


def test_redis_down_falls_back_to_the_ledger() -> None:
    unreachable = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2,
                        retry=Retry(NoBackoff(), 0))
    cache = LedgerCache(unreachable, prefix="ob:none:", ttl_seconds=30)
    assert cache.get("acc-x", "balances", lambda: {"from": "ledger"}) == {"from": "ledger"}
