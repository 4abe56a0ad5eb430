"""Event subscriptions (one per TPP, signed POST/PUT) and aggregated polling (ack, setErrs, maxEvents,
moreAvailable, long polling), with SETs that verify against the ASPSP's key."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from openbanking.common.jws import DetachedJwsSigner
from openbanking.events.models import ResourceUpdate
from openbanking.events.publisher import EventPublisher
from tests.services.pis.support import BASE_URL, Tpp, verify_detached

EV = "/open-banking/v3.1"
RESOURCE_UPDATE = "urn:uk:org:openbanking:events:resource-update"
REVOKED = "urn:uk:org:openbanking:events:consent-authorization-revoked"


def signed(tpp: Tpp, method: str, document: Any) -> dict[str, Any]:
    body = json.dumps(document).encode()
    return {"method": method, "content": body, "headers": {
        **tpp.caller_headers("accounts payments"), "content-type": "application/json", "x-jws-signature": tpp.sign(body)}}


def subscribe(client: TestClient, tpp: Tpp, **data: Any) -> Any:
    return client.request(url=f"{EV}/event-subscriptions",
                          **signed(tpp, "POST", {"Data": {"Version": "3.1", **data}}))


def code(response: Any) -> str:
    return response.json()["Errors"][0]["ErrorCode"]


def test_subscription_lifecycle(client: TestClient, tpp: Tpp, other_tpp: Tpp, signer: DetachedJwsSigner) -> None:
    created = subscribe(client, tpp, CallbackUrl="https://tpp.example/ob/", EventTypes=[RESOURCE_UPDATE])
    assert created.status_code == 201, created.text
    verify_detached(created.headers["x-jws-signature"], created.content, signer.key)
    data = created.json()["Data"]
    sub_id = data["EventSubscriptionId"]
    assert sub_id.startswith("esub-") and len(sub_id) <= 40
    assert data == {"EventSubscriptionId": sub_id, "Version": "3.1", "CallbackUrl": "https://tpp.example/ob",
                    "EventTypes": [RESOURCE_UPDATE]}
    assert created.json()["Links"]["Self"] == f"{BASE_URL}{EV}/event-subscriptions/{sub_id}"
    again = subscribe(client, tpp)
    assert again.status_code == 409 and sub_id in again.json()["Message"]
    listed = client.get(f"{EV}/event-subscriptions", headers=tpp.caller_headers("payments"))
    assert listed.status_code == 200 and listed.json()["Data"]["EventSubscription"] == [data]
    verify_detached(listed.headers["x-jws-signature"], listed.content, signer.key)
    assert client.get(f"{EV}/event-subscriptions", headers=other_tpp.caller_headers()).json()["Data"] == {
        "EventSubscription": []}
    change = {"Data": {"EventSubscriptionId": sub_id, "Version": "3.1", "EventTypes": [RESOURCE_UPDATE, REVOKED]}}
    changed = client.request(url=f"{EV}/event-subscriptions/{sub_id}", **signed(tpp, "PUT", change))
    assert changed.status_code == 200 and changed.json()["Data"] == change["Data"]  # callback removed: polling only
    theirs = client.request(url=f"{EV}/event-subscriptions/{sub_id}", **signed(other_tpp, "PUT", change))
    assert theirs.status_code == 400 and code(theirs) == "UK.OBIE.Resource.NotFound"
    mismatch = {"Data": {**change["Data"], "EventSubscriptionId": "esub-other"}}
    wrong_id = client.request(url=f"{EV}/event-subscriptions/{sub_id}", **signed(tpp, "PUT", mismatch))
    assert wrong_id.status_code == 400 and code(wrong_id) == "UK.OBIE.Field.Invalid"
    assert client.delete(f"{EV}/event-subscriptions/{sub_id}", headers=other_tpp.caller_headers()).status_code == 400
    assert client.delete(f"{EV}/event-subscriptions/{sub_id}", headers=tpp.caller_headers()).status_code == 204
    assert client.delete(f"{EV}/event-subscriptions/{sub_id}", headers=tpp.caller_headers()).status_code == 400
    assert subscribe(client, tpp).status_code == 201, "after DELETE the TPP may subscribe again"


@pytest.mark.parametrize(("data", "path"), [
    ({"CallbackUrl": "http://tpp.example/cb"}, "Data.CallbackUrl"),
    ({"CallbackUrl": "https://tpp.example/cb?x=1"}, "Data.CallbackUrl"),
    ({"CallbackUrl": "not a url"}, "Data.CallbackUrl"),
    ({"EventTypes": ["urn:uk:org:openbanking:events:made-up"]}, "Data.EventTypes"),
    ({"Version": "4.0"}, "Data.Version"),
    ({"Surprise": 1}, "Data.Surprise"),
])
def test_subscription_validation(client: TestClient, tpp: Tpp, data: dict[str, Any], path: str) -> None:
    response = subscribe(client, tpp, **data)
    assert response.status_code == 400 and response.json()["Errors"][0]["Path"] == path


def test_loopback_http_callbacks_are_for_the_local_sandbox_only(client: TestClient, tpp: Tpp) -> None:
    assert subscribe(client, tpp, CallbackUrl="http://127.0.0.1:9999/cb").status_code == 201


def test_subscription_writes_need_a_valid_signature_and_an_event_scope(client: TestClient, tpp: Tpp) -> None:
    request = signed(tpp, "POST", {"Data": {"Version": "3.1"}})
    request["headers"].pop("x-jws-signature")
    response = client.request(url=f"{EV}/event-subscriptions", **request)
    assert response.status_code == 400 and code(response) == "UK.OBIE.Signature.Missing"
    request = signed(tpp, "POST", {"Data": {"Version": "3.1"}})
    request["headers"]["x-jws-signature"] = tpp.sign(request["content"], alg="none")
    response = client.request(url=f"{EV}/event-subscriptions", **request)
    assert response.status_code == 400 and code(response) == "UK.OBIE.Signature.InvalidClaim"
    request = signed(tpp, "POST", {"Data": {"Version": "3.1"}})
    request["headers"]["x-ob-scopes"] = "openid"
    assert client.request(url=f"{EV}/event-subscriptions", **request).status_code == 403


def poll(client: TestClient, tpp: Tpp, **body: Any) -> Any:
    response = client.post(f"{EV}/events", json=body, headers=tpp.caller_headers("payments"))
    assert response.status_code == 200, response.text
    return response.json()


def _update(n: int) -> ResourceUpdate:
    return ResourceUpdate.of(f"pdp-{n}", "domestic-payment", f"{BASE_URL}/open-banking/v3.1/pisp/domestic-payments/pdp-{n}")


def test_polling_returns_signed_sets_and_honours_ack_and_set_errs(client: TestClient, tpp: Tpp, other_tpp: Tpp,
                                                                  publisher: EventPublisher,
                                                                  signer: DetachedJwsSigner) -> None:
    assert publisher.publish(tpp.tpp_id, RESOURCE_UPDATE, _update(0)) is None, "no subscription, no events"
    assert subscribe(client, tpp, EventTypes=[RESOURCE_UPDATE]).status_code == 201
    assert subscribe(client, other_tpp).status_code == 201
    assert publisher.publish(tpp.tpp_id, REVOKED, _update(0)) is None, "a type the TPP did not subscribe to"
    jtis = [publisher.publish(tpp.tpp_id, RESOURCE_UPDATE, _update(n), txn=f"txn-{n}") for n in range(5)]
    publisher.publish(other_tpp.tpp_id, RESOURCE_UPDATE, _update(99))
    assert poll(client, tpp, maxEvents=0, returnImmediately=True) == {"moreAvailable": True, "sets": {}}
    first = poll(client, tpp, maxEvents=2, returnImmediately=True)
    assert first["moreAvailable"] is True and list(first["sets"]) == jtis[:2], "oldest first"
    public = RSAKey.import_key(signer.key.as_dict(private=False))
    token = jwt.decode(first["sets"][jtis[0]], public, algorithms=["PS256"])
    assert token.header["typ"] == "secevent+jwt" and token.header["kid"] == signer.kid
    claims = token.claims
    assert claims["jti"] == jtis[0] and claims["aud"] == tpp.tpp_id and claims["txn"] == "txn-0"
    assert claims["iss"] == BASE_URL and {"iat", "toe", "sub", "events"} <= set(claims)
    assert claims["events"][RESOURCE_UPDATE]["subject"]["http://openbanking.org.uk/rid"] == "pdp-0"
    # unacknowledged events come back; acknowledged and refused ones do not
    second = poll(client, tpp, maxEvents=2, returnImmediately=True, ack=[jtis[0]],
                  setErrs={jtis[1]: {"err": "jwtAud", "description": "wrong audience"}})
    assert list(second["sets"]) == jtis[2:4] and second["moreAvailable"] is True
    rest = poll(client, tpp, returnImmediately=True, ack=jtis[2:4])
    assert list(rest["sets"]) == [jtis[4]] and rest["moreAvailable"] is False
    assert poll(client, tpp, ack=[jtis[4], "never-issued"], returnImmediately=True) == {"moreAvailable": False,
                                                                                        "sets": {}}
    # another TPP's events are not visible, and cannot be acknowledged away
    theirs = poll(client, other_tpp, returnImmediately=True)
    assert len(theirs["sets"]) == 1
    poll(client, tpp, ack=list(theirs["sets"]), returnImmediately=True)
    assert poll(client, other_tpp, returnImmediately=True)["sets"].keys() == theirs["sets"].keys()


def test_long_polling_waits_for_the_next_event(client: TestClient, tpp: Tpp, publisher: EventPublisher) -> None:
    assert subscribe(client, tpp).status_code == 201
    started = time.monotonic()
    assert poll(client, tpp, returnImmediately=False)["sets"] == {}
    assert 0.9 <= time.monotonic() - started < 3, "an empty long poll waits for its bound (1 s here)"
    timer = threading.Timer(0.3, publisher.publish, (tpp.tpp_id, RESOURCE_UPDATE, _update(7)))
    timer.start()
    started = time.monotonic()
    answer = poll(client, tpp, returnImmediately=False)
    timer.join()
    assert len(answer["sets"]) == 1 and time.monotonic() - started < 1.0


def test_polling_validation(client: TestClient, tpp: Tpp) -> None:
    for body in ({"maxEvents": -1}, {"ack": [""]}, {"setErrs": {"j": {"err": "x"}}}, {"unknown": True}):
        response = client.post(f"{EV}/events", json=body, headers=tpp.caller_headers())
        assert response.status_code == 400, body
    assert client.post(f"{EV}/events", json={}, headers=tpp.caller_headers("openid")).status_code == 403
