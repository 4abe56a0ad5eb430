"""The AIS service on a seeded ledger of its own (real PostgreSQL and Redis), DynamoDB under moto, callers
described by the gateway's `x-ob-*` headers as API Gateway would pass them.

Fixtures are package-scoped: moto's `mock_aws` must end with this package, or it would stay active for (and
share its state with) the other packages' tests of the same session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws
from redis import Redis
from sqlalchemy import Engine

from openbanking.ais.app import build_app
from openbanking.common.dynamo import create_tables
from openbanking.common.settings import ServiceSettings
from openbanking.ledger.cache import LedgerCache
from openbanking.ledger.seed import SeedSummary, seed
from tests.services.ledger.support import SEED_UNTIL, ledger_database, redis_namespace

BASE = "/open-banking/v3.1/aisp"
BASE_URL = "https://api.bank.example"
TPP = "tpp-alpha"
OTHER_TPP = "tpp-beta"
ALL_PERMISSIONS = ["ReadAccountsDetail", "ReadBalances", "ReadBeneficiariesDetail", "ReadDirectDebits", "ReadParty",
                   "ReadPartyPSU", "ReadProducts", "ReadStandingOrdersDetail", "ReadTransactionsCredits",
                   "ReadTransactionsDebits", "ReadTransactionsDetail", "ReadPAN"]


@dataclass
class Clock:
    """The service's clock; tests move it to expire consents and put it back."""

    moment: datetime | None = None

    def __call__(self) -> datetime:
        return self.moment or datetime.now(UTC)


@dataclass
class Published:
    events: list[tuple[str, str, Any]] = field(default_factory=list)

    def publish(self, tpp_id: str, event_type: str, subject: Any) -> None:
        self.events.append((tpp_id, event_type, subject))


@pytest.fixture(scope="package")
def ledger() -> Iterator[Engine]:
    with ledger_database("ais") as engine:
        yield engine


@pytest.fixture(scope="package")
def seeded(ledger: Engine) -> SeedSummary:
    return seed(ledger, customers=5, months=6, seed=11, until=SEED_UNTIL)


@pytest.fixture(scope="package")
def redis_env() -> Iterator[tuple[Redis, str]]:
    with redis_namespace() as pair:
        yield pair


@pytest.fixture(scope="package")
def settings(redis_env: tuple[Redis, str]) -> ServiceSettings:
    return ServiceSettings(environment=redis_env[1], table_prefix=f"{redis_env[1]}-", base_url=BASE_URL,
                           page_size=25, cache_ttl_seconds=60)


@pytest.fixture(scope="package")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="package")
def published() -> Published:
    return Published()


@pytest.fixture(scope="package")
def app_client(settings: ServiceSettings, ledger: Engine, seeded: SeedSummary, redis_env: tuple[Redis, str],
               clock: Clock, published: Published) -> Iterator[TestClient]:
    with mock_aws():
        create_tables(settings, ["consents"])
        dynamodb = boto3.client("dynamodb", region_name=settings.aws_region)
        app = build_app(settings, engine=ledger, redis=redis_env[0], dynamodb=dynamodb, publisher=published,
                        now=clock)
        with TestClient(app, base_url="http://ais.internal") as client:
            yield client


@pytest.fixture
def client(app_client: TestClient, clock: Clock) -> Iterator[TestClient]:
    yield app_client
    clock.moment = None


@pytest.fixture(scope="package")
def cache(app_client: TestClient) -> LedgerCache:
    return app_client.app.state.deps.cache  # type: ignore[attr-defined]


def headers(tpp: str = TPP, scopes: str = "accounts", consent_id: str | None = None, **extra: str) -> dict[str, str]:
    out = {"x-ob-tpp-id": tpp, "x-ob-client-id": f"{tpp}-client", "x-ob-scopes": scopes,
           "x-fapi-interaction-id": str(uuid.uuid4()), **extra}
    if consent_id:
        out["x-ob-consent-id"] = consent_id
    return out


def create_consent(client: TestClient, permissions: list[str], tpp: str = TPP, **data: Any) -> dict[str, Any]:
    response = client.post(f"{BASE}/account-access-consents", headers=headers(tpp),
                           json={"Data": {"Permissions": permissions, **data}, "Risk": {}})
    assert response.status_code == 201, response.text
    return response.json()["Data"]


def decide(client: TestClient, consent_id: str, status: str = "Authorised", psu: str = "psu-0002",
           accounts: list[str] | None = None) -> Any:
    body = {"Status": status, "PsuId": psu, "AccountIds": accounts if accounts is not None else []}
    return client.post(f"/internal/aisp/account-access-consents/{consent_id}/authorisation", json=body,
                       headers=headers("idp", scopes="openbanking:consent-authorisation"))


def authorised(client: TestClient, permissions: list[str] | None = None, *, psu: str = "psu-0002",
               accounts: list[str] | None = None, tpp: str = TPP, **data: Any) -> str:
    """An Authorised consent of `tpp` over `accounts` (default: psu-0002's two accounts); its id."""
    consent = create_consent(client, permissions or ALL_PERMISSIONS, tpp=tpp, **data)
    response = decide(client, consent["ConsentId"], psu=psu,
                      accounts=accounts if accounts is not None else ["acc-0002-01", "acc-0002-02"])
    assert response.status_code == 204, response.text
    return consent["ConsentId"]


def resource(client: TestClient, path: str, consent_id: str, tpp: str = TPP, **params: Any) -> Any:
    return client.get(f"{BASE}{path}", headers=headers(tpp, consent_id=consent_id), params=params or None)
