"""The `ledger_migrate` task against the real PostgreSQL (`rds_iam` simulated by a role of that name): from an empty
database it creates the two login roles, migrates, and grants each exactly what its deployables' statements need;
a second run changes nothing; privileges granted by hand beyond the plan are revoked. The roles are then used as
the services use them: ingestion writes as the writer, the AIS and PIS reads run as the reader, anything else is
refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from openbanking.ingestion.handler import IngestionHandler, Outcome
from openbanking.ledger import __main__ as task
from openbanking.ledger import queries
from openbanking.ledger.db import create_ledger_engine, owner_engine
from openbanking.ledger.migrate import head_revision, require_current
from openbanking.ledger.provision import GRANTS, IAM_ROLE, MigrationSettings, provision
from openbanking.ledger.seed import seed
from tests.services.ingestion.conftest import account_event, balance_event, transaction_event
from tests.services.ledger.support import PG_ADMIN_URL, PG_URL_TEMPLATE, SEED_UNTIL, ledger_database


def _simulate_rds_iam() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DO $$ BEGIN CREATE ROLE {} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; "
                              "END $$").format(sql.Identifier(IAM_ROLE)))


@pytest.fixture
def empty_database() -> Iterator[tuple[Engine, MigrationSettings]]:
    """An empty database (no schema objects) and task settings with login roles of our own, dropped afterwards."""
    _simulate_rds_iam()
    suffix = uuid.uuid4().hex[:8]
    reader, writer = f"ob_test_reader_{suffix}", f"ob_test_writer_{suffix}"
    try:
        with ledger_database("prov") as admin:
            with admin.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            settings = MigrationSettings(database_host="127.0.0.1", database_name=str(admin.url.database),
                                         database_ssl_mode="disable", database_master_username="postgres",
                                         database_reader_role=reader, database_writer_role=writer)
            yield admin, settings
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin_connection:
            for role in (reader, writer):
                admin_connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def run(settings: MigrationSettings) -> list[str]:
    engine = owner_engine(settings, "postgres", None)
    try:
        return provision(engine, settings).changes
    finally:
        engine.dispose()


def catalog(admin: Engine, roles: tuple[str, ...]) -> dict[str, Any]:
    """Everything the task may change: the roles' attributes and memberships, their privileges, the revision."""
    with admin.connect() as connection:
        attributes = connection.execute(text(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolinherit FROM pg_roles "
            "WHERE rolname = ANY(:r) ORDER BY rolname"), {"r": list(roles)}).all()
        members = connection.execute(text(
            "SELECT m.rolname, g.rolname FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member "
            "JOIN pg_roles g ON g.oid = a.roleid WHERE m.rolname = ANY(:r) ORDER BY 1, 2"), {"r": list(roles)}).all()
        grants = connection.execute(text(
            "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = ANY(:r) ORDER BY 1, 2, 3"), {"r": list(roles)}).all()
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return {"attributes": attributes, "members": members, "grants": grants, "revision": revision}


def as_role(settings: MigrationSettings, role: str) -> Engine:
    return create_ledger_engine(PG_URL_TEMPLATE.format(db=settings.database_name).replace("postgres@", f"{role}@"),
                                pool_size=1)


def test_first_run_provisions_and_second_run_changes_nothing(
        empty_database: tuple[Engine, MigrationSettings]) -> None:
    admin, settings = empty_database
    roles = (settings.database_reader_role, settings.database_writer_role)
    first = run(settings)
    assert f"created login role {roles[0]}" in first and f"granted {IAM_ROLE} to {roles[1]}" in first
    assert f"migrated the schema from nothing to {head_revision()}" in first
    after_first = catalog(admin, roles)
    assert after_first["revision"] == head_revision()
    assert [tuple(a) for a in after_first["attributes"]] == [(r, True, False, False, False, True) for r in sorted(roles)]
    assert sorted(tuple(m) for m in after_first["members"]) == sorted((r, IAM_ROLE) for r in roles)
    expected = sorted((role, table, privilege) for access, role in zip(("read", "write"), roles, strict=True)
                      for table, privileges in GRANTS[access].items() for privilege in privileges)
    assert sorted(tuple(g) for g in after_first["grants"]) == expected

    assert run(settings) == [], "a second run changes nothing"
    assert catalog(admin, roles) == after_first


def test_privileges_beyond_the_plan_are_revoked(empty_database: tuple[Engine, MigrationSettings]) -> None:
    admin, settings = empty_database
    reader, writer = settings.database_reader_role, settings.database_writer_role
    run(settings)
    planned = catalog(admin, (reader, writer))
    with admin.begin() as connection:
        connection.exec_driver_sql(f"GRANT DELETE, TRUNCATE ON accounts TO {reader}")
        connection.exec_driver_sql(f"GRANT ALL ON beneficiaries TO {writer}")
        connection.exec_driver_sql(f"ALTER ROLE {writer} CREATEDB")
    changes = run(settings)
    assert f"revoked DELETE, TRUNCATE on accounts from {reader}" in changes
    assert any(c.startswith("revoked") and f"on beneficiaries from {writer}" in c for c in changes)
    assert f"reset the attributes of role {writer} to a plain login role" in changes
    assert catalog(admin, (reader, writer)) == planned


def test_the_roles_can_run_exactly_their_deployables_statements(
        empty_database: tuple[Engine, MigrationSettings]) -> None:
    admin, settings = empty_database
    run(settings)
    seed(admin, customers=1, months=1, seed=7, until=SEED_UNTIL)
    writer, reader = as_role(settings, settings.database_writer_role), as_role(settings, settings.database_reader_role)
    try:
        require_current(reader)  # the services' start-up check reads the revision
        handler = IngestionHandler(writer, None, max_gap_wait=timedelta(seconds=0))
        account_id = f"acc-prov-{uuid.uuid4().hex[:6]}"
        parked: list[str] = []

        def park(_body: bytes, reason: str) -> None:
            parked.append(reason)

        assert handler.handle(account_event(account_id, 1), park).outcome is Outcome.APPLIED
        assert handler.handle(transaction_event(account_id, 3, "tx-prov-1"), park).outcome is Outcome.HELD
        balance = balance_event(account_id, 2, "12.34", message_id=f"m-{account_id}-2")
        assert handler.handle(balance, park).outcome is Outcome.APPLIED
        assert handler.handle(balance, park).outcome is Outcome.DUPLICATE
        assert handler.handle(transaction_event(account_id, 5, "tx-prov-2"), park).outcome is Outcome.HELD
        assert handler.release_stalled(park), "the gap at 4 is skipped, the held message applied (and deleted)"
        assert not parked, parked
        with Session(reader) as session:
            balance = queries.available_balance(session, account_id)
            assert balance is not None and balance.amount == Decimal("12.34")
            psu_account = session.scalars(text("SELECT account_id FROM accounts ORDER BY account_id LIMIT 1")).one()
            assert queries.beneficiaries(session, psu_account) is not None
            assert queries.standing_orders(session, psu_account) is not None
            assert queries.direct_debits(session, psu_account) is not None
        for engine, statement in ((reader, "INSERT INTO customers (psu_id, party_id) VALUES ('x', 'y')"),
                                  (reader, "DELETE FROM balances"),
                                  (writer, "SELECT * FROM beneficiaries"),
                                  (writer, "DELETE FROM transactions"),
                                  (writer, "CREATE TABLE intruder (id int)"),
                                  (writer, "DROP TABLE ingestion_held")):
            with engine.connect() as connection, pytest.raises(ProgrammingError, match="InsufficientPrivilege"):
                connection.exec_driver_sql(statement)
    finally:
        writer.dispose()
        reader.dispose()


def test_the_task_command_reports_and_refuses_a_missing_master_user(
        empty_database: tuple[Engine, MigrationSettings], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, settings = empty_database
    for name, value in {"OB_DATABASE_HOST": "127.0.0.1", "OB_DATABASE_NAME": settings.database_name,
                        "OB_DATABASE_SSL_MODE": "disable", "OB_DATABASE_READER_ROLE": settings.database_reader_role,
                        "OB_DATABASE_WRITER_ROLE": settings.database_writer_role}.items():
        monkeypatch.setenv(name, value)
    assert task.main() == 1
    assert capsys.readouterr().err.startswith("ledger_migrate: OB_DATABASE_MASTER_USERNAME: not set")
    monkeypatch.setenv("OB_DATABASE_MASTER_USERNAME", "postgres")
    assert task.main() == 0
    assert f"schema at {head_revision()}; " in capsys.readouterr().out
    assert task.main() == 0
    assert capsys.readouterr().out.strip().endswith("nothing to change")
    monkeypatch.setenv("OB_DATABASE_PORT", "not-a-port")
    assert task.main() == 1
    assert capsys.readouterr().err.startswith("ledger_migrate: OB_DATABASE_PORT: 'not-a-port' ")
