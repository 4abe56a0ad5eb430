"""The sandbox server: the AIS, PIS and events apps in `local` auth mode plus the sandbox IdP, on one port.

Requests are dispatched by path prefix, as API Gateway's base-path mappings would; `/internal/...` is not exposed
(only the sandbox IdP calls it, in-process). Each service verifies the caller itself with
:class:`~openbanking.security.tokens.LocalTokenVerifier` (certificate chain to the sandbox CA, OCSP/CRL served by the
sandbox, token bound to the certificate) and applies the route table the Lambda authorizer enforces in AWS.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from openbanking.common.context import Caller, forbidden, local_caller
from openbanking.common.errors import ErrorCode, ErrorDetail, error_body
from openbanking.common.settings import AuthMode, ServiceSettings
from openbanking.security.certificates import Truststore
from openbanking.security.revocation import RevocationChecker
from openbanking.security.routes import policy_for
from openbanking.security.tokens import AccessTokenVerifier, JwksCache, LocalTokenVerifier, MtlsAuthenticator

from .state import SandboxState

#: Revocation verdicts are cached for 60 s in the sandbox (<= 5 min in AWS), so `revoke` shows quickly.
SANDBOX_REVOCATION_CACHE_SECONDS = 60


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


@dataclass
class Dispatcher:
    """One ASGI app in front of several: the longest matching prefix wins; lifespans of all apps are run."""

    routes: Sequence[tuple[str, ASGIApp]]
    fallback: ASGIApp
    hidden: tuple[str, ...] = ("/internal",)
    lifespans: list[FastAPI] = field(default_factory=list)

    def _target(self, path: str) -> ASGIApp | None:
        if any(path == h or path.startswith(h + "/") for h in self.hidden):
            return None
        for prefix, app in sorted(self.routes, key=lambda r: -len(r[0])):
            if path == prefix or path.startswith(prefix + "/"):
                return app
        return self.fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        target = self._target(scope.get("path", ""))
        if target is None:
            await _not_found(send)
            return
        await target(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        stack = AsyncExitStack()
        message = await receive()
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


async def _not_found(send: Send) -> None:
    body = json.dumps(error_body(404, [ErrorDetail(ErrorCode.RESOURCE_NOT_FOUND, "this endpoint is not exposed")],
                                 None)).encode()
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Sandbox:
    app: Dispatcher
    settings: ServiceSettings
    state: SandboxState
    closers: list[Callable[[], Any]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def build_sandbox(state: SandboxState, *, port: int, customers: int = 5, months: int = 6,
                  environment: str | None = None) -> Sandbox:
    """Start moto (DynamoDB), create the tables, migrate and seed PostgreSQL, and assemble the apps.

    `environment` (default `OB_ENVIRONMENT`, else `local`) names the Redis cache keys (`ob:<env>:ledger:`), so two
    sandboxes sharing one Redis (a developer's and a test's) never read each other's cached ledger."""
    from moto.server import ThreadedMotoServer
    from sqlalchemy import select

    from openbanking.ais.app import build_app as build_ais
    from openbanking.common.dynamo import create_tables, table_name
    from openbanking.common.dynamo_items import dynamodb_client, from_item, to_item
    from openbanking.events.app import build_app as build_events
    from openbanking.events.publisher import EventPublisher
    from openbanking.events.store import EventStore, SubscriptionStore
    from openbanking.ledger.db import create_ledger_engine
    from openbanking.ledger.migrate import upgrade
    from openbanking.ledger.models import Account
    from openbanking.ledger.seed import seed
    from openbanking.pis.app import build_app as build_pis

    from .idp import SandboxIdp
    from .state import SandboxKeyResolver

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
                               jwks_url=f"{state.issuer}/jwks", signing_key_path=str(state.aspsp_key_path))
    create_tables(settings)
    engine = create_ledger_engine(settings.database_url)
    closers.append(engine.dispose)
    upgrade(engine)
    seed(engine, customers=customers, months=months)

    http = httpx.Client(timeout=5.0)
    closers.append(http.close)
    resolver = route_checking_resolver(local_verifier(state, http))
    client = dynamodb_client(settings)
    publisher = EventPublisher(SubscriptionStore(client, table_name(settings, "event_subscriptions")),
                               EventStore(client, table_name(settings, "events")), issuer=state.base_url)
    keys = SandboxKeyResolver(state)
    ais = build_ais(settings, caller_resolver=resolver, dynamodb=client, engine=engine, publisher=publisher)
    pis = build_pis(settings, caller_resolver=resolver, dynamodb=client, key_resolver=keys, publisher=publisher)
    events = build_events(settings, caller_resolver=resolver, dynamodb=client, key_resolver=keys)

    consents_table = table_name(settings, "consents")

    def consent_owner(consent_id: str) -> tuple[str, str] | None:
        item = client.get_item(TableName=consents_table, Key=to_item({"ConsentId": consent_id})).get("Item")
        if not item:
            return None
        values = from_item(item)
        return str(values.get("TppId", "")), str(values.get("Status", ""))

    def accounts_of(psu_id: str) -> list[str]:
        with engine.connect() as connection:
            rows = connection.execute(select(Account.account_id).where(Account.psu_id == psu_id)
                                      .order_by(Account.account_id))
            return [row[0] for row in rows]

    idp = SandboxIdp(state, consents=consent_owner, services={"aac": ais, "pdc": pis}, accounts_of=accounts_of)
    idp_app = idp.app()
    dispatcher = Dispatcher(
        routes=[("/open-banking/v3.1/aisp", ais), ("/open-banking/v3.1/pisp", pis),
                ("/open-banking/v3.1/event-subscriptions", events), ("/open-banking/v3.1/events", events),
                ("/sandbox", idp_app)],
        fallback=idp_app, lifespans=[ais, pis, events, idp_app])
    return Sandbox(dispatcher, settings, state, closers)


def instructions(base_url: str, state_dir: str) -> str:
    """What `make sandbox` prints: how to get credentials and a token, and a first request."""
    return f"""
Open Banking sandbox on {base_url}
  AIS    {base_url}/open-banking/v3.1/aisp/...
  PIS    {base_url}/open-banking/v3.1/pisp/...
  Events {base_url}/open-banking/v3.1/event-subscriptions, /events
  IdP    {base_url}/sandbox/token, /sandbox/authorize, /sandbox/jwks (OCSP/CRL: /sandbox/ocsp, /sandbox/crl)

1. A client certificate (signed by the sandbox CA in {state_dir}/, revocable) and a request-signing key:
     cd services && ../.venv/bin/python -m openbanking.sandbox credentials --tpp-id my-tpp --out ../tpp
   (no TLS locally: the certificate travels URL-encoded in x-amzn-mtls-clientcert, as behind an ALB;
    tpp/mtls-header.txt holds that header for curl -H @tpp/mtls-header.txt)
2. A client-credentials token bound to the certificate:
     TOKEN=$(curl -s -H @tpp/mtls-header.txt -d grant_type=client_credentials -d scope=accounts \\
       {base_url}/sandbox/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
3. An account-access consent:
     curl -s -H @tpp/mtls-header.txt -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"Data":{{"Permissions":["ReadAccountsDetail","ReadBalances","ReadTransactionsDetail",\
"ReadTransactionsCredits","ReadTransactionsDebits"]}},"Risk":{{}}}}' \\
       {base_url}/open-banking/v3.1/aisp/account-access-consents
4. The PSU authorises it (psu-0001 ... are seeded) and you get the consent-bound token:
     curl -s -H @tpp/mtls-header.txt -H 'Content-Type: application/json' \\
       -d '{{"ConsentId":"aac-...","PsuId":"psu-0001"}}' {base_url}/sandbox/authorize
5. Read:  curl -s -H @tpp/mtls-header.txt -H "Authorization: Bearer $ACCESS_TOKEN" \\
       {base_url}/open-banking/v3.1/aisp/accounts
Revoke a certificate: python -m openbanking.sandbox revoke --cert tpp/client.pem (effective within 60 s).
Requests without valid credentials get 401/403 with an OBIE error body.
"""
