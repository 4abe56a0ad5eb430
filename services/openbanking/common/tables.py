"""The DynamoDB tables of the services, as plain data: one definition for the service code, the tests, the local
sandbox and the landing zone's infrastructure (which imports this module, so it imports nothing but the standard
library).

Items keep the OBIE resource as a JSON string in `Document`, plus the attributes queries and conditional writes
need at top level. Every key attribute is a string.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index (projection: all attributes)."""

    #: The index name the code queries, e.g. `TppId-index`.
    name: str
    #: Partition key attribute of the index.
    partition_key: str
    #: Sort key attribute of the index, if it has one.
    sort_key: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """One table: its keys, indexes, TTL attribute and whether it has a stream (on-demand billing always)."""

    #: The table name is `<OB_TABLE_PREFIX><suffix>`, e.g. `ob-dev-consents`.
    suffix: str
    #: Partition key attribute.
    partition_key: str
    #: Sort key attribute, if the table has one.
    sort_key: str | None = None
    #: Global secondary indexes.
    indexes: tuple[IndexSpec, ...] = ()
    #: The attribute DynamoDB's TTL deletes items by (epoch seconds), if the table expires items.
    ttl_attribute: str | None = None
    #: Whether the table has a DynamoDB stream with NEW_AND_OLD_IMAGES: the outbox of status changes, consumed by
    #: the `outbox_relay` Lambda.
    stream: bool = False

    @property
    def key_attributes(self) -> tuple[str, ...]:
        """Every attribute a key schema names (table and indexes), each once: the attribute definitions."""
        names = [self.partition_key, *([self.sort_key] if self.sort_key else [])]
        for index in self.indexes:
            names += [index.partition_key, *([index.sort_key] if index.sort_key else [])]
        return tuple(dict.fromkeys(names))


#: What a stream record carries: the item before and after the change (the outbox needs both to see a change).
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"

#: Logical name -> table. Consents carry `ConsentType`, `TppId`, `Status` and the timestamps at top level;
#: payments carry `ConsentId` (one payment per consent is enforced through it); idempotency records expire
#: after 24 h through `ExpiresAt`; events are kept per TPP until acknowledged or expired; outbox receipts record
#: which outbox entries the event router has handled (Powertools idempotency records), so a replay adds nothing;
#: the sandbox directory (the sandbox account only) holds `tpp#<id>` and `cert#<serial>` items
#: (:mod:`openbanking.sandbox.directory`).
TABLES: dict[str, TableSpec] = {
    "consents": TableSpec("consents", "ConsentId", indexes=(IndexSpec("TppId-index", "TppId", "CreationDateTime"),),
                          ttl_attribute="PurgeAt", stream=True),
    "payments": TableSpec("payments", "PaymentId", indexes=(IndexSpec("ConsentId-index", "ConsentId"),), stream=True),
    "idempotency": TableSpec("idempotency", "IdempotencyKey", ttl_attribute="ExpiresAt"),
    "event_subscriptions": TableSpec("event-subscriptions", "EventSubscriptionId",
                                     indexes=(IndexSpec("TppId-index", "TppId"),)),
    "events": TableSpec("events", "TppId", "Jti", ttl_attribute="ExpiresAt"),
    "outbox_receipts": TableSpec("outbox-receipts", "IdempotencyKey", ttl_attribute="ExpiresAt"),
    # the developer sandbox only: its CA's registered TPPs, issued certificates and TPP signing keys
    "sandbox_directory": TableSpec("sandbox-directory", "Key"),
}
