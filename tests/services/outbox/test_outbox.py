"""The outbox against moto: a payment journey whose direct event publishing fails still reaches the TPP. The
tables' streams go through the `outbox_relay` handler onto an EventBridge bus; a rule with the deployables'
pattern hands the entries (here through an SQS tap, as EventBridge would invoke the router) to the `event_router`
handler, which stores each event for polling and queues it for push delivery, once, however often it is replayed."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from openbanking.common.dynamo import create_tables, table_name
from openbanking.common.dynamo_items import from_item
from openbanking.common.jws import StaticKeyResolver
from openbanking.common.settings import ServiceSettings
from openbanking.deployables import DEPLOYABLES, OUTBOX_EVENT_PATTERN
from openbanking.events.models import EventType
from openbanking.events.publisher import EventPublisher
from openbanking.events.store import EventStore, Subscription, SubscriptionStore
from openbanking.lambdas import event_router, outbox_relay
from openbanking.pis.app import build_app
from tests.services.lambdas.context import lambda_context
from tests.services.pis.flows import authorised_consent, set_status, submit
from tests.services.pis.support import BASE_URL, EnoughFunds, Tpp, aspsp_signer, new_rsa_key

REGION = "eu-west-2"
CALLBACK = "https://tpp.example/callbacks"


@dataclass
class World:
    settings: ServiceSettings
    dynamodb: Any
    sqs: Any
    events: Any
    tap_url: str
    delivery_url: str
    tpp: Tpp

    def stream_records(self, logical: str) -> list[dict[str, Any]]:
        """The table's stream records as Lambda's event source mapping hands them over."""
        # botocore 1.44 addresses streams by account (`<account>.streams-ddb.<region>`), which moto 5.2.5 does
        # not route; the regional endpoint is the same API
        streams = boto3.client("dynamodbstreams", region_name=REGION,
                               endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com")
        arn = self.dynamodb.describe_table(TableName=table_name(self.settings, logical))["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = []
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            change = dict(record["dynamodb"])
            change["ApproximateCreationDateTime"] = int(change["ApproximateCreationDateTime"].timestamp())
            records.append({**record, "dynamodb": change, "eventSourceARN": arn})
        return records

    def relay(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return outbox_relay.handler({"Records": records}, lambda_context("ob-outbox-relay"))

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message on the queue (JSON bodies), consumed."""
        found: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def tapped(self) -> list[dict[str, Any]]:
        """What the bus's rule delivered (the router's invocations)."""
        return self.drain(self.tap_url)

    def route(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [event_router.handler(entry, lambda_context("ob-event-router")) for entry in entries]

    def stored(self) -> list[dict[str, Any]]:
        items = self.dynamodb.scan(TableName=table_name(self.settings, "events"))["Items"]
        return sorted((json.loads(from_item(i)["Claims"]) for i in items), key=lambda c: c["jti"])

    def queued(self) -> list[dict[str, Any]]:
        """What was queued for push delivery."""
        return self.drain(self.delivery_url)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setattr(outbox_relay, "_relay", None)
    monkeypatch.setattr(event_router, "_router", None)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        events = boto3.client("events", region_name=REGION)
        delivery_url = sqs.create_queue(QueueName="ob-event-delivery")["QueueUrl"]
        tap_url = sqs.create_queue(QueueName="router-tap")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=tap_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = events.create_event_bus(Name="ob-outbox")["EventBusArn"]
        rule = DEPLOYABLES["event_router"]
        assert rule.event_pattern == OUTBOX_EVENT_PATTERN
        events.put_rule(Name="to-router", EventBusName="ob-outbox", EventPattern=rule.event_pattern)
        events.put_targets(Rule="to-router", EventBusName="ob-outbox", Targets=[{"Id": "router", "Arn": tap_arn}])
        settings = ServiceSettings(environment="test", table_prefix=f"ob-{uuid.uuid4().hex[:8]}-", aws_region=REGION,
                                   base_url=BASE_URL, event_bus=bus, event_queue_url=delivery_url)
        for name, value in {"OB_ENVIRONMENT": "test", "OB_TABLE_PREFIX": settings.table_prefix,
                            "OB_AWS_REGION": REGION, "OB_BASE_URL": BASE_URL, "OB_EVENT_BUS": bus,
                            "OB_EVENT_QUEUE_URL": delivery_url}.items():
            monkeypatch.setenv(name, value)
        create_tables(settings)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        tpp = Tpp("tpp-outbox", "client-outbox", new_rsa_key("outbox-sig-1"))
        SubscriptionStore(dynamodb, table_name(settings, "event_subscriptions")).create(
            Subscription("esub-outbox", tpp.tpp_id, "3.1", CALLBACK, None))
        yield World(settings, dynamodb, sqs, events, tap_url, delivery_url, tpp)


def failing_publisher(world: World) -> EventPublisher:
    """A direct publisher whose event store is gone: every publish fails after the change was stored."""
    return EventPublisher(SubscriptionStore(world.dynamodb, table_name(world.settings, "event_subscriptions")),
                          EventStore(world.dynamodb, "no-such-table"), issuer=BASE_URL, sqs=world.sqs,
                          queue_url=world.delivery_url)


def test_the_outbox_delivers_status_changes_whose_direct_publish_failed(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    app = build_app(world.settings, dynamodb=world.dynamodb, key_resolver=StaticKeyResolver(
        {world.tpp.tpp_id: [world.tpp.key]}), signer=aspsp_signer(), funds=EnoughFunds(),
        publisher=failing_publisher(world))
    with TestClient(app) as client, caplog.at_level(logging.ERROR):
        consent_id = authorised_consent(client, world.tpp, "psu-0001")
        created = submit(client, world.tpp, consent_id)
        assert created.status_code == 201, created.text
        payment_id = created.json()["Data"]["DomesticPaymentId"]
        settled = set_status(client, payment_id, "AcceptedSettlementInProcess")
        assert settled.status_code == 204, settled.text
    assert sum("could not publish the resource-update" in r.getMessage() for r in caplog.records) == 2
    assert world.stored() == [] and world.queued() == [], "the direct publishes failed: nothing reached the TPP"

    consents, payments = world.stream_records("consents"), world.stream_records("payments")
    assert [r["eventName"] for r in consents] == ["INSERT", "MODIFY", "MODIFY"]  # created, authorised, consumed
    assert [r["eventName"] for r in payments] == ["INSERT", "MODIFY"]  # submitted, settling
    assert world.relay(consents) == {"batchItemFailures": []}
    assert world.relay(payments) == {"batchItemFailures": []}
    entries = world.tapped()
    assert sorted((e["source"], e["detail-type"], e["detail"]["ResourceType"]) for e in entries) == [
        ("openbanking.outbox", "resource-update", "domestic-payment"),
        ("openbanking.outbox", "resource-update", "domestic-payment-consent")]

    world.route(entries)
    stored, queued = world.stored(), world.queued()
    assert [c["jti"] for c in stored] == sorted(e["detail"]["OutboxId"] for e in entries)
    assert sorted(m["Claims"]["jti"] for m in queued) == [c["jti"] for c in stored]
    assert {m["CallbackUrl"] for m in queued} == {CALLBACK} and {m["TppId"] for m in queued} == {world.tpp.tpp_id}
    payment_event = next(c for c in stored if c["sub"].endswith(payment_id))
    assert payment_event["aud"] == world.tpp.tpp_id and payment_event["iss"] == BASE_URL
    assert payment_event["sub"] == f"{BASE_URL}/open-banking/v3.1/pisp/domestic-payments/{payment_id}"
    assert payment_event["txn"] == settled.headers["x-fapi-interaction-id"], "txn: the interaction of the change"
    subject = payment_event["events"][EventType.RESOURCE_UPDATE.value]["subject"]
    assert subject["http://openbanking.org.uk/rid"] == payment_id

    # a stream redelivery and an EventBridge retry: the same entries again, nothing new stored or queued
    assert world.relay(payments) == {"batchItemFailures": []}
    replayed = world.tapped()
    assert [e["detail"]["OutboxId"] for e in replayed] == [e["detail"]["OutboxId"] for e in entries
                                                           if e["detail"]["ResourceType"] == "domestic-payment"]
    world.route(replayed + entries)
    assert world.stored() == stored and world.queued() == []


def test_a_record_the_bus_refuses_is_reported_and_retried(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    payments = table_name(world.settings, "payments")
    world.dynamodb.put_item(TableName=payments, Item={"PaymentId": {"S": "pdp-1"}, "TppId": {"S": "tpp-outbox"},
                                                      "Status": {"S": "Pending"}})
    for status in ("AcceptedSettlementInProcess", "AcceptedSettlementCompleted"):
        world.dynamodb.update_item(TableName=payments, Key={"PaymentId": {"S": "pdp-1"}},
                                   UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "Status"},
                                   ExpressionAttributeValues={":s": {"S": status}})
    records = world.stream_records("payments")
    relay = outbox_relay.build_relay(world.settings, events=world.events)
    real_put = world.events.put_events
    calls: list[int] = []

    def put_events(**kwargs: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow"}]}
        return real_put(**kwargs)

    monkeypatch.setattr(relay, "events", type("Events", (), {"put_events": staticmethod(put_events)})())
    monkeypatch.setattr(outbox_relay, "_relay", relay)
    result = world.relay(records)
    assert result == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    assert len(world.tapped()) == 1, "the second change went out; the first is retried from its sequence number"
