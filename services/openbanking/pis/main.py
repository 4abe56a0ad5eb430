"""Container entry point: `uvicorn --factory openbanking.pis.main:create` (nothing is built at import time).

Funds confirmation reads the ledger through a lazily connecting engine; the service runs no DDL.
"""

from __future__ import annotations

from fastapi import FastAPI

from ..common.dynamo_items import dynamodb_client
from ..common.settings import ServiceSettings
from ..events.publisher import publisher_from_settings
from .app import build_app

#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (ServiceSettings,)


def create() -> FastAPI:
    settings = ServiceSettings()
    client = dynamodb_client(settings)
    return build_app(settings, dynamodb=client, publisher=publisher_from_settings(settings, client))
