"""A local stand-in for the api account's REST API (test code, never shipped): an ASGI app that serves a REST API
definition exactly as API Gateway deploys it, in front of the real services.

For each request, in API Gateway's order:
1. the custom domain's mutual TLS (when given a truststore): no client certificate, or one no truststore CA issued,
   is refused with API Gateway's plain 403 before anything else;
2. the method and path are matched against `paths` (literal segments before variables, a method before ANY); no
   match is the MISSING_AUTHENTICATION_TOKEN gateway response;
3. a request validator with `validateRequestParameters` refuses missing required parameters (BAD_REQUEST_PARAMETERS);
4. a REQUEST Lambda authorizer: a missing or empty identity source is UNAUTHORIZED without a call; otherwise the
   handler runs with a format 1.0 event (`requestContext.identity.clientCert` from the TLS connection) and a Lambda
   context, JSON in and out. An error "Unauthorized" is UNAUTHORIZED, any other error or a malformed answer
   AUTHORIZER_CONFIGURATION_ERROR, an explicit or implicit deny on the method ARN ACCESS_DENIED;
5. the `http_proxy` integration: `requestParameters` evaluated (path variables into the URI, headers set, replacing
   what the client sent under those names), the client's other headers and query string passed on, the service app
   behind the URI's host called over ASGI within the integration timeout (INTEGRATION_TIMEOUT), its answer returned
   as it is. A service that fails before answering gets the 500 its ASGI server (uvicorn) would send.
Gateway responses are rendered from `x-amazon-apigateway-gateway-responses` (see :mod:`.gateway_responses`).
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import anyio
import anyio.to_thread
from cryptography import x509

from . import gateway_responses
from .authorizer_event import (
    ApiIdentity,
    LambdaHandler,
    MalformedResponse,
    Outcome,
    evaluate,
    invoke,
    request_authorizer_event,
)
from .connection import chain_is_trusted
from .context_variables import RequestContext, check_source
from .definition import ApiDefinition, DefinitionError, Route
from .gateway_responses import EXPLICIT_DENY_MESSAGE, IMPLICIT_DENY_MESSAGE, MESSAGES, Response
from .method_request import ASGIApp, Message, MethodRequest, Receive, Scope, Send, lifespan, read_request

log = logging.getLogger(__name__)

#: Connection-level headers a proxy never forwards (RFC 9110 section 7.6.1), and what it recomputes.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
               "trailer", "transfer-encoding", "upgrade", "host", "content-length"}
#: Where the VPC link's load balancer reaches the service from.
_INTEGRATION_CLIENT = ("10.64.0.10", 41000)


class LocalGateway:
    """`definition`: the REST API's OpenAPI document; `backends`: integration URI host -> the ASGI app serving it;
    `authorizers`: security scheme name -> its Lambda handler; `mtls_truststore`: the custom domain's truststore
    (PEM), None when the domain does not do mutual TLS (behind CloudFront, or to reach the authorizer without a
    certificate)."""

    def __init__(self, definition: Mapping[str, Any], *, backends: Mapping[str, ASGIApp],
                 authorizers: Mapping[str, LambdaHandler], mtls_truststore: bytes | None = None,
                 api: ApiIdentity | None = None) -> None:
        self.definition = ApiDefinition.parse(definition)
        gateway_responses.check(self.definition.gateway_responses)
        for route in self.definition.routes:
            for target, source in route.integration.request_parameters.items():
                check_source(f"paths.{route.template}.{route.method.lower()}.x-amazon-apigateway-integration."
                             f"requestParameters.{target}", source)
        wanted = {route.authorizer for route in self.definition.routes if route.authorizer}
        if wanted - set(authorizers):
            raise DefinitionError(f"no Lambda handler given for the authorizers {sorted(wanted - set(authorizers))}")
        self._backends = dict(backends)
        self._authorizers = dict(authorizers)
        self._truststore = tuple(x509.load_pem_x509_certificates(mtls_truststore)) if mtls_truststore else None
        self.api = api or ApiIdentity()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"the local gateway serves HTTP, not {scope['type']}")
        response = await self.handle(await read_request(scope, receive))
        await send({"type": "http.response.start", "status": response.status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]})
        await send({"type": "http.response.body", "body": response.body})

    async def handle(self, request: MethodRequest) -> Response:
        context = RequestContext(request, str(uuid.uuid4()), self.api)
        certificate = request.client_cert_chain[0] if request.client_cert_chain else None
        if self._truststore is not None and not chain_is_trusted(request.client_cert_chain, self._truststore):
            return Response(403, [("x-amzn-requestid", context.request_id), ("content-type", "application/json")],
                            b'{"message":"Forbidden"}')
        found = self.definition.route_for(request.method, request.segments)
        if found is None:
            return self._refuse(context, "MISSING_AUTHENTICATION_TOKEN")
        route, path_parameters = found
        context = RequestContext(request, context.request_id, self.api, route.template, path_parameters)
        if route.validate_parameters and self._missing_parameters(route, context):
            return self._refuse(context, "BAD_REQUEST_PARAMETERS")
        if route.authorizer is not None:
            authorized = await self._authorize(route, context, certificate)
            if isinstance(authorized, Response):
                return authorized
            context = authorized
        return await self._integrate(route, context)

    # --- the custom domain's mutual TLS -------------------------------------------------------------------------

    # --- request validation --------------------------------------------------------------------------------------

    @staticmethod
    def _missing_parameters(route: Route, context: RequestContext) -> bool:
        return any(context.source(f"method.request.{p.location}.{p.name}") is None
                   for p in route.parameters if p.required)

    # --- the authorizer -------------------------------------------------------------------------------------------

    async def _authorize(self, route: Route, context: RequestContext,
                         certificate: str | None) -> RequestContext | Response:
        assert route.authorizer is not None
        config = self.definition.authorizers[route.authorizer]
        for location, name in config.identity_sources:
            if not context.source(f"method.request.{location}.{name}"):
                return self._refuse(context, "UNAUTHORIZED")
        decoded = {name: unquote(value) for name, value in context.path_parameters.items()}
        event = request_authorizer_event(context.request, route, decoded, api=self.api,
                                         request_id=context.request_id, client_cert_pem=certificate)
        handler = self._authorizers[route.authorizer]
        try:
            answer = await anyio.to_thread.run_sync(functools.partial(invoke, handler, event, route.authorizer))
        except Exception as exc:  # the Lambda's error: its message decides, as API Gateway reads it
            if str(exc) == "Unauthorized":
                return self._refuse(context, "UNAUTHORIZED")
            log.warning("authorizer %s failed: %r", route.authorizer, exc)
            return self._refuse(context, "AUTHORIZER_CONFIGURATION_ERROR")
        try:
            verdict = evaluate(answer, event["methodArn"])
        except MalformedResponse as exc:
            log.warning("authorizer %s answered something API Gateway refuses: %s", route.authorizer, exc)
            return self._refuse(context, "AUTHORIZER_CONFIGURATION_ERROR")
        context = RequestContext(context.request, context.request_id, self.api, route.template,
                                 context.path_parameters, {**verdict.context, "principalId": verdict.principal_id})
        if verdict.outcome is not Outcome.ALLOW:
            message = EXPLICIT_DENY_MESSAGE if verdict.outcome is Outcome.EXPLICIT_DENY else IMPLICIT_DENY_MESSAGE
            return self._refuse(context, "ACCESS_DENIED", message)
        return context

    # --- the integration ---------------------------------------------------------------------------------------

    async def _integrate(self, route: Route, context: RequestContext) -> Response:
        integration = route.integration
        backend = self._backends.get(integration.host)
        if backend is None:
            raise LookupError(f"no backend app for the integration host {integration.host!r} of {route.method} "
                              f"{route.template}: the test gives {sorted(self._backends)}")
        mapped: dict[str, dict[str, str]] = {"path": {}, "querystring": {}, "header": {}}
        for target, source in integration.request_parameters.items():
            location, _, name = target.removeprefix("integration.request.").partition(".")
            value = context.source(source)
            if value is not None:  # API Gateway leaves out a parameter whose source has no value
                mapped[location][name] = value
        uri = urlsplit(integration.uri)
        path = uri.path
        for name, value in mapped["path"].items():
            path = path.replace(f"{{{name}+}}", quote(value, safe="/")).replace(f"{{{name}}}", quote(value, safe=""))
        query = context.request.query_string
        if mapped["querystring"]:
            kept = [(k, v) for k, v in context.request.query if k not in mapped["querystring"]]
            query = urlencode([*kept, *mapped["querystring"].items()]).encode()
        replaced = {name.lower() for name in mapped["header"]}
        headers = [(k, v) for k, v in context.request.headers if k not in _HOP_BY_HOP and k not in replaced]
        headers += [("host", uri.hostname or ""), ("x-forwarded-for", context.request.source_ip),
                    ("x-forwarded-proto", "https"), ("x-forwarded-port", "443"),
                    ("x-amzn-trace-id", f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}")]
        headers += [(name.lower(), value) for name, value in mapped["header"].items()]
        headers.append(("content-length", str(len(context.request.body))))
        method = context.request.method if integration.http_method == "ANY" else integration.http_method
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
                 "method": method, "scheme": uri.scheme, "path": unquote(path), "raw_path": path.encode("latin-1"),
                 "root_path": "", "query_string": query,
                 "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
                 "client": _INTEGRATION_CLIENT, "server": (uri.hostname, uri.port or 443)}
        return await self._call_backend(backend, scope, context, integration.timeout_seconds)

    async def _call_backend(self, app: ASGIApp, scope: Scope, context: RequestContext, timeout: float) -> Response:
        status: int | None = None
        response_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []
        complete = anyio.Event()
        body_sent = False

        async def receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": context.request.body, "more_body": False}
            await complete.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                response_headers.extend((k.decode("latin-1").lower(), v.decode("latin-1"))
                                        for k, v in message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    complete.set()

        try:
            with anyio.fail_after(timeout):
                await app(scope, receive, send)
        except TimeoutError:
            if not complete.is_set():
                return self._refuse(context, "INTEGRATION_TIMEOUT")
        except Exception:  # the service raised: its server answers for it
            log.exception("the service behind %s failed", scope["server"][0])
            if status is None:
                return Response(500, [("content-type", "text/plain; charset=utf-8"),
                                      ("x-amzn-requestid", context.request_id)], b"Internal Server Error")
            if not complete.is_set():
                return self._refuse(context, "INTEGRATION_FAILURE")
        if status is None or not complete.is_set():
            return self._refuse(context, "INTEGRATION_FAILURE")
        headers = [(k, v) for k, v in response_headers if k not in _HOP_BY_HOP - {"content-length"}]
        headers.append(("x-amzn-requestid", context.request_id))
        return Response(status, headers, b"".join(chunks))

    # --- refusals ----------------------------------------------------------------------------------------------

    def _refuse(self, context: RequestContext, kind: str, message: str | None = None) -> Response:
        context = RequestContext(context.request, context.request_id, self.api, context.resource_path,
                                 context.path_parameters, context.authorizer, kind,
                                 message if message is not None else MESSAGES.get(kind))
        return gateway_responses.render(self.definition.gateway_responses, context)
