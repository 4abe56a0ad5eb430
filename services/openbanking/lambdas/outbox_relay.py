"""Outbox relay (DynamoDB streams of `consents` and `payments` -> the event bus).

Each stream record that is a status change a TPP is told about (:mod:`openbanking.events.outbox`) becomes one
EventBridge `PutEvents` entry (`source` openbanking.outbox, `detail-type` the event type) on `OB_EVENT_BUS`, a bus
name or, when the events service runs in another account, the bus's ARN. The entry's `OutboxId` is derived from the
stream record, so redelivering a record puts an entry the router recognises.

Partial batch responses (`ReportBatchItemFailures`): a record whose entry the bus did not accept is reported by
its sequence number, and Lambda retries the stream from there; later records of the batch may be relayed again,
which the router makes harmless. Configure the event source mapping with starting position TRIM_HORIZON, a retry
limit and an on-failure destination, so a poison record is set aside rather than blocking its shard.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from openbanking.common.settings import ServiceSettings
from openbanking.deployables import OUTBOX_EVENT_SOURCE
from openbanking.events.outbox import OutboxEvent, change_event, outbox_id, table_of

logger = Logger(service="ob-outbox-relay")

#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (ServiceSettings,)


class RelayFailed(Exception):
    """The bus did not take the entry: the record is reported failed and retried."""


def event_of_record(record: DynamoDBRecord, base_url: str) -> OutboxEvent | None:
    """The OBIE event a stream record raises, or None (not a status change a TPP is told about)."""
    stream = record.dynamodb
    if stream is None:
        return None
    table = table_of(stream.keys)
    if table is None:
        return None
    occurred_at = int(stream.approximate_creation_date_time or 0)
    identity = outbox_id(record.event_source_arn or "", stream.sequence_number or "", record.event_id or "",
                         occurred_at)
    return change_event(table, stream.old_image, stream.new_image, base_url=base_url, outbox_id=identity,
                        occurred_at=occurred_at)


class OutboxRelay:
    def __init__(self, events: Any, bus: str, base_url: str) -> None:
        self.events = events
        self.bus = bus
        self.base_url = base_url

    def relay(self, record: DynamoDBRecord) -> OutboxEvent | None:
        event = event_of_record(record, self.base_url)
        if event is None:
            return None
        answer = self.events.put_events(Entries=[{
            "Source": OUTBOX_EVENT_SOURCE, "DetailType": event.detail_type, "Detail": json.dumps(event.detail()),
            "EventBusName": self.bus, "Time": datetime.fromtimestamp(event.occurred_at, UTC)}])
        if answer.get("FailedEntryCount", 0):
            failure = (answer.get("Entries") or [{}])[0]
            raise RelayFailed(f"{failure.get('ErrorCode', 'unknown')}: {failure.get('ErrorMessage', '')}")
        logger.info("relayed", extra={"outbox_id": event.outbox_id, "event_type": event.detail_type,
                                      "resource_id": event.subject.resource_id, "tpp_id": event.tpp_id})
        return event


def build_relay(settings: ServiceSettings, events: Any = None) -> OutboxRelay:
    if not settings.event_bus:
        raise ValueError("OB_EVENT_BUS: not set; the relay puts the outbox's events on that bus (name or ARN)")
    return OutboxRelay(events or boto3.client("events", region_name=settings.aws_region), settings.event_bus,
                       settings.base_url)


_relay: OutboxRelay | None = None
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def _instance() -> OutboxRelay:
    """Built on the first invocation and kept by the warm container."""
    global _relay
    if _relay is None:
        _relay = build_relay(ServiceSettings())
    return _relay


def _record_handler(record: DynamoDBRecord) -> None:
    _instance().relay(record)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=_record_handler, processor=processor,
                                         context=context))
