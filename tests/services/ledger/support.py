"""Isolation helpers for the tests that use the real PostgreSQL, Redis and RabbitMQ on 127.0.0.1.

Other test sessions run at the same time on the same servers: each session gets its own database
(created from `test`, migrated, dropped at the end), its own Redis key prefix (only those keys are
deleted) and its own RabbitMQ queue and exchange names.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
from psycopg import sql
from redis import Redis
from sqlalchemy import Engine

from openbanking.ledger.db import create_ledger_engine
from openbanking.ledger.migrate import upgrade

PG_ADMIN_URL = os.environ.get("OB_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_URL_TEMPLATE = os.environ.get("OB_TEST_PG_URL_TEMPLATE", "postgresql+psycopg://postgres@127.0.0.1:5432/{db}")
REDIS_URL = os.environ.get("OB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("OB_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
#: The seeded ledger's newest day: fixed, so the data (and the date filters of the tests) never drift.
SEED_UNTIL = datetime(2025, 6, 1, tzinfo=UTC)


def unique_name(kind: str) -> str:
    return f"ob_test_{kind}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@contextmanager
def ledger_database(kind: str) -> Iterator[Engine]:
    """A fresh, migrated database of our own; dropped (with any leftover connections) afterwards."""
    name = unique_name(kind)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    engine = create_ledger_engine(PG_URL_TEMPLATE.format(db=name), pool_size=5)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def redis_namespace() -> Iterator[tuple[Redis, str]]:
    """A Redis client and an environment name whose cache keys nobody else uses; our keys are removed after."""
    client = Redis.from_url(REDIS_URL)
    environment = f"t{uuid.uuid4().hex[:12]}"
    try:
        yield client, environment
    finally:
        keys = list(client.scan_iter(match=f"ob:{environment}:*", count=500))
        if keys:
            client.delete(*keys)
        client.close()
