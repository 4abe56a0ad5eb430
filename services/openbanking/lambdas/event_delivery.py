"""Event delivery (SQS -> TPP callback): each message is one event raised by the `EventPublisher`.

For each message the function signs the event as an RFC 8417 security event token (PS256,
`typ: secevent+jwt`) and POSTs it as `application/jwt` to `{CallbackUrl}/event-notifications` with
`x-fapi-financial-id`. Transient failures (connection errors, timeouts, 429, 5xx) are retried with
exponential backoff and full jitter inside a bounded time budget; if the budget runs out the message is
reported as a partial batch failure, SQS makes it visible again, and its redrive policy finally moves it to
the dead-letter queue. A TPP's 4xx (other than 429) is final: retrying would not change the answer, so the
message is parked on the dead-letter queue at once (the event stays available to aggregated polling).

The callback is checked again here, not only at subscription time: its host must be on the bank's TPP callback
domains (`OB_CALLBACK_DOMAINS`, which the egress lets out), and the HTTP client
(:func:`~openbanking.events.callbacks.pinned_client`) resolves the host itself and refuses it unless every address is
public. Without a proxy it connects to the address it checked, so a name re-pointed at an internal address after
subscribing reaches nothing; through the egress proxy it asks for the name (`CONNECT <host>:443`), which the proxy
allow-lists, resolves, and refuses when any address is internal. Such a message is parked like a 4xx.

Sizing: the function timeout must exceed batch size x budget; the queue's visibility timeout should be at
least six times the function timeout (AWS guidance for SQS event sources).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import boto3
import httpx
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from openbanking.common.keys import load_signing_key
from openbanking.common.settings import Deployed, ServiceSettings
from openbanking.events.callbacks import CallbackRefused, check_egress, pinned_client
from openbanking.events.tokens import SetSigner

logger = Logger(service="ob-event-delivery")

NOTIFICATION_PATH = "/event-notifications"
_REQUIRED_CLAIMS = ("iss", "jti", "aud", "sub", "txn", "toe", "events")


class DeliverySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OB_DELIVERY_", extra="ignore", frozen=True)

    attempts: int = Field(default=5, ge=1, le=20, description="POST attempts per message and invocation")
    base_delay_seconds: float = Field(default=0.25, gt=0, le=10)
    max_delay_seconds: float = Field(default=4.0, gt=0, le=60)
    budget_seconds: float = Field(default=20.0, gt=0, le=600, description="time allowed per message")
    timeout_seconds: float = Field(default=5.0, gt=0, le=30, description="per HTTP request")
    https_proxy: str | None = Field(
        default=None, validation_alias=AliasChoices("HTTPS_PROXY", "https_proxy"),
        description="the egress proxy (http://host:port, the standard HTTPS_PROXY variable): callbacks are reached "
                    "through it by CONNECT to their checked host name")
    dead_letter_queue_url: Annotated[str | None, Deployed()] = Field(
        default=None, description="the delivery queue's dead-letter queue, where final failures are parked")


#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (ServiceSettings, DeliverySettings)


class DeliveryFailed(Exception):
    """Worth retrying later: SQS will redeliver the message (and eventually dead-letter it)."""


class Deliverer:
    def __init__(self, signer: SetSigner, financial_id: str, http: httpx.Client, settings: DeliverySettings, *,
                 sqs: Any | None = None, sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random, clock: Callable[[], float] = time.monotonic,
                 allow_http: bool = False, callback_domains: Sequence[str] | None = None) -> None:
        """`http` is a :func:`~openbanking.events.callbacks.pinned_client`; `allow_http` admits http callbacks (the
        `local` environment, whose client also admits loopback addresses); `callback_domains`, the bank's TPP callback
        domains (None: any public host), parks a callback elsewhere at once: the egress would refuse it."""
        if settings.dead_letter_queue_url and sqs is None:
            raise ValueError("parking messages on the dead-letter queue needs an SQS client")
        self.signer = signer
        self.financial_id = financial_id
        self.http = http
        self.settings = settings
        self.sqs = sqs
        self.sleep = sleep
        self.jitter = jitter
        self.clock = clock
        self.allow_http = allow_http
        self.callback_domains = callback_domains

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^attempt))."""
        return self.jitter() * min(self.settings.max_delay_seconds, self.settings.base_delay_seconds * 2 ** attempt)

    def deliver(self, body: str) -> None:
        message = self._parse(body)
        if message is None:
            self._park(body, "the message is not an event-delivery message")
            return
        url = f"{message['CallbackUrl'].rstrip('/')}{NOTIFICATION_PATH}"
        if not (url.startswith("https://") or (self.allow_http and url.startswith("http://"))):
            self._park(body, f"the callback {message['CallbackUrl']} is not an https URL")
            return
        if self.callback_domains is not None:
            try:
                check_egress(url, self.callback_domains)
            except CallbackRefused as exc:
                self._park(body, f"the callback is not let out: {exc}")
                return
        token = self.signer.sign(message["Claims"])
        jti = message["Claims"]["jti"]
        started = self.clock()
        last = "no attempt made"
        for attempt in range(self.settings.attempts):
            retry_after: float | None = None
            try:
                response = self.http.post(url, content=token, headers={
                    "content-type": "application/jwt", "accept": "*/*", "x-fapi-financial-id": self.financial_id,
                    "x-fapi-interaction-id": str(uuid.uuid4())}, timeout=self.settings.timeout_seconds)
            except CallbackRefused as exc:  # not retried: the answer would be the same
                self._park(body, f"the callback is not on the public internet: {exc}")
                return
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    logger.info("delivered", extra={"jti": jti, "tpp_id": message["TppId"], "attempts": attempt + 1})
                    return
                last = f"HTTP {response.status_code}"
                if 400 <= response.status_code < 500 and response.status_code != 429:
                    self._park(body, f"the TPP refused the event with {last}")
                    return
                retry_after = _seconds(response.headers.get("retry-after"))
            delay = retry_after if retry_after is not None else self.backoff(attempt)
            if attempt + 1 >= self.settings.attempts or self.clock() - started + delay > self.settings.budget_seconds:
                break
            self.sleep(delay)
        logger.warning("delivery failed; leaving it to SQS", extra={"jti": jti, "url": url, "reason": last})
        raise DeliveryFailed(f"event {jti} to {url}: {last}")

    @staticmethod
    def _parse(body: str) -> dict[str, Any] | None:
        try:
            message = json.loads(body)
        except ValueError:
            return None
        if not isinstance(message, dict) or not isinstance(message.get("CallbackUrl"), str) \
                or not isinstance(message.get("TppId"), str) or not isinstance(message.get("Claims"), dict):
            return None
        if any(claim not in message["Claims"] for claim in _REQUIRED_CLAIMS):
            return None
        return message

    def _park(self, body: str, reason: str) -> None:
        """Final failure: straight to the dead-letter queue (or, without one, to SQS's redrive)."""
        logger.error("event not deliverable", extra={"reason": reason})
        if not self.settings.dead_letter_queue_url:
            raise DeliveryFailed(reason)
        assert self.sqs is not None
        self.sqs.send_message(QueueUrl=self.settings.dead_letter_queue_url, MessageBody=body,
                              MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:256]}})


def _seconds(retry_after: str | None) -> float | None:
    if retry_after is None:
        return None
    try:
        return max(float(retry_after), 0.0)
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


def build_deliverer(service: ServiceSettings, delivery: DeliverySettings, http: httpx.Client | None = None) -> Deliverer:
    key = load_signing_key(service)
    sqs = boto3.client("sqs", region_name=service.aws_region, endpoint_url=service.sqs_endpoint_url) \
        if delivery.dead_letter_queue_url else None
    local = service.environment == "local"
    return Deliverer(SetSigner(key, service.signing_key_id), service.financial_id,
                     http or pinned_client(proxy=delivery.https_proxy, allow_loopback=local), delivery, sqs=sqs,
                     allow_http=local, callback_domains=service.callback_domains)


_deliverer: Deliverer | None = None
#: An all-failed batch is reported like any other (not raised), so the logs show one failure per message.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _instance() -> Deliverer:
    """Built on the first invocation and kept by the warm container (key, HTTP connection pool)."""
    global _deliverer
    if _deliverer is None:
        _deliverer = build_deliverer(ServiceSettings(), DeliverySettings())
    return _deliverer


def _record_handler(record: SQSRecord) -> None:
    _instance().deliver(record.body)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=_record_handler, processor=processor,
                                         context=context))
