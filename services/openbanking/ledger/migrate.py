"""Run the ledger's Alembic migrations from code: the services and the tests call `upgrade(engine)`
at start-up, so no image needs the `alembic` command or a writable working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

_HERE = Path(__file__).resolve().parent


def alembic_config() -> Config:
    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision`; a transaction-scoped advisory lock keeps concurrent starters apart."""
    config = alembic_config()
    with engine.begin() as connection:
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7291001)")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
