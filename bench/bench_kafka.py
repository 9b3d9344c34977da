"""Benchmark: flights as Avro to Kafka (librdkafka mock cluster), next to plain JSON of the same records.

    /work/main/.venv/bin/python bench/bench_kafka.py [--flights 100000] [--repeat 3] [--no-mysql]

What runs, all in this process, single-threaded Python (librdkafka has its own threads):

1. **records**: ``--flights`` synthetic canonical flight records (every field of ``flight.avsc``; about a third
   with a live position, a fifth with codeshares, the optional fields null at realistic rates), built in memory.
2. **serialization only**, per record, best of ``--repeat``:
   * ``avro_confluent``: the project's serializer, confluent-kafka's ``AvroSerializer`` with the schema
     registered (mock registry): Confluent framing (magic byte + schema id) + Avro binary;
   * ``avro_fastavro``: fastavro's ``schemaless_writer`` alone (the Avro encoding without the serializer's
     per-message subject lookup and framing);
   * ``json``: ``json.dumps`` (ISO-8601 strings for times and dates) encoded UTF-8.
3. **produce with delivery confirmed**, a fresh in-process mock cluster per run (1 broker, the project's
   producer settings: idempotent, ``acks=all``, lz4, ``linger.ms=20``): every message's delivery report
   must arrive without error, or the run is reported as failed:
   * ``avro``: ``FlightPublisher.publish`` - the project's code path (SerializingProducer + AvroSerializer);
   * ``json``: a plain ``Producer`` with the same settings, values serialized with ``json.dumps`` inside the
     timed loop;
   * ``avro_bytes`` / ``json_bytes``: the values serialized before the clock starts, so only the transport
     is timed.
4. unless ``--no-mysql``: **publish_to_kafka end to end** from MariaDB (a fresh ``aerolake_bench_kafka_<hex>``
   database on 127.0.0.1:3306 seeded with the same flights, dropped at the end): the task body on a new
   partition (records query + fingerprints + produce + ledger), then a rerun with nothing changed.

The mock cluster is an in-process broker with no disk and no network hop: the produce rates are the client
side's ceiling on this machine, not a real cluster's throughput. Results go to
``bench/results/kafka-<date>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import logging
import os
import platform
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))
RESULTS_DIR = ROOT / "bench" / "results"

from aerolake.streaming.connections import PRODUCER_DEFAULTS, resolve_target  # noqa: E402
from aerolake.streaming.publisher import FlightPublisher  # noqa: E402
from aerolake.streaming.records import message_key  # noqa: E402
from aerolake.streaming.schema import flight_schema_text, parsed_flight_schema  # noqa: E402

log = logging.getLogger("bench_kafka")

DAY = date(2026, 3, 1)
STATUSES = ["scheduled", "active", "landed", "cancelled", "diverted", "incident", "unknown"]
AIRLINES = [(f"{a}{b}", f"{a}{b}X", f"Airline {a}{b}") for a in "ABCDEFGH" for b in "ABCDE"]  # 40 airlines
AIRPORTS = [(f"{a}{b}{c}", f"K{a}{b}{c}", f"{a}{b}{c} International", f"{a}{b}{c}", "DE",
             -60 + (i * 7.3) % 120, -170 + (i * 13.7) % 340, "Europe/Berlin")
            for i, (a, b, c) in enumerate((a, b, c) for a in "ABCDEFGHIJ" for b in "KLMNO" for c in "PQRST")]
AIRCRAFT = [("359", "Airbus A350-900"), ("32N", "Airbus A320neo"), ("77W", "Boeing 777-300ER"),
            ("E90", "Embraer 190")]


# -- 1. records ---------------------------------------------------------------------------------------------
def synthetic_flights(n: int) -> list[dict[str, Any]]:
    """``n`` canonical records with unique natural keys, deterministic (no randomness)."""
    base = datetime(2026, 3, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        airline = AIRLINES[i % len(AIRLINES)]
        dep, arr = AIRPORTS[(i // len(AIRLINES)) % len(AIRPORTS)], AIRPORTS[(i * 7 + 3) % len(AIRPORTS)]
        if arr is dep:
            arr = AIRPORTS[(AIRPORTS.index(dep) + 1) % len(AIRPORTS)]
        number = str(1 + (i // (len(AIRLINES) * len(AIRPORTS))) * 7 % 9999 + i % 3)
        scheduled = base + timedelta(minutes=(i * 17) % 1440)
        status = STATUSES[i % 5 if i % 97 else 5 + i % 2]
        started = status in ("active", "landed", "diverted")
        aircraft = AIRCRAFT[i % len(AIRCRAFT)] if i % 9 else (None, None)
        record = {
            "airline_code": airline[0], "flight_number": number, "departure_date": DAY,
            "dep_airport": dep[0], "arr_airport": arr[0],
            "operating_airline_code": AIRLINES[(i + 1) % len(AIRLINES)][0] if i % 11 == 0 else None,
            "operating_flight_number": str(5000 + i % 999) if i % 11 == 0 else None,
            "scheduled_departure": scheduled, "estimated_departure": scheduled + timedelta(minutes=i % 30),
            "actual_departure": scheduled + timedelta(minutes=i % 40) if started else None,
            "scheduled_arrival": scheduled + timedelta(minutes=60 + i % 600),
            "estimated_arrival": scheduled + timedelta(minutes=65 + i % 600),
            "actual_arrival": scheduled + timedelta(minutes=62 + i % 600) if status == "landed" else None,
            "dep_terminal": str(1 + i % 3), "dep_gate": f"A{i % 60}" if i % 4 else None,
            "arr_terminal": str(1 + i % 2) if i % 3 else None, "arr_gate": f"B{i % 40}" if i % 5 else None,
            "status": status, "dep_delay_min": i % 40 if started else None,
            "arr_delay_min": i % 30 - 10 if status == "landed" else None,
            "aircraft_code": aircraft[0], "registration": f"D-A{i % 17576:05d}" if i % 3 else None,
            "source": ("lufthansa", "airlabs", "aviationstack")[i % 3],
            "updated_at": base + timedelta(hours=6, seconds=i % 3600),
            "status_source": ("airlabs", "aviationstack")[i % 2],
            "status_updated_at": base + timedelta(hours=7, seconds=i % 3600),
            "airline_name": airline[2], "airline_icao": airline[1],
            "operating_airline_name": AIRLINES[(i + 1) % len(AIRLINES)][2] if i % 11 == 0 else None,
            "aircraft_type_name": aircraft[1],
            "codeshares": [f"{AIRLINES[(i + k) % len(AIRLINES)][0]}{9000 + k}" for k in range(1, 3)] if i % 5 == 0
            else [],
            "latest_position": {
                "observed_at": scheduled + timedelta(minutes=45), "icao24": f"{i % 16777215:06x}",
                "latitude": dep[5] + 0.5, "longitude": dep[6] + 0.5, "altitude_m": 10000.0 + i % 2000,
                "heading": float(i % 360), "speed_kmh": 850.0 + i % 100, "vertical_speed": 0.0,
                "on_ground": False} if started else None,
        }
        for side, ap in (("dep", dep), ("arr", arr)):
            record.update({
                f"{side}_airport_name": ap[2], f"{side}_airport_icao": ap[1], f"{side}_airport_timezone": ap[7],
                f"{side}_city_code": ap[3], f"{side}_city_name": f"City {ap[3]}", f"{side}_country_code": ap[4],
                f"{side}_country_name": "Germany", f"{side}_airport_latitude": ap[5],
                f"{side}_airport_longitude": ap[6],
            })
        out.append(record)
    return out


# -- 2. serialization ---------------------------------------------------------------------------------------
def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def json_bytes(record: dict[str, Any]) -> bytes:
    return json.dumps(record, default=_iso, separators=(",", ":")).encode()


def avro_serializer() -> Callable[[dict[str, Any]], bytes]:
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    from aerolake.streaming.registry import ensure_schema, make_registry_client

    registry = make_registry_client({"url": "mock://bench"})
    ensure_schema(registry, "flight-data-value", flight_schema_text())
    serializer = AvroSerializer(registry, flight_schema_text(), conf={"auto.register.schemas": False})
    ctx = SerializationContext("flight-data", MessageField.VALUE)
    return lambda record: serializer(record, ctx)


def fastavro_serializer() -> Callable[[dict[str, Any]], bytes]:
    import fastavro

    schema = parsed_flight_schema()

    def encode(record: dict[str, Any]) -> bytes:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, schema, record)
        return buffer.getvalue()

    return encode


def time_serialization(records: list[dict[str, Any]], encode: Callable[[dict[str, Any]], bytes],
                       repeat: int) -> dict[str, Any]:
    best, total = float("inf"), 0
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        total = sum(len(encode(r)) for r in records)
        best = min(best, time.perf_counter() - t0)
    return {"seconds": round(best, 3), "records_per_s": round(len(records) / best),
            "avg_bytes": round(total / len(records), 1)}


# -- 3. produce with delivery confirmed --------------------------------------------------------------------
def produce_avro(records: list[dict[str, Any]]) -> dict[str, Any]:
    publisher = FlightPublisher(resolve_target(), "flight-data")
    publisher.producer.list_topics(timeout=10)  # connected before the clock starts
    messages = [(message_key(r), r, n) for n, r in enumerate(records, 1)]
    t0 = time.perf_counter()
    outcome = publisher.publish(messages)
    seconds = time.perf_counter() - t0
    publisher.close()
    return _produce_result(len(records), len(outcome.delivered), len(outcome.failed), seconds)


def produce_plain(records: list[dict[str, Any]], values: list[bytes] | None) -> dict[str, Any]:
    """A plain Producer with the project's settings; JSON serialized in the loop unless ``values`` given."""
    from confluent_kafka import Producer

    producer = Producer({**PRODUCER_DEFAULTS, "test.mock.num.brokers": 1, "log_level": 3})
    producer.list_topics(timeout=10)
    counts = {"ok": 0, "failed": 0}

    def report(err: Any, _msg: Any) -> None:
        counts["failed" if err else "ok"] += 1

    t0 = time.perf_counter()
    for i, record in enumerate(records):
        value = values[i] if values is not None else json_bytes(record)
        while True:
            try:
                producer.produce("flight-data", key=message_key(record).encode(), value=value, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.5)
        producer.poll(0)
    remaining = producer.flush(120)
    seconds = time.perf_counter() - t0
    return _produce_result(len(records), counts["ok"], counts["failed"] + remaining, seconds)


def _produce_result(n: int, delivered: int, failed: int, seconds: float) -> dict[str, Any]:
    return {"messages": n, "delivered": delivered, "failed": failed, "seconds": round(seconds, 3),
            "delivered_per_s": round(delivered / seconds), "ok": delivered == n and failed == 0}


def best_of(repeat: int, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    results = []
    for _ in range(repeat):
        gc.collect()
        results.append(run())
    if not all(r["ok"] for r in results):
        return {**next(r for r in results if not r["ok"]), "runs": results}
    return {**min(results, key=lambda r: r["seconds"]), "runs": [r["seconds"] for r in results]}


# -- 4. end to end from MySQL ------------------------------------------------------------------------------
def seed_mysql(cfg: Any, records: list[dict[str, Any]]) -> None:
    from aerolake.stores.mysql.db import connection
    from aerolake.stores.mysql.migrate import migrate

    migrate(cfg)
    t = "2026-03-01 06:00:00"
    flight_columns = ["airline_code", "flight_number", "departure_date", "dep_airport", "arr_airport",
                      "operating_airline_code", "operating_flight_number", "scheduled_departure",
                      "estimated_departure", "actual_departure", "scheduled_arrival", "estimated_arrival",
                      "actual_arrival", "dep_terminal", "dep_gate", "arr_terminal", "arr_gate", "status",
                      "dep_delay_min", "arr_delay_min", "aircraft_code", "registration", "source", "updated_at",
                      "status_source", "status_updated_at"]

    def naive(v: Any) -> Any:
        return v.replace(tzinfo=None) if isinstance(v, datetime) else v

    with connection(cfg) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO countries VALUES ('DE', 'Germany', 'bench', %s)", (t,))
        cur.executemany("INSERT INTO cities VALUES (%s, 'DE', %s, NULL, NULL, NULL, 'bench', %s)",
                        [(a[3], f"City {a[3]}", t) for a in AIRPORTS])
        cur.executemany("INSERT INTO airports (airport_code, icao_code, name, city_code, country_code, latitude, "
                        "longitude, timezone, source, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'bench', %s)",
                        [(*a, t) for a in AIRPORTS])
        cur.executemany("INSERT INTO airlines VALUES (%s, %s, %s, 'bench', %s)", [(*a, t) for a in AIRLINES])
        cur.executemany("INSERT INTO aircraft_types VALUES (%s, %s, NULL, 'bench', %s)", [(*a, t) for a in AIRCRAFT])
        insert = (f"INSERT INTO flights (flight_id, {', '.join(flight_columns)}) "
                  f"VALUES ({', '.join(['%s'] * (len(flight_columns) + 1))})")
        rows = [(flight_id, *(naive(r[c]) for c in flight_columns)) for flight_id, r in enumerate(records, 1)]
        for start in range(0, len(rows), 5000):
            cur.executemany(insert, rows[start:start + 5000])
        shares = [(s[:2], s[2:], r["departure_date"], r["dep_airport"], r["airline_code"], r["flight_number"], t)
                  for r in records for s in r["codeshares"]]
        for start in range(0, len(shares), 5000):
            cur.executemany("INSERT IGNORE INTO flight_codeshares (marketing_airline_code, marketing_flight_number, "
                            "departure_date, dep_airport, airline_code, flight_number, source, updated_at) "
                            "VALUES (%s, %s, %s, %s, %s, %s, 'bench', %s)", shares[start:start + 5000])
        positions = [(p["icao24"], naive(p["observed_at"]), flight_id, p["latitude"], p["longitude"],
                      p["altitude_m"], p["heading"], p["speed_kmh"], p["vertical_speed"], p["on_ground"], t)
                     for flight_id, r in enumerate(records, 1) if (p := r["latest_position"])]
        for start in range(0, len(positions), 5000):
            cur.executemany("INSERT IGNORE INTO flight_positions (icao24, observed_at, flight_id, latitude, longitude, "
                            "altitude_m, heading, speed_kmh, vertical_speed, on_ground, source, updated_at) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'bench', %s)",
                            positions[start:start + 5000])
        conn.commit()


def end_to_end(records: list[dict[str, Any]]) -> dict[str, Any]:
    from aerolake.core.connections import MySqlConfig
    from aerolake.core.settings import Settings
    from aerolake.pipeline.stages import StageContext
    from aerolake.sql import quote_identifier
    from aerolake.stores.lake import Partition
    from aerolake.stores.mysql.db import connection
    from aerolake.stores.mysql.ledger import RunInfo
    from aerolake.streaming.publisher import publish_to_kafka
    from aerolake.streaming.records import flight_records

    cfg = MySqlConfig(database=f"aerolake_bench_kafka_{secrets.token_hex(4)}")
    try:
        t0 = time.perf_counter()
        seed_mysql(cfg, records)
        seeded = time.perf_counter() - t0
        ctx = StageContext(RunInfo("bench", "bench-1", Partition("aviationstack", DAY.isoformat())),
                           Settings(), None, None, cfg)
        t0 = time.perf_counter()
        built = flight_records(cfg, DAY)
        query_s = time.perf_counter() - t0
        publisher = FlightPublisher(resolve_target(), "flight-data")
        publisher.producer.list_topics(timeout=10)
        t0 = time.perf_counter()
        first = publish_to_kafka(ctx, publisher=publisher)
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        rerun = publish_to_kafka(ctx, publisher=publisher)
        rerun_s = time.perf_counter() - t0
        publisher.close()
        return {"seed_seconds": round(seeded, 1), "records_query": {"records": len(built), "seconds": round(query_s, 3),
                                                                     "records_per_s": round(len(built) / query_s)},
                "new_partition": {**first, "seconds": round(first_s, 3),
                                  "delivered_per_s": round(first["delivered"] / first_s)},
                "rerun_unchanged": {**rerun, "seconds": round(rerun_s, 3)}}
    finally:
        with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(cfg.database)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flights", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-mysql", action="store_true", help="skip the end-to-end run from MariaDB")
    args = parser.parse_args()
    with contextlib.suppress(ImportError):  # Airflow configures logging when imported: before ours
        import airflow.sdk  # noqa: F401
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("aerolake.streaming.publisher").setLevel(logging.INFO)  # the phases of publish_to_kafka
    logging.getLogger("aerolake.streaming.connections").setLevel(logging.ERROR)  # "offline" said once is enough
    os.environ.pop("AIRFLOW_CONN_AEROLAKE_KAFKA", None)  # the mock cluster, always
    os.environ.pop("AIRFLOW_CONN_AEROLAKE_SCHEMA_REGISTRY", None)

    t0 = time.perf_counter()
    records = synthetic_flights(args.flights)
    print(f"{len(records):,} synthetic flight records built in {time.perf_counter() - t0:.1f} s")
    import fastavro

    for record in records[:1000]:
        fastavro.validation.validate(record, parsed_flight_schema(), raise_errors=True)

    result: dict[str, Any] = {"flights": len(records), "repeat": args.repeat, "machine": {
        "python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}}
    import confluent_kafka

    result["machine"]["confluent_kafka"] = confluent_kafka.__version__
    result["machine"]["librdkafka"] = confluent_kafka.libversion()[0]
    result["machine"]["fastavro"] = fastavro.__version__

    print(f"\nserialization only (records/s, best of {args.repeat})")
    result["serialization"] = {
        "avro_confluent": time_serialization(records, avro_serializer(), args.repeat),
        "avro_fastavro": time_serialization(records, fastavro_serializer(), args.repeat),
        "json": time_serialization(records, json_bytes, args.repeat),
    }
    for name, r in result["serialization"].items():
        print(f"  {name:<16}{r['records_per_s']:>10,}/s  {r['seconds']:>7.2f} s  {r['avg_bytes']:>7.1f} bytes/record")

    print(f"\nproduce to the mock cluster, every delivery confirmed (messages/s, best of {args.repeat})")
    encode = avro_serializer()
    avro_values = [encode(r) for r in records]
    json_values = [json_bytes(r) for r in records]
    result["produce"] = {
        "avro": best_of(args.repeat, lambda: produce_avro(records)),
        "json": best_of(args.repeat, lambda: produce_plain(records, None)),
        "avro_bytes": best_of(args.repeat, lambda: produce_plain(records, avro_values)),
        "json_bytes": best_of(args.repeat, lambda: produce_plain(records, json_values)),
    }
    for name, r in result["produce"].items():
        state = "all delivered" if r["ok"] else f"FAILED: {r['failed']} not delivered"
        print(f"  {name:<16}{r['delivered_per_s']:>10,}/s  {r['seconds']:>7.2f} s  {state}")

    if not args.no_mysql:
        print("\npublish_to_kafka end to end from MariaDB")
        e2e = result["end_to_end"] = end_to_end(records)
        print(f"  seeded {len(records):,} flights in {e2e['seed_seconds']} s")
        print(f"  records query     {e2e['records_query']['records_per_s']:>10,}/s  {e2e['records_query']['seconds']:>7.2f} s")
        new = e2e["new_partition"]
        print(f"  new partition     {new['delivered_per_s']:>10,}/s  {new['seconds']:>7.2f} s  "
              f"({new['delivered']:,} delivered, {new['failed']} failed)")
        rerun = e2e["rerun_unchanged"]
        print(f"  rerun, unchanged  {rerun['produced']:>10,} produced  {rerun['seconds']:>7.2f} s")

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"kafka-{datetime.now(UTC):%Y-%m-%d}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {path.relative_to(ROOT)}")
    ok = all(r["ok"] for r in result["produce"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
