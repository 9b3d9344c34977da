"""The lakehouse DAG every source shares, so the DAG files are configuration only; and the maintenance DAG.

``extract_to_s3 -> load_to_mongo -> clean -> load_to_mysql -> check_quality`` and, for the sources that stream
(``streaming=True``), ``-> write_curated -> publish_to_kafka``. Each task body is one call into
:mod:`aerolake.pipeline.stages` (or :mod:`aerolake.streaming`) with the run's partition; XCom carries counts only.
:func:`maintenance_dag`: ``ensure_partitions -> apply_retention``, one call each into
:mod:`aerolake.pipeline.maintenance`.

Imported by DAG files at parse time: only Airflow's SDK here; the pipeline is imported inside the tasks.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, Param, chain, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from aerolake.core.flow import STAGES, STREAMING

log = logging.getLogger(__name__)

DEFAULT_ARGS = {
    "owner": "aerolake",
    "retries": 2,
    # the first retry's wait, doubled for each further one (up to max_retry_delay)
    "retry_delay": timedelta(seconds=int(os.environ.get("AEROLAKE_RETRY_DELAY_SECONDS", "120"))),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=20),
    "execution_timeout": timedelta(hours=2),
}


def mysql_assets(tables: Iterable[str]) -> list[Asset]:
    """The Airflow Assets of the MySQL tables a load publishes (downstream DAGs can be scheduled on them)."""
    return [Asset(name=f"aerolake.mysql.{t}", uri=f"mysql://mysql:3306/aerolake/{t}") for t in tables]


def _whole_run_in_this_process() -> bool:
    """True when every task of the run executes in this one process (``airflow dags test``, ``dag.test()``),
    so an in-process store is shared by all of them; False under a scheduler's executor (each task its own
    process) and for ``airflow tasks test`` (one task, its process ends with it)."""
    import sys

    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.supervisor import InProcessSupervisorComms

    in_process = isinstance(getattr(task_runner, "SUPERVISOR_COMMS", None), InProcessSupervisorComms)
    return in_process and sys.argv[1:3] != ["tasks", "test"]


def _run(module: str, stage: str, context: dict[str, Any], source: str, snapshots: bool, final: bool,
         day_partition_at: str | None = None, **kwargs: Any) -> Any:
    """Run one stage for the run's partition and keep ``pipeline_runs`` in step with Airflow: the run is
    ``success`` once its ``final`` task succeeded; a failure is ``retrying`` if Airflow will try again, else
    ``failed``. An error no retry can cure (:func:`aerolake.core.errors.retry_can_help`) fails the task at once."""
    import importlib

    from aerolake.airflow import runcontext
    from aerolake.core.errors import RunSkipped, retry_can_help
    from aerolake.stores.mysql import ledger

    run = runcontext.run_info(context, source, snapshots, day_partition_at)
    try:
        ctx = runcontext.stage_context(run, in_process_ok=_whole_run_in_this_process())
        result = getattr(importlib.import_module(module), stage)(ctx, **kwargs)
    except RunSkipped as skipped:
        log.warning("%s", skipped)
        _record_state(run, ledger.SKIPPED, stage, str(skipped))
        raise AirflowSkipException(str(skipped)) from skipped
    except Exception as exc:
        curable = retry_can_help(exc)
        ti = context.get("ti")
        will_retry = curable and ti is not None and ti.try_number <= ti.max_tries
        _record_state(run, ledger.RETRYING if will_retry else ledger.FAILED, stage, f"{type(exc).__name__}: {exc}")
        if not curable:
            raise AirflowFailException(f"{exc} (not retried: no retry can cure this)") from exc
        raise
    if final:
        _record_state(run, ledger.SUCCESS, stage)
    return result


def _record_state(run: Any, state: str, stage: str, error: str | None = None) -> None:
    """``ledger.mark_run``; a ledger that cannot be written is logged, never allowed to replace the task's own
    outcome (a failure stays that failure; a success with an unwritable ledger fails the task)."""
    from aerolake.core.connections import mysql_config
    from aerolake.core.settings import load_settings
    from aerolake.stores.mysql import ledger

    try:
        ledger.mark_run(mysql_config(load_settings()), run, state, stage, error)
    except Exception:
        if state == ledger.SUCCESS:
            raise
        log.exception("could not record %s/%s as %s in pipeline_runs", run.dag_id, run.run_id, state)


def _on_dag_run_end(state: str) -> Callable[[dict[str, Any]], None]:
    """A DAG-level callback (run by Airflow's dag-processor when the run ends) that settles the run's state
    in ``pipeline_runs``, also where no task could record it (a worker killed with -9, a run timeout, a task
    cleared alone)."""

    def callback(context: dict[str, Any]) -> None:
        from aerolake.core.connections import mysql_config
        from aerolake.core.settings import load_settings
        from aerolake.stores.mysql import ledger

        dag = context.get("dag")
        dag_id, run_id = getattr(dag, "dag_id", None), context.get("run_id")
        if not dag_id or not run_id:
            return
        cfg = mysql_config(load_settings())
        known = ledger.run_state(cfg, dag_id, str(run_id))
        if known is None:
            return
        status, last_stage, error = known
        if status == state or status == ledger.SKIPPED:
            return  # the task that ended the run recorded it (with its own error), or skipped it
        ti = context.get("ti")
        stage = getattr(ti, "task_id", None) or last_stage
        if state == ledger.FAILED:
            error = error or f"the DAG run failed ({context.get('reason') or 'a task failed'}) at {stage}"
        else:
            error = None
        ledger.settle_run(cfg, dag_id, str(run_id), state, stage, error)

    callback.__name__ = f"aerolake_mark_run_{state}"
    return callback


def lakehouse_dag(
    *,
    dag_id: str,
    source: str,
    schedule: Any,
    doc_md: str,
    tables: Iterable[str],
    tags: Iterable[str] = (),
    pool: str | None = None,
    snapshots: bool = False,
    snapshot_param: bool = False,
    day_partition_at: str | None = None,
    streaming: bool = False,
    max_active_runs: int = 2,
    dagrun_timeout: timedelta | None = None,
) -> Any:
    """Build the DAG ``dag_id`` for ``source``.

    ``pool``: the Airflow pool of ``extract_to_s3`` (one slot per API keeps its calls serial across runs).
    ``snapshots``: every run is a snapshot partition (``dt=.../snapshot=HHMM/``); ``snapshot_param`` lets a
    run choose (``{"snapshot": true}`` or ``false``: the whole day), its default being ``snapshots``.
    ``day_partition_at`` (HHMM, UTC; snapshot DAGs): the run at that time covers the previous day whole instead
    of a snapshot (:func:`aerolake.airflow.runcontext.run_info`).
    """
    if day_partition_at is not None and not (len(day_partition_at) == 4 and day_partition_at.isdigit()):
        raise ValueError(f"{dag_id}: day_partition_at must be HHMM (UTC), got {day_partition_at!r}")
    params: dict[str, Param] = {
        "refetch": Param(False, type="boolean", description="Call the API even if the lake has the partition"),
    }
    if snapshot_param:
        params["snapshot"] = Param(snapshots, type="boolean",
                                   description="An intra-day snapshot (dt/snapshot=HHMM of the logical date); "
                                               "off: the whole day of the logical date")

    final_task = STREAMING[-1] if streaming else STAGES[-1]

    def stage(name: str, module: str = "aerolake.pipeline.stages", **task_kwargs: Any) -> Callable[..., Any]:
        def body(**context: Any) -> Any:
            extra = {}
            if name == "extract_to_s3":
                from aerolake.airflow import runcontext

                extra["refetch"] = runcontext.refetch_requested(context)
            result = _run(module, name, context, source, snapshots, name == final_task, day_partition_at, **extra)
            return len(result) if isinstance(result, list) else result

        body.__name__ = name
        return task(task_id=name, **task_kwargs)(body)

    @dag(
        dag_id=dag_id,
        schedule=schedule,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=max_active_runs,
        dagrun_timeout=dagrun_timeout,
        doc_md=doc_md,
        tags=["aerolake", source, "lakehouse", *tags],
        params=params,
        default_args=DEFAULT_ARGS,
        on_success_callback=_on_dag_run_end("success"),
        on_failure_callback=_on_dag_run_end("failed"),
    )
    def pipeline() -> None:
        extract = stage("extract_to_s3", **({"pool": pool} if pool else {}))()
        load = stage("load_to_mysql", outlets=mysql_assets(tables), max_active_tis_per_dag=1)
        tasks = [extract, stage("load_to_mongo")(), stage("clean")(), load(), stage("check_quality")()]
        if streaming:
            tasks += [stage("write_curated", "aerolake.streaming", max_active_tis_per_dag=1)(),
                      stage("publish_to_kafka", "aerolake.streaming", max_active_tis_per_dag=1)()]
        chain(*tasks)

    return pipeline()


#: the maintenance DAG's tasks, in order: each is the function of the same name in aerolake.pipeline.maintenance
MAINTENANCE_TASKS = ("ensure_partitions", "apply_retention")


def maintenance_dag(*, dag_id: str, schedule: Any, doc_md: str) -> Any:
    """Build the DAG ``dag_id`` that keeps MySQL's partitioned tables in shape (:data:`MAINTENANCE_TASKS`): one run
    at a time, no catchup (each run works on "now", so a missed day is made good by the next run)."""

    def maintenance_task(name: str) -> Callable[..., Any]:
        def body() -> Any:
            import importlib

            from aerolake.core.errors import retry_can_help

            try:
                return getattr(importlib.import_module("aerolake.pipeline.maintenance"), name)()
            except Exception as exc:
                if not retry_can_help(exc):
                    raise AirflowFailException(f"{exc} (not retried: no retry can cure this)") from exc
                raise

        body.__name__ = name
        return task(task_id=name)(body)

    @dag(
        dag_id=dag_id,
        schedule=schedule,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        doc_md=doc_md,
        tags=["aerolake", "maintenance"],
        default_args=DEFAULT_ARGS,
    )
    def maintenance() -> None:
        chain(*(maintenance_task(name)() for name in MAINTENANCE_TASKS))

    return maintenance()
