"""The ``pipeline_runs`` ledger: what each stage of each run did, per endpoint, and the run's state.

Each stage writes only its own columns, so re-running one task overwrites its counts instead of adding to
them; ``quarantined`` and ``duplicates`` are generated columns summing the stages. The balance every run
must satisfy, per endpoint: ``fetched = loaded + quarantined + duplicates``.

``status`` is the run's state (:data:`STATES`), set for all its rows at once: ``running`` when a stage
records its counts, then ``success`` once the DAG's last task succeeded, or ``retrying`` / ``failed`` (with
the ``error``) when a stage failed (:func:`mark_run`, called by the DAG layer, which knows whether Airflow will
retry). A stage never says ``success`` about a run it is only part of.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aerolake.core.connections import MySqlConfig
from aerolake.core.settings import wall_clock
from aerolake.sql import quote_identifier, sql_text
from aerolake.stores.lake import Partition
from aerolake.stores.mysql.db import connection

log = logging.getLogger(__name__)

STAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "extract_to_s3": ("fetched", "api_calls"),
    "load_to_mongo": ("staged", "quarantined_at_staging", "duplicates_at_staging"),
    "clean": ("cleaned", "quarantined_at_cleaning", "duplicates_at_cleaning"),
    "load_to_mysql": ("loaded",),
}

#: the states of a run in ``pipeline_runs.status`` (migration 0006); ``skipped``: the budget's pace did not pay
#: for the scheduled run, nothing was called (``error`` says why, with the numbers)
RUNNING, RETRYING, FAILED, SUCCESS, SKIPPED = "running", "retrying", "failed", "success", "skipped"
STATES = (RUNNING, RETRYING, FAILED, SUCCESS, SKIPPED)
ERROR_LENGTH = 1000  # pipeline_runs.error


@dataclass(frozen=True)
class RunInfo:
    """Who is running: the DAG and run ids (``manual`` outside Airflow) and the partition."""

    dag_id: str
    run_id: str
    partition: Partition
    #: the DAG's schedule (cron) when the run is one of its scheduled runs (the budget's pace applies), else None
    schedule: str | None = None


def record_stage(cfg: MySqlConfig, run: RunInfo, stage: str, endpoint: str, counts: dict[str, int],
                 started_at: datetime | None = None, conn: Any = None) -> None:
    """Upsert ``stage``'s counts for one endpoint of ``run`` (the run is then ``running``). With ``conn``, in
    that connection's transaction (the load records its counts with its rows: a rollback takes both back)."""
    allowed = STAGE_COLUMNS[stage]
    unknown = set(counts) - set(allowed)
    if unknown:
        raise ValueError(f"{stage} does not own pipeline_runs columns {sorted(unknown)}")
    columns = list(counts)
    now = wall_clock()
    statement = sql_text("queries/upsert_pipeline_run.sql").format(
        columns=", ".join(quote_identifier(c) for c in columns),
        placeholders=", ".join(["%s"] * len(columns)),
        updates=", ".join(f"{quote_identifier(c)} = VALUES({quote_identifier(c)})" for c in columns),
    )
    values = (run.dag_id, run.run_id, endpoint, run.partition.source, run.partition.key,
              (started_at or now), now, RUNNING, stage, *(int(counts[c]) for c in columns))
    if conn is not None:
        _upsert_counts(conn, statement, values, run)
        return
    with connection(cfg, autocommit=True) as own:
        _upsert_counts(own, statement, values, run)


def _upsert_counts(conn: Any, statement: str, values: tuple[Any, ...], run: RunInfo) -> None:
    with conn.cursor() as cur:
        cur.execute(statement, values)
        cur.execute("DELETE FROM pipeline_runs WHERE dag_id = %s AND run_id = %s AND endpoint = '-'",
                    (run.dag_id, run.run_id))


def mark_run(cfg: MySqlConfig, run: RunInfo, state: str, stage: str, error: str | None = None) -> None:
    """Set ``run``'s state on all its rows (``stage``: the task that ended, or failed, last). A run with no
    row yet (it failed before any stage recorded counts) gets one, endpoint ``-``."""
    if settle_run(cfg, run.dag_id, run.run_id, state, stage, error):
        return
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql_text("queries/insert_pipeline_run_state.sql"), {
            **_state_params(run.dag_id, run.run_id, state, stage, error),
            "source": run.partition.source, "partition_key": run.partition.key})


def settle_run(cfg: MySqlConfig, dag_id: str, run_id: str, state: str, stage: str,
               error: str | None = None) -> bool:
    """Set the state of the rows of run ``(dag_id, run_id)``; False if it has none."""
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql_text("queries/update_pipeline_run_state.sql"),
                    _state_params(dag_id, run_id, state, stage, error))
        return cur.rowcount > 0  # finished_at always changes, so a row that exists is counted


def _state_params(dag_id: str, run_id: str, state: str, stage: str, error: str | None) -> dict[str, Any]:
    if state not in STATES:
        raise ValueError(f"unknown run state {state!r}; known: {STATES}")
    return {"dag_id": dag_id, "run_id": run_id, "state": state, "stage": stage,
            "error": None if error is None else error[:ERROR_LENGTH], "now": wall_clock()}


def run_state(cfg: MySqlConfig, dag_id: str, run_id: str) -> tuple[str, str, str | None] | None:
    """``(status, last_stage, error)`` of a run, or None if it has no row."""
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT status, last_stage, error FROM pipeline_runs WHERE dag_id = %s AND run_id = %s "
                    "ORDER BY endpoint LIMIT 1", (dag_id, run_id))
        row = cur.fetchone()
        return None if row is None else (row[0], row[1], row[2])


def run_counts(cfg: MySqlConfig, run: RunInfo) -> list[dict]:
    """Every endpoint row of ``run`` as dicts."""
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT endpoint, fetched, api_calls, staged, cleaned, loaded, quarantined, duplicates, status "
            "FROM pipeline_runs WHERE dag_id = %s AND run_id = %s ORDER BY endpoint",
            (run.dag_id, run.run_id),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def last_api_calls(cfg: MySqlConfig, source: str, endpoint: str) -> int:
    """The API calls the most recent fetch of ``source``/``endpoint`` made (0 if none is recorded)."""
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT api_calls FROM pipeline_runs WHERE source = %s AND endpoint = %s AND api_calls > 0 "
                    "ORDER BY finished_at DESC LIMIT 1", (source, endpoint))
        row = cur.fetchone()
        return int(row[0]) if row else 0
