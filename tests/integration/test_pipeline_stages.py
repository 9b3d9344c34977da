"""The five stages against moto S3, mongomock, real MariaDB and the mock API: real outcomes asserted."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest
from stage_support import query
from stage_support import run_stages as run_all

from aerolake.cleaning import normalize_flight_number
from aerolake.core.errors import QualityCheckFailed
from aerolake.http import ApiError
from aerolake.pipeline import stages
from aerolake.schema import DATA_TABLES
from aerolake.sources import source
from aerolake.stores import lake
from aerolake.stores.mysql.db import table_checksums
from aerolake.stores.mysql.ledger import run_counts

lufthansa = source("lufthansa")

ALL_TABLES = [t.name for t in DATA_TABLES]


def raw_flights(ctx) -> list[dict]:
    manifest = lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, "flightstatus")
    flights = []
    for part, body in lake.iter_raw_parts(ctx.s3, ctx.bucket, manifest):
        if part["status"] == 200 and not part["malformed"]:
            flights.extend(lufthansa.extract_records("flightstatus", json.loads(body))[0])
    return flights


def test_full_run_lands_every_record_and_counts_balance(mock_api, make_ctx):
    ctx = make_ctx(mock_api)
    results = run_all(ctx)

    # lake: one manifest per endpoint, every part stored as received (sha256 over the decompressed bytes)
    for endpoint in lufthansa.SPEC.endpoints:
        manifest = lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, endpoint)
        assert manifest["pages"] == len(manifest["parts"]) > 0
        keys = lake.list_keys(ctx.s3, ctx.bucket, ctx.partition.raw_prefix(endpoint))
        assert sorted(keys) == sorted([p["key"] for p in manifest["parts"]] + [ctx.partition.manifest_key(endpoint)])
        assert all(k.startswith(f"raw/source=lufthansa/endpoint={endpoint}/dt=2026-03-01/part-") for k in keys
                   if not k.endswith("_manifest.json"))
        assert "client_secret" not in json.dumps(manifest) and "Bearer" not in json.dumps(manifest)

    # Mongo: the staged documents are the partition's records with their lake metadata
    staged = ctx.mongo["lufthansa_flightstatus"].count_documents({"_lake.dt": "2026-03-01"})
    assert staged == results["load_to_mongo"]["flightstatus"]["staged"] > 100
    doc = ctx.mongo["lufthansa_flightstatus"].find_one({"_lake.dt": "2026-03-01"})
    assert doc["_id"].endswith("|2026-03-01") and doc["_lake"]["s3_key"].startswith("raw/source=lufthansa/")

    # MySQL: flights = distinct natural keys of the raw records; every endpoint balances
    distinct = {lufthansa.natural_key("flightstatus", r) for r in raw_flights(ctx)}
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flights")[0][0] == len(distinct)
    for row in run_counts(ctx.mysql, ctx.run):
        if row["fetched"] is not None:
            assert row["fetched"] == row["loaded"] + row["quarantined"] + row["duplicates"], row
    flights_row = next(r for r in run_counts(ctx.mysql, ctx.run) if r["endpoint"] == "flightstatus")
    assert flights_row["duplicates"] > 0  # hub-to-hub flights appear in both departures and arrivals

    # quality results stored and all passed
    stored = query(ctx.mysql, "SELECT check_name, passed FROM data_quality_results WHERE run_id = %s", ("run-1",))
    assert len(stored) == len(results["check_quality"]) == len(lufthansa.SPEC.quality) >= 7 and all(p for _, p in stored)


def test_flight_values_match_the_raw_record_exactly(mock_api, make_ctx):
    ctx = make_ctx(mock_api)
    run_all(ctx)
    record = next(r for r in raw_flights(ctx) if "ActualTimeUTC" in r["Departure"])
    carrier, dep, arr = record["MarketingCarrier"], record["Departure"], record["Arrival"]
    number = normalize_flight_number(carrier["FlightNumber"])
    row = query(ctx.mysql,
                "SELECT arr_airport, DATE_FORMAT(scheduled_departure, '%%Y-%%m-%%dT%%H:%%iZ'), "
                "DATE_FORMAT(actual_departure, '%%Y-%%m-%%dT%%H:%%iZ'), DATE_FORMAT(scheduled_arrival, "
                "'%%Y-%%m-%%dT%%H:%%iZ'), departure_date, source FROM flights WHERE airline_code = %s AND "
                "flight_number = %s AND dep_airport = %s AND departure_date = %s",
                (carrier["AirlineID"], number, dep["AirportCode"], dep["ScheduledTimeLocal"]["DateTime"][:10]))
    assert len(row) == 1
    arr_airport, sched, actual, sched_arr, dep_date, source = row[0]
    assert arr_airport == arr["AirportCode"]
    assert sched == dep["ScheduledTimeUTC"]["DateTime"]
    assert actual == dep["ActualTimeUTC"]["DateTime"]
    assert sched_arr == arr["ScheduledTimeUTC"]["DateTime"]
    assert str(dep_date) == dep["ScheduledTimeLocal"]["DateTime"][:10]
    assert source == "lufthansa"


def test_rerun_is_idempotent_and_replays_from_the_lake(mock_api, make_ctx):
    first = make_ctx(mock_api, run_id="run-1")
    run_all(first)
    before = table_checksums(first.mysql, ALL_TABLES)
    lake_before = {k: lake.get_bytes(first.s3, first.bucket, k) for k in lake.list_keys(first.s3, first.bucket, "raw/")}
    calls_before = mock_api.stats()["total"]

    again = make_ctx(mock_api, run_id="run-2")
    results = run_all(again)

    assert mock_api.stats()["total"] == calls_before  # the manifests prevented any API call
    assert all(r["skipped"] and r["api_calls"] == 0 for r in results["extract_to_s3"].values())
    assert table_checksums(again.mysql, ALL_TABLES) == before
    assert {k: lake.get_bytes(again.s3, again.bucket, k) for k in lake.list_keys(again.s3, again.bucket, "raw/")} \
        == lake_before
    staged = again.mongo["lufthansa_flightstatus"].count_documents({"_lake.dt": "2026-03-01"})
    assert staged == results["load_to_mongo"]["flightstatus"]["staged"]


def test_a_rerun_that_changes_no_flight_looks_at_no_position_of_the_flights_window(mock_api, make_ctx, monkeypatch):
    """After a load of flights the link looks again at the unlinked positions observed while the flights it added or
    changed could be in the air; a rerun of the same partition changes none, so it has no such window."""
    ctx = make_ctx(mock_api, run_id="run-1")
    for name in ("extract_to_s3", "load_to_mongo", "clean"):
        getattr(stages, name)(ctx)
    calls = []
    real = stages.link_positions_to_flights

    def spy(conn, since, until, **kwargs):
        calls.append((since, until, kwargs))
        return real(conn, since, until, **kwargs)

    monkeypatch.setattr(stages, "link_positions_to_flights", spy)
    stages.load_to_mysql(ctx)
    assert len(calls) == 1 and calls[0][2] == {"near_changed_flights": True}, calls
    (first, last), = query(ctx.mysql, "SELECT MIN(scheduled_departure), MAX(scheduled_departure) FROM flights")
    assert calls[0][:2] == (first - timedelta(hours=1), last + timedelta(hours=20, seconds=1))
    calls.clear()
    stages.load_to_mysql(make_ctx(mock_api, run_id="run-2"))
    assert calls == []


def test_fetched_at_is_the_pipelines_clock_and_the_ledger_the_wall_clock(mock_api, make_ctx, monkeypatch):
    """A replayed moment (AEROLAKE_NOW) is when the records were fetched, so the freshest observation wins in
    simulated time too; when the stage ran stays the wall clock."""
    from datetime import UTC, datetime, timedelta

    monkeypatch.setenv("AEROLAKE_NOW", "2026-03-01T23:00:00Z")
    ctx = make_ctx(mock_api, run_id="run-clock")
    before = datetime.now(UTC).replace(tzinfo=None)
    run_all(ctx)
    manifest = lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, "flightstatus")
    assert manifest["fetched_at"] == "2026-03-01T23:00:00Z"
    assert query(ctx.mysql, "SELECT DISTINCT updated_at FROM flights") == ((datetime(2026, 3, 1, 23, 0),),)
    (started,), = query(ctx.mysql, "SELECT MIN(started_at) FROM pipeline_runs WHERE run_id = 'run-clock'")
    assert before - timedelta(seconds=1) <= started <= datetime.now(UTC).replace(tzinfo=None)


def test_refetch_calls_the_api_again_and_changes_no_row(mock_api, make_ctx):
    run_all(make_ctx(mock_api, run_id="run-1"))
    ctx = make_ctx(mock_api, run_id="run-2")
    counts_before = {t: c for t, (c, _) in table_checksums(ctx.mysql, ALL_TABLES).items()}
    calls_before = mock_api.stats()["total"]
    results = run_all(ctx, refetch=True)
    assert mock_api.stats()["total"] > calls_before
    assert all(not r["skipped"] for r in results["extract_to_s3"].values())
    assert {t: c for t, (c, _) in table_checksums(ctx.mysql, ALL_TABLES).items()} == counts_before


def test_two_days_accumulate_and_keep_each_day(mock_api, make_ctx):
    run_all(make_ctx(mock_api, dt="2026-03-01", run_id="d1"))
    ctx = make_ctx(mock_api, dt="2026-03-02", run_id="d2")
    run_all(ctx)
    days = dict(query(ctx.mysql, "SELECT departure_date, COUNT(*) FROM flights WHERE dep_airport IN ('FRA','MUC') "
                                 "GROUP BY departure_date"))
    assert {str(d) for d in days} >= {"2026-03-01", "2026-03-02"}
    assert lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, "flightstatus")["dt"] == "2026-03-02"


def test_bad_input_goes_to_quarantine_with_reasons_and_counts_balance(make_ctx):
    from aerolake.mockapi import MockApi, MockConfig

    # one departures window always answers a truncated body; anomalies add the bad records
    config = MockConfig(flights_per_hub=40, qps_limit=None, anomalies=True,
                        malformed_paths=[r"flightstatus/arrivals/MUC/2026-03-01T08:00"])
    with MockApi(config) as api:
        ctx = make_ctx(api)
        stages.extract_to_s3(ctx)
        manifest = lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, "flightstatus")
        malformed = [p for p in manifest["parts"] if p["malformed"]]
        assert len(malformed) == 1 and "arrivals/MUC/2026-03-01T08:00" in malformed[0]["path"]
        stages.load_to_mongo(ctx)
        stages.clean(ctx)
        stages.load_to_mysql(ctx)
        stages.check_quality(ctx)  # the run finishes: a few bad records are no reason to fail it

    staging_q = lake.read_quarantine(ctx.s3, ctx.bucket, ctx.partition, "flightstatus", "load_to_mongo")
    reasons = [q["reason"] for q in staging_q]
    assert sum(r.startswith("malformed JSON page") for r in reasons) == 1
    assert sum(r.startswith("missing natural key") for r in reasons) == 2  # one per hub's departures
    missing = next(q for q in staging_q if q["reason"].startswith("missing natural key"))
    assert "FlightNumber" not in missing["record"]["MarketingCarrier"]

    airport_q = lake.read_quarantine(ctx.s3, ctx.bucket, ctx.partition, "airports", "clean")
    by_code = {q["record"]["AirportCode"]: q["reason"] for q in airport_q}
    assert by_code == {"BRE": "latitude 123.4 out of range [-90, 90]", "LEJ": "unknown timezone 'Mars/Olympus_Mons'"}
    # the same rejects are in MongoDB, with the raw record as the API sent it
    mongo_q = list(ctx.mongo["quarantine"].find({"endpoint": "airports", "dt": "2026-03-01"}))
    assert sorted(d["record"]["AirportCode"] for d in mongo_q) == ["BRE", "LEJ"]
    # flights to the rejected airports are kept: their airports come from airportsdata
    filled = dict(query(ctx.mysql, "SELECT airport_code, source FROM airports WHERE airport_code IN ('BRE','LEJ')"))
    assert set(filled.values()) <= {"airportsdata"}

    rows = {r["endpoint"]: r for r in run_counts(ctx.mysql, ctx.run)}
    assert rows["flightstatus"]["quarantined"] == 3
    assert rows["flightstatus"]["duplicates"] >= 1  # includes the record repeated across a page boundary
    for row in rows.values():
        if row["fetched"] is not None:
            assert row["fetched"] == row["loaded"] + row["quarantined"] + row["duplicates"], row
    balance = query(ctx.mysql, "SELECT passed FROM data_quality_results WHERE check_name = 'count_balance'")
    assert balance == ((1,),)


def _write_partition(ctx, endpoint: str, bodies: list[bytes]) -> None:
    """A raw partition written by hand, as extract_to_s3 would have written it."""
    parts = []
    for n, body in enumerate(bodies):
        key = ctx.partition.part_key(endpoint, n)
        lake.put_bytes(ctx.s3, ctx.bucket, key, gzip.compress(body), "application/gzip")
        try:
            records = len(lufthansa.extract_records(endpoint, json.loads(body))[0])
            malformed = False
        except ValueError:
            records, malformed = 1, True
        parts.append({"key": key, "sha256": lake.sha256_hex(body), "bytes": len(body), "status": 200, "path": "x",
                      "params": {}, "records": records, "malformed": malformed, "total_count": records})
    lake.write_manifest(ctx.s3, ctx.bucket, ctx.partition, endpoint, {
        "source": "lufthansa", "endpoint": endpoint, "dt": ctx.partition.dt, "snapshot": None,
        "fetched_at": "2026-03-02T01:00:00Z", "run_id": "handmade", "parts": parts, "pages": len(parts),
        "records_total": sum(p["records"] for p in parts), "api_calls": 0})


def _flight(number, dep="FRA", arr="JFK", local="2026-03-01T10:00", utc="2026-03-01T09:00Z"):
    return {"Departure": {"AirportCode": dep, "ScheduledTimeLocal": {"DateTime": local},
                          "ScheduledTimeUTC": {"DateTime": utc}},
            "Arrival": {"AirportCode": arr, "ScheduledTimeLocal": {"DateTime": "2026-03-01T13:00"},
                        "ScheduledTimeUTC": {"DateTime": "2026-03-01T18:00Z"}},
            "MarketingCarrier": {"AirlineID": "LH", "FlightNumber": number},
            "FlightStatus": {"Code": "LD", "Definition": "Flight Landed"}}


def test_replay_from_a_handmade_lake_partition_without_any_api(make_ctx):
    """No API at all (the mock URL is a closed port): the lake alone rebuilds MongoDB and MySQL, an unknown
    airport and a duplicate are accounted for, nothing is dropped silently."""
    ctx = make_ctx(None)
    lake.ensure_bucket(ctx.s3, ctx.bucket)
    for endpoint in ("countries", "cities", "airports", "airlines", "aircraft"):
        _write_partition(ctx, endpoint, [b"{}"])
    page1 = {"FlightStatusResource": {"Flights": {"Flight": [_flight(400), _flight("0401", arr="ZZZ")]}}}
    page2 = {"FlightStatusResource": {"Flights": {"Flight": _flight("400")}}}  # the same flight again
    _write_partition(ctx, "flightstatus", [json.dumps(page1).encode(), json.dumps(page2).encode()])

    stages.extract_to_s3(ctx)  # every manifest exists: no API call (the API is unreachable)
    stages.load_to_mongo(ctx)
    stages.clean(ctx)
    stages.load_to_mysql(ctx)

    assert query(ctx.mysql, "SELECT airline_code, flight_number, dep_airport, arr_airport, status FROM flights") \
        == (("LH", "400", "FRA", "JFK", "landed"),)
    # FRA and JFK came from airportsdata (the references were empty), their countries from ISO 3166
    assert query(ctx.mysql, "SELECT airport_code, source, timezone FROM airports ORDER BY airport_code") == (
        ("FRA", "airportsdata", "Europe/Berlin"), ("JFK", "airportsdata", "America/New_York"))
    assert query(ctx.mysql, "SELECT country_code, name, source FROM countries ORDER BY 1") == (
        ("DE", "Germany", "iso3166"), ("US", "United States", "iso3166"))
    rejected = lake.read_quarantine(ctx.s3, ctx.bucket, ctx.partition, "flightstatus", "clean")
    assert [q["reason"] for q in rejected] == [
        "unknown airport ZZZ (not in the reference data nor airportsdata)"]
    row = next(r for r in run_counts(ctx.mysql, ctx.run) if r["endpoint"] == "flightstatus")
    assert (row["fetched"], row["loaded"], row["quarantined"], row["duplicates"]) == (3, 1, 1, 1)


def test_stages_without_their_upstream_fail_with_a_clear_message(mock_api, make_ctx):
    ctx = make_ctx(mock_api)
    lake.ensure_bucket(ctx.s3, ctx.bucket)
    with pytest.raises(RuntimeError, match="run extract_to_s3 for this date first"):
        stages.load_to_mongo(ctx)
    stages.extract_to_s3(ctx)
    with pytest.raises(RuntimeError, match=r"MongoDB has no documents for this partition.*run load_to_mongo"):
        stages.clean(ctx)
    stages.load_to_mongo(ctx)
    with pytest.raises(RuntimeError, match="run the clean task for this date first"):
        stages.load_to_mysql(ctx)


def test_a_date_the_api_cannot_serve_fails_saying_so(make_ctx):
    from aerolake.mockapi import MockApi, MockConfig

    with MockApi(MockConfig(flights_per_hub=5, qps_limit=None, today="2026-06-10")) as api:
        ctx = make_ctx(api, dt="2026-03-01")
        with pytest.raises(ApiError, match="serves flight status only from yesterday to five days ahead"):
            stages.extract_to_s3(ctx)
        assert lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, "flightstatus") is None


def test_a_failing_load_rolls_back_the_whole_partition(mock_api, make_ctx, monkeypatch):
    ctx = make_ctx(mock_api)
    for name in ("extract_to_s3", "load_to_mongo", "clean"):
        getattr(stages, name)(ctx)
    real = stages.publish_staging

    def fail_on_flights(conn, table, staging, **kwargs):
        if table.name == "flights":
            raise RuntimeError("disk full (simulated)")
        return real(conn, table, staging, **kwargs)

    monkeypatch.setattr(stages, "publish_staging", fail_on_flights)
    with pytest.raises(RuntimeError, match="simulated"):
        stages.load_to_mysql(ctx)
    # references were published before flights in the same transaction: all rolled back
    assert {t: c for t, (c, _) in table_checksums(ctx.mysql, ALL_TABLES).items()} == dict.fromkeys(ALL_TABLES, 0)
    monkeypatch.setattr(stages, "publish_staging", real)
    stages.load_to_mysql(ctx)
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flights")[0][0] > 0


def test_a_failed_gate_rolls_the_load_back_and_the_previous_state_stays(mock_api, make_ctx):
    """Write, audit, publish: the error-level checks judge the partition inside the load's transaction; one
    failing rolls back every table's upsert and the load's counts, records the gate and fails at once."""
    from aerolake.core.errors import retry_can_help

    ctx = make_ctx(mock_api)
    run_all(ctx)
    before = table_checksums(ctx.mysql, ALL_TABLES)
    # what readers see now differs from the clean zone: a rerun of the load would overwrite every gate
    query(ctx.mysql, "UPDATE flights SET dep_gate = 'PREVIOUS'")
    previous = table_checksums(ctx.mysql, ALL_TABLES)
    assert previous["flights"] != before["flights"]
    # a record the counts lose: fetched no longer equals loaded + quarantined + duplicates
    query(ctx.mysql, "UPDATE pipeline_runs SET fetched = fetched + 1 WHERE endpoint = 'airlines'")
    loaded = query(ctx.mysql, "SELECT endpoint, loaded FROM pipeline_runs ORDER BY endpoint")

    with pytest.raises(QualityCheckFailed, match=r"rolled back.*count_balance\[pipeline_runs\]") as failed:
        stages.load_to_mysql(ctx)
    assert not retry_can_help(failed.value)
    assert table_checksums(ctx.mysql, ALL_TABLES) == previous  # nothing of the load became visible
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flights WHERE dep_gate = 'PREVIOUS'")[0][0] > 100
    assert query(ctx.mysql, "SELECT endpoint, loaded FROM pipeline_runs ORDER BY endpoint") == loaded
    stored = query(ctx.mysql, "SELECT passed, severity, details FROM data_quality_results "
                              "WHERE check_name = 'count_balance'")
    assert stored[0][0] == 0 and stored[0][1] == "error" and "airlines" in stored[0][2]
    # check_quality reads the gate's verdict and fails naming it, without evaluating it again
    with pytest.raises(QualityCheckFailed, match=r"count_balance\[pipeline_runs\]"):
        stages.check_quality(ctx)

    # once the cause is fixed, the load publishes
    query(ctx.mysql, "UPDATE pipeline_runs SET fetched = fetched - 1 WHERE endpoint = 'airlines'")
    stages.load_to_mysql(ctx)
    assert query(ctx.mysql, "SELECT endpoint, loaded FROM pipeline_runs ORDER BY endpoint") == loaded
    assert query(ctx.mysql, "SELECT passed FROM data_quality_results WHERE check_name = 'count_balance'") == ((1,),)


def test_check_quality_gates_after_the_fact_a_run_whose_load_recorded_no_gate(mock_api, make_ctx):
    ctx = make_ctx(mock_api)
    run_all(ctx)
    query(ctx.mysql, "DELETE FROM data_quality_results")
    query(ctx.mysql, "UPDATE pipeline_runs SET loaded = loaded - 1 WHERE endpoint = 'airlines'")
    with pytest.raises(QualityCheckFailed, match=r"count_balance\[pipeline_runs\]"):
        stages.check_quality(ctx)
    stored = query(ctx.mysql, "SELECT passed, details FROM data_quality_results WHERE check_name = 'count_balance'")
    assert stored[0][0] == 0 and "airlines" in stored[0][1]


def test_warnings_are_recorded_and_never_fail_the_task(mock_api, make_ctx):
    ctx = make_ctx(mock_api)
    run_all(ctx)
    # every flight's status unknown: the warn-level share_unknown_status fails, and only warns
    query(ctx.mysql, "UPDATE flights SET status = 'unknown'")
    results = stages.check_quality(ctx)
    warned = [r for r in results if not r.passed]
    assert [(r.check_name, r.severity, r.observed_value) for r in warned] == [("share_unknown_status", "warn", 1.0)]
    stored = query(ctx.mysql, "SELECT passed, severity, sample FROM data_quality_results "
                              "WHERE check_name = 'share_unknown_status'")
    assert stored == ((0, "warn", query(ctx.mysql, "SELECT COUNT(*) FROM flights WHERE source = 'lufthansa' "
                                              "AND departure_date = '2026-03-01'")[0][0]),)


def test_clean_accepts_a_partition_whose_every_record_was_quarantined_at_staging(s3, mongo, migrated_mysql):
    """An endpoint can legitimately stage nothing (a snapshot whose only record lacks its key): clean then
    runs and publishes nothing, instead of mistaking it for a missing load_to_mongo."""
    from aerolake.core.settings import Settings
    from aerolake.sources import source
    from aerolake.stores.lake import Partition
    from aerolake.stores.mysql.ledger import RunInfo

    aviationstack = source("aviationstack")

    part = Partition("aviationstack", "2026-03-01")
    ctx = stages.StageContext(RunInfo("aviationstack_lakehouse", "run-1", part), Settings(bucket="aerolake-test"),
                              s3, mongo, migrated_mysql)
    body = json.dumps({"pagination": {"limit": 100, "offset": 0, "count": 1, "total": 1},
                       "data": [{"flight_date": "2026-03-01", "flight": {}, "departure": {}}]}).encode()
    key = part.part_key(aviationstack.SPEC.endpoints[0], 0)
    lake.put_bytes(s3, "aerolake-test", key, lake.gzip_bytes(body), "application/gzip")
    lake.write_manifest(s3, "aerolake-test", part, aviationstack.SPEC.endpoints[0], {
        "source": "aviationstack", "endpoint": "flights", "dt": "2026-03-01", "snapshot": None,
        "fetched_at": "2026-03-01T12:00:00Z", "run_id": "run-1", "api_base": "http://mock",
        "parts": [{"key": key, "sha256": lake.sha256_hex(body), "bytes": len(body), "status": 200,
                   "path": "flights", "params": {}, "records": 1, "malformed": False, "total_count": 1}],
        "pages": 1, "records_total": 1, "api_calls": 1})
    assert stages.load_to_mongo(ctx)["flights"] == {"staged": 0, "quarantined_at_staging": 1,
                                                   "duplicates_at_staging": 0}
    assert stages.clean(ctx)["flights"]["cleaned"] == 0
    # without the staging quarantine, an empty MongoDB partition is still refused
    mongo["quarantine"].delete_many({})
    with pytest.raises(RuntimeError, match="MongoDB has no documents for this partition"):
        stages.clean(ctx)


def test_loads_keep_table_stats_exact_without_counting_the_tables(mock_api, make_ctx):
    """/status reads table_stats, which each load keeps in its transaction: after a run, a replay (nothing
    changes), a second day and a rolled-back load, it equals what COUNT(*) finds, by month and source."""
    from aerolake.stores.mysql.stats import recount

    def kept() -> dict:
        return {(t, p, s): (int(n), newest) for t, p, s, n, newest in
                query(ctx.mysql, "SELECT table_name, period, source, row_count, newest FROM table_stats")}

    def counted() -> dict:
        recount(ctx.mysql)
        return kept()

    ctx = make_ctx(mock_api)
    run_all(ctx)
    after_first = kept()
    assert after_first[("flights", "2026-03", "lufthansa")][0] == query(
        ctx.mysql, "SELECT COUNT(*) FROM flights WHERE source = 'lufthansa' AND departure_date >= '2026-03-01'")[0][0] > 100
    assert after_first == counted()
    stages.load_to_mysql(ctx)  # a replay: every row unchanged, nothing added
    assert kept() == after_first
    second = make_ctx(mock_api, dt="2026-03-02", run_id="run-2")
    run_all(second)
    after_second = kept()
    assert after_second == counted() != after_first
    query(ctx.mysql, "UPDATE pipeline_runs SET fetched = fetched + 1 WHERE run_id = 'run-2' AND endpoint = 'airlines'")
    query(ctx.mysql, "DELETE FROM flights WHERE departure_date = '2026-03-02' AND RIGHT(flight_number, 1) = '1'")
    recount(ctx.mysql)
    before_failed = kept()
    with pytest.raises(QualityCheckFailed):
        stages.load_to_mysql(second)  # would re-add the deleted flights, but its gate fails: rolled back
    assert kept() == before_failed
