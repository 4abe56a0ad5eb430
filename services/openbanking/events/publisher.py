"""`EventPublisher`: the one way services raise OBIE events (services.md).

An event is kept for aggregated polling when the TPP has a subscription that covers its type, and is also
queued for push delivery (SQS -> event-delivery Lambda) when that subscription has a callback URL. A TPP
without a subscription gets no events: OBIE events are opt-in.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import boto3

from ..common.dynamo import table_name
from ..common.settings import EventPublishing, ServiceSettings
from .claims import event_claims
from .models import SUPPORTED_EVENT_TYPES, ResourceUpdate
from .store import EventStore, SubscriptionStore, uuid7

log = logging.getLogger(__name__)


class EventPublisher:
    def __init__(self, subscriptions: SubscriptionStore, events: EventStore, *, issuer: str,
                 sqs: Any | None = None, queue_url: str | None = None, clock: Callable[[], float] = time.time) -> None:
        if (sqs is None) != (queue_url is None):
            raise ValueError("push delivery needs both an SQS client and the queue URL (or neither)")
        self.subscriptions = subscriptions
        self.events = events
        self.issuer = issuer
        self.sqs = sqs
        self.queue_url = queue_url
        self.clock = clock

    def publish(self, tpp_id: str, event_type: str, subject: ResourceUpdate, *, txn: str | None = None,
                toe: int | None = None, jti: str | None = None) -> str | None:
        """Raise `event_type` about `subject` for the TPP; the event's `jti`, or None if the TPP did not subscribe.

        `toe` is when the change happened (default: now); `jti` is the event's id (default: a new UUIDv7). The
        event router passes both from the outbox entry, so a replayed entry is the same event: storing it again
        keeps the stored one."""
        if event_type not in SUPPORTED_EVENT_TYPES:
            raise ValueError(f"unsupported event type {event_type!r}")
        subscription = self.subscriptions.of_tpp(tpp_id)
        if subscription is None or not subscription.wants(event_type):
            return None
        claims = event_claims(issuer=self.issuer, audience=tpp_id, event_type=event_type, subject=subject, txn=txn,
                              toe=toe if toe is not None else int(self.clock()), jti=jti or uuid7(self.clock))
        self.events.put(tpp_id, claims)
        if subscription.callback_url and self.sqs is not None:
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({
                "TppId": tpp_id, "CallbackUrl": subscription.callback_url, "Claims": claims}))
        log.info("event %s %s for TPP %s about %s", claims["jti"], event_type, tpp_id, subject.resource_id)
        return claims["jti"]


def publisher_from_settings(settings: ServiceSettings, dynamodb: Any) -> EventPublisher | None:
    """The publisher a service runs with: None with `outbox` publishing (the stored change is the event; see
    `openbanking.outbox`); with `direct`, events stored in DynamoDB and pushed through SQS when a queue is set."""
    if settings.event_publishing is EventPublishing.OUTBOX:
        return None
    sqs = None
    if settings.event_queue_url:
        sqs = boto3.client("sqs", region_name=settings.aws_region, endpoint_url=settings.sqs_endpoint_url)
    return EventPublisher(SubscriptionStore(dynamodb, table_name(settings, "event_subscriptions")),
                          EventStore(dynamodb, table_name(settings, "events")),
                          issuer=settings.base_url, sqs=sqs, queue_url=settings.event_queue_url)
