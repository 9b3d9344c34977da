"""DAG integrity and policy: every DAG imports cleanly, is cheap to parse, and follows the project's rules."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = ROOT / "dags"
STAGES = ["extract_to_s3", "load_to_mongo", "clean", "load_to_mysql", "check_quality"]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


#: one lakehouse DAG per source (the DAGs the web API may trigger), and the maintenance DAG (MySQL's partitions)
DAG_IDS = ("lufthansa_lakehouse", "airlabs_lakehouse", "aviationstack_lakehouse", "opensky_lakehouse")
MAINTENANCE_DAG_ID = "aerolake_maintenance"
STREAMING = ["write_curated", "publish_to_kafka"]


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dags) == sorted([*DAG_IDS, MAINTENANCE_DAG_ID])


def test_every_dag_has_tags_owner_retries_and_docs(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags and "aerolake" in dag.tags, dag_id
        assert dag.doc_md, dag_id
        for task in dag.tasks:
            assert task.retries >= 1, (dag_id, task.task_id)
            assert task.retry_delay.total_seconds() >= 60, (dag_id, task.task_id)
            assert task.owner == "aerolake", (dag_id, task.task_id)
            assert task.execution_timeout is not None, (dag_id, task.task_id)


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_every_source_adds_the_curated_zone_and_kafka_after_the_quality_gate(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    order = STAGES + STREAMING
    assert sorted(dag.task_ids) == sorted(order)
    for upstream, downstream in itertools.pairwise(order):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}


def test_each_budgeted_api_is_called_from_its_own_one_slot_pool(dagbag):
    pools = json.loads((ROOT / "include" / "pools.json").read_text())
    assert {name: p["slots"] for name, p in pools.items()} == {"airlabs_api": 1, "aviationstack_api": 1,
                                                                "opensky_api": 1}
    assert dagbag.dags["airlabs_lakehouse"].get_task("extract_to_s3").pool == "airlabs_api"
    assert dagbag.dags["aviationstack_lakehouse"].get_task("extract_to_s3").pool == "aviationstack_api"
    assert dagbag.dags["opensky_lakehouse"].get_task("extract_to_s3").pool == "opensky_api"
    for dag_id in DAG_IDS:  # only the extract calls an API
        dag = dagbag.dags[dag_id]
        assert {t.pool for t in dag.tasks if t.task_id != "extract_to_s3"} == {"default_pool"}
    assert {t.pool for t in dagbag.dags[MAINTENANCE_DAG_ID].tasks} == {"default_pool"}


def test_airlabs_runs_every_ten_minutes_one_run_at_a_time(dagbag):
    from airflow.timetables.trigger import CronTriggerTimetable

    dag = dagbag.dags["airlabs_lakehouse"]
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert dag.timetable.summary == "*/10 * * * *"
    assert dag.max_active_runs == 1 and dag.dagrun_timeout is not None


def test_opensky_takes_a_snapshot_every_ten_minutes_and_can_run_a_whole_day(dagbag):
    from airflow.timetables.trigger import CronTriggerTimetable

    dag = dagbag.dags["opensky_lakehouse"]
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert dag.timetable.summary == "*/10 * * * *"
    assert dag.max_active_runs == 1 and dag.dagrun_timeout is not None
    # snapshots by default; untick (or {"snapshot": false}) for the whole day of the logical date
    assert dag.params["snapshot"] is True and dag.params["refetch"] is False


def test_aviationstack_is_daily_with_optional_snapshots(dagbag):
    from airflow.timetables.interval import CronDataIntervalTimetable

    dag = dagbag.dags["aviationstack_lakehouse"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.summary == "0 0 * * *"
    assert dag.params["snapshot"] is False and dag.params["refetch"] is False


def test_lufthansa_dag_is_a_daily_interval_schedule_that_can_backfill(dagbag):
    from airflow.timetables.interval import CronDataIntervalTimetable

    dag = dagbag.dags["lufthansa_lakehouse"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.summary == "0 0 * * *"
    assert dag.max_active_runs >= 1
    assert dag.params["refetch"] is False


def test_load_to_mysql_publishes_an_asset_per_table_and_runs_one_at_a_time(dagbag):
    task = dagbag.dags["lufthansa_lakehouse"].get_task("load_to_mysql")
    names = {outlet.name for outlet in task.outlets}
    assert names == {f"aerolake.mysql.{t}" for t in
                     ("countries", "cities", "airports", "airlines", "aircraft_types", "flights")}
    assert task.max_active_tis_per_dag == 1


def test_dag_files_do_no_io_and_import_no_heavy_library_at_parse_time():
    """Parse every DAG file in a fresh interpreter where opening a socket fails: nothing connects at import,
    and pandas, pymongo, pymysql, pyarrow, Kafka and the pipeline stay unimported until a task runs (the DAG
    files import only ``aerolake.airflow.dagfactory``, which imports Airflow's SDK). (boto3 is not in the list:
    Airflow's own asset-URI handlers of the amazon provider import it whenever an Asset is declared.)"""
    probe = f"""
import json, socket, sys, runpy, glob
def refuse(*args, **kwargs):
    raise AssertionError("network access at DAG parse time")
socket.socket.connect = refuse
socket.create_connection = refuse
for path in sorted(glob.glob({str(DAGS_DIR)!r} + "/*.py")):
    runpy.run_path(path)
heavy = [m for m in ("pandas", "pymongo", "pymysql", "pyarrow", "mongomock", "confluent_kafka", "fastavro",
                     "aerolake.pipeline.stages", "aerolake.core.connections", "aerolake.streaming") if m in sys.modules]
print(json.dumps(heavy))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_the_load_publishes_the_assets_of_exactly_the_tables_its_source_loads(dagbag, dag_id):
    """The DAG file's ``tables=`` (parse-time, no source imported) and the tables of the source's spec are one set."""
    from aerolake.sources import source as source_of

    source = source_of(dag_id.removesuffix("_lakehouse"))
    outlets = dagbag.dags[dag_id].get_task("load_to_mysql").outlets
    assert {asset.name.removeprefix("aerolake.mysql.") for asset in outlets} == \
        set(source.SPEC.tables)


def test_every_source_package_has_its_dag_and_the_api_may_trigger_exactly_those():
    """The lakehouse DAGs, one per source, are what ``run_data_import`` may trigger; the maintenance DAG is not a
    data import and is not among them."""
    from aerolake.api.config import PROJECT_DAG_IDS
    from aerolake.sources import SOURCES

    assert sorted(DAG_IDS) == sorted(f"{name}_lakehouse" for name in SOURCES) == sorted(PROJECT_DAG_IDS)
    assert MAINTENANCE_DAG_ID not in PROJECT_DAG_IDS


def test_the_maintenance_dag_makes_partitions_then_applies_retention_daily_one_run_at_a_time(dagbag):
    from airflow.timetables.trigger import CronTriggerTimetable

    from aerolake.airflow.dagfactory import MAINTENANCE_TASKS
    from aerolake.pipeline import maintenance

    dag = dagbag.dags[MAINTENANCE_DAG_ID]
    assert list(MAINTENANCE_TASKS) == ["ensure_partitions", "apply_retention"]
    assert sorted(dag.task_ids) == sorted(MAINTENANCE_TASKS)
    assert dag.get_task("apply_retention").upstream_task_ids == {"ensure_partitions"}
    assert all(callable(getattr(maintenance, name)) for name in MAINTENANCE_TASKS)  # one call each
    assert isinstance(dag.timetable, CronTriggerTimetable) and dag.timetable.summary == "30 0 * * *"
    assert dag.max_active_runs == 1 and not dag.catchup
    assert set(dag.tags) == {"aerolake", "maintenance"}


def test_the_dag_layer_and_the_api_use_the_one_list_of_stages():
    from aerolake.airflow import dagfactory
    from aerolake.api.routes import ops
    from aerolake.core import flow

    assert list(flow.STAGES) == STAGES and list(flow.STREAMING) == STREAMING
    assert dagfactory.STAGES is flow.STAGES and ops.STAGE_ORDER is flow.STAGES
