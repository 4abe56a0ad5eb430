"""The REST API's definition (OpenAPI 3 with API Gateway's extensions), generated from the official OBIE specs
for exactly the operations the services implement.

Each operation keeps its parameters from the spec (API Gateway declares them as method request parameters)
and gets:
- the `ob-authorizer` security requirement: a REQUEST Lambda authorizer whose result is never cached (the
  decision depends on the route and the client certificate as much as on the token);
- an `http_proxy` integration through the VPC link (v1, see :mod:`components.private_integration`) to the load
  balancer in front of its service's PrivateLink endpoint, with the TLS server name of the service's certificate
  as the URI host, the path parameters passed on, and the authorizer's verdict written into the `x-ob-*`
  headers (the mapping replaces any header a client sent under those names).

Gateway responses (401, 403, 404, 413, 429, 4XX, 5XX, WAF block, bad request) return `OBErrorResponse1` bodies
and echo `x-fapi-interaction-id`. Requests to anything else are refused by API Gateway itself: an operation
the services do not implement is absent.

A service that authenticates its client by the certificate itself (the sandbox's IdP: OAuth `tls_client_auth`)
gets :class:`CertificateRoute` routes instead: no authorizer, and the certificate of the domain's mutual TLS
written into :data:`CLIENT_CERT_HEADER` from `$context.identity.clientCert.clientCertPem` (replacing any header a
client sent under that name). A parameter mapping copies a value as it is, so the service reads the PEM as API
Gateway writes it (`openbanking.security.certificates.certificate_from_header`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol

import pulumi

AUTHORIZER = "ob-authorizer"
#: Authorizer context key -> the integration header the services read it from (openbanking.common.context).
CONTEXT_HEADERS = {
    "tppId": "x-ob-tpp-id",
    "clientId": "x-ob-client-id",
    "scopes": "x-ob-scopes",
    "consentId": "x-ob-consent-id",
}
INTERACTION_ID = "x-fapi-interaction-id"
#: The header a certificate route's service reads the client certificate from, and the context variable API Gateway
#: fills it from (the PEM the TPP presented to the custom domain).
CLIENT_CERT_HEADER = "x-amzn-mtls-clientcert"
CLIENT_CERT_SOURCE = "context.identity.clientCert.clientCertPem"
#: Seconds API Gateway waits for a backend (its maximum for REST APIs without a quota increase).
INTEGRATION_TIMEOUT_MS = 29000


class OperationLike(Protocol):
    """An implemented operation (`openbanking.operations.Operation`)."""

    @property
    def service(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def spec(self) -> str: ...
    @property
    def spec_path(self) -> str: ...
    @property
    def path(self) -> str: ...


class CertificateRoute(Protocol):
    """A route served without the authorizer, its service authenticating the client by its certificate
    (`openbanking.operations.SandboxRoute`)."""

    @property
    def service(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...


@dataclass(frozen=True)
class Backend:
    """Where one service is reached from the REST API."""

    #: The service's internal name (its certificate's subject): the integration URI's host and TLS server name.
    host: str
    #: The VPC link the integration goes through (v1: to the NLB in front of the service's PrivateLink endpoint).
    connection_id: pulumi.Input[str]
    #: With a VPC link v2 only: the load balancer it reaches; None with v1 (the link names its NLB).
    integration_target: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class GatewayResponse:
    """How API Gateway answers when it refuses a request itself."""

    #: API Gateway's response type, e.g. `UNAUTHORIZED`.
    type: str
    #: The HTTP status it answers with.
    status: int
    #: The OBIE error code the body carries, e.g. `UK.OBIE.Header.Missing`.
    error_code: str
    #: The body's message (`$context...` references are filled in by API Gateway).
    message: str
    #: Further static response headers, e.g. {"Retry-After": "1"}.
    headers: Mapping[str, str] | None = None


#: Every refusal API Gateway can make, as an `OBErrorResponse1`.
GATEWAY_RESPONSES: tuple[GatewayResponse, ...] = (
    GatewayResponse("UNAUTHORIZED", 401, "UK.OBIE.Header.Missing",
                    "the request carries no access token (Authorization: Bearer ...)",
                    {"WWW-Authenticate": 'Bearer error="invalid_request"'}),
    GatewayResponse("ACCESS_DENIED", 403, "UK.OBIE.Resource.ConsentMismatch",
                    "the credentials do not allow this request: $context.authorizer.reason"),
    GatewayResponse("AUTHORIZER_FAILURE", 500, "UK.OBIE.UnexpectedError", "the request could not be authorised"),
    GatewayResponse("AUTHORIZER_CONFIGURATION_ERROR", 500, "UK.OBIE.UnexpectedError",
                    "the request could not be authorised"),
    GatewayResponse("MISSING_AUTHENTICATION_TOKEN", 404, "UK.OBIE.Resource.NotFound",
                    "this endpoint is not implemented"),
    GatewayResponse("RESOURCE_NOT_FOUND", 404, "UK.OBIE.Resource.NotFound", "this endpoint is not implemented"),
    GatewayResponse("BAD_REQUEST_PARAMETERS", 400, "UK.OBIE.Header.Missing", "a required header or parameter is missing"),
    GatewayResponse("BAD_REQUEST_BODY", 400, "UK.OBIE.Field.Invalid", "the request body is not valid"),
    GatewayResponse("REQUEST_TOO_LARGE", 413, "UK.OBIE.Field.Invalid", "the request body is too large"),
    GatewayResponse("THROTTLED", 429, "UK.OBIE.UnexpectedError", "too many requests: retry later", {"Retry-After": "1"}),
    GatewayResponse("QUOTA_EXCEEDED", 429, "UK.OBIE.UnexpectedError", "too many requests: retry later",
                    {"Retry-After": "60"}),
    GatewayResponse("WAF_FILTERED", 403, "UK.OBIE.UnexpectedError", "the request was refused"),
    GatewayResponse("UNSUPPORTED_MEDIA_TYPE", 415, "UK.OBIE.Header.Invalid", "the content type is not supported"),
    GatewayResponse("INTEGRATION_FAILURE", 502, "UK.OBIE.UnexpectedError", "the service could not be reached"),
    GatewayResponse("INTEGRATION_TIMEOUT", 504, "UK.OBIE.UnexpectedError", "the service did not answer in time"),
    GatewayResponse("DEFAULT_4XX", 400, "UK.OBIE.Field.Invalid", "the request was refused"),
    GatewayResponse("DEFAULT_5XX", 500, "UK.OBIE.UnexpectedError", "an unexpected error occurred"),
)


def error_template(response: GatewayResponse) -> str:
    """The `OBErrorResponse1` body API Gateway renders (`Id` is the gateway's request id)."""
    code = f"{response.status} {HTTPStatus(response.status).phrase}"
    return ('{"Code":"' + code + '","Id":"$context.requestId","Message":"' + response.message +
            '","Errors":[{"ErrorCode":"' + response.error_code + '","Message":"' + response.message + '"}]}')


def _resolve(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = document
    for part in str(ref).removeprefix("#/").split("/"):
        target = target[part]
    return target


def _parameters(document: Mapping[str, Any], path_item: Mapping[str, Any],
                operation: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The operation's parameters as API Gateway declares them (name, in, required; schemas left to the service)."""
    params = {}
    for raw in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        p = _resolve(document, raw)
        if p.get("in") in ("path", "query", "header"):
            params[(p["in"], p["name"])] = {"name": p["name"], "in": p["in"], "required": bool(p.get("required")),
                                            "schema": {"type": "string"}}
    return list(params.values())


def _integration(method: str, path: str, backend: Backend, request_parameters: Mapping[str, str]) -> dict[str, Any]:
    return {
        "type": "http_proxy",
        "httpMethod": method,
        "uri": f"https://{backend.host}{path}",
        "connectionType": "VPC_LINK",
        "connectionId": backend.connection_id,
        **({"integrationTarget": backend.integration_target} if backend.integration_target is not None else {}),
        "passthroughBehavior": "when_no_match",
        "timeoutInMillis": INTEGRATION_TIMEOUT_MS,
        "requestParameters": dict(request_parameters),
        # The internal certificates come from the bank's private CA, which API Gateway cannot verify;
        # the hop stays on AWS's network (VPC link, PrivateLink) and is still encrypted (docs/edge.md).
        "tlsConfig": {"insecureSkipVerification": True},
    }


def _certificate_route(route: CertificateRoute, backend: Backend) -> dict[str, Any]:
    """A route without the authorizer: path parameters passed on, the client certificate in CLIENT_CERT_HEADER."""
    names = re.findall(r"\{([^{}]+)\}", route.path)
    request_parameters = {f"integration.request.path.{n}": f"method.request.path.{n}" for n in names}
    request_parameters[f"integration.request.header.{CLIENT_CERT_HEADER}"] = CLIENT_CERT_SOURCE
    slug = re.sub(r"[^A-Za-z0-9]+", "-", route.path).strip("-")
    return {
        "operationId": f"{route.method.lower()}-{slug}",
        "summary": f"{route.service}: the client authenticated by its certificate",
        "tags": [route.service],
        "parameters": [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names],
        "security": [],
        "responses": {"default": {"description": "the service's answer, passed through"}},
        "x-amazon-apigateway-integration": _integration(route.method, route.path, backend, request_parameters),
    }


def rest_api_definition(title: str, operations: Sequence[OperationLike], specs: Mapping[str, Mapping[str, Any]],
                        backends: Mapping[str, Backend], authorizer_uri: pulumi.Input[str],
                        gateway_responses: Sequence[GatewayResponse] = GATEWAY_RESPONSES,
                        certificate_routes: Sequence[CertificateRoute] = ()) -> dict[str, Any]:
    """The OpenAPI document of the REST API (values may be Outputs: serialise with `pulumi.Output.json_dumps`)."""
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        if op.service not in backends:
            raise ValueError(f"{op.method} {op.path}: no backend for the {op.service!r} service")
        document = specs[op.spec]
        path_item = document["paths"][op.spec_path]
        spec_operation = path_item[op.method.lower()]
        parameters = _parameters(document, path_item, spec_operation)
        backend = backends[op.service]
        request_parameters = {f"integration.request.path.{p['name']}": f"method.request.path.{p['name']}"
                              for p in parameters if p["in"] == "path"}
        request_parameters |= {f"integration.request.header.{header}": f"context.authorizer.{key}"
                               for key, header in CONTEXT_HEADERS.items()}
        paths.setdefault(op.path, {})[op.method.lower()] = {
            "operationId": spec_operation.get("operationId", f"{op.method.lower()}{op.path}"),
            "summary": spec_operation.get("summary", ""),
            "tags": [op.service],
            "parameters": parameters,
            "security": [{AUTHORIZER: []}],
            "responses": {"default": {"description": "the service's answer, passed through"}},
            "x-amazon-apigateway-integration": _integration(op.method, op.path, backend, request_parameters),
        }
    for route in certificate_routes:
        if route.service not in backends:
            raise ValueError(f"{route.method} {route.path}: no backend for the {route.service!r} service")
        if route.method.lower() in paths.get(route.path, {}):
            raise ValueError(f"{route.method} {route.path}: published twice")
        paths.setdefault(route.path, {})[route.method.lower()] = _certificate_route(route, backends[route.service])
    return {
        "openapi": "3.0.1",
        "info": {"title": title, "version": "3.1.11",
                 "description": "UK Open Banking Read/Write v3.1.11: the operations this ASPSP implements"},
        "paths": paths,
        "components": {"securitySchemes": {AUTHORIZER: {
            "type": "apiKey", "name": "Authorization", "in": "header",
            "x-amazon-apigateway-authtype": "custom",
            "x-amazon-apigateway-authorizer": {
                "type": "request",
                "identitySource": "method.request.header.Authorization",
                "authorizerUri": authorizer_uri,
                "authorizerResultTtlInSeconds": 0,
            },
        }}},
        "x-amazon-apigateway-gateway-responses": {
            r.type: {
                "statusCode": str(r.status),
                "responseParameters": {
                    f"gatewayresponse.header.{INTERACTION_ID}": f"method.request.header.{INTERACTION_ID}",
                    "gatewayresponse.header.Content-Type": "'application/json'",
                    **{f"gatewayresponse.header.{k}": f"'{v}'" for k, v in (r.headers or {}).items()},
                },
                "responseTemplates": {"application/json": error_template(r)},
            } for r in gateway_responses
        },
        "x-amazon-apigateway-api-key-source": "HEADER",
        "x-amazon-apigateway-binary-media-types": [],
    }


def published_document(document: Mapping[str, Any], spec_paths: Mapping[str, Sequence[str]],
                       server_url: str) -> dict[str, Any]:
    """A spec as the ASPSP publishes it on its static site: the official document with only the operations it
    implements (`spec_paths`: spec path -> its methods) and its own server."""
    paths: dict[str, Any] = {}
    for spec_path, methods in spec_paths.items():
        item = document["paths"][spec_path]
        kept = {k: v for k, v in item.items() if k.upper() in methods or k in ("parameters", "summary", "description")}
        paths[spec_path] = kept
    return {**document, "servers": [{"url": server_url}], "paths": paths}
