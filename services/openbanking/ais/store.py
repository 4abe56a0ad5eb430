"""Account-access consents in DynamoDB (the shared `consents` table, `ConsentType` = `account-access`).

Status changes are conditional writes on the status the change was decided on, so two concurrent
decisions cannot both succeed. A deleted consent is kept (marked `DeletedAt`, purged by the table's TTL
after `RETENTION`) so the decision trail survives, but it no longer exists for the API.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from openbanking.common.dynamo_items import expression_values, from_item, is_condition_failure, to_item

CONSENT_TYPE = "account-access"
#: How long a deleted consent's record stays for audit before DynamoDB's TTL removes it.
RETENTION = timedelta(days=90)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def new_consent_id() -> str:
    return f"aac-{uuid.uuid4()}"


@dataclass(frozen=True)
class AccessConsent:
    consent_id: str
    tpp_id: str
    client_id: str
    status: str
    creation: str
    status_update: str
    permissions: tuple[str, ...]
    expiration: str | None = None
    transaction_from: str | None = None
    transaction_to: str | None = None
    psu_id: str | None = None
    account_ids: tuple[str, ...] = ()
    deleted: bool = False

    def expired(self, now: datetime) -> bool:
        return self.expiration is not None and datetime.fromisoformat(self.expiration) <= now

    def data(self) -> dict[str, Any]:
        """`OBReadConsentResponse1.Data`."""
        out: dict[str, Any] = {"ConsentId": self.consent_id, "CreationDateTime": self.creation, "Status": self.status,
                               "StatusUpdateDateTime": self.status_update, "Permissions": list(self.permissions)}
        for name, value in (("ExpirationDateTime", self.expiration), ("TransactionFromDateTime", self.transaction_from),
                            ("TransactionToDateTime", self.transaction_to)):
            if value is not None:
                out[name] = value
        return out


class ConsentConflict(Exception):
    """The consent is not (or no longer) in the status the operation needs."""

    def __init__(self, consent: AccessConsent | None) -> None:
        super().__init__("consent status changed")
        self.consent = consent


class ConsentStore:
    def __init__(self, client: Any, table: str, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client = client
        self.table = table
        self.now = now

    def create(self, tpp_id: str, client_id: str, permissions: list[str], expiration: str | None,
               transaction_from: str | None, transaction_to: str | None) -> AccessConsent:
        stamp = iso(self.now())
        consent = AccessConsent(new_consent_id(), tpp_id, client_id, "AwaitingAuthorisation", stamp, stamp,
                                tuple(permissions), expiration, transaction_from, transaction_to)
        document = {"Permissions": list(permissions), "ExpirationDateTime": expiration,
                    "TransactionFromDateTime": transaction_from, "TransactionToDateTime": transaction_to}
        self.client.put_item(
            TableName=self.table,
            Item=to_item({"ConsentId": consent.consent_id, "ConsentType": CONSENT_TYPE, "TppId": tpp_id,
                          "ClientId": client_id, "Status": consent.status, "CreationDateTime": stamp,
                          "StatusUpdateDateTime": stamp,
                          "Document": json.dumps({k: v for k, v in document.items() if v is not None})}),
            ConditionExpression="attribute_not_exists(ConsentId)")
        return consent

    def get(self, consent_id: str) -> AccessConsent | None:
        """The consent, deleted ones included (`deleted` says so); None if absent or of another type."""
        item = self.client.get_item(TableName=self.table, Key=to_item({"ConsentId": consent_id}),
                                    ConsistentRead=True).get("Item")
        if not item:
            return None
        values = from_item(item)
        if values.get("ConsentType") != CONSENT_TYPE:
            return None
        document = json.loads(values["Document"])
        return AccessConsent(
            consent_id=values["ConsentId"], tpp_id=values["TppId"], client_id=values.get("ClientId", ""),
            status=values["Status"], creation=values["CreationDateTime"], status_update=values["StatusUpdateDateTime"],
            permissions=tuple(document["Permissions"]), expiration=document.get("ExpirationDateTime"),
            transaction_from=document.get("TransactionFromDateTime"),
            transaction_to=document.get("TransactionToDateTime"), psu_id=values.get("PsuId"),
            account_ids=tuple(values.get("AccountIds", [])), deleted="DeletedAt" in values)

    def _update(self, consent: AccessConsent, update: str, condition: str, values: dict[str, Any],
                interaction_id: str | None = None) -> None:
        """One conditional change of the consent's item; `interaction_id` is kept on it (`InteractionId`) as the
        `txn` of the event the change raises. Raises :class:`ConsentConflict` when the condition no longer holds."""
        if interaction_id is not None:
            update += ", InteractionId = :txn"
            values = {**values, "txn": interaction_id}
        try:
            self.client.update_item(
                TableName=self.table, Key=to_item({"ConsentId": consent.consent_id}), UpdateExpression=update,
                ConditionExpression=condition, ExpressionAttributeValues=expression_values(**values),
                **({"ExpressionAttributeNames": {"#status": "Status"}} if "#status" in update + condition else {}))
        except ClientError as exc:
            if is_condition_failure(exc):
                raise ConsentConflict(self.get(consent.consent_id)) from None
            raise

    def decide(self, consent: AccessConsent, status: str, psu_id: str, account_ids: list[str]) -> AccessConsent:
        """AwaitingAuthorisation -> Authorised | Rejected, only if nobody decided or deleted it meanwhile."""
        stamp = iso(self.now())
        values: dict[str, Any] = {"status": status, "stamp": stamp, "psu": psu_id, "awaiting": "AwaitingAuthorisation"}
        update = "SET #status = :status, StatusUpdateDateTime = :stamp, PsuId = :psu"
        if account_ids:
            update += ", AccountIds = :accounts"
            values["accounts"] = account_ids
        self._update(consent, update, "#status = :awaiting AND attribute_not_exists(DeletedAt)", values)
        return replace(consent, status=status, status_update=stamp, psu_id=psu_id, account_ids=tuple(account_ids))

    def revoke(self, consent: AccessConsent, interaction_id: str | None = None) -> AccessConsent:
        """Authorised -> Revoked (the PSU's revocation at the bank), only if it is still Authorised and not deleted;
        the record is purged by TTL after `RETENTION`."""
        now = self.now()
        stamp = iso(now)
        self._update(consent, "SET #status = :revoked, StatusUpdateDateTime = :stamp, PurgeAt = :purge",
                     "#status = :authorised AND attribute_not_exists(DeletedAt)",
                     {"revoked": "Revoked", "stamp": stamp, "authorised": "Authorised",
                      "purge": int((now + RETENTION).timestamp())}, interaction_id)
        return replace(consent, status="Revoked", status_update=stamp)

    def delete(self, consent: AccessConsent, interaction_id: str | None = None) -> None:
        """Mark deleted (once); the record is purged by TTL after `RETENTION`."""
        now = self.now()
        self._update(consent, "SET DeletedAt = :stamp, PurgeAt = :purge",
                     "attribute_exists(ConsentId) AND attribute_not_exists(DeletedAt)",
                     {"stamp": iso(now), "purge": int((now + RETENTION).timestamp())}, interaction_id)
