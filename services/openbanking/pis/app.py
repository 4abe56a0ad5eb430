"""`build_app`: the payment-initiation service (OBIE v3.1.11 PIS, domestic payments) as a FastAPI app.

Dependencies come from the settings unless passed in (tests and the sandbox pass their own): the DynamoDB
client, the TPP key resolver for request signatures, the ASPSP's response signer, the ledger-backed funds
check and the event publisher (None: no events).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request

from ..common.app import create_app
from ..common.callers import resolve_caller
from ..common.context import Caller
from ..common.dynamo import table_name
from ..common.dynamo_items import dynamodb_client
from ..common.jws import (
    DetachedJwsSigner,
    DetachedJwsVerifier,
    KeyResolver,
    SignedResponseMiddleware,
    key_resolver_from_settings,
    load_signer,
)
from ..common.settings import ServiceSettings
from ..events.publisher import EventPublisher
from . import consents, internal, payments
from .deps import PisDeps
from .documents import BASE_PATH
from .funds import FundsChecker, LedgerFunds
from .idempotency import IdempotencyStore
from .store import PaymentStore

INTERNAL_PATH = "/internal/pisp"


def build_app(settings: ServiceSettings, *, caller_resolver: Callable[[Request], Caller] | None = None,
              dynamodb: Any | None = None, key_resolver: KeyResolver | None = None,
              signer: DetachedJwsSigner | None = None, funds: FundsChecker | None = None,
              publisher: EventPublisher | None = None, clock: Callable[[], float] = time.time,
              idempotency_wait_seconds: float = 10.0) -> FastAPI:
    client = dynamodb if dynamodb is not None else dynamodb_client(settings)
    if funds is None:
        from ..ledger.db import engine_from_settings  # the ledger engine only when no checker is given
        funds = LedgerFunds(engine_from_settings(settings))

    def now() -> datetime:
        return datetime.fromtimestamp(clock(), UTC)

    deps = PisDeps(
        base_url=settings.base_url,
        store=PaymentStore(client, table_name(settings, "consents"), table_name(settings, "payments"), now=now),
        idempotency=IdempotencyStore(client, table_name(settings, "idempotency"), clock=clock,
                                     wait_seconds=idempotency_wait_seconds),
        verifier=DetachedJwsVerifier(key_resolver or key_resolver_from_settings(settings), clock=clock),
        funds=funds, publisher=publisher, now=now)
    app = create_app("Payment initiation (OBIE v3.1.11)",
                     [(BASE_PATH, consents.router), (BASE_PATH, payments.router), (INTERNAL_PATH, internal.router)],
                     deps=deps, caller_resolver=resolve_caller(settings, caller_resolver),
                     request_metrics=(settings.environment, "pis") if settings.request_metrics else None)
    app.add_middleware(SignedResponseMiddleware, signer=signer or load_signer(settings))  # type: ignore[arg-type]
    return app
