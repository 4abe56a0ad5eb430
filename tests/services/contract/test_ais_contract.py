"""Contract tests of the account-information service against the official OBIE v3.1.11 spec (schemathesis).

For each implemented operation, generated requests (bounded) must never produce a 5xx, and every
response must match the spec: status code declared, body valid against the schema, required response
headers (`x-fapi-interaction-id`) present. Callers arrive as API Gateway describes them (`x-ob-*`), with an
Authorised consent over psu-0002's accounts; each generated case is sent as generated (random ids: the
400 paths) and once more with a consented AccountId / an existing ConsentId (the 200 paths).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from moto import mock_aws
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from openbanking.ais.app import build_app
from openbanking.common.dynamo import create_tables
from openbanking.common.settings import ServiceSettings
from openbanking.ledger.seed import seed
from tests.services.ledger.support import SEED_UNTIL, ledger_database, redis_namespace

SPEC = Path(__file__).resolve().parents[3] / "services" / "specs" / "obie-v3.1.11" / "account-info-openapi.yaml"
BASE = "/open-banking/v3.1/aisp"
TPP = "tpp-contract"
IMPLEMENTED = [
    "CreateAccountAccessConsents", "GetAccountAccessConsentsConsentId", "DeleteAccountAccessConsentsConsentId",
    "GetAccounts", "GetAccountsAccountId", "GetAccountsAccountIdBalances", "GetAccountsAccountIdTransactions",
    "GetAccountsAccountIdBeneficiaries", "GetAccountsAccountIdStandingOrders", "GetAccountsAccountIdDirectDebits",
    "GetAccountsAccountIdParty", "GetAccountsAccountIdProduct", "GetParty",
]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
PERMISSIONS = ["ReadAccountsDetail", "ReadBalances", "ReadBeneficiariesDetail", "ReadDirectDebits", "ReadParty",
               "ReadPartyPSU", "ReadProducts", "ReadStandingOrdersDetail", "ReadTransactionsCredits",
               "ReadTransactionsDebits", "ReadTransactionsDetail"]


class Harness:
    def __init__(self, app: FastAPI, client: TestClient) -> None:
        self.app, self.client = app, client
        self.consent_id = self.new_consent(authorise=True)

    def gateway(self, consent_id: str | None = None) -> dict[str, str]:
        headers = {"x-ob-tpp-id": TPP, "x-ob-client-id": f"{TPP}-client", "x-ob-scopes": "accounts"}
        if consent_id:
            headers["x-ob-consent-id"] = consent_id
        return headers

    def new_consent(self, authorise: bool = False) -> str:
        created = self.client.post(f"{BASE}/account-access-consents", headers=self.gateway(),
                                   json={"Data": {"Permissions": PERMISSIONS}, "Risk": {}})
        consent_id = created.json()["Data"]["ConsentId"]
        if authorise:
            decided = self.client.post(
                f"/internal/aisp/account-access-consents/{consent_id}/authorisation",
                headers={"x-ob-tpp-id": "idp", "x-ob-client-id": "idp", "x-ob-scopes": "openbanking:consent-authorisation"},
                json={"Status": "Authorised", "PsuId": "psu-0002", "AccountIds": ["acc-0002-01", "acc-0002-02"]})
            assert decided.status_code == 204, decided.text
        return consent_id


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with ledger_database("contract") as engine, redis_namespace() as (redis, environment), mock_aws():
        seed(engine, customers=3, months=2, seed=5, until=SEED_UNTIL)
        service = ServiceSettings(environment=environment, table_prefix=f"{environment}-",
                                  base_url="https://api.bank.example", page_size=25)
        create_tables(service, ["consents"])
        app = build_app(service, engine=engine, redis=redis,
                        dynamodb=boto3.client("dynamodb", region_name=service.aws_region))
        with TestClient(app) as client:
            SERVICE.target = app
            yield Harness(app, client)
            SERVICE.target = None


class DeferredApp:
    """The ASGI app schemathesis sends to, bound to the module's service when the harness starts. (The schema
    must be loaded at import for `parametrize`, the lazy `from_fixture` loader of schemathesis 4.32 does not
    run under pytest 9, and the service needs its database first.)"""

    target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.target is not None, "the harness fixture binds the service first"
        await self.target(scope, receive, send)


SERVICE = DeferredApp()
schema = schemathesis.openapi.from_path(SPEC).include(operation_id=IMPLEMENTED)
schema.app = SERVICE


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_ais_conforms_to_the_obie_spec(case: Any, harness: Harness) -> None:
    case.call_and_validate(headers=harness.gateway(harness.consent_id), checks=CHECKS)
    # the same request on a consented account / an existing consent, so the 2xx answers are checked too
    if "AccountId" in (case.path_parameters or {}):
        case.path_parameters["AccountId"] = "acc-0002-01"
    elif "ConsentId" in (case.path_parameters or {}):
        case.path_parameters["ConsentId"] = harness.new_consent()
    else:
        return
    (case.headers or {}).pop("x-fapi-interaction-id", None)
    case.headers = {**(case.headers or {}), "x-fapi-interaction-id": str(uuid.uuid4())}
    case.call_and_validate(headers=harness.gateway(harness.consent_id), checks=CHECKS)
