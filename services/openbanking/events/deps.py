"""What the events routes share: `EventsDeps`, built once per application by `build_app` and kept on
`app.state.deps`, reached by routes through the `Deps` dependency; and who may call them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ..common.context import Caller, CallerDep, forbidden
from ..common.errors import ErrorCode
from ..common.jws import DetachedJwsVerifier
from .callbacks import NameResolver
from .store import EventStore, SubscriptionStore
from .tokens import SetSigner

#: The spec's security requirement for every events operation: a client-credentials token with any of these.
EVENT_SCOPES = frozenset({"accounts", "payments", "fundsconfirmations"})


@dataclass(frozen=True)
class EventsDeps:
    """Everything an events request needs (nothing global)."""

    #: The public base URL (absolute Links).
    base_url: str
    #: Event subscriptions in DynamoDB.
    subscriptions: SubscriptionStore
    #: Undelivered events per TPP, for aggregated polling.
    events: EventStore
    #: Verifies the TPP's request `x-jws-signature`.
    verifier: DetachedJwsVerifier
    #: Signs the SETs polling hands out.
    set_signer: SetSigner
    #: Whether loopback callbacks (http too) are accepted (`local` only).
    allow_insecure_callbacks: bool
    #: Resolves a callback's host name, to refuse callbacks that are not on the public internet.
    name_resolver: NameResolver
    #: The bank's TPP callback domains a callback's host must be on (`OB_CALLBACK_DOMAINS`); None: any public host.
    callback_domains: tuple[str, ...] | None
    #: How long `returnImmediately: false` waits for an event.
    long_poll_seconds: float
    #: The most events one poll returns.
    max_events: int = 100


def get_deps(request: Request) -> EventsDeps:
    """FastAPI dependency: the container `build_app` put on `app.state.deps`."""
    return request.app.state.deps


Deps = Annotated[EventsDeps, Depends(get_deps)]


def event_caller(caller: CallerDep) -> Caller:
    if not caller.scopes & EVENT_SCOPES:
        raise forbidden("the access token carries none of the scopes accounts, payments, fundsconfirmations",
                        ErrorCode.HEADER_INVALID)
    return caller


EventCaller = Annotated[Caller, Depends(event_caller)]
