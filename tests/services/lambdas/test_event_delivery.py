"""The event-delivery Lambda against a real HTTP receiver on 127.0.0.1 and moto's SQS: signed SETs,
retries with exponential backoff inside a budget, no retry on a TPP's 4xx, partial batch failures and the
redrive to the dead-letter queue."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from moto import mock_aws

from openbanking.events.callbacks import pinned_client
from openbanking.events.models import ResourceUpdate
from openbanking.events.tokens import SetSigner, event_claims
from openbanking.lambdas import event_delivery
from openbanking.lambdas.event_delivery import Deliverer, DeliveryFailed, DeliverySettings
from tests.services.lambdas.context import lambda_context
from tests.services.pis.support import FINANCIAL_ID, new_rsa_key, public_names

RESOURCE_UPDATE = "urn:uk:org:openbanking:events:resource-update"


@dataclass
class Receiver:
    """A TPP's event-notification endpoint: answers from a script, records every request."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def answer(self) -> tuple[int, dict[str, str]]:
        return self.script.pop(0) if self.script else (202, {})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, headers = state.answer()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/tpp/callbacks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return new_rsa_key("aspsp-set")


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.client("sqs", region_name="eu-west-2")


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def message(callback: str, n: int = 1) -> str:
    update = ResourceUpdate.of(f"pdp-{n}", "domestic-payment", f"https://api.bank.example/pisp/domestic-payments/pdp-{n}")
    claims = event_claims(issuer="https://api.bank.example", audience="tpp-1", event_type=RESOURCE_UPDATE,
                          subject=update, txn=f"txn-{n}", jti=f"jti-{n}")
    return json.dumps({"TppId": "tpp-1", "CallbackUrl": callback, "Claims": claims})


def deliverer(key: RSAKey, sleeps: Sleeps, sqs: Any = None, dlq: str | None = None, **overrides: Any) -> Deliverer:
    settings = DeliverySettings(**{"attempts": 4, "base_delay_seconds": 0.25, "max_delay_seconds": 1.0,
                                   "budget_seconds": 10, "timeout_seconds": 2, "dead_letter_queue_url": dlq,
                                   **overrides})
    # the local environment's client: loopback callbacks (this test's receiver) are allowed, and plain http
    return Deliverer(SetSigner(key, "aspsp-set"), FINANCIAL_ID, pinned_client(public_names(), allow_loopback=True),
                     settings, sqs=sqs, sleep=sleeps, jitter=lambda: 1.0, allow_http=True)


def test_a_delivered_event_is_a_signed_set_posted_as_application_jwt(receiver: Receiver, key: RSAKey) -> None:
    sleeps = Sleeps()
    deliverer(key, sleeps).deliver(message(receiver.url + "/"))
    assert sleeps == []
    [(path, headers, body)] = receiver.requests
    assert path == "/tpp/callbacks/event-notifications"
    assert headers["content-type"] == "application/jwt" and headers["x-fapi-financial-id"] == FINANCIAL_ID
    assert headers["x-fapi-interaction-id"]
    token = jwt.decode(body, RSAKey.import_key(key.as_dict(private=False)), algorithms=["PS256"])
    assert token.header == {"alg": "PS256", "typ": "secevent+jwt", "kid": "aspsp-set"}
    claims = token.claims
    assert {"iss", "iat", "jti", "aud", "sub", "txn", "toe", "events"} <= set(claims)
    assert claims["jti"] == "jti-1" and claims["aud"] == "tpp-1" and claims["txn"] == "txn-1"
    subject = claims["events"][RESOURCE_UPDATE]["subject"]
    assert subject["subject_type"] == "http://openbanking.org.uk/rid_http://openbanking.org.uk/rty"
    assert subject["http://openbanking.org.uk/rid"] == "pdp-1" and claims["sub"] == subject[
        "http://openbanking.org.uk/rlk"][0]["link"]
    with pytest.raises(Exception):  # noqa: B017 - another key does not verify it
        jwt.decode(body, RSAKey.import_key(new_rsa_key("x").as_dict(private=False)), algorithms=["PS256"])


def test_transient_failures_are_retried_with_exponential_backoff(receiver: Receiver, key: RSAKey) -> None:
    receiver.script = [(503, {}), (500, {}), (429, {"Retry-After": "3"})]
    sleeps = Sleeps()
    deliverer(key, sleeps).deliver(message(receiver.url))
    assert len(receiver.requests) == 4 and sleeps == [0.25, 0.5, 3.0]
    assert len({r[1]["x-fapi-interaction-id"] for r in receiver.requests}) == 4


def test_backoff_is_jittered_and_capped() -> None:
    d = Deliverer(SetSigner(new_rsa_key("k"), "k"), FINANCIAL_ID, httpx.Client(),
                  DeliverySettings(base_delay_seconds=0.5, max_delay_seconds=4), jitter=lambda: 0.5)
    assert [d.backoff(n) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_the_budget_bounds_the_retries_then_sqs_takes_over(receiver: Receiver, key: RSAKey) -> None:
    receiver.script = [(502, {})] * 10
    sleeps = Sleeps()
    with pytest.raises(DeliveryFailed, match="HTTP 502"):
        deliverer(key, sleeps, attempts=10, budget_seconds=1.0).deliver(message(receiver.url))
    assert sleeps == [0.25, 0.5] and len(receiver.requests) == 3  # the next 1 s wait would pass the budget
    receiver.script, sleeps[:] = [(500, {})] * 10, []
    with pytest.raises(DeliveryFailed):
        deliverer(key, sleeps, attempts=3).deliver(message(receiver.url))
    assert len(sleeps) == 2


def test_an_unreachable_callback_is_retried_then_fails(key: RSAKey) -> None:
    sleeps = Sleeps()
    with pytest.raises(DeliveryFailed, match="ConnectError"):
        deliverer(key, sleeps, attempts=3).deliver(message("http://127.0.0.1:9/cb"))
    assert sleeps == [0.25, 0.5]


def test_a_tpp_4xx_is_not_retried_and_goes_to_the_dead_letter_queue(receiver: Receiver, key: RSAKey, sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName=f"delivery-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    receiver.script = [(400, {})]
    sleeps = Sleeps()
    body = message(receiver.url)
    deliverer(key, sleeps, sqs=sqs, dlq=dlq).deliver(body)
    assert len(receiver.requests) == 1 and sleeps == []
    [parked] = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
    assert parked["Body"] == body and "HTTP 400" in parked["MessageAttributes"]["reason"]["StringValue"]
    receiver.script = [(404, {})]
    with pytest.raises(DeliveryFailed, match="HTTP 404"):  # without a DLQ configured: SQS redrive
        deliverer(key, sleeps).deliver(body)
    assert len(receiver.requests) == 2


def test_handler_reports_partial_batch_failures_and_sqs_redrives_to_the_dlq(
        receiver: Receiver, key: RSAKey, sqs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    dlq = sqs.create_queue(QueueName=f"events-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName=f"events-{uuid.uuid4().hex[:8]}", Attributes={
        "VisibilityTimeout": "0", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})})
    queue_url = queue["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=message(receiver.url, 1))
    sqs.send_message(QueueUrl=queue_url, MessageBody=message("http://127.0.0.1:9/down", 2))
    monkeypatch.setattr(event_delivery, "_deliverer", deliverer(key, Sleeps(), attempts=2))

    def invoke() -> dict[str, Any]:
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs"} for m in received]
        result = event_delivery.handler({"Records": records}, lambda_context("ob-event-delivery"))
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for m in received:  # what the Lambda service does with a partial batch response
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        return {"received": [json.loads(m["Body"])["Claims"]["jti"] for m in received], "failed": failed}

    first = invoke()
    assert sorted(first["received"]) == ["jti-1", "jti-2"] and len(first["failed"]) == 1
    assert len(receiver.requests) == 1, "the delivered event was not sent again"
    second = invoke()
    assert second["received"] == ["jti-2"] and len(second["failed"]) == 1
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages") is None  # maxReceiveCount reached
    [dead] = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert json.loads(dead["Body"])["Claims"]["jti"] == "jti-2"


def test_malformed_messages_are_parked(key: RSAKey, sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName=f"parked-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    d = deliverer(key, Sleeps(), sqs=sqs, dlq=dlq)
    for body in ("not json", json.dumps({"TppId": "t"}), json.dumps({"TppId": "t", "CallbackUrl": "https://x",
                                                                     "Claims": {"jti": "j"}})):
        d.deliver(body)
    assert len(sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]) == 3
    with pytest.raises(DeliveryFailed):
        deliverer(key, Sleeps()).deliver("not json")


def test_the_lambda_delivers_through_the_pinned_client_and_the_egress_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the deployed function builds: callbacks vetted and pinned (tests/services/events/test_callbacks.py),
    tunnelled through HTTPS_PROXY, https only outside `local`."""
    from openbanking.common.settings import ServiceSettings
    from openbanking.events.callbacks import PinnedNetworkBackend, PinnedTransport

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.egress.internal:3128")
    built = event_delivery.build_deliverer(ServiceSettings(environment="local"), DeliverySettings())
    transport = built.http._transport
    assert isinstance(transport, PinnedTransport)
    backend = transport._pool._network_backend
    assert isinstance(backend, PinnedNetworkBackend)
    assert backend.proxy == ("proxy.egress.internal", 3128) and backend.allow_loopback and built.allow_http
    deployed = event_delivery.Deliverer(SetSigner(new_rsa_key("k"), "k"), FINANCIAL_ID, built.http, DeliverySettings())
    with pytest.raises(DeliveryFailed, match="not an https URL"):
        deployed.deliver(message("http://tpp.example/cb"))
