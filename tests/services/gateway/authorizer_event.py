"""What API Gateway hands a REQUEST Lambda authorizer (payload format 1.0) and how it reads the answer: the event,
the invocation (JSON in, JSON out, a Powertools-compatible Lambda context) and the IAM policy evaluated on the
method ARN."""

from __future__ import annotations

import json
import re
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tests.services.lambdas.context import FakeContext

from .definition import Route
from .method_request import MethodRequest

#: A Lambda handler as the runtime calls it.
LambdaHandler = Callable[[dict[str, Any], LambdaContext], Any]


@dataclass(frozen=True)
class ApiIdentity:
    """Where the API is deployed: the parts of the method ARN and the request context."""

    region: str = "eu-west-2"
    account_id: str = "123456789012"
    api_id: str = "obapi12345"
    stage: str = "prod"
    domain_name: str = "api.bank.example"

    def method_arn(self, method: str, path: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/{self.stage}/{method}{path}"


def client_cert_identity(pem: str) -> dict[str, Any]:
    """`requestContext.identity.clientCert` as API Gateway fills it from the mutual TLS handshake."""
    certificate = x509.load_pem_x509_certificate(pem.encode())
    serial = format(certificate.serial_number, "x")
    serial = serial if len(serial) % 2 == 0 else "0" + serial

    def openssl_time(moment: datetime) -> str:
        return f"{moment:%b} {moment.day:>2} {moment:%H:%M:%S %Y} GMT"

    return {
        "clientCertPem": certificate.public_bytes(Encoding.PEM).decode(),
        "subjectDN": certificate.subject.rfc4514_string(),
        "issuerDN": certificate.issuer.rfc4514_string(),
        "serialNumber": ":".join(serial[i:i + 2] for i in range(0, len(serial), 2)),
        "validity": {"notBefore": openssl_time(certificate.not_valid_before_utc),
                     "notAfter": openssl_time(certificate.not_valid_after_utc)},
    }


def request_authorizer_event(request: MethodRequest, route: Route, path_parameters: Mapping[str, str], *,
                             api: ApiIdentity, request_id: str, client_cert_pem: str | None) -> dict[str, Any]:
    """The REQUEST authorizer event (format 1.0) for `request` on `route`."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in request.query:
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    now = datetime.now(UTC)
    identity: dict[str, Any] = {"sourceIp": request.source_ip, "userAgent": request.header("user-agent")}
    if client_cert_pem is not None:
        identity["clientCert"] = client_cert_identity(client_cert_pem)
    return {
        "type": "REQUEST",
        "methodArn": api.method_arn(request.method, request.path),
        "resource": route.template,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(path_parameters),
        "stageVariables": {},
        "requestContext": {
            "resourceId": format(zlib.crc32(route.template.encode()), "x")[:6],
            "resourcePath": route.template,
            "httpMethod": request.method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "path": request.path,
            "accountId": api.account_id,
            "protocol": "HTTP/1.1",
            "stage": api.stage,
            "domainName": api.domain_name,
            "domainPrefix": api.domain_name.split(".")[0],
            "requestId": request_id,
            "apiId": api.api_id,
            "identity": identity,
        },
    }


def invoke(handler: LambdaHandler, event: Mapping[str, Any], function_name: str) -> Any:
    """Run `handler` as the Lambda runtime does: the event arrives as JSON, the result leaves as JSON (so a result
    that is not JSON is an error, as the runtime makes it), with a fresh request id in the context."""
    context = FakeContext(function_name=function_name, aws_request_id=str(uuid.uuid4()))
    result = handler(json.loads(json.dumps(event)), cast(LambdaContext, context))
    return json.loads(json.dumps(result))


class Outcome(StrEnum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    principal_id: str
    #: The authorizer's context (`$context.authorizer.<key>`), values as strings.
    context: Mapping[str, str]


class MalformedResponse(ValueError):
    """The authorizer's answer is not one API Gateway accepts (it answers AUTHORIZER_CONFIGURATION_ERROR)."""


def evaluate(response: Any, method_arn: str) -> Verdict:
    """API Gateway's reading of the authorizer's answer: an explicit Deny on the method ARN wins, then an Allow;
    anything else is an implicit deny. A malformed answer raises :class:`MalformedResponse`."""
    if not isinstance(response, dict):
        raise MalformedResponse(f"the answer is {type(response).__name__}, not an object")
    principal = response.get("principalId")
    document = response.get("policyDocument")
    if not isinstance(principal, str | int | float) or isinstance(principal, bool):
        raise MalformedResponse("principalId is missing or not a string")
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), list | dict):
        raise MalformedResponse("policyDocument.Statement is missing")
    context = response.get("context") or {}
    if not isinstance(context, dict):
        raise MalformedResponse("context is not an object")
    for key, value in context.items():
        if isinstance(value, dict | list) or value is None:
            raise MalformedResponse(f"context.{key} is {type(value).__name__}: only strings, numbers and booleans")
    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    allowed = denied = False
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise MalformedResponse(f"policyDocument.Statement[{index}] has no Effect Allow or Deny")
        if _matches(statement.get("Action"), "execute-api:Invoke", ignore_case=True) and \
                _matches(statement.get("Resource"), method_arn, ignore_case=False):
            allowed |= statement["Effect"] == "Allow"
            denied |= statement["Effect"] == "Deny"
    outcome = Outcome.EXPLICIT_DENY if denied else Outcome.ALLOW if allowed else Outcome.IMPLICIT_DENY
    return Verdict(outcome, str(principal), {k: _as_string(v) for k, v in context.items()})


def _matches(patterns: Any, value: str, *, ignore_case: bool) -> bool:
    """IAM matching: `*` any run of characters, `?` one character, nothing else special."""
    for pattern in [patterns] if isinstance(patterns, str) else patterns or []:
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in str(pattern))
        if re.fullmatch(regex, value, (re.IGNORECASE if ignore_case else 0) | re.DOTALL):
            return True
    return False


def _as_string(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
