"""The claims of an OBIE event notification (an RFC 8417 security event token, without `iat`): fixed when the
event is published, signed later (polling, push delivery). Kept apart from the signing so that publishing needs
no cryptography."""

from __future__ import annotations

import time
import uuid
from typing import Any

from .models import ResourceUpdate


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
