"""Container entry point: `uvicorn --factory openbanking.ais.main:create` (settings from `OB_*` variables).

The ledger schema is migrated at start-up (an advisory lock serialises concurrently starting tasks).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from openbanking.common.settings import ServiceSettings
from openbanking.ledger.db import engine_from_settings
from openbanking.ledger.migrate import upgrade

from .app import build_app


def create() -> FastAPI:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = ServiceSettings()
    engine = engine_from_settings(settings)
    upgrade(engine)
    return build_app(settings, engine=engine)
