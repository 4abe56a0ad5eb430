"""The Kafka (Amazon MSK) option: the same handler behind a confluent-kafka consumer.

Core banking keys each record by AccountId, so one account's events share a partition and arrive in
order; the sequence checks of the handler still guard against replays and producer retries. Offsets are
committed manually, synchronously and only after the handler committed (at-least-once; the handler's
message-id bookkeeping makes the redelivery harmless). Kafka has no dead-letter exchange: a poison record
is produced to `parking_topic` with an `x-parking-reason` header and flushed before its offset is
committed; if that fails, or anything else does, the consumer seeks back to the record and retries after
a pause, so nothing is skipped.

The confluent-kafka client is created by :func:`kafka_clients`; :class:`KafkaIngestion` only needs the
small protocols below, which is how the tests drive it without a broker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from .handler import IngestionHandler
from .settings import IngestionSettings

log = logging.getLogger(__name__)


class Record(Protocol):
    def error(self) -> Any: ...
    def value(self) -> bytes | None: ...
    def key(self) -> bytes | None: ...
    def headers(self) -> list[tuple[str, bytes]] | None: ...
    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...


class Consumer(Protocol):
    def subscribe(self, topics: list[str]) -> None: ...
    def poll(self, timeout: float) -> Record | None: ...
    def commit(self, *, message: Record, asynchronous: bool) -> Any: ...
    def seek(self, partition: Any) -> None: ...
    def close(self) -> None: ...


class Producer(Protocol):
    def produce(self, topic: str, value: bytes, key: bytes | None = None,
                headers: list[tuple[str, bytes]] | None = None,
                on_delivery: Callable[[Any, Any], None] | None = None) -> None: ...
    def flush(self, timeout: float) -> int: ...


def msk_iam_token(region: str) -> Callable[[Any], tuple[str, float]]:
    """confluent-kafka's `oauth_cb`: an MSK IAM token (aws-msk-iam-sasl-signer, signed with the task role's
    credentials) and its expiry in epoch seconds; the client calls it again before the token expires."""
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    def token(_config: Any) -> tuple[str, float]:
        value, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        return value, expiry_ms / 1000

    return token


def connection_config(settings: IngestionSettings) -> dict[str, Any]:
    """What both clients need to reach the brokers: plaintext locally; on MSK, TLS (the brokers' certificates are
    publicly trusted) and SASL/OAUTHBEARER with IAM tokens."""
    config: dict[str, Any] = {"bootstrap.servers": settings.kafka_bootstrap_servers}
    if settings.kafka_iam_auth:
        config.update({"security.protocol": "SASL_SSL", "sasl.mechanisms": "OAUTHBEARER",
                       "oauth_cb": msk_iam_token(settings.aws_region)})
    return config


def kafka_clients(settings: IngestionSettings) -> tuple[Consumer, Producer]:
    """confluent-kafka clients: manual commits, read-committed, idempotent producer with acks=all."""
    from confluent_kafka import Consumer as KafkaConsumer
    from confluent_kafka import Producer as KafkaProducer

    consumer = KafkaConsumer({**connection_config(settings), "group.id": settings.kafka_group_id,
                              "enable.auto.commit": False, "auto.offset.reset": "earliest",
                              "isolation.level": "read_committed"})
    producer = KafkaProducer({**connection_config(settings), "enable.idempotence": True, "acks": "all"})
    return consumer, producer  # type: ignore[return-value]


def _seek_position(record: Record) -> Any:
    from confluent_kafka import TopicPartition

    topic, partition, offset = record.topic(), record.partition(), record.offset()
    if topic is None or partition is None or offset is None:
        raise ValueError("a consumed Kafka record has a topic, a partition and an offset")
    return TopicPartition(topic, partition, offset)


class KafkaIngestion:
    def __init__(self, consumer: Consumer, producer: Producer, handler: IngestionHandler, *, topic: str,
                 parking_topic: str, retry_pause: float = 1.0, flush_timeout: float = 10.0,
                 seek_position: Callable[[Record], Any] = _seek_position) -> None:
        self.consumer = consumer
        self.producer = producer
        self.handler = handler
        self.topic = topic
        self.parking_topic = parking_topic
        self.retry_pause = retry_pause
        self.flush_timeout = flush_timeout
        self.seek_position = seek_position
        self.last_tick = time.monotonic()
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True

    def run(self, *, poll_timeout: float = 1.0, max_idle: float | None = None) -> int:
        self.consumer.subscribe([self.topic])
        settled, idle_since = 0, time.monotonic()
        try:
            while not self._stopping:
                record = self.consumer.poll(poll_timeout)
                self.last_tick = time.monotonic()
                if record is not None and self.process(record):
                    settled += 1
                    idle_since = time.monotonic()
                if max_idle is not None and time.monotonic() - idle_since >= max_idle:
                    break
        finally:
            self.consumer.close()
        return settled

    def process(self, record: Record) -> bool:
        """Handle one record; True once its offset is committed, False if it will be redelivered."""
        if record.error():
            log.warning("ledger ingestion (kafka): consumer error %s", record.error())
            return False
        try:
            self.handler.handle(record.value() or b"", self._parker(record))
        except Exception:
            log.exception("ledger ingestion (kafka): %s[%s]@%s failed; retrying", record.topic(), record.partition(),
                          record.offset())
            time.sleep(self.retry_pause)
            self.consumer.seek(self.seek_position(record))
            return False
        self.consumer.commit(message=record, asynchronous=False)
        return True

    def _parker(self, record: Record) -> Callable[[bytes, str], None]:
        def park(body: bytes, reason: str) -> None:
            failures: list[Any] = []
            headers = [*(record.headers() or []), ("x-parking-reason", reason[:1000].encode()),
                       ("x-original-topic", (record.topic() or "").encode()),
                       ("x-original-offset", str(record.offset()).encode())]
            self.producer.produce(self.parking_topic, body, key=record.key(), headers=headers,
                                  on_delivery=lambda err, _msg: failures.append(err) if err else None)
            if self.producer.flush(self.flush_timeout) != 0 or failures:
                raise RuntimeError(f"parking topic {self.parking_topic} did not confirm: {failures or 'timeout'}")
        return park
