"""The five stages for OpenSky partitions against moto S3, mongomock, real MariaDB and the mock API: a snapshot
of state vectors into positions, a day of departures and arrivals into flights, the credits charged, positions
linked to the flights their callsigns name, the lowest rank in the flights merge, reruns without calls, and the
partitions the API cannot serve.

Expected rows are derived from the raw pages the lake holds (the API's answer).
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest
from stage_support import query, run_stages

from aerolake.core.errors import QuotaExceeded
from aerolake.core.settings import Budget, Settings
from aerolake.mockapi import MockApi, MockConfig
from aerolake.pipeline import stages
from aerolake.schema import DATA_TABLES
from aerolake.sources import source
from aerolake.sources.opensky.normalize import flight_of_callsign
from aerolake.stores import lake
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.db import table_checksums
from aerolake.stores.mysql.ledger import RunInfo, run_counts

opensky = source("opensky")
ALL_TABLES = [t.name for t in DATA_TABLES]
NOON = datetime(2026, 2, 28, 12, 0)
MIDNIGHT = datetime(2026, 3, 1, 0, 0)


@pytest.fixture(scope="module")
def api():
    with MockApi(MockConfig(seed=5, flights_per_hub=150, qps_limit=None, now=NOON.isoformat() + "Z")) as server:
        yield server


@pytest.fixture
def make_ctx(s3, mongo, mysql_cfg):
    def build(api, partition: Partition, run_id: str = "run-1", name: str = "opensky", **settings) -> stages.StageContext:
        settings = Settings(bucket="aerolake-test", mock_api_url=api.base_url if api else "http://127.0.0.1:9",
                            calls_per_second={name: 0}, **settings)
        return stages.StageContext(RunInfo(f"{name}_lakehouse", run_id, partition), settings, s3, mongo, mysql_cfg)

    return build


def snapshot(hhmm: str = "1200") -> Partition:
    return Partition("opensky", "2026-02-28", hhmm)


DAY = Partition("opensky", "2026-02-28")


@pytest.fixture
def run_at(monkeypatch):
    """The five stages at ``moment``: the mock's clock and the pipeline's (``AEROLAKE_NOW``) agree."""

    def run(api, moment: datetime, ctx, **kwargs):
        api.configure(now=moment.isoformat() + "Z")
        monkeypatch.setenv("AEROLAKE_NOW", moment.isoformat() + "Z")
        return run_stages(ctx, now=moment, **kwargs)

    return run


def raw_records(ctx, endpoint: str) -> list:
    manifest = lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, endpoint)
    out = []
    for part, body in lake.iter_raw_parts(ctx.s3, ctx.bucket, manifest):
        if part["status"] == 200:
            out.extend(opensky.extract_records(endpoint, json.loads(body))[0])
    return out


def credits_charged(cfg) -> int:
    rows = query(cfg, "SELECT SUM(calls) FROM api_quota_usage WHERE source = 'opensky' AND period_kind = 'day'")
    return int(rows[0][0] or 0)


def test_a_snapshot_lands_the_state_vectors_as_positions(api, make_ctx, run_at):
    ctx = make_ctx(api, snapshot())
    results = run_at(api, NOON, ctx)
    assert results["extract_to_s3"]["states"]["api_calls"] == 1
    assert results["extract_to_s3"]["departures"] == {"fetched": 0, "api_calls": 0, "skipped": False}
    manifest = lake.read_manifest(ctx.s3, ctx.bucket, ctx.partition, "states")
    assert manifest["parts"][0]["params"]["extended"] == 1 and "aerolake-offline" not in json.dumps(manifest)
    body = lake.get_bytes(ctx.s3, ctx.bucket, manifest["parts"][0]["key"])
    assert b'"states":[["' in gzip.decompress(body)  # stored as received: arrays

    vectors = raw_records(ctx, "states")
    placed = {(v["icao24"], v["time_position"]) for v in vectors if v["latitude"] is not None}
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flight_positions WHERE source = 'opensky'")[0][0] == len(placed) > 20
    named = [v for v in vectors if flight_of_callsign(v["callsign"])[0] and v["latitude"] is not None]
    v = named[0]
    row = query(ctx.mysql, "SELECT airline_code, flight_number, dep_airport, latitude, longitude, altitude_m, "
                           "speed_kmh, vertical_speed, on_ground FROM flight_positions WHERE icao24 = %s AND "
                           "observed_at = FROM_UNIXTIME(%s)", (v["icao24"], v["time_position"]))
    assert row == ((*flight_of_callsign(v["callsign"]), None, v["latitude"], v["longitude"],
                    v["baro_altitude"] if v["baro_altitude"] is not None else v["geo_altitude"],
                    pytest.approx(v["velocity"] * 3.6), v["vertical_rate"], int(v["on_ground"])),)
    rows = {r["endpoint"]: r for r in run_counts(ctx.mysql, ctx.run)}
    assert all(r["fetched"] == r["loaded"] + r["quarantined"] + r["duplicates"] for r in rows.values()
               if r["fetched"] is not None)
    assert rows["states"]["fetched"] == len(vectors)
    stored = query(ctx.mysql, "SELECT check_name, passed FROM data_quality_results WHERE run_id = 'run-1'")
    assert len(stored) == len(opensky.SPEC.quality) and all(passed for _, passed in stored)
    assert credits_charged(ctx.mysql) == 1  # the box around FRA and MUC: one credit


def test_a_day_lands_the_flights_at_observed_times_and_its_positions_link_to_them(api, make_ctx, run_at):
    run_at(api, NOON, make_ctx(api, snapshot(), run_id="snap"))
    ctx = make_ctx(api, DAY)
    results = run_at(api, MIDNIGHT, ctx)
    assert {e: r["api_calls"] for e, r in results["extract_to_s3"].items()} == {"states": 0, "departures": 2,
                                                                               "arrivals": 2}
    assert credits_charged(ctx.mysql) == 1 + 4 * 4
    rows = {r["endpoint"]: r for r in run_counts(ctx.mysql, ctx.run)}
    for endpoint in ("departures", "arrivals"):
        r = rows[endpoint]
        assert r["fetched"] == r["loaded"] + r["quarantined"] + r["duplicates"] and r["loaded"] > 50, r
    assert rows["arrivals"]["duplicates"] > 0  # FRA-MUC flights are in both lists: one row each
    assert rows["departures"]["quarantined"] > 0  # ATC callsigns, no callsign, an airport OpenSky could not tell

    departures = raw_records(ctx, "departures")
    f = next(d for d in departures if flight_of_callsign(d["callsign"])[0] and d["estArrivalAirport"]
             and d["estDepartureAirport"] == "EDDF")
    airline, number = flight_of_callsign(f["callsign"])
    got = query(ctx.mysql, "SELECT arr_airport, scheduled_departure, actual_departure, actual_arrival, "
                           "scheduled_arrival, status, source FROM flights WHERE airline_code = %s AND flight_number "
                           "= %s AND dep_airport = 'FRA'", (airline, number))
    first, last = (datetime.fromtimestamp(f[k], UTC).replace(tzinfo=None) for k in ("firstSeen", "lastSeen"))
    assert got[0][1:] == (first, first, last, None, "landed", "opensky")
    # positions of the snapshot name flights by callsign: linked by airline, number and time
    linked = query(ctx.mysql, "SELECT COUNT(*), SUM(p.flight_id IS NOT NULL) FROM flight_positions p "
                              "WHERE p.airline_code IS NOT NULL")[0]
    assert linked[0] > 0 and linked[1] > 0
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flight_positions p JOIN flights f ON f.flight_id = p.flight_id "
                            "WHERE f.airline_code <> p.airline_code OR f.flight_number <> p.flight_number") == ((0,),)
    assert query(ctx.mysql, "SELECT source FROM airports WHERE airport_code = 'FRA'") == (("airportsdata",),)
    stored = query(ctx.mysql, "SELECT check_name, passed FROM data_quality_results WHERE run_id = 'run-1'")
    assert all(passed for _, passed in stored), stored


def test_every_schedule_source_outranks_openskys_observed_times(api, make_ctx, run_at):
    ctx = make_ctx(api, DAY)
    run_at(api, MIDNIGHT, ctx)
    key = "CONCAT(airline_code, flight_number, dep_airport, departure_date)"
    before = dict(query(ctx.mysql, f"SELECT {key}, scheduled_departure FROM flights WHERE source = 'opensky'"))
    airlabs = make_ctx(api, Partition("airlabs", "2026-02-28", "1200"), name="airlabs")
    run_at(api, NOON, airlabs)
    shared = query(ctx.mysql, f"SELECT {key}, scheduled_departure, source, status_source FROM flights "
                              "WHERE source = 'airlabs'")
    overridden = [r for r in shared if r[0] in before]
    assert overridden, "no flight known to both"
    assert all(r[2] == "airlabs" for r in overridden)
    assert any(r[1] != before[r[0]] for r in overridden)  # the schedule replaced the observed time
    assert all(r[3] == "opensky" for r in overridden)  # the fresher observation (the next day's) keeps the status


def test_a_rerun_makes_no_call_and_changes_nothing(api, make_ctx, run_at):
    run_at(api, NOON, make_ctx(api, snapshot()))
    run_at(api, MIDNIGHT, make_ctx(api, DAY))
    before = table_checksums(make_ctx(api, DAY).mysql, ALL_TABLES)
    calls = api.stats()["total"]
    later = datetime(2026, 3, 20, 9, 0)  # weeks later: the snapshot can only come from the lake
    for partition in (snapshot(), DAY):
        results = run_at(api, later, make_ctx(api, partition, run_id="run-2"))
        assert all(r["skipped"] and r["api_calls"] == 0 for r in results["extract_to_s3"].values())
    assert api.stats()["total"] == calls
    assert table_checksums(make_ctx(api, DAY).mysql, ALL_TABLES) == before


def test_a_past_snapshot_cannot_be_served_but_a_past_day_is_fetched(api, make_ctx):
    ctx = make_ctx(api, snapshot("0600"))
    with pytest.raises(stages.CannotServe, match=r"snapshot 2026-02-28/0600 is .* in the past .* only for the present"):
        stages.extract_to_s3(ctx, now=NOON)
    today = make_ctx(api, Partition("opensky", "2026-02-28"))
    with pytest.raises(stages.CannotServe, match="served from 2026-03-01"):
        stages.extract_to_s3(today, now=NOON)
    old = make_ctx(api, Partition("opensky", "2026-02-20"))
    api.configure(now="2026-03-20T09:00:00Z")
    results = stages.extract_to_s3(old, now=datetime(2026, 3, 20, 9, 0))
    assert results["departures"]["api_calls"] == 2 and results["departures"]["fetched"] > 50


def test_a_budget_in_credits_stops_the_request_it_cannot_pay(api, make_ctx):
    api.reset_stats()
    ctx = make_ctx(api, DAY, budgets={"opensky": Budget(per_day=6)})  # the day's first request costs 4
    api.configure(now=MIDNIGHT.isoformat() + "Z")
    with pytest.raises(QuotaExceeded, match="needs 1 API call"):
        stages.extract_to_s3(ctx, now=MIDNIGHT)
    # the second request could pay 2 of its 4 credits: it was not made (the 2 stay counted: never overspent)
    assert credits_charged(ctx.mysql) == 6 and api.stats()["requests"].get("opensky/flights/departure") == 1
    assert lake.read_manifest(ctx.s3, ctx.bucket, DAY, "departures") is None  # nothing half-written
