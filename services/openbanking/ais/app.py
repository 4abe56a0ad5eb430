"""`build_app`: the account-information service (OBIE v3.1.11 AIS) as a FastAPI application.

Dependencies (DynamoDB client, SQLAlchemy engine, Redis client, event publisher, clock) are built from the
settings unless passed in, so tests, the sandbox and the benchmark inject their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine

from openbanking.common.app import create_app
from openbanking.common.callers import resolve_caller
from openbanking.common.context import Caller
from openbanking.common.dynamo import table_name
from openbanking.common.dynamo_items import dynamodb_client
from openbanking.common.redis_connection import redis_from_settings
from openbanking.common.settings import ServiceSettings
from openbanking.ledger.cache import LedgerCache, cache_prefix
from openbanking.ledger.db import engine_from_settings, session_factory

from . import accounts, consents
from .deps import BASE_PATH, AisDeps, EventPublisher
from .store import ConsentStore


def build_app(settings: ServiceSettings, *, caller_resolver: Callable[[Request], Caller] | None = None,
              engine: Engine | None = None, redis: Redis | None = None, dynamodb: Any = None,
              publisher: EventPublisher | None = None, now: Callable[[], datetime] | None = None) -> FastAPI:
    """`dynamodb` is a boto3 DynamoDB *client* (thread-safe; see `openbanking.common.dynamo_items`)."""
    engine = engine or engine_from_settings(settings)
    # a cache must fail fast: one retry, short timeouts, then the ledger answers
    redis = redis or redis_from_settings(settings, socket_timeout=0.5, socket_connect_timeout=0.5,
                                         retry=Retry(NoBackoff(), 1))
    client = dynamodb or dynamodb_client(settings)
    clock = now or (lambda: datetime.now(UTC))
    deps = AisDeps(
        settings=settings,
        consents=ConsentStore(client, table_name(settings, "consents"), now=clock),
        sessions=session_factory(engine),
        cache=LedgerCache(redis, prefix=cache_prefix(settings.environment), ttl_seconds=settings.cache_ttl_seconds),
        now=clock,
        publisher=publisher,
    )
    return create_app("Open Banking account information (v3.1.11)",
                      [(BASE_PATH, consents.router), (BASE_PATH, accounts.router), ("", consents.internal_router)],
                      deps=deps, caller_resolver=resolve_caller(settings, caller_resolver),
                      request_metrics=(settings.environment, "ais") if settings.request_metrics else None)
