"""The DynamoDB tables of the services: one place defines their keys, for the code, the tests and the
local sandbox alike (the workload accounts create the same tables in Pulumi).

Items keep the OBIE resource as a JSON string in `Document`, plus the attributes queries and
conditional writes need at top level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3

from .settings import ServiceSettings


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class TableSpec:
    suffix: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[IndexSpec, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None


#: Logical name -> table. Consents carry `ConsentType`, `TppId`, `Status` and the timestamps at top level;
#: payments carry `ConsentId` (one payment per consent is enforced through it); idempotency records expire
#: after 24 h through `ExpiresAt`; events are kept per TPP until acknowledged or expired.
TABLES: dict[str, TableSpec] = {
    "consents": TableSpec("consents", "ConsentId", indexes=(IndexSpec("TppId-index", "TppId", "CreationDateTime"),),
                          ttl_attribute="PurgeAt"),
    "payments": TableSpec("payments", "PaymentId", indexes=(IndexSpec("ConsentId-index", "ConsentId"),)),
    "idempotency": TableSpec("idempotency", "IdempotencyKey", ttl_attribute="ExpiresAt"),
    "event_subscriptions": TableSpec("event-subscriptions", "EventSubscriptionId",
                                     indexes=(IndexSpec("TppId-index", "TppId"),)),
    "events": TableSpec("events", "TppId", "Jti", ttl_attribute="ExpiresAt"),
}


def table_name(settings: ServiceSettings, logical: str) -> str:
    return f"{settings.table_prefix}{TABLES[logical].suffix}"


def dynamodb_resource(settings: ServiceSettings) -> Any:
    """A boto3 DynamoDB resource for the configured region (and local endpoint, in the sandbox)."""
    return boto3.resource("dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url)


def create_tables(settings: ServiceSettings, logical_names: list[str] | None = None) -> None:
    """Create the tables (on-demand) if they do not exist: for the tests and the local sandbox only."""
    client = boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url)
    existing = set(client.list_tables().get("TableNames", []))
    for logical in logical_names or list(TABLES):
        spec, name = TABLES[logical], table_name(settings, logical)
        if name in existing:
            continue
        keys = [spec.partition_key, *([spec.sort_key] if spec.sort_key else [])]
        for index in spec.indexes:
            keys += [index.partition_key, *([index.sort_key] if index.sort_key else [])]
        attributes = [{"AttributeName": k, "AttributeType": "S"} for k in dict.fromkeys(keys)]
        args: dict[str, Any] = {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": attributes,
            "KeySchema": _key_schema(spec.partition_key, spec.sort_key),
        }
        if spec.indexes:
            args["GlobalSecondaryIndexes"] = [
                {"IndexName": i.name, "KeySchema": _key_schema(i.partition_key, i.sort_key),
                 "Projection": {"ProjectionType": "ALL"}} for i in spec.indexes]
        client.create_table(**args)
        if spec.ttl_attribute:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": spec.ttl_attribute})


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort:
        schema.append({"AttributeName": sort, "KeyType": "RANGE"})
    return schema
