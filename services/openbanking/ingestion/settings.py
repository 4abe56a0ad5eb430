"""Settings of the ingestion consumer (`OB_*` environment variables, like every service)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from openbanking.common.settings import ServiceSettings


class Transport(StrEnum):
    AMQP = "amqp"    # RabbitMQ (Amazon MQ)
    KAFKA = "kafka"  # Kafka (Amazon MSK), the option


class IngestionSettings(ServiceSettings):
    transport: Transport = Transport.AMQP
    amqp_url: str = Field(default="amqp://guest:guest@127.0.0.1:5672/%2F", description="amqps:// on Amazon MQ")
    amqp_exchange: str = Field(default="core-banking", description="topic exchange core banking publishes to")
    amqp_routing_key: str = "ledger.#"
    amqp_queue: str = "ledger-ingestion"
    amqp_parking_exchange: str = "ledger-ingestion.parking"
    amqp_parking_queue: str = "ledger-ingestion.parking"
    amqp_prefetch: int = Field(default=32, ge=1, le=1000)
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic: str = "core-banking.ledger"
    kafka_parking_topic: str = "core-banking.ledger.parking"
    kafka_group_id: str = "ledger-ingestion"
    max_gap_wait_seconds: int = Field(default=300, ge=1, description="how long a sequence gap may stay open")
    health_port: int = Field(default=8080, ge=1, le=65535)
