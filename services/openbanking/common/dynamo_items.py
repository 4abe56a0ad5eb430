"""DynamoDB items through the low-level client: the client is thread-safe (boto3 resources are not), and
FastAPI runs synchronous endpoints on a thread pool, so the services share one client per process."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from .settings import ServiceSettings

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def dynamodb_client(settings: ServiceSettings) -> Any:
    """A client sized for a threaded service (the default pool of 10 connections would queue requests)."""
    return boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url,
                        config=Config(max_pool_connections=64, retries={"mode": "standard", "max_attempts": 4}))


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values -> attribute values; `None` attributes are left out (DynamoDB has no use for them)."""
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """Attribute values -> plain values; whole numbers come back as `int`, not `Decimal`."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        plain = _deserializer.deserialize(value)
        if isinstance(plain, Decimal):
            plain = int(plain) if plain == plain.to_integral_value() else float(plain)
        out[key] = plain
    return out


def expression_values(**values: Any) -> dict[str, Any]:
    """`ExpressionAttributeValues` from keyword arguments: `expression_values(now=1)` -> `{":now": {"N": "1"}}`."""
    return {f":{k}": _serializer.serialize(v) for k, v in values.items()}


def is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def cancellation_reasons(exc: ClientError) -> list[str]:
    """The per-item codes of a cancelled transaction (`None` entries become "None")."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])]
