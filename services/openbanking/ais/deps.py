"""What the AIS routes share: `AisDeps`, built once per application by `build_app` and kept on `app.state.deps`,
reached by routes through the `Deps` dependency."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from openbanking.common.links import AIS_BASE_PATH
from openbanking.common.settings import ServiceSettings
from openbanking.events.models import ResourceUpdate
from openbanking.ledger.cache import LedgerCache

from .store import ConsentStore

BASE_PATH = AIS_BASE_PATH


class EventPublisher(Protocol):
    """`openbanking.events.publisher.EventPublisher` as AIS uses it (consent revocation events)."""

    def publish(self, tpp_id: str, event_type: str, subject: ResourceUpdate) -> Any: ...


@dataclass(frozen=True)
class AisDeps:
    """Everything an AIS request needs (nothing global)."""

    #: The service's settings (base URL, page size).
    settings: ServiceSettings
    #: Account-access consents in DynamoDB.
    consents: ConsentStore
    #: Sessions on the ledger database.
    sessions: sessionmaker[Session]
    #: The read-through cache of ledger reads.
    cache: LedgerCache
    #: The service's clock.
    now: Callable[[], datetime]
    #: The in-process event publisher (`direct` publishing), or None when the outbox raises the events.
    publisher: EventPublisher | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def url(self, request: Request) -> str:
        """The absolute URL of this request as the TPP addressed it (`Links.Self`)."""
        query = request.url.query
        return f"{self.settings.base_url.rstrip('/')}{request.url.path}{'?' + query if query else ''}"

    def resource_url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}{BASE_PATH}{path}"


def get_deps(request: Request) -> AisDeps:
    """FastAPI dependency: the container `build_app` put on `app.state.deps`."""
    return request.app.state.deps


Deps = Annotated[AisDeps, Depends(get_deps)]
