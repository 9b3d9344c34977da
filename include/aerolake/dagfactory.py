"""The lakehouse DAG every source shares, so the three DAG files are configuration only.

``extract_to_s3 -> load_to_mongo -> clean -> load_to_mysql -> check_quality`` and, for the sources that stream
(``streaming=True``), ``-> write_curated -> publish_to_kafka``. Each task body is one call into
:mod:`aerolake.stages` (or :mod:`aerolake.streaming`) with the run's partition; XCom carries counts only.

Imported by DAG files at parse time: only Airflow's SDK here; the pipeline is imported inside the tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, Param, chain, dag, task
from airflow.sdk.exceptions import AirflowFailException

STAGES = ("extract_to_s3", "load_to_mongo", "clean", "load_to_mysql", "check_quality")
STREAMING = ("write_curated", "publish_to_kafka")

DEFAULT_ARGS = {
    "owner": "aerolake",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=20),
    "execution_timeout": timedelta(hours=2),
}


def mysql_assets(tables: Iterable[str]) -> list[Asset]:
    """The Airflow Assets of the MySQL tables a load publishes (downstream DAGs can be scheduled on them)."""
    return [Asset(name=f"aerolake.mysql.{t}", uri=f"mysql://mysql:3306/aerolake/{t}") for t in tables]


def _run(module: str, stage: str, context: dict[str, Any], source: str, snapshots: bool, **kwargs: Any) -> Any:
    """Run one stage for the run's partition; a stop no retry can cure fails the task at once, saying why."""
    import importlib

    from aerolake import orchestration
    from aerolake.quotas import QuotaExceeded
    from aerolake.stages import CannotServe

    ctx = orchestration.stage_context(context, source, snapshots)
    try:
        return getattr(importlib.import_module(module), stage)(ctx, **kwargs)
    except (QuotaExceeded, CannotServe) as exc:  # retrying cannot help: the budget or the API's window
        raise AirflowFailException(str(exc)) from exc


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
    streaming: bool = False,
    max_active_runs: int = 2,
    dagrun_timeout: timedelta | None = None,
) -> Any:
    """Build the DAG ``dag_id`` for ``source``.

    ``pool``: the Airflow pool of ``extract_to_s3`` (one slot per API keeps its calls serial across runs).
    ``snapshots``: every run is a snapshot partition (``dt=.../snapshot=HHMM/``); ``snapshot_param`` lets a
    run ask for one (``{"snapshot": true}``) instead of the whole day.
    """
    params: dict[str, Param] = {
        "refetch": Param(False, type="boolean", description="Call the API even if the lake has the partition"),
    }
    if snapshot_param:
        params["snapshot"] = Param(False, type="boolean",
                                   description="An intra-day snapshot (dt/snapshot=HHMM of the logical date)")

    def stage(name: str, module: str = "aerolake.stages", **task_kwargs: Any) -> Callable[..., Any]:
        def body(**context: Any) -> Any:
            extra = {}
            if name == "extract_to_s3":
                from aerolake import orchestration

                extra["refetch"] = orchestration.refetch_requested(context)
            result = _run(module, name, context, source, snapshots, **extra)
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
