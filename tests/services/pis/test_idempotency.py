"""x-idempotency-key: replays, changed bodies, the 24-hour window per TPP and operation, the key's format,
and exactly one payment from 50 concurrent identical POSTs."""

from __future__ import annotations

import copy
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from moto.dynamodb.models import DynamoDBBackend
from moto.server import ThreadedMotoServer
from sqlalchemy import Engine

from openbanking.common.dynamo import create_tables
from openbanking.common.jws import DetachedJwsSigner, StaticKeyResolver
from openbanking.common.settings import ServiceSettings
from openbanking.pis.app import build_app
from openbanking.pis.funds import LedgerFunds
from tests.services.pis.conftest import Clock, Debtor, scan
from tests.services.pis.flows import authorised_consent, create_consent, decide, submit
from tests.services.pis.support import PIS, Tpp, consent_request, payment_request
from tests.services.pis.test_consents import error_code

CONSENTS = f"{PIS}/domestic-payment-consents"


def test_a_replay_returns_the_original_consent_and_creates_nothing(client: TestClient, tpp: Tpp, debtor: Debtor,
                                                                    dynamodb: Any, settings: ServiceSettings) -> None:
    first = create_consent(client, tpp, key="consent-key-1")
    replay = client.post(CONSENTS, **tpp.signed_post(consent_request(), key="consent-key-1"))
    assert replay.status_code == 201 and replay.json() == first
    assert len(scan(dynamodb, settings, "consents")) == 1
    # the replay shows the resource as it is now, still with the original 201
    assert decide(client, first["Data"]["ConsentId"], debtor.psu_id, account_id=debtor.account_id).status_code == 204
    later = client.post(CONSENTS, **tpp.signed_post(consent_request(), key="consent-key-1"))
    assert later.status_code == 201 and later.json()["Data"]["Status"] == "Authorised"
    # whitespace and key order do not make a different body
    reordered = tpp.signed_post(consent_request(), key="consent-key-1")
    reordered["content"] = json.dumps(json.loads(reordered["content"]), indent=2, sort_keys=True).encode()
    reordered["headers"]["x-jws-signature"] = tpp.sign(reordered["content"])
    assert client.post(CONSENTS, **reordered).json()["Data"]["ConsentId"] == first["Data"]["ConsentId"]


def test_a_changed_body_under_a_used_key_is_refused(client: TestClient, tpp: Tpp, dynamodb: Any,
                                                   settings: ServiceSettings) -> None:
    create_consent(client, tpp, key="consent-key-2")
    changed = consent_request()
    changed["Data"]["Initiation"]["InstructedAmount"]["Amount"] = "1.00"
    response = client.post(CONSENTS, **tpp.signed_post(changed, key="consent-key-2"))
    assert response.status_code == 400 and error_code(response) == "UK.OBIE.Field.Invalid"
    assert response.json()["Errors"][0]["Path"] == "x-idempotency-key"
    assert len(scan(dynamodb, settings, "consents")) == 1


def test_keys_are_scoped_to_tpp_and_operation_and_expire_after_24_hours(client: TestClient, tpp: Tpp, other_tpp: Tpp,
                                                                        debtor: Debtor, clock: Clock,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tpp, "clock", clock)  # the TPP signs each request when it sends it, a day later too
    mine = create_consent(client, tpp, key="shared-key")["Data"]["ConsentId"]
    theirs = create_consent(client, other_tpp, key="shared-key")["Data"]["ConsentId"]
    assert mine != theirs
    consent_id = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id)
    payment = submit(client, tpp, consent_id, key="shared-key")
    assert payment.status_code == 201, "the same key on another operation is another request"
    clock.offset = 23 * 3600
    assert create_consent(client, tpp, key="shared-key")["Data"]["ConsentId"] == mine
    clock.offset = 24 * 3600 + 1
    changed = consent_request()
    changed["Data"]["Initiation"]["EndToEndIdentification"] = "NEXT-DAY"
    fresh = create_consent(client, tpp, changed, key="shared-key")["Data"]["ConsentId"]
    assert fresh != mine, "after 24 hours the key is free again"


@pytest.mark.parametrize(("key", "code"), [
    (None, "UK.OBIE.Header.Missing"),
    ("k" * 41, "UK.OBIE.Header.Invalid"),
    (" leading", "UK.OBIE.Header.Invalid"),
    ("trailing ", "UK.OBIE.Header.Invalid"),
])
def test_key_format(client: TestClient, tpp: Tpp, key: str | None, code: str) -> None:
    post = tpp.signed_post(consent_request())
    if key is None:
        del post["headers"]["x-idempotency-key"]
    else:
        post["headers"]["x-idempotency-key"] = key
    response = client.post(CONSENTS, **post)
    assert response.status_code == 400 and error_code(response) == code
    assert response.json()["Errors"][0]["Path"] == "x-idempotency-key"


def test_a_40_character_key_is_accepted(client: TestClient, tpp: Tpp) -> None:
    assert create_consent(client, tpp, key="k" * 40)["Data"]["Status"] == "AwaitingAuthorisation"


def test_a_refused_request_does_not_burn_its_key(client: TestClient, tpp: Tpp, debtor: Debtor) -> None:
    consent_id = create_consent(client, tpp)["Data"]["ConsentId"]
    early = submit(client, tpp, consent_id, key="pay-too-early")
    assert early.status_code == 400 and error_code(early) == "UK.OBIE.Resource.InvalidConsentStatus"
    assert decide(client, consent_id, debtor.psu_id, account_id=debtor.account_id).status_code == 204
    assert submit(client, tpp, consent_id, key="pay-too-early").status_code == 201


# --- concurrency --------------------------------------------------------------------------------------------

@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each (conditional, transactional) write atomically; moto evaluates condition and write
    in separate Python steps and restores whole tables when a transaction fails. Serialise moto's backend
    operations so that the race under test is the service's, exactly as against the real service."""
    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "get_item", "query", "scan", "transact_write_items"):
        original: Callable[..., Any] = getattr(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, __original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.fixture
def moto_endpoint(atomic_moto: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def live_service(moto_endpoint: str, key_resolver: StaticKeyResolver, signer: DetachedJwsSigner,
                 ledger: Engine) -> Iterator[tuple[str, ServiceSettings]]:
    """The PIS app under uvicorn on a loopback port, its DynamoDB a moto server: real sockets, real threads."""
    settings = ServiceSettings(environment="test", table_prefix=f"race-{uuid.uuid4().hex[:6]}-",
                               dynamodb_endpoint_url=moto_endpoint)
    create_tables(settings, ["consents", "payments", "idempotency"])
    app = build_app(settings, key_resolver=key_resolver, signer=signer, funds=LedgerFunds(ledger))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", limit_concurrency=200))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", settings
    server.should_exit = True
    thread.join(timeout=10)


def _concurrently(count: int, send: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    barrier = threading.Barrier(count)

    def one(_: int) -> httpx.Response:
        with httpx.Client(timeout=30) as http:
            barrier.wait()
            return send(http)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_50_concurrent_identical_payment_posts_create_exactly_one_payment(live_service: tuple[str, ServiceSettings],
                                                                         tpp: Tpp, debtor: Debtor) -> None:
    base, settings = live_service
    with httpx.Client(base_url=base) as http:
        consent_id = create_consent(http, tpp)["Data"]["ConsentId"]
        assert decide(http, consent_id, debtor.psu_id, account_id=debtor.account_id).status_code == 204
    post = tpp.signed_post(payment_request(consent_id), key="one-key-fifty-posts", consent_id=consent_id)
    responses = _concurrently(50, lambda http: http.post(f"{base}{PIS}/domestic-payments", **copy.deepcopy(post)))
    assert [r.status_code for r in responses] == [201] * 50, {r.status_code: r.text for r in responses}
    assert len({r.json()["Data"]["DomesticPaymentId"] for r in responses}) == 1
    dynamodb = boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url)
    assert len(scan(dynamodb, settings, "payments")) == 1
    records = scan(dynamodb, settings, "idempotency")
    assert [r["State"]["S"] for r in records if r["IdempotencyKey"]["S"].endswith("#one-key-fifty-posts")] == ["Completed"]


def test_concurrent_payments_with_different_keys_still_make_one_payment_per_consent(
        live_service: tuple[str, ServiceSettings], tpp: Tpp, debtor: Debtor) -> None:
    base, settings = live_service
    with httpx.Client(base_url=base) as http:
        consent_id = create_consent(http, tpp)["Data"]["ConsentId"]
        assert decide(http, consent_id, debtor.psu_id, account_id=debtor.account_id).status_code == 204
    posts = [tpp.signed_post(payment_request(consent_id), consent_id=consent_id) for _ in range(20)]
    responses = _concurrently(20, lambda http: http.post(f"{base}{PIS}/domestic-payments", **posts.pop()))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * 19, statuses
    assert {error_code(r) for r in responses if r.status_code == 400} == {"UK.OBIE.Resource.InvalidConsentStatus"}
    dynamodb = boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url)
    assert len(scan(dynamodb, settings, "payments")) == 1
