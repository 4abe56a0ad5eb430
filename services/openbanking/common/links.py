"""Where the OBIE resources live on the public API: the base paths of the three services and the links of the
resources events are raised about. One place, so a link in a response and in an event (built by the outbox relay,
far from the service) are the same string."""

from __future__ import annotations

AIS_BASE_PATH = "/open-banking/v3.1/aisp"
PIS_BASE_PATH = "/open-banking/v3.1/pisp"
EVENTS_BASE_PATH = "/open-banking/v3.1"


def _absolute(base_url: str, path: str) -> str:
    return f"{base_url.rstrip('/')}{path}"


def account_access_consent_link(base_url: str, consent_id: str) -> str:
    return _absolute(base_url, f"{AIS_BASE_PATH}/account-access-consents/{consent_id}")


def payment_consent_link(base_url: str, consent_id: str) -> str:
    return _absolute(base_url, f"{PIS_BASE_PATH}/domestic-payment-consents/{consent_id}")


def payment_link(base_url: str, payment_id: str) -> str:
    return _absolute(base_url, f"{PIS_BASE_PATH}/domestic-payments/{payment_id}")
