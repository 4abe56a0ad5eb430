"""The container entry points build their apps from the environment alone (`uvicorn --factory ...:create`),
and refuse to start without what production needs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openbanking.events import main as events_main
from openbanking.pis import main as pis_main


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("OB_ENVIRONMENT", "local")
    monkeypatch.setenv("OB_TPP_JWKS_URL_TEMPLATE", "https://keystore.example/{tpp_id}.jwks")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return monkeypatch


@pytest.mark.parametrize("create", [pis_main.create, events_main.create])
def test_factories_build_a_healthy_app(environment: pytest.MonkeyPatch, create: object) -> None:
    app = create()  # type: ignore[operator]
    response = TestClient(app).get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "x-jws-signature" not in response.headers


@pytest.mark.parametrize("create", [pis_main.create, events_main.create])
def test_factories_need_the_tpp_keys_and_a_real_signing_key(environment: pytest.MonkeyPatch, create: object) -> None:
    environment.delenv("OB_TPP_JWKS_URL_TEMPLATE")
    with pytest.raises(ValueError, match="OB_TPP_JWKS_URL_TEMPLATE"):
        create()  # type: ignore[operator]
    environment.setenv("OB_TPP_JWKS_URL_TEMPLATE", "https://keystore.example/{tpp_id}.jwks")
    environment.setenv("OB_ENVIRONMENT", "prod")
    with pytest.raises(ValueError, match="OB_SIGNING_KEY_PATH"):
        create()  # type: ignore[operator]
