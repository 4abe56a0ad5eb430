"""`python -m openbanking.ingestion`: run the consumer (the container's command)."""

from __future__ import annotations

import logging
import signal
from datetime import timedelta
from types import FrameType

import pika
from redis import Redis

from openbanking.ledger.cache import LedgerCache, cache_prefix
from openbanking.ledger.db import engine_from_settings
from openbanking.ledger.migrate import upgrade

from .amqp import AmqpConsumer, AmqpTopology
from .handler import IngestionHandler
from .health import serve_health
from .kafka import KafkaIngestion, kafka_clients
from .settings import IngestionSettings, Transport


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = IngestionSettings()
    engine = engine_from_settings(settings)
    upgrade(engine)
    cache = LedgerCache(Redis.from_url(settings.redis_url, socket_timeout=2), prefix=cache_prefix(settings.environment),
                        ttl_seconds=settings.cache_ttl_seconds)
    handler = IngestionHandler(engine, cache, max_gap_wait=timedelta(seconds=settings.max_gap_wait_seconds))
    consumer: AmqpConsumer | KafkaIngestion
    if settings.transport is Transport.KAFKA:
        kafka_consumer, producer = kafka_clients(settings)
        consumer = KafkaIngestion(kafka_consumer, producer, handler, topic=settings.kafka_topic,
                                  parking_topic=settings.kafka_parking_topic)
    else:
        topology = AmqpTopology(settings.amqp_exchange, settings.amqp_routing_key, settings.amqp_queue,
                                settings.amqp_parking_exchange, settings.amqp_parking_queue)
        consumer = AmqpConsumer(pika.URLParameters(settings.amqp_url), topology, handler,
                                prefetch=settings.amqp_prefetch)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        consumer.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    serve_health(settings.health_port, lambda: consumer.last_tick)
    consumer.run()


if __name__ == "__main__":
    main()
