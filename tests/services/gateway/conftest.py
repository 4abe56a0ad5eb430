from __future__ import annotations

from tests.services.gateway.fixtures import mtls_authorizer, rest_api_document, truststore_file
from tests.services.security.fixtures import _reset_responder, idp, pki, revocation_server

__all__ = ["_reset_responder", "idp", "mtls_authorizer", "pki", "rest_api_document", "revocation_server",
           "truststore_file"]
