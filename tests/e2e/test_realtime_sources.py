"""End to end through `airflow dags test`: Airlabs snapshots and Aviation Stack days merged with Lufthansa into one
model; reruns change nothing; backfills replay from the lake with the API down; an exhausted budget stops before
calling. Each run is made at its own moment: the mock API's `now` and the pipeline's AEROLAKE_NOW agree."""

from __future__ import annotations

import re
import uuid

import pytest
from e2e_support import TABLES, airflow, drop_database, free_port, query

from aerolake.core.connections import MySqlConfig
from aerolake.stores.mysql.db import table_checksums

pytestmark = pytest.mark.e2e
DAY = "2026-03-01"


def run(stack, dag_id: str, logical: str, now: str, ok: bool = True, **env) -> str:
    stack["api"].configure(now=now)
    text = airflow(stack, "dags", "test", dag_id, logical, env={**stack["env"], "AEROLAKE_NOW": now, **env}, ok=ok)
    if ok:
        assert "state=success" in text.split("DagRun Finished")[-1].split("\n")[0], text[-5000:]
    return text


def data_checksums(cfg) -> dict:
    return table_checksums(cfg, TABLES)


@pytest.fixture
def other_database():
    cfg = MySqlConfig(database=f"aerolake_e2e_{uuid.uuid4().hex[:10]}")
    yield cfg
    drop_database(cfg.database)


def test_three_sources_one_model_reruns_change_nothing_and_backfills_replay_offline(stack, other_database):
    cfg, api = stack["mysql"], stack["api"]
    run(stack, "lufthansa_lakehouse", DAY, f"{DAY}T23:00:00Z")
    lh_group = set(query(cfg, "SELECT airline_code, flight_number, departure_date, dep_airport, scheduled_departure "
                              "FROM flights WHERE airline_code IN ('LH', 'LX', 'OS', 'EW')"))
    run(stack, "aviationstack_lakehouse", DAY, "2026-03-02T00:30:00Z")
    for snapshot in ("10:00", "10:10"):
        run(stack, "airlabs_lakehouse", f"{DAY}T{snapshot}:00+00:00", f"{DAY}T{snapshot}:00Z")
    merged = data_checksums(cfg)

    # one model: the same flight seen by several APIs is one row, its status from the freshest observation;
    # Lufthansa keeps the times of its group's flights
    assert query(cfg, "SELECT COUNT(*) FROM flights WHERE source = 'lufthansa' AND status_source <> 'lufthansa'"
                 )[0][0] > 0
    assert {"lufthansa", "aviationstack", "airlabs"} <= {s for (s,) in query(cfg, "SELECT DISTINCT status_source "
                                                                                "FROM flights")}
    assert lh_group and lh_group <= set(query(
        cfg, "SELECT airline_code, flight_number, departure_date, dep_airport, scheduled_departure FROM flights "
             "WHERE source = 'lufthansa'"))
    assert merged["flight_codeshares"][0] > 0
    assert query(cfg, "SELECT COUNT(*) FROM flight_codeshares c LEFT JOIN flights f ON f.airline_code = c.airline_code "
                      "AND f.flight_number = c.flight_number AND f.departure_date = c.departure_date AND "
                      "f.dep_airport = c.dep_airport WHERE f.flight_id IS NULL")[0][0] == 0
    positions, linked = query(cfg, "SELECT COUNT(*), SUM(flight_id IS NOT NULL) FROM flight_positions")[0]
    assert positions > 0 and linked > 0
    assert query(cfg, "SELECT COUNT(*) FROM flights WHERE status NOT IN ('scheduled', 'active', 'landed', "
                      "'cancelled', 'diverted', 'incident', 'unknown')")[0][0] == 0
    assert query(cfg, "SELECT check_name FROM data_quality_results WHERE passed = 0") == ()
    snapshots = query(cfg, "SELECT DISTINCT partition_key FROM pipeline_runs WHERE dag_id = 'airlabs_lakehouse' "
                           "ORDER BY 1")
    assert snapshots == ((f"{DAY}/1000",), (f"{DAY}/1010",))

    # a rerun of every run: the manifests prevent any API call, MySQL is identical
    calls = api.stats()["total"]
    run(stack, "aviationstack_lakehouse", DAY, "2026-03-02T00:30:00Z")
    run(stack, "airlabs_lakehouse", f"{DAY}T10:00:00+00:00", f"{DAY}T10:00:00Z")
    assert api.stats()["total"] == calls
    assert data_checksums(cfg) == merged

    # a backfill weeks later, API down, into an empty database: rebuilt from the lake alone, same rows
    down = {"AEROLAKE_MOCK_API_URL": f"http://127.0.0.1:{free_port()}", "AEROLAKE_MYSQL_DATABASE": other_database.database}
    later = "2026-03-20T12:00:00Z"
    run(stack, "lufthansa_lakehouse", DAY, later, **down)
    run(stack, "aviationstack_lakehouse", DAY, later, **down)
    for snapshot in ("10:00", "10:10"):
        run(stack, "airlabs_lakehouse", f"{DAY}T{snapshot}:00+00:00", later, **down)
    assert data_checksums(other_database) == merged
    assert query(other_database, "SELECT SUM(api_calls) FROM pipeline_runs")[0][0] == 0

    # a past date the lake does not have cannot be served by the live APIs: the run fails saying so
    text = run(stack, "airlabs_lakehouse", "2026-02-01T10:00:00+00:00", later, ok=False, **down)
    assert "the lake has no complete raw partition" in text and "cannot serve" in text
    text = run(stack, "aviationstack_lakehouse", "2026-02-01", later, ok=False, **down)
    assert "the lake has no complete raw partition" in text


def test_an_exhausted_budget_stops_the_run_before_any_call_and_nothing_reaches_mysql(stack):
    cfg, api = stack["mysql"], stack["api"]
    day = "2026-03-03"
    before = data_checksums(cfg)
    calls = api.stats()["total"]
    text = run(stack, "aviationstack_lakehouse", day, "2026-03-04T00:30:00Z", ok=False,
               AEROLAKE_AVIATIONSTACK_BUDGET_PER_DAY="1")
    assert re.search(r"aviationstack 2026-03-03 needs \d+ API call\(s\) but the request budget has 1 left", text), \
        text[-3000:]
    assert api.stats()["total"] == calls
    assert data_checksums(cfg) == before
    # no counts, only the run's state: failed at extract_to_s3 (at once: a budget no retry can refill), saying why
    (ledger,) = query(cfg, "SELECT endpoint, fetched, status, last_stage, error FROM pipeline_runs "
                           "WHERE partition_key = %s", (day,))
    assert ledger[:4] == ("-", None, "failed", "extract_to_s3")
    assert ledger[4].startswith("QuotaExceeded: aviationstack 2026-03-03 needs"), ledger
    # with budget, the same date resumes and lands
    run(stack, "aviationstack_lakehouse", day, "2026-03-04T00:30:00Z")
    assert query(cfg, "SELECT DISTINCT status FROM pipeline_runs WHERE partition_key = %s AND endpoint <> '-'",
                 (day,)) == (("success",),)
    assert query(cfg, "SELECT COUNT(*) FROM flights WHERE departure_date = %s", (day,))[0][0] > 0
