"""DynamoDB tables at run time: their names in an environment, and creating them for the tests and the local
sandbox. What the tables are (keys, indexes, TTL, streams) is plain data in :mod:`openbanking.common.tables`,
re-exported here, which the landing zone's infrastructure imports too.
"""

from __future__ import annotations

from typing import Any

import boto3

from .settings import ServiceSettings
from .tables import STREAM_VIEW_TYPE, TABLES, IndexSpec, TableSpec

__all__ = ["STREAM_VIEW_TYPE", "TABLES", "IndexSpec", "TableSpec", "create_tables", "dynamodb_resource", "table_name"]


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
        attributes = [{"AttributeName": k, "AttributeType": "S"} for k in spec.key_attributes]
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
        if spec.stream:
            args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE}
        client.create_table(**args)
        if spec.ttl_attribute:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": spec.ttl_attribute})


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort:
        schema.append({"AttributeName": sort, "KeyType": "RANGE"})
    return schema
