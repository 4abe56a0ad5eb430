"""The values API Gateway's mappings read: `$context` variables (templates) and parameter sources (`'static'`,
`method.request.<location>.<name>`, `context.<variable>`), for the integration request and the gateway responses."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from .authorizer_event import ApiIdentity
from .definition import DefinitionError
from .method_request import MethodRequest

#: The `$context` variables this gateway fills (besides `context.authorizer.<key>`).
VARIABLES = {"context.requestId", "context.extendedRequestId", "context.httpMethod", "context.resourcePath",
             "context.path", "context.stage", "context.domainName", "context.apiId", "context.accountId",
             "context.identity.sourceIp", "context.error.message", "context.error.messageString",
             "context.error.responseType", "context.identity.clientCert.clientCertPem"}
_AUTHORIZER_VARIABLE = re.compile(r"context\.authorizer\.[A-Za-z0-9_]+")
_METHOD_REQUEST = re.compile(r"method\.request\.(path|querystring|header)\.([^.]+)")


def is_supported(name: str) -> bool:
    return name in VARIABLES or bool(_AUTHORIZER_VARIABLE.fullmatch(name))


def check_source(where: str, source: str) -> None:
    """Refuse a mapping source this gateway would not resolve as API Gateway does."""
    if re.fullmatch(r"'[^']*'", source) or _METHOD_REQUEST.fullmatch(source):
        return
    if not is_supported(source):
        raise DefinitionError(f"{where}: source {source!r} is not resolved by the local gateway")


@dataclass(frozen=True)
class RequestContext:
    """What API Gateway knows about one request at the point a mapping is evaluated."""

    request: MethodRequest
    request_id: str
    api: ApiIdentity
    resource_path: str | None = None
    #: Raw (percent-encoded) path parameters of the matched resource.
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    #: The authorizer's context (with `principalId`), once it has answered.
    authorizer: Mapping[str, str] = field(default_factory=dict)
    #: For a gateway response: its type and `$context.error.message`.
    error_type: str | None = None
    error_message: str | None = None

    def variable(self, name: str) -> str | None:
        if name.startswith("context.authorizer."):
            return self.authorizer.get(name.removeprefix("context.authorizer."))
        return {
            "context.requestId": self.request_id, "context.extendedRequestId": self.request_id,
            "context.httpMethod": self.request.method, "context.resourcePath": self.resource_path or "",
            "context.path": self.request.path, "context.stage": self.api.stage,
            "context.domainName": self.api.domain_name, "context.apiId": self.api.api_id,
            "context.accountId": self.api.account_id, "context.identity.sourceIp": self.request.source_ip,
            "context.error.message": self.error_message or "",
            "context.error.messageString": json.dumps(self.error_message),
            "context.error.responseType": self.error_type or "",
            # the leaf the client presented to the custom domain's mutual TLS, as API Gateway holds it (PEM); absent
            # without mutual TLS. A parameter mapping copies it unchanged: no mapping can encode it.
            "context.identity.clientCert.clientCertPem":
                self.request.client_cert_chain[0] if self.request.client_cert_chain else None,
        }.get(name)

    def source(self, source: str) -> str | None:
        """A mapping source's value; None when it has none (the mapped parameter is then left out)."""
        if source.startswith("'") and source.endswith("'"):
            return source[1:-1]
        method_request = _METHOD_REQUEST.fullmatch(source)
        if method_request is None:
            return self.variable(source)
        location, name = method_request.groups()
        if location == "header":
            return self.request.header(name)
        if location == "querystring":
            return self.request.query_value(name)
        raw = self.path_parameters.get(name)
        return unquote(raw) if raw is not None else None
