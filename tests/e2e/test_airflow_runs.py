"""End to end through the Airflow CLI: `airflow dags test` and `airflow tasks test` against the mock API, a real
S3 endpoint (moto server), MariaDB, and MongoDB (in-process for `dags test`; the local stack's wire-protocol
stand-in, ``aerolake.devstack.mongo_server``, shared by the processes of `tasks test`)."""

from __future__ import annotations

import io
import json

import boto3
import fastavro
import pytest
from e2e_support import TABLES, airflow, free_port, mongo_server, query, stop_process, wait_for_port

from aerolake.core.flow import STAGES, STREAMING
from aerolake.stores.mysql.db import table_checksums

pytestmark = pytest.mark.e2e


def dags_test(stack, date: str) -> str:
    text = airflow(stack, "dags", "test", "lufthansa_lakehouse", date)
    assert "state=success" in text.split("DagRun Finished")[-1].split("\n")[0], text[-5000:]
    return text


def test_two_days_then_a_rerun_of_the_first_changes_nothing(stack):
    cfg, api = stack["mysql"], stack["api"]
    dags_test(stack, "2026-03-01")
    after_first = table_checksums(cfg, TABLES)
    dags_test(stack, "2026-03-02")
    after_second = table_checksums(cfg, TABLES)
    assert after_second["flights"][0] > after_first["flights"][0] > 0
    calls = api.stats()["total"]

    dags_test(stack, "2026-03-01")

    assert api.stats()["total"] == calls, "the manifest should have prevented any API call"
    assert table_checksums(cfg, TABLES) == after_second
    runs = query(cfg, "SELECT partition_key, COUNT(DISTINCT run_id), SUM(api_calls) FROM pipeline_runs "
                      "WHERE endpoint = 'flightstatus' GROUP BY partition_key ORDER BY partition_key")
    assert [(p, int(n)) for p, n, _ in runs] == [("2026-03-01", 2), ("2026-03-02", 1)]
    failed = query(cfg, "SELECT check_name FROM data_quality_results WHERE passed = 0")
    assert failed == ()
    assert query(cfg, "SELECT COUNT(DISTINCT run_id) FROM data_quality_results")[0][0] == 3


def test_each_task_runs_alone_with_tasks_test(stack, tmp_path):
    """Seven separate processes, one per task, sharing MongoDB through a wire-protocol server (persistent: it is
    restarted, once with SIGTERM and once with kill -9, between the tasks)."""
    port = free_port()
    data, log = tmp_path / "mongo", tmp_path / "mongo.log"
    mongo = mongo_server(port, data, log)
    try:
        wait_for_port(port, mongo)
        env = {**stack["env"], "AIRFLOW_CONN_AEROLAKE_MONGO": json.dumps(
            {"conn_type": "mongo", "host": "127.0.0.1", "port": port})}
        date = "2026-03-05"
        for task in (*STAGES, *STREAMING):
            text = airflow(stack, "tasks", "test", "lufthansa_lakehouse", task, date, env=env)
            assert "state=success" in text or "Marking task as SUCCESS" in text or "new_state=success" in text, \
                text[-3000:]
            if task in ("load_to_mongo", "clean"):  # what load_to_mongo staged must outlive the server
                if task == "load_to_mongo":
                    stop_process(mongo)
                else:
                    mongo.kill()
                    mongo.wait(timeout=30)
                mongo = mongo_server(port, data, log)
                wait_for_port(port, mongo)
    finally:
        stop_process(mongo)
    cfg = stack["mysql"]
    # `tasks test` gives each task its own temporary run: one ledger row per stage, each from its own task
    stages_seen = query(cfg, "SELECT last_stage, fetched, staged, cleaned, loaded FROM pipeline_runs "
                             "WHERE partition_key = %s AND endpoint = 'flightstatus' ORDER BY started_at", (date,))
    assert [row[0] for row in stages_seen] == ["extract_to_s3", "load_to_mongo", "clean", "load_to_mysql"]
    fetched, staged, cleaned, loaded = stages_seen[0][1], stages_seen[1][2], stages_seen[2][3], stages_seen[3][4]
    assert fetched >= staged == cleaned == loaded > 0
    assert query(cfg, "SELECT COUNT(*) FROM flights WHERE departure_date = %s AND dep_airport IN ('FRA', 'MUC')",
                 (date,))[0][0] == 2 * 25
    # the streaming tasks, each alone: every flight of the date in the curated Avro file and delivered to Kafka
    (flights,) = query(cfg, "SELECT COUNT(*) FROM flights WHERE departure_date = %s", (date,))[0]
    s3 = boto3.client("s3", endpoint_url=stack["env"]["AEROLAKE_S3_ENDPOINT"], region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")  # moto accepts any key
    body = s3.get_object(Bucket=stack["env"]["AEROLAKE_BUCKET"], Key=f"curated/flights/dt={date}/part-00000.avro")
    assert len(list(fastavro.reader(io.BytesIO(body["Body"].read())))) == flights > 0
    assert query(cfg, "SELECT COUNT(*) FROM kafka_publications WHERE departure_date = %s AND last_status = 'delivered'",
                 (date,))[0][0] == flights
