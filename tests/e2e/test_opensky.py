"""End to end through `airflow dags test`: OpenSky snapshots every 10 minutes and the previous day's flights at
the 00:00 UTC run, merged into the one model with positions linked to flights; a rerun changes nothing and
calls nothing; a backfill of a past day (`{"snapshot": false}`) really fetches it from the API, then replays
from the lake with the API down; a past snapshot without a raw partition is refused. Each run is made at its own
moment: the mock API's `now` and the pipeline's AEROLAKE_NOW agree."""

from __future__ import annotations

import json
import uuid

import pytest
from e2e_support import TABLES, airflow, drop_database, free_port, query

from aerolake.core.connections import MySqlConfig
from aerolake.stores.mysql.db import table_checksums

pytestmark = pytest.mark.e2e
DAY = "2026-03-01"
DAG = "opensky_lakehouse"


def run(stack, logical: str, now: str, ok: bool = True, conf: dict | None = None, **env) -> str:
    stack["api"].configure(now=now)
    args = ["dags", "test", DAG, logical, *(["--conf", json.dumps(conf)] if conf else [])]
    text = airflow(stack, *args, env={**stack["env"], "AEROLAKE_NOW": now, **env}, ok=ok)
    if ok:
        assert "state=success" in text.split("DagRun Finished")[-1].split("\n")[0], text[-5000:]
    return text


@pytest.fixture
def other_database():
    cfg = MySqlConfig(database=f"aerolake_e2e_{uuid.uuid4().hex[:10]}")
    yield cfg
    drop_database(cfg.database)


def test_snapshots_and_the_midnight_day_land_linked_and_a_rerun_changes_nothing(stack, other_database):
    cfg, api = stack["mysql"], stack["api"]
    for snapshot in ("10:00", "10:10"):
        run(stack, f"{DAY}T{snapshot}:00+00:00", f"{DAY}T{snapshot}:00Z")
    run(stack, "2026-03-02T00:00:00+00:00", "2026-03-02T00:05:00Z")  # the day that just ended

    partitions = query(cfg, "SELECT DISTINCT partition_key FROM pipeline_runs WHERE dag_id = %s ORDER BY 1", (DAG,))
    assert partitions == ((DAY,), (f"{DAY}/1000",), (f"{DAY}/1010",))
    positions, named, linked = query(cfg, "SELECT COUNT(*), SUM(airline_code IS NOT NULL), SUM(flight_id IS NOT NULL) "
                                          "FROM flight_positions WHERE source = 'opensky'")[0]
    assert positions > 0 and named > 0 and linked > 0
    assert query(cfg, "SELECT COUNT(*) FROM flights WHERE source = 'opensky' AND status = 'landed'")[0][0] > 10
    assert query(cfg, "SELECT check_name FROM data_quality_results WHERE dag_id = %s AND passed = 0", (DAG,)) == ()
    assert query(cfg, "SELECT DISTINCT status FROM pipeline_runs WHERE dag_id = %s", (DAG,)) == (("success",),)
    merged = table_checksums(cfg, TABLES)

    calls = api.stats()["total"]
    run(stack, f"{DAY}T10:00:00+00:00", "2026-03-02T09:00:00Z")  # later: only the lake can serve the snapshot
    run(stack, "2026-03-02T00:00:00+00:00", "2026-03-02T09:00:00Z")
    assert api.stats()["total"] == calls
    assert table_checksums(cfg, TABLES) == merged

    # a past snapshot the lake does not have cannot be served
    text = run(stack, "2026-02-01T10:00:00+00:00", "2026-03-02T09:00:00Z", ok=False)
    assert "the lake has no complete raw partition" in text and "only for the present" in text


def test_a_backfill_of_a_past_day_fetches_it_then_replays_it_from_the_lake_with_the_api_down(stack, other_database):
    api = stack["api"]
    day, later = "2026-02-20", "2026-03-20T12:00:00Z"
    calls = api.stats()["requests"]
    run(stack, day, later, conf={"snapshot": False})
    fetched = api.stats()["requests"]
    assert fetched.get("opensky/flights/departure", 0) - calls.get("opensky/flights/departure", 0) == 2
    assert fetched.get("opensky/flights/arrival", 0) - calls.get("opensky/flights/arrival", 0) == 2
    cfg = stack["mysql"]
    assert query(cfg, "SELECT COUNT(*) FROM flights WHERE source = 'opensky' AND departure_date = %s", (day,))[0][0] > 10
    assert query(cfg, "SELECT api_calls FROM pipeline_runs WHERE dag_id = %s AND partition_key = %s AND endpoint = "
                      "'departures'", (DAG, day)) == ((2,),)

    # replayed into an empty database with the API down: no call, the same rows
    down = {"AEROLAKE_MOCK_API_URL": f"http://127.0.0.1:{free_port()}", "AEROLAKE_MYSQL_DATABASE": other_database.database}
    run(stack, day, "2026-04-01T12:00:00Z", conf={"snapshot": False}, **down)
    assert query(other_database, "SELECT SUM(api_calls) FROM pipeline_runs")[0][0] == 0
    same = ("SELECT airline_code, flight_number, departure_date, dep_airport, arr_airport, actual_departure, "
            "actual_arrival FROM flights WHERE source = 'opensky' AND departure_date = %s ORDER BY 1, 2, 4")
    assert query(other_database, same, (day,)) == query(cfg, same, (day,))
