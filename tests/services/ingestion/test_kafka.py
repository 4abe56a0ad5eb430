"""The Kafka option, driven without a broker (confluent-kafka is pinned, but no Kafka runs here): fakes of
the consumer and producer protocols check commit-after-handle, parking and seek-back on failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from openbanking.ingestion.handler import IngestionHandler
from openbanking.ingestion.kafka import KafkaIngestion

from .conftest import account_event, balance_event, booked, cursor, new_account_id


@dataclass
class FakeRecord:
    body: bytes
    offset_: int
    failure: Any = None

    def error(self) -> Any:
        return self.failure

    def value(self) -> bytes:
        return self.body

    def key(self) -> bytes:
        return b"account"

    def headers(self) -> list[tuple[str, bytes]]:
        return [("source", b"core")]

    def topic(self) -> str:
        return "ledger"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self.offset_


@dataclass
class FakeConsumer:
    records: list[FakeRecord]
    committed: list[int] = field(default_factory=list)
    seeks: list[int] = field(default_factory=list)
    position: int = 0
    closed: bool = False

    def subscribe(self, topics: list[str]) -> None:
        assert topics == ["ledger"]

    def poll(self, timeout: float) -> FakeRecord | None:
        if self.position >= len(self.records):
            return None
        record = self.records[self.position]
        self.position += 1
        return record

    def commit(self, *, message: Any, asynchronous: bool) -> None:
        assert asynchronous is False
        self.committed.append(message.offset())

    def seek(self, partition: Any) -> None:
        self.seeks.append(partition)
        self.position = partition  # the fake "TopicPartition" is the offset itself

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeProducer:
    fail: bool = False
    produced: list[tuple[str, bytes, list[tuple[str, bytes]]]] = field(default_factory=list)

    def produce(self, topic: str, value: bytes, key: bytes | None = None, headers: Any = None,
                on_delivery: Any = None) -> None:
        self.produced.append((topic, value, headers))
        if on_delivery is not None:
            on_delivery("broker down" if self.fail else None, None)

    def flush(self, timeout: float) -> int:
        return 0


def ingestion(consumer: FakeConsumer, producer: FakeProducer, handler: IngestionHandler) -> KafkaIngestion:
    return KafkaIngestion(consumer, producer, handler, topic="ledger", parking_topic="ledger.parking",
                          retry_pause=0, seek_position=lambda record: record.offset())


def test_records_are_committed_after_they_are_applied_and_poison_is_parked(ledger: Engine,
                                                                           handler: IngestionHandler) -> None:
    account = new_account_id()
    records = [FakeRecord(account_event(account), 0), FakeRecord(b"garbage", 1),
               FakeRecord(balance_event(account, 2, "8.00"), 2)]
    consumer, producer = FakeConsumer(records), FakeProducer()
    assert ingestion(consumer, producer, handler).run(poll_timeout=0, max_idle=0.05) == 3
    assert consumer.committed == [0, 1, 2] and consumer.closed
    assert booked(ledger, account) == "8.00"
    [(topic, value, headers)] = producer.produced
    assert (topic, value) == ("ledger.parking", b"garbage")
    names = dict(headers)
    assert b"not a core-banking ledger event" in names["x-parking-reason"] and names["source"] == b"core"


def test_a_record_that_cannot_be_parked_is_not_committed(ledger: Engine, handler: IngestionHandler) -> None:
    consumer, producer = FakeConsumer([FakeRecord(b"garbage", 0)]), FakeProducer(fail=True)
    runner = ingestion(consumer, producer, handler)
    assert runner.process(consumer.poll(0)) is False  # type: ignore[arg-type]
    assert consumer.committed == [] and consumer.seeks == [0]


def test_a_failing_handler_seeks_back_and_the_retry_commits(ledger: Engine, handler: IngestionHandler) -> None:
    account = new_account_id()
    consumer = FakeConsumer([FakeRecord(account_event(account), 0)])
    runner = ingestion(consumer, FakeProducer(), handler)
    original = handler.handle
    calls = []

    def flaky(body: bytes, park: Any) -> Any:
        calls.append(body)
        if len(calls) == 1:
            raise ConnectionError("database restarting")
        return original(body, park)

    handler.handle = flaky  # type: ignore[method-assign]
    assert runner.run(poll_timeout=0, max_idle=0.05) == 1
    assert consumer.seeks == [0] and consumer.committed == [0] and cursor(ledger, account) == 1


def test_consumer_errors_are_not_committed(handler: IngestionHandler) -> None:
    consumer = FakeConsumer([FakeRecord(b"", 0, failure="partition EOF")])
    assert ingestion(consumer, FakeProducer(), handler).process(consumer.poll(0)) is False  # type: ignore[arg-type]
    assert consumer.committed == []
