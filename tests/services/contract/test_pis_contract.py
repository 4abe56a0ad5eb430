"""Schemathesis against the official v3.1.11 payment-initiation spec, for the operations the PIS service
implements, through the local gateway (the REST API definition, the real authorizer, the integration mappings and
gateway responses in front of the real PIS service): generated requests (signed, fresh idempotency keys, tokens of
the test IdP bound to the TPP's certificate) never get a 5xx, and every response conforms to the spec (status, media
type, required headers such as x-fapi-interaction-id and x-jws-signature, body). Path ids alternate between generated
values and ids of real consents and payments, so the success responses are checked too; a fixed happy journey is
checked against the same spec at the end."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from moto import mock_aws
from schemathesis.core import NotSet
from sqlalchemy import Engine

from openbanking.common.dynamo import create_tables
from openbanking.common.jws import StaticKeyResolver
from openbanking.common.settings import AuthMode, ServiceSettings
from openbanking.pis.app import build_app
from openbanking.pis.funds import LedgerFunds
from openbanking.security.routes import PISP_BASE
from tests.services.contract.support import CHECKS, CONFIG, SPECS, consent_of, prepare, token_consent
from tests.services.gateway.fixtures import GatewayTpp, local_gateway
from tests.services.ledger.support import SEED_UNTIL, ledger_database
from tests.services.pis.conftest import Debtor
from tests.services.pis.flows import authorised_consent, submit
from tests.services.pis.support import INITIATION, aspsp_signer, consent_request, payment_request
from tests.services.security.support import Idp, Pki

OPERATIONS = ["CreateDomesticPaymentConsents", "GetDomesticPaymentConsentsConsentId",
              "GetDomesticPaymentConsentsConsentIdFundsConfirmation", "CreateDomesticPayments",
              "GetDomesticPaymentsDomesticPaymentId", "GetDomesticPaymentsDomesticPaymentIdPaymentDetails"]
spec = schemathesis.openapi.from_path(SPECS / "payment-initiation-openapi.yaml", config=CONFIG)
schema = spec.include(operation_id=OPERATIONS)


@pytest.fixture(scope="module")
def world(monkeypatch_module: pytest.MonkeyPatch, mtls_authorizer: None, rest_api_document: dict[str, Any],
          pki: Pki, idp: Idp) -> Iterator[dict[str, Any]]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from openbanking.ledger.models import Account
    from openbanking.ledger.seed import seed

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch_module.setenv(name, "testing")
    with ledger_database("pis_contract") as ledger, mock_aws():
        seed(ledger, customers=1, months=1, seed=3, until=SEED_UNTIL)
        with Session(ledger) as session:
            account = session.scalars(select(Account).order_by(Account.account_id)).first()
            assert account is not None
            debtor = Debtor(account.psu_id, account.account_id, account.scheme_name, account.identification)
        settings_ = ServiceSettings(environment="test", table_prefix=f"pis-contract-{uuid.uuid4().hex[:8]}-",
                                    base_url="https://api.bank.example", auth_mode=AuthMode.GATEWAY)
        create_tables(settings_)
        tpp = GatewayTpp.of(pki, idp, "0015800001041RPISCT", "client-contract")
        app = _app(settings_, ledger, tpp)
        gateway = local_gateway(rest_api_document, {"pis": app}, mtls_truststore=pki.truststore_pem)
        connection = tpp.connect(gateway)  # the TPP's mutual TLS connection to the API
        client = TestClient(connection, base_url="https://api.bank.example")
        idp_client = TestClient(app)  # the IdP's private path to the service's internal endpoint
        consent = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id, idp_client=idp_client)
        paid = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id, idp_client=idp_client)
        payment = submit(client, tpp, paid).json()["Data"]["DomesticPaymentId"]
        yield {"app": app, "tpp": tpp, "connection": connection, "client": client, "idp_client": idp_client,
               "consent": consent, "payment": payment, "debtor": debtor}


def _app(settings_: ServiceSettings, ledger: Engine, tpp: GatewayTpp) -> FastAPI:
    dynamodb = boto3.client("dynamodb", region_name=settings_.aws_region)
    return build_app(settings_, dynamodb=dynamodb, key_resolver=StaticKeyResolver({tpp.tpp_id: [tpp.key]}),
                     signer=aspsp_signer(), funds=LedgerFunds(ledger), idempotency_wait_seconds=2.0)


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


_real_ids = itertools.cycle([True, False])


@schema.parametrize()
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_pis_conforms_to_the_official_spec(case: schemathesis.Case, world: dict[str, Any]) -> None:
    if case.path_parameters and next(_real_ids):
        case.path_parameters.update({k: world["consent"] if k == "ConsentId" else world["payment"]
                                     for k in case.path_parameters})
    if not isinstance(case.body, NotSet | bytes):
        case.body = json.dumps(case.body).encode()  # the bytes the token's consent is read from are the ones sent
    candidate = (case.path_parameters or {}).get("ConsentId") or consent_of(case.body)
    consent_id = token_consent(case.method, PISP_BASE + case.path, candidate, world["consent"])
    headers = prepare(case, world["tpp"], scopes="payments", consent_id=consent_id)
    case.call_and_validate(app=world["connection"], headers=headers, checks=CHECKS)


def test_the_happy_journey_conforms_to_the_official_spec(world: dict[str, Any]) -> None:
    """The fixed journey schemathesis cannot find by chance: consent -> funds -> payment -> reads."""
    client: TestClient = world["client"]
    debtor: Debtor = world["debtor"]
    tpp: GatewayTpp = world["tpp"]

    def check(operation_id: str, response: Any, **path_parameters: str) -> None:
        assert response.status_code < 300, response.text
        case = spec.find_operation_by_id(operation_id).Case(path_parameters=path_parameters)
        case.validate_response(response, checks=CHECKS)
        assert response.headers.get("x-fapi-interaction-id") and response.headers.get("x-jws-signature")

    created = client.post("/open-banking/v3.1/pisp/domestic-payment-consents", **tpp.signed_post(
        consent_request(dict(INITIATION, DebtorAccount=debtor.account()))))
    check("CreateDomesticPaymentConsents", created)
    consent_id = created.json()["Data"]["ConsentId"]
    paid = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id, idp_client=world["idp_client"])
    check("CreateDomesticPayments", client.post("/open-banking/v3.1/pisp/domestic-payments", **tpp.signed_post(
        payment_request(paid), consent_id=paid)))
    base = "/open-banking/v3.1/pisp"
    check("GetDomesticPaymentConsentsConsentId", client.get(
        f"{base}/domestic-payment-consents/{consent_id}", headers=tpp.caller_headers()), ConsentId=consent_id)
    check("GetDomesticPaymentConsentsConsentIdFundsConfirmation", client.get(
        f"{base}/domestic-payment-consents/{world['consent']}/funds-confirmation",
        headers=tpp.caller_headers(consent_id=world["consent"])), ConsentId=world["consent"])
    for operation_id, suffix in (("GetDomesticPaymentsDomesticPaymentId", ""),
                                 ("GetDomesticPaymentsDomesticPaymentIdPaymentDetails", "/payment-details")):
        check(operation_id, client.get(f"{base}/domestic-payments/{world['payment']}{suffix}",
                                       headers=tpp.caller_headers()), DomesticPaymentId=world["payment"])
