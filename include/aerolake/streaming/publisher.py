"""Flights to Kafka as Avro: only what changed, every message acknowledged or the run fails.

``publish_to_kafka(ctx)`` builds the canonical records of the partition's date from MySQL, compares each
flight's fingerprint with ``kafka_publications`` (the last acknowledged version per topic and flight) and
produces the flights that changed or whose last attempt failed, through confluent-kafka's
``SerializingProducer`` with the Schema Registry ``AvroSerializer``. Every delivery report is counted and
written back to ``kafka_publications``; if any message was not acknowledged the run raises
:class:`DeliveryFailed` with the count, and the next run delivers exactly those (the rest are unchanged).

Delivery is at least once: a process killed after the broker acknowledged but before the ledger write
republishes those flights; the key makes the duplicate an idempotent overwrite for a compacted topic or a
keyed consumer.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from aerolake.core.connections import MySqlConfig
from aerolake.core.errors import DeliveryFailed
from aerolake.core.settings import wall_clock
from aerolake.sql import sql_text, sql_uncommented
from aerolake.stores.mysql.db import connection, read_all
from aerolake.stores.mysql.migrate import migrate
from aerolake.streaming.connections import KafkaTarget, kafka_topic, resolve_target
from aerolake.streaming.records import fingerprint, identified_flight_records, message_key
from aerolake.streaming.registry import ensure_schema, make_registry_client, subject_for
from aerolake.streaming.schema import flight_schema_text

if TYPE_CHECKING:
    from aerolake.pipeline.stages import StageContext

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 600
LEDGER_BATCH = 5000


@dataclass
class Outcome:
    """Delivery reports of one batch."""

    delivered: list[tuple[Any, int, int]] = field(default_factory=list)  # (item, partition, offset)
    failed: list[tuple[Any, str]] = field(default_factory=list)  # (item, error)

    def on_delivery(self, item: Any, err: Any, msg: Any) -> None:
        if err is None:
            self.delivered.append((item, msg.partition(), msg.offset()))
        else:
            self.failed.append((item, str(err)))


class FlightPublisher:
    """One idempotent ``acks=all`` Avro producer for a topic, with its schema registered (BACKWARD).

    Keep one for a process's lifetime (the CLI's continuous mode does); :meth:`close` flushes. With the offline
    mock cluster the messages live only as long as this object.
    """

    def __init__(self, target: KafkaTarget, topic: str | None = None, registry: Any = None):
        from confluent_kafka import SerializingProducer
        from confluent_kafka.schema_registry.avro import AvroSerializer
        from confluent_kafka.serialization import StringSerializer

        self.target = target
        self.topic = kafka_topic(topic)
        self.subject = subject_for(self.topic)
        self.registry = registry if registry is not None else make_registry_client(target.registry_config)
        self.schema_text = flight_schema_text()
        self.registered = ensure_schema(self.registry, self.subject, self.schema_text)
        serializer = AvroSerializer(self.registry, self.schema_text, conf={"auto.register.schemas": False})
        self.producer = SerializingProducer({
            **target.producer_config,
            "key.serializer": StringSerializer("utf_8"),
            "value.serializer": serializer,
            "logger": logging.getLogger("aerolake.streaming.librdkafka"),
        })
        self.flush_timeout_s = int(target.producer_config.get("message.timeout.ms", 300_000)) / 1000 + 30
        if target.kafka_offline:
            log.warning("Kafka: librdkafka mock cluster at %s: messages live only as long as this process",
                        self.bootstrap_servers())
        log.info("Kafka publisher ready: topic %s, subject %s, %s", self.topic, self.subject, target.describe())

    @classmethod
    def from_connections(cls, topic: str | None = None) -> FlightPublisher:
        return cls(resolve_target(), topic)

    def bootstrap_servers(self, timeout: float = 10) -> str:
        """The brokers' addresses as the cluster reports them (the mock cluster's ephemeral port included)."""
        metadata = self.producer.list_topics(timeout=timeout)
        return ",".join(f"{b.host}:{b.port}" for b in sorted(metadata.brokers.values(), key=lambda b: b.id))

    def publish(self, messages: list[tuple[str, dict[str, Any], Any]]) -> Outcome:
        """Produce (key, record, item) messages; returns the delivery report of every one of them.

        Blocks until each message is acknowledged or failed (``message.timeout.ms``); a message still queued
        after that is purged and reported failed, never left unaccounted.
        """
        outcome = Outcome()
        try:
            for key, record, item in messages:
                self._produce(key, record, partial(outcome.on_delivery, item))
        finally:
            remaining = self.producer.flush(self.flush_timeout_s)
            if remaining:
                log.error("Kafka: %d message(s) still queued after %.0f s: purging them", remaining,
                          self.flush_timeout_s)
                self.producer.purge()
                self.producer.flush(10)
        return outcome

    def _produce(self, key: str, record: dict[str, Any], callback: Any) -> None:
        while True:
            try:
                self.producer.produce(self.topic, key=key, value=record, on_delivery=callback)
                break
            except BufferError:  # the local queue is full: serve delivery reports, then retry
                self.producer.poll(0.5)
        self.producer.poll(0)

    def close(self) -> int:
        """Final flush; returns the number of messages still undelivered (0 when everything was reported)."""
        remaining = self.producer.flush(self.flush_timeout_s)
        log.info("Kafka publisher closed: final flush, %d message(s) outstanding", remaining)
        return remaining


# -- the ledger ---------------------------------------------------------------------------------------------
def ledger_topic(topic: str, offline: bool) -> str:
    """The ``kafka_publications.topic`` of a destination: deliveries to the in-process mock cluster are kept
    apart (``mock:<topic>``), so a real cluster configured later still gets every flight."""
    return f"mock:{topic}" if offline else topic


def _lock_name(topic: str, dt: date) -> str:
    digest = hashlib.sha1(f"{topic}|{dt}".encode()).hexdigest()[:40]  # noqa: S324 - a name, not security
    return f"aerolake_kafka_{digest}"


@contextmanager
def publication_lock(cfg: MySqlConfig, topic: str, dt: date) -> Iterator[None]:
    """One publisher per topic and date at a time (the Airlabs and Aviation Stack DAGs share flights)."""
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        name = _lock_name(topic, dt)
        cur.execute("SELECT GET_LOCK(%s, %s)", (name, LOCK_TIMEOUT_S))
        if cur.fetchone()[0] != 1:
            raise RuntimeError(f"another publisher holds the Kafka lock of topic {topic} for {dt} "
                               f"(waited {LOCK_TIMEOUT_S} s)")
        try:
            yield
        finally:
            cur.execute("SELECT RELEASE_LOCK(%s)", (name,))


def published_versions(cfg: MySqlConfig, topic: str, dt: date) -> dict[int, tuple[str | None, str]]:
    """flight_id -> (fingerprint of the last acknowledged message, status of the last attempt): a row per flight of
    the date (84,000 at world scale), so through :func:`read_all`'s C client."""
    [(_names, rows)] = read_all(cfg, [(sql_text("queries/select_kafka_publications.sql"), (topic, dt))])
    return {int(fid): (fp, status) for fid, fp, status in rows}


def needs_publishing(current: str, published: tuple[str | None, str] | None) -> bool:
    """Never published, changed since, or the last attempt was not acknowledged."""
    return published is None or published[0] != current or published[1] != "delivered"


def record_outcome(cfg: MySqlConfig, topic: str, dt: date, outcome: Outcome) -> None:
    """Write every delivery report to ``kafka_publications`` in one transaction."""
    now = wall_clock()
    delivered = [(topic, item["flight_id"], dt, item["key"], item["fingerprint"], partition, offset, now,
                  "delivered", None, now) for item, partition, offset in outcome.delivered]
    failed = [(topic, item["flight_id"], dt, item["key"], None, None, None, None, "failed", error[:255], now)
              for item, error in outcome.failed]
    with connection(cfg) as conn:
        with conn.cursor() as cur:
            for name, rows in (("delivered", delivered), ("failed", failed)):
                # without its comment lines: PyMySQL's executemany makes one multi-row INSERT only of a text that
                # starts with INSERT (otherwise it runs one statement per row)
                statement = sql_uncommented(f"queries/upsert_kafka_publication_{name}.sql")
                for start in range(0, len(rows), LEDGER_BATCH):
                    cur.executemany(statement, rows[start:start + LEDGER_BATCH])
        conn.commit()


# -- the task body ------------------------------------------------------------------------------------------
def publish_to_kafka(ctx: StageContext, *, publisher: FlightPublisher | None = None,
                     topic: str | None = None) -> dict[str, int]:
    """Publish the changed flights of ``ctx.partition.dt``; returns counts, raises :class:`DeliveryFailed`.

    Counts: ``flights`` of the date, ``unchanged`` (skipped), ``produced``, ``delivered``, ``failed``.
    Without a ``publisher`` one is built from the connections (or the offline mocks) and closed at the end.
    """
    started = time.monotonic()
    migrate(ctx.mysql)
    day = date.fromisoformat(ctx.partition.dt)
    target = publisher.target if publisher is not None else resolve_target()
    topic = publisher.topic if publisher is not None else kafka_topic(topic)
    ledger = ledger_topic(topic, target.kafka_offline)
    phases: dict[str, float] = {}
    with publication_lock(ctx.mysql, ledger, day):
        t0 = time.monotonic()
        records = identified_flight_records(ctx.mysql, day)
        versions = published_versions(ctx.mysql, ledger, day)
        phases["read"] = time.monotonic() - t0
        messages = []
        for flight_id, record in records:
            current = fingerprint(record)
            if needs_publishing(current, versions.get(flight_id)):
                key = message_key(record)
                messages.append((key, record, {"flight_id": flight_id, "key": key, "fingerprint": current}))
        phases["compare"] = time.monotonic() - t0 - phases["read"]
        counts = {"flights": len(records), "unchanged": len(records) - len(messages), "produced": len(messages),
                  "delivered": 0, "failed": 0}
        if messages:
            own = publisher is None
            publisher = publisher or FlightPublisher(target, topic)
            outcome = Outcome()
            t0 = time.monotonic()
            try:
                outcome = publisher.publish(messages)
            finally:
                phases["produce"] = time.monotonic() - t0
                record_outcome(ctx.mysql, ledger, day, outcome)
                phases["ledger"] = time.monotonic() - t0 - phases["produce"]
                if own:
                    publisher.close()
            counts["delivered"], counts["failed"] = len(outcome.delivered), len(outcome.failed)
            # a serialization error stops produce() mid-batch: the rest were never sent nor reported
            counts["failed"] += len(messages) - len(outcome.delivered) - len(outcome.failed)
    log.info("publish_to_kafka %s -> %s: %d flights, %d unchanged, %d produced, %d delivered, %d failed in %.1f s "
             "(%s)", day, topic, counts["flights"], counts["unchanged"], counts["produced"], counts["delivered"],
             counts["failed"], time.monotonic() - started, ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
    if counts["failed"]:
        errors = sorted({error for _item, error in outcome.failed})[:3]
        raise DeliveryFailed(
            f"publish_to_kafka {day}: {counts['failed']} of {counts['produced']} messages to topic {topic} were not "
            f"acknowledged ({'; '.join(errors) or 'not produced'}); they are recorded as failed in "
            "kafka_publications and the next run publishes exactly those",
            counts["failed"], counts["produced"])
    return counts
