"""/status's latest run per DAG: the same answer as grouping every run, from a few index reads however many runs the
table keeps (select_latest_pipeline_runs.sql, migration 0015)."""

from __future__ import annotations

from datetime import datetime, timedelta

from stage_support import handler_reads

from aerolake.api import store
from aerolake.stores.mysql.db import connection

#: what the query answered before: each DAG's run with the newest MAX(started_at), a tie broken by run_id
GROUPED = """
SELECT r.dag_id, r.run_id, r.endpoint FROM pipeline_runs r
JOIN (SELECT dag_id, run_id FROM (
        SELECT dag_id, run_id, ROW_NUMBER() OVER (PARTITION BY dag_id ORDER BY MAX(started_at) DESC, run_id DESC) AS n
        FROM pipeline_runs GROUP BY dag_id, run_id) ranked WHERE n = 1) last_run
  ON last_run.dag_id = r.dag_id AND last_run.run_id = r.run_id
ORDER BY r.dag_id, r.endpoint
"""


def test_the_latest_run_of_each_dag_costs_a_few_index_reads(migrated_mysql) -> None:
    start = datetime(2026, 1, 1)
    rows = []
    for dag, every in (("airlabs_lakehouse", 10), ("opensky_lakehouse", 10), ("lufthansa_lakehouse", 1440)):
        for i in range(3000 if every == 10 else 30):
            moment = start + timedelta(minutes=every * i)
            for endpoint in ("flights", "states"):
                rows.append((dag, f"scheduled__{moment:%Y-%m-%dT%H:%M}", endpoint, dag.split("_")[0],
                             f"{moment:%Y-%m-%d/%H%M}", moment + timedelta(seconds=len(endpoint)), "success", "load"))
    # a tie on the newest start: the higher run_id wins, as before
    rows.append(("lufthansa_lakehouse", "zz_manual", "flights", "lufthansa", "2026-01-30",
                 start + timedelta(minutes=1440 * 29, seconds=7), "success", "load"))
    with connection(migrated_mysql) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO pipeline_runs (dag_id, run_id, endpoint, source, partition_key, started_at, "
                        "status, last_stage) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
        conn.commit()
        cur.execute("ANALYZE TABLE pipeline_runs")
        cur.fetchall()
        cur.execute(GROUPED)
        expected = [tuple(r) for r in cur.fetchall()]
        before = handler_reads(cur)
        cur.execute(store.sql("select_latest_pipeline_runs"))
        got = [(r[0], r[1], r[2]) for r in cur.fetchall()]
        spent = handler_reads(cur) - before
    assert got == expected
    assert ("lufthansa_lakehouse", "zz_manual", "flights") in got
    assert len(rows) > 12_000 and spent < 200, spent  # grouping every run reads all 12,000 rows and more
