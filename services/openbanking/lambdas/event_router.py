"""Event router (an EventBridge rule on the outbox's bus -> this function), in the account of the events service.

For each outbox entry it does what `EventPublisher.publish` does for a direct publish: nothing when the TPP has no
subscription covering the event type; otherwise it stores the event for aggregated polling and, when the
subscription has a callback, queues it for push delivery (`OB_EVENT_QUEUE_URL` -> the event-delivery Lambda). The
event's `jti`, `toe` and `txn` come from the entry, so it is the same event however often the entry arrives.

Once per entry: Powertools idempotency keeps a receipt per `OutboxId` in the `outbox_receipts` table for
:data:`RECEIPT_SECONDS`; a replayed entry returns the first result and stores and queues nothing. A failure
before the receipt is complete deletes it, so EventBridge's retry (then the failure destination) does the work
again: the event store keeps the stored event, the queue may see the event twice (same `jti`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from openbanking.common.dynamo import table_name
from openbanking.common.dynamo_items import dynamodb_client
from openbanking.common.settings import ServiceSettings
from openbanking.events.outbox import OutboxEvent
from openbanking.events.publisher import EventPublisher
from openbanking.events.store import EventStore, SubscriptionStore

logger = Logger(service="ob-event-router")

#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (ServiceSettings,)
#: How long a receipt is kept: longer than a stream record lives (24 h) plus EventBridge's retries (24 h).
RECEIPT_SECONDS = 7 * 24 * 3600


class EventRouter:
    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher

    def route(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Publish the entry's event; its `OutboxId` and the `jti` stored (None: the TPP did not subscribe)."""
        event = OutboxEvent.from_detail(entry)
        jti = self.publisher.publish(event.tpp_id, event.event_type, event.subject, txn=event.txn,
                                     toe=event.occurred_at, jti=event.outbox_id)
        logger.info("routed", extra={"outbox_id": event.outbox_id, "tpp_id": event.tpp_id, "stored": jti is not None})
        return {"OutboxId": event.outbox_id, "Jti": jti}


class OnceRouter:
    """`EventRouter.route`, once per `OutboxId` (receipts in DynamoDB)."""

    def __init__(self, router: EventRouter, persistence: DynamoDBPersistenceLayer) -> None:
        self.config = IdempotencyConfig(event_key_jmespath="OutboxId", raise_on_no_idempotency_key=True,
                                        expires_after_seconds=RECEIPT_SECONDS)
        self._route: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="entry", persistence_store=persistence, config=self.config)(router.route)

    def __call__(self, entry: dict[str, Any], context: LambdaContext | None = None) -> dict[str, Any]:
        if context is not None:
            self.config.register_lambda_context(context)  # an unfinished receipt expires with the invocation
        return self._route(entry=entry)


def build_router(settings: ServiceSettings, *, dynamodb: Any = None, sqs: Any = None) -> OnceRouter:
    if not settings.event_queue_url:
        raise ValueError("OB_EVENT_QUEUE_URL: not set; the router queues events for push delivery there")
    client = dynamodb or dynamodb_client(settings)
    sqs = sqs or boto3.client("sqs", region_name=settings.aws_region, endpoint_url=settings.sqs_endpoint_url)
    publisher = EventPublisher(SubscriptionStore(client, table_name(settings, "event_subscriptions")),
                               EventStore(client, table_name(settings, "events")), issuer=settings.base_url,
                               sqs=sqs, queue_url=settings.event_queue_url)
    persistence = DynamoDBPersistenceLayer(table_name=table_name(settings, "outbox_receipts"),
                                           key_attr="IdempotencyKey", expiry_attr="ExpiresAt", boto3_client=client)
    return OnceRouter(EventRouter(publisher), persistence)


_router: OnceRouter | None = None


def _instance() -> OnceRouter:
    """Built on the first invocation and kept by the warm container."""
    global _router
    if _router is None:
        _router = build_router(ServiceSettings())
    return _router


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    return _instance()(dict(event.detail), context)
