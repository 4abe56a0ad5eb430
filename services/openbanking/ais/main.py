"""Container entry point: `uvicorn --factory openbanking.ais.main:create` (settings from `OB_*` variables).

A local ledger (`OB_DATABASE_URL`) is migrated at start-up (an advisory lock serialises concurrent starters); the
cluster (`OB_DATABASE_HOST`) is only checked: the service refuses to start on a schema other than the one its image
was built for, and the `ledger_migrate` task migrates it.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from openbanking.common.dynamo_items import dynamodb_client
from openbanking.common.settings import ServiceSettings
from openbanking.events.publisher import publisher_from_settings
from openbanking.ledger.db import engine_from_settings
from openbanking.ledger.migrate import prepare_schema

from .app import build_app

#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (ServiceSettings,)


def create() -> FastAPI:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = ServiceSettings()
    engine = engine_from_settings(settings)
    prepare_schema(engine, settings)
    client = dynamodb_client(settings)
    return build_app(settings, engine=engine, dynamodb=client, publisher=publisher_from_settings(settings, client))
