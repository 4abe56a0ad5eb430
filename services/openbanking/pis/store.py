"""Domestic-payment consents and payments in DynamoDB.

Status changes are conditional writes on the status the transition table was checked against, so two
concurrent changes cannot both succeed. A payment is created in one transaction with its consent's
Authorised -> Consumed change: one payment per consent, whatever the timing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ..common.dynamo_items import cancellation_reasons, expression_values, from_item, is_condition_failure, to_item
from .models import ConsentStatus, PaymentStatus
from .states import CONSENT_MACHINE, PAYMENT_MACHINE, InvalidTransition

CONSENT_TYPE = "domestic-payment"


def iso(moment: datetime) -> str:
    """OBIE date-times carry their offset: 2017-04-05T10:43:07+00:00."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def new_consent_id() -> str:
    return f"pdc-{uuid.uuid4()}"


def new_payment_id() -> str:
    return f"pdp-{uuid.uuid4()}"


@dataclass
class Consent:
    consent_id: str
    tpp_id: str
    status: ConsentStatus
    creation: str
    status_update: str
    data: dict[str, Any]  # the request's Data, as sent (optional fields omitted)
    risk: dict[str, Any]
    psu_id: str | None = None
    account_id: str | None = None
    payment_id: str | None = None

    @property
    def initiation(self) -> dict[str, Any]:
        return self.data["Initiation"]


@dataclass
class Payment:
    payment_id: str
    consent_id: str
    tpp_id: str
    status: PaymentStatus
    creation: str
    status_update: str
    initiation: dict[str, Any]
    history: list[dict[str, str]] = field(default_factory=list)  # [{"Status": ..., "StatusUpdateDateTime": ...}]


class ConsentStateConflict(Exception):
    """The consent is not (or no longer) in the status the operation needs."""

    def __init__(self, consent: Consent | None) -> None:
        super().__init__("consent status changed")
        self.consent = consent


class PaymentStore:
    def __init__(self, client: Any, consents_table: str, payments_table: str,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client = client
        self.consents_table = consents_table
        self.payments_table = payments_table
        self.now = now

    # consents -----------------------------------------------------------------------------------------------

    def create_consent(self, consent_id: str, tpp_id: str, client_id: str, data: dict[str, Any],
                       risk: dict[str, Any]) -> Consent:
        """The new consent, AwaitingAuthorisation, as stored (the caller needs no read-back)."""
        stamp = iso(self.now())
        self.client.put_item(
            TableName=self.consents_table,
            Item=to_item({"ConsentId": consent_id, "ConsentType": CONSENT_TYPE, "TppId": tpp_id, "ClientId": client_id,
                          "Status": CONSENT_MACHINE.initial.value, "CreationDateTime": stamp,
                          "StatusUpdateDateTime": stamp, "Document": json.dumps({"Data": data, "Risk": risk})}),
            ConditionExpression="attribute_not_exists(ConsentId)")
        return Consent(consent_id=consent_id, tpp_id=tpp_id, status=CONSENT_MACHINE.initial, creation=stamp,
                       status_update=stamp, data=data, risk=risk)

    def get_consent(self, consent_id: str) -> Consent | None:
        item = self.client.get_item(TableName=self.consents_table, Key=to_item({"ConsentId": consent_id}),
                                    ConsistentRead=True).get("Item")
        if not item:
            return None
        values = from_item(item)
        if values.get("ConsentType") != CONSENT_TYPE:
            return None
        document = json.loads(values["Document"])
        return Consent(consent_id=values["ConsentId"], tpp_id=values["TppId"], status=ConsentStatus(values["Status"]),
                       creation=values["CreationDateTime"], status_update=values["StatusUpdateDateTime"],
                       data=document["Data"], risk=document["Risk"], psu_id=values.get("PsuId"),
                       account_id=values.get("AccountId"), payment_id=values.get("PaymentId"))

    def decide_consent(self, consent: Consent, target: ConsentStatus, psu_id: str, account_id: str | None,
                       interaction_id: str | None = None) -> Consent:
        """The PSU's verdict: AwaitingAuthorisation -> Authorised | Rejected (raises on any other transition).
        `interaction_id` is kept on the item (`InteractionId`) as the `txn` of the event the outbox raises."""
        if target not in (ConsentStatus.AUTHORISED, ConsentStatus.REJECTED):
            raise InvalidTransition(CONSENT_MACHINE.name, consent.status, target)  # Consumed comes with a payment
        CONSENT_MACHINE.check(consent.status, target)
        stamp = iso(self.now())
        attributes = {"status": target.value, "stamp": stamp, "psu": psu_id, "current": consent.status.value}
        update = "SET #status = :status, StatusUpdateDateTime = :stamp, PsuId = :psu"
        if account_id is not None:
            update += ", AccountId = :account"
            attributes["account"] = account_id
        if interaction_id is not None:
            update += ", InteractionId = :txn"
            attributes["txn"] = interaction_id
        try:
            self.client.update_item(
                TableName=self.consents_table, Key=to_item({"ConsentId": consent.consent_id}),
                UpdateExpression=update, ConditionExpression="#status = :current",
                ExpressionAttributeNames={"#status": "Status"},
                ExpressionAttributeValues=expression_values(**attributes))
        except ClientError as exc:
            if is_condition_failure(exc):
                raise ConsentStateConflict(self.get_consent(consent.consent_id)) from None
            raise
        return Consent(**{**consent.__dict__, "status": target, "status_update": stamp, "psu_id": psu_id,
                          "account_id": account_id if account_id is not None else consent.account_id})

    # payments -----------------------------------------------------------------------------------------------

    def create_payment(self, payment_id: str, consent: Consent, rejection: str | None = None) -> Payment:
        """The payment and the consent's Authorised -> Consumed, atomically (one payment per consent); returns the
        payment as stored (the caller needs no read-back). With a `rejection` (why the bank refuses to execute it,
        e.g. insufficient funds) the payment goes Pending -> Rejected at once, the reason in its status history."""
        CONSENT_MACHINE.check(consent.status, ConsentStatus.CONSUMED)
        stamp = iso(self.now())
        history = [{"Status": PAYMENT_MACHINE.initial.value, "StatusUpdateDateTime": stamp}]
        status = PAYMENT_MACHINE.initial
        if rejection is not None:
            PAYMENT_MACHINE.check(status, PaymentStatus.REJECTED)
            status = PaymentStatus.REJECTED
            history.append({"Status": status.value, "StatusUpdateDateTime": stamp,
                            "StatusReason": "ProprietaryRejection", "StatusReasonDescription": rejection[:256]})
        initial = status.value
        try:
            self.client.transact_write_items(TransactItems=[
                {"Put": {
                    "TableName": self.payments_table,
                    "Item": to_item({"PaymentId": payment_id, "ConsentId": consent.consent_id, "TppId": consent.tpp_id,
                                     "Status": initial, "CreationDateTime": stamp, "StatusUpdateDateTime": stamp,
                                     "Document": json.dumps({"Initiation": consent.initiation}),
                                     "StatusHistory": json.dumps(history)}),
                    "ConditionExpression": "attribute_not_exists(PaymentId)"}},
                {"Update": {
                    "TableName": self.consents_table, "Key": to_item({"ConsentId": consent.consent_id}),
                    "UpdateExpression": "SET #status = :consumed, StatusUpdateDateTime = :stamp, PaymentId = :payment",
                    "ConditionExpression": "#status = :authorised AND TppId = :tpp",
                    "ExpressionAttributeNames": {"#status": "Status"},
                    "ExpressionAttributeValues": expression_values(
                        consumed=ConsentStatus.CONSUMED.value, stamp=stamp, payment=payment_id,
                        authorised=ConsentStatus.AUTHORISED.value, tpp=consent.tpp_id)}},
            ])
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if len(reasons) == 2 and reasons[1] == "ConditionalCheckFailed":
                raise ConsentStateConflict(self.get_consent(consent.consent_id)) from None
            raise
        return Payment(payment_id=payment_id, consent_id=consent.consent_id, tpp_id=consent.tpp_id,
                       status=status, creation=stamp, status_update=stamp, initiation=consent.initiation,
                       history=history)

    def get_payment(self, payment_id: str) -> Payment | None:
        item = self.client.get_item(TableName=self.payments_table, Key=to_item({"PaymentId": payment_id}),
                                    ConsistentRead=True).get("Item")
        if not item:
            return None
        values = from_item(item)
        return Payment(payment_id=values["PaymentId"], consent_id=values["ConsentId"], tpp_id=values["TppId"],
                       status=PaymentStatus(values["Status"]), creation=values["CreationDateTime"],
                       status_update=values["StatusUpdateDateTime"],
                       initiation=json.loads(values["Document"])["Initiation"],
                       history=json.loads(values.get("StatusHistory", "[]")))

    def change_payment_status(self, payment: Payment, target: PaymentStatus, interaction_id: str | None = None) -> Payment:
        """One step of the payment life cycle (checked against the table, conditional on the current status);
        `interaction_id` is kept on the item (`InteractionId`) as the `txn` of the event the outbox raises."""
        PAYMENT_MACHINE.check(payment.status, target)
        stamp = iso(self.now())
        history = [*payment.history, {"Status": target.value, "StatusUpdateDateTime": stamp}]
        update = "SET #status = :status, StatusUpdateDateTime = :stamp, StatusHistory = :history"
        values: dict[str, Any] = {"status": target.value, "stamp": stamp, "history": json.dumps(history),
                                  "current": payment.status.value}
        if interaction_id is not None:
            update += ", InteractionId = :txn"
            values["txn"] = interaction_id
        try:
            self.client.update_item(
                TableName=self.payments_table, Key=to_item({"PaymentId": payment.payment_id}),
                UpdateExpression=update, ConditionExpression="#status = :current",
                ExpressionAttributeNames={"#status": "Status"}, ExpressionAttributeValues=expression_values(**values))
        except ClientError as exc:
            if is_condition_failure(exc):
                raise PaymentStatusConflict(payment.payment_id) from None
            raise
        return Payment(**{**payment.__dict__, "status": target, "status_update": stamp, "history": history})


class PaymentStatusConflict(Exception):
    """Another writer changed the payment's status first."""
