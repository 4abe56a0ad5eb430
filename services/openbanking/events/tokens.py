"""Security event tokens (RFC 8417) of the OBIE event notifications, signed PS256 (`typ: secevent+jwt`).

The same token goes to a TPP's callback (push, by the delivery Lambda) and into aggregated polling results.
The event's claims are fixed when it is published (`event_claims`); `iat` is set when the token is signed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from ..common.keys import SigningKey, sign_compact
from .models import ResourceUpdate

SET_TYPE = "secevent+jwt"
ALGORITHM = "PS256"


def event_claims(*, issuer: str, audience: str, event_type: str, subject: ResourceUpdate, txn: str | None = None,
                 toe: int | None = None, jti: str | None = None) -> dict[str, Any]:
    """`OBEventNotification1` without `iat`: `sub` is the resource's link, `txn` ties the event to the
    interaction that caused it, `toe` is when the change happened."""
    return {
        "iss": issuer,
        "jti": jti or str(uuid.uuid4()),
        "aud": audience,
        "sub": subject.links[0].link,
        "txn": txn or str(uuid.uuid4()),
        "toe": int(toe if toe is not None else time.time()),
        "events": {event_type: {"subject": subject.subject()}},
    }


class SetSigner:
    """Signs SETs with the ASPSP's private key (in memory or in KMS)."""

    def __init__(self, key: SigningKey, kid: str, clock: Callable[[], float] = time.time) -> None:
        if not key.is_private:
            raise ValueError("the SET signing key must be a private RSA key")
        self.key = key
        self.kid = kid
        self.clock = clock

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": ALGORITHM, "typ": SET_TYPE, "kid": self.kid}
        payload = json.dumps({**claims, "iat": int(self.clock())}, separators=(",", ":")).encode()
        return sign_compact(self.key, header, payload)
