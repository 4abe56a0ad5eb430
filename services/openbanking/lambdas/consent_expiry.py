"""Scheduled consent housekeeping over the shared consents table (EventBridge schedule, e.g. every 15 minutes).

- An intent the PSU never decided on (`AwaitingAuthorisation` longer than the intent lifetime) becomes `Rejected`.
- An `Authorised` account-access consent whose `ExpirationDateTime` has passed is counted (metric
  `ExpiredAccountAccessConsents`) and scheduled for purging through the table's `PurgeAt` TTL attribute.
- OBIE: expired intent ids may be deleted only 24 h after creation, so `PurgeAt` is never earlier than
  `CreationDateTime + 24 h` (plus the configured retention). Rejected-by-expiry intents get the same rule.

Every write is conditional on the state the decision was made on (status unchanged, not deleted, not already
scheduled), so a PSU authorising the consent concurrently wins and a second run changes nothing (idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import Field

from openbanking.common.dynamo import table_name
from openbanking.common.dynamo_items import dynamodb_client, expression_values, from_item, is_condition_failure, to_item
from openbanking.common.settings import ServiceSettings

logger = Logger(service="ob-consent-expiry")
metrics = Metrics(namespace="OpenBanking", service="ob-consent-expiry")

AWAITING, AUTHORISED, REJECTED = "AwaitingAuthorisation", "Authorised", "Rejected"
#: OBIE read/write data API profile: an expired intent id may be deleted only 24 h after its creation.
MINIMUM_LIFETIME = timedelta(hours=24)


class ConsentExpirySettings(ServiceSettings):
    consent_intent_lifetime_seconds: int = Field(
        default=3600, ge=60, le=7 * 86400, description="how long a consent may await the PSU's authorisation")
    expired_consent_retention_seconds: int = Field(
        default=0, ge=0, le=400 * 86400, description="extra time an expired consent is kept before its TTL purge")


#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (ConsentExpirySettings,)


@dataclass
class Summary:
    rejected: int = 0
    expired: int = 0
    conflicts: int = 0
    unreadable: int = 0


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class ConsentExpiry:
    def __init__(self, client: Any, table: str, *, intent_lifetime: timedelta, retention: timedelta = timedelta(0),
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._client = client
        self._table = table
        self._intent_lifetime = intent_lifetime
        self._retention = retention
        self._now = now

    def run(self) -> Summary:
        now = self._now()
        summary = Summary()
        for item in self._candidates():
            consent_id = item.get("ConsentId", "?")
            created = _instant(item.get("CreationDateTime"))
            if created is None:
                logger.warning("consent has no readable CreationDateTime", extra={"consent_id": consent_id})
                summary.unreadable += 1
                continue
            if item.get("Status") == AWAITING and now - created > self._intent_lifetime:
                if self._reject(consent_id, item["CreationDateTime"], created, now):
                    summary.rejected += 1
                else:
                    summary.conflicts += 1
            elif item.get("Status") == AUTHORISED and str(consent_id).startswith("aac-"):
                expiration = self._expiration(item)
                if expiration is not None and expiration <= now:
                    if self._schedule_purge(consent_id, created, expiration):
                        summary.expired += 1
                    else:
                        summary.conflicts += 1
        return summary

    def _candidates(self) -> Iterator[dict[str, Any]]:
        """Undecided intents and authorised consents not yet scheduled for purging, deleted ones excluded."""
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "(#status = :awaiting OR (#status = :authorised AND attribute_not_exists(PurgeAt)))"
                                " AND attribute_not_exists(DeletedAt)",
            "ProjectionExpression": "ConsentId, #status, CreationDateTime, Document",
            "ExpressionAttributeNames": {"#status": "Status"},
            "ExpressionAttributeValues": expression_values(awaiting=AWAITING, authorised=AUTHORISED),
        }
        while True:
            page = self._client.scan(**arguments)
            for item in page.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @staticmethod
    def _expiration(item: dict[str, Any]) -> datetime | None:
        try:
            document = json.loads(item.get("Document") or "{}")
        except ValueError:
            return None
        return _instant(document.get("ExpirationDateTime")) if isinstance(document, dict) else None

    def _purge_at(self, created: datetime, not_before: datetime) -> int:
        return int((max(created + MINIMUM_LIFETIME, not_before) + self._retention).timestamp())

    def _reject(self, consent_id: str, created_raw: str, created: datetime, now: datetime) -> bool:
        return self._update(
            consent_id,
            "SET #status = :rejected, StatusUpdateDateTime = :stamp, PurgeAt = :purge",
            "#status = :awaiting AND CreationDateTime = :created AND attribute_not_exists(DeletedAt)",
            {"rejected": REJECTED, "stamp": _iso(now), "purge": self._purge_at(created, now), "awaiting": AWAITING,
             "created": created_raw}, "rejected the stale consent intent")

    def _schedule_purge(self, consent_id: str, created: datetime, expiration: datetime) -> bool:
        return self._update(
            consent_id, "SET PurgeAt = :purge",
            "#status = :authorised AND attribute_not_exists(PurgeAt) AND attribute_not_exists(DeletedAt)",
            {"purge": self._purge_at(created, expiration), "authorised": AUTHORISED},
            "scheduled the expired consent for purging")

    def _update(self, consent_id: str, update: str, condition: str, values: dict[str, Any], done: str) -> bool:
        try:
            self._client.update_item(TableName=self._table, Key=to_item({"ConsentId": consent_id}),
                                     UpdateExpression=update, ConditionExpression=condition,
                                     ExpressionAttributeNames={"#status": "Status"},
                                     ExpressionAttributeValues=expression_values(**values))
        except ClientError as exc:
            if is_condition_failure(exc):
                logger.info("consent changed concurrently; left alone", extra={"consent_id": consent_id})
                return False
            raise
        logger.info(done, extra={"consent_id": consent_id, "purge_at": values["purge"]})
        return True


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    settings = ConsentExpirySettings()
    job = ConsentExpiry(dynamodb_client(settings), table_name(settings, "consents"),
                        intent_lifetime=timedelta(seconds=settings.consent_intent_lifetime_seconds),
                        retention=timedelta(seconds=settings.expired_consent_retention_seconds))
    summary = job.run()
    metrics.add_metric(name="RejectedConsentIntents", unit=MetricUnit.Count, value=summary.rejected)
    metrics.add_metric(name="ExpiredAccountAccessConsents", unit=MetricUnit.Count, value=summary.expired)
    metrics.add_metric(name="ConsentExpiryConflicts", unit=MetricUnit.Count, value=summary.conflicts)
    return {"rejected": summary.rejected, "expired": summary.expired, "conflicts": summary.conflicts,
            "unreadable": summary.unreadable}
