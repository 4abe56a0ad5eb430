"""The AMQP transport against the real RabbitMQ: acks after commit, replays, out-of-order delivery, parking
with the reason, dead-lettering when parking fails, requeue on a transient failure."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pika
import pytest
from sqlalchemy import Engine

from openbanking.ingestion.amqp import AmqpConsumer, AmqpTopology
from openbanking.ingestion.handler import IngestionHandler, ParkingFailed, Result
from openbanking.ledger.cache import LedgerCache
from tests.services.ledger.support import AMQP_URL, unique_name

from .conftest import account_event, balance_event, booked, cursor, new_account_id


@pytest.fixture
def topology() -> Iterator[AmqpTopology]:
    name = unique_name("amqp")
    topology = AmqpTopology(f"{name}.x", "ledger.#", f"{name}.q", f"{name}.parking.x", f"{name}.parking.q")
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    topology.declare(connection.channel())
    yield topology
    topology.delete(connection.channel())
    connection.close()


def publish(topology: AmqpTopology, *bodies: bytes) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.confirm_delivery()
    for body in bodies:
        channel.basic_publish(topology.exchange, "ledger.balance", body,
                              properties=pika.BasicProperties(delivery_mode=2, content_type="application/json",
                                                              headers={"source": "core"}))
    connection.close()


def drain(topology: AmqpTopology, queue: str) -> list[tuple[pika.BasicProperties, bytes]]:
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    out = []
    while True:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            break
        out.append((properties, body))
    connection.close()
    return out


def consumer(topology: AmqpTopology, handler: IngestionHandler) -> AmqpConsumer:
    return AmqpConsumer(pika.URLParameters(AMQP_URL), topology, handler, prefetch=8, retry_pause=0.05)


def test_shuffled_duplicated_and_poison_messages(topology: AmqpTopology, handler: IngestionHandler, ledger: Engine,
                                                 cache: LedgerCache) -> None:
    account = new_account_id()
    events = [account_event(account)] + [balance_event(account, n, f"{n}0.00") for n in range(2, 8)]
    deliveries = events + events[2:4]  # two redeliveries
    random.Random(5).shuffle(deliveries)
    poison = b'{"MessageId": "x", "Type": "nonsense"}'
    cache.get(account, "balances", lambda: ["stale"])
    publish(topology, *deliveries, poison)
    assert consumer(topology, handler).run(max_idle=0.5, idle_poll=0.1) == len(deliveries) + 1
    assert booked(ledger, account) == "70.00" and cursor(ledger, account) == 7
    assert cache.cached_fields(account) == set()
    assert drain(topology, topology.queue) == []  # everything was acknowledged
    [(properties, body)] = drain(topology, topology.parking_queue)
    assert body == poison
    headers: dict[str, Any] = dict(properties.headers or {})
    assert "not a core-banking ledger event" in str(headers["x-parking-reason"])
    assert headers["x-original-routing-key"] == "ledger.balance" and headers["source"] == "core"


def test_when_parking_fails_the_broker_dead_letters_the_message(topology: AmqpTopology, ledger: Engine) -> None:
    class CannotPark(IngestionHandler):
        def handle(self, body: bytes, park) -> Result:  # type: ignore[override]
            raise ParkingFailed("parking lot unavailable")

    publish(topology, b"poison")
    assert consumer(topology, CannotPark(ledger, None)).run(max_idle=0.5, idle_poll=0.1) == 1
    [(properties, body)] = drain(topology, topology.parking_queue)
    headers: dict[str, Any] = dict(properties.headers or {})
    assert body == b"poison" and headers["x-death"][0]["reason"] == "rejected"


def test_a_transient_failure_requeues_until_it_succeeds(topology: AmqpTopology, ledger: Engine,
                                                        cache: LedgerCache) -> None:
    class Flaky(IngestionHandler):
        calls = 0

        def handle(self, body: bytes, park) -> Result:  # type: ignore[override]
            self.calls += 1
            if self.calls < 3:
                raise ConnectionError("database restarting")
            return super().handle(body, park)

    account = new_account_id()
    handler = Flaky(ledger, cache)
    publish(topology, account_event(account))
    consumer(topology, handler).run(max_idle=0.5, idle_poll=0.1)
    assert handler.calls == 3 and cursor(ledger, account) == 1
    assert drain(topology, topology.queue) == [] and drain(topology, topology.parking_queue) == []
