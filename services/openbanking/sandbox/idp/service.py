"""The sandbox's stand-in for the bank's IdP and for the bank's side of a PSU's journey, under `/sandbox`:

- `POST /sandbox/token`: OAuth 2 client credentials (`scope` accounts and/or payments); the client authenticates with
  its certificate (`tls_client_auth`), passed in `x-amzn-mtls-clientcert` by whatever ends the TLS: URL-encoded as ALB
  mTLS pass-through (and the local sandbox) does, or as the PEM API Gateway's parameter mapping copies from
  `$context.identity.clientCert.clientCertPem` (:func:`~openbanking.security.certificates.certificate_from_header`);
  the access token (ES256 JWT) is bound to it with `cnf.x5t#S256`. Errors are OAuth error bodies (RFC 6749).
- `POST /sandbox/authorize` `{"ConsentId", "PsuId", "AccountIds"?, "AccountId"?, "Decision"?}`: the PSU's decision
  on a consent, in place of a login and consent screen; the owning service's internal authorisation endpoint
  records it and, when Authorised, the answer is the token an authorisation-code exchange would give (carrying
  `openbanking_intent_id`).
- `POST /sandbox/consent-revocations` `{"ConsentId", "PsuId"}`: the PSU revokes an Authorised account-access
  consent at the bank; the TPP is told by a `consent-authorization-revoked` event.
- `POST /sandbox/domestic-payments/{DomesticPaymentId}/status` `{"Status"}`: core banking's report of a payment's
  progress, at once (the settlement simulator takes the same steps by itself).
- `GET /sandbox/jwks`: the IdP's token-signing keys; `GET /sandbox/aspsp/jwks`: the ASPSP's signing key, which
  signs every response's `x-jws-signature` and the event SETs.

The calls on behalf of the PSU and core banking authenticate the TPP by its certificate and act only on its own
consents and payments. Their errors are OBIE error bodies.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

import anyio
import httpx
from cryptography import x509
from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response
from fastapi.responses import JSONResponse
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openbanking.claims import CONSENT_AUTHORISATION_SCOPE, INTENT_ID_CLAIM, INTERNAL_AUTHORISATION_PATHS, TPP_ID_CLAIM
from openbanking.common.bodies import parse_json, raw_body, validate_model
from openbanking.common.context import CLIENT_CERT_HEADER
from openbanking.common.dynamo_items import from_item, to_item
from openbanking.common.errors import ErrorCode, OBIEError, unknown_resource
from openbanking.ledger import queries
from openbanking.pis.models import PaymentStatus
from openbanking.security.certificates import (
    CertificateError,
    Truststore,
    certificate_from_header,
    check_client_certificate,
    thumbprint_s256,
    tpp_id_of,
)

from ..directory import SandboxDirectory
from ..settlement import SettlementSimulator
from ..web import sandbox_app

API_SCOPES = frozenset({"accounts", "payments"})
AUTHORISATION_SCOPE = CONSENT_AUTHORISATION_SCOPE
PAYMENT_STATUS_SCOPE = "openbanking:payment-status"
TOKEN_LIFETIME_SECONDS = 3600
_CONSENT_ID = r"^(aac|pdc)-[0-9a-f-]{36}$"

#: consent id -> (TppId, Status), or None when the consent does not exist.
ConsentLookup = Callable[[str], tuple[str, str] | None]
#: payment id -> its TppId, or None when the payment does not exist.
PaymentLookup = Callable[[str], str | None]
#: A request's body, exactly as received (FastAPI resolves these annotations at module level).
Body = Annotated[bytes, Depends(raw_body)]
PaymentIdPath = Annotated[str, Path(alias="DomesticPaymentId", max_length=128)]


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status,
                        headers={"cache-control": "no-store"})


class ClientRejected(Exception):
    pass


@dataclass
class InternalApi:
    """How the IdP reaches the services' internal endpoints: an HTTP client per service (in-process ASGI in the
    local sandbox, the service's address in the deployed one) and the credentials each call carries for a scope
    (a token and certificate of its own locally; API Gateway's `x-ob-*` headers, as the internal network gives
    them, deployed)."""

    ais: httpx.AsyncClient
    pis: httpx.AsyncClient
    credentials: Callable[[str], dict[str, str]]

    async def post(self, service: Literal["ais", "pis"], path: str, body: dict[str, Any],
                   scope: str) -> httpx.Response:
        client = self.ais if service == "ais" else self.pis
        return await client.post(path, json=body, headers=self.credentials(scope))

    async def aclose(self) -> None:
        await self.ais.aclose()
        await self.pis.aclose()


def gateway_credentials(scope: str) -> dict[str, str]:
    """What API Gateway's authorizer would pass for the IdP (services in `gateway` auth mode)."""
    return {"x-ob-tpp-id": "sandbox-idp", "x-ob-client-id": "sandbox-idp", "x-ob-scopes": scope}


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ConsentId: str = Field(pattern=_CONSENT_ID, description="an aac-... or pdc-... consent id")
    PsuId: str = Field(min_length=1, max_length=40, description="the PSU deciding, e.g. psu-0001")
    Decision: Literal["Authorised", "Rejected"] = "Authorised"
    AccountIds: list[str] | None = Field(default=None, max_length=100,
                                         description="account-access: the accounts shared (default: all the PSU's)")
    AccountId: str | None = Field(default=None, min_length=1, max_length=40,
                                  description="domestic payment: the account paid from (or the consent's debtor)")


class RevocationByPsu(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ConsentId: str = Field(pattern=r"^aac-[0-9a-f-]{36}$", description="an Authorised account-access consent")
    PsuId: str = Field(min_length=1, max_length=40)


class StatusReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Status: PaymentStatus


class SandboxIdp:
    """Token issuing and the bank's side of the journeys; see the module docstring."""

    def __init__(self, *, issuer: str, token_key: ECKey, truststore: Truststore, directory: SandboxDirectory,
                 consents: ConsentLookup, payments: PaymentLookup, accounts_of: Callable[[str], list[str]],
                 internal: InternalApi, aspsp_jwks: Callable[[], dict[str, Any]],
                 settlement: SettlementSimulator | None = None) -> None:
        self.issuer = issuer
        self.token_key = token_key
        self.truststore = truststore
        self.directory = directory
        self.consents = consents
        self.payments = payments
        self.accounts_of = accounts_of
        self.internal = internal
        self.aspsp_jwks = aspsp_jwks
        self.settlement = settlement

    # --- tokens -------------------------------------------------------------------------------------------------

    def mint(self, *, client_id: str, tpp_id: str, scope: str, thumbprint: str, consent_id: str | None = None,
             lifetime: int = TOKEN_LIFETIME_SECONDS) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "sub": client_id, "client_id": client_id, TPP_ID_CLAIM: tpp_id,
                                  "scope": scope, "iat": now, "nbf": now, "exp": now + lifetime,
                                  "jti": str(uuid.uuid4()), "cnf": {"x5t#S256": thumbprint}}
        if consent_id:
            claims[INTENT_ID_CLAIM] = consent_id
        key = self.token_key
        return jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, claims, key, algorithms=["ES256"])

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self.token_key]).as_dict(private=False))

    def authenticate_client(self, request: Request) -> tuple[x509.Certificate, str, str]:
        """`tls_client_auth`: a certificate of the sandbox CA, not revoked; (certificate, client id, TPP id)."""
        header = request.headers.get(CLIENT_CERT_HEADER)
        if not header:
            raise ClientRejected(f"a client certificate is required (the PEM in {CLIENT_CERT_HEADER})")
        try:
            certificate = certificate_from_header(header)
            check_client_certificate(certificate)
            self.truststore.chain(certificate, datetime.now(UTC))
        except CertificateError as exc:
            raise ClientRejected(str(exc)) from exc
        issued = self.directory.certificate(certificate.serial_number)
        if issued is not None and issued.revoked_at is not None:
            raise ClientRejected("the client certificate is revoked")
        names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        client_id = str(names[0].value) if names else thumbprint_s256(certificate)
        tpp_id = tpp_id_of(certificate)
        if not tpp_id:
            raise ClientRejected("the client certificate names no organisation (OU)")
        return certificate, client_id, tpp_id

    def _tpp(self, request: Request) -> tuple[x509.Certificate, str, str]:
        try:
            return self.authenticate_client(request)
        except ClientRejected as exc:
            raise OBIEError.of(401, ErrorCode.HEADER_INVALID, str(exc), CLIENT_CERT_HEADER) from None

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
            certificate, client_id, tpp_id = await anyio.to_thread.run_sync(self.authenticate_client, request)
        except ClientRejected as exc:
            return _oauth_error(401, "invalid_client", str(exc))
        granted = " ".join(sorted(scopes))
        token = self.mint(client_id=client_id, tpp_id=tpp_id, scope=granted, thumbprint=thumbprint_s256(certificate))
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS,
                             "scope": granted}, headers={"cache-control": "no-store"})

    # --- the PSU at the bank ------------------------------------------------------------------------------------

    async def _own_consent(self, consent_id: str, tpp_id: str) -> None:
        known = await anyio.to_thread.run_sync(self.consents, consent_id)
        if known is None or known[0] != tpp_id:
            raise unknown_resource(f"consent {consent_id} of TPP {tpp_id}", "ConsentId")

    @staticmethod
    def _relayed(answer: httpx.Response) -> Response:
        """A service's refusal, passed on as it was (an OBIE error body)."""
        return Response(answer.content, status_code=answer.status_code,
                        media_type=answer.headers.get("content-type", "application/json"))

    async def authorize(self, request: Request, body: bytes) -> Response:
        certificate, client_id, tpp_id = await anyio.to_thread.run_sync(self._tpp, request)
        decision = validate_model(Decision, parse_json(body))
        consent_id = decision.ConsentId
        await self._own_consent(consent_id, tpp_id)
        kind = consent_id[:3]
        decision_body: dict[str, Any] = {"Status": decision.Decision, "PsuId": decision.PsuId}
        if kind == "aac":
            account_ids = decision.AccountIds
            if account_ids is None and decision.Decision == "Authorised":
                account_ids = await anyio.to_thread.run_sync(self.accounts_of, decision.PsuId)
            decision_body["AccountIds"] = account_ids or []
            answer = await self.internal.post("ais", INTERNAL_AUTHORISATION_PATHS["ais"].format(ConsentId=consent_id),
                                              decision_body, AUTHORISATION_SCOPE)
        else:
            if decision.AccountId:
                decision_body["AccountId"] = decision.AccountId
            answer = await self.internal.post("pis", INTERNAL_AUTHORISATION_PATHS["pis"].format(ConsentId=consent_id),
                                              decision_body, AUTHORISATION_SCOPE)
        if answer.status_code != 204:
            return self._relayed(answer)
        if decision.Decision == "Rejected":
            return JSONResponse({"ConsentId": consent_id, "Status": "Rejected"})
        scope = "accounts" if kind == "aac" else "payments"
        access = self.mint(client_id=client_id, tpp_id=tpp_id, scope=scope, thumbprint=thumbprint_s256(certificate),
                           consent_id=consent_id)
        return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS,
                             "scope": scope, "ConsentId": consent_id, "Status": "Authorised"},
                            headers={"cache-control": "no-store"})

    async def revoke_consent(self, request: Request, body: bytes) -> Response:
        _, _, tpp_id = await anyio.to_thread.run_sync(self._tpp, request)
        revocation = validate_model(RevocationByPsu, parse_json(body))
        await self._own_consent(revocation.ConsentId, tpp_id)
        answer = await self.internal.post("ais", f"/internal/aisp/account-access-consents/{revocation.ConsentId}"
                                          "/revocation", {"PsuId": revocation.PsuId}, AUTHORISATION_SCOPE)
        if answer.status_code != 204:
            return self._relayed(answer)
        return JSONResponse({"ConsentId": revocation.ConsentId, "Status": "Revoked"})

    # --- core banking -------------------------------------------------------------------------------------------

    async def report_status(self, payment_id: str, status: str) -> httpx.Response:
        return await self.internal.post("pis", f"/internal/pisp/domestic-payments/{payment_id}/status",
                                        {"Status": status}, PAYMENT_STATUS_SCOPE)

    async def settled(self, payment_id: str, status: str) -> bool:
        """The settlement simulator's report: whether PIS took it."""
        return (await self.report_status(payment_id, status)).status_code == 204

    async def payment_status(self, request: Request, payment_id: str, body: bytes) -> Response:
        _, _, tpp_id = await anyio.to_thread.run_sync(self._tpp, request)
        report = validate_model(StatusReport, parse_json(body))
        owner = await anyio.to_thread.run_sync(self.payments, payment_id)
        if owner != tpp_id:
            raise unknown_resource(f"domestic payment {payment_id} of TPP {tpp_id}", "DomesticPaymentId")
        answer = await self.report_status(payment_id, report.Status.value)
        if answer.status_code != 204:
            return self._relayed(answer)
        return JSONResponse({"DomesticPaymentId": payment_id, "Status": report.Status.value})

    # --- the application ----------------------------------------------------------------------------------------

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post("/sandbox/token")
        async def token(request: Request) -> Response:
            return await self.token(request)

        @router.post("/sandbox/authorize")
        async def authorize(request: Request, body: Body) -> Response:
            return await self.authorize(request, body)

        @router.post("/sandbox/consent-revocations")
        async def revoke_consent(request: Request, body: Body) -> Response:
            return await self.revoke_consent(request, body)

        @router.post("/sandbox/domestic-payments/{DomesticPaymentId}/status")
        async def payment_status(request: Request, body: Body, payment_id: PaymentIdPath) -> Response:
            return await self.payment_status(request, payment_id, body)

        @router.get("/sandbox/jwks")
        def jwks() -> JSONResponse:
            return JSONResponse(self.jwks(), headers={"cache-control": "max-age=300"})

        @router.get("/sandbox/aspsp/jwks")
        def aspsp_jwks() -> JSONResponse:
            return JSONResponse(self.aspsp_jwks(), headers={"cache-control": "max-age=300"})

        return router

    def app(self, *, on_close: Callable[[], Awaitable[None]] | None = None,
            request_metrics: tuple[str, str] | None = None) -> FastAPI:
        """The IdP as an application; its lifespan runs the settlement simulator (when there is one)."""

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            async with anyio.create_task_group() as tasks:
                if self.settlement is not None:
                    tasks.start_soon(self.settlement.run)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
            if on_close is not None:
                await on_close()

        return sandbox_app("Open Banking sandbox IdP", [self.router()], lifespan=lifespan,
                           request_metrics=request_metrics)


def consent_lookup(client: Any, table: str) -> ConsentLookup:
    """Reads the consents table: who owns a consent, and its status."""

    def lookup(consent_id: str) -> tuple[str, str] | None:
        item = client.get_item(TableName=table, Key=to_item({"ConsentId": consent_id}), ConsistentRead=True).get("Item")
        if not item:
            return None
        values = from_item(item)
        if "DeletedAt" in values:
            return None
        return str(values.get("TppId", "")), str(values.get("Status", ""))

    return lookup


def payment_lookup(client: Any, table: str) -> PaymentLookup:
    """Reads the payments table: who owns a payment."""

    def lookup(payment_id: str) -> str | None:
        item = client.get_item(TableName=table, Key=to_item({"PaymentId": payment_id}), ConsistentRead=True).get("Item")
        return str(from_item(item).get("TppId", "")) if item else None

    return lookup



def ledger_accounts(engine: Engine) -> Callable[[str], list[str]]:
    """Reads the ledger: a PSU's accounts (what an account-access authorisation shares by default)."""

    def accounts_of(psu_id: str) -> list[str]:
        with Session(engine) as session:
            return sorted(queries.account_ids_of_psu(session, psu_id))

    return accounts_of
