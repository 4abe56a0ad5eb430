"""The local sandbox's own settings (`OB_SANDBOX_*`, and `PORT`).

Its database and cache are its own by default, never the ones the test suite uses (`OB_DATABASE_URL`,
`OB_REDIS_URL` and their defaults): the `ob_sandbox` database on the local PostgreSQL (created when missing) and
Redis database 1. The services it runs get these values; the `OB_DATABASE_URL` and `OB_REDIS_URL` of the
environment do not reach them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .state import DEFAULT_DIR


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OB_SANDBOX_", extra="ignore", frozen=True)

    dir: Path = Field(default=DEFAULT_DIR, description="the state directory (CA, keys, TPP directory)")
    port: int = Field(default=8000, ge=1, le=65535, validation_alias=AliasChoices("PORT", "OB_SANDBOX_PORT"),
                      description="the port on 127.0.0.1 (PORT)")
    database_url: str = Field(default="postgresql+psycopg://postgres@127.0.0.1:5432/ob_sandbox",
                              description="the sandbox's ledger database (created and seeded when missing)")
    redis_url: str = Field(default="redis://127.0.0.1:6379/1", description="the sandbox's ledger cache")
    settlement_seconds: float = Field(default=5.0, ge=0, le=3600,
                                      description="seconds between a payment's settlement steps (0: payments stay "
                                                  "where PIS put them, unless a TPP reports a status)")
    customers: int = Field(default=5, ge=1, le=1000, description="seeded PSUs (psu-0001 ...)")
    months: int = Field(default=6, ge=1, le=36, description="months of seeded transactions")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
