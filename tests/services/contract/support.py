"""Shared plumbing of the PIS and events contract tests: the official spec files (copied into the repository),
the checks that matter, a request hook that signs the exact body bytes and sets fresh idempotency keys, and the
consent a TPP's token is issued for on each route (the tests run through the local gateway and its authorizer)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from openbanking.security.routes import Grant, policy_for
from tests.services.pis.support import Tpp

SPECS = Path(__file__).resolve().parents[3] / "services" / "specs" / "obie-v3.1.11"
#: No 5xx, only documented status codes and media types, required headers present, bodies match the schemas.
#: Fuzzing only (positive and negative data): the coverage phase walks every field of these large schemas and
#: would take minutes per operation; the fixed journeys in the tests cover the success paths deterministically.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}})
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def prepare(case: Case, tpp: Tpp, *, scopes: str, consent_id: str | None = None) -> dict[str, str]:
    """Serialise the generated body ourselves, sign those bytes, and add the TPP's credentials for `consent_id`.
    Returns the extra headers to send."""
    headers = tpp.caller_headers(scopes, consent_id if consent_id and consent_id.isascii() and
                                 consent_id.isprintable() else None)
    if not isinstance(case.body, NotSet | bytes):
        case.body = json.dumps(case.body).encode()
    if isinstance(case.body, bytes):
        headers["x-jws-signature"] = tpp.sign(case.body)
    headers["x-fapi-interaction-id"] = str(uuid.uuid4())  # its format rule is tested elsewhere; reach the body
    if case.headers is not None and "x-idempotency-key" in case.headers:
        headers["x-idempotency-key"] = str(uuid.uuid4())
    return headers


def consent_of(body: Any) -> str | None:
    """The ConsentId a generated payment body names (the token is issued for it, as for a real PSU token)."""
    try:
        value = json.loads(body)["Data"]["ConsentId"] if isinstance(body, bytes) else None
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


_CONSENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")  # what an `openbanking_intent_id` may be


def token_consent(method: str, path: str, candidate: str | None, fallback: str) -> str | None:
    """The consent a TPP's token is issued for on `method path` (the route's template will do): none on a
    client-credentials route; on a consent-bound one the request's own consent when it could be one of the route's
    type, else `fallback` (an Authorised consent: the authorizer lets the request through and the service judges the
    mismatch, as it did for the bare app)."""
    route = policy_for(method, path)
    if route is None or route.grant is Grant.CLIENT_CREDENTIALS:
        return None
    if candidate and candidate.startswith(route.grant.value) and _CONSENT_ID.match(candidate):
        return candidate
    return fallback
