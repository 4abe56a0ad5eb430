"""Schemathesis against the official v3.1.11 events spec (event subscriptions and aggregated polling), through the
local gateway (the REST API definition, the real authorizer, the integration mappings and gateway responses in front
of the real events service): no 5xx, documented statuses and media types, required headers, schema-conformant
bodies. Subscription ids alternate between generated values and the TPP's real subscription."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from moto import mock_aws

from openbanking.common.dynamo import create_tables, table_name
from openbanking.common.jws import StaticKeyResolver
from openbanking.common.settings import AuthMode, ServiceSettings
from openbanking.events.app import build_app
from openbanking.events.models import ResourceUpdate
from openbanking.events.publisher import EventPublisher
from openbanking.events.store import EventStore, Subscription, SubscriptionStore
from tests.services.contract.support import CHECKS, CONFIG, SPECS, prepare
from tests.services.gateway.fixtures import GatewayTpp, local_gateway
from tests.services.pis.support import aspsp_signer, public_names
from tests.services.security.support import Idp, Pki

schema = schemathesis.openapi.from_path(SPECS / "events-openapi.yaml", config=CONFIG)
RESOURCE_UPDATE = "urn:uk:org:openbanking:events:resource-update"


@pytest.fixture(scope="module")
def world(mtls_authorizer: None, rest_api_document: dict[str, Any], pki: Pki,
          idp: Idp) -> Iterator[dict[str, Any]]:
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, "testing")
        with mock_aws():
            settings_ = ServiceSettings(environment="test", table_prefix=f"ev-contract-{uuid.uuid4().hex[:8]}-",
                                        base_url="https://api.bank.example", auth_mode=AuthMode.GATEWAY)
            create_tables(settings_, ["event_subscriptions", "events"])
            dynamodb = boto3.client("dynamodb", region_name=settings_.aws_region)
            subscriptions = SubscriptionStore(dynamodb, table_name(settings_, "event_subscriptions"))
            events = EventStore(dynamodb, table_name(settings_, "events"))
            tpp = GatewayTpp.of(pki, idp, "0015800001041REVTCT", "client-ev")
            app = build_app(settings_, dynamodb=dynamodb, key_resolver=StaticKeyResolver({tpp.tpp_id: [tpp.key]}),
                            signer=aspsp_signer(), long_poll_seconds=0.2, name_resolver=public_names())
            connection = tpp.connect(local_gateway(rest_api_document, {"events": app},
                                                   mtls_truststore=pki.truststore_pem))
            yield {"app": app, "tpp": tpp, "connection": connection,
                   "client": TestClient(connection, base_url="https://api.bank.example"),
                   "subscriptions": subscriptions,
                   "publisher": EventPublisher(subscriptions, events, issuer=settings_.base_url)}


def _ensure_subscription(world: dict[str, Any]) -> str:
    """Generated DELETEs may remove it; put one back so PUT and polling reach their success paths."""
    subscriptions: SubscriptionStore = world["subscriptions"]
    tpp: GatewayTpp = world["tpp"]
    current = subscriptions.of_tpp(tpp.tpp_id)
    if current is None:
        current = Subscription("esub-contract", tpp.tpp_id, "3.1")
        subscriptions.create(current)
    link = "https://api.bank.example/open-banking/v3.1/pisp/domestic-payments/pdp-1"
    world["publisher"].publish(tpp.tpp_id, RESOURCE_UPDATE, ResourceUpdate.of("pdp-1", "domestic-payment", link))
    return current.subscription_id


_real_ids = itertools.cycle([True, False])


@schema.parametrize()
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_events_conform_to_the_official_spec(case: schemathesis.Case, world: dict[str, Any]) -> None:
    subscription_id = _ensure_subscription(world)
    if case.path_parameters and next(_real_ids):
        case.path_parameters = {**case.path_parameters, "EventSubscriptionId": subscription_id}
        data = case.body.get("Data") if isinstance(case.body, dict) else None
        if isinstance(data, dict):
            data["EventSubscriptionId"] = subscription_id
    headers = prepare(case, world["tpp"], scopes="accounts payments")
    case.call_and_validate(app=world["connection"], headers=headers, checks=CHECKS)


def test_the_happy_paths_conform_to_the_official_spec(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    tpp: GatewayTpp = world["tpp"]
    subscription_id = _ensure_subscription(world)

    def check(operation_id: str, response: Any, **path_parameters: str) -> None:
        assert response.status_code < 300, response.text
        case = schema.find_operation_by_id(operation_id).Case(path_parameters=path_parameters)
        case.validate_response(response, checks=CHECKS)

    def signed(document: dict[str, Any]) -> dict[str, Any]:
        post = tpp.signed_post(document, scopes="payments")
        post["headers"].pop("x-idempotency-key")
        return post

    check("GetEventSubscriptions", client.get("/open-banking/v3.1/event-subscriptions",
                                              headers=tpp.caller_headers("payments")))
    change = {"Data": {"EventSubscriptionId": subscription_id, "Version": "3.1",
                       "CallbackUrl": "https://tpp.example/cb", "EventTypes": [RESOURCE_UPDATE]}}
    check("ChangeEventSubscriptionsEventSubscriptionId", client.put(
        f"/open-banking/v3.1/event-subscriptions/{subscription_id}", **signed(change)),
        EventSubscriptionId=subscription_id)
    polled = client.post("/open-banking/v3.1/events", json={"returnImmediately": True},
                         headers=tpp.caller_headers("payments"))
    check("CreateEvents", polled)
    assert polled.json()["sets"], "the published event is handed out"
    check("DeleteEventSubscriptionsEventSubscriptionId", client.delete(
        f"/open-banking/v3.1/event-subscriptions/{subscription_id}", headers=tpp.caller_headers("payments")),
        EventSubscriptionId=subscription_id)
    check("CreateEventSubscriptions", client.post("/open-banking/v3.1/event-subscriptions",
                                                  **signed({"Data": {"Version": "3.1"}})))
