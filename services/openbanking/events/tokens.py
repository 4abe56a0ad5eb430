"""Security event tokens (RFC 8417) of the OBIE event notifications, signed PS256 (`typ: secevent+jwt`).

The same token goes to a TPP's callback (push, by the delivery Lambda) and into aggregated polling results.
The event's claims are fixed when it is published (:func:`~openbanking.events.claims.event_claims`, re-exported
here); `iat` is set when the token is signed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..common.keys import SigningKey, sign_compact
from .claims import event_claims

__all__ = ["ALGORITHM", "SET_TYPE", "SetSigner", "event_claims"]

SET_TYPE = "secevent+jwt"
ALGORITHM = "PS256"


K = TypeVar("K", bound=SigningKey)


class SetSigner(Generic[K]):
    """Signs SETs with the ASPSP's private key (in memory or in KMS)."""

    def __init__(self, key: K, kid: str, clock: Callable[[], float] = time.time) -> None:
        if not key.is_private:
            raise ValueError("the SET signing key must be a private RSA key")
        self.key = key
        self.kid = kid
        self.clock = clock

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": ALGORITHM, "typ": SET_TYPE, "kid": self.kid}
        payload = json.dumps({**claims, "iat": int(self.clock())}, separators=(",", ":")).encode()
        return sign_compact(self.key, header, payload)
