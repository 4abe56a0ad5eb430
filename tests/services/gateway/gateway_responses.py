"""API Gateway's own answers (gateway responses): a refusal's status, headers and body as the definition customises
them, with `$context` variables substituted the way API Gateway does it: as raw text, unescaped (so a value that is
not JSON-safe breaks a JSON template, here as there)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .context_variables import RequestContext, check_source, is_supported
from .definition import DefinitionError, GatewayResponseSpec

#: Each response type's status when the definition does not set one (API Gateway's defaults).
DEFAULT_STATUS = {
    "ACCESS_DENIED": 403, "API_CONFIGURATION_ERROR": 500, "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500, "BAD_REQUEST_PARAMETERS": 400, "BAD_REQUEST_BODY": 400, "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504, "INTEGRATION_TIMEOUT": 504, "INVALID_API_KEY": 403, "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403, "QUOTA_EXCEEDED": 429, "REQUEST_TOO_LARGE": 413, "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429, "UNAUTHORIZED": 401, "UNSUPPORTED_MEDIA_TYPE": 415, "WAF_FILTERED": 403,
}
#: `$context.error.message` of the refusals this gateway makes (None: JSON null in API Gateway's default body).
MESSAGES: dict[str, str | None] = {
    "UNAUTHORIZED": "Unauthorized",
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "AUTHORIZER_CONFIGURATION_ERROR": None,
    "BAD_REQUEST_PARAMETERS": "Missing required request parameters",
    "INTEGRATION_FAILURE": "Internal server error",
    "INTEGRATION_TIMEOUT": "Endpoint request timed out",
}
EXPLICIT_DENY_MESSAGE = "User is not authorized to access this resource with an explicit deny"
IMPLICIT_DENY_MESSAGE = "User is not authorized to access this resource"
#: Not an AWS header: which gateway response the local gateway rendered, for tests that tell alike bodies apart.
RESPONSE_TYPE_HEADER = "x-local-gateway-response"

_NAME = r"[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)*"
_REFERENCE = re.compile(rf"\$!?(?:\{{(?P<formal>{_NAME})\}}|(?P<name>{_NAME}))")
_DIRECTIVE = re.compile(r"#(set|if|elseif|else|end|foreach|macro|parse|include|define|stop|break|evaluate)\b")


def references(template: str) -> list[str]:
    """The `$references` of a template, in order."""
    return [_name(m) for m in _REFERENCE.finditer(template)]


def _name(match: re.Match[str]) -> str:
    return match.group("formal") or match.group("name")


def check(responses: Mapping[str, GatewayResponseSpec]) -> None:
    """Refuse response types, sources and templates this gateway would not render as API Gateway does."""
    for kind, spec in responses.items():
        where = f"x-amazon-apigateway-gateway-responses.{kind}"
        if kind not in DEFAULT_STATUS and kind not in ("DEFAULT_4XX", "DEFAULT_5XX"):
            raise DefinitionError(f"{where}: not an API Gateway response type")
        for header, source in spec.headers.items():
            check_source(f"{where}.responseParameters.gatewayresponse.header.{header}", source)
        for content_type, template in spec.templates.items():
            if _DIRECTIVE.search(template):
                raise DefinitionError(f"{where}.responseTemplates.{content_type}: VTL directives are not rendered by "
                                      "the local gateway")
            for name in references(template):
                if not is_supported(name):
                    raise DefinitionError(f"{where}.responseTemplates.{content_type}: ${name} is not rendered by the "
                                          "local gateway")


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def render(responses: Mapping[str, GatewayResponseSpec], context: RequestContext) -> Response:
    """The gateway response of `context.error_type`: customised, else the customised DEFAULT_4XX/DEFAULT_5XX (whose
    status code, when set, applies to every type that falls back to it), else API Gateway's `{"message": ...}`."""
    kind = context.error_type
    assert kind is not None, "a gateway response needs its type"
    default_status = DEFAULT_STATUS[kind]
    spec = responses.get(kind) or responses.get("DEFAULT_4XX" if default_status < 500 else "DEFAULT_5XX")
    headers = [("x-amzn-requestid", context.request_id), (RESPONSE_TYPE_HEADER, kind)]
    template = None
    if spec is not None:
        for name, source in spec.headers.items():
            value = context.source(source)
            if value is not None:  # a mapped request header the client did not send is left out
                headers.append((name.lower(), value))
        # API Gateway picks the template by the request's Accept header; every template here is application/json
        template = spec.templates.get("application/json", next(iter(spec.templates.values()), None))
    if not any(name == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    if template is None:
        body = json.dumps({"message": context.error_message}).encode()
    else:
        body = _REFERENCE.sub(lambda m: context.variable(_name(m)) or "", template).encode()
    return Response(spec.status if spec is not None and spec.status else default_status, headers, body)
