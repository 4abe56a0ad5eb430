"""Event resources of the v3.1.11 events API (`OBEventSubscription1`, `OBEventPolling1`, ...) and the
resource-update subject of an event notification (`OBEventSubject1`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class EventType(StrEnum):
    RESOURCE_UPDATE = "urn:uk:org:openbanking:events:resource-update"
    CONSENT_AUTHORIZATION_REVOKED = "urn:uk:org:openbanking:events:consent-authorization-revoked"


#: The event types this ASPSP emits, and so the ones a subscription may ask for.
SUPPORTED_EVENT_TYPES = frozenset(e.value for e in EventType)
#: The version of the event notifications (`Version` of a subscription).
SUPPORTED_VERSIONS = frozenset({"3.1", "v3.1", "3.1.11", "v3.1.11"})
RESOURCE_VERSION = "v3.1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubscriptionData(_Strict):
    CallbackUrl: str | None = Field(default=None, min_length=1, max_length=2048)
    EventTypes: list[str] | None = None
    Version: str = Field(min_length=1, max_length=10)


class OBEventSubscription1(_Strict):
    Data: SubscriptionData


class SubscriptionResponseData(SubscriptionData):
    EventSubscriptionId: str = Field(min_length=1, max_length=40)


class OBEventSubscriptionResponse1(_Strict):
    """Also the body of PUT (the spec reuses the response shape for the change request)."""

    Data: SubscriptionResponseData
    Links: dict[str, Any] | None = None
    Meta: dict[str, Any] | None = None


class SetError(_Strict):
    err: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=1, max_length=256)


class OBEventPolling1(_Strict):
    maxEvents: int | None = Field(default=None, ge=0)
    returnImmediately: bool | None = None
    ack: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] | None = None
    setErrs: dict[str, SetError] | None = None


@dataclass(frozen=True)
class ResourceLink:
    version: str
    link: str


@dataclass(frozen=True)
class ResourceUpdate:
    """What changed: the resource id and type and where to read it (`OBEventSubject1`)."""

    resource_id: str
    resource_type: str  # e.g. "domestic-payment", "domestic-payment-consent", "account-access-consent"
    links: tuple[ResourceLink, ...]

    def __post_init__(self) -> None:
        if not self.links:
            raise ValueError(f"a resource-update for {self.resource_id} needs at least one link")

    def subject(self) -> dict[str, Any]:
        return {
            "subject_type": "http://openbanking.org.uk/rid_http://openbanking.org.uk/rty",
            "http://openbanking.org.uk/rid": self.resource_id,
            "http://openbanking.org.uk/rty": self.resource_type,
            "http://openbanking.org.uk/rlk": [{"version": link.version, "link": link.link} for link in self.links],
        }

    @classmethod
    def of(cls, resource_id: str, resource_type: str, link: str) -> ResourceUpdate:
        return cls(resource_id, resource_type, (ResourceLink(RESOURCE_VERSION, link),))
