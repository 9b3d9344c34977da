"""The five stages for Airlabs snapshots against moto S3, mongomock, real MariaDB and the mock API.

Expected rows are derived from the raw pages the lake holds (the API's answer), so each assertion checks
what the pipeline made of exactly those records.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
from stage_support import query, run_stages

from aerolake.core.settings import Settings
from aerolake.mockapi import MockApi, MockConfig
from aerolake.pipeline import stages
from aerolake.schema import DATA_TABLES
from aerolake.sources import source
from aerolake.sources.airlabs.normalize import AIRCRAFT_IATA
from aerolake.stores import lake
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.db import table_checksums
from aerolake.stores.mysql.ledger import RunInfo, run_counts

airlabs = source("airlabs")

ALL_TABLES = [t.name for t in DATA_TABLES]
NOW = datetime(2026, 3, 1, 12, 5)


run_all = partial(run_stages, now=NOW)


@pytest.fixture(scope="module")
def api():
    with MockApi(MockConfig(seed=5, flights_per_hub=150, qps_limit=None, now=NOW.isoformat() + "Z")) as server:
        yield server


@pytest.fixture
def make_ctx(s3, mongo, mysql_cfg):
    def build(api, snapshot: str = "1200", run_id: str = "run-1") -> stages.StageContext:
        settings = Settings(bucket="aerolake-test", mock_api_url=api.base_url if api else "http://127.0.0.1:9",
                            calls_per_second={"airlabs": 0})
        run = RunInfo("airlabs_lakehouse", run_id, Partition("airlabs", "2026-03-01", snapshot))
        return stages.StageContext(run, settings, s3, mongo, mysql_cfg)

    return build


def raw_records(ctx, endpoint: str) -> list[dict]:
    manifest = lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, endpoint)
    out = []
    for _part, body in lake.iter_raw_parts(ctx.s3, ctx.bucket, manifest):
        out.extend(airlabs.extract_records(endpoint, json.loads(body))[0])
    return out


def test_a_snapshot_lands_flights_codeshares_and_positions_and_counts_balance(api, make_ctx):
    ctx = make_ctx(api)
    results = run_all(ctx)

    # lake: one manifest per endpoint; the references are not fetched outside the day's first snapshot
    assert results["extract_to_s3"]["airports"] == {"fetched": 0, "api_calls": 0, "skipped": False}
    assert results["extract_to_s3"]["schedules"]["api_calls"] == 4 == results["extract_to_s3"]["flights"]["api_calls"]
    for endpoint in airlabs.SPEC.endpoints:
        manifest = lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, endpoint)
        assert manifest["snapshot"] == "1200" and "api_key" not in json.dumps(manifest)
        for key in lake.list_keys(ctx.s3, ctx.bucket, ctx.partition.raw_prefix(endpoint)):
            assert "/snapshot=1200/" in key
            body = lake.get_bytes(ctx.s3, ctx.bucket, key)
            assert b"aerolake-offline" not in (gzip.decompress(body) if key.endswith(".gz") else body)

    schedules, positions = raw_records(ctx, "schedules"), raw_records(ctx, "flights")
    # flights: the distinct operating records; codeshares: the distinct marketing records
    operating = {airlabs.natural_key("schedules", r) for r in schedules if not r["cs_airline_iata"]}
    marketing = {airlabs.natural_key("schedules", r) for r in schedules if r["cs_airline_iata"]}
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flights WHERE source = 'airlabs'")[0][0] == len(operating) > 100
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flight_codeshares")[0][0] == len(marketing) > 10
    # positions: every record with a hex and a position, once per (hex, updated)
    placeable = {(r["hex"].lower(), r["updated"]) for r in positions if r["hex"] and r["lat"] is not None}
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flight_positions")[0][0] == len(placeable) > 20

    # every endpoint balances: fetched = loaded + quarantined + duplicates
    rows = {r["endpoint"]: r for r in run_counts(ctx.mysql, ctx.run)}
    for row in rows.values():
        if row["fetched"] is not None:
            assert row["fetched"] == row["loaded"] + row["quarantined"] + row["duplicates"], row
    assert rows["schedules"]["fetched"] == len(schedules) and rows["flights"]["fetched"] == len(positions)
    assert rows["schedules"]["duplicates"] > 0  # FRA-MUC flights are on both hubs' boards
    # quarantine: each rejected position with its reason, in the lake and in MongoDB
    no_hex = [r for r in positions if r["hex"] is None]
    no_position = [r for r in positions if r["hex"] and r["lat"] is None]
    staged_q = lake.read_quarantine(ctx.s3, ctx.bucket, ctx.partition, "flights", "load_to_mongo")
    clean_q = lake.read_quarantine(ctx.s3, ctx.bucket, ctx.partition, "flights", "clean")
    assert [q["record"]["hex"] for q in staged_q] == [None] * len(no_hex)
    assert all(q["reason"].startswith("missing natural key") for q in staged_q)
    assert sorted(q["record"]["hex"] for q in clean_q) == sorted(r["hex"] for r in no_position)
    assert {q["reason"] for q in clean_q} <= {"missing position (lat/lng null)"}
    assert len(no_hex) + len(no_position) > 0
    assert ctx.mongo["quarantine"].count_documents({"source": "airlabs", "endpoint": "flights"}) == len(
        no_hex) + len(no_position)
    assert rows["flights"]["quarantined"] == len(no_hex) + len(no_position)

    # all quality checks stored and passed
    stored = query(ctx.mysql, "SELECT check_name, passed FROM data_quality_results WHERE run_id = 'run-1'")
    assert len(stored) == len(airlabs.SPEC.quality) and all(passed for _, passed in stored)


def test_row_values_match_the_raw_records(api, make_ctx):
    ctx = make_ctx(api)
    run_all(ctx)
    schedules, positions = raw_records(ctx, "schedules"), raw_records(ctx, "flights")

    flight = next(r for r in schedules if not r["cs_airline_iata"] and r["dep_actual_utc"] and r["dep_iata"] == "MUC")
    row = query(ctx.mysql, "SELECT arr_airport, scheduled_departure, actual_departure, scheduled_arrival, status, "
                           "departure_date, dep_terminal, source FROM flights WHERE airline_code = %s AND "
                           "flight_number = %s AND dep_airport = 'MUC' AND departure_date = %s",
                (flight["airline_iata"], flight["flight_number"], flight["dep_time"][:10]))
    assert len(row) == 1
    arr, sched, actual, sched_arr, status, dep_date, terminal, source = row[0]
    assert arr == flight["arr_iata"] and status == flight["status"] and source == "airlabs"
    assert sched == datetime.strptime(flight["dep_time_utc"], "%Y-%m-%d %H:%M")
    assert actual == datetime.strptime(flight["dep_actual_utc"], "%Y-%m-%d %H:%M")
    assert sched_arr == datetime.strptime(flight["arr_time_utc"], "%Y-%m-%d %H:%M")
    assert str(dep_date) == flight["dep_time"][:10] and terminal == flight["dep_terminal"]

    share = next(r for r in schedules if r["cs_airline_iata"] and r["cs_airline_iata"].islower())
    got = query(ctx.mysql, "SELECT airline_code, flight_number, departure_date, dep_airport FROM flight_codeshares "
                           "WHERE marketing_airline_code = %s AND marketing_flight_number = %s AND dep_airport = %s",
                (share["airline_iata"], share["flight_number"], share["dep_iata"]))
    assert got == ((share["cs_airline_iata"].upper(), share["cs_flight_number"],
                    datetime.strptime(share["dep_time"][:10], "%Y-%m-%d").date(), share["dep_iata"]),)
    # a codeshare is never a flight
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flights WHERE airline_code = %s AND flight_number = %s AND "
                            "dep_airport = %s", (share["airline_iata"], share["flight_number"], share["dep_iata"])) \
        == ((0,),)

    pos = next(r for r in positions if r["hex"] and r["lat"] is not None and r["reg_number"] and r["alt"])
    got = query(ctx.mysql, "SELECT latitude, longitude, altitude_m, heading, speed_kmh, airline_code, flight_number, "
                           "dep_airport, arr_airport, registration, aircraft_code, on_ground, source "
                           "FROM flight_positions WHERE icao24 = %s AND observed_at = FROM_UNIXTIME(%s)",
                (pos["hex"].lower(), pos["updated"]))
    assert got == ((pos["lat"], pos["lng"], float(pos["alt"]), pos["dir"], float(pos["speed"]), pos["airline_iata"],
                    pos["flight_number"], pos["dep_iata"], pos["arr_iata"], pos["reg_number"].replace("-", ""),
                    AIRCRAFT_IATA[pos["aircraft_icao"]], int(pos["status"] != "en-route"), "airlabs"),)
    # the flights' airports came from airportsdata (no reference snapshot yet), with their countries
    assert query(ctx.mysql, "SELECT source, timezone FROM airports WHERE airport_code = 'MUC'") == (
        ("airportsdata", "Europe/Berlin"),)
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flights f LEFT JOIN airports a ON a.airport_code = f.arr_airport "
                            "WHERE a.airport_code IS NULL") == ((0,),)


def test_a_second_load_of_the_same_snapshot_leaves_mysql_identical_without_api_calls(api, make_ctx):
    run_all(make_ctx(api, run_id="run-1"))
    before = table_checksums(make_ctx(api).mysql, ALL_TABLES)
    calls = api.stats()["total"]
    again = make_ctx(api, run_id="run-2")
    results = run_all(again, now=datetime(2026, 3, 2, 9, 0))  # a day later: only the lake can serve it
    assert api.stats()["total"] == calls
    assert all(r["skipped"] and r["api_calls"] == 0 for r in results["extract_to_s3"].values())
    assert table_checksums(again.mysql, ALL_TABLES) == before


def test_a_past_snapshot_without_a_lake_partition_fails_saying_so(make_ctx):
    ctx = make_ctx(None, snapshot="0600")
    with pytest.raises(stages.CannotServe, match=r"cannot serve it: snapshot 2026-03-01/0600 is .* in the past"):
        stages.extract_to_s3(ctx, now=NOW)
    assert lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, "schedules") is None


def test_the_days_first_snapshot_fills_airports_and_airlines_without_overwriting(make_ctx):
    with MockApi(MockConfig(seed=6, flights_per_hub=150, qps_limit=None, now="2026-03-01T00:05:00Z")) as api:
        ctx = make_ctx(api, snapshot="0000")
        from aerolake.stores.mysql.migrate import migrate

        migrate(ctx.mysql)
        query(ctx.mysql, "INSERT INTO countries VALUES ('DE', 'Deutschland', 'lufthansa', '2026-03-01 00:00:00')")
        query(ctx.mysql, "INSERT INTO airports (airport_code, icao_code, name, city_code, country_code, latitude, "
                         "longitude, timezone, location_type, source, updated_at) VALUES ('FRA', 'EDDF', "
                         "'Frankfurt/Main', 'FRA', 'DE', 50.03, 8.57, 'Europe/Berlin', 'Airport', 'lufthansa', "
                         "'2026-02-01 00:00:00')")
        results = run_all(ctx, now=datetime(2026, 3, 1, 0, 5))
    assert results["extract_to_s3"]["airports"]["api_calls"] == 1 and results["extract_to_s3"]["airports"][
        "fetched"] > 7000
    # fill-only: the richer row of another source stays as it was
    assert query(ctx.mysql, "SELECT name, city_code, source FROM airports WHERE airport_code = 'FRA'") == (
        ("Frankfurt/Main", "FRA", "lufthansa"),)
    assert query(ctx.mysql, "SELECT name, source FROM countries WHERE country_code = 'DE'") == (
        ("Deutschland", "lufthansa"),)
    assert query(ctx.mysql, "SELECT name, icao_code, timezone, source FROM airports WHERE airport_code = 'JFK'") == (
        ("John F Kennedy International Airport", "KJFK", "America/New_York", "airlabs"),)
    airlines = dict(query(ctx.mysql, "SELECT airline_code, CONCAT_WS('|', icao_code, name) FROM airlines"))
    assert (airlines["LH"], airlines["XQ"], airlines["GEC"]) == ("DLH|Lufthansa", "SXS", "GEC|Lufthansa Cargo")
    rows = {r["endpoint"]: r for r in run_counts(ctx.mysql, ctx.run)}
    assert (rows["airlines"]["fetched"], rows["airlines"]["loaded"], rows["airlines"]["duplicates"]) == (47, 46, 1)
    assert Counter(r["endpoint"] for r in run_counts(ctx.mysql, ctx.run) if r["fetched"] is not None
                   and r["fetched"] != r["loaded"] + r["quarantined"] + r["duplicates"]) == Counter()


def test_a_small_snapshot_with_one_bad_position_warns_instead_of_failing(make_ctx) -> None:
    """Two real-shaped positions, one without ``hex``, and one schedule: 1 of 3 records quarantined (33%) is a
    small sample, not a bad feed. The rate check warns (recorded, with why), the load publishes and the curated
    zone follows."""
    from stage_support import put_raw_pages

    from aerolake.streaming import write_curated

    fixtures = Path(__file__).parents[1] / "fixtures" / "airlabs"
    schedules = json.loads((fixtures / "schedules_page.json").read_text())
    positions = json.loads((fixtures / "flights_page.json").read_text())
    schedules["response"] = schedules["response"][:1]  # LH400 FRA-JFK
    positions["response"] = [positions["response"][0], positions["response"][2]]  # LH400, and one without hex
    assert positions["response"][1]["hex"] is None
    ctx = make_ctx(None)
    put_raw_pages(ctx, "airports", [])
    put_raw_pages(ctx, "airlines", [])
    put_raw_pages(ctx, "schedules", [(schedules, 1)], fetched_at="2026-03-01T12:00:00Z")
    put_raw_pages(ctx, "flights", [(positions, 2)], fetched_at="2026-03-01T12:00:00Z")

    for stage in ("load_to_mongo", "clean", "load_to_mysql", "check_quality"):
        getattr(stages, stage)(ctx)

    assert query(ctx.mysql, "SELECT airline_code, flight_number FROM flights") == (("LH", "400"),)
    assert query(ctx.mysql, "SELECT icao24 FROM flight_positions") == (("3c4b26",),)
    rate = query(ctx.mysql, "SELECT passed, severity, observed_value, sample, details FROM data_quality_results "
                            "WHERE check_name = 'quarantine_rate'")
    assert rate[0][:4] == (0, "warn", pytest.approx(1 / 3, abs=1e-4), 3)
    assert rate[0][4].startswith("sample of 3 < 50: too small to judge, warns only")
    assert query(ctx.mysql, "SELECT COUNT(*) FROM data_quality_results WHERE passed = 0 AND severity = 'error'") == (
        (0,),)
    assert write_curated(ctx)["flights"] == 1
