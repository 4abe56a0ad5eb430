"""Container entry point: `uvicorn --factory openbanking.pis.main:create` (nothing is built at import time)."""

from __future__ import annotations

from fastapi import FastAPI

from ..common.dynamo_items import dynamodb_client
from ..common.settings import ServiceSettings
from ..events.publisher import publisher_from_settings
from .app import build_app


def create() -> FastAPI:
    settings = ServiceSettings()
    client = dynamodb_client(settings)
    return build_app(settings, dynamodb=client, publisher=publisher_from_settings(settings, client))
