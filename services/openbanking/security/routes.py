"""Which token each OBIE route accepts: its scope and its grant, decided without a database call.

From the v3.1.11 specs' security requirements: `TPPOAuth2Security` routes take a client-credentials token (no
consent), `PSUOAuth2Security` routes an authorisation-code token whose `openbanking_intent_id` is a consent of
the route's type, recognised by its prefix (services.md: account-access `aac-`, domestic-payment `pdc-`). The event
routes accept any of the three API scopes. Routes not in this table (including `/internal/...`) are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

AISP_BASE = "/open-banking/v3.1/aisp"
PISP_BASE = "/open-banking/v3.1/pisp"
EVENTS_BASE = "/open-banking/v3.1"


class Grant(StrEnum):
    """What the token must carry besides the scope."""

    CLIENT_CREDENTIALS = "client_credentials"  # no consent: the TPP acting for itself
    ACCOUNT_ACCESS = "aac-"  # authorised by a PSU for an account-access consent
    DOMESTIC_PAYMENT = "pdc-"  # authorised by a PSU for a domestic-payment consent


@dataclass(frozen=True)
class RoutePolicy:
    method: str
    template: str  # full path template, e.g. /open-banking/v3.1/aisp/accounts/{AccountId}
    scopes: frozenset[str]  # any one of them suffices
    grant: Grant

    def refusal(self, scopes: frozenset[str], consent_id: str | None) -> str | None:
        """Why a token with `scopes` and `consent_id` may not call this route, or None when it may."""
        if not scopes & self.scopes:
            return f"{self.method} {self.template} needs the scope {' or '.join(sorted(self.scopes))}"
        if self.grant is Grant.CLIENT_CREDENTIALS:
            if consent_id:
                return f"{self.method} {self.template} needs a client-credentials token, not one issued for a consent"
            return None
        if not consent_id:
            return f"{self.method} {self.template} needs a token the PSU authorised for a consent"
        if not consent_id.startswith(self.grant.value):
            return f"{self.method} {self.template} needs a consent of type '{self.grant.value}', not '{consent_id}'"
        return None


_ACCOUNTS = frozenset({"accounts"})
_PAYMENTS = frozenset({"payments"})
_EVENTS = frozenset({"accounts", "payments", "fundsconfirmations"})
_CC, _AAC, _PDC = Grant.CLIENT_CREDENTIALS, Grant.ACCOUNT_ACCESS, Grant.DOMESTIC_PAYMENT

_AIS_CONSENT_ROUTES = [("POST", "/account-access-consents"), ("GET", "/account-access-consents/{ConsentId}"),
                       ("DELETE", "/account-access-consents/{ConsentId}")]
_AIS_RESOURCE_ROUTES = [
    "/accounts", "/accounts/{AccountId}", "/accounts/{AccountId}/balances", "/accounts/{AccountId}/beneficiaries",
    "/accounts/{AccountId}/direct-debits", "/accounts/{AccountId}/offers", "/accounts/{AccountId}/parties",
    "/accounts/{AccountId}/party", "/accounts/{AccountId}/product", "/accounts/{AccountId}/scheduled-payments",
    "/accounts/{AccountId}/standing-orders", "/accounts/{AccountId}/statements",
    "/accounts/{AccountId}/statements/{StatementId}", "/accounts/{AccountId}/statements/{StatementId}/file",
    "/accounts/{AccountId}/statements/{StatementId}/transactions", "/accounts/{AccountId}/transactions",
    "/balances", "/beneficiaries", "/direct-debits", "/offers", "/party", "/products", "/scheduled-payments",
    "/standing-orders", "/statements", "/transactions",
]
_PIS_ROUTES = [
    ("POST", "/domestic-payment-consents", _CC), ("GET", "/domestic-payment-consents/{ConsentId}", _CC),
    ("GET", "/domestic-payment-consents/{ConsentId}/funds-confirmation", _PDC),
    ("POST", "/domestic-payments", _PDC), ("GET", "/domestic-payments/{DomesticPaymentId}", _CC),
    ("GET", "/domestic-payments/{DomesticPaymentId}/payment-details", _CC),
]
_EVENT_ROUTES = [("POST", "/event-subscriptions"), ("GET", "/event-subscriptions"),
                 ("PUT", "/event-subscriptions/{EventSubscriptionId}"),
                 ("DELETE", "/event-subscriptions/{EventSubscriptionId}"), ("POST", "/events")]

ROUTES: tuple[RoutePolicy, ...] = (
    *(RoutePolicy(m, AISP_BASE + p, _ACCOUNTS, _CC) for m, p in _AIS_CONSENT_ROUTES),
    *(RoutePolicy("GET", AISP_BASE + p, _ACCOUNTS, _AAC) for p in _AIS_RESOURCE_ROUTES),
    *(RoutePolicy(m, PISP_BASE + p, _PAYMENTS, g) for m, p, g in _PIS_ROUTES),
    *(RoutePolicy(m, EVENTS_BASE + p, _EVENTS, _CC) for m, p in _EVENT_ROUTES),
)

_SEGMENT = r"[^/]+"


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{[A-Za-z]+\\\}", _SEGMENT, re.escape(template))
    return re.compile(f"^{pattern}/?$")


_FULL = [(policy, _compile(policy.template)) for policy in ROUTES]
#: The same routes without their base path: API Gateway's `resource` when each API is mapped under its base path.
_RELATIVE = [(policy, _compile(policy.template.removeprefix(base)))
             for policy in ROUTES
             for base in (AISP_BASE, PISP_BASE, EVENTS_BASE) if policy.template.startswith(base + "/")
             and (base != EVENTS_BASE or not policy.template.startswith((AISP_BASE, PISP_BASE)))]


def policy_for(method: str, path: str) -> RoutePolicy | None:
    """The policy of the route `method path` (a concrete path or an API Gateway resource template), or None."""
    method = method.upper()
    for table in (_FULL, _RELATIVE):
        for policy, pattern in table:
            if policy.method == method and pattern.match(path):
                return policy
    return None
