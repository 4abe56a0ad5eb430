"""Run the ledger's Alembic migrations from code, so no image needs the `alembic` command or a writable working
directory: the `ledger_migrate` task, the local sandbox and the tests call `upgrade(engine)`. At start-up the
services call `prepare_schema`: a local ledger (`OB_DATABASE_URL`) is migrated as before, the cluster
(`OB_DATABASE_HOST`) never is: the services log in as roles without DDL rights and refuse to start on a schema
other than the one their image was built for."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from openbanking.common.settings import ServiceSettings

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


class SchemaOutOfDate(RuntimeError):
    """The ledger schema is not the one this code was built for."""


def head_revision() -> str:
    """The revision this code's migrations end at."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the ledger has migrations"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_current(engine: Engine) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at :func:`head_revision` (a read, never DDL)."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(f"the ledger schema is at revision {current or 'none'}, this image needs {head}: "
                              "run the ledger_migrate task (python -m openbanking.ledger) first")


def prepare_schema(engine: Engine, settings: ServiceSettings) -> None:
    """At a service's start: migrate a local ledger; only check the cluster's (the `ledger_migrate` task migrates
    it, and the services' roles may not run DDL there)."""
    if settings.database_host:
        require_current(engine)
    else:
        upgrade(engine)
