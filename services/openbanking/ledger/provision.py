"""Provision the ledger for the services: the `ledger_migrate` task's work (`python -m openbanking.ledger`).

Connected with the cluster's master credentials, in one transaction under an advisory lock, it

1. creates the application login roles (`OB_DATABASE_READER_ROLE`, `OB_DATABASE_WRITER_ROLE`) if they are
   missing, and makes them plain LOGIN roles that may authenticate with IAM (`GRANT rds_iam`);
2. runs the Alembic migrations to head;
3. grants each role exactly the table privileges in :data:`GRANTS`, and revokes any other it holds on the schema's
   tables and sequences; no role may create objects in the schema.

Running it again changes nothing (it reports what it changed: nothing). The services log in as these roles and
never run DDL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field, SecretStr
from sqlalchemy import Connection, Engine, text

from openbanking.common.settings import Deployed, ServiceSettings
from openbanking.deployables import LEDGER_ROLES

from .db import owner_engine
from .migrate import alembic_config
from .models import (
    Account,
    AccountParty,
    Balance,
    Beneficiary,
    Customer,
    DirectDebit,
    IngestionCursor,
    IngestionHeld,
    IngestionMessage,
    Party,
    Product,
    StandingOrder,
    Transaction,
)

log = logging.getLogger(__name__)

#: The role whose members may log in with an IAM authentication token (an Aurora/RDS built-in role).
IAM_ROLE = "rds_iam"
SCHEMA = "public"
_LOCK = 7291001  # the same advisory lock as openbanking.ledger.migrate.upgrade
_ALEMBIC = "alembic_version"


class MigrationSettings(ServiceSettings):
    """What the `ledger_migrate` task reads on top of the ledger connection settings."""

    database_master_username: Annotated[str | None, Deployed(secret=True)] = Field(
        default=None, description="the cluster's master user (ECS injects the RDS-managed secret's `username` key)")
    database_master_password: Annotated[SecretStr | None, Deployed(secret=True)] = Field(
        default=None, description="its password (the RDS-managed secret's `password` key)")
    database_reader_role: str = Field(default=LEDGER_ROLES["read"],
                                      description="the login role of the deployables that read the ledger (ais, pis)")
    database_writer_role: str = Field(default=LEDGER_ROLES["write"],
                                      description="the login role of the deployable that writes it (ingestion)")

    def master_engine(self, task: str) -> Engine:
        """The cluster with its master credentials (the tasks that own the ledger: `task` names one in errors)."""
        if not self.database_master_username:
            raise ValueError(f"OB_DATABASE_MASTER_USERNAME: not set; {task} connects with the cluster's master "
                             "credentials (the RDS-managed secret's username and password keys)")
        password = self.database_master_password
        return owner_engine(self, self.database_master_username, password.get_secret_value() if password else None)


_SERVED = (Customer, Party, Product, Account, AccountParty, Balance, Transaction, Beneficiary, StandingOrder,
           DirectDebit)

#: Access level -> table -> privileges: exactly what the statements of the deployables with that access run
#: (reader: AIS reads and PIS funds confirmation; writer: ingestion's upserts, cursors, message log and held
#: messages), plus reading the schema revision the services check at start-up.
GRANTS: dict[str, dict[str, frozenset[str]]] = {
    "read": {**{model.__tablename__: frozenset({"SELECT"}) for model in _SERVED}, _ALEMBIC: frozenset({"SELECT"})},
    "write": {
        Customer.__tablename__: frozenset({"SELECT"}),
        Account.__tablename__: frozenset({"SELECT", "INSERT", "UPDATE"}),
        Balance.__tablename__: frozenset({"SELECT", "INSERT", "UPDATE"}),
        Transaction.__tablename__: frozenset({"SELECT", "INSERT", "UPDATE"}),
        IngestionCursor.__tablename__: frozenset({"SELECT", "INSERT", "UPDATE"}),
        IngestionMessage.__tablename__: frozenset({"SELECT", "INSERT", "UPDATE"}),
        IngestionHeld.__tablename__: frozenset({"SELECT", "INSERT", "DELETE"}),
        _ALEMBIC: frozenset({"SELECT"}),
    },
}


@dataclass
class Provisioning:
    """What a run changed, in order (empty: the database already was as it should be)."""

    changes: list[str] = field(default_factory=list)
    revision_before: str | None = None
    revision_after: str | None = None


def _quote(connection: Connection, identifier: str) -> str:
    return connection.dialect.identifier_preparer.quote(identifier)


def _ensure_role(connection: Connection, role: str, done: Provisioning) -> None:
    quoted = _quote(connection, role)
    row = connection.execute(text("SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, "
                                  "rolbypassrls, rolinherit FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if row is None:
        connection.exec_driver_sql(f"CREATE ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                                   "NOBYPASSRLS INHERIT")
        done.changes.append(f"created login role {role}")
    elif tuple(row) != (True, False, False, False, False, False, True):
        connection.exec_driver_sql(f"ALTER ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                                   "NOBYPASSRLS INHERIT")
        done.changes.append(f"reset the attributes of role {role} to a plain login role")
    member = connection.execute(text("SELECT pg_has_role(:r, :iam, 'MEMBER')"), {"r": role, "iam": IAM_ROLE}).scalar()
    if not member:
        connection.exec_driver_sql(f"GRANT {_quote(connection, IAM_ROLE)} TO {quoted}")
        done.changes.append(f"granted {IAM_ROLE} to {role}")


def _held(connection: Connection, role: str) -> dict[str, set[str]]:
    """Privileges `role` holds directly on the schema's tables, views and sequences."""
    rows = connection.execute(text(
        "SELECT c.relname, a.privilege_type FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN LATERAL aclexplode(c.relacl) a "
        "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
        "AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = :role)"), {"schema": SCHEMA, "role": role})
    held: dict[str, set[str]] = {}
    for table, privilege in rows:
        held.setdefault(table, set()).add(privilege)
    return held


def _grant_exactly(connection: Connection, role: str, wanted: dict[str, frozenset[str]], done: Provisioning) -> None:
    quoted = _quote(connection, role)
    schema = _quote(connection, SCHEMA)
    if not connection.execute(text("SELECT has_schema_privilege(:r, :s, 'USAGE')"), {"r": role, "s": SCHEMA}).scalar():
        connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {quoted}")
        done.changes.append(f"granted USAGE on schema {SCHEMA} to {role}")
    held = _held(connection, role)
    for table in sorted(set(wanted) | set(held)):
        target = f"{schema}.{_quote(connection, table)}"
        missing = sorted(wanted.get(table, frozenset()) - held.get(table, set()))
        extra = sorted(held.get(table, set()) - wanted.get(table, frozenset()))
        if missing:
            connection.exec_driver_sql(f"GRANT {', '.join(missing)} ON {target} TO {quoted}")
            done.changes.append(f"granted {', '.join(missing)} on {table} to {role}")
        if extra:
            connection.exec_driver_sql(f"REVOKE {', '.join(extra)} ON {target} FROM {quoted}")
            done.changes.append(f"revoked {', '.join(extra)} on {table} from {role}")


def _no_create_for_public(connection: Connection, done: Provisioning) -> None:
    """PostgreSQL before 15 let every role create objects in `public`; nobody but the owner may here."""
    if connection.execute(text("SELECT has_schema_privilege('public', :s, 'CREATE')"), {"s": SCHEMA}).scalar():
        connection.exec_driver_sql(f"REVOKE CREATE ON SCHEMA {_quote(connection, SCHEMA)} FROM PUBLIC")
        done.changes.append(f"revoked CREATE on schema {SCHEMA} from PUBLIC")


def provision(engine: Engine, settings: MigrationSettings, revision: str = "head") -> Provisioning:
    """Roles, migrations and grants, as the module docstring says; one transaction, safe to run concurrently."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    roles = {"read": settings.database_reader_role, "write": settings.database_writer_role}
    done = Provisioning()
    with engine.begin() as connection:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK})")
        if connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": IAM_ROLE}).first() is None:
            raise RuntimeError(f"role {IAM_ROLE} does not exist: IAM database authentication needs Aurora or RDS "
                               "PostgreSQL (or a role of that name where it is simulated)")
        for role in roles.values():
            _ensure_role(connection, role, done)
        done.revision_before = MigrationContext.configure(connection).get_current_revision()
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        done.revision_after = MigrationContext.configure(connection).get_current_revision()
        if done.revision_after != done.revision_before:
            done.changes.append(f"migrated the schema from {done.revision_before or 'nothing'} to "
                                f"{done.revision_after}")
        _no_create_for_public(connection, done)
        for access, role in roles.items():
            _grant_exactly(connection, role, GRANTS[access], done)
    for change in done.changes:
        log.info("ledger: %s", change)
    return done
