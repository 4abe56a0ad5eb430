"""Settings of the ingestion consumer (`OB_*` environment variables, like every service).

The core-banking feed is RabbitMQ (Amazon MQ: `amqps://`, a broker user whose name and password ECS injects from a
Secrets Manager secret) or Kafka (Amazon MSK: TLS and IAM authentication, SASL/OAUTHBEARER with tokens from the
task role). Locally: RabbitMQ on 127.0.0.1 as guest, or a plaintext Kafka.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, SecretStr

from openbanking.common.settings import Deployed, ServiceSettings


class Transport(StrEnum):
    AMQP = "amqp"    # RabbitMQ (Amazon MQ)
    KAFKA = "kafka"  # Kafka (Amazon MSK), the option


class IngestionSettings(ServiceSettings):
    transport: Annotated[Transport, Deployed("uses_feed", feed="msk")] = Field(
        default=Transport.AMQP, description="the feed's protocol: amqp (RabbitMQ, Amazon MQ) or kafka (Amazon MSK)")
    amqp_url: Annotated[str, Deployed("uses_feed", feed="rabbitmq")] = Field(
        default="amqp://guest:guest@127.0.0.1:5672/%2F",
        description="the broker: amqps://<broker endpoint>:5671/%2F on Amazon MQ (credentials apart)")
    amqp_username: Annotated[str | None, Deployed("uses_feed", feed="rabbitmq", secret=True)] = Field(
        default=None, description="the broker user (replaces any user in OB_AMQP_URL)")
    amqp_password: Annotated[SecretStr | None, Deployed("uses_feed", feed="rabbitmq", secret=True)] = Field(
        default=None, description="the broker user's password")
    amqp_exchange: str = Field(default="core-banking", description="topic exchange core banking publishes to")
    amqp_routing_key: str = Field(default="ledger.#", description="binding of the ingestion queue")
    amqp_queue: str = Field(default="ledger-ingestion", description="the queue the consumer reads")
    amqp_parking_exchange: str = Field(default="ledger-ingestion.parking", description="dead-letter exchange")
    amqp_parking_queue: str = Field(default="ledger-ingestion.parking", description="where poison messages wait")
    amqp_prefetch: int = Field(default=32, ge=1, le=1000, description="unacknowledged messages in flight")
    kafka_bootstrap_servers: Annotated[str, Deployed("uses_feed", feed="msk")] = Field(
        default="127.0.0.1:9092", description="the brokers: the MSK cluster's IAM bootstrap string (port 9098)")
    kafka_iam_auth: Annotated[bool, Deployed("uses_feed", feed="msk")] = Field(
        default=False, description="TLS and SASL/OAUTHBEARER with MSK IAM tokens (kafka-cluster:* permissions)")
    kafka_topic: str = Field(default="core-banking.ledger", description="the topic core banking produces to")
    kafka_parking_topic: str = Field(default="core-banking.ledger.parking", description="where poison records go")
    kafka_group_id: str = Field(default="ledger-ingestion", description="the consumer group")
    max_gap_wait_seconds: int = Field(default=300, ge=1, description="how long a sequence gap may stay open")
    health_port: int = Field(default=8080, ge=1, le=65535, description="the health endpoint's port")
