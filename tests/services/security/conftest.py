from __future__ import annotations

from tests.services.security.fixtures import _reset_responder, idp, pki, revocation_server

__all__ = ["_reset_responder", "idp", "pki", "revocation_server"]
