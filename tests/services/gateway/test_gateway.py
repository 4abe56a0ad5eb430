"""The local gateway itself, with a service that echoes what it receives and an authorizer whose answer the test
picks: it emulates API Gateway faithfully enough that a wrong mapping in the REST API definition fails a test here.

The `check_*` functions state properties the definition must have; each runs on the definition under test (the
rendered one when the dev stack renders a RestApi), and again on deliberately broken copies, where it must fail."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import httpx
import jsonschema
import pytest
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerRequestEvent
from fastapi.testclient import TestClient
from httpx import Response

from components.api_definition import AUTHORIZER
from openbanking.common.context import CLIENT_ID_HEADER, CONSENT_ID_HEADER, SCOPES_HEADER, TPP_ID_HEADER
from openbanking.operations import OPERATIONS
from openbanking.sandbox.pki import cert_pem
from tests.services.security.support import Pki

from .connection import CloudFrontViewerMtls, TlsHandshakeFailed, TppConnection
from .definition import DefinitionError, definition_from_record, generated_definition, official_specs, service_hosts
from .doubles import CALLER, EchoService, StubAuthorizer, allow
from .gateway import LocalGateway
from .gateway_responses import RESPONSE_TYPE_HEADER

#: The services' side of the contract: the header each reads and the authorizer's context key that fills it.
CALLER_HEADERS = {TPP_ID_HEADER: "tppId", CLIENT_ID_HEADER: "clientId", SCOPES_HEADER: "scopes",
                  CONSENT_ID_HEADER: "consentId"}
BALANCES = "/open-banking/v3.1/aisp/accounts/acc-1/balances"
_SPEC = official_specs()["account-info-openapi.yaml"]
OB_ERROR = {"$ref": "#/components/schemas/OBErrorResponse1", "components": _SPEC["components"]}


class Through:
    """One gateway over `document` with an echo service behind every host and a stub authorizer."""

    def __init__(self, document: dict[str, Any], answer: Callable[[dict[str, Any]], Any] | BaseException, pem: str,
                 **options: Any) -> None:
        self.echo = EchoService(**options.pop("service", {}))
        self.authorizer = StubAuthorizer(answer)
        self.gateway = LocalGateway(document, backends={h: self.echo for h in service_hosts(document).values()},
                                    authorizers={AUTHORIZER: self.authorizer}, **options)
        self.client = TestClient(TppConnection(self.gateway, [pem]), base_url="https://api.bank.example")

    def request(self, method: str, path: str, *, token: str | None = "t", **kwargs: Any) -> Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def pem(pki: Pki) -> str:
    return cert_pem(pki.good.certificate).decode()


def concrete(template: str) -> str:
    """A request path for a resource template: each variable a value of its own name."""
    for part in template.split("/"):
        if part.startswith("{"):
            template = template.replace(part, f"v-{part.strip('{}+')}")
    return template


def routes(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


# --- properties of the definition ------------------------------------------------------------------------------


def check_caller_headers_come_from_the_authorizer(document: dict[str, Any], pem: str) -> None:
    """On every route the services' `x-ob-*` headers hold the authorizer's verdict, once, whatever the TPP sent."""
    forged = {header: f"forged-{key}" for header, key in CALLER_HEADERS.items()}
    through = Through(document, lambda event: allow(event, CALLER), pem)
    for method, template in routes(document):
        response = through.request(method, concrete(template), headers=forged)
        assert response.status_code == 200, (method, template, response.text)
        for header, key in CALLER_HEADERS.items():
            assert through.echo.header_values(header) == [CALLER[key]], (method, template, header)


def check_requests_reach_the_operation_on_its_service(document: dict[str, Any], pem: str) -> None:
    """Each implemented operation arrives at its own service, at the path the service serves, with the request's
    method, query string, body and the TPP's headers (the token included)."""
    hosts = service_hosts(document)
    assert len(set(hosts.values())) == len(hosts), f"services share an integration host: {hosts}"
    through = Through(document, lambda event: allow(event, CALLER), pem)
    for operation in OPERATIONS:
        path = concrete(operation.path)
        response = through.request(operation.method, path + "?page=2", content=b'{"Data":{}}',
                                   headers={"x-fapi-interaction-id": "i-1", "content-type": "application/json"})
        assert response.status_code == 200, (operation, response.text)
        seen = through.echo.received[-1]
        assert (seen["method"], seen["path"], seen["query"]) == (operation.method, path, "page=2"), operation
        assert seen["server"][0] == hosts[operation.service], operation
        assert through.echo.header_values("host") == [hosts[operation.service]]
        assert through.echo.header_values("authorization") == ["Bearer t"]
        assert through.echo.header_values("x-fapi-interaction-id") == ["i-1"]
        assert seen["body"] == '{"Data":{}}'


def check_every_route_is_behind_the_authorizer(document: dict[str, Any], pem: str) -> None:
    """No route reaches a service without the authorizer: no token is a 401 before any call."""
    through = Through(document, lambda event: allow(event, CALLER), pem)
    for method, template in routes(document):
        response = through.request(method, concrete(template), token=None)
        assert response.status_code == 401, (method, template)
    assert through.echo.received == [] and through.authorizer.events == []


def check_refusals_echo_the_interaction_id(document: dict[str, Any], pem: str) -> None:
    through = Through(document, lambda event: allow(event, {"reason": "no"}, effect="Deny"), pem)
    echo = {"x-fapi-interaction-id": "93bac548-d2de-4546-b106-880a5018460d"}
    for response in (through.request("GET", BALANCES, headers=echo),
                     through.request("GET", BALANCES, token=None, headers=echo),
                     through.request("GET", "/open-banking/v3.1/aisp/offers", headers=echo)):
        assert response.headers.get("x-fapi-interaction-id") == echo["x-fapi-interaction-id"], response.headers


def check_access_denied_tells_the_reason(document: dict[str, Any], pem: str) -> None:
    through = Through(document, lambda event: allow(event, {"reason": "the token is bound to another certificate"},
                                                    effect="Deny"), pem)
    body = through.request("GET", BALANCES).json()
    assert "the token is bound to another certificate" in body["Message"]
    assert "the token is bound to another certificate" in body["Errors"][0]["Message"]


CHECKS = [check_caller_headers_come_from_the_authorizer, check_requests_reach_the_operation_on_its_service,
          check_every_route_is_behind_the_authorizer, check_refusals_echo_the_interaction_id,
          check_access_denied_tells_the_reason]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_the_definition_has_the_property(check: Callable[[dict[str, Any], str], None],
                                         rest_api_document: dict[str, Any], pem: str) -> None:
    check(rest_api_document, pem)


def _integration(document: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    return document["paths"][path][method]["x-amazon-apigateway-integration"]


ACCOUNTS = "/open-banking/v3.1/aisp/accounts"
MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], Any], Callable[[dict[str, Any], str], None]]] = {
    "consent id not mapped": (
        lambda d: _integration(d, ACCOUNTS)["requestParameters"].pop("integration.request.header.x-ob-consent-id"),
        check_caller_headers_come_from_the_authorizer),
    "tpp id mapped from the client id": (
        lambda d: _integration(d, ACCOUNTS)["requestParameters"].update(
            {"integration.request.header.x-ob-tpp-id": "context.authorizer.clientId"}),
        check_caller_headers_come_from_the_authorizer),
    "integration path without its base": (
        lambda d: _integration(d, ACCOUNTS).update(uri=_integration(d, ACCOUNTS)["uri"].replace("/open-banking/v3.1",
                                                                                                "")),
        check_requests_reach_the_operation_on_its_service),
    "integration to the wrong method": (
        lambda d: _integration(d, ACCOUNTS).update(httpMethod="POST"),
        check_requests_reach_the_operation_on_its_service),
    "a route without the authorizer": (
        lambda d: d["paths"][ACCOUNTS]["get"].update(security=[]),
        check_every_route_is_behind_the_authorizer),
    "403 does not echo the interaction id": (
        lambda d: d["x-amazon-apigateway-gateway-responses"]["ACCESS_DENIED"]["responseParameters"].pop(
            "gatewayresponse.header.x-fapi-interaction-id"),
        check_refusals_echo_the_interaction_id),
    "403 without the reason": (
        lambda d: d["x-amazon-apigateway-gateway-responses"]["ACCESS_DENIED"]["responseTemplates"].update(
            {"application/json": d["x-amazon-apigateway-gateway-responses"]["ACCESS_DENIED"]["responseTemplates"]
             ["application/json"].replace("$context.authorizer.reason", "")}),
        check_access_denied_tells_the_reason),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_a_wrong_mapping_fails_its_check(mutation: str, rest_api_document: dict[str, Any], pem: str) -> None:
    mutate, check = MUTATIONS[mutation]
    broken = copy.deepcopy(rest_api_document)
    mutate(broken)
    with pytest.raises(AssertionError):
        check(broken, pem)


# --- refusals ----------------------------------------------------------------------------------------------------


def assert_ob_error(response: Response, status: int, response_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers[RESPONSE_TYPE_HEADER] == response_type
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    jsonschema.validate(body, OB_ERROR)
    assert body["Id"] == response.headers["x-amzn-requestid"]
    return body


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/open-banking/v3.1/aisp/offers"),  # in the spec, not implemented
    ("PATCH", "/open-banking/v3.1/aisp/accounts"),  # a known resource, not this method
    ("POST", "/internal/aisp/account-access-consents/aac-1/authorisation"),  # reached over PrivateLink only
    ("GET", "/open-banking/v3.1/aisp/accounts/"),  # an empty path parameter
    ("GET", "/"),
])
def test_unknown_routes_are_refused_before_the_authorizer(method: str, path: str, rest_api_document: dict[str, Any],
                                                           pem: str) -> None:
    through = Through(rest_api_document, lambda event: allow(event, CALLER), pem)
    body = assert_ob_error(through.request(method, path), 404, "MISSING_AUTHENTICATION_TOKEN")
    assert body["Errors"][0]["ErrorCode"] == "UK.OBIE.Resource.NotFound"
    assert through.authorizer.events == [] and through.echo.received == []


@pytest.mark.parametrize("authorization", [None, ""])
def test_a_missing_identity_source_is_401_without_calling_the_authorizer(
        authorization: str | None, rest_api_document: dict[str, Any], pem: str) -> None:
    through = Through(rest_api_document, lambda event: allow(event, CALLER), pem)
    headers = {} if authorization is None else {"Authorization": authorization}
    response = through.request("GET", BALANCES, token=None, headers=headers)
    body = assert_ob_error(response, 401, "UNAUTHORIZED")
    assert body["Errors"][0]["ErrorCode"] == "UK.OBIE.Header.Missing"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_request"'
    assert through.authorizer.events == []


def test_the_authorizers_unauthorized_error_is_401(rest_api_document: dict[str, Any], pem: str) -> None:
    through = Through(rest_api_document, Exception("Unauthorized"), pem)
    assert_ob_error(through.request("GET", BALANCES), 401, "UNAUTHORIZED")
    assert len(through.authorizer.events) == 1 and through.echo.received == []


@pytest.mark.parametrize("answer", [
    RuntimeError("the JWKS could not be parsed"),
    lambda event: {"principalId": "x"},  # no policy
    lambda event: allow(event, {"scopes": ["accounts"]}),  # context values must be scalars
    lambda event: {"principalId": "x", "policyDocument": {"Statement": [{"Effect": "Maybe"}]}},
    lambda event: {1, 2},  # not JSON: the Lambda runtime fails the invocation
], ids=["error", "no-policy", "array-in-context", "bad-effect", "not-json"])
def test_authorizer_errors_and_malformed_answers_are_configuration_errors(answer: Any,
                                                                          rest_api_document: dict[str, Any],
                                                                          pem: str) -> None:
    through = Through(rest_api_document, answer, pem)
    body = assert_ob_error(through.request("GET", BALANCES), 500, "AUTHORIZER_CONFIGURATION_ERROR")
    assert body["Errors"][0]["ErrorCode"] == "UK.OBIE.UnexpectedError"
    assert through.echo.received == []


@pytest.mark.parametrize("answer", [
    lambda event: allow(event, {"reason": "no"}, effect="Deny"),
    lambda event: allow(event, CALLER, resource=event["methodArn"].replace("/GET/", "/POST/")),  # implicit deny
    lambda event: {**allow(event), "policyDocument": {"Statement": [
        {"Action": "execute-api:*", "Effect": "Allow", "Resource": "*"},
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": event["methodArn"].rsplit("/", 2)[0] + "/*"}]}},
], ids=["deny", "allow-elsewhere", "deny-beats-allow"])
def test_anything_but_an_allow_on_the_method_arn_is_403(answer: Any, rest_api_document: dict[str, Any],
                                                        pem: str) -> None:
    through = Through(rest_api_document, answer, pem)
    body = assert_ob_error(through.request("GET", BALANCES), 403, "ACCESS_DENIED")
    assert body["Errors"][0]["ErrorCode"] == "UK.OBIE.Resource.ConsentMismatch"
    assert through.echo.received == []


def test_wildcards_in_the_policy_match_as_in_iam(rest_api_document: dict[str, Any], pem: str) -> None:
    """`*` any run, `?` exactly one character, actions case-insensitive, and nothing else special (no `[...]`)."""
    def answer(event: dict[str, Any]) -> dict[str, Any]:
        prefix = event["methodArn"].split("/")[0] + "/prod/GET/open-banking/v3.1/aisp/accounts/"
        return {**allow(event, CALLER), "policyDocument": {"Statement": [
            {"Action": ["execute-api:invoke"], "Effect": "Allow", "Resource": [prefix + "?cc-1/*", prefix + "[ab]c-2/*"]}]}}

    through = Through(rest_api_document, answer, pem)
    assert through.request("GET", "/open-banking/v3.1/aisp/accounts/acc-1/balances").status_code == 200
    assert through.request("GET", "/open-banking/v3.1/aisp/accounts/aacc-1/balances").status_code == 403
    assert through.request("GET", "/open-banking/v3.1/aisp/accounts/ac-2/balances").status_code == 403
    assert through.request("GET", "/open-banking/v3.1/aisp/accounts/%5Bab%5Dc-2/balances").status_code == 200


def test_the_reason_is_substituted_unescaped_as_api_gateway_does(rest_api_document: dict[str, Any], pem: str) -> None:
    """Why the authorizer makes its reasons JSON-safe: API Gateway pastes `$context.authorizer.reason` as it is."""
    through = Through(rest_api_document, lambda event: allow(event, {"reason": 'kid "x"'}, effect="Deny"), pem)
    response = through.request("GET", BALANCES)
    assert response.status_code == 403 and 'kid "x"' in response.text
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_without_an_interaction_id_the_refusal_has_none(rest_api_document: dict[str, Any], pem: str) -> None:
    """API Gateway maps request headers it was sent: it does not make one up (services/README.md: a gap to close)."""
    through = Through(rest_api_document, Exception("Unauthorized"), pem)
    assert "x-fapi-interaction-id" not in through.request("GET", BALANCES).headers


def test_every_gateway_response_is_an_ob_error(rest_api_document: dict[str, Any], pem: str) -> None:
    from .context_variables import RequestContext
    from .gateway_responses import MESSAGES, render
    from .method_request import MethodRequest

    gateway = Through(rest_api_document, Exception("Unauthorized"), pem).gateway
    request = MethodRequest("GET", BALANCES, b"", (("x-fapi-interaction-id", "i-9"),), b"", "203.0.113.9", ())
    for kind in rest_api_document["x-amazon-apigateway-gateway-responses"]:
        if kind.startswith("DEFAULT_"):
            continue
        context = RequestContext(request, "0b1f4bb4-4d3b-4b53-9f6c-6b2f3a2c1d7e", gateway.api,
                                 authorizer={"reason": "a reason"}, error_type=kind, error_message=MESSAGES.get(kind))
        response = render(gateway.definition.gateway_responses, context)
        body = json.loads(response.body)
        jsonschema.validate(body, OB_ERROR)
        assert body["Code"].startswith(str(response.status)), kind
        assert ("x-fapi-interaction-id", "i-9") in response.headers, kind


# --- the authorizer's event and the integration ------------------------------------------------------------------


def test_the_authorizer_gets_api_gateways_request_event(rest_api_document: dict[str, Any], pem: str,
                                                        pki: Pki) -> None:
    through = Through(rest_api_document, lambda event: allow(event, CALLER), pem)
    through.client.send(httpx.Request(  # built by hand: the client's own request() merges repeated headers
        "GET", f"https://api.bank.example{BALANCES}?fromBookingDateTime=2025-01-01&x=1&x=2",
        headers=[("authorization", "Bearer t"), ("x-repeated", "a"), ("x-repeated", "b")]))
    [event], [context] = through.authorizer.events, through.authorizer.contexts
    parsed = APIGatewayAuthorizerRequestEvent(event)
    assert parsed.get_type == "REQUEST"
    assert parsed.method_arn == f"arn:aws:execute-api:eu-west-2:123456789012:obapi12345/prod/GET{BALANCES}"
    assert parsed.parsed_arn.resource == BALANCES.lstrip("/") and parsed.parsed_arn.http_method == "GET"
    assert (parsed.resource, parsed.path, parsed.http_method) == (
        "/open-banking/v3.1/aisp/accounts/{AccountId}/balances", BALANCES, "GET")
    assert parsed.headers.get("Authorization") == "Bearer t" and parsed.headers.get("X-Repeated") == "b"
    assert event["multiValueHeaders"]["x-repeated"] == ["a", "b"]
    assert parsed.query_string_parameters == {"fromBookingDateTime": "2025-01-01", "x": "2"}
    assert event["multiValueQueryStringParameters"]["x"] == ["1", "2"]
    assert parsed.path_parameters == {"AccountId": "acc-1"}
    client_cert = parsed.request_context.identity.client_cert
    assert client_cert is not None and client_cert.client_cert_pem == pem
    assert client_cert.subject_dn == pki.good.certificate.subject.rfc4514_string()
    assert client_cert.serial_number.replace(":", "") .lstrip("0") == format(pki.good.serial, "x").lstrip("0")
    assert client_cert.validity_not_after.endswith(" GMT")
    assert context.function_name == AUTHORIZER and context.aws_request_id
    through.request("GET", BALANCES)
    assert through.authorizer.contexts[1].aws_request_id != context.aws_request_id


def test_path_parameters_are_passed_encoded_as_received(rest_api_document: dict[str, Any], pem: str) -> None:
    through = Through(rest_api_document, lambda event: allow(event, CALLER), pem)
    assert through.request("GET", "/open-banking/v3.1/aisp/accounts/a%2Fb%20c/balances").status_code == 200
    seen = through.echo.received[-1]
    assert seen["raw_path"] == "/open-banking/v3.1/aisp/accounts/a%2Fb%20c/balances"
    assert through.authorizer.events[-1]["pathParameters"] == {"AccountId": "a/b c"}


def test_the_services_answer_is_returned_as_it_is(rest_api_document: dict[str, Any], pem: str) -> None:
    through = Through(rest_api_document, lambda event: allow(event, CALLER), pem)
    response = through.request("GET", BALANCES)
    assert response.headers["x-fapi-interaction-id"] == "from-service"
    assert response.json()["path"] == BALANCES and "x-amzn-requestid" in response.headers


def test_a_slow_service_is_an_integration_timeout(rest_api_document: dict[str, Any], pem: str) -> None:
    document = copy.deepcopy(rest_api_document)
    _integration(document, "/open-banking/v3.1/aisp/accounts/{AccountId}/balances")["timeoutInMillis"] = 50
    through = Through(document, lambda event: allow(event, CALLER), pem, service={"delay_seconds": 1})
    assert_ob_error(through.request("GET", BALANCES), 504, "INTEGRATION_TIMEOUT")


def test_a_service_that_fails_before_answering_is_its_servers_500(rest_api_document: dict[str, Any],
                                                                  pem: str) -> None:
    through = Through(rest_api_document, lambda event: allow(event, CALLER), pem, service={"fail": True})
    response = through.request("GET", BALANCES)
    assert (response.status_code, response.text) == (500, "Internal Server Error")


# --- the TLS in front ----------------------------------------------------------------------------------------------


def test_the_domains_mutual_tls_refuses_what_the_truststore_does_not_anchor(rest_api_document: dict[str, Any],
                                                                             pki: Pki) -> None:
    stub = StubAuthorizer(lambda event: allow(event, CALLER))
    echo = EchoService()
    gateway = LocalGateway(rest_api_document, backends={h: echo for h in service_hosts(rest_api_document).values()},
                           authorizers={AUTHORIZER: stub}, mtls_truststore=pki.truststore_pem)

    def call(chain: list[str]) -> Response:
        return TestClient(TppConnection(gateway, chain)).get(BALANCES, headers={"Authorization": "Bearer t"})

    for chain in ([], [cert_pem(pki.stranger.certificate).decode()], [cert_pem(pki.ca.certificate).decode()]):
        response = call(chain)
        assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})
    assert stub.events == []
    assert call([cert_pem(pki.good.certificate).decode()]).status_code == 200


def test_cloudfront_forwards_the_viewer_certificate_on_its_own_connection(rest_api_document: dict[str, Any],
                                                                          pki: Pki) -> None:
    stub = StubAuthorizer(lambda event: allow(event, CALLER))
    gateway = LocalGateway(rest_api_document, backends={h: EchoService()
                                                        for h in service_hosts(rest_api_document).values()},
                           authorizers={AUTHORIZER: stub})
    origin_cert = cert_pem(pki.other.certificate).decode()
    edge = CloudFrontViewerMtls(gateway, trust_store=pki.truststore_pem, origin_certificate=origin_cert)
    viewer = cert_pem(pki.good.certificate).decode()
    response = TestClient(TppConnection(edge, [viewer])).get(BALANCES, headers={"Authorization": "Bearer t"})
    assert response.status_code == 200
    event = APIGatewayAuthorizerRequestEvent(stub.events[-1])
    from urllib.parse import unquote

    assert unquote(event.headers.get("CloudFront-Viewer-Cert-Pem") or "") == viewer
    assert event.headers.get("cloudfront-viewer-cert-present") == "1"
    client_cert = event.request_context.identity.client_cert
    assert client_cert is not None and client_cert.client_cert_pem == origin_cert, "API Gateway sees CloudFront"
    for chain in ([], [cert_pem(pki.stranger.certificate).decode()]):
        with pytest.raises(TlsHandshakeFailed):
            TestClient(TppConnection(edge, chain)).get(BALANCES, headers={"Authorization": "Bearer t"})


# --- what the gateway refuses to load ----------------------------------------------------------------------------


def _first_operation(d: dict[str, Any]) -> dict[str, Any]:
    return d["paths"]["/open-banking/v3.1/aisp/accounts/{AccountId}"]["get"]


BROKEN: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "unmapped path variable": (
        lambda d: _first_operation(d)["x-amazon-apigateway-integration"]["requestParameters"].pop(
            "integration.request.path.AccountId"), r"path variable \{AccountId\} has no integration.request.path"),
    "mapping from an undeclared parameter": (
        lambda d: _first_operation(d)["x-amazon-apigateway-integration"]["requestParameters"].update(
            {"integration.request.header.x-ob-tpp-id": "method.request.header.x-ob-tpp-id"}),
        r"'method.request.header.x-ob-tpp-id' is not a declared method request parameter"),
    "cached authorizer": (
        lambda d: d["components"]["securitySchemes"][AUTHORIZER]["x-amazon-apigateway-authorizer"].update(
            authorizerResultTtlInSeconds=300), r"authorizerResultTtlInSeconds 300 .* must be 0"),
    "token authorizer": (
        lambda d: d["components"]["securitySchemes"][AUTHORIZER]["x-amazon-apigateway-authorizer"].update(
            type="token"), r"only REQUEST authorizers"),
    "unknown extension": (lambda d: d.update({"x-amazon-apigateway-policy": {}}),
                          r"root: \['x-amazon-apigateway-policy'\] not emulated"),
    "lambda proxy integration": (
        lambda d: _first_operation(d)["x-amazon-apigateway-integration"].update(type="aws_proxy"),
        r"only http_proxy integrations"),
    "template directive": (
        lambda d: d["x-amazon-apigateway-gateway-responses"]["DEFAULT_4XX"]["responseTemplates"].update(
            {"application/json": "#set($x = 1)"}), r"VTL directives"),
    "template variable not rendered": (
        lambda d: d["x-amazon-apigateway-gateway-responses"]["DEFAULT_4XX"]["responseTemplates"].update(
            {"application/json": "$input.body"}), r"\$input.body is not rendered"),
    "path parameter not in the template": (
        lambda d: _first_operation(d)["parameters"].append({"name": "Other", "in": "path", "required": True,
                                                           "schema": {"type": "string"}}),
        r"path parameters \['AccountId', 'Other'\] do not match the template's \['AccountId'\]"),
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_a_definition_api_gateway_would_not_serve_is_refused(broken: str, rest_api_document: dict[str, Any]) -> None:
    mutate, message = BROKEN[broken]
    document = copy.deepcopy(rest_api_document)
    mutate(document)
    with pytest.raises(DefinitionError, match=message):
        LocalGateway(document, backends={}, authorizers={AUTHORIZER: StubAuthorizer(Exception("x"))})


def test_routes_prefer_literal_segments_then_variables_then_greedy() -> None:
    integration = {"type": "http_proxy", "httpMethod": "ANY", "uri": "https://svc.test/x"}
    operation = {"x-amazon-apigateway-integration": integration}

    def with_path_params(*names: str) -> dict[str, Any]:
        return {**operation, "parameters": [{"name": n, "in": "path", "required": True} for n in names]}

    document = {"openapi": "3.0.1", "paths": {
        "/a/{id}": {"get": with_path_params("id")}, "/a/b": {"get": operation},
        "/p/{proxy+}": {"x-amazon-apigateway-any-method": with_path_params("proxy")},
        "/p/q": {"post": operation}}}
    definition = LocalGateway(document, backends={}, authorizers={}).definition

    def route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
        found = definition.route_for(method, path.split("/")[1:])
        return (found[0].template, found[1]) if found else None

    assert route("GET", "/a/b") == ("/a/b", {})
    assert route("GET", "/a/c") == ("/a/{id}", {"id": "c"})
    assert route("GET", "/p/q/r") == ("/p/{proxy+}", {"proxy": "q/r"})
    assert route("POST", "/p/q") == ("/p/q", {})
    assert route("GET", "/p/q") == ("/p/{proxy+}", {"proxy": "q"})
    assert route("DELETE", "/a/b") is None and route("GET", "/a") is None and route("GET", "/a/b/c") is None


# --- where the definition comes from -------------------------------------------------------------------------------


def test_the_definition_is_read_from_the_records_rest_api() -> None:
    generated = generated_definition()
    rest_api = {"type": "aws:apigateway/restApi:RestApi", "name": "api", "inputs": {"body": json.dumps(generated)}}
    other = {"type": "aws:s3/bucket:Bucket", "name": "b", "inputs": {}}
    assert definition_from_record([other, rest_api]) == generated
    assert definition_from_record([other]) is None
    with pytest.raises(DefinitionError, match=r"^the record holds 2 RestApi resources \(api, api\); expected one$"):
        definition_from_record([rest_api, rest_api])
    with pytest.raises(DefinitionError, match=r"^RestApi api: inputs.body is NoneType, not the definition$"):
        definition_from_record([{**rest_api, "inputs": {}}])
