"""The thin layer between Airflow and the stages: run context -> :class:`StageContext`.

Kept free of Airflow imports at module level, so DAG files parse fast and this maps plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aerolake.lake import Partition
from aerolake.runs import RunInfo


def partition_date(context: Mapping[str, Any]) -> str:
    """The day a daily run covers.

    Scheduled runs and backfills of a daily interval timetable have ``logical_date`` = the interval's start;
    a manual run (``airflow dags test DAG DATE``, the UI's trigger form) has ``logical_date`` = the date the
    user gave. Both are the day the user means. Never ``now()``: reruns cover the same day.
    """
    logical: datetime | None = context.get("logical_date") or context.get("data_interval_start")
    if logical is None:
        raise ValueError("this run has no logical date: trigger it with one (the day to fetch)")
    return logical.strftime("%Y-%m-%d")


def run_info(context: Mapping[str, Any], source: str) -> RunInfo:
    dag = context.get("dag")
    dag_id = getattr(dag, "dag_id", None) or str(context.get("dag_id", "manual"))
    return RunInfo(dag_id=dag_id, run_id=str(context["run_id"]), partition=Partition(source, partition_date(context)))


def stage_context(context: Mapping[str, Any], source: str) -> Any:
    from aerolake.stages import StageContext

    return StageContext.from_connections(run_info(context, source))


def refetch_requested(context: Mapping[str, Any]) -> bool:
    """``refetch`` from the run's conf or params: re-call the API even when the lake has the partition."""
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None) or {}
    params = context.get("params") or {}
    value = conf.get("refetch", params.get("refetch", False))
    return value in (True, "true", "True", "1", 1)
