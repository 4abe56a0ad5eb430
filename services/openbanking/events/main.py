"""Container entry point: `uvicorn --factory openbanking.events.main:create`."""

from __future__ import annotations

from fastapi import FastAPI

from ..common.settings import ServiceSettings
from .app import build_app


def create() -> FastAPI:
    return build_app(ServiceSettings())
