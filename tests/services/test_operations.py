"""The published operations are exactly the routes the services serve, each described in the official specs."""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.routing import APIRoute

from openbanking.ais import accounts as ais_accounts
from openbanking.ais import consents as ais_consents
from openbanking.common.links import AIS_BASE_PATH, EVENTS_BASE_PATH, PIS_BASE_PATH
from openbanking.events import polling, subscriptions
from openbanking.operations import OPERATIONS, SPEC_DIRECTORY, SPECS
from openbanking.pis import consents as pis_consents
from openbanking.pis import payments as pis_payments
from openbanking.security.routes import policy_for

SERVICES = Path(__file__).resolve().parents[2] / "services"
#: The public routers of each service, under the base path its app mounts them at.
PUBLIC_ROUTERS = {
    "ais": [(AIS_BASE_PATH, ais_consents.router), (AIS_BASE_PATH, ais_accounts.router)],
    "pis": [(PIS_BASE_PATH, pis_consents.router), (PIS_BASE_PATH, pis_payments.router)],
    "events": [(EVENTS_BASE_PATH, subscriptions.router), (EVENTS_BASE_PATH, polling.router)],
}


def served() -> set[tuple[str, str, str]]:
    return {(service, method, base + route.path)
            for service, routers in PUBLIC_ROUTERS.items() for base, router in routers
            for route in router.routes if isinstance(route, APIRoute) for method in route.methods or ()}


def test_the_published_operations_are_exactly_the_served_routes() -> None:
    assert {(o.service, o.method, o.path) for o in OPERATIONS} == served()
    assert len(OPERATIONS) == len({(o.method, o.path) for o in OPERATIONS})


def test_every_operation_is_in_its_official_spec_under_its_base_path() -> None:
    for spec, base in SPECS.items():
        document = yaml.safe_load((SERVICES / SPEC_DIRECTORY / spec).read_text())
        assert [s["url"] for s in document["servers"]] == [base]
        for operation in (o for o in OPERATIONS if o.spec == spec):
            assert operation.method.lower() in document["paths"][operation.spec_path], operation


def test_the_authorizer_knows_every_published_operation() -> None:
    for operation in OPERATIONS:
        assert policy_for(operation.method, operation.path) is not None, operation


def test_the_sandbox_routes_are_exactly_what_its_idp_and_ca_serve() -> None:
    from openbanking.operations import SANDBOX_ROUTES
    from openbanking.sandbox.ca.service import SandboxCa
    from openbanking.sandbox.idp.service import SandboxIdp

    # the routers only close over the service: an instance without state lists their routes
    routers = {"sandbox_idp": SandboxIdp.__new__(SandboxIdp).router(), "sandbox_ca": SandboxCa.__new__(SandboxCa).router()}
    served_routes = {(service, method, route.path) for service, router in routers.items() for route in router.routes
                     if isinstance(route, APIRoute) for method in route.methods or ()}
    assert {(r.service, r.method, r.path) for r in SANDBOX_ROUTES} == served_routes
    # what a TPP without a certificate needs is open; what authenticates the client by its certificate is not
    open_routes = {(r.method, r.path) for r in SANDBOX_ROUTES if "open" in r.entries}
    assert ("POST", "/sandbox/tpps") in open_routes and ("GET", "/sandbox/crl") in open_routes
    assert ("GET", "/sandbox/jwks") in open_routes
    assert all(r.entries == ("mtls",) for r in SANDBOX_ROUTES if r.path in ("/sandbox/token", "/sandbox/authorize"))
    assert all("mtls" not in r.entries for r in SANDBOX_ROUTES if r.service == "sandbox_ca")
