"""Flights to Kafka with the librdkafka mock cluster and the mock Schema Registry: what arrives, decoded with
the registered schema, is exactly what MySQL holds; failures are counted and redelivered exactly once."""

from __future__ import annotations

from collections import Counter

import pytest
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from aerolake.stores.mysql.db import connection
from aerolake.streaming import publish_to_kafka
from aerolake.streaming.connections import resolve_target
from aerolake.streaming.publisher import DeliveryFailed, FlightPublisher
from aerolake.streaming.registry import make_registry_client

from .conftest import DT, NEXT_DT, consume, expected_records

pytestmark = pytest.mark.mysql

TOPIC = "flight-data"


def decode(publisher: FlightPublisher, messages: list) -> dict[str, dict]:
    """key -> value decoded with the schema the registry holds for the message's schema id."""
    deserializer = AvroDeserializer(publisher.registry)
    out = {}
    for msg in messages:
        key = msg.key().decode()
        assert key not in out, f"{key} delivered twice"
        out[key] = deserializer(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE))
    return out


def ledger(cfg) -> dict[int, tuple]:
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT flight_id, topic, message_key, fingerprint IS NOT NULL, last_status, kafka_offset "
                    "IS NOT NULL FROM kafka_publications")
        return {row[0]: row[1:] for row in cur.fetchall()}


def test_messages_decode_to_the_rows(kafka_ctx, flights_db) -> None:
    """Offline default (no connection): in-process mock cluster, mock registry."""
    publisher = FlightPublisher(resolve_target())
    assert publisher.target.kafka_offline and publisher.target.registry_offline
    counts = publish_to_kafka(kafka_ctx(DT), publisher=publisher)
    assert counts == {"flights": 5, "unchanged": 0, "produced": 5, "delivered": 5, "failed": 0}
    messages = consume(publisher.bootstrap_servers(), TOPIC, expected=5)
    assert decode(publisher, messages) == expected_records(flights_db, DT)
    # Confluent framing: magic byte 0, then the id the registry gave the schema under <topic>-value
    registered = publisher.registry.get_latest_version(f"{TOPIC}-value")
    assert {m.value()[0] for m in messages} == {0}
    assert {int.from_bytes(m.value()[1:5], "big") for m in messages} == {registered.schema_id}
    assert registered.version == 1
    rows = ledger(flights_db)
    assert len(rows) == 5
    assert {r[0] for r in rows.values()} == {f"mock:{TOPIC}"}  # offline deliveries are kept apart
    assert all(r[2:] == (1, "delivered", 1) for r in rows.values())
    # a rerun with nothing changed publishes nothing, even when the observation times moved
    with connection(flights_db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE flights SET updated_at = '2026-03-01 07:00:00', status_updated_at = '2026-03-01 07:00:00'")
        conn.commit()
    counts = publish_to_kafka(kafka_ctx(DT), publisher=publisher)
    assert counts == {"flights": 5, "unchanged": 5, "produced": 0, "delivered": 0, "failed": 0}
    # a changed flight is published again (its key, new content); the next date is separate
    with connection(flights_db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE flights SET status = 'landed', actual_arrival = '2026-03-01 18:41:00' "
                    "WHERE airline_code = 'LH' AND flight_number = '400' AND departure_date = %s", (DT,))
        conn.commit()
    assert publish_to_kafka(kafka_ctx(DT), publisher=publisher)["delivered"] == 1
    assert publish_to_kafka(kafka_ctx(NEXT_DT), publisher=publisher)["delivered"] == 1
    messages = consume(publisher.bootstrap_servers(), TOPIC, expected=7)
    keys = Counter(m.key().decode() for m in messages)
    assert len(messages) == 7
    assert keys["LH_400_2026-03-01_FRA"] == 2 and keys["LH_400_2026-03-02_FRA"] == 1
    newest = decode(publisher, [m for m in messages if m.key() == b"LH_400_2026-03-01_FRA"][-1:])
    assert newest == {"LH_400_2026-03-01_FRA": expected_records(flights_db, DT)["LH_400_2026-03-01_FRA"]}
    assert newest["LH_400_2026-03-01_FRA"]["status"] == "landed"
    assert publisher.close() == 0


def test_publish_builds_its_own_producer(kafka_ctx, flights_db) -> None:
    """The task body as the DAG calls it: publish_to_kafka(ctx), nothing else."""
    counts = publish_to_kafka(kafka_ctx(DT))
    assert counts["delivered"] == 5 and counts["failed"] == 0
    assert publish_to_kafka(kafka_ctx(DT))["produced"] == 0


def test_delivery_failure_then_exactly_once_redelivery(kafka_ctx, flights_db, mock_cluster) -> None:
    """A broker slower than the message timeout: the run fails naming the count; the rerun delivers exactly
    the unacknowledged messages, once."""
    bootstrap = mock_cluster(rtt_ms=500)  # every request to this cluster takes half a second
    registry = make_registry_client({"url": "mock://streaming-test"})

    def publisher(**overrides) -> FlightPublisher:
        return FlightPublisher(resolve_target(brokers=bootstrap, registry_url="mock://streaming-test",
                                              overrides=overrides), TOPIC, registry=registry)

    assert publish_to_kafka(kafka_ctx(DT), publisher=publisher())["delivered"] == 5
    with connection(flights_db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE flights SET dep_gate = 'Z99' WHERE airline_code = 'LH' AND departure_date = %s "
                    "AND flight_number IN ('2000', '401')", (DT,))
        conn.commit()
    failing = publisher(**{"message.timeout.ms": 50})  # times out long before the slow broker answers
    with pytest.raises(DeliveryFailed, match=r"2 of 2 messages to topic flight-data were not acknowledged") as exc:
        publish_to_kafka(kafka_ctx(DT), publisher=failing)
    assert (exc.value.failed, exc.value.attempted) == (2, 2)
    assert "timed out" in str(exc.value).lower()
    rows = ledger(flights_db)
    assert sorted(r[1] for r in rows.values() if r[3] == "failed") == ["LH_2000_2026-03-01_FRA",
                                                                       "LH_401_2026-03-01_JFK"]
    # the rerun: exactly the two, once
    counts = publish_to_kafka(kafka_ctx(DT), publisher=publisher())
    assert counts == {"flights": 5, "unchanged": 3, "produced": 2, "delivered": 2, "failed": 0}
    assert publish_to_kafka(kafka_ctx(DT), publisher=publisher())["produced"] == 0
    messages = consume(bootstrap, TOPIC, expected=7)
    keys = Counter(m.key().decode() for m in messages)
    assert len(messages) == 7, keys
    assert keys == {"LH_400_2026-03-01_FRA": 1, "UA_932_2026-03-01_FRA": 1, "LH_1234_2026-03-01_MUC": 1,
                    "LH_2000_2026-03-01_FRA": 2, "LH_401_2026-03-01_JFK": 2}
    deserializer = AvroDeserializer(registry)
    gates = [deserializer(m.value(), SerializationContext(TOPIC, MessageField.VALUE))["dep_gate"]
             for m in messages if m.key() == b"LH_2000_2026-03-01_FRA"]
    assert gates == [None, "Z99"]
    assert all(r[0] == TOPIC and r[3] == "delivered" for r in ledger(flights_db).values())
