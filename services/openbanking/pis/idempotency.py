"""`x-idempotency-key` (OBIE): the same key from the same TPP on the same operation within 24 hours is the
same request; it creates nothing new and is answered with the resource's current state and the original
status code. A different body under a used key is refused (the ASPSP may treat it as fraud).

The first request claims the key with a conditional put (DynamoDB is the arbiter between concurrent
requests and between tasks), choosing the resource id up front. Requests that lose the race wait for the
owner to finish and then return the owner's resource. A claim carries a lease: if its owner dies mid-way,
a later request takes the claim over with the same resource id, so a crash can never create a second resource.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from botocore.exceptions import ClientError

from ..common.dynamo_items import expression_values, from_item, is_condition_failure, to_item
from ..common.errors import ErrorCode, OBIEError, bad_request

T = TypeVar("T")

IDEMPOTENCY_HEADER = "x-idempotency-key"
MAX_KEY_LENGTH = 40
#: The spec's pattern: no leading whitespace, no trailing whitespace, at least one character.
KEY_PATTERN = re.compile(r"^(?!\s)(.*)(\S)$")
WINDOW_SECONDS = 24 * 3600

_IN_PROGRESS = "InProgress"
_COMPLETED = "Completed"


def validate_key(key: str | None) -> str:
    """The key as sent, or a 400 naming the header."""
    if key is None or key == "":
        raise OBIEError.of(400, ErrorCode.HEADER_MISSING, f"{IDEMPOTENCY_HEADER} is required", IDEMPOTENCY_HEADER)
    if len(key) > MAX_KEY_LENGTH:
        raise bad_request(ErrorCode.HEADER_INVALID,
                          f"{IDEMPOTENCY_HEADER} must be at most {MAX_KEY_LENGTH} characters, not {len(key)}",
                          IDEMPOTENCY_HEADER)
    if not KEY_PATTERN.fullmatch(key):
        raise bad_request(ErrorCode.HEADER_INVALID,
                          f"{IDEMPOTENCY_HEADER} must not start or end with whitespace", IDEMPOTENCY_HEADER)
    return key


def fingerprint(document: Any) -> str:
    """A digest of the request's JSON content (key order and whitespace do not make a body different)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Outcome(Generic[T]):
    resource: T
    replayed: bool


class IdempotencyStore:
    """The idempotency table (`IdempotencyKey` = `<tpp>#<operation>#<key>`, TTL on `ExpiresAt`)."""

    def __init__(self, client: Any, table: str, *, clock: Callable[[], float] = time.time,
                 lease_seconds: int = 30, wait_seconds: float = 10.0, poll_seconds: float = 0.02,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.table = table
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.sleep = sleep

    def execute(self, *, tpp_id: str, operation: str, key: str, digest: str, new_id: Callable[[], str],
                create: Callable[[str], T], load: Callable[[str], T | None]) -> Outcome[T]:
        """Run `create(resource_id)` at most once per (TPP, operation, key) in the window; return the resource.

        `create` returns the resource it stored, so the owner of a fresh claim answers without reading it back;
        `load` serves replays and taken-over claims."""
        record_key = f"{tpp_id}#{operation}#{key}"
        started = self.clock()
        while True:
            now = int(self.clock())
            resource_id = new_id()
            if self._claim(record_key, digest, resource_id, now):
                return self._run_owned(record_key, resource_id, create, load=None)
            record = self._read(record_key)
            if record is None or int(record["ExpiresAt"]) < now:
                continue  # released or expired in the meantime: claim again
            if record["Digest"] != digest:
                raise bad_request(ErrorCode.FIELD_INVALID,
                                  f"this {IDEMPOTENCY_HEADER} was used in the last 24 hours with a different body",
                                  IDEMPOTENCY_HEADER)
            if record["State"] == _COMPLETED:
                resource = load(record["ResourceId"])
                if resource is None:
                    raise RuntimeError(f"idempotency record {record_key} points at missing {record['ResourceId']}")
                return Outcome(resource, replayed=True)
            if int(record["LeaseUntil"]) < now and self._take_over(record_key, int(record["LeaseUntil"]), now):
                return self._run_owned(record_key, record["ResourceId"], create, load=load)
            if self.clock() - started > self.wait_seconds:
                raise OBIEError.of(429, ErrorCode.HEADER_INVALID,
                                   f"a request with this {IDEMPOTENCY_HEADER} is still being processed",
                                   IDEMPOTENCY_HEADER, headers={"Retry-After": "1"})
            self.sleep(self.poll_seconds)

    def _claim(self, record_key: str, digest: str, resource_id: str, now: int) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item({"IdempotencyKey": record_key, "Digest": digest, "ResourceId": resource_id,
                              "State": _IN_PROGRESS, "LeaseUntil": now + self.lease_seconds,
                              "CreatedAt": now, "ExpiresAt": now + WINDOW_SECONDS}),
                ConditionExpression="attribute_not_exists(IdempotencyKey) OR ExpiresAt < :now",
                ExpressionAttributeValues=expression_values(now=now))
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def _take_over(self, record_key: str, seen_lease: int, now: int) -> bool:
        try:
            self.client.update_item(
                TableName=self.table, Key=to_item({"IdempotencyKey": record_key}),
                UpdateExpression="SET LeaseUntil = :lease",
                ConditionExpression="LeaseUntil = :seen AND #state = :in_progress",
                ExpressionAttributeNames={"#state": "State"},
                ExpressionAttributeValues=expression_values(lease=now + self.lease_seconds, seen=seen_lease,
                                                            in_progress=_IN_PROGRESS))
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def _run_owned(self, record_key: str, resource_id: str, create: Callable[[str], T],
                   load: Callable[[str], T | None] | None) -> Outcome[T]:
        """`load` only for a taken-over claim, whose dead owner may have got as far as creating the resource; a
        fresh claim's resource id was chosen by this request a moment ago, so nothing can exist under it yet."""
        resource = load(resource_id) if load is not None else None
        if resource is None:
            try:
                resource = create(resource_id)
            except BaseException:
                self._release(record_key, resource_id)
                raise
        self.client.update_item(
            TableName=self.table, Key=to_item({"IdempotencyKey": record_key}),
            UpdateExpression="SET #state = :completed REMOVE LeaseUntil",
            ConditionExpression="ResourceId = :id",
            ExpressionAttributeNames={"#state": "State"},
            ExpressionAttributeValues=expression_values(completed=_COMPLETED, id=resource_id))
        return Outcome(resource, replayed=False)

    def _release(self, record_key: str, resource_id: str) -> None:
        """A failed request leaves no claim behind: the TPP may correct the cause and retry with the same key."""
        try:
            self.client.delete_item(
                TableName=self.table, Key=to_item({"IdempotencyKey": record_key}),
                ConditionExpression="ResourceId = :id AND #state = :in_progress",
                ExpressionAttributeNames={"#state": "State"},
                ExpressionAttributeValues=expression_values(id=resource_id, in_progress=_IN_PROGRESS))
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def _read(self, record_key: str) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=to_item({"IdempotencyKey": record_key}),
                                    ConsistentRead=True).get("Item")
        return from_item(item) if item else None
