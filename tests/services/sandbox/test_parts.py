"""The sandbox's parts on their own: the directory (on disk and in DynamoDB, one contract), the settlement simulator
against the real PIS service, the sandbox's own database and cache, and the rerunnable seeding entry point."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import boto3
import psycopg
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws
from psycopg import sql
from sqlalchemy import create_engine, text

from openbanking.common.dynamo import create_tables, table_name
from openbanking.common.jws import StaticKeyResolver
from openbanking.common.settings import ServiceSettings
from openbanking.pis.app import build_app as build_pis
from openbanking.sandbox.directory import DynamoDirectory, FileDirectory, IssuedCertificate, SandboxDirectory, TppTaken
from openbanking.sandbox.server import ensure_database
from openbanking.sandbox.settings import SandboxSettings
from openbanking.sandbox.settlement import NEXT_STEP, SettlementSimulator, settling_payments
from tests.services.ledger.support import PG_ADMIN_URL, PG_URL_TEMPLATE, unique_name
from tests.services.pis.flows import CORE_HEADERS, authorised_consent, submit
from tests.services.pis.support import EnoughFunds, Tpp, aspsp_signer, new_rsa_key

T = TypeVar("T")
SERVICES = Path(__file__).resolve().parents[3] / "services"


# --- the directory -----------------------------------------------------------------------------------------------------


@pytest.fixture(params=["files", "dynamodb"])
def directory(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if request.param == "files":
        yield FileDirectory(tmp_path / "directory")
        return
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        settings = ServiceSettings(table_prefix=f"sbx-{uuid.uuid4().hex[:8]}-")
        create_tables(settings, ["sandbox_directory"])
        yield DynamoDirectory(boto3.client("dynamodb", region_name=settings.aws_region),
                              table_name(settings, "sandbox_directory"))


def test_the_directory_keeps_registrations_certificates_and_keys(directory: SandboxDirectory) -> None:
    secret = directory.register("tpp-1")
    assert directory.holds_secret("tpp-1", secret) and not directory.holds_secret("tpp-1", secret + "x")
    assert not directory.holds_secret("tpp-2", secret)
    with pytest.raises(TppTaken):
        directory.register("tpp-1")
    assert directory.jwks("tpp-1") == {"keys": []} and directory.jwks("tpp-2") is None
    directory.add_signing_key("tpp-1", {"kty": "RSA", "kid": "k1", "n": "a", "e": "AQAB"})
    directory.add_signing_key("tpp-1", {"kty": "RSA", "kid": "k2", "n": "b", "e": "AQAB"})
    directory.add_signing_key("tpp-1", {"kty": "RSA", "kid": "k1", "n": "c", "e": "AQAB"})  # k1 replaced
    assert sorted((k["kid"], k["n"]) for k in (directory.jwks("tpp-1") or {})["keys"]) == [("k1", "c"), ("k2", "b")]
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    directory.record_certificate(IssuedCertificate(0xABC, "tpp-1", "client-1", expires))
    directory.record_certificate(IssuedCertificate(0xDEF, "tpp-1", "client-2", expires))
    assert directory.certificate(0xABC) == IssuedCertificate(0xABC, "tpp-1", "client-1", expires)
    assert directory.certificate(0x123) is None and directory.revoked() == {}
    first = datetime(2026, 1, 1, tzinfo=UTC)
    revoked = directory.revoke(0xABC, first)
    assert revoked is not None and revoked.revoked_at == first
    again = directory.revoke(0xABC, first + timedelta(days=1))
    assert again is not None and again.revoked_at == first, "the first revocation time is kept"
    assert directory.revoke(0x999, first) is None
    assert directory.revoked() == {0xABC: first}


def test_the_file_directory_refuses_names_that_are_not_ids(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TppId"):
        FileDirectory(tmp_path).register("../escape")


# --- settlement ---------------------------------------------------------------------------------------------------------


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """A coroutine on a loop of its own (asyncio.run would leave the main thread without a current loop, which
    later tests, Pulumi's mocks, rely on)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def test_the_simulator_settles_payments_step_by_step_through_pis(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real PIS service (moto's DynamoDB): the simulator moves each settling payment one step once the step time
    has passed since its last change, through the internal status endpoint; a rejected payment stays rejected."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    tpp = Tpp("tpp-settle", "client-settle", new_rsa_key("settle-1"))
    with mock_aws():
        settings = ServiceSettings(environment="test", table_prefix=f"settle-{uuid.uuid4().hex[:8]}-")
        create_tables(settings, ["consents", "payments", "idempotency"])
        client = boto3.client("dynamodb", region_name=settings.aws_region)
        app = build_pis(settings, dynamodb=client, key_resolver=StaticKeyResolver({tpp.tpp_id: [tpp.key]}),
                        signer=aspsp_signer(), funds=EnoughFunds())
        with TestClient(app) as pis:
            payments = []
            for _ in range(2):
                consent_id = authorised_consent(pis, tpp, "psu-0001")
                payments.append(submit(pis, tpp, consent_id).json()["Data"]["DomesticPaymentId"])
            rejected = payments.pop()
            assert pis.post(f"/internal/pisp/domestic-payments/{rejected}/status", json={"Status": "Rejected"},
                            headers=CORE_HEADERS).status_code == 204
            [settling] = payments

            async def report(payment_id: str, status: str) -> bool:
                answer = pis.post(f"/internal/pisp/domestic-payments/{payment_id}/status", json={"Status": status},
                                  headers=CORE_HEADERS)
                return answer.status_code == 204

            clock = Clock()
            simulator = SettlementSimulator(settling_payments(client, table_name(settings, "payments")), report,
                                            step_seconds=30, clock=clock)
            assert run(simulator.run_once()) == [], "not yet: the step time has not passed"
            seen = []
            for _ in range(4):
                clock.now += 31
                seen += run(simulator.run_once())
            assert seen == [(settling, status) for status in NEXT_STEP.values()]
            history = pis.get(f"/open-banking/v3.1/pisp/domestic-payments/{settling}/payment-details",
                              headers=tpp.caller_headers()).json()["Data"]["PaymentStatus"]
            assert [step["Status"] for step in history] == ["Pending", *NEXT_STEP.values()]
            still = pis.get(f"/open-banking/v3.1/pisp/domestic-payments/{rejected}", headers=tpp.caller_headers())
            assert still.json()["Data"]["Status"] == "Rejected"


def test_a_report_pis_refuses_is_not_counted_and_the_step_time_is_required() -> None:
    async def refuse(payment_id: str, status: str) -> bool:
        return False

    old = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    simulator = SettlementSimulator(lambda: [("pdp-1", "Pending", old)], refuse, step_seconds=1)
    assert run(simulator.run_once()) == []
    with pytest.raises(ValueError, match="OB_SANDBOX_SETTLEMENT_SECONDS"):
        SettlementSimulator(lambda: [], refuse, step_seconds=0)


# --- the sandbox's own database and cache -----------------------------------------------------------------------------


def test_the_sandbox_uses_its_own_database_and_cache_not_the_test_suite_s(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("OB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OB_DATABASE_URL", ServiceSettings().database_url)  # a developer's test settings, exported
    monkeypatch.setenv("OB_REDIS_URL", ServiceSettings().redis_url)
    sandbox = SandboxSettings()
    assert sandbox.database_url != ServiceSettings().database_url and sandbox.database_url.endswith("/ob_sandbox")
    assert sandbox.redis_url != ServiceSettings().redis_url and sandbox.redis_url.endswith("/1")
    assert sandbox.dir == SERVICES / ".sandbox", "the same state whatever the current directory"
    monkeypatch.setenv("PORT", "8123")
    assert SandboxSettings().base_url == "http://127.0.0.1:8123"


def test_the_sandbox_database_is_created_when_missing() -> None:
    name = unique_name("sandbox_db")
    url = PG_URL_TEMPLATE.format(db=name)
    try:
        ensure_database(url)
        ensure_database(url)  # there already: nothing to do
        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT current_database()")).scalar() == name
        engine.dispose()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- seeding ----------------------------------------------------------------------------------------------------------


def _seed(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OB_")}
    return subprocess.run([sys.executable, "-m", "openbanking.sandbox.seed"], env={**base, **env}, cwd="/",
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_seeding_entry_point_seeds_once_and_reruns_harmlessly() -> None:
    name = unique_name("sandbox_seed")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        env = {"OB_DATABASE_URL": PG_URL_TEMPLATE.format(db=name), "OB_SANDBOX_CUSTOMERS": "2",
               "OB_SANDBOX_MONTHS": "1"}
        first = _seed(env)
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith("sandbox_seed: seeded 2 PSUs, ") and "transactions" in first.stdout
        again = _seed(env)
        assert again.returncode == 0 and "seeded already; nothing to change" in again.stdout
        with psycopg.connect(PG_URL_TEMPLATE.format(db=name).replace("+psycopg", "")) as connection:
            assert connection.execute("SELECT count(*) FROM customers").fetchone() == (2,)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_the_seeding_task_names_what_is_wrong_in_one_line() -> None:
    unreachable = _seed({"OB_DATABASE_HOST": "127.0.0.1", "OB_DATABASE_PORT": "1", "OB_DATABASE_SSL_MODE": "disable",
                         "OB_DATABASE_MASTER_USERNAME": "postgres"})
    assert unreachable.returncode == 1 and unreachable.stderr.startswith("sandbox_seed: ")
    assert len(unreachable.stderr.strip().splitlines()) == 1, unreachable.stderr
    no_user = _seed({"OB_DATABASE_HOST": "db.example", "OB_DATABASE_SSL_MODE": "disable"})
    assert no_user.returncode == 1 and "OB_DATABASE_MASTER_USERNAME: not set" in no_user.stderr
    bad = _seed({"OB_SANDBOX_CUSTOMERS": "0"})
    assert bad.returncode == 1 and "OB_SANDBOX_CUSTOMERS: '0'" in bad.stderr


