"""Domestic-payment consents: create, read, authorise (internal), funds confirmation."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openbanking.common.jws import CRITICAL_CLAIMS, ISS_CLAIM, DetachedJwsSigner
from tests.services.pis.conftest import Debtor
from tests.services.pis.flows import authorised_consent, create_consent, decide, submit
from tests.services.pis.support import BASE_URL, FINANCIAL_ID, INITIATION, PIS, Tpp, consent_request, verify_detached


def _no_nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return all(v is not None and _no_nulls(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_nulls(v) for v in value)
    return True


def error_code(response: Any) -> str:
    return response.json()["Errors"][0]["ErrorCode"]


def test_create_consent_returns_a_signed_awaiting_authorisation_consent(client: TestClient, tpp: Tpp,
                                                                        signer: DetachedJwsSigner) -> None:
    interaction = str(uuid.uuid4())
    post = tpp.signed_post(consent_request())
    post["headers"]["x-fapi-interaction-id"] = interaction
    response = client.post(f"{PIS}/domestic-payment-consents", **post)
    assert response.status_code == 201, response.text
    body = response.json()
    data = body["Data"]
    assert data["ConsentId"].startswith("pdc-") and data["Status"] == "AwaitingAuthorisation"
    assert data["Initiation"] == INITIATION and body["Risk"] == consent_request()["Risk"]
    assert data["CreationDateTime"].endswith("+00:00") and data["StatusUpdateDateTime"] == data["CreationDateTime"]
    assert body["Links"]["Self"] == f"{BASE_URL}{PIS}/domestic-payment-consents/{data['ConsentId']}"
    assert body["Meta"] == {} and _no_nulls(body) and "Authorisation" not in data
    assert response.headers["x-fapi-interaction-id"] == interaction
    header = verify_detached(response.headers["x-jws-signature"], response.content, signer.key)
    assert header[ISS_CLAIM] == FINANCIAL_ID and sorted(header["crit"]) == sorted(CRITICAL_CLAIMS)


def test_get_consent_is_limited_to_its_tpp(client: TestClient, tpp: Tpp, other_tpp: Tpp, signer: DetachedJwsSigner) -> None:
    consent = create_consent(client, tpp)
    consent_id = consent["Data"]["ConsentId"]
    mine = client.get(f"{PIS}/domestic-payment-consents/{consent_id}", headers=tpp.caller_headers())
    assert mine.status_code == 200 and mine.json() == consent
    verify_detached(mine.headers["x-jws-signature"], mine.content, signer.key)
    for headers, cid in ((other_tpp.caller_headers(), consent_id), (tpp.caller_headers(), "pdc-unknown")):
        response = client.get(f"{PIS}/domestic-payment-consents/{cid}", headers=headers)
        assert response.status_code == 400 and error_code(response) == "UK.OBIE.Resource.NotFound"
        assert response.json()["Errors"][0]["Path"] == "ConsentId"
        verify_detached(response.headers["x-jws-signature"], response.content, signer.key)  # errors are signed too


def test_create_consent_rejects_invalid_bodies_with_the_field_path(client: TestClient, tpp: Tpp) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = []
    missing = consent_request()
    del missing["Data"]["Initiation"]["CreditorAccount"]
    cases.append((missing, "UK.OBIE.Field.Missing", "Data.Initiation.CreditorAccount"))
    extra = consent_request()
    extra["Data"]["Initiation"]["Surprise"] = "x"
    cases.append((extra, "UK.OBIE.Field.Unexpected", "Data.Initiation.Surprise"))
    amount = consent_request()
    amount["Data"]["Initiation"]["InstructedAmount"]["Amount"] = "-1.00"
    cases.append((amount, "UK.OBIE.Field.Invalid", "Data.Initiation.InstructedAmount.Amount"))
    long_id = consent_request()
    long_id["Data"]["Initiation"]["InstructionIdentification"] = "x" * 36
    cases.append((long_id, "UK.OBIE.Field.Invalid", "Data.Initiation.InstructionIdentification"))
    no_risk = consent_request()
    del no_risk["Risk"]
    cases.append((no_risk, "UK.OBIE.Field.Missing", "Risk"))
    for document, code, path in cases:
        response = client.post(f"{PIS}/domestic-payment-consents", **tpp.signed_post(document))
        assert response.status_code == 400, (path, response.text)
        assert {(e["ErrorCode"], e.get("Path")) for e in response.json()["Errors"]} >= {(code, path)}
    not_json = tpp.signed_post({})
    not_json["content"] = b"{not json"
    not_json["headers"]["x-jws-signature"] = tpp.sign(b"{not json")
    response = client.post(f"{PIS}/domestic-payment-consents", **not_json)
    assert response.status_code == 400 and error_code(response) == "UK.OBIE.Field.Invalid"


def test_create_consent_checks_credentials_media_type_and_signature(client: TestClient, tpp: Tpp) -> None:
    url = f"{PIS}/domestic-payment-consents"
    post = tpp.signed_post(consent_request(), scopes="accounts")
    response = client.post(url, **post)
    assert response.status_code == 403 and response.headers["x-fapi-interaction-id"]
    post = tpp.signed_post(consent_request())
    for name in ("x-ob-tpp-id", "x-ob-client-id"):
        post["headers"].pop(name)
    assert client.post(url, **post).status_code == 401
    post = tpp.signed_post(consent_request())
    post["headers"]["content-type"] = "text/plain"
    assert client.post(url, **post).status_code == 415
    post = tpp.signed_post(consent_request())
    post["headers"].pop("x-jws-signature")
    response = client.post(url, **post)
    assert response.status_code == 400 and error_code(response) == "UK.OBIE.Signature.Missing"
    post = tpp.signed_post(consent_request())
    post["headers"]["x-jws-signature"] = tpp.sign(post["content"], alg="RS256")
    response = client.post(url, **post)
    assert response.status_code == 400 and error_code(response) == "UK.OBIE.Signature.InvalidClaim"
    post = tpp.signed_post(consent_request())
    post["content"] = post["content"].replace(b"165.88", b"965.88")
    response = client.post(url, **post)
    assert response.status_code == 400 and error_code(response) == "UK.OBIE.Signature.Invalid"


def test_authorisation_moves_awaiting_to_authorised_or_rejected_once(client: TestClient, tpp: Tpp, debtor: Debtor) -> None:
    consent_id = create_consent(client, tpp)["Data"]["ConsentId"]
    assert decide(client, consent_id, debtor.psu_id, account_id=debtor.account_id).status_code == 204
    body = client.get(f"{PIS}/domestic-payment-consents/{consent_id}", headers=tpp.caller_headers()).json()
    assert body["Data"]["Status"] == "Authorised"
    for status in ("Authorised", "Rejected"):
        again = decide(client, consent_id, debtor.psu_id, status)
        assert again.status_code == 400 and error_code(again) == "UK.OBIE.Resource.InvalidConsentStatus"
    rejected = create_consent(client, tpp)["Data"]["ConsentId"]
    assert decide(client, rejected, debtor.psu_id, "Rejected").status_code == 204
    assert decide(client, rejected, debtor.psu_id, "Authorised").status_code == 400
    unknown = decide(client, "pdc-nope", debtor.psu_id)
    assert unknown.status_code == 400 and error_code(unknown) == "UK.OBIE.Resource.NotFound"
    bad = client.post(f"/internal/pisp/domestic-payment-consents/{consent_id}/authorisation",
                      json={"Status": "Consumed", "PsuId": "p"}, headers={**tpp.caller_headers(
                          "openbanking:consent-authorisation")})
    assert bad.status_code == 400 and error_code(bad) == "UK.OBIE.Field.Invalid"
    tpp_itself = client.post(f"/internal/pisp/domestic-payment-consents/{consent_id}/authorisation",
                             json={"Status": "Authorised", "PsuId": "p"}, headers=tpp.caller_headers())
    assert tpp_itself.status_code == 403, "only the IdP's scope may authorise"


def _funds(client: TestClient, tpp: Tpp, consent_id: str, token_consent: str | None = None) -> Any:
    return client.get(f"{PIS}/domestic-payment-consents/{consent_id}/funds-confirmation",
                      headers=tpp.caller_headers(consent_id=token_consent or consent_id))


def test_funds_confirmation_compares_the_ledger_available_balance(client: TestClient, tpp: Tpp, debtor: Debtor,
                                                                   signer: DetachedJwsSigner) -> None:
    enough = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id)
    response = _funds(client, tpp, enough)
    assert response.status_code == 200, response.text
    result = response.json()["Data"]["FundsAvailableResult"]
    assert result["FundsAvailable"] is True and result["FundsAvailableDateTime"].endswith("+00:00")
    assert response.json()["Links"]["Self"].endswith(f"/domestic-payment-consents/{enough}/funds-confirmation")
    verify_detached(response.headers["x-jws-signature"], response.content, signer.key)
    exact = dict(INITIATION, InstructedAmount={"Amount": "1000.00", "Currency": "GBP"})
    too_much = dict(INITIATION, InstructedAmount={"Amount": "1000.01", "Currency": "GBP"})
    for initiation, expected in ((exact, True), (too_much, False)):  # (a non-GBP payment is refused at consent)
        consent_id = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id, consent_request(initiation))
        assert _funds(client, tpp, consent_id).json()["Data"]["FundsAvailableResult"]["FundsAvailable"] is expected
    # the debtor named in the consent, found among the PSU's accounts
    named = authorised_consent(client, tpp, debtor.psu_id,
                               document=consent_request(dict(INITIATION, DebtorAccount=debtor.account())))
    assert _funds(client, tpp, named).json()["Data"]["FundsAvailableResult"]["FundsAvailable"] is True


def test_funds_confirmation_refusals(client: TestClient, tpp: Tpp, other_tpp: Tpp, debtor: Debtor) -> None:
    awaiting = create_consent(client, tpp)["Data"]["ConsentId"]
    response = _funds(client, tpp, awaiting)
    assert response.status_code == 400 and error_code(response) == "UK.OBIE.Resource.InvalidConsentStatus"
    authorised = authorised_consent(client, tpp, debtor.psu_id, debtor.account_id)
    assert _funds(client, tpp, authorised, token_consent=awaiting).status_code == 403
    assert _funds(client, other_tpp, authorised).status_code == 400


def test_authorisation_accepts_only_an_account_of_the_authorising_psu(client: TestClient, tpp: Tpp, debtor: Debtor,
                                                                      other_debtor: Debtor) -> None:
    """The IdP reports the account the PSU chose; PIS checks it is theirs before the consent becomes Authorised, so
    no payment can ever be made from another customer's account or from one that does not exist."""
    cases = [
        ("an account of another PSU", debtor.psu_id, other_debtor.account_id, None, "UK.OBIE.Field.Invalid",
         "AccountId"),
        ("an account that does not exist", debtor.psu_id, "acc-9999-99", None, "UK.OBIE.Field.Invalid", "AccountId"),
        ("a PSU that does not exist", "psu-9999", debtor.account_id, None, "UK.OBIE.Field.Invalid", "PsuId"),
        ("no account and no DebtorAccount", debtor.psu_id, None, None, "UK.OBIE.Field.Missing", "AccountId"),
        ("a chosen account other than the consent's DebtorAccount", debtor.psu_id, debtor.account_id,
         other_debtor.account(), "UK.OBIE.Resource.ConsentMismatch", "Data.Initiation.DebtorAccount"),
        ("a DebtorAccount of another PSU", debtor.psu_id, None, other_debtor.account(),
         "UK.OBIE.Resource.ConsentMismatch", "Data.Initiation.DebtorAccount"),
    ]
    for case, psu_id, account_id, debtor_account, code, path in cases:
        initiation = dict(INITIATION, DebtorAccount=debtor_account) if debtor_account else INITIATION
        consent_id = create_consent(client, tpp, consent_request(initiation))["Data"]["ConsentId"]
        refused = decide(client, consent_id, psu_id, account_id=account_id)
        assert refused.status_code == 400, (case, refused.text)
        assert (error_code(refused), refused.json()["Errors"][0]["Path"]) == (code, path), case
        consent = client.get(f"{PIS}/domestic-payment-consents/{consent_id}", headers=tpp.caller_headers()).json()
        assert consent["Data"]["Status"] == "AwaitingAuthorisation", case
        paid = submit(client, tpp, consent_id)
        assert paid.status_code == 400 and error_code(paid) == "UK.OBIE.Resource.InvalidConsentStatus", case
    # the PSU's own account, named as the consent's DebtorAccount or chosen at authorisation, is accepted
    named = create_consent(client, tpp, consent_request(dict(INITIATION, DebtorAccount=debtor.account())))
    assert decide(client, named["Data"]["ConsentId"], debtor.psu_id).status_code == 204
    both = create_consent(client, tpp, consent_request(dict(INITIATION, DebtorAccount=debtor.account())))
    assert decide(client, both["Data"]["ConsentId"], debtor.psu_id, account_id=debtor.account_id).status_code == 204
    # a rejection needs no account
    rejected = create_consent(client, tpp)["Data"]["ConsentId"]
    assert decide(client, rejected, debtor.psu_id, "Rejected").status_code == 204


def test_stored_consent_keeps_only_what_was_sent(client: TestClient, tpp: Tpp) -> None:
    document = consent_request(Authorisation={"AuthorisationType": "Single"}, ReadRefundAccount="No")
    body = create_consent(client, tpp, document)
    assert body["Data"]["Authorisation"] == {"AuthorisationType": "Single"} and body["Data"]["ReadRefundAccount"] == "No"
    assert json.loads(json.dumps(body)) == body and _no_nulls(body)


@pytest.mark.parametrize(("changes", "code", "path"), [
    ({"InstructedAmount": {"Amount": "10.00", "Currency": "EUR"}}, "UK.OBIE.Unsupported.Currency",
     "Data.Initiation.InstructedAmount.Currency"),
    ({"InstructedAmount": {"Amount": "0.00", "Currency": "GBP"}}, "UK.OBIE.Field.Invalid",
     "Data.Initiation.InstructedAmount.Amount"),
    ({"InstructedAmount": {"Amount": "0", "Currency": "GBP"}}, "UK.OBIE.Field.Invalid",
     "Data.Initiation.InstructedAmount.Amount"),
    ({"CreditorAccount": {"SchemeName": "UK.OBIE.Moon", "Identification": "08080021325698", "Name": "ACME"}},
     "UK.OBIE.Unsupported.Scheme", "Data.Initiation.CreditorAccount.SchemeName"),
    ({"CreditorAccount": {"SchemeName": "UK.OBIE.PAN", "Identification": "5409050000000000", "Name": "ACME"}},
     "UK.OBIE.Unsupported.Scheme", "Data.Initiation.CreditorAccount.SchemeName"),
    ({"CreditorAccount": {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "0808", "Name": "ACME"}},
     "UK.OBIE.Unsupported.AccountIdentifier", "Data.Initiation.CreditorAccount.Identification"),
    ({"CreditorAccount": {"SchemeName": "UK.OBIE.IBAN", "Identification": "GB29NWBK60161331926818", "Name": "ACME"}},
     "UK.OBIE.Unsupported.AccountIdentifier", "Data.Initiation.CreditorAccount.Identification"),
    ({"DebtorAccount": {"SchemeName": "Bank.Internal", "Identification": "x"}}, "UK.OBIE.Unsupported.Scheme",
     "Data.Initiation.DebtorAccount.SchemeName"),
    ({"LocalInstrument": "UK.OBIE.Telepathy"}, "UK.OBIE.Unsupported.LocalInstrument", "Data.Initiation.LocalInstrument"),
])
def test_what_the_aspsp_does_not_offer_is_refused_with_unsupported_codes(client: TestClient, tpp: Tpp,
                                                                         changes: dict[str, Any], code: str,
                                                                         path: str) -> None:
    response = client.post(f"{PIS}/domestic-payment-consents", **tpp.signed_post(consent_request(
        dict(INITIATION, **changes))))
    assert response.status_code == 400, response.text
    assert [(e["ErrorCode"], e["Path"]) for e in response.json()["Errors"]] == [(code, path)]


def test_every_unsupported_part_is_named_at_once_and_supported_ones_pass(client: TestClient, tpp: Tpp) -> None:
    both = dict(INITIATION, InstructedAmount={"Amount": "0.00", "Currency": "USD"}, LocalInstrument="UK.OBIE.SWIFT")
    response = client.post(f"{PIS}/domestic-payment-consents", **tpp.signed_post(consent_request(both)))
    assert {e["ErrorCode"] for e in response.json()["Errors"]} == {
        "UK.OBIE.Unsupported.Currency", "UK.OBIE.Field.Invalid", "UK.OBIE.Unsupported.LocalInstrument"}
    iban = dict(INITIATION, LocalInstrument="UK.OBIE.CHAPS", CreditorAccount={
        "SchemeName": "UK.OBIE.IBAN", "Identification": "GB29NWBK60161331926819", "Name": "ACME"})
    assert create_consent(client, tpp, consent_request(iban))["Data"]["Status"] == "AwaitingAuthorisation"
