"""The PIS service against moto's DynamoDB and a seeded ledger database of its own (real PostgreSQL), called
the way API Gateway calls it (`x-ob-*` caller headers), with TPP keys and the ASPSP key made per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from openbanking.common.dynamo import create_tables, table_name
from openbanking.common.jws import DetachedJwsSigner, StaticKeyResolver
from openbanking.common.settings import ServiceSettings
from openbanking.ledger.models import Account, Balance
from openbanking.ledger.seed import seed
from openbanking.pis.app import build_app
from openbanking.pis.funds import LedgerFunds
from tests.services.ledger.support import SEED_UNTIL, ledger_database
from tests.services.pis.support import BASE_URL, Tpp, aspsp_signer, new_rsa_key


@dataclass(frozen=True)
class Debtor:
    psu_id: str
    account_id: str
    scheme_name: str
    identification: str

    def account(self) -> dict[str, str]:
        return {"SchemeName": self.scheme_name, "Identification": self.identification}


class Clock:
    """The service's clock (seconds); tests move it to age idempotency keys."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return datetime.now(UTC).timestamp() + self.offset


@pytest.fixture(scope="session")
def tpp() -> Tpp:
    return Tpp("tpp-pis-alpha", "client-alpha", new_rsa_key("alpha-sig-1"))


@pytest.fixture(scope="session")
def other_tpp() -> Tpp:
    return Tpp("tpp-pis-beta", "client-beta", new_rsa_key("beta-sig-1"))


@pytest.fixture(scope="session")
def signer() -> DetachedJwsSigner:
    return aspsp_signer()


@pytest.fixture(scope="session")
def key_resolver(tpp: Tpp, other_tpp: Tpp) -> StaticKeyResolver:
    return StaticKeyResolver({tpp.tpp_id: [tpp.key], other_tpp.tpp_id: [other_tpp.key]})


@pytest.fixture(scope="session")
def ledger() -> Iterator[Engine]:
    with ledger_database("pis") as engine:
        seed(engine, customers=2, months=1, seed=5, until=SEED_UNTIL)
        yield engine


@pytest.fixture(scope="session")
def debtor(ledger: Engine) -> Debtor:
    """The first seeded account, with exactly one available balance: 1000.00 GBP in credit."""
    with Session(ledger) as session, session.begin():
        account = session.scalars(select(Account).order_by(Account.account_id)).first()
        assert account is not None
        session.execute(delete(Balance).where(Balance.account_id == account.account_id))
        session.add(Balance(account_id=account.account_id, type="InterimAvailable", credit_debit="Credit",
                            amount=Decimal("1000.00"), currency="GBP", date_time=SEED_UNTIL, credit_lines=[]))
        return Debtor(account.psu_id, account.account_id, account.scheme_name, account.identification)


@pytest.fixture(scope="session")
def other_debtor(ledger: Engine, debtor: Debtor) -> Debtor:
    """An account of another PSU."""
    with Session(ledger) as session:
        account = session.scalars(select(Account).where(Account.psu_id != debtor.psu_id)
                                  .order_by(Account.account_id)).first()
        assert account is not None
        return Debtor(account.psu_id, account.account_id, account.scheme_name, account.identification)


@pytest.fixture
def settings() -> ServiceSettings:
    """Tables of our own per test: moto's state is process-wide and other suites' mocks may keep it alive."""
    return ServiceSettings(environment="test", table_prefix=f"pis-{uuid.uuid4().hex[:10]}-", base_url=BASE_URL,
                           aws_region="eu-west-2")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws: None, settings: ServiceSettings) -> Any:
    create_tables(settings)
    return boto3.client("dynamodb", region_name=settings.aws_region)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(settings: ServiceSettings, dynamodb: Any, key_resolver: StaticKeyResolver, signer: DetachedJwsSigner,
           ledger: Engine, clock: Clock) -> TestClient:
    app = build_app(settings, dynamodb=dynamodb, key_resolver=key_resolver, signer=signer, funds=LedgerFunds(ledger),
                    clock=clock, idempotency_wait_seconds=5.0)
    return TestClient(app)


def scan(dynamodb: Any, settings: ServiceSettings, logical: str) -> list[dict[str, Any]]:
    return dynamodb.scan(TableName=table_name(settings, logical))["Items"]
