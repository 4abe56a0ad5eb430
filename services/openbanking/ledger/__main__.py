"""`python -m openbanking.ledger`: the `ledger_migrate` task (the container's command). Migrates the schema and
provisions the services' roles (:mod:`openbanking.ledger.provision`), prints what it changed, exits 0; on a
configuration or database error it prints one line and exits 1."""

from __future__ import annotations

import logging
import sys

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from openbanking.common.settings import settings_errors

from .provision import MigrationSettings, provision

#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (MigrationSettings,)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = MigrationSettings()
        engine = settings.master_engine("the task")
        try:
            done = provision(engine, settings)
        finally:
            engine.dispose()
    except (ValidationError, ValueError, RuntimeError, SQLAlchemyError) as exc:
        print(f"ledger_migrate: {settings_errors(exc)}", file=sys.stderr)
        return 1
    print(f"ledger_migrate: schema at {done.revision_after}; "
          + (f"{len(done.changes)} change(s): {'; '.join(done.changes)}" if done.changes else "nothing to change"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
