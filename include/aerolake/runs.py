"""The ``pipeline_runs`` ledger: what each stage of each run did, per endpoint.

Each stage writes only its own columns, so re-running one task overwrites its counts instead of adding to
them; ``quarantined`` and ``duplicates`` are generated columns summing the stages. The balance every run
must satisfy, per endpoint: ``fetched = loaded + quarantined + duplicates``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aerolake.connections import MySqlConfig
from aerolake.lake import Partition
from aerolake.mysql import connection, quote_identifier, sql_text

log = logging.getLogger(__name__)

STAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "extract_to_s3": ("fetched", "api_calls"),
    "load_to_mongo": ("staged", "quarantined_at_staging", "duplicates_at_staging"),
    "clean": ("cleaned", "quarantined_at_cleaning", "duplicates_at_cleaning"),
    "load_to_mysql": ("loaded",),
}


@dataclass(frozen=True)
class RunInfo:
    """Who is running: the DAG and run ids (``manual`` outside Airflow) and the partition."""

    dag_id: str
    run_id: str
    partition: Partition


def record_stage(cfg: MySqlConfig, run: RunInfo, stage: str, endpoint: str, counts: dict[str, int],
                 status: str = "success", started_at: datetime | None = None) -> None:
    """Upsert ``stage``'s counts for one endpoint of ``run``."""
    allowed = STAGE_COLUMNS[stage]
    unknown = set(counts) - set(allowed)
    if unknown:
        raise ValueError(f"{stage} does not own pipeline_runs columns {sorted(unknown)}")
    columns = list(counts)
    now = datetime.now(UTC).replace(tzinfo=None)
    statement = sql_text("queries/upsert_pipeline_run.sql").format(
        columns=", ".join(quote_identifier(c) for c in columns),
        placeholders=", ".join(["%s"] * len(columns)),
        updates=", ".join(f"{quote_identifier(c)} = VALUES({quote_identifier(c)})" for c in columns),
    )
    values = (run.dag_id, run.run_id, endpoint, run.partition.source, run.partition.key,
              (started_at or now), now, status, stage, *(int(counts[c]) for c in columns))
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(statement, values)


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
