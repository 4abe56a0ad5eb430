"""Who may read what: the consent checks every resource endpoint makes.

A resource request needs the `accounts` scope and an authorisation-code token for an `aac-` consent that
is Authorised, not expired, not deleted and belongs to the calling TPP (403 otherwise). An AccountId the
consent does not cover is answered like an unknown id (400): a TPP learns nothing about accounts it was
not given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from openbanking.claims import CONSENT_AUTHORISATION_SCOPE
from openbanking.common.context import Caller, forbidden, require_scope
from openbanking.common.errors import ErrorCode, unknown_resource

from .deps import Deps
from .permissions import Grants
from .store import AccessConsent

ACCOUNTS_SCOPE = "accounts"
AUTHORISATION_SCOPE = CONSENT_AUTHORISATION_SCOPE  # the IdP reports PSU decisions with it (openbanking.claims)

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
