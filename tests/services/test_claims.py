"""The IdP contract (`openbanking.claims`) is the one the services enforce: the token verifier reads exactly its
claims and algorithms, the internal authorisation endpoints sit at its paths behind its scope, and the module stays
importable by the infrastructure (standard library only)."""

from __future__ import annotations

import subprocess
import sys

from fastapi import APIRouter
from fastapi.routing import APIRoute

from openbanking import claims
from openbanking.ais import access as ais_access
from openbanking.ais import consents as ais_consents
from openbanking.pis import app as pis_app
from openbanking.pis import internal as pis_internal
from openbanking.security import routes, settings, tokens
from tests.services.test_deployables import SERVICES


def _posts(router: APIRouter, prefix: str = "") -> set[str]:
    return {prefix + r.path for r in router.routes if isinstance(r, APIRoute) and "POST" in (r.methods or set())}


def test_the_internal_authorisation_endpoints_are_where_the_contract_says() -> None:
    ais_paths = _posts(ais_consents.internal_router)
    pis_paths = _posts(pis_internal.router, pis_app.INTERNAL_PATH)
    assert claims.INTERNAL_AUTHORISATION_PATHS["ais"] in ais_paths
    assert claims.INTERNAL_AUTHORISATION_PATHS["pis"] in pis_paths
    assert ais_access.AUTHORISATION_SCOPE == pis_internal.AUTHORISATION_SCOPE == claims.CONSENT_AUTHORISATION_SCOPE


def test_the_token_verifier_reads_the_contract_s_claims() -> None:
    assert tokens.ALLOWED_ALGORITHMS == claims.SIGNING_ALGORITHMS == ("PS256", "ES256")
    assert tokens.INTENT_ID_CLAIM == claims.INTENT_ID_CLAIM
    assert settings.SecuritySettings().tpp_id_claim == claims.TPP_ID_CLAIM


def test_the_api_scopes_are_the_routes_scopes() -> None:
    used = {scope for policy in routes.ROUTES for scope in policy.scopes}
    assert used == set(claims.API_SCOPES)
    assert claims.CONSENT_AUTHORISATION_SCOPE not in used  # never a third party's


def test_the_contract_loads_nothing_but_the_standard_library() -> None:
    probe = ("import sys; before = set(sys.modules); import openbanking.claims; "
             "new = sorted(m for m in set(sys.modules) - before if not m.startswith('openbanking')); "
             "print([m for m in new if m.split('.')[0] not in sys.stdlib_module_names])")
    result = subprocess.run([sys.executable, "-c", probe], cwd=SERVICES, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
