"""End to end through the Airflow CLI: `airflow dags test` and `airflow tasks test` against the mock API, a real
S3 endpoint (moto server), MariaDB, and MongoDB (in-process for `dags test`; a wire-protocol server shared by
the processes of `tasks test`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from aerolake.connections import MySqlConfig
from aerolake.mysql import connection, quote_identifier, table_checksums
from aerolake.schema import DATA_TABLES

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TABLES = [t.name for t in DATA_TABLES]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {port}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from aerolake.mockapi import MockApi, MockConfig

    home = tmp_path_factory.mktemp("airflow-home")
    s3_port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(s3_port, moto)
    cfg = MySqlConfig(database=f"aerolake_e2e_{uuid.uuid4().hex[:10]}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AEROLAKE_"))}
    with MockApi(MockConfig(flights_per_hub=25, qps_limit=None)) as api:
        env.update({
            "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AEROLAKE_MOCK_API_URL": api.base_url, "AEROLAKE_S3_ENDPOINT": f"http://127.0.0.1:{s3_port}",
            "AEROLAKE_MYSQL_DATABASE": cfg.database, "AEROLAKE_BUCKET": "aerolake-e2e",
            "AEROLAKE_LUFTHANSA_CALLS_PER_SECOND": "0",
        })
        out = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True,
                             timeout=300, check=False)
        assert out.returncode == 0, out.stderr[-3000:]
        try:
            yield {"env": env, "api": api, "mysql": cfg, "home": home}
        finally:
            moto.terminate()
            moto.wait(timeout=30)
            with connection(MySqlConfig(), database=False, autocommit=True) as conn, conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(cfg.database)}")


def airflow(stack, *args: str, env: dict | None = None) -> str:
    out = subprocess.run([str(BIN / "airflow"), *args], env=env or stack["env"], capture_output=True, text=True,
                         timeout=600, check=False)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-5000:]
    return text


def dags_test(stack, date: str) -> str:
    text = airflow(stack, "dags", "test", "lufthansa_lakehouse", date)
    assert "state=success" in text.split("DagRun Finished")[-1].split("\n")[0], text[-5000:]
    return text


def query(cfg, sql, params=()):
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


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
    """Five separate processes, one per task, sharing MongoDB through a wire-protocol server."""
    port = free_port()
    mongo = subprocess.Popen([str(BIN / "nx-27017"), "--data-dir", str(tmp_path), "-p", str(port),
                              "--log-file", str(tmp_path / "nx.log"), "--pid-file", str(tmp_path / "nx.pid")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, mongo)
        env = {**stack["env"], "AIRFLOW_CONN_AEROLAKE_MONGO": json.dumps(
            {"conn_type": "mongo", "host": "127.0.0.1", "port": port})}
        date = "2026-03-05"
        for task in ("extract_to_s3", "load_to_mongo", "clean", "load_to_mysql", "check_quality"):
            text = airflow(stack, "tasks", "test", "lufthansa_lakehouse", task, date, env=env)
            assert "state=success" in text or "Marking task as SUCCESS" in text or "new_state=success" in text, \
                text[-3000:]
    finally:
        mongo.terminate()
        mongo.wait(timeout=30)
    cfg = stack["mysql"]
    # `tasks test` gives each task its own temporary run: one ledger row per stage, each from its own task
    stages_seen = query(cfg, "SELECT last_stage, fetched, staged, cleaned, loaded FROM pipeline_runs "
                             "WHERE partition_key = %s AND endpoint = 'flightstatus' ORDER BY started_at", (date,))
    assert [row[0] for row in stages_seen] == ["extract_to_s3", "load_to_mongo", "clean", "load_to_mysql"]
    fetched, staged, cleaned, loaded = stages_seen[0][1], stages_seen[1][2], stages_seen[2][3], stages_seen[3][4]
    assert fetched >= staged == cleaned == loaded > 0
    assert query(cfg, "SELECT COUNT(*) FROM flights WHERE departure_date = %s AND dep_airport IN ('FRA', 'MUC')",
                 (date,))[0][0] == 2 * 25
