"""The thin layer between Airflow and the stages: run context -> :class:`StageContext`.

Kept free of Airflow imports at module level, so DAG files parse fast and this maps plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aerolake.stores.lake import Partition
from aerolake.stores.mysql.ledger import RunInfo


def run_moment(context: Mapping[str, Any]) -> datetime:
    """The moment a run is about.

    Scheduled runs and backfills have ``logical_date`` (a daily interval timetable: the interval's start; a
    cron trigger timetable: the trigger time); a manual run has the date the user gave (``airflow dags test
    DAG DATE``, the UI's trigger form) or, triggered without one (Airflow 3 allows that), the time it was
    triggered (``run_after``). Never ``now()`` at task time: reruns cover the same moment.
    """
    dag_run = context.get("dag_run")
    logical: datetime | None = (context.get("logical_date") or context.get("data_interval_start")
                                or getattr(dag_run, "run_after", None))
    if logical is None:
        raise ValueError("this run has no logical date: trigger it with one (the day to fetch)")
    return logical


def partition_date(context: Mapping[str, Any]) -> str:
    """The day a run covers (UTC date of :func:`run_moment`)."""
    return _utc(run_moment(context)).strftime("%Y-%m-%d")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment


def snapshot_requested(context: Mapping[str, Any]) -> bool:
    """``snapshot`` from the run's conf or params: an intra-day snapshot partition instead of the whole day."""
    return _flag(context, "snapshot")


def _snapshot_in_conf(context: Mapping[str, Any]) -> bool | None:
    """``snapshot`` as the run's conf gives it (a trigger's explicit choice), or None when it says nothing."""
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    return conf["snapshot"] in _TRUE if "snapshot" in conf else None


def run_info(context: Mapping[str, Any], source: str, snapshots: bool = False,
             day_partition_at: str | None = None) -> RunInfo:
    """Who runs which partition: ``dt`` = the run's UTC date; with ``snapshots`` (real-time sources, or a run
    asked for a snapshot) also ``snapshot`` = its UTC time as HHMM.

    A run's conf decides either way when it names ``snapshot``: ``{"snapshot": false}`` makes a run of a
    snapshot DAG cover the whole day of its logical date. ``day_partition_at`` (HHMM, snapshot DAGs): the run
    at that UTC time covers the previous day whole instead of a snapshot, as a daily interval's run covers the
    day that just ended (a source whose history is served a day late fetches it then).
    """
    dag = context.get("dag")
    dag_id = getattr(dag, "dag_id", None) or str(context.get("dag_id", "manual"))
    moment = _utc(run_moment(context))
    day = moment.strftime("%Y-%m-%d")
    asked = _snapshot_in_conf(context)
    if asked is None and snapshots and day_partition_at is not None and moment.strftime("%H%M") == day_partition_at:
        asked, day = False, (moment - timedelta(days=1)).strftime("%Y-%m-%d")
    wanted = asked if asked is not None else snapshots or snapshot_requested(context)
    snapshot = moment.strftime("%H%M") if wanted else None
    return RunInfo(dag_id=dag_id, run_id=str(context["run_id"]), partition=Partition(source, day, snapshot),
                   schedule=schedule_of_scheduled_run(context))


def schedule_of_scheduled_run(context: Mapping[str, Any]) -> str | None:
    """The DAG's cron schedule when the run is one the scheduler made from it (the budget's pace spreads those);
    None for a run a person asked for (a manual trigger, a backfill) or a DAG without a cron schedule."""
    dag_run = context.get("dag_run")
    run_type = getattr(dag_run, "run_type", None)
    run_type = getattr(run_type, "value", run_type)
    if run_type is None:
        run_type = "scheduled" if str(context.get("run_id", "")).startswith("scheduled__") else None
    if run_type != "scheduled":
        return None
    summary = getattr(getattr(context.get("dag"), "timetable", None), "summary", None)
    return summary if isinstance(summary, str) and len(summary.split()) == 5 else None


def stage_context(run: RunInfo, *, in_process_ok: bool = True) -> Any:
    """The stores of ``run`` from the connections; ``in_process_ok=False`` when its tasks run in separate
    processes (an in-process MongoDB is then refused where a stage first needs it)."""
    from aerolake.pipeline.stages import StageContext

    return StageContext.from_connections(run, in_process_ok=in_process_ok)


def refetch_requested(context: Mapping[str, Any]) -> bool:
    """``refetch`` from the run's conf or params: re-call the API even when the lake has the partition."""
    return _flag(context, "refetch")


def _flag(context: Mapping[str, Any], name: str) -> bool:
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None) or {}
    params = context.get("params") or {}
    value = conf.get(name, params.get(name, False))
    return value in _TRUE


_TRUE = (True, "true", "True", "1", 1)
