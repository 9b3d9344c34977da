"""What a task does with a stage's outcome: ``pipeline_runs`` follows Airflow's view of the run, and an error
no retry can cure fails the task at once (``aerolake.airflow.dagfactory._run`` and the DAG-level callbacks)."""

from __future__ import annotations

import sys
import types
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException

from aerolake.airflow import dagfactory
from aerolake.core.errors import (
    CannotServe,
    InProcessStoreRefused,
    PermanentError,
    QualityCheckFailed,
    QuotaExceeded,
    retry_can_help,
)
from aerolake.http import ApiError, RetryableError
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.ledger import RunInfo, record_stage

pytestmark = pytest.mark.mysql

DAG_ID = "lufthansa_lakehouse"


@pytest.fixture
def ledger(migrated_mysql, monkeypatch):
    """The MySQL database the stages' connections resolve to (no aerolake_mysql connection: the settings')."""
    monkeypatch.setenv("AEROLAKE_MYSQL_DATABASE", migrated_mysql.database)
    return migrated_mysql


@pytest.fixture
def stage_module(monkeypatch):
    """A module of fake stages, named the way the DAG factory names its stage modules."""
    module = types.ModuleType("aerolake_fake_stages")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def context(try_number: int = 1, max_tries: int = 2, run_id: str = "manual__2026-03-01") -> dict:
    return {"dag": SimpleNamespace(dag_id=DAG_ID), "run_id": run_id,
            "logical_date": datetime(2026, 3, 1, tzinfo=UTC),
            "ti": SimpleNamespace(try_number=try_number, max_tries=max_tries, task_id="clean")}


def record_counts(cfg, run_id: str = "manual__2026-03-01") -> None:
    run = RunInfo(DAG_ID, run_id, Partition("lufthansa", "2026-03-01"))
    record_stage(cfg, run, "extract_to_s3", "flightstatus", {"fetched": 10, "api_calls": 2})
    record_stage(cfg, run, "extract_to_s3", "airports", {"fetched": 5, "api_calls": 1})


def states(cfg, run_id: str = "manual__2026-03-01") -> list[tuple]:
    from aerolake.stores.mysql.db import connection

    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT endpoint, status, last_stage, error FROM pipeline_runs WHERE dag_id = %s AND run_id = %s "
                    "ORDER BY endpoint", (DAG_ID, run_id))
        return cur.fetchall()


@pytest.mark.parametrize("exc", [
    QuotaExceeded("budget"), CannotServe("past"), QualityCheckFailed("gate"), InProcessStoreRefused("mongomock"),
    ApiError("401 Not Authorized", 401),
])
def test_errors_no_retry_can_cure_are_known_as_such(exc) -> None:
    assert isinstance(exc, (PermanentError, ApiError))
    assert retry_can_help(exc) is False


@pytest.mark.parametrize("exc", [RetryableError("503", 503), ApiError("gave up after 6 attempts", 503, retryable=True),
                                 ConnectionError("reset"), RuntimeError("worker lost")])
def test_transient_errors_are_retried(exc) -> None:
    assert retry_can_help(exc) is True


def test_a_stage_that_records_counts_leaves_the_run_running_not_successful(ledger) -> None:
    record_counts(ledger)
    assert states(ledger) == (("airports", "running", "extract_to_s3", None),
                              ("flightstatus", "running", "extract_to_s3", None))


def test_the_last_task_marks_the_run_successful(ledger, stage_module) -> None:
    record_counts(ledger)
    stage_module.check_quality = lambda ctx: ["ok"]
    assert dagfactory._run(stage_module.__name__, "check_quality", context(), "lufthansa", False, True) == ["ok"]
    assert {s[1:] for s in states(ledger)} == {("success", "check_quality", None)}


def test_a_middle_task_that_succeeds_does_not_mark_the_run_successful(ledger, stage_module) -> None:
    record_counts(ledger)
    stage_module.clean = lambda ctx: {}
    dagfactory._run(stage_module.__name__, "clean", context(), "lufthansa", False, False)
    assert {s[1] for s in states(ledger)} == {"running"}


def test_a_permanent_error_fails_the_task_at_once_and_the_run_says_failed(ledger, stage_module) -> None:
    record_counts(ledger)

    def check_quality(ctx):
        raise QualityCheckFailed("1 data quality check(s) failed for lufthansa 2026-03-01: count_balance")

    stage_module.check_quality = check_quality
    with pytest.raises(AirflowFailException, match=r"count_balance \(not retried"):
        dagfactory._run(stage_module.__name__, "check_quality", context(try_number=1), "lufthansa", False, True)
    assert {s[1:] for s in states(ledger)} == {
        ("failed", "check_quality",
         "QualityCheckFailed: 1 data quality check(s) failed for lufthansa 2026-03-01: count_balance")}


def test_a_transient_error_with_tries_left_is_retried_and_the_run_says_retrying(ledger, stage_module) -> None:
    record_counts(ledger)

    def load_to_mysql(ctx):
        raise ConnectionError("MySQL server has gone away")

    stage_module.load_to_mysql = load_to_mysql
    with pytest.raises(ConnectionError):
        dagfactory._run(stage_module.__name__, "load_to_mysql", context(try_number=2, max_tries=2), "lufthansa",
                        False, False)
    assert {s[1:] for s in states(ledger)} == {
        ("retrying", "load_to_mysql", "ConnectionError: MySQL server has gone away")}
    with pytest.raises(ConnectionError):  # the last try
        dagfactory._run(stage_module.__name__, "load_to_mysql", context(try_number=3, max_tries=2), "lufthansa",
                        False, False)
    assert {s[1] for s in states(ledger)} == {"failed"}


def test_a_run_failing_before_any_count_still_gets_a_row_which_a_later_count_replaces(ledger, stage_module) -> None:
    def extract_to_s3(ctx, refetch=False):
        raise QuotaExceeded("lufthansa 2026-03-01 needs 12 API calls; month 2026-03-01: 100 of 100 used")

    stage_module.extract_to_s3 = extract_to_s3
    with pytest.raises(AirflowFailException, match="100 of 100 used"):
        dagfactory._run(stage_module.__name__, "extract_to_s3", context(), "lufthansa", False, False)
    assert states(ledger) == (("-", "failed", "extract_to_s3", "QuotaExceeded: lufthansa 2026-03-01 needs 12 API "
                                                               "calls; month 2026-03-01: 100 of 100 used"),)
    record_counts(ledger)  # a later try got further
    assert [s[0] for s in states(ledger)] == ["airports", "flightstatus"]


def test_an_in_process_mongodb_is_refused_when_tasks_run_in_separate_processes(ledger, stage_module) -> None:
    """Under a scheduler (no in-process supervisor here) the offline mongomock would lose what a task staged:
    the stage that first needs MongoDB fails at once, naming the fix; stages that need no MongoDB still run."""
    stage_module.extract_to_s3 = lambda ctx, refetch=False: {"flightstatus": {"fetched": 0}}
    stage_module.load_to_mongo = lambda ctx: ctx.collection("flightstatus").count_documents({})
    assert dagfactory._whole_run_in_this_process() is False
    dagfactory._run(stage_module.__name__, "extract_to_s3", context(), "lufthansa", False, False)
    with pytest.raises(AirflowFailException, match=r"AIRFLOW_CONN_AEROLAKE_MONGO='mongo://127\.0\.0\.1:27017'"):
        dagfactory._run(stage_module.__name__, "load_to_mongo", context(), "lufthansa", False, False)
    (row,) = states(ledger)
    assert row[1:3] == ("failed", "load_to_mongo") and "airflow dags test" in row[3]


def test_a_mongodb_uri_connection_is_refused_with_the_conn_type_airflow_wants(monkeypatch) -> None:
    from aerolake.core.connections import mongo_database
    from aerolake.core.errors import ConfigurationError
    from aerolake.core.settings import Settings

    monkeypatch.setenv("AIRFLOW_CONN_AEROLAKE_MONGO", "mongodb://127.0.0.1:27017")
    with pytest.raises(ConfigurationError, match="needs 'mongo'"):
        mongo_database(Settings())


def test_the_dag_run_callbacks_settle_a_run_no_task_could_record(ledger) -> None:
    """A worker killed with -9 records nothing; when Airflow ends the run, the DAG callback says so."""
    record_counts(ledger)
    fail = dagfactory._on_dag_run_end("failed")
    fail({"dag": SimpleNamespace(dag_id=DAG_ID), "run_id": "manual__2026-03-01", "reason": "task_failure",
          "ti": SimpleNamespace(task_id="load_to_mysql")})
    assert {s[1:] for s in states(ledger)} == {
        ("failed", "load_to_mysql", "the DAG run failed (task_failure) at load_to_mysql")}

    record_counts(ledger, "manual__2026-03-02")
    dagfactory._on_dag_run_end("success")({"dag": SimpleNamespace(dag_id=DAG_ID), "run_id": "manual__2026-03-02"})
    assert {s[1:] for s in states(ledger, "manual__2026-03-02")} == {("success", "extract_to_s3", None)}


def test_every_dag_settles_its_runs_through_both_callbacks() -> None:
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags"))
    lakehouses = {dag_id for dag_id, dag in bag.dags.items() if "lakehouse" in dag.tags}
    assert lakehouses == {"lufthansa_lakehouse", "airlabs_lakehouse", "aviationstack_lakehouse", "opensky_lakehouse"}
    for dag_id in lakehouses:
        assert bag.dags[dag_id].on_success_callback.__name__ == "aerolake_mark_run_success"
        assert bag.dags[dag_id].on_failure_callback.__name__ == "aerolake_mark_run_failed"
    # the maintenance DAG loads no partition of a source: it has no pipeline_runs rows to settle
    assert set(bag.dags) - lakehouses == {"aerolake_maintenance"}
    assert bag.dags["aerolake_maintenance"].on_success_callback is None


def test_a_run_the_budget_pace_cannot_pay_ends_skipped_with_the_numbers(ledger, stage_module) -> None:
    """RunSkipped (the budget's pace) is neither a retry nor a failure: the task ends skipped, and
    pipeline_runs says so with the reason; the DAG-level success callback keeps it."""
    from airflow.sdk.exceptions import AirflowSkipException

    from aerolake.core.errors import RunSkipped

    def extract_to_s3(ctx):
        assert ctx.run.schedule == "*/10 * * * *"  # the scheduled run's schedule reaches the stage
        raise RunSkipped("airlabs: the scheduled run skipped by the budget's pace: it needs 8 call(s)")

    stage_module.extract_to_s3 = extract_to_s3
    scheduled = {**context(run_id="scheduled__2026-03-01T00:10:00+00:00"),
                 "dag": SimpleNamespace(dag_id=DAG_ID, timetable=SimpleNamespace(summary="*/10 * * * *")),
                 "dag_run": SimpleNamespace(run_type=SimpleNamespace(value="scheduled"))}
    with pytest.raises(AirflowSkipException, match="budget's pace"):
        dagfactory._run(stage_module.__name__, "extract_to_s3", scheduled, "lufthansa", False, False)
    (row,) = states(ledger, "scheduled__2026-03-01T00:10:00+00:00")
    assert row[:3] == ("-", "skipped", "extract_to_s3") and "needs 8 call(s)" in row[3]
    dagfactory._on_dag_run_end("success")({"dag": scheduled["dag"], "run_id": "scheduled__2026-03-01T00:10:00+00:00"})
    assert states(ledger, "scheduled__2026-03-01T00:10:00+00:00")[0][1] == "skipped"


def test_only_scheduled_runs_carry_the_schedule() -> None:
    from aerolake.airflow.runcontext import schedule_of_scheduled_run

    dag = SimpleNamespace(timetable=SimpleNamespace(summary="0 0 * * *"))
    for run_type, expected in (("scheduled", "0 0 * * *"), ("manual", None), ("backfill", None)):
        ctx = {"dag": dag, "run_id": "x", "dag_run": SimpleNamespace(run_type=SimpleNamespace(value=run_type))}
        assert schedule_of_scheduled_run(ctx) == expected
    assert schedule_of_scheduled_run({"dag": dag, "run_id": "scheduled__2026-03-01"}) == "0 0 * * *"
