"""The route table: scopes and consent types per OBIE route, and nothing else is reachable."""

from __future__ import annotations

import pytest

from openbanking.security.routes import ROUTES, Grant, policy_for

AIS, PIS, EV = "/open-banking/v3.1/aisp", "/open-banking/v3.1/pisp", "/open-banking/v3.1"
AAC, PDC = "aac-4b6f2c1e-1d2b-4c5e-9f0a-1b2c3d4e5f60", "pdc-4b6f2c1e-1d2b-4c5e-9f0a-1b2c3d4e5f60"


@pytest.mark.parametrize(("method", "path", "scopes", "consent", "allowed"), [
    ("POST", f"{AIS}/account-access-consents", {"accounts"}, None, True),
    ("POST", f"{AIS}/account-access-consents", {"payments"}, None, False),
    ("POST", f"{AIS}/account-access-consents", {"accounts"}, AAC, False),  # needs client credentials
    ("GET", f"{AIS}/accounts/acc-1/transactions", {"accounts"}, AAC, True),
    ("GET", f"{AIS}/accounts/acc-1/transactions", {"accounts"}, None, False),
    ("GET", f"{AIS}/accounts/acc-1/transactions", {"accounts"}, PDC, False),
    ("GET", f"{AIS}/accounts", {"payments"}, AAC, False),
    ("POST", f"{PIS}/domestic-payment-consents", {"payments"}, None, True),
    ("GET", f"{PIS}/domestic-payment-consents/{PDC}/funds-confirmation", {"payments"}, PDC, True),
    ("GET", f"{PIS}/domestic-payment-consents/{PDC}/funds-confirmation", {"payments"}, None, False),
    ("POST", f"{PIS}/domestic-payments", {"payments"}, PDC, True),
    ("POST", f"{PIS}/domestic-payments", {"payments"}, AAC, False),
    ("POST", f"{PIS}/domestic-payments", {"accounts"}, PDC, False),
    ("GET", f"{PIS}/domestic-payments/pdp-1", {"payments"}, None, True),
    ("POST", f"{EV}/event-subscriptions", {"accounts"}, None, True),
    ("POST", f"{EV}/events", {"payments"}, None, True),
    ("DELETE", f"{EV}/event-subscriptions/esub-1", {"openid"}, None, False),
])
def test_route_decisions(method: str, path: str, scopes: set[str], consent: str | None, allowed: bool) -> None:
    policy = policy_for(method, path)
    assert policy is not None
    assert (policy.refusal(frozenset(scopes), consent) is None) is allowed


@pytest.mark.parametrize(("method", "path"), [
    ("POST", f"{AIS}/accounts"), ("GET", "/internal/aisp/account-access-consents/aac-1/authorisation"),
    ("POST", "/internal/pisp/domestic-payment-consents/pdc-1/authorisation"), ("GET", f"{AIS}/accounts/a/b/c/d"),
    ("GET", f"{PIS}/international-payments/x"), ("GET", "/health"),
])
def test_unknown_routes_have_no_policy(method: str, path: str) -> None:
    assert policy_for(method, path) is None


def test_api_gateway_resource_templates_match() -> None:
    policy = policy_for("GET", "/accounts/{AccountId}/balances")
    assert policy is not None and policy.grant is Grant.ACCOUNT_ACCESS
    assert policy_for("POST", "/domestic-payments") == policy_for("POST", f"{PIS}/domestic-payments")


def test_every_route_is_unique() -> None:
    assert len({(p.method, p.template) for p in ROUTES}) == len(ROUTES)
