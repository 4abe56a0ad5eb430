"""The RabbitMQ (Amazon MQ) transport of the ingestion handler, with pika.

Topology (declared idempotently at start): core banking publishes to the durable topic exchange
`amqp_exchange`; `amqp_queue` is bound with `amqp_routing_key` and dead-letters into the fanout
`amqp_parking_exchange`, bound to `amqp_parking_queue`. Every message is acknowledged manually, and only
after the handler's transaction committed:

- handled (applied, duplicate, stale, held or parked) -> ack;
- parking failed -> nack without requeue: the broker dead-letters it to the parking queue itself
  (with `x-death`), so it is still never lost;
- anything else (database or Redis down) -> nack with requeue, after a pause so a broken dependency
  does not spin the consumer.

Parked messages carry `x-parking-reason`, `x-original-routing-key` and the original headers; they are
published with publisher confirms, so a parked message is on the broker before the original is acked.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from .handler import IngestionHandler, ParkingFailed
from .settings import IngestionSettings

log = logging.getLogger(__name__)


def connection_parameters(settings: IngestionSettings) -> pika.URLParameters:
    """`OB_AMQP_URL`, with the broker user of `OB_AMQP_USERNAME`/`OB_AMQP_PASSWORD` when set (Amazon MQ: ECS injects
    them from a Secrets Manager secret) and, for `amqps://`, TLS verifying the broker's certificate and host name
    against the system's trusted CAs (Amazon MQ's certificates are publicly trusted)."""
    parameters = pika.URLParameters(settings.amqp_url)
    if settings.amqp_username is not None or settings.amqp_password is not None:
        if settings.amqp_username is None or settings.amqp_password is None:
            raise ValueError("OB_AMQP_USERNAME and OB_AMQP_PASSWORD: set both or neither")
        parameters.credentials = pika.PlainCredentials(settings.amqp_username,
                                                       settings.amqp_password.get_secret_value())
    if settings.amqp_url.startswith("amqps://"):
        parameters.ssl_options = pika.SSLOptions(ssl.create_default_context(), server_hostname=parameters.host)
    return parameters


@dataclass(frozen=True)
class AmqpTopology:
    exchange: str
    routing_key: str
    queue: str
    parking_exchange: str
    parking_queue: str

    def declare(self, channel: BlockingChannel) -> None:
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        channel.exchange_declare(self.parking_exchange, exchange_type="fanout", durable=True)
        channel.queue_declare(self.parking_queue, durable=True)
        channel.queue_bind(self.parking_queue, self.parking_exchange)
        channel.queue_declare(self.queue, durable=True, arguments={"x-dead-letter-exchange": self.parking_exchange})
        channel.queue_bind(self.queue, self.exchange, routing_key=self.routing_key)

    def delete(self, channel: BlockingChannel) -> None:
        for queue in (self.queue, self.parking_queue):
            channel.queue_delete(queue)
        for exchange in (self.exchange, self.parking_exchange):
            channel.exchange_delete(exchange)


class AmqpConsumer:
    def __init__(self, parameters: pika.URLParameters | pika.ConnectionParameters, topology: AmqpTopology,
                 handler: IngestionHandler, *, prefetch: int = 32, retry_pause: float = 1.0,
                 housekeeping_every: float = 30.0) -> None:
        self.parameters = parameters
        self.topology = topology
        self.handler = handler
        self.prefetch = prefetch
        self.retry_pause = retry_pause
        self.housekeeping_every = housekeeping_every
        self.last_tick = time.monotonic()
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True

    def run(self, *, max_idle: float | None = None, idle_poll: float = 1.0,
            on_tick: Callable[[], None] | None = None) -> int:
        """Consume until :meth:`stop` (or, with `max_idle`, until no message came for that long; the tests
        use it). Returns how many messages were settled."""
        settled, idle_since, housekept = 0, time.monotonic(), time.monotonic()
        connection = pika.BlockingConnection(self.parameters)
        try:
            channel = connection.channel()
            self.topology.declare(channel)
            channel.confirm_delivery()
            channel.basic_qos(prefetch_count=self.prefetch)
            for method, properties, body in channel.consume(self.topology.queue, inactivity_timeout=idle_poll):
                self.last_tick = time.monotonic()
                if on_tick is not None:
                    on_tick()
                if method is not None and properties is not None and body is not None:
                    self._settle(channel, method, properties, body)
                    settled += 1
                    idle_since = time.monotonic()
                if time.monotonic() - housekept >= self.housekeeping_every:
                    self.handler.release_stalled(self._parker(channel, None, None))
                    housekept = time.monotonic()
                if self._stopping or (max_idle is not None and time.monotonic() - idle_since >= max_idle):
                    break
            channel.cancel()
        finally:
            if connection.is_open:
                connection.close()
        return settled

    def _settle(self, channel: BlockingChannel, method: Basic.Deliver, properties: BasicProperties,
                body: bytes) -> None:
        tag = method.delivery_tag
        try:
            result = self.handler.handle(body, self._parker(channel, method, properties))
        except ParkingFailed:
            log.exception("ledger ingestion: parking failed; dead-lettering delivery %s", tag)
            channel.basic_nack(tag, requeue=False)
        except Exception:
            log.exception("ledger ingestion: delivery %s failed; requeued", tag)
            time.sleep(self.retry_pause)
            channel.basic_nack(tag, requeue=True)
        else:
            log.debug("ledger ingestion: %s %s %s", result.outcome, result.account_id, result.applied)
            channel.basic_ack(tag)

    def _parker(self, channel: BlockingChannel, method: Basic.Deliver | None,
                properties: BasicProperties | None) -> Callable[[bytes, str], None]:
        def park(body: bytes, reason: str) -> None:
            headers: dict[str, Any] = dict((properties.headers or {}) if properties else {})
            headers["x-parking-reason"] = reason[:1000]
            if method is not None:
                headers["x-original-routing-key"] = method.routing_key
            channel.basic_publish(self.topology.parking_exchange, "", body, properties=BasicProperties(
                delivery_mode=2, content_type=properties.content_type if properties else "application/json",
                message_id=properties.message_id if properties else None, headers=headers), mandatory=True)
        return park
