"""The DynamoDB tables of one account's services, from the very definitions the services use.

The caller passes the services' own table specs (`openbanking.common.tables.TABLES`), so the code and the
infrastructure cannot disagree on keys, indexes, TTL attribute or streams. Every table is on demand, has
point-in-time recovery, is encrypted with the account's customer key and deletion-protected (every stage:
dropping a table of consents is a deliberate act), and `protect`ed in prod; a table the services read as an
outbox gets a NEW_AND_OLD_IMAGES stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_aws as aws


class IndexDefinition(Protocol):
    """A global secondary index as the services declare it (`openbanking.common.tables.IndexSpec`)."""

    @property
    def name(self) -> str: ...
    @property
    def partition_key(self) -> str: ...
    @property
    def sort_key(self) -> str | None: ...


class TableDefinition(Protocol):
    """A table as the services declare it (`openbanking.common.tables.TableSpec`)."""

    @property
    def suffix(self) -> str: ...
    @property
    def partition_key(self) -> str: ...
    @property
    def sort_key(self) -> str | None: ...
    @property
    def indexes(self) -> Sequence[IndexDefinition]: ...
    @property
    def ttl_attribute(self) -> str | None: ...
    @property
    def stream(self) -> bool: ...


@dataclass(frozen=True)
class ServiceTablesArgs:
    """The tables one account holds."""

    #: Logical name (a key of the services' TABLES) -> its definition; only the tables this account's services use.
    tables: Mapping[str, TableDefinition]
    #: Prefix of the physical names, e.g. "prod-pis-" gives "prod-pis-payments" (the services' `OB_TABLE_PREFIX`).
    table_prefix: str
    #: The customer-managed key every table is encrypted with (server-side encryption).
    kms_key_arn: pulumi.Input[str]
    #: Prod: `protect` + `retain_on_delete` on the Pulumi resources (deletion protection is on in every stage).
    protect: bool
    #: Days of point-in-time recovery (1-35).
    recovery_period_days: int = 35


class ServiceTables(pulumi.ComponentResource):
    """`tables[logical]` is the `aws.dynamodb.Table`; `arns`, `names` and `stream_arns` key the same way."""

    tables: dict[str, aws.dynamodb.Table]

    def __init__(self, name: str, args: ServiceTablesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("openbanking:data:ServiceTables", name, None, opts)
        if not 1 <= args.recovery_period_days <= 35:
            raise ValueError(f"{name}: recovery_period_days is {args.recovery_period_days}; DynamoDB keeps 1 to 35 days")
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        self.tables = {}
        for logical, spec in args.tables.items():
            keys = [spec.partition_key, *([spec.sort_key] if spec.sort_key else [])]
            for index in spec.indexes:
                keys += [index.partition_key, *([index.sort_key] if index.sort_key else [])]
            self.tables[logical] = aws.dynamodb.Table(
                f"{name}-{spec.suffix}",
                name=f"{args.table_prefix}{spec.suffix}",
                billing_mode="PAY_PER_REQUEST",
                hash_key=spec.partition_key,
                range_key=spec.sort_key,
                attributes=[aws.dynamodb.TableAttributeArgs(name=key, type="S") for key in dict.fromkeys(keys)],
                global_secondary_indexes=[aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=index.name,
                    projection_type="ALL",
                    key_schemas=[aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                        attribute_name=key, key_type=kind)
                        for key, kind in ((index.partition_key, "HASH"), (index.sort_key, "RANGE")) if key],
                ) for index in spec.indexes],
                ttl=aws.dynamodb.TableTtlArgs(attribute_name=spec.ttl_attribute, enabled=True)
                if spec.ttl_attribute else None,
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                    enabled=True, recovery_period_in_days=args.recovery_period_days),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                    enabled=True, kms_key_arn=args.kms_key_arn),
                stream_enabled=spec.stream,
                stream_view_type="NEW_AND_OLD_IMAGES" if spec.stream else None,
                deletion_protection_enabled=True,
                tags={"Name": f"{args.table_prefix}{spec.suffix}"},
                opts=stateful,
            )
        self.arns = {logical: table.arn for logical, table in self.tables.items()}
        self.names = {logical: table.name for logical, table in self.tables.items()}
        self.stream_arns = {logical: table.stream_arn for logical, table in self.tables.items()
                            if args.tables[logical].stream}
        self.register_outputs({"tableArns": self.arns})
