"""The OBIE operations the services implement: what the api account's REST API publishes, and nothing else.

Plain data the infrastructure imports (standard library only), like :mod:`openbanking.deployables`. Each
operation names the service that serves it, its full path and where it is described in the official v3.1.11
specs (services/specs/obie-v3.1.11/). A test ties this list to the routes the FastAPI apps really serve, both
ways, and to the specs. The `/internal/...` routes (the IdP records the PSU's decision there) are not public:
they are reached through PrivateLink from the identity account only, never through the API gateway.
"""

from __future__ import annotations

from dataclasses import dataclass

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
