"""Contract tests of the account-information service against the official OBIE v3.1.11 spec (schemathesis), through
the local gateway (tests/services/gateway): the REST API definition as the program renders it, the real authorizer
handler, the integration mappings and gateway responses, in front of the real AIS service in `gateway` auth mode.

For each implemented operation, generated requests (bounded) must never produce a 5xx, and every response must match
the spec: status code declared, body valid against the schema, required response headers (`x-fapi-interaction-id`)
present, whether the service answered or the gateway refused. The TPP holds a certificate of the test PKI and tokens
of the test IdP bound to it: client credentials on the consent endpoints, an Authorised consent over psu-0002's
accounts on the resources. Each generated case is sent as generated (random ids: the 400 paths) and once more with a
consented AccountId / an existing ConsentId (the 200 paths).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.services.gateway.fixtures import GatewayTpp, local_gateway
from tests.services.gateway.services import ais_service, authorise_account_access
from tests.services.security.support import Idp, Pki

SPEC = Path(__file__).resolve().parents[3] / "services" / "specs" / "obie-v3.1.11" / "account-info-openapi.yaml"
BASE = "/open-banking/v3.1/aisp"
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
    def __init__(self, app: FastAPI, gateway: Any, tpp: GatewayTpp) -> None:
        self.app, self.tpp = app, tpp
        #: The gateway over the TPP's mutual TLS connection: what schemathesis and the setup calls go through.
        self.connection = tpp.connect(gateway)
        self.client = TestClient(self.connection, base_url="https://api.bank.example")
        self.consent_id = self.new_consent(authorise=True)

    def credentials(self, case: Any) -> dict[str, str]:
        """What the TPP sends: a client-credentials token on the consent endpoints, else one for its consent."""
        if case.path.startswith("/account-access-consents"):
            return self.tpp.caller_headers("accounts")
        return self.tpp.caller_headers("accounts", self.consent_id)

    def new_consent(self, authorise: bool = False) -> str:
        created = self.client.post(f"{BASE}/account-access-consents", headers=self.tpp.caller_headers("accounts"),
                                   json={"Data": {"Permissions": PERMISSIONS}, "Risk": {}})
        assert created.status_code == 201, created.text
        consent_id = created.json()["Data"]["ConsentId"]
        if authorise:
            authorise_account_access(self.app, consent_id, "psu-0002", ["acc-0002-01", "acc-0002-02"])
        return consent_id


@pytest.fixture(scope="module")
def harness(mtls_authorizer: None, rest_api_document: dict[str, Any], pki: Pki, idp: Idp) -> Iterator[Harness]:
    with ais_service("contract") as app:
        gateway = local_gateway(rest_api_document, {"ais": app}, mtls_truststore=pki.truststore_pem)
        yield Harness(app, gateway, GatewayTpp.of(pki, idp, "0015800001041RCNTRC", "client-contract"))


schema = schemathesis.openapi.from_path(SPEC).include(operation_id=IMPLEMENTED)


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_ais_conforms_to_the_obie_spec(case: Any, harness: Harness) -> None:
    case.call_and_validate(app=harness.connection, headers=harness.credentials(case), checks=CHECKS)
    # the same request on a consented account / an existing consent, so the 2xx answers are checked too
    if "AccountId" in (case.path_parameters or {}):
        case.path_parameters["AccountId"] = "acc-0002-01"
    elif "ConsentId" in (case.path_parameters or {}):
        case.path_parameters["ConsentId"] = harness.new_consent()
    else:
        return
    (case.headers or {}).pop("x-fapi-interaction-id", None)
    case.headers = {**(case.headers or {}), "x-fapi-interaction-id": str(uuid.uuid4())}
    case.call_and_validate(app=harness.connection, headers=harness.credentials(case), checks=CHECKS)
