"""The outbox: consent and payment status changes, as their tables' streams record them, become OBIE events.

A service's write is the only thing that must succeed: the `consents` and `payments` tables have DynamoDB streams
(NEW_AND_OLD_IMAGES); the `outbox_relay` Lambda reads them and puts one EventBridge entry per status change that
a TPP is told about; the `event_router` Lambda (a rule on that bus, in the account of the events service) does what
`EventPublisher.publish` does, once per entry. No change is lost when a direct publish would have failed, and a
replayed record or entry adds nothing: the entry's id is derived from the stream record and is the event's `jti`.

The changes that are events (the ones the services raised directly before the outbox):

- a domestic payment whose `Status` changed -> `resource-update` about the payment;
- a domestic-payment consent that left `AwaitingAuthorisation` for `Authorised` or `Rejected` (the PSU's decision,
  or the expiry job rejecting a stale intent) -> `resource-update` about the consent;
- an `Authorised` account-access consent the PSU revoked at the bank (`Revoked`) -> `consent-authorization-revoked`
  (a TPP deleting its own consent is told nothing: it knows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..common.links import account_access_consent_link, payment_consent_link, payment_link
from ..common.tables import TABLES
from .models import SUPPORTED_EVENT_TYPES, EventType, ResourceUpdate
from .store import uuid7_from

_Text = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class OutboxDetail(BaseModel):
    """The `detail` of an outbox entry on the event bus (what the router accepts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    OutboxId: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                                       r"[0-9a-f]{12}$")]
    TppId: _Text
    EventType: _Text
    ResourceId: _Text
    ResourceType: _Text
    ResourceLink: _Text
    OccurredAt: int = Field(ge=0)
    Txn: _Text


@dataclass(frozen=True)
class OutboxEvent:
    """One status change a TPP is told about."""

    #: Derived from the stream record (a UUIDv7 of the change's time): the event's `jti`, the entry's identity.
    outbox_id: str
    tpp_id: str
    #: An `EventType` value (the OBIE URN).
    event_type: str
    subject: ResourceUpdate
    #: When the change was written (epoch seconds): the event's `toe`.
    occurred_at: int
    #: The interaction that made the change (`x-fapi-interaction-id`), else the outbox id: the event's `txn`.
    txn: str

    @property
    def detail_type(self) -> str:
        """`resource-update` or `consent-authorization-revoked` (the entry's `detail-type`)."""
        return self.event_type.rsplit(":", 1)[-1]

    def detail(self) -> dict[str, Any]:
        return OutboxDetail(OutboxId=self.outbox_id, TppId=self.tpp_id, EventType=self.event_type,
                            ResourceId=self.subject.resource_id, ResourceType=self.subject.resource_type,
                            ResourceLink=self.subject.links[0].link, OccurredAt=self.occurred_at,
                            Txn=self.txn).model_dump()

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> OutboxEvent:
        """The event of an entry's detail; raises `pydantic.ValidationError` for anything else."""
        entry = OutboxDetail.model_validate(detail)
        if entry.EventType not in SUPPORTED_EVENT_TYPES:
            raise ValueError(f"EventType: {entry.EventType!r} is not an event this ASPSP raises")
        return cls(entry.OutboxId, entry.TppId, entry.EventType,
                   ResourceUpdate.of(entry.ResourceId, entry.ResourceType, entry.ResourceLink), entry.OccurredAt,
                   entry.Txn)


def outbox_id(source_arn: str, sequence_number: str, event_id: str, occurred_at: int) -> str:
    """The id of the change a stream record holds: the same for every delivery of that record."""
    seed = hashlib.sha256(f"{source_arn}|{sequence_number}|{event_id}".encode()).digest()
    return uuid7_from(occurred_at * 1000, seed)


def table_of(keys: Mapping[str, Any]) -> str | None:
    """Which stream-carrying table a record's keys belong to (by its partition key, from `TABLES`)."""
    for logical, spec in TABLES.items():
        if spec.stream and set(keys) == {spec.partition_key, *([spec.sort_key] if spec.sort_key else [])}:
            return logical
    return None


def change_event(table: str, old: Mapping[str, Any], new: Mapping[str, Any], *, base_url: str, outbox_id: str,
                 occurred_at: int) -> OutboxEvent | None:
    """The event a change of an item of `table` (its images before and after) raises, or None."""
    if not old or not new:
        return None  # an insert (a new resource) or a removal (TTL purge) is no status change
    interaction = new.get("InteractionId")
    txn = str(interaction) if interaction and interaction != old.get("InteractionId") else outbox_id
    tpp_id = str(new.get("TppId", ""))
    if not tpp_id:
        return None

    def event(event_type: EventType, subject: ResourceUpdate) -> OutboxEvent:
        return OutboxEvent(outbox_id, tpp_id, event_type.value, subject, occurred_at, txn)

    if table == "payments" and old.get("Status") != new.get("Status"):
        payment_id = str(new["PaymentId"])
        return event(EventType.RESOURCE_UPDATE,
                     ResourceUpdate.of(payment_id, "domestic-payment", payment_link(base_url, payment_id)))
    if table != "consents":
        return None
    consent_id = str(new["ConsentId"])
    if (new.get("ConsentType") == "domestic-payment" and old.get("Status") == "AwaitingAuthorisation"
            and new.get("Status") in ("Authorised", "Rejected")):
        return event(EventType.RESOURCE_UPDATE, ResourceUpdate.of(
            consent_id, "domestic-payment-consent", payment_consent_link(base_url, consent_id)))
    if (new.get("ConsentType") == "account-access" and old.get("Status") == "Authorised"
            and new.get("Status") == "Revoked"):
        return event(EventType.CONSENT_AUTHORIZATION_REVOKED, ResourceUpdate.of(
            consent_id, "account-access-consent", account_access_consent_link(base_url, consent_id)))
    return None
