"""The ledger: migrations both ways, deterministic seeding, the read functions other services use."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from openbanking.ledger import available_balance
from openbanking.ledger.migrate import downgrade, upgrade
from openbanking.ledger.models import Base, Transaction
from openbanking.ledger.seed import seed

from .support import SEED_UNTIL, ledger_database


def _dump(engine) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(
            "SELECT transaction_id, account_id, amount, booking_date_time, balance_amount FROM transactions "
            "ORDER BY transaction_id"))]


def test_migrations_create_the_model_schema_and_roll_back() -> None:
    with ledger_database("migrate") as engine:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables and "alembic_version" in tables
        downgrade(engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        upgrade(engine)  # idempotent at head
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_seed_is_deterministic_and_runs_once() -> None:
    with ledger_database("seed1") as first, ledger_database("seed2") as second:
        summary = seed(first, customers=4, months=3, seed=42, until=SEED_UNTIL)
        assert seed(second, customers=4, months=3, seed=42, until=SEED_UNTIL).accounts == summary.accounts
        assert _dump(first) == _dump(second)
        assert list(summary.accounts) == ["psu-0001", "psu-0002", "psu-0003", "psu-0004"]
        assert summary.accounts["psu-0002"] == ["acc-0002-01", "acc-0002-02"]  # a current and a savings account
        assert summary.transactions > 4 * 3 * 20
        again = seed(first, customers=9, months=1, seed=1)
        assert again.created is False and again.accounts == summary.accounts and _dump(first) == _dump(second)
        with Session(first) as session:
            times = session.scalars(select(Transaction.booking_date_time)).all()
        assert max(times) < SEED_UNTIL and min(times) >= SEED_UNTIL.replace(month=2, day=28)


def test_available_balance_and_running_balances_agree() -> None:
    with ledger_database("balance") as engine:
        seed(engine, customers=2, months=2, seed=9, until=SEED_UNTIL)
        with Session(engine) as session:
            available = available_balance(session, "acc-0001-01")
            assert available is not None and available.currency == "GBP" and available.type == "InterimAvailable"
            last = session.scalars(select(Transaction).where(Transaction.account_id == "acc-0001-01")
                                   .order_by(Transaction.booking_date_time.desc()).limit(1)).one()
            assert last.balance_amount is not None
            running = last.balance_amount if last.balance_credit_debit == "Credit" else -last.balance_amount
            assert available.amount == running + Decimal(1000)  # the booked balance plus the overdraft
            assert available_balance(session, "acc-9999-01") is None
