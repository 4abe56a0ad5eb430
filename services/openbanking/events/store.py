"""Event subscriptions and undelivered events in DynamoDB.

A TPP has at most one subscription (OBIE: a second POST is a 409). The rule is enforced by a marker item
`tpp#<TppId>` written in the same transaction as the subscription; the marker has no `TppId` attribute, so
the `TppId-index` stays a view of real subscriptions only.

Events are kept per TPP (`TppId`, `Jti`) until the TPP acknowledges them by polling or they expire. Their
`jti` is a UUIDv7, so the sort key orders them by time and polling hands out the oldest first.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..common.dynamo_items import cancellation_reasons, expression_values, from_item, is_condition_failure, to_item

EVENT_RETENTION_SECONDS = 7 * 24 * 3600


def uuid7(clock: Callable[[], float] = time.time) -> str:
    """A time-ordered UUID (RFC 9562 version 7): 48-bit milliseconds, then randomness."""
    return uuid7_from(int(clock() * 1000), os.urandom(10))


def uuid7_from(millis: int, entropy: bytes) -> str:
    """The UUIDv7 of `millis` whose 74 "random" bits come from `entropy` (at least 10 bytes): deterministic when the
    entropy is (the outbox derives it from the stream record, so a replayed change keeps its event id)."""
    if len(entropy) < 10:
        raise ValueError("a UUIDv7 needs 10 bytes of entropy")
    rand = int.from_bytes(entropy[:10], "big")
    millis &= (1 << 48) - 1
    value = (millis << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def new_subscription_id() -> str:
    """`esub-` + the UUID's 32 hex digits: the spec caps EventSubscriptionId at 40 characters."""
    return f"esub-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    tpp_id: str
    version: str
    callback_url: str | None = None
    event_types: tuple[str, ...] | None = None  # None: every supported type

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types


class SubscriptionExists(Exception):
    """The TPP already has a subscription."""


class SubscriptionStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @staticmethod
    def _marker(tpp_id: str) -> str:
        return f"tpp#{tpp_id}"

    def _item(self, sub: Subscription) -> dict[str, Any]:
        return to_item({"EventSubscriptionId": sub.subscription_id, "TppId": sub.tpp_id, "Version": sub.version,
                        "CallbackUrl": sub.callback_url,
                        "EventTypes": json.dumps(list(sub.event_types)) if sub.event_types is not None else None})

    def create(self, sub: Subscription) -> None:
        try:
            self.client.transact_write_items(TransactItems=[
                {"Put": {"TableName": self.table,
                         "Item": to_item({"EventSubscriptionId": self._marker(sub.tpp_id),
                                          "SubscriptionOf": sub.subscription_id}),
                         "ConditionExpression": "attribute_not_exists(EventSubscriptionId)"}},
                {"Put": {"TableName": self.table, "Item": self._item(sub),
                         "ConditionExpression": "attribute_not_exists(EventSubscriptionId)"}},
            ])
        except ClientError as exc:
            if cancellation_reasons(exc)[:1] == ["ConditionalCheckFailed"]:
                raise SubscriptionExists(sub.tpp_id) from None
            raise

    def get(self, subscription_id: str) -> Subscription | None:
        if subscription_id.startswith("tpp#"):
            return None
        item = self.client.get_item(TableName=self.table, Key=to_item({"EventSubscriptionId": subscription_id}),
                                    ConsistentRead=True).get("Item")
        if not item:
            return None
        values = from_item(item)
        types = values.get("EventTypes")
        return Subscription(subscription_id=values["EventSubscriptionId"], tpp_id=values["TppId"],
                            version=values["Version"], callback_url=values.get("CallbackUrl"),
                            event_types=tuple(json.loads(types)) if types is not None else None)

    def of_tpp(self, tpp_id: str) -> Subscription | None:
        """The TPP's subscription, read consistently through its marker."""
        item = self.client.get_item(TableName=self.table, Key=to_item({"EventSubscriptionId": self._marker(tpp_id)}),
                                    ConsistentRead=True).get("Item")
        return self.get(from_item(item)["SubscriptionOf"]) if item else None

    def replace(self, sub: Subscription) -> None:
        self.client.put_item(TableName=self.table, Item=self._item(sub),
                             ConditionExpression="attribute_exists(EventSubscriptionId) AND TppId = :tpp",
                             ExpressionAttributeValues=expression_values(tpp=sub.tpp_id))

    def delete(self, sub: Subscription) -> None:
        self.client.transact_write_items(TransactItems=[
            {"Delete": {"TableName": self.table, "Key": to_item({"EventSubscriptionId": sub.subscription_id})}},
            {"Delete": {"TableName": self.table, "Key": to_item({"EventSubscriptionId": self._marker(sub.tpp_id)})}},
        ])


@dataclass(frozen=True)
class StoredEvent:
    jti: str
    claims: dict[str, Any]


class EventStore:
    def __init__(self, client: Any, table: str, *, clock: Callable[[], float] = time.time,
                 retention_seconds: int = EVENT_RETENTION_SECONDS) -> None:
        self.client = client
        self.table = table
        self.clock = clock
        self.retention_seconds = retention_seconds

    def put(self, tpp_id: str, claims: dict[str, Any]) -> bool:
        """Keep the event for polling; False when an event with its `jti` is already kept (a replay stores nothing)."""
        now = int(self.clock())
        try:
            self.client.put_item(TableName=self.table, Item=to_item({
                "TppId": tpp_id, "Jti": claims["jti"], "Claims": json.dumps(claims), "CreatedAt": now,
                "ExpiresAt": now + self.retention_seconds}), ConditionExpression="attribute_not_exists(Jti)")
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def pending(self, tpp_id: str, limit: int) -> tuple[list[StoredEvent], bool]:
        """Up to `limit` oldest unexpired events of the TPP, and whether more are waiting."""
        events: list[StoredEvent] = []
        more = False
        start: dict[str, Any] | None = None
        while True:
            args: dict[str, Any] = {
                "TableName": self.table, "KeyConditionExpression": "TppId = :tpp",
                "FilterExpression": "ExpiresAt > :now", "ConsistentRead": True,
                "ExpressionAttributeValues": expression_values(tpp=tpp_id, now=int(self.clock())),
                "Limit": max(limit + 1, 1)}
            if start:
                args["ExclusiveStartKey"] = start
            page = self.client.query(**args)
            for item in page.get("Items", []):
                values = from_item(item)
                if len(events) < limit:
                    events.append(StoredEvent(values["Jti"], json.loads(values["Claims"])))
                else:
                    more = True
            start = page.get("LastEvaluatedKey")
            if more or not start:
                return events, more

    def remove(self, tpp_id: str, jtis: Iterable[str]) -> None:
        """Acknowledged (or negatively acknowledged) events leave the queue; unknown jtis are ignored."""
        for jti in dict.fromkeys(jtis):
            self.client.delete_item(TableName=self.table, Key=to_item({"TppId": tpp_id, "Jti": jti}))
