"""`python -m openbanking.ingestion`: run the consumer (the container's command). A local ledger is migrated at
start-up; on the cluster it runs no DDL and refuses to start on a schema other than the one its image was built
for (the `ledger_migrate` task migrates it)."""

from __future__ import annotations

import logging
import signal
from datetime import timedelta
from types import FrameType

from openbanking.common.redis_connection import redis_from_settings
from openbanking.ledger.cache import LedgerCache, cache_prefix
from openbanking.ledger.db import engine_from_settings
from openbanking.ledger.migrate import prepare_schema

from .amqp import AmqpConsumer, AmqpTopology, connection_parameters
from .handler import IngestionHandler
from .health import serve_health
from .kafka import KafkaIngestion, kafka_clients
from .settings import IngestionSettings, Transport

#: The settings classes this deployable reads (openbanking.settings_contract).
SETTINGS = (IngestionSettings,)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = IngestionSettings()
    engine = engine_from_settings(settings)
    prepare_schema(engine, settings)
    cache = LedgerCache(redis_from_settings(settings, socket_timeout=2), prefix=cache_prefix(settings.environment),
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
        consumer = AmqpConsumer(connection_parameters(settings), topology, handler,
                                prefetch=settings.amqp_prefetch)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        consumer.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    serve_health(settings.health_port, lambda: consumer.last_tick)
    consumer.run()


if __name__ == "__main__":
    main()
