"""Domestic payments: submission against an authorised consent, reads, status details, status changes and
the resource-update events they raise."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
from fastapi.testclient import TestClient

from openbanking.common.dynamo import table_name
from openbanking.common.jws import DetachedJwsSigner, StaticKeyResolver
from openbanking.common.settings import ServiceSettings
from openbanking.events.publisher import EventPublisher
from openbanking.events.store import EventStore, Subscription, SubscriptionStore
from openbanking.pis.app import build_app
from openbanking.pis.funds import LedgerFunds
from tests.services.pis.conftest import Debtor
from tests.services.pis.flows import authorised_consent, create_consent, set_status, submit
from tests.services.pis.support import (
    BASE_URL,
    INITIATION,
    PIS,
    Tpp,
    consent_request,
    payment_request,
    verify_detached,
)
from tests.services.pis.test_consents import error_code


def test_a_payment_consumes_its_authorised_consent(client: TestClient, tpp: Tpp, debtor: Debtor,
                                                  signer: DetachedJwsSigner) -> None:
    consent_id = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id)
    response = submit(client, tpp, consent_id)
    assert response.status_code == 201, response.text
    verify_detached(response.headers["x-jws-signature"], response.content, signer.key)
    data = response.json()["Data"]
    assert data["DomesticPaymentId"].startswith("pdp-") and data["ConsentId"] == consent_id
    assert data["Status"] == "Pending" and data["Initiation"] == INITIATION
    assert response.json()["Links"]["Self"] == f"{BASE_URL}{PIS}/domestic-payments/{data['DomesticPaymentId']}"
    consent = client.get(f"{PIS}/domestic-payment-consents/{consent_id}", headers=tpp.caller_headers()).json()
    assert consent["Data"]["Status"] == "Consumed"
    read = client.get(f"{PIS}/domestic-payments/{data['DomesticPaymentId']}", headers=tpp.caller_headers())
    assert read.status_code == 200 and read.json() == response.json()
    second = submit(client, tpp, consent_id)  # a new key: a second payment on the same consent
    assert second.status_code == 400 and error_code(second) == "UK.OBIE.Resource.InvalidConsentStatus"


def test_a_payment_the_account_cannot_cover_is_rejected_as_a_bank_would(client: TestClient, tpp: Tpp,
                                                                         debtor: Debtor) -> None:
    """The debtor holds 1000.00 GBP: a payment of 1000.01 is created (the consent is used up) but Rejected, and its
    status details say why; 1000.00 goes through."""
    too_much = dict(INITIATION, InstructedAmount={"Amount": "1000.01", "Currency": "GBP"})
    consent_id = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id, consent_request(too_much))
    response = submit(client, tpp, consent_id, payment_request(consent_id, too_much))
    assert response.status_code == 201, response.text
    payment = response.json()["Data"]
    assert payment["Status"] == "Rejected"
    details = client.get(f"{PIS}/domestic-payments/{payment['DomesticPaymentId']}/payment-details",
                         headers=tpp.caller_headers()).json()["Data"]["PaymentStatus"]
    assert [d["Status"] for d in details] == ["Pending", "Rejected"]
    assert details[-1]["StatusDetail"]["StatusReason"] == "ProprietaryRejection"
    assert "does not cover" in details[-1]["StatusDetail"]["StatusReasonDescription"]
    consent = client.get(f"{PIS}/domestic-payment-consents/{consent_id}", headers=tpp.caller_headers()).json()
    assert consent["Data"]["Status"] == "Consumed"
    assert set_status(client, payment["DomesticPaymentId"], "AcceptedSettlementInProcess").status_code == 400
    exact = dict(INITIATION, InstructedAmount={"Amount": "1000.00", "Currency": "GBP"})
    covered = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id, consent_request(exact))
    assert submit(client, tpp, covered, payment_request(covered, exact)).json()["Data"]["Status"] == "Pending"


def test_payment_refusals(client: TestClient, tpp: Tpp, other_tpp: Tpp, debtor: Debtor) -> None:
    awaiting = create_consent(client, tpp)["Data"]["ConsentId"]
    response = submit(client, tpp, awaiting)
    assert response.status_code == 400 and error_code(response) == "UK.OBIE.Resource.InvalidConsentStatus"
    consent_id = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id)
    changed = payment_request(consent_id, dict(INITIATION, InstructedAmount={"Amount": "165.89", "Currency": "GBP"}))
    response = submit(client, tpp, consent_id, changed)
    assert response.status_code == 400 and error_code(response) == "UK.OBIE.Resource.ConsentMismatch"
    assert response.json()["Errors"][0]["Path"] == "Data.Initiation"
    extra_field = payment_request(consent_id, dict(INITIATION, DebtorAccount=debtor.account()))
    assert error_code(submit(client, tpp, consent_id, extra_field)) == "UK.OBIE.Resource.ConsentMismatch"
    other_risk = payment_request(consent_id)
    other_risk["Risk"]["PaymentContextCode"] = "PartyToParty"
    response = submit(client, tpp, consent_id, other_risk)
    assert error_code(response) == "UK.OBIE.Resource.ConsentMismatch" and response.json()["Errors"][0]["Path"] == "Risk"
    wrong_token = client.post(f"{PIS}/domestic-payments", **tpp.signed_post(payment_request(consent_id),
                                                                            consent_id=awaiting))
    assert wrong_token.status_code == 403 and error_code(wrong_token) == "UK.OBIE.Resource.ConsentMismatch"
    unknown = submit(client, tpp, "pdc-unknown")
    assert unknown.status_code == 400 and error_code(unknown) == "UK.OBIE.Resource.NotFound"
    theirs = submit(client, other_tpp, consent_id)
    assert theirs.status_code == 400 and error_code(theirs) == "UK.OBIE.Resource.NotFound"
    # none of the refusals touched the consent: it still makes its one payment
    assert submit(client, tpp, consent_id).status_code == 201


def test_payment_reads_are_limited_to_the_tpp(client: TestClient, tpp: Tpp, other_tpp: Tpp, debtor: Debtor) -> None:
    consent_id = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id)
    payment_id = submit(client, tpp, consent_id).json()["Data"]["DomesticPaymentId"]
    for path in (f"{PIS}/domestic-payments/{payment_id}", f"{PIS}/domestic-payments/{payment_id}/payment-details"):
        assert client.get(path, headers=tpp.caller_headers()).status_code == 200
        response = client.get(path, headers=other_tpp.caller_headers())
        assert response.status_code == 400 and error_code(response) == "UK.OBIE.Resource.NotFound"
        assert response.json()["Errors"][0]["Path"] == "DomesticPaymentId"
    assert client.get(f"{PIS}/domestic-payments/pdp-none", headers=tpp.caller_headers()).status_code == 400
    assert client.get(f"{PIS}/domestic-payments/{payment_id}", headers=tpp.caller_headers("accounts")).status_code == 403


def test_status_changes_follow_the_table_and_show_in_payment_details(client: TestClient, tpp: Tpp,
                                                                     debtor: Debtor) -> None:
    consent_id = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id)
    payment_id = submit(client, tpp, consent_id).json()["Data"]["DomesticPaymentId"]
    assert set_status(client, payment_id, "AcceptedSettlementCompleted").status_code == 400  # skips a step
    for status in ("AcceptedSettlementInProcess", "AcceptedSettlementCompleted"):
        assert set_status(client, payment_id, status).status_code == 204
    assert set_status(client, payment_id, "Pending").status_code == 400
    assert set_status(client, "pdp-none", "Rejected").status_code == 400
    payment = client.get(f"{PIS}/domestic-payments/{payment_id}", headers=tpp.caller_headers()).json()
    assert payment["Data"]["Status"] == "AcceptedSettlementCompleted"
    details = client.get(f"{PIS}/domestic-payments/{payment_id}/payment-details", headers=tpp.caller_headers()).json()
    steps = details["Data"]["PaymentStatus"]
    assert [s["Status"] for s in steps] == ["Pending", "AcceptedSettlementInProcess", "AcceptedSettlementCompleted"]
    assert all(s["PaymentTransactionId"] == payment_id and s["StatusDetail"] == {
        "Status": s["Status"], "LocalInstrument": "UK.OBIE.FPS"} for s in steps)
    assert details["Links"]["Self"].endswith(f"/domestic-payments/{payment_id}/payment-details")
    no_scope = client.post(f"/internal/pisp/domestic-payments/{payment_id}/status", json={"Status": "Rejected"},
                           headers=tpp.caller_headers())
    assert no_scope.status_code == 403


def test_consent_and_payment_changes_raise_resource_update_events(settings: ServiceSettings, dynamodb: Any,
                                                                  key_resolver: StaticKeyResolver,
                                                                  signer: DetachedJwsSigner, ledger: Any, tpp: Tpp,
                                                                  other_tpp: Tpp, debtor: Debtor) -> None:
    subscriptions = SubscriptionStore(dynamodb, table_name(settings, "event_subscriptions"))
    events = EventStore(dynamodb, table_name(settings, "events"))
    sqs = boto3.client("sqs", region_name=settings.aws_region)
    queue_url = sqs.create_queue(QueueName=f"{settings.table_prefix}events")["QueueUrl"]
    publisher = EventPublisher(subscriptions, events, issuer=BASE_URL, sqs=sqs, queue_url=queue_url)
    subscriptions.create(Subscription("esub-1", tpp.tpp_id, "3.1", "https://tpp.example/cb",
                                      ("urn:uk:org:openbanking:events:resource-update",)))
    client = TestClient(build_app(settings, dynamodb=dynamodb, key_resolver=key_resolver, signer=signer,
                                  funds=LedgerFunds(ledger), publisher=publisher))
    consent_id = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id)
    payment_id = submit(client, tpp, consent_id).json()["Data"]["DomesticPaymentId"]
    assert set_status(client, payment_id, "AcceptedSettlementInProcess").status_code == 204
    stored, more = events.pending(tpp.tpp_id, 10)
    assert not more
    subjects = [next(iter(e.claims["events"].values()))["subject"] for e in stored]
    assert [(s["http://openbanking.org.uk/rid"], s["http://openbanking.org.uk/rty"]) for s in subjects] == [
        (consent_id, "domestic-payment-consent"), (payment_id, "domestic-payment")]
    payment_event = stored[1].claims
    assert payment_event["aud"] == tpp.tpp_id and payment_event["iss"] == BASE_URL
    assert payment_event["sub"] == f"{BASE_URL}{PIS}/domestic-payments/{payment_id}"
    assert subjects[1]["http://openbanking.org.uk/rlk"] == [{"version": "v3.1", "link": payment_event["sub"]}]
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    pushed = [json.loads(m["Body"]) for m in messages]
    assert {p["Claims"]["jti"] for p in pushed} == {e.jti for e in stored}
    assert all(p["CallbackUrl"] == "https://tpp.example/cb" and p["TppId"] == tpp.tpp_id for p in pushed)
    # a TPP without a subscription gets nothing
    other_consent = create_consent(client, other_tpp)["Data"]["ConsentId"]
    assert other_consent and events.pending(other_tpp.tpp_id, 10) == ([], False)


def test_replayed_payment_returns_the_current_state_with_201(client: TestClient, tpp: Tpp, debtor: Debtor) -> None:
    consent_id = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id)
    document = payment_request(consent_id)
    first = submit(client, tpp, consent_id, copy.deepcopy(document), key="pay-key-1")
    payment_id = first.json()["Data"]["DomesticPaymentId"]
    assert set_status(client, payment_id, "AcceptedSettlementInProcess").status_code == 204
    replay = submit(client, tpp, consent_id, copy.deepcopy(document), key="pay-key-1")
    assert replay.status_code == 201
    assert replay.json()["Data"]["DomesticPaymentId"] == payment_id
    assert replay.json()["Data"]["Status"] == "AcceptedSettlementInProcess"
