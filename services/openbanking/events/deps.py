"""What the events routes share (kept on `app.state.events` by `build_app`), and who may call them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ..common.context import Caller, CallerDep, forbidden
from ..common.errors import ErrorCode
from ..common.jws import DetachedJwsVerifier
from .store import EventStore, SubscriptionStore
from .tokens import SetSigner

#: The spec's security requirement for every events operation: a client-credentials token with any of these.
EVENT_SCOPES = frozenset({"accounts", "payments", "fundsconfirmations"})


@dataclass
class EventServices:
    base_url: str
    subscriptions: SubscriptionStore
    events: EventStore
    verifier: DetachedJwsVerifier
    set_signer: SetSigner
    allow_insecure_callbacks: bool
    long_poll_seconds: float
    max_events: int = 100


def services(request: Request) -> EventServices:
    return request.app.state.events


def event_caller(caller: CallerDep) -> Caller:
    if not caller.scopes & EVENT_SCOPES:
        raise forbidden("the access token carries none of the scopes accounts, payments, fundsconfirmations",
                        ErrorCode.HEADER_INVALID)
    return caller


EventCaller = Annotated[Caller, Depends(event_caller)]
Services = Annotated[EventServices, Depends(services)]
