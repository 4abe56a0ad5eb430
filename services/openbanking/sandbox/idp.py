"""The sandbox's stand-in for the bank's IdP and PKI, under `/sandbox`:

- `POST /sandbox/token`: OAuth 2 client credentials (`scope` accounts and/or payments); the client authenticates with
  its certificate (`tls_client_auth`), passed URL-encoded in `x-amzn-mtls-clientcert` as ALB mTLS pass-through does;
  the access token (ES256 JWT) is bound to it with `cnf.x5t#S256`.
- `POST /sandbox/authorize`: the PSU's decision on a consent, taken in place of a real login and consent screen; it
  calls the owning service's internal authorisation endpoint in-process and, when Authorised, returns the token an
  authorisation-code exchange would (carrying `openbanking_intent_id`).
- `GET /sandbox/jwks`, `POST /sandbox/ocsp`, `GET /sandbox/crl`, `GET /sandbox/tpps/{tpp_id}/jwks`.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from joserfc import jwt
from starlette.types import ASGIApp

from openbanking.claims import (
    CONSENT_AUTHORISATION_SCOPE,
    INTENT_ID_CLAIM,
    INTERNAL_AUTHORISATION_PATHS,
    TPP_ID_CLAIM,
)
from openbanking.common.context import CLIENT_CERT_HEADER
from openbanking.security.certificates import (
    CertificateError,
    Truststore,
    check_client_certificate,
    load_certificate,
    thumbprint_s256,
    tpp_id_of,
)

from .pki import Issued, cert_pem
from .state import CRL_PATH, OCSP_PATH, SandboxState

API_SCOPES = frozenset({"accounts", "payments"})
AUTHORISATION_SCOPE = CONSENT_AUTHORISATION_SCOPE
TOKEN_LIFETIME_SECONDS = 3600
_CONSENT_ID = re.compile(r"^(aac|pdc)-[0-9a-f-]{36}$")
_INTERNAL_PATHS = {"aac": INTERNAL_AUTHORISATION_PATHS["ais"], "pdc": INTERNAL_AUTHORISATION_PATHS["pis"]}

#: consent id -> (TppId, Status), or None when the consent does not exist.
ConsentLookup = Callable[[str], tuple[str, str] | None]


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status,
                        headers={"cache-control": "no-store"})


class _ClientRejected(Exception):
    pass


class SandboxIdp:
    """Token issuing and consent authorisation; `services` maps consent prefixes (aac, pdc) to the ASGI apps that
    own them, `accounts_of` lists a PSU's accounts (the default selection when AccountIds is not given)."""

    def __init__(self, state: SandboxState, *, consents: ConsentLookup | None = None,
                 services: Mapping[str, ASGIApp] | None = None,
                 accounts_of: Callable[[str], list[str]] | None = None) -> None:
        self.state = state
        self.consents = consents
        self.services = dict(services or {})
        self.accounts_of = accounts_of
        self._self_credentials: Issued | None = None

    # --- tokens -------------------------------------------------------------------------------------------------

    def mint(self, *, client_id: str, tpp_id: str, scope: str, thumbprint: str, consent_id: str | None = None,
             lifetime: int = TOKEN_LIFETIME_SECONDS) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.state.issuer, "sub": client_id, "client_id": client_id, TPP_ID_CLAIM: tpp_id,
                                  "scope": scope, "iat": now, "nbf": now, "exp": now + lifetime,
                                  "jti": str(uuid.uuid4()), "cnf": {"x5t#S256": thumbprint}}
        if consent_id:
            claims[INTENT_ID_CLAIM] = consent_id
        key = self.state.idp_key
        return jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, claims, key, algorithms=["ES256"])

    def authenticate_client(self, request: Request) -> x509.Certificate:
        """`tls_client_auth`: a sandbox-issued, unrevoked client certificate."""
        header = request.headers.get(CLIENT_CERT_HEADER)
        if not header:
            raise _ClientRejected(f"a client certificate is required (URL-encoded PEM in {CLIENT_CERT_HEADER})")
        try:
            certificate = load_certificate(unquote(header))
            check_client_certificate(certificate)
            Truststore((self.state.ca.certificate,)).chain(certificate, datetime.now(UTC))
        except CertificateError as exc:
            raise _ClientRejected(str(exc)) from exc
        self.state.reload_revocations()
        if certificate.serial_number in self.state.ca.revoked:
            raise _ClientRejected("the client certificate is revoked")
        return certificate

    def _client(self, certificate: x509.Certificate) -> tuple[str, str]:
        names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        client_id = str(names[0].value) if names else thumbprint_s256(certificate)
        tpp_id = tpp_id_of(certificate)
        if not tpp_id:
            raise _ClientRejected("the client certificate names no organisation (OU)")
        return client_id, tpp_id

    async def token(self, request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request", "the token request must be application/x-www-form-urlencoded")
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        grant_type, scope = (form.get("grant_type") or [None])[0], (form.get("scope") or [""])[0]
        if grant_type != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported here; "
                                "PSU-authorised tokens come from POST /sandbox/authorize")
        scopes = set(str(scope).split())
        if not scopes or not scopes <= API_SCOPES:
            return _oauth_error(400, "invalid_scope", f"scope must be one or more of {', '.join(sorted(API_SCOPES))}")
        try:
            certificate = self.authenticate_client(request)
            client_id, tpp_id = self._client(certificate)
        except _ClientRejected as exc:
            return _oauth_error(401, "invalid_client", str(exc))
        granted = " ".join(sorted(scopes))
        token = self.mint(client_id=client_id, tpp_id=tpp_id, scope=granted, thumbprint=thumbprint_s256(certificate))
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS,
                             "scope": granted}, headers={"cache-control": "no-store"})

    # --- PSU authorisation --------------------------------------------------------------------------------------

    def _internal_credentials(self) -> tuple[str, str]:
        """The IdP's own certificate and token for the services' internal endpoints (scope consent-authorisation)."""
        if self._self_credentials is None:
            self._self_credentials = self.state.ca.issue_client("sandbox-idp", "sandbox-idp")
        certificate = self._self_credentials.certificate
        token = self.mint(client_id="sandbox-idp", tpp_id="sandbox-idp", scope=AUTHORISATION_SCOPE,
                          thumbprint=thumbprint_s256(certificate), lifetime=60)
        return token, quote(cert_pem(certificate).decode(), safe="")

    async def authorize(self, request: Request) -> Response:
        try:
            certificate = self.authenticate_client(request)
            client_id, tpp_id = self._client(certificate)
        except _ClientRejected as exc:
            return _oauth_error(401, "invalid_client", str(exc))
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return _oauth_error(400, "invalid_request", "the body must be JSON")
        if not isinstance(body, dict):
            return _oauth_error(400, "invalid_request", "the body must be a JSON object")
        consent_id, psu_id = body.get("ConsentId"), body.get("PsuId")
        decision = body.get("Decision", "Authorised")
        if not isinstance(consent_id, str) or not _CONSENT_ID.match(consent_id):
            return _oauth_error(400, "invalid_request", "ConsentId must be an aac-... or pdc-... consent id")
        if not isinstance(psu_id, str) or not psu_id:
            return _oauth_error(400, "invalid_request", "PsuId is required (e.g. psu-0001)")
        if decision not in ("Authorised", "Rejected"):
            return _oauth_error(400, "invalid_request", "Decision must be Authorised or Rejected")
        kind = consent_id[:3]
        known = self.consents(consent_id) if self.consents else None
        if known is None or known[0] != tpp_id:
            return _oauth_error(400, "invalid_request", f"consent {consent_id} does not exist for TPP {tpp_id}")
        service = self.services.get(kind)
        if service is None:
            return _oauth_error(503, "temporarily_unavailable", f"no service owns {kind}- consents in this sandbox")
        decision_body: dict[str, Any] = {"Status": decision, "PsuId": psu_id}
        if kind == "aac":
            account_ids = body.get("AccountIds")
            if account_ids is None and decision == "Authorised" and self.accounts_of:
                account_ids = self.accounts_of(psu_id)
            decision_body["AccountIds"] = account_ids or []
        elif body.get("AccountId"):
            decision_body["AccountId"] = body["AccountId"]
        token, cert_header = self._internal_credentials()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service), base_url="http://sandbox.internal",
                                     timeout=30.0) as client:
            answer = await client.post(_INTERNAL_PATHS[kind].format(ConsentId=consent_id), json=decision_body,
                                       headers={"authorization": f"Bearer {token}", CLIENT_CERT_HEADER: cert_header})
        if answer.status_code != 204:
            return Response(answer.content, status_code=answer.status_code,
                            media_type=answer.headers.get("content-type", "application/json"))
        if decision == "Rejected":
            return JSONResponse({"ConsentId": consent_id, "Status": "Rejected"})
        scope = "accounts" if kind == "aac" else "payments"
        access = self.mint(client_id=client_id, tpp_id=tpp_id, scope=scope, thumbprint=thumbprint_s256(certificate),
                           consent_id=consent_id)
        return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS,
                             "scope": scope, "ConsentId": consent_id, "Status": "Authorised"},
                            headers={"cache-control": "no-store"})

    # --- PKI ----------------------------------------------------------------------------------------------------

    async def ocsp(self, request: Request) -> Response:
        self.state.reload_revocations()
        return Response(self.state.ca.ocsp_response(await request.body()), media_type="application/ocsp-response")

    def crl(self) -> Response:
        self.state.reload_revocations()
        return Response(self.state.ca.crl().public_bytes(serialization.Encoding.DER), media_type="application/pkix-crl")

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/sandbox/token", self.token, methods=["POST"], include_in_schema=False)
        router.add_api_route("/sandbox/authorize", self.authorize, methods=["POST"], include_in_schema=False)
        router.add_api_route("/sandbox/jwks", self.state.jwks, methods=["GET"], include_in_schema=False)
        router.add_api_route(OCSP_PATH, self.ocsp, methods=["POST"], include_in_schema=False)
        router.add_api_route(CRL_PATH, self.crl, methods=["GET"], include_in_schema=False)

        def tpp_jwks(tpp_id: str) -> Response:
            document = self.state.tpp_jwks(tpp_id) if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", tpp_id) else None
            if document is None:
                return JSONResponse({"error": "unknown TPP"}, status_code=404)
            return JSONResponse(document)

        router.add_api_route("/sandbox/tpps/{tpp_id}/jwks", tpp_jwks, methods=["GET"], include_in_schema=False)
        return router

    def app(self) -> FastAPI:
        app = FastAPI(title="Open Banking sandbox IdP", docs_url=None, redoc_url=None, openapi_url=None)
        app.include_router(self.router())

        @app.get("/health", include_in_schema=False)
        def health() -> dict[str, str]:
            return {"status": "ok"}

        return app
