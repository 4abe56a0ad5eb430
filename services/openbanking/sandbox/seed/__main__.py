"""`python -m openbanking.sandbox.seed`: the `sandbox_seed` task (a one-off Fargate task of the sandbox account, run
after `ledger_migrate` and again whenever wanted). Writes the synthetic PSUs, accounts, balances, transactions and
the rest (:func:`openbanking.ledger.seed.seed`) into the sandbox's ledger; a ledger already seeded is left alone,
so running it again changes nothing. Prints what it did and exits 0; on a configuration or database error it
prints one line and exits 1.

Deployed it connects to the cluster (`OB_DATABASE_HOST`) with the master credentials ECS injects from the
RDS-managed secret (`OB_DATABASE_MASTER_USERNAME`, `OB_DATABASE_MASTER_PASSWORD`) and requires the schema
`ledger_migrate` made; locally it migrates and seeds `OB_DATABASE_URL`.
"""

from __future__ import annotations

import logging
import sys

from pydantic import Field, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from openbanking.common.settings import settings_errors
from openbanking.ledger.db import create_ledger_engine
from openbanking.ledger.migrate import SchemaOutOfDate, require_current, upgrade
from openbanking.ledger.provision import MigrationSettings
from openbanking.ledger.seed import seed


class SeedSettings(MigrationSettings):
    """What the seeding task reads: the ledger connection (as `ledger_migrate`) and how much to make."""

    sandbox_customers: int = Field(default=5, ge=1, le=1000, description="the PSUs to create (psu-0001 ...)")
    sandbox_months: int = Field(default=6, ge=1, le=36, description="months of transactions per account")


#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (SeedSettings,)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = SeedSettings()
        engine = settings.master_engine("the task") if settings.database_host \
            else create_ledger_engine(settings.database_url, pool_size=1)
        try:
            if settings.database_host:
                require_current(engine)
            else:
                upgrade(engine)
            summary = seed(engine, customers=settings.sandbox_customers, months=settings.sandbox_months)
        finally:
            engine.dispose()
    except (ValidationError, ValueError, SchemaOutOfDate, SQLAlchemyError) as exc:
        print(f"sandbox_seed: {settings_errors(exc)}", file=sys.stderr)
        return 1
    if not summary.created:
        print("sandbox_seed: the ledger is seeded already; nothing to change")
    else:
        accounts = sum(len(ids) for ids in summary.accounts.values())
        print(f"sandbox_seed: seeded {len(summary.accounts)} PSUs, {accounts} accounts, "
              f"{summary.transactions} transactions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
