"""Which stream changes are OBIE events (the ones the services raised directly), and the entry format the router
accepts."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from openbanking.events.models import EventType
from openbanking.events.outbox import OutboxEvent, change_event, outbox_id, table_of

BASE = "https://api.bank.example"
ID = outbox_id("arn:aws:dynamodb:eu-west-2:1:table/t/stream/s", "100", "e-1", 1_750_000_000)


def event(table: str, old: dict[str, Any], new: dict[str, Any]) -> OutboxEvent | None:
    return change_event(table, old, new, base_url=BASE, outbox_id=ID, occurred_at=1_750_000_000)


AAC = {"ConsentId": "aac-1", "ConsentType": "account-access", "TppId": "tpp-1", "Status": "Authorised"}
PDC = {"ConsentId": "pdc-1", "ConsentType": "domestic-payment", "TppId": "tpp-1", "Status": "AwaitingAuthorisation"}
PDP = {"PaymentId": "pdp-1", "ConsentId": "pdc-1", "TppId": "tpp-1", "Status": "Pending"}


def test_a_revoked_authorised_account_access_consent_is_a_revocation_event() -> None:
    found = event("consents", AAC, {**AAC, "Status": "Revoked", "InteractionId": "ia-1"})
    assert found is not None and found.event_type == EventType.CONSENT_AUTHORIZATION_REVOKED.value
    assert found.subject.resource_type == "account-access-consent" and found.txn == "ia-1"
    assert found.subject.links[0].link == f"{BASE}/open-banking/v3.1/aisp/account-access-consents/aac-1"
    assert found.detail_type == "consent-authorization-revoked"


def test_payment_and_payment_consent_status_changes_are_resource_updates() -> None:
    paid = event("payments", PDP, {**PDP, "Status": "AcceptedSettlementInProcess"})
    assert paid is not None and paid.subject.links[0].link == f"{BASE}/open-banking/v3.1/pisp/domestic-payments/pdp-1"
    assert paid.txn == ID, "no interaction id on the change: the outbox id ties the event to it"
    for decision in ("Authorised", "Rejected"):
        decided = event("consents", PDC, {**PDC, "Status": decision})
        assert decided is not None and decided.subject.resource_type == "domestic-payment-consent"


@pytest.mark.parametrize(("table", "old", "new"), [
    ("payments", {}, PDP),                                                              # a new payment
    ("payments", PDP, {**PDP, "StatusHistory": "[]"}),                                  # no status change
    ("consents", {**PDC, "Status": "Authorised"}, {**PDC, "Status": "Consumed"}),       # consumed by its payment
    ("consents", {**AAC, "Status": "AwaitingAuthorisation"}, AAC),                      # AIS authorisation
    ("consents", {**AAC, "Status": "AwaitingAuthorisation"},
     {**AAC, "Status": "AwaitingAuthorisation", "DeletedAt": "x"}),                     # an undecided one deleted
    ("consents", {**AAC, "DeletedAt": "x"}, {**AAC, "DeletedAt": "x", "PurgeAt": 1}),   # already deleted
    ("consents", AAC, {**AAC, "DeletedAt": "x", "InteractionId": "ia-2"}),              # the TPP deleted its own
    ("consents", AAC, {}),                                                              # TTL purge
    ("consents", AAC, {**AAC, "PurgeAt": 1}),                                           # expired, scheduled
])
def test_other_changes_raise_nothing(table: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    assert event(table, old, new) is None


def test_the_id_is_a_deterministic_time_ordered_uuid() -> None:
    assert outbox_id("arn:aws:dynamodb:eu-west-2:1:table/t/stream/s", "100", "e-1", 1_750_000_000) == ID
    later = outbox_id("arn:aws:dynamodb:eu-west-2:1:table/t/stream/s", "101", "e-2", 1_750_000_001)
    assert later != ID and later > ID and ID[14] == "7"


def test_tables_are_recognised_by_their_keys() -> None:
    assert table_of({"ConsentId": "x"}) == "consents" and table_of({"PaymentId": "x"}) == "payments"
    assert table_of({"IdempotencyKey": "x"}) is None, "no stream there"


def test_entries_round_trip_and_anything_else_is_refused() -> None:
    found = event("payments", PDP, {**PDP, "Status": "Rejected"})
    assert found is not None and OutboxEvent.from_detail(found.detail()) == found
    with pytest.raises(ValidationError):
        OutboxEvent.from_detail({**found.detail(), "Extra": 1})
    with pytest.raises(ValidationError):
        OutboxEvent.from_detail({**found.detail(), "OutboxId": "not-a-uuid7"})
    with pytest.raises(ValueError, match="EventType"):
        OutboxEvent.from_detail({**found.detail(), "EventType": "urn:something:else"})
