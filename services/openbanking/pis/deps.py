"""What the PIS routes share, built once per application by `build_app` and kept on `app.state`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from ..common.jws import DetachedJwsVerifier
from ..events.models import EventType, ResourceUpdate
from ..events.publisher import EventPublisher
from .funds import FundsChecker
from .idempotency import IdempotencyStore
from .store import PaymentStore

log = logging.getLogger(__name__)


@dataclass
class PisServices:
    base_url: str
    store: PaymentStore
    idempotency: IdempotencyStore
    verifier: DetachedJwsVerifier
    funds: FundsChecker
    publisher: EventPublisher | None
    now: Callable[[], datetime]

    def resource_updated(self, tpp_id: str, update: ResourceUpdate, txn: str | None) -> None:
        """Tell the TPP a resource changed. The change is already stored, so a failure to raise the event is
        logged for the operators rather than turned into an error for the caller."""
        if self.publisher is None:
            return
        try:
            self.publisher.publish(tpp_id, EventType.RESOURCE_UPDATE, update, txn=txn)
        except Exception:
            log.exception("could not publish the resource-update of %s for TPP %s", update.resource_id, tpp_id)


def services(request: Request) -> PisServices:
    return request.app.state.pis
