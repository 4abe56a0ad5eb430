"""What the PIS routes share: `PisDeps`, built once per application by `build_app` and kept on `app.state.deps`,
reached by routes through the `Deps` dependency."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from ..common.jws import DetachedJwsVerifier
from ..events.models import EventType, ResourceUpdate
from ..events.publisher import EventPublisher
from .funds import FundsChecker
from .idempotency import IdempotencyStore
from .store import PaymentStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PisDeps:
    """Everything a PIS request needs (nothing global)."""

    #: The public base URL (absolute Links).
    base_url: str
    #: Consents and payments in DynamoDB.
    store: PaymentStore
    #: Idempotency keys of the POSTs.
    idempotency: IdempotencyStore
    #: Verifies the TPP's request `x-jws-signature`.
    verifier: DetachedJwsVerifier
    #: Funds confirmation against the ledger.
    funds: FundsChecker
    #: The in-process event publisher (`direct` publishing), or None when the outbox raises the events.
    publisher: EventPublisher | None
    #: The service's clock.
    now: Callable[[], datetime]

    def resource_updated(self, tpp_id: str, update: ResourceUpdate, txn: str | None) -> None:
        """Tell the TPP a resource changed. The change is already stored, so a failure to raise the event is
        logged for the operators rather than turned into an error for the caller (the outbox, where deployed,
        raises it from the stored change instead)."""
        if self.publisher is None:
            return
        try:
            self.publisher.publish(tpp_id, EventType.RESOURCE_UPDATE, update, txn=txn)
        except Exception:
            log.exception("could not publish the resource-update of %s for TPP %s", update.resource_id, tpp_id)


def get_deps(request: Request) -> PisDeps:
    """FastAPI dependency: the container `build_app` put on `app.state.deps`."""
    return request.app.state.deps


Deps = Annotated[PisDeps, Depends(get_deps)]
