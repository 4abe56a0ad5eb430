"""Engine and session factory of the ledger database (PostgreSQL through psycopg 3)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from openbanking.common.settings import ServiceSettings


def create_ledger_engine(url: str, *, pool_size: int = 10) -> Engine:
    """`pool_pre_ping` so a connection the database or a failover closed is replaced, not handed to a request."""
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800)


def engine_from_settings(settings: ServiceSettings) -> Engine:
    return create_ledger_engine(settings.database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (responses are built after the transaction)."""
    return sessionmaker(engine, expire_on_commit=False)
