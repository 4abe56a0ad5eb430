"""The cross-cutting rules every service inherits from `create_app`: OBIE error bodies and FAPI headers."""

from __future__ import annotations

import uuid

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from pydantic import BaseModel

from openbanking.common.app import create_app
from openbanking.common.context import CallerDep, require_scope
from openbanking.common.errors import ErrorCode, unknown_resource
from openbanking.common.fapi import accepts

GATEWAY = {"x-ob-tpp-id": "tpp-1", "x-ob-client-id": "client-1", "x-ob-scopes": "accounts"}


class Thing(BaseModel):
    Amount: int


def _client() -> TestClient:
    router = APIRouter()

    @router.post("/things")
    def create_thing(thing: Thing, caller: CallerDep) -> dict[str, object]:
        return {"Amount": thing.Amount, "Tpp": caller.tpp_id}

    @router.get("/things/{thing_id}")
    def get_thing(thing_id: str) -> dict[str, str]:
        raise unknown_resource("Thing", "ThingId")

    @router.get("/payments-only", dependencies=[Depends(require_scope("payments"))])
    def payments_only() -> dict[str, str]:
        return {}

    @router.get("/boom")
    def boom() -> dict[str, str]:
        raise RuntimeError("database exploded")

    return TestClient(create_app("test", [("/base", router)]), raise_server_exceptions=False)


def _assert_obie_body(body: dict[str, object], code: ErrorCode) -> None:
    assert set(body) <= {"Code", "Id", "Message", "Errors"}
    assert 1 <= len(str(body["Code"])) <= 40 and 1 <= len(str(body["Message"])) <= 500
    errors = body["Errors"]
    assert isinstance(errors, list) and errors
    assert errors[0]["ErrorCode"] == code.value


def test_interaction_id_is_echoed() -> None:
    interaction = str(uuid.uuid4())
    response = _client().post("/base/things", json={"Amount": 1}, headers=GATEWAY | {"x-fapi-interaction-id": interaction})
    assert response.status_code == 200
    assert response.headers["x-fapi-interaction-id"] == interaction


def test_interaction_id_is_generated_on_errors() -> None:
    response = _client().get("/base/things/unknown", headers=GATEWAY)
    uuid.UUID(response.headers["x-fapi-interaction-id"])
    assert response.json()["Id"] == response.headers["x-fapi-interaction-id"]


def test_unknown_resource_is_400_not_404() -> None:
    response = _client().get("/base/things/unknown", headers=GATEWAY)
    assert response.status_code == 400
    _assert_obie_body(response.json(), ErrorCode.RESOURCE_NOT_FOUND)


def test_invalid_body_names_the_field() -> None:
    response = _client().post("/base/things", json={"Amount": "lots"}, headers=GATEWAY)
    assert response.status_code == 400
    _assert_obie_body(response.json(), ErrorCode.FIELD_INVALID)
    assert response.json()["Errors"][0]["Path"] == "Amount"


def test_missing_field_is_field_missing() -> None:
    response = _client().post("/base/things", json={}, headers=GATEWAY)
    _assert_obie_body(response.json(), ErrorCode.FIELD_MISSING)


def test_malformed_json_is_400() -> None:
    response = _client().post("/base/things", content=b"{not json", headers=GATEWAY | {"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["Errors"]


def test_unexpected_exception_is_an_obie_500_without_details() -> None:
    response = _client().get("/base/boom", headers=GATEWAY)
    assert response.status_code == 500
    _assert_obie_body(response.json(), ErrorCode.UNEXPECTED_ERROR)
    assert "exploded" not in response.text
    assert "x-fapi-interaction-id" in response.headers


def test_unimplemented_endpoint_is_404_with_obie_body() -> None:
    response = _client().get("/base/nothing-here", headers=GATEWAY)
    assert response.status_code == 404
    _assert_obie_body(response.json(), ErrorCode.RESOURCE_NOT_FOUND)


def test_non_json_body_is_415() -> None:
    response = _client().post("/base/things", content=b"Amount=1", headers=GATEWAY | {"content-type": "text/plain"})
    assert response.status_code == 415
    _assert_obie_body(response.json(), ErrorCode.HEADER_INVALID)


def test_unacceptable_accept_is_406() -> None:
    response = _client().post("/base/things", json={"Amount": 1}, headers=GATEWAY | {"accept": "application/xml"})
    assert response.status_code == 406
    assert response.headers["x-fapi-interaction-id"]


@pytest.mark.parametrize("header,value", [
    ("x-fapi-interaction-id", "not-a-uuid"),
    ("x-fapi-auth-date", "2017-09-10T19:43:31Z"),
    ("x-fapi-customer-ip-address", "999.1.1.1"),
])
def test_malformed_fapi_headers_are_400(header: str, value: str) -> None:
    response = _client().post("/base/things", json={"Amount": 1}, headers=GATEWAY | {header: value})
    assert response.status_code == 400
    assert response.json()["Errors"][0]["Path"] == header


@pytest.mark.parametrize("value", ["Sun, 99 Sep 2017 99:99:99 GMT", "Sun, 31 Sep 2017 10:00:00 GMT",
                                   "Wed, 29 Feb 2023 10:00:00 GMT", "Sun, 10 Sep 2017 24:00:00 GMT",
                                   "Mon, 10 Sep 2017 19:43:31 GMT"])
def test_an_impossible_auth_date_is_400(value: str) -> None:
    response = _client().post("/base/things", json={"Amount": 1}, headers=GATEWAY | {"x-fapi-auth-date": value})
    assert response.status_code == 400, value
    error = response.json()["Errors"][0]
    assert (error["ErrorCode"], error["Path"]) == ("UK.OBIE.Header.Invalid", "x-fapi-auth-date")
    assert value in error["Message"]


@pytest.mark.parametrize("headers", [{"x-fapi-auth-date": "Sun, 99 Sep 2017 99:99:99 GMT"},
                                     {"x-fapi-interaction-id": "not-a-uuid"},
                                     {"x-fapi-customer-ip-address": "999.1.1.1"},
                                     {"accept": "application/xml"}, {"content-type": "text/plain"}])
def test_authentication_comes_before_header_validation(headers: dict[str, str]) -> None:
    """As behind API Gateway, whose authorizer runs first: bad credentials are a 401 whatever else is wrong."""
    response = _client().post("/base/things", content=b'{"Amount": 1}',
                              headers={"content-type": "application/json", **headers})
    assert response.status_code == 401, response.text
    _assert_obie_body(response.json(), ErrorCode.HEADER_INVALID)
    assert response.json()["Errors"][0]["Path"] == "Authorization"
    uuid.UUID(response.headers["x-fapi-interaction-id"])


@pytest.mark.parametrize("value", ["Sun, 10 Sep 2017 19:43:31 UTC", "Mon, 01 Jan 2024 00:00:00 GMT",
                                   "Thu, 29 Feb 2024 23:59:59 GMT"])
def test_valid_auth_date_passes(value: str) -> None:
    response = _client().post("/base/things", json={"Amount": 1}, headers=GATEWAY | {"x-fapi-auth-date": value})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["10.1.2.3", "2001:db8::1"])
def test_ipv4_and_ipv6_customer_addresses_pass(value: str) -> None:
    response = _client().post("/base/things", json={"Amount": 1}, headers=GATEWAY | {"x-fapi-customer-ip-address": value})
    assert response.status_code == 200


def test_request_without_authorizer_verdict_is_401() -> None:
    response = _client().post("/base/things", json={"Amount": 1})
    assert response.status_code == 401
    _assert_obie_body(response.json(), ErrorCode.HEADER_INVALID)


def test_missing_scope_is_403() -> None:
    response = _client().get("/base/payments-only", headers=GATEWAY)
    assert response.status_code == 403


@pytest.mark.parametrize("accept,ok", [
    (None, True), ("*/*", True), ("application/*", True), ("application/json; charset=utf-8", True),
    ("text/html, application/json;q=0.5", True), ("application/json;q=0", False), ("text/html", False),
])
def test_accept_negotiation(accept: str | None, ok: bool) -> None:
    assert accepts(accept, "application/json") is ok
