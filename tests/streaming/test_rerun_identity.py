"""Surrogate ids are internal; the natural key is the identity. A load rolled back mid-transaction burns the
AUTO_INCREMENT values it took, so after a crash and rerun ``flights.flight_id`` (and ``position_id``,
``codeshare_id``) differ from a clean run's. Everything a consumer sees must not: the curated Avro file, the
Kafka messages (keys and bytes), the ledger's fingerprints, the web API's JSON.

One Aviation Stack partition (flights, codeshares, live positions) is extracted and cleaned once; its clean zone
is loaded into two databases: cleanly into one; into the other first with a failure after every table was
upserted (the transaction rolls back, as it does when the worker is killed), then again."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from aerolake.api import ApiSettings, create_app
from aerolake.core.settings import Settings
from aerolake.mockapi import MockApi, MockConfig
from aerolake.pipeline import stages
from aerolake.pipeline.stages import StageContext
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.db import connection
from aerolake.stores.mysql.ledger import RunInfo
from aerolake.streaming import publish_to_kafka
from aerolake.streaming.connections import resolve_target
from aerolake.streaming.curated import avro_container
from aerolake.streaming.publisher import FlightPublisher
from aerolake.streaming.records import flight_records

from .conftest import consume

pytestmark = pytest.mark.mysql

DAY = "2026-03-01"
NOW = datetime(2026, 3, 1, 12, 0)
TOPIC = "flight-data"


@pytest.fixture
def second_mysql(mysql_cfg):
    cfg = dataclasses.replace(mysql_cfg, database=f"aerolake_test_{uuid.uuid4().hex[:12]}")
    yield cfg
    with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{cfg.database}`")


def rows(cfg, sql: str) -> list[tuple]:
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def published(ctx: StageContext) -> list[tuple[bytes, bytes]]:
    """(key, value bytes) of every message publish_to_kafka sends for the partition, in key order."""
    publisher = FlightPublisher(resolve_target(), TOPIC)
    counts = publish_to_kafka(ctx, publisher=publisher)
    assert counts["failed"] == 0 and counts["delivered"] == counts["flights"] > 0
    messages = consume(publisher.bootstrap_servers(), TOPIC, expected=counts["delivered"])
    assert publisher.close() == 0
    return sorted((m.key(), m.value()) for m in messages)


def api_answers(cfg) -> dict[str, object]:
    paths = [f"/flights?date={DAY}&page_size=500", "/flights?airport=FRA&page_size=7&page=2", "/positions/latest",
             f"/stats?date_to={DAY}&days=1", "/airports?q=Frankfurt"]
    with TestClient(create_app(ApiSettings(mysql=cfg, base=Settings(mysql_database=cfg.database)))) as client:
        answers = {path: client.get(path) for path in paths}
    assert all(r.status_code == 200 for r in answers.values()), {p: r.text for p, r in answers.items()}
    return {path: r.json() for path, r in answers.items()}


def test_a_crash_and_rerun_renumbers_rows_but_publishes_identical_records(s3, mongo, mysql_cfg, second_mysql,
                                                                            monkeypatch) -> None:
    config = MockConfig(flights_per_hub=60, qps_limit=None, anomalies=True, now=f"{DAY}T12:00:00Z")
    with MockApi(config) as api:
        settings = Settings(bucket="aerolake-test", mock_api_url=api.base_url, calls_per_second={"aviationstack": 0})

        def ctx_for(cfg) -> StageContext:
            return StageContext(RunInfo("aviationstack_lakehouse", "run-1", Partition("aviationstack", DAY)),
                                settings, s3, mongo, cfg)

        clean_run, crashed = ctx_for(mysql_cfg), ctx_for(second_mysql)
        stages.extract_to_s3(clean_run, now=NOW)
        stages.load_to_mongo(clean_run)
        stages.clean(clean_run)
    stages.load_to_mysql(clean_run)

    def crash(*_args, **_kwargs):
        raise RuntimeError("worker lost after every table was upserted")

    with monkeypatch.context() as patch:
        patch.setattr(stages, "link_positions_to_flights", crash)
        with pytest.raises(RuntimeError, match="worker lost"):
            stages.load_to_mysql(crashed)
    assert rows(second_mysql, "SELECT COUNT(*) FROM flights") == [(0,)]  # rolled back
    stages.load_to_mysql(crashed)

    # MySQL numbered the same rows differently ...
    ids = "SELECT {id} FROM {table} ORDER BY {key}"
    for table, key, surrogate in (("flights", "airline_code, flight_number, departure_date, dep_airport", "flight_id"),
                                  ("flight_codeshares", "marketing_airline_code, marketing_flight_number",
                                   "codeshare_id"),
                                  ("flight_positions", "icao24, observed_at", "position_id")):
        first = rows(mysql_cfg, ids.format(id=surrogate, table=table, key=key))
        second = rows(second_mysql, ids.format(id=surrogate, table=table, key=key))
        assert len(first) == len(second) > 0 and first != second, table
        natural = f"SELECT {key} FROM {table} ORDER BY {key}"
        assert rows(mysql_cfg, natural) == rows(second_mysql, natural)
    linked = "SELECT COUNT(*) FROM flight_positions WHERE flight_id IS NOT NULL"
    assert rows(mysql_cfg, linked) == rows(second_mysql, linked) != [(0,)]

    # ... and no consumer can tell: curated Avro, Kafka messages, the ledger's fingerprints, the API
    records = flight_records(mysql_cfg, DAY)
    assert records == flight_records(second_mysql, DAY) and any(r["latest_position"] for r in records)
    assert all("flight_id" not in r for r in records)
    assert avro_container(records) == avro_container(flight_records(second_mysql, DAY))
    messages = published(clean_run)
    assert messages == published(crashed)
    fingerprints = "SELECT message_key, fingerprint FROM kafka_publications ORDER BY message_key"
    assert rows(mysql_cfg, fingerprints) == rows(second_mysql, fingerprints)
    assert len(rows(mysql_cfg, fingerprints)) == len(messages)
    answers = api_answers(mysql_cfg)
    assert answers == api_answers(second_mysql)
    assert answers[f"/flights?date={DAY}&page_size=500"]["total"] == len(records)
    assert "flight_id" not in str(answers)
