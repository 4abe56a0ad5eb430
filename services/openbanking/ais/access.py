"""Who may read what: the service's dependencies and the consent checks every resource endpoint makes.

A resource request needs the `accounts` scope and an authorisation-code token for an `aac-` consent that
is Authorised, not expired, not deleted and belongs to the calling TPP (403 otherwise). An AccountId the
consent does not cover is answered like an unknown id (400): a TPP learns nothing about accounts it was
not given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from openbanking.common.context import Caller, forbidden, require_scope
from openbanking.common.errors import ErrorCode, unknown_resource
from openbanking.common.settings import ServiceSettings
from openbanking.events.models import ResourceUpdate
from openbanking.ledger.cache import LedgerCache

from .permissions import Grants
from .store import AccessConsent, ConsentStore

BASE_PATH = "/open-banking/v3.1/aisp"
ACCOUNTS_SCOPE = "accounts"
AUTHORISATION_SCOPE = "openbanking:consent-authorisation"


class EventPublisher(Protocol):
    """`openbanking.events.publisher.EventPublisher` as AIS uses it (consent revocation events)."""

    def publish(self, tpp_id: str, event_type: str, subject: ResourceUpdate) -> Any: ...


@dataclass
class AisDeps:
    """Everything a request needs, built once per application (nothing global)."""

    settings: ServiceSettings
    consents: ConsentStore
    sessions: sessionmaker[Session]
    cache: LedgerCache
    now: Callable[[], datetime]
    publisher: EventPublisher | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def url(self, request: Request) -> str:
        """The absolute URL of this request as the TPP addressed it (`Links.Self`)."""
        query = request.url.query
        return f"{self.settings.base_url.rstrip('/')}{request.url.path}{'?' + query if query else ''}"

    def resource_url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}{BASE_PATH}{path}"


def deps_of(request: Request) -> AisDeps:
    return request.app.state.ais


Deps = Annotated[AisDeps, Depends(deps_of)]
AccountsCaller = Annotated[Caller, Depends(require_scope(ACCOUNTS_SCOPE))]


@dataclass(frozen=True)
class Access:
    """An authorised consent as a request may use it."""

    consent: AccessConsent
    grants: Grants

    def account(self, account_id: str) -> str:
        if account_id not in self.consent.account_ids:
            raise unknown_resource("Account", "AccountId")
        return account_id


def consent_access(caller: AccountsCaller, deps: Deps) -> Access:
    """The Authorised consent the access token was issued for (403 when there is none that may be used)."""
    if not caller.consent_id:
        raise forbidden("this resource needs an access token issued for an account-access consent")
    consent = deps.consents.get(caller.consent_id)
    if consent is None or consent.deleted:
        raise forbidden("the consent of this access token does not exist or was revoked",
                        ErrorCode.RESOURCE_INVALID_CONSENT_STATUS)
    if consent.tpp_id != caller.tpp_id:
        raise forbidden("the consent of this access token belongs to another TPP")
    if consent.status != "Authorised":
        raise forbidden(f"the consent is {consent.status}, not Authorised", ErrorCode.RESOURCE_INVALID_CONSENT_STATUS)
    if consent.expired(deps.now()):
        raise forbidden("the consent has expired", ErrorCode.RESOURCE_INVALID_CONSENT_STATUS)
    return Access(consent, Grants.of(consent.permissions))


ConsentAccess = Annotated[Access, Depends(consent_access)]
