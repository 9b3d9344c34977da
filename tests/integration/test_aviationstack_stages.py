"""The five stages for Aviation Stack against moto S3, mongomock, real MariaDB and the mock API.

The mock's clock and the pipeline's ``now`` are the same moment (midday of the partition's date), so the
live API can serve the partition and some flights are airborne (``live`` positions).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from stage_support import query, run_stages

from aerolake.core.settings import Settings
from aerolake.http import ApiError
from aerolake.mockapi import MockApi, MockConfig
from aerolake.pipeline import stages
from aerolake.pipeline.stages import StageContext
from aerolake.schema import DATA_TABLES
from aerolake.sources import source
from aerolake.stores import lake
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.db import table_checksums
from aerolake.stores.mysql.ledger import RunInfo, run_counts

aviationstack = source("aviationstack")

DAY = "2026-03-01"
NOW = datetime(2026, 3, 1, 12, 0)


run_all = partial(run_stages, now=NOW)
ALL_TABLES = [t.name for t in DATA_TABLES]


@pytest.fixture
def api() -> Iterator[MockApi]:
    config = MockConfig(flights_per_hub=60, qps_limit=None, anomalies=True, now=f"{DAY}T12:00:00Z")
    with MockApi(config) as server:
        yield server


@pytest.fixture
def make_ctx(s3, mongo, mysql_cfg) -> Callable[..., StageContext]:
    def build(api: MockApi | None, run_id: str = "run-1", dt: str = DAY) -> StageContext:
        settings = Settings(bucket="aerolake-test", mock_api_url=api.base_url if api else "http://127.0.0.1:9",
                            calls_per_second={"aviationstack": 0})
        run = RunInfo("aviationstack_lakehouse", run_id, Partition("aviationstack", dt))
        return StageContext(run, settings, s3, mongo, mysql_cfg)

    return build


def raw_records(ctx: StageContext) -> list[dict[str, Any]]:
    manifest = lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, "flights")
    records = []
    for _part, body in lake.iter_raw_parts(ctx.s3, ctx.bucket, manifest):
        records.extend(aviationstack.extract_records("flights", json.loads(body))[0])
    return records


def utc_text(local: str, tz: str) -> str:
    moment = datetime.fromisoformat(local[:19]).replace(tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC"))
    return moment.strftime("%Y-%m-%d %H:%M")


def test_full_run_lands_flights_codeshares_positions_and_balances(api: MockApi, make_ctx) -> None:
    ctx = make_ctx(api)
    results = run_all(ctx)

    # lake: every page as received, params without the key
    manifest = lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, "flights")
    assert manifest["api_calls"] == manifest["pages"] == 2  # one page per hub at 60 flights per hub
    assert {p["params"]["dep_iata"] for p in manifest["parts"]} == {"FRA", "MUC"}
    assert "access_key" not in json.dumps(manifest) and "aerolake-offline" not in json.dumps(manifest)
    records = raw_records(ctx)
    assert len(records) == manifest["records_total"] == results["extract_to_s3"]["flights"]["fetched"]

    # what the raw records say should land, derived here independently of the cleaner
    keyed = [r for r in records if aviationstack.natural_key("flights", r)]
    flights = {(r["airline"]["iata"], r["flight"]["number"], r["departure"]["iata"]): r for r in keyed
               if r["flight"]["codeshared"] is None}
    listings = [r for r in keyed if r["flight"]["codeshared"]]
    codeshares = [r for r in listings if (r["flight"]["codeshared"]["airline_iata"].upper(),
                                          r["flight"]["codeshared"]["flight_number"],
                                          r["departure"]["iata"]) in flights]
    positions = [r for r in flights.values() if r["live"] and (r["aircraft"] or {}).get("icao24")
                 and -90 <= r["live"]["latitude"] <= 90]
    # anomalies: one unkeyed flight per hub, and its codeshare listings are orphans
    unkeyed = [r for r in records if r not in keyed]
    orphans = [r for r in listings if r not in codeshares]
    assert len(unkeyed) == 2 and len(orphans) >= 2
    assert {json.dumps(r["departure"]) for r in orphans} == {json.dumps(r["departure"]) for r in unkeyed}
    assert positions  # airborne at midday

    assert query(ctx.mysql, "SELECT COUNT(*) FROM flights WHERE source = 'aviationstack'")[0][0] == len(flights)
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flight_codeshares")[0][0] == len(codeshares)
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flight_positions")[0][0] == len(positions)

    # one flight, value by value
    record = next(r for r in flights.values() if r["flight_status"] == "landed" and r["aircraft"]
                  and r["aircraft"]["registration"])
    row = query(ctx.mysql, "SELECT arr_airport, DATE_FORMAT(scheduled_departure, '%%Y-%%m-%%d %%H:%%i'), "
                           "DATE_FORMAT(actual_arrival, '%%Y-%%m-%%d %%H:%%i'), status, registration, aircraft_code, "
                           "departure_date, source, updated_at FROM flights WHERE airline_code = %s AND "
                           "flight_number = %s AND dep_airport = %s AND departure_date = %s",
                (record["airline"]["iata"], record["flight"]["number"], record["departure"]["iata"], DAY))
    dep, arr = record["departure"], record["arrival"]
    assert row == ((arr["iata"], utc_text(dep["scheduled"], dep["timezone"]), utc_text(arr["actual"], arr["timezone"]),
                    "landed", record["aircraft"]["registration"], record["aircraft"]["iata"],
                    datetime(2026, 3, 1).date(), "aviationstack",
                    datetime.fromisoformat(manifest["fetched_at"].rstrip("Z"))),)

    # a codeshare points at its operating flight, which is a flight (not a second flight row)
    listing = codeshares[0]
    shared = listing["flight"]["codeshared"]
    assert query(ctx.mysql, "SELECT airline_code, flight_number, dep_airport FROM flight_codeshares WHERE "
                            "marketing_airline_code = %s AND marketing_flight_number = %s",
                 (listing["airline"]["iata"], listing["flight"]["number"])) == (
        (shared["airline_iata"].upper(), shared["flight_number"], listing["departure"]["iata"]),)
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flights WHERE airline_code = %s AND flight_number = %s",
                 (listing["airline"]["iata"], listing["flight"]["number"]))[0][0] == 0

    # a position, with the flight's identity and normalized units
    flown = positions[0]
    assert query(ctx.mysql, "SELECT icao24, DATE_FORMAT(observed_at, '%%Y-%%m-%%dT%%H:%%i:%%S+00:00'), latitude, "
                            "longitude, altitude_m, speed_kmh, on_ground, airline_code, flight_number, dep_airport, "
                            "arr_airport FROM flight_positions WHERE icao24 = %s",
                 (flown["aircraft"]["icao24"].lower(),)) == ((
                     flown["aircraft"]["icao24"].lower(), flown["live"]["updated"], flown["live"]["latitude"],
                     flown["live"]["longitude"], flown["live"]["altitude"], flown["live"]["speed_horizontal"], 0,
                     flown["airline"]["iata"], flown["flight"]["number"], flown["departure"]["iata"],
                     flown["arrival"]["iata"]),)

    # quarantine: the reasons, in the lake and in MongoDB
    staging_q = lake.read_quarantine(ctx.s3, ctx.bucket, ctx.partition, "flights", "load_to_mongo")
    assert [q["reason"].split(":")[0] for q in staging_q] == ["missing natural key"] * 2
    clean_q = lake.read_quarantine(ctx.s3, ctx.bucket, ctx.partition, "flights", "clean")
    assert sorted(q["key"] for q in clean_q) == sorted(aviationstack.natural_key("flights", r) for r in orphans)
    assert all("not among the partition's cleaned flights" in q["reason"] for q in clean_q)
    position_q = lake.read_quarantine(ctx.s3, ctx.bucket, ctx.partition, "positions", "clean")
    assert any(q["reason"] == "latitude 123.4 out of range [-90, 90]" for q in position_q)
    assert len(position_q) == sum(1 for r in flights.values() if r["live"]) - len(positions)
    assert ctx.mongo["quarantine"].count_documents({"source": "aviationstack", "dt": DAY}) == \
        len(staging_q) + len(clean_q) + len(position_q)

    # counts balance per endpoint; gap fills are fill-only references
    rows = {r["endpoint"]: r for r in run_counts(ctx.mysql, ctx.run)}
    flights_row = rows["flights"]
    assert flights_row["fetched"] == len(records)
    assert flights_row["loaded"] == len(flights) + len(codeshares)
    assert flights_row["fetched"] == flights_row["loaded"] + flights_row["quarantined"] + flights_row["duplicates"]
    assert rows["positions"]["loaded"] == len(positions) and rows["positions"]["fetched"] is None
    assert query(ctx.mysql, "SELECT COUNT(*) FROM airports WHERE airport_code IN ('FRA', 'MUC') "
                            "AND source = 'airportsdata'")[0][0] == 2
    assert query(ctx.mysql, "SELECT name FROM countries WHERE country_code = 'DE'") == (("Germany",),)
    assert query(ctx.mysql, "SELECT COUNT(*) FROM airlines WHERE name = 'empty'")[0][0] == 0

    # quality: stored, all passed
    stored = query(ctx.mysql, "SELECT check_name, passed FROM data_quality_results WHERE run_id = 'run-1'")
    assert len(stored) == len(aviationstack.SPEC.quality) and all(passed for _, passed in stored)


def test_a_second_load_leaves_mysql_identical_without_calling_the_api(api: MockApi, make_ctx) -> None:
    run_all(make_ctx(api, run_id="run-1"))
    first = make_ctx(api, run_id="run-1")
    before = table_checksums(first.mysql, ALL_TABLES)
    calls = api.stats()["total"]

    again = make_ctx(api, run_id="run-2")
    results = run_all(again)
    assert api.stats()["total"] == calls
    assert results["extract_to_s3"]["flights"] == {"fetched": results["load_to_mongo"]["flights"]["staged"] + 2,
                                                   "api_calls": 0, "skipped": True}
    assert table_checksums(again.mysql, ALL_TABLES) == before
    # and once more, stage by stage, as `airflow tasks test` would
    for name in ("load_to_mongo", "clean", "load_to_mysql"):
        getattr(stages, name)(again)
    assert table_checksums(again.mysql, ALL_TABLES) == before


def test_a_date_the_api_cannot_serve_fails_before_any_call_unless_the_lake_has_it(api: MockApi, make_ctx) -> None:
    ctx = make_ctx(api)
    with pytest.raises(stages.CannotServe, match="today and yesterday"):
        stages.extract_to_s3(ctx, now=datetime(2026, 3, 10, 8))
    assert api.stats()["total"] == 0
    run_all(ctx)  # served on the day
    calls = api.stats()["total"]
    replay = make_ctx(None, run_id="replay")  # no API at all now
    assert stages.extract_to_s3(replay, now=datetime(2026, 3, 10, 8))["flights"]["api_calls"] == 0
    assert api.stats()["total"] == calls


def test_an_exhausted_monthly_quota_stops_the_run_and_writes_nothing(make_ctx) -> None:
    config = MockConfig(flights_per_hub=60, qps_limit=None, now=f"{DAY}T12:00:00Z", aviationstack_monthly_limit=1)
    with MockApi(config) as server:
        ctx = make_ctx(server)
        with pytest.raises(ApiError, match="usage_limit_reached") as info:
            stages.extract_to_s3(ctx, now=NOW)
        assert "aerolake-offline" not in str(info.value)
        assert server.stats()["status_counts"] == {"200": 1, "429": 1}
    assert lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, "flights") is None
    with pytest.raises(RuntimeError, match="run extract_to_s3 for this date first"):
        stages.load_to_mongo(ctx)
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flights")[0][0] == 0
