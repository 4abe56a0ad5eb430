"""The container entry point: settings from `OB_*`, the ledger migrated at start, the health endpoint up."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from openbanking.ais.main import create
from tests.services.ledger.support import PG_URL_TEMPLATE, ledger_database


def test_create_migrates_and_serves_health(monkeypatch: pytest.MonkeyPatch) -> None:
    with ledger_database("main") as engine:
        database = engine.url.database
        with engine.begin() as connection:  # start from an empty database: create() must migrate it
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        monkeypatch.setenv("OB_DATABASE_URL", PG_URL_TEMPLATE.format(db=database))
        monkeypatch.setenv("OB_ENVIRONMENT", "main-test")
        app = create()
        assert "accounts" in inspect(engine).get_table_names()
        with TestClient(app) as client:
            response = client.get("/health")
        assert response.status_code == 200 and response.json() == {"status": "ok"}
