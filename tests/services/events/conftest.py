"""The events service against moto's DynamoDB, called as API Gateway calls it (`x-ob-*` headers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from openbanking.common.dynamo import create_tables, table_name
from openbanking.common.jws import DetachedJwsSigner, StaticKeyResolver
from openbanking.common.settings import ServiceSettings
from openbanking.events.app import build_app
from openbanking.events.publisher import EventPublisher
from openbanking.events.store import EventStore, SubscriptionStore
from tests.services.pis.support import BASE_URL, Tpp, aspsp_signer, new_rsa_key, public_names


@pytest.fixture(scope="session")
def tpp() -> Tpp:
    return Tpp("tpp-ev-alpha", "client-alpha", new_rsa_key("ev-alpha-1"))


@pytest.fixture(scope="session")
def other_tpp() -> Tpp:
    return Tpp("tpp-ev-beta", "client-beta", new_rsa_key("ev-beta-1"))


@pytest.fixture(scope="session")
def signer() -> DetachedJwsSigner:
    return aspsp_signer()


@pytest.fixture
def settings() -> ServiceSettings:
    """Tables of our own per test: moto's state is process-wide and other suites' mocks may keep it alive."""
    return ServiceSettings(environment="local", table_prefix=f"ev-{uuid.uuid4().hex[:10]}-", base_url=BASE_URL)


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch, settings: ServiceSettings) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        create_tables(settings, ["event_subscriptions", "events"])
        yield boto3.client("dynamodb", region_name=settings.aws_region)


@pytest.fixture
def publisher(dynamodb: Any, settings: ServiceSettings) -> EventPublisher:
    return EventPublisher(SubscriptionStore(dynamodb, table_name(settings, "event_subscriptions")),
                          EventStore(dynamodb, table_name(settings, "events")), issuer=BASE_URL)


@pytest.fixture
def client(settings: ServiceSettings, dynamodb: Any, tpp: Tpp, other_tpp: Tpp, signer: DetachedJwsSigner) -> TestClient:
    resolver = StaticKeyResolver({tpp.tpp_id: [tpp.key], other_tpp.tpp_id: [other_tpp.key]})
    return TestClient(build_app(settings, dynamodb=dynamodb, key_resolver=resolver, signer=signer,
                                long_poll_seconds=1.0, name_resolver=public_names()))
