"""Who is calling: the TPP, its OAuth client, the token's scopes and the consent it was issued for.

In AWS the Lambda authorizer decides and API Gateway passes the verdict in `x-ob-*` headers (see
:class:`~openbanking.common.settings.AuthMode`); in the local sandbox a :class:`TokenVerifier` checks the
bearer token and the client certificate in-process. Routes depend on :func:`current_caller` or
:func:`require_scope` and never look at credentials themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Protocol
from urllib.parse import unquote

from fastapi import Depends, Request

from .errors import ErrorCode, OBIEError

TPP_ID_HEADER = "x-ob-tpp-id"
CLIENT_ID_HEADER = "x-ob-client-id"
SCOPES_HEADER = "x-ob-scopes"
CONSENT_ID_HEADER = "x-ob-consent-id"
#: Where a TLS-terminating front end passes the client certificate (URL-encoded PEM), as ALB mTLS
#: pass-through does; the local sandbox reads it from here.
CLIENT_CERT_HEADER = "x-amzn-mtls-clientcert"


@dataclass(frozen=True)
class Caller:
    tpp_id: str
    client_id: str
    scopes: frozenset[str]
    consent_id: str | None = None


class TokenVerifier(Protocol):
    """Verifies an access token bound to a client certificate (RFC 8705) and says who is calling.
    Raises :class:`OBIEError` (401 or 403) when the caller must be refused."""

    def __call__(self, token: str, client_cert_pem: str | None) -> Caller: ...


def unauthorized(message: str) -> OBIEError:
    return OBIEError.of(401, ErrorCode.HEADER_INVALID, message, "Authorization",
                        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def forbidden(message: str, code: ErrorCode = ErrorCode.RESOURCE_CONSENT_MISMATCH) -> OBIEError:
    return OBIEError.of(403, code, message)


def gateway_caller(request: Request) -> Caller:
    """The caller as the API Gateway authorizer described it."""
    headers = request.headers
    tpp_id, client_id = headers.get(TPP_ID_HEADER), headers.get(CLIENT_ID_HEADER)
    if not tpp_id or not client_id:
        raise unauthorized("the request did not pass the API authorizer")
    return Caller(tpp_id=tpp_id, client_id=client_id,
                  scopes=frozenset(headers.get(SCOPES_HEADER, "").split()),
                  consent_id=headers.get(CONSENT_ID_HEADER) or None)


def local_caller(verifier: TokenVerifier) -> Callable[[Request], Caller]:
    """The caller from the bearer token and client certificate, verified in-process."""

    def resolve(request: Request) -> Caller:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("an mTLS-bound bearer access token is required")
        cert = request.headers.get(CLIENT_CERT_HEADER)
        return verifier(token.strip(), unquote(cert) if cert else None)

    return resolve


def current_caller(request: Request) -> Caller:
    """FastAPI dependency: the app's resolver (set by `create_app`) decides who is calling."""
    resolver: Callable[[Request], Caller] = request.app.state.caller_resolver
    return resolver(request)


CallerDep = Annotated[Caller, Depends(current_caller)]


def require_scope(scope: str) -> Callable[[Caller], Caller]:
    """Dependency factory: the token must carry `scope` (`accounts`, `payments`, `fundsconfirmations`)."""

    def check(caller: CallerDep) -> Caller:
        if scope not in caller.scopes:
            raise forbidden(f"the access token does not carry the '{scope}' scope", ErrorCode.HEADER_INVALID)
        return caller

    return check
