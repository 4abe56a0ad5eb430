"""The OBIE operations the services implement: what the api account's REST API publishes, and nothing else.

Plain data the infrastructure imports (standard library only), like :mod:`openbanking.deployables`. Each
operation names the service that serves it, its full path and where it is described in the official v3.1.11
specs (services/specs/obie-v3.1.11/). A test ties this list to the routes the FastAPI apps really serve, both
ways, and to the specs. The `/internal/...` routes (the IdP records the PSU's decision there) are not public:
they are reached through PrivateLink from the identity account only, never through the API gateway.

The deployed sandbox publishes its own deployables' routes too (:data:`SANDBOX_ROUTES`): the IdP's behind the
sandbox's mutual-TLS entry (the client authenticated by its certificate, not by the API authorizer), and the CA's
and the published keys on an entry without client certificates (a TPP has none before the CA issues it one, and
the authorizer fetches OCSP, CRL and JWKS there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Spec file -> the base path its `servers` entry gives (the full path is base + spec path).
SPECS: dict[str, str] = {
    "account-info-openapi.yaml": "/open-banking/v3.1/aisp",
    "payment-initiation-openapi.yaml": "/open-banking/v3.1/pisp",
    "events-openapi.yaml": "/open-banking/v3.1",
}
SPEC_DIRECTORY = "specs/obie-v3.1.11"  # relative to services/


@dataclass(frozen=True)
class Operation:
    """One implemented operation."""

    #: The deployable serving it (`ais`, `pis`, `events`).
    service: str
    #: Upper-case HTTP method.
    method: str
    #: The spec file describing it (a key of :data:`SPECS`).
    spec: str
    #: Its path in the spec, relative to the spec's base path, e.g. `/accounts/{AccountId}`.
    spec_path: str

    @property
    def path(self) -> str:
        """The full path the REST API serves, e.g. `/open-banking/v3.1/aisp/accounts/{AccountId}`."""
        return SPECS[self.spec] + self.spec_path


_AIS, _PIS, _EVENTS = "account-info-openapi.yaml", "payment-initiation-openapi.yaml", "events-openapi.yaml"

OPERATIONS: tuple[Operation, ...] = (
    *(Operation("ais", m, _AIS, p) for m, p in (
        ("POST", "/account-access-consents"),
        ("GET", "/account-access-consents/{ConsentId}"),
        ("DELETE", "/account-access-consents/{ConsentId}"),
        ("GET", "/accounts"),
        ("GET", "/accounts/{AccountId}"),
        ("GET", "/accounts/{AccountId}/balances"),
        ("GET", "/accounts/{AccountId}/transactions"),
        ("GET", "/accounts/{AccountId}/beneficiaries"),
        ("GET", "/accounts/{AccountId}/standing-orders"),
        ("GET", "/accounts/{AccountId}/direct-debits"),
        ("GET", "/accounts/{AccountId}/party"),
        ("GET", "/accounts/{AccountId}/product"),
        ("GET", "/party"),
    )),
    *(Operation("pis", m, _PIS, p) for m, p in (
        ("POST", "/domestic-payment-consents"),
        ("GET", "/domestic-payment-consents/{ConsentId}"),
        ("GET", "/domestic-payment-consents/{ConsentId}/funds-confirmation"),
        ("POST", "/domestic-payments"),
        ("GET", "/domestic-payments/{DomesticPaymentId}"),
        ("GET", "/domestic-payments/{DomesticPaymentId}/payment-details"),
    )),
    *(Operation("events", m, _EVENTS, p) for m, p in (
        ("POST", "/event-subscriptions"),
        ("GET", "/event-subscriptions"),
        ("PUT", "/event-subscriptions/{EventSubscriptionId}"),
        ("DELETE", "/event-subscriptions/{EventSubscriptionId}"),
        ("POST", "/events"),
    )),
)


#: Where a sandbox route is published: `mtls`, the sandbox's mutual-TLS entry (the IdP authenticates the client by
#: the certificate the entry passes it); `open`, the entry without client certificates (the CA, the keys).
Entry = Literal["mtls", "open"]


@dataclass(frozen=True)
class SandboxRoute:
    """One route of the sandbox's own deployables, as its entries publish it."""

    #: The deployable serving it (`sandbox_idp`, `sandbox_ca`).
    service: str
    #: Upper-case HTTP method.
    method: str
    #: The path, e.g. `/sandbox/tpps/{TppId}/certificates`.
    path: str
    #: The entries that publish it.
    entries: tuple[Entry, ...]


_IDP, _CA = "sandbox_idp", "sandbox_ca"

SANDBOX_ROUTES: tuple[SandboxRoute, ...] = (
    SandboxRoute(_IDP, "POST", "/sandbox/token", ("mtls",)),
    SandboxRoute(_IDP, "POST", "/sandbox/authorize", ("mtls",)),
    SandboxRoute(_IDP, "POST", "/sandbox/consent-revocations", ("mtls",)),
    SandboxRoute(_IDP, "POST", "/sandbox/domestic-payments/{DomesticPaymentId}/status", ("mtls",)),
    SandboxRoute(_IDP, "GET", "/sandbox/jwks", ("mtls", "open")),
    SandboxRoute(_IDP, "GET", "/sandbox/aspsp/jwks", ("mtls", "open")),
    SandboxRoute(_CA, "GET", "/sandbox/ca.pem", ("open",)),
    SandboxRoute(_CA, "POST", "/sandbox/ocsp", ("open",)),
    SandboxRoute(_CA, "GET", "/sandbox/crl", ("open",)),
    SandboxRoute(_CA, "POST", "/sandbox/tpps", ("open",)),
    SandboxRoute(_CA, "GET", "/sandbox/tpps/{TppId}/jwks", ("open",)),
    SandboxRoute(_CA, "POST", "/sandbox/tpps/{TppId}/certificates", ("open",)),
    SandboxRoute(_CA, "POST", "/sandbox/tpps/{TppId}/keys", ("open",)),
    SandboxRoute(_CA, "POST", "/sandbox/tpps/{TppId}/revocations", ("open",)),
)
