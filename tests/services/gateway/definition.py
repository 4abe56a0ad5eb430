"""The REST API definition the local gateway serves, and what API Gateway makes of it.

`definition_from_record` takes the definition exactly as the program renders it (the `body` of the record's RestApi);
`generated_definition` builds the same document from `components/api_definition.py` with test backends, for as long
as no rendered stack holds a RestApi. `ApiDefinition.parse` reads either into routes, the authorizer, integrations
and gateway responses, and refuses whatever this gateway does not emulate or API Gateway would not deploy (an
unmapped path variable, a mapping from an undeclared parameter, an unknown `x-amazon-apigateway-*` key): a definition
never passes here by being misunderstood.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from components.api_definition import Backend, rest_api_definition
from openbanking.operations import OPERATIONS, SPEC_DIRECTORY, SPECS

REST_API_TYPE = "aws:apigateway/restApi:RestApi"
SERVICES = Path(__file__).resolve().parents[3] / "services"
#: The test backends' integration hosts (the services' TLS names in a deployed account).
TEST_HOSTS = {"ais": "ais.internal.test", "pis": "pis.internal.test", "events": "events.internal.test"}
TEST_AUTHORIZER_URI = ("arn:aws:apigateway:eu-west-2:lambda:path/2015-03-31/functions/"
                       "arn:aws:lambda:eu-west-2:123456789012:function:ob-authorizer/invocations")

_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
_ANY_METHOD = "x-amazon-apigateway-any-method"
_VARIABLE = re.compile(r"\{([^{}]+)\}")
#: Root keys: OpenAPI's own and the API Gateway extensions this gateway emulates or may ignore (and why).
_ROOT_KEYS = {
    "openapi", "info", "paths", "components", "servers", "tags", "externalDocs", "security",
    "x-amazon-apigateway-gateway-responses",  # emulated
    "x-amazon-apigateway-request-validators", "x-amazon-apigateway-request-validator",  # parameters emulated
    "x-amazon-apigateway-api-key-source",  # no method requires an API key: nothing to check
    "x-amazon-apigateway-binary-media-types",  # http_proxy passes bodies through as bytes either way
    "x-amazon-apigateway-endpoint-configuration",  # set on the RestApi resource; nothing to serve differently
    "x-amazon-apigateway-minimum-compression-size",  # responses are not compressed here
}
_OPERATION_KEYS = {"operationId", "summary", "description", "tags", "parameters", "security", "responses",
                   "requestBody", "deprecated", "x-amazon-apigateway-integration",
                   "x-amazon-apigateway-request-validator"}
_INTEGRATION_KEYS = {"type", "httpMethod", "uri", "connectionType", "connectionId", "integrationTarget",
                     "passthroughBehavior", "timeoutInMillis", "requestParameters", "tlsConfig",
                     "cacheKeyParameters", "cacheNamespace"}


class DefinitionError(ValueError):
    """The definition cannot be served as API Gateway would; the message names the place."""


def definition_from_record(record_resources: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The parsed `body` of the record's RestApi (the definition exactly as rendered), or None when the record holds
    no RestApi. More than one RestApi is an error: say which one to test."""
    apis = [r for r in record_resources if r.get("type") == REST_API_TYPE]
    if not apis:
        return None
    if len(apis) > 1:
        raise DefinitionError(f"the record holds {len(apis)} RestApi resources "
                              f"({', '.join(str(r.get('name')) for r in apis)}); expected one")
    body = (apis[0].get("inputs") or {}).get("body")
    if isinstance(body, str):
        return json.loads(body)
    if isinstance(body, Mapping):
        return dict(body)
    raise DefinitionError(f"RestApi {apis[0].get('name')}: inputs.body is {type(body).__name__}, not the definition")


@functools.cache
def official_specs() -> dict[str, dict[str, Any]]:
    """The OBIE v3.1.11 specs the services implement, as the program reads them (parsed once: they are large)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {name: yaml.load((SERVICES / SPEC_DIRECTORY / name).read_text(), Loader=loader) for name in SPECS}


def generated_definition(hosts: Mapping[str, str] = TEST_HOSTS) -> dict[str, Any]:
    """The definition `rest_api_definition` generates for the implemented operations, with test backends."""
    backends = {service: Backend(host=host, connection_id="vpclink-test",
                                 integration_target=f"arn:aws:elasticloadbalancing:eu-west-2:123456789012:"
                                                    f"loadbalancer/net/{service}/0123456789abcdef")
                for service, host in hosts.items()}
    document = rest_api_definition("Open Banking (local gateway)", OPERATIONS, official_specs(), backends,
                                   TEST_AUTHORIZER_URI)
    return json.loads(json.dumps(document))  # as API Gateway receives it: JSON


def service_hosts(definition: Mapping[str, Any]) -> dict[str, str]:
    """Service (the operation's tag) -> the integration host its operations go to, so a test can put the right app
    behind each host of any definition, generated or rendered."""
    hosts: dict[str, str] = {}
    for path, item in definition.get("paths", {}).items():
        for method, operation in item.items():
            integration = operation.get("x-amazon-apigateway-integration") if isinstance(operation, dict) else None
            if not integration:
                continue
            service = (operation.get("tags") or [None])[0]
            host = urlsplit(integration.get("uri", "")).hostname
            if service and host and hosts.setdefault(service, host) != host:
                raise DefinitionError(f"{method.upper()} {path}: the {service} service is reached at {host} here and "
                                      f"at {hosts[service]} elsewhere")
    return hosts


@dataclass(frozen=True)
class Parameter:
    """A method request parameter: `location` is `path`, `querystring` or `header` (API Gateway's names)."""

    location: str
    name: str
    required: bool


@dataclass(frozen=True)
class Integration:
    """An `http_proxy` integration."""

    http_method: str
    #: The URI template: scheme, host and a path with `{variables}`.
    uri: str
    #: `integration.request.<location>.<name>` -> its source (`method.request...`, `context...`, `'static'`).
    request_parameters: Mapping[str, str]
    timeout_seconds: float

    @property
    def host(self) -> str:
        return urlsplit(self.uri).hostname or ""


@dataclass(frozen=True)
class Route:
    """One method on one resource."""

    method: str  # upper case, or ANY
    template: str
    parameters: tuple[Parameter, ...]
    #: The security scheme (a REQUEST authorizer) guarding it, or None.
    authorizer: str | None
    integration: Integration
    validate_parameters: bool

    def match(self, segments: Sequence[str]) -> dict[str, str] | None:
        """The path parameters (raw, still percent-encoded) when `segments` fall under this resource's template."""
        parts = [p for p in self.template.split("/") if p]
        values: dict[str, str] = {}
        for index, part in enumerate(parts):
            variable = _VARIABLE.fullmatch(part)
            if variable and variable.group(1).endswith("+"):  # greedy: the rest of the path
                rest = segments[index:]
                if not rest or not all(rest):
                    return None
                values[variable.group(1)[:-1]] = "/".join(rest)
                return values
            if index >= len(segments) or not segments[index]:
                return None
            if variable:
                values[variable.group(1)] = segments[index]
            elif part != segments[index]:
                return None
        return values if len(parts) == len(segments) else None

    def specificity(self) -> tuple[int, ...]:
        """API Gateway prefers a literal segment to a variable, and a variable to a greedy one: lower sorts first."""
        return tuple(2 if p.endswith("+}") else 1 if p.startswith("{") else 0 for p in self.template.split("/") if p)


@dataclass(frozen=True)
class RequestAuthorizer:
    """A REQUEST Lambda authorizer (the `x-amazon-apigateway-authorizer` of a security scheme)."""

    name: str
    #: (location, name): `header`/`querystring` identity sources; a missing or empty one is a 401 without a call.
    identity_sources: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class GatewayResponseSpec:
    """A customised gateway response."""

    status: int | None
    #: Response header -> its source (`method.request...`, `context...`, `'static'`).
    headers: Mapping[str, str]
    #: Content type -> body template.
    templates: Mapping[str, str]


@dataclass(frozen=True)
class ApiDefinition:
    routes: tuple[Route, ...]
    authorizers: Mapping[str, RequestAuthorizer]
    gateway_responses: Mapping[str, GatewayResponseSpec]

    @classmethod
    def parse(cls, document: Mapping[str, Any]) -> ApiDefinition:
        unknown = set(document) - _ROOT_KEYS
        if unknown:
            raise DefinitionError(f"root: {sorted(unknown)} not emulated by the local gateway")
        validators = _validators(document)
        default_validator = document.get("x-amazon-apigateway-request-validator")
        authorizers = _authorizers(document)
        routes = []
        for path, item in (document.get("paths") or {}).items():
            if not path.startswith("/"):
                raise DefinitionError(f"paths.{path}: a resource path starts with '/'")
            for key, operation in item.items():
                where = f"paths.{path}.{key}"
                if key == "parameters":
                    raise DefinitionError(f"{where}: path-level parameters are not emulated; declare them per method")
                if key != _ANY_METHOD and key not in _HTTP_METHODS:
                    raise DefinitionError(f"{where}: not an HTTP method this gateway serves")
                method = "ANY" if key == _ANY_METHOD else key.upper()
                validator = operation.get("x-amazon-apigateway-request-validator", default_validator)
                routes.append(_route(where, path, method, operation, authorizers, validators, validator, document))
        return cls(tuple(routes), authorizers, _gateway_responses(document))

    def route_for(self, method: str, segments: Sequence[str]) -> tuple[Route, dict[str, str]] | None:
        """The route API Gateway picks for `method` on the path `segments` (raw), with its raw path parameters."""
        matches = [(route, values) for route in self.routes if route.method in (method, "ANY")
                   for values in [route.match(segments)] if values is not None]
        if not matches:
            return None
        # the most specific resource wins; on one resource a method of its own beats ANY
        return min(matches, key=lambda m: (m[0].specificity(), m[0].method == "ANY"))


def _validators(document: Mapping[str, Any]) -> dict[str, bool]:
    validators = {}
    for name, validator in (document.get("x-amazon-apigateway-request-validators") or {}).items():
        if validator.get("validateRequestBody"):
            raise DefinitionError(f"x-amazon-apigateway-request-validators.{name}: body validation (models) is not "
                                  "emulated by the local gateway")
        validators[name] = bool(validator.get("validateRequestParameters"))
    return validators


def _authorizers(document: Mapping[str, Any]) -> dict[str, RequestAuthorizer]:
    authorizers = {}
    for name, scheme in ((document.get("components") or {}).get("securitySchemes") or {}).items():
        where = f"components.securitySchemes.{name}"
        config = scheme.get("x-amazon-apigateway-authorizer")
        if scheme.get("x-amazon-apigateway-authtype") != "custom" or not isinstance(config, dict):
            raise DefinitionError(f"{where}: only Lambda authorizers (authtype custom) are emulated")
        if str(config.get("type", "")).lower() != "request":
            raise DefinitionError(f"{where}: type {config.get('type')!r}; only REQUEST authorizers are emulated")
        if config.get("authorizerResultTtlInSeconds", 300) != 0:
            raise DefinitionError(f"{where}: authorizerResultTtlInSeconds {config.get('authorizerResultTtlInSeconds')}"
                                  " (default 300): result caching is not emulated, and the decision depends on the "
                                  "route and the certificate, so it must be 0")
        sources = []
        for source in filter(None, (s.strip() for s in str(config.get("identitySource", "")).split(","))):
            match = re.fullmatch(r"method\.request\.(header|querystring)\.([^.]+)", source)
            if not match:
                raise DefinitionError(f"{where}.identitySource: {source!r} is not a header or query string source")
            sources.append((match.group(1), match.group(2)))
        authorizers[name] = RequestAuthorizer(name, tuple(sources))
    return authorizers


def _route(where: str, path: str, method: str, operation: Mapping[str, Any],
           authorizers: Mapping[str, RequestAuthorizer], validators: Mapping[str, bool], validator: str | None,
           document: Mapping[str, Any]) -> Route:
    unknown = set(operation) - _OPERATION_KEYS
    if unknown:
        raise DefinitionError(f"{where}: {sorted(unknown)} not emulated by the local gateway")
    if validator is not None and validator not in validators:
        raise DefinitionError(f"{where}: request validator {validator!r} is not defined")
    parameters = tuple(_parameter(f"{where}.parameters", p, document) for p in operation.get("parameters") or [])
    template_variables = {v.removesuffix("+") for v in _VARIABLE.findall(path)}
    declared_path = {p.name for p in parameters if p.location == "path"}
    if declared_path != template_variables:
        raise DefinitionError(f"{where}: path parameters {sorted(declared_path)} do not match the template's "
                              f"{sorted(template_variables)}")
    requirements = operation.get("security", document.get("security")) or []
    schemes = [name for requirement in requirements for name in requirement]
    if len(schemes) > 1:
        raise DefinitionError(f"{where}: {schemes}: only one authorizer per method is emulated")
    if schemes and schemes[0] not in authorizers:
        raise DefinitionError(f"{where}: security scheme {schemes[0]!r} is not defined")
    return Route(method, path, parameters, schemes[0] if schemes else None,
                 _integration(f"{where}.x-amazon-apigateway-integration", operation, parameters),
                 validators.get(validator, False) if validator else False)


def _parameter(where: str, raw: Mapping[str, Any], document: Mapping[str, Any]) -> Parameter:
    if "$ref" in raw:
        target: Any = document
        for part in str(raw["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        raw = target
    location = {"path": "path", "query": "querystring", "header": "header"}.get(raw.get("in", ""))
    if location is None:
        raise DefinitionError(f"{where}: parameter {raw.get('name')!r} in {raw.get('in')!r} is not emulated")
    return Parameter(location, str(raw["name"]), bool(raw.get("required")) or location == "path")


def _integration(where: str, operation: Mapping[str, Any], parameters: Sequence[Parameter]) -> Integration:
    raw = operation.get("x-amazon-apigateway-integration")
    if not isinstance(raw, Mapping):
        raise DefinitionError(f"{where}: missing")
    unknown = set(raw) - _INTEGRATION_KEYS
    if unknown:
        raise DefinitionError(f"{where}: {sorted(unknown)} not emulated by the local gateway")
    if raw.get("type") != "http_proxy":
        raise DefinitionError(f"{where}.type: {raw.get('type')!r}; only http_proxy integrations are emulated")
    uri = str(raw.get("uri", ""))
    if not urlsplit(uri).hostname or urlsplit(uri).scheme not in ("http", "https"):
        raise DefinitionError(f"{where}.uri: {uri!r} is not an http(s) URL")
    mappings = dict(raw.get("requestParameters") or {})
    declared = {(p.location, p.name) for p in parameters}
    for target, source in mappings.items():
        if not re.fullmatch(r"integration\.request\.(path|querystring|header)\.[^.]+", target):
            raise DefinitionError(f"{where}.requestParameters: {target!r} is not an integration request parameter")
        _check_declared(f"{where}.requestParameters.{target}", source, declared)
    for variable in _VARIABLE.findall(urlsplit(uri).path):
        if f"integration.request.path.{variable}" not in mappings:
            raise DefinitionError(f"{where}.uri: path variable {{{variable}}} has no integration.request.path mapping")
    timeout_ms = int(raw.get("timeoutInMillis", 29000))
    if not 50 <= timeout_ms <= 29000:
        raise DefinitionError(f"{where}.timeoutInMillis: {timeout_ms} is outside API Gateway's 50-29000")
    http_method = str(raw.get("httpMethod", "")).upper()
    if http_method not in {m.upper() for m in _HTTP_METHODS} | {"ANY"}:
        raise DefinitionError(f"{where}.httpMethod: {raw.get('httpMethod')!r} is not an HTTP method")
    return Integration(http_method, uri, mappings, timeout_ms / 1000)


def _check_declared(where: str, source: str, declared: set[tuple[str, str]]) -> None:
    """API Gateway refuses to deploy a mapping from a method request parameter the method does not declare."""
    match = re.fullmatch(r"method\.request\.(path|querystring|header)\.([^.]+)", source)
    if match and (match.group(1), match.group(2)) not in declared:
        raise DefinitionError(f"{where}: source {source!r} is not a declared method request parameter")


def _gateway_responses(document: Mapping[str, Any]) -> dict[str, GatewayResponseSpec]:
    responses = {}
    for kind, raw in (document.get("x-amazon-apigateway-gateway-responses") or {}).items():
        where = f"x-amazon-apigateway-gateway-responses.{kind}"
        headers = {}
        for target, source in (raw.get("responseParameters") or {}).items():
            if not target.startswith("gatewayresponse.header."):
                raise DefinitionError(f"{where}.responseParameters: {target!r} is not a gateway response header")
            headers[target.removeprefix("gatewayresponse.header.")] = source
        status = raw.get("statusCode")
        responses[kind] = GatewayResponseSpec(int(status) if status is not None else None, headers,
                                              dict(raw.get("responseTemplates") or {}))
    return responses
