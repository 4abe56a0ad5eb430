"""The consent permission rules as properties (hypothesis): the service accepts exactly the valid sets."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbanking.ais.permissions import SUPPORTED, Permission, validate_permissions
from openbanking.common.errors import OBIEError

from .conftest import BASE, headers

CODES = [p.value for p in Permission]


def oracle(codes: list[str]) -> bool:
    """The rules written out independently of the implementation."""
    present = set(codes)
    if not present or any(c not in {p.value for p in SUPPORTED} for c in present):
        return False
    if not present & {"ReadAccountsBasic", "ReadAccountsDetail"}:
        return False
    level = bool(present & {"ReadTransactionsBasic", "ReadTransactionsDetail"})
    direction = bool(present & {"ReadTransactionsCredits", "ReadTransactionsDebits"})
    return level == direction


permission_lists = st.lists(st.sampled_from(CODES), max_size=12)


@given(permission_lists)
@settings(max_examples=400, deadline=None)
def test_validate_permissions_matches_the_rules(codes: list[str]) -> None:
    try:
        granted = validate_permissions(codes)
    except OBIEError as error:
        assert not oracle(codes)
        assert error.status == 400 and error.errors[0].path == "Data.Permissions"
    else:
        assert oracle(codes)
        assert [g.value for g in granted] == list(dict.fromkeys(codes))


@given(permission_lists)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_api_accepts_exactly_the_valid_sets(client: TestClient, codes: list[str]) -> None:
    response = client.post(f"{BASE}/account-access-consents", headers=headers(),
                           json={"Data": {"Permissions": codes}, "Risk": {}})
    assert response.status_code == (201 if oracle(codes) else 400), response.text
