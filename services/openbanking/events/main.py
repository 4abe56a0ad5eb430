"""Container entry point: `uvicorn --factory openbanking.events.main:create`."""

from __future__ import annotations

from fastapi import FastAPI

from ..common.settings import ServiceSettings
from .app import build_app

#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (ServiceSettings,)


def create() -> FastAPI:
    return build_app(ServiceSettings())
