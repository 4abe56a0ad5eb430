"""`build_app`: the events service (event subscriptions and aggregated polling, OBIE v3.1.11)."""

from __future__ import annotations

import time
from collections.abc import Callable
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
from ..common.links import EVENTS_BASE_PATH
from ..common.settings import ServiceSettings
from . import polling, subscriptions
from .callbacks import NameResolver, system_resolver
from .deps import EventsDeps
from .store import EventStore, SubscriptionStore
from .tokens import SetSigner

BASE_PATH = EVENTS_BASE_PATH


def build_app(settings: ServiceSettings, *, caller_resolver: Callable[[Request], Caller] | None = None,
              dynamodb: Any | None = None, key_resolver: KeyResolver | None = None,
              signer: DetachedJwsSigner | None = None, long_poll_seconds: float = 10.0,
              clock: Callable[[], float] = time.time, name_resolver: NameResolver = system_resolver) -> FastAPI:
    """`name_resolver` resolves callback host names (the system's resolver unless a test passes its own)."""
    client = dynamodb if dynamodb is not None else dynamodb_client(settings)
    signer = signer or load_signer(settings)
    deps = EventsDeps(
        base_url=settings.base_url,
        subscriptions=SubscriptionStore(client, table_name(settings, "event_subscriptions")),
        events=EventStore(client, table_name(settings, "events"), clock=clock),
        verifier=DetachedJwsVerifier(key_resolver or key_resolver_from_settings(settings), clock=clock),
        set_signer=SetSigner(signer.key, signer.kid, clock=clock),
        allow_insecure_callbacks=settings.environment == "local", name_resolver=name_resolver,
        callback_domains=None if settings.callback_domains is None else tuple(settings.callback_domains),
        long_poll_seconds=long_poll_seconds)
    app = create_app("Events (OBIE v3.1.11)", [(BASE_PATH, subscriptions.router), (BASE_PATH, polling.router)],
                     deps=deps, caller_resolver=resolve_caller(settings, caller_resolver),
                     request_metrics=(settings.environment, "events") if settings.request_metrics else None)
    app.add_middleware(SignedResponseMiddleware, signer=signer)  # type: ignore[arg-type]
    return app
