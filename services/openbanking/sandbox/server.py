"""The local sandbox server: the AIS, PIS and events apps in `local` auth mode, the sandbox IdP and the sandbox CA,
on one port, with DynamoDB in an in-process moto server and the sandbox's own ledger database and cache.

Requests are dispatched by path prefix, as API Gateway's base-path mappings would; `/internal/...` is not exposed
(only the IdP calls it, in-process). Each service verifies the caller itself with
:class:`~openbanking.security.tokens.LocalTokenVerifier` (certificate chain to the sandbox CA, OCSP/CRL served by the
sandbox, token bound to the certificate) and applies the route table the Lambda authorizer enforces in AWS. Every
answer carries an `x-fapi-interaction-id`, the dispatcher's own 404s included.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openbanking.common.context import CLIENT_CERT_HEADER, Caller, forbidden, local_caller
from openbanking.common.errors import ErrorCode, ErrorDetail, error_body
from openbanking.common.interaction import INTERACTION_ID_HEADER
from openbanking.common.settings import AuthMode, ServiceSettings
from openbanking.security.certificates import Truststore, thumbprint_s256
from openbanking.security.revocation import RevocationChecker
from openbanking.security.routes import policy_for
from openbanking.security.tokens import AccessTokenVerifier, JwksCache, LocalTokenVerifier, MtlsAuthenticator

from .idp.service import SandboxIdp
from .pki import cert_pem
from .settings import SandboxSettings
from .state import SandboxState
from .web import sandbox_app

#: Revocation verdicts are cached for 60 s in the sandbox (<= 5 min in AWS), so a revocation shows quickly.
SANDBOX_REVOCATION_CACHE_SECONDS = 60
#: The CA's paths (the rest of `/sandbox` is the IdP's).
CA_PREFIXES = ("/sandbox/ca.pem", "/sandbox/ocsp", "/sandbox/crl", "/sandbox/tpps")

log = logging.getLogger(__name__)


def route_checking_resolver(verifier: LocalTokenVerifier) -> Callable[[Request], Caller]:
    """The caller from the token and certificate, refused (403) when its scope or consent type does not fit the
    route, exactly as the Lambda authorizer decides in AWS. Internal routes (no policy) are left to the service."""
    resolve = local_caller(verifier)

    def check(request: Request) -> Caller:
        caller = resolve(request)
        policy = policy_for(request.method, request.url.path)
        if policy is not None:
            refusal = policy.refusal(caller.scopes, caller.consent_id)
            if refusal:
                raise forbidden(refusal, ErrorCode.RESOURCE_CONSENT_MISMATCH if caller.scopes & policy.scopes
                                else ErrorCode.HEADER_INVALID)
        return caller

    return check


def local_verifier(state: SandboxState, http: httpx.Client) -> LocalTokenVerifier:
    """Tokens of the sandbox IdP, certificates of the sandbox CA; revocation asked over HTTP like in AWS."""
    keys = JwksCache(f"{state.issuer}/jwks", http)
    tokens = AccessTokenVerifier(state.issuer, keys.key)
    revocation = RevocationChecker(http, cache_seconds=SANDBOX_REVOCATION_CACHE_SECONDS)
    return LocalTokenVerifier(MtlsAuthenticator(tokens, Truststore((state.ca.certificate,)), revocation))


def _interaction_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == INTERACTION_ID_HEADER.encode():
            try:
                return str(uuid.UUID(value.decode("latin-1")))
            except ValueError:
                break
    return str(uuid.uuid4())


async def _not_found(scope: Scope, send: Send) -> None:
    interaction_id = _interaction_id(scope)
    body = json.dumps(error_body(404, [ErrorDetail(ErrorCode.RESOURCE_NOT_FOUND, "this endpoint is not exposed")],
                                 interaction_id)).encode()
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (INTERACTION_ID_HEADER.encode(), interaction_id.encode())]})
    await send({"type": "http.response.body", "body": body})


@dataclass
class Dispatcher:
    """One ASGI app in front of several: the longest matching prefix wins; `/health` is answered here; anything
    else, and the hidden `/internal` paths, get an OBIE 404 with an interaction id. Lifespans of all apps run."""

    routes: Sequence[tuple[str, ASGIApp]]
    hidden: tuple[str, ...] = ("/internal",)
    lifespans: list[FastAPI] = field(default_factory=list)

    def _target(self, path: str) -> ASGIApp | None:
        if any(path == h or path.startswith(h + "/") for h in self.hidden):
            return None
        for prefix, app in sorted(self.routes, key=lambda r: -len(r[0])):
            if path == prefix or path.startswith(prefix + "/"):
                return app
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path = scope.get("path", "")
        if path == "/health" and scope["type"] == "http":
            await _healthy(scope, send)
            return
        target = self._target(path)
        if target is None:
            await _not_found(scope, send)
            return
        await target(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        stack = AsyncExitStack()
        message: Message = await receive()
        assert message["type"] == "lifespan.startup"
        try:
            for app in self.lifespans:
                await stack.enter_async_context(app.router.lifespan_context(app))
        except Exception as exc:
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        await stack.aclose()
        await send({"type": "lifespan.shutdown.complete"})


async def _healthy(scope: Scope, send: Send) -> None:
    body = b'{"status":"ok"}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (INTERACTION_ID_HEADER.encode(), _interaction_id(scope).encode())]})
    await send({"type": "http.response.body", "body": body})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_database(url: str) -> None:
    """Create the sandbox's database when it does not exist (on the same server, through its `postgres` database)."""
    from sqlalchemy import create_engine, make_url, text

    target = make_url(url)
    if not target.database:
        raise ValueError(f"OB_SANDBOX_DATABASE_URL: {url!r} names no database")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": target.database}).first()
            if not exists:
                quoted = connection.dialect.identifier_preparer.quote(target.database)
                connection.execute(text(f"CREATE DATABASE {quoted}"))
                log.info("created the sandbox database %s", target.database)
    finally:
        admin.dispose()


class OwnCredentials:
    """The IdP's credentials for the services' internal endpoints in `local` auth mode: a certificate of the sandbox
    CA of its own and a one-minute token it mints for each call (:class:`~.idp.service.InternalApi.credentials`)."""

    def __init__(self, state: SandboxState) -> None:
        self.own = state.ca.issue_client("sandbox-idp", "sandbox-idp")
        self.header = quote(cert_pem(self.own.certificate).decode(), safe="")
        self.thumbprint = thumbprint_s256(self.own.certificate)
        self.idp: SandboxIdp | None = None

    def __call__(self, scope: str) -> dict[str, str]:
        assert self.idp is not None, "the IdP is set once it exists"
        token = self.idp.mint(client_id="sandbox-idp", tpp_id="sandbox-idp", scope=scope, thumbprint=self.thumbprint,
                              lifetime=60)
        return {"authorization": f"Bearer {token}", CLIENT_CERT_HEADER: self.header}


@dataclass
class Sandbox:
    app: Dispatcher
    settings: ServiceSettings
    state: SandboxState
    idp: SandboxIdp
    closers: list[Callable[[], Any]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def build_sandbox(sandbox: SandboxSettings, *, environment: str | None = None) -> Sandbox:
    """Start moto (DynamoDB), create the tables, create, migrate and seed the sandbox's database, and assemble the
    apps. `environment` (default `OB_ENVIRONMENT`, else `local`) names the Redis cache keys (`ob:<env>:ledger:`)."""
    from moto.server import ThreadedMotoServer

    from openbanking.ais.app import build_app as build_ais
    from openbanking.common.dynamo import create_tables, table_name
    from openbanking.common.dynamo_items import dynamodb_client
    from openbanking.common.jws import load_signer
    from openbanking.events.app import build_app as build_events
    from openbanking.events.publisher import EventPublisher
    from openbanking.events.store import EventStore, SubscriptionStore
    from openbanking.ledger.db import create_ledger_engine
    from openbanking.ledger.migrate import upgrade
    from openbanking.ledger.seed import seed
    from openbanking.pis.app import build_app as build_pis
    from openbanking.pis.funds import LedgerFunds

    from .ca.service import SandboxCa
    from .directory import DirectoryKeyResolver
    from .idp.service import InternalApi, consent_lookup, ledger_accounts, payment_lookup
    from .settlement import SettlementSimulator, settling_payments

    state = SandboxState.open(sandbox.dir, sandbox.base_url)
    closers: list[Callable[[], Any]] = []
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    closers.append(moto.stop)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "sandbox")
    endpoint = f"http://127.0.0.1:{moto_port}"
    overrides: dict[str, Any] = {"environment": environment} if environment else {}
    settings = ServiceSettings(**overrides, auth_mode=AuthMode.LOCAL, dynamodb_endpoint_url=endpoint,
                               sqs_endpoint_url=endpoint, base_url=state.base_url, token_issuer=state.issuer,
                               jwks_url=f"{state.issuer}/jwks", signing_key_path=str(state.aspsp_key_path),
                               database_url=sandbox.database_url, redis_url=sandbox.redis_url)
    create_tables(settings)
    ensure_database(sandbox.database_url)
    engine = create_ledger_engine(settings.database_url)
    closers.append(engine.dispose)
    upgrade(engine)
    seed(engine, customers=sandbox.customers, months=sandbox.months)

    http = httpx.Client(timeout=5.0)
    closers.append(http.close)
    resolver = route_checking_resolver(local_verifier(state, http))
    client = dynamodb_client(settings)
    publisher = EventPublisher(SubscriptionStore(client, table_name(settings, "event_subscriptions")),
                               EventStore(client, table_name(settings, "events")), issuer=state.base_url)
    directory = state.tpp_directory
    keys = DirectoryKeyResolver(directory)
    signer = load_signer(settings)
    ais = build_ais(settings, caller_resolver=resolver, dynamodb=client, engine=engine, publisher=publisher)
    pis = build_pis(settings, caller_resolver=resolver, dynamodb=client, key_resolver=keys, signer=signer,
                    funds=LedgerFunds(engine), publisher=publisher)
    events = build_events(settings, caller_resolver=resolver, dynamodb=client, key_resolver=keys, signer=signer)
    ca = SandboxCa(state.ca, directory)

    credentials = OwnCredentials(state)
    internal = InternalApi(
        ais=httpx.AsyncClient(transport=httpx.ASGITransport(app=ais), base_url="http://sandbox.internal", timeout=30),
        pis=httpx.AsyncClient(transport=httpx.ASGITransport(app=pis), base_url="http://sandbox.internal", timeout=30),
        credentials=credentials)
    idp = SandboxIdp(issuer=state.issuer, token_key=state.idp_key, truststore=Truststore((state.ca.certificate,)),
                     directory=directory, consents=consent_lookup(client, table_name(settings, "consents")),
                     payments=payment_lookup(client, table_name(settings, "payments")),
                     accounts_of=ledger_accounts(engine), internal=internal, aspsp_jwks=signer.public_jwks)
    credentials.idp = idp
    if sandbox.settlement_seconds > 0:
        idp.settlement = SettlementSimulator(settling_payments(client, table_name(settings, "payments")), idp.settled,
                                             step_seconds=sandbox.settlement_seconds)
    idp_app = idp.app(on_close=internal.aclose)
    ca_app = sandbox_app("Open Banking sandbox CA", [ca.router()])
    dispatcher = Dispatcher(
        routes=[("/open-banking/v3.1/aisp", ais), ("/open-banking/v3.1/pisp", pis),
                ("/open-banking/v3.1/event-subscriptions", events), ("/open-banking/v3.1/events", events),
                ("/sandbox", idp_app), *((prefix, ca_app) for prefix in CA_PREFIXES)],
        lifespans=[ais, pis, events, idp_app, ca_app])
    return Sandbox(dispatcher, settings, state, idp, closers)

