"""The core-banking feed as ingestion reaches it in a deployed account: Amazon MSK over TLS with IAM
authentication (SASL/OAUTHBEARER, tokens from aws-msk-iam-sasl-signer), Amazon MQ over amqps with the broker user
ECS injects; locally plaintext Kafka and RabbitMQ as guest. The RabbitMQ parameters are used against the real
broker."""

from __future__ import annotations

import base64
import ssl
import time
from urllib.parse import parse_qs, urlsplit

import pika
import pytest
from pika.exceptions import ProbableAuthenticationError
from pydantic import SecretStr

from openbanking.ingestion.amqp import connection_parameters
from openbanking.ingestion.kafka import connection_config
from openbanking.ingestion.settings import IngestionSettings, Transport
from tests.services.ledger.support import AMQP_URL


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_msk_iam_clients_use_tls_and_oauthbearer_tokens_from_the_task_role(aws_credentials: None) -> None:
    settings = IngestionSettings(transport=Transport.KAFKA, kafka_iam_auth=True, aws_region="eu-west-2",
                                 kafka_bootstrap_servers="b-1.ob.kafka.eu-west-2.amazonaws.com:9098")
    config = connection_config(settings)
    assert config["security.protocol"] == "SASL_SSL" and config["sasl.mechanisms"] == "OAUTHBEARER"
    assert config["bootstrap.servers"] == "b-1.ob.kafka.eu-west-2.amazonaws.com:9098"
    token, expiry = config["oauth_cb"]("ignored sasl.oauthbearer.config")
    assert time.time() < expiry <= time.time() + 900 + 5, "the client renews the token before this moment"
    signed = urlsplit(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(signed.query)
    assert signed.hostname == "kafka.eu-west-2.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Credential"][0].startswith("AKIDEXAMPLE/")
    assert query["X-Amz-Credential"][0].endswith("/eu-west-2/kafka-cluster/aws4_request")


def test_local_kafka_stays_plaintext() -> None:
    assert connection_config(IngestionSettings(transport=Transport.KAFKA)) == {"bootstrap.servers": "127.0.0.1:9092"}


def test_amazon_mq_parameters_carry_the_injected_user_and_verify_the_broker() -> None:
    settings = IngestionSettings(amqp_url="amqps://b-1234.mq.eu-west-2.amazonaws.com:5671/%2F",
                                 amqp_username="ob-ingestion", amqp_password=SecretStr("s3cret"))
    parameters = connection_parameters(settings)
    assert (parameters.host, parameters.port) == ("b-1234.mq.eu-west-2.amazonaws.com", 5671)
    assert isinstance(parameters.credentials, pika.PlainCredentials)
    assert (parameters.credentials.username, parameters.credentials.password) == ("ob-ingestion", "s3cret")
    assert parameters.ssl_options is not None
    context = parameters.ssl_options.context
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert parameters.ssl_options.server_hostname == "b-1234.mq.eu-west-2.amazonaws.com"
    with pytest.raises(ValueError, match=r"^OB_AMQP_USERNAME and OB_AMQP_PASSWORD: set both or neither"):
        connection_parameters(IngestionSettings(amqp_username="ob-ingestion"))


def test_the_injected_user_reaches_the_real_broker() -> None:
    parsed = urlsplit(AMQP_URL)
    bare = AMQP_URL.replace(f"{parsed.username}:{parsed.password}@", "")
    wrong = connection_parameters(IngestionSettings(amqp_url=bare, amqp_username="guest",
                                                    amqp_password=SecretStr("not-the-password")))
    with pytest.raises(ProbableAuthenticationError):
        pika.BlockingConnection(wrong)
    right = connection_parameters(IngestionSettings(amqp_url=bare, amqp_username=parsed.username or "guest",
                                                    amqp_password=SecretStr(parsed.password or "guest")))
    connection = pika.BlockingConnection(right)
    assert connection.is_open
    connection.close()
