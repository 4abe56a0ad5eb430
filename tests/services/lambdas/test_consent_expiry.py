"""The consent-expiry job against moto DynamoDB: stale intents rejected, expired consents scheduled for purging
no earlier than 24 h after creation, idempotent, and a concurrent authorisation is never overwritten."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from openbanking.common.dynamo import create_tables, table_name
from openbanking.common.dynamo_items import from_item, to_item
from openbanking.common.settings import ServiceSettings
from openbanking.lambdas import consent_expiry
from openbanking.lambdas.consent_expiry import ConsentExpiry
from tests.services.lambdas.context import lambda_context

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "eu-west-2", "OB_TABLE_PREFIX": "expiry-test-"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        settings = ServiceSettings()
        create_tables(settings, ["consents"])
        yield boto3.client("dynamodb", region_name="eu-west-2"), table_name(settings, "consents")


def put(client: Any, table: str, consent_id: str, status: str, created: datetime, expiration: datetime | None = None,
        **extra: Any) -> None:
    document: dict[str, Any] = {"Permissions": ["ReadAccountsBasic"]}
    if expiration:
        document["ExpirationDateTime"] = expiration.isoformat()
    client.put_item(TableName=table, Item=to_item({
        "ConsentId": consent_id, "ConsentType": "account-access" if consent_id.startswith("aac-") else "domestic-payment",
        "TppId": "tpp-1", "Status": status, "CreationDateTime": created.isoformat(timespec="seconds"),
        "StatusUpdateDateTime": created.isoformat(timespec="seconds"), "Document": json.dumps(document), **extra}))


def get(client: Any, table: str, consent_id: str) -> dict[str, Any]:
    return from_item(client.get_item(TableName=table, Key=to_item({"ConsentId": consent_id}))["Item"])


def job(client: Any, table: str, now: datetime = NOW) -> ConsentExpiry:
    return ConsentExpiry(client, table, intent_lifetime=timedelta(hours=1), now=lambda: now)


def test_stale_intents_rejected_fresh_ones_kept(dynamo: tuple[Any, str]) -> None:
    client, table = dynamo
    put(client, table, "aac-stale", "AwaitingAuthorisation", NOW - timedelta(hours=2))
    put(client, table, "pdc-stale", "AwaitingAuthorisation", NOW - timedelta(minutes=61))
    put(client, table, "aac-fresh", "AwaitingAuthorisation", NOW - timedelta(minutes=30))
    summary = job(client, table).run()
    assert (summary.rejected, summary.expired, summary.conflicts) == (2, 0, 0)
    stale = get(client, table, "aac-stale")
    assert stale["Status"] == "Rejected" and stale["StatusUpdateDateTime"] == NOW.isoformat(timespec="seconds")
    assert stale["PurgeAt"] == int((NOW - timedelta(hours=2) + timedelta(hours=24)).timestamp())
    assert get(client, table, "pdc-stale")["Status"] == "Rejected"
    assert get(client, table, "aac-fresh")["Status"] == "AwaitingAuthorisation"


def test_expired_consents_purged_no_earlier_than_24h_after_creation(dynamo: tuple[Any, str]) -> None:
    client, table = dynamo
    young = NOW - timedelta(hours=3)  # created 3 h ago, expired 1 h ago: purge at creation + 24 h
    old = NOW - timedelta(days=40)  # created long ago, expired 2 days ago: purge at the expiry instant
    put(client, table, "aac-young", "Authorised", young, NOW - timedelta(hours=1))
    put(client, table, "aac-old", "Authorised", old, NOW - timedelta(days=2))
    put(client, table, "aac-valid", "Authorised", old, NOW + timedelta(days=1))
    put(client, table, "aac-open", "Authorised", old)  # no ExpirationDateTime: never expires
    put(client, table, "aac-deleted", "Authorised", old, NOW - timedelta(days=2), DeletedAt=NOW.isoformat(), PurgeAt=1)
    summary = job(client, table).run()
    assert summary.expired == 2
    assert get(client, table, "aac-young")["PurgeAt"] == int((young + timedelta(hours=24)).timestamp())
    assert get(client, table, "aac-old")["PurgeAt"] == int((NOW - timedelta(days=2)).timestamp())
    assert get(client, table, "aac-young")["Status"] == "Authorised", "expiry is reported, the status is not invented"
    for untouched in ("aac-valid", "aac-open"):
        assert "PurgeAt" not in get(client, table, untouched)
    assert get(client, table, "aac-deleted")["PurgeAt"] == 1


def test_second_run_changes_nothing(dynamo: tuple[Any, str]) -> None:
    client, table = dynamo
    put(client, table, "aac-stale", "AwaitingAuthorisation", NOW - timedelta(hours=2))
    put(client, table, "aac-expired", "Authorised", NOW - timedelta(days=5), NOW - timedelta(days=1))
    first = job(client, table).run()
    before = {cid: get(client, table, cid) for cid in ("aac-stale", "aac-expired")}
    second = job(client, table, NOW + timedelta(minutes=15)).run()
    assert (first.rejected, first.expired) == (1, 1)
    assert (second.rejected, second.expired, second.conflicts) == (0, 0, 0)
    assert {cid: get(client, table, cid) for cid in before} == before


@dataclass
class AuthoriseDuringScan:
    """A client whose first update races with a PSU authorising the same consent."""

    client: Any
    table: str

    def scan(self, **kwargs: Any) -> Any:
        return self.client.scan(**kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        self.client.update_item(TableName=self.table, Key=kwargs["Key"],
                                UpdateExpression="SET #s = :a, PsuId = :p", ExpressionAttributeNames={"#s": "Status"},
                                ExpressionAttributeValues={":a": {"S": "Authorised"}, ":p": {"S": "psu-0001"}})
        return self.client.update_item(**kwargs)


def test_concurrent_authorisation_is_not_overwritten(dynamo: tuple[Any, str]) -> None:
    client, table = dynamo
    put(client, table, "pdc-racing", "AwaitingAuthorisation", NOW - timedelta(hours=2))
    summary = ConsentExpiry(AuthoriseDuringScan(client, table), table, intent_lifetime=timedelta(hours=1),
                            now=lambda: NOW).run()
    assert (summary.rejected, summary.conflicts) == (0, 1)
    racing = get(client, table, "pdc-racing")
    assert racing["Status"] == "Authorised" and "PurgeAt" not in racing


def test_handler_reads_settings_and_emits_metrics(dynamo: tuple[Any, str], monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    client, table = dynamo
    put(client, table, "aac-stale", "AwaitingAuthorisation", datetime.now(UTC) - timedelta(hours=3))
    monkeypatch.setenv("OB_CONSENT_INTENT_LIFETIME_SECONDS", "3600")

    result = consent_expiry.handler({"source": "aws.events"}, lambda_context("ob-consent-expiry"))
    assert result == {"rejected": 1, "expired": 0, "conflicts": 0, "unreadable": 0}
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(doc.get("RejectedConsentIntents") == [1.0] or doc.get("RejectedConsentIntents") == 1.0 for doc in emf)
