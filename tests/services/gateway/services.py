"""The real AIS service as the gateway reaches it in the tests: `gateway` auth mode (the caller comes from the
authorizer's `x-ob-*` headers), a seeded ledger of its own on the real PostgreSQL, a Redis namespace, DynamoDB under
moto; and the IdP's side door (`/internal/...`, reached over PrivateLink in AWS, never through the gateway)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import boto3
from fastapi import FastAPI
from fastapi.testclient import TestClient
from moto import mock_aws

from openbanking.ais.app import build_app
from openbanking.common.dynamo import create_tables
from openbanking.common.settings import AuthMode, ServiceSettings
from openbanking.ledger.seed import seed
from tests.services.ledger.support import SEED_UNTIL, ledger_database, redis_namespace

AIS = "/open-banking/v3.1/aisp"
#: The identity provider recording a PSU's decision (its own caller identity on the private path).
IDP_HEADERS = {"x-ob-tpp-id": "idp", "x-ob-client-id": "idp", "x-ob-scopes": "openbanking:consent-authorisation"}


@contextmanager
def ais_service(kind: str) -> Iterator[FastAPI]:
    """AIS over PSUs psu-0001..psu-0003 (accounts `acc-<psu>-<n>`, two months of transactions), lifespan running."""
    with ledger_database(kind) as engine, redis_namespace() as (redis, environment), mock_aws():
        seed(engine, customers=3, months=2, seed=5, until=SEED_UNTIL)
        settings = ServiceSettings(environment=environment, table_prefix=f"{environment}-", page_size=25,
                                   base_url="https://api.bank.example", auth_mode=AuthMode.GATEWAY)
        create_tables(settings, ["consents"])
        app = build_app(settings, engine=engine, redis=redis,
                        dynamodb=boto3.client("dynamodb", region_name=settings.aws_region))
        with TestClient(app):
            yield app


def authorise_account_access(app: FastAPI, consent_id: str, psu_id: str, account_ids: Sequence[str]) -> None:
    """The PSU's decision, as the IdP records it."""
    response = TestClient(app).post(f"/internal/aisp/account-access-consents/{consent_id}/authorisation",
                                    headers=IDP_HEADERS,
                                    json={"Status": "Authorised", "PsuId": psu_id, "AccountIds": list(account_ids)})
    assert response.status_code == 204, response.text
