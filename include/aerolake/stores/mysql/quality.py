"""Data quality checks on a published partition; results go to ``data_quality_results``.

Checks are SQL files in ``aerolake/sql/quality/`` (one purpose each) returning one number, compared to a
threshold. A source declares which checks apply to it and with which parameters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from aerolake.core.connections import MySqlConfig
from aerolake.core.errors import QualityCheckFailed  # noqa: F401 - re-exported
from aerolake.core.settings import wall_clock
from aerolake.sql import quote_identifier, sql_text
from aerolake.stores.mysql.db import connection
from aerolake.stores.mysql.ledger import RunInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """``sql`` (a file under aerolake/sql/quality) yields one number; ``op`` compares it to ``threshold``."""

    name: str
    table: str
    sql: str
    op: str  # one of == <= >=
    threshold: float
    params: dict[str, Any] = field(default_factory=dict)
    identifiers: dict[str, str] = field(default_factory=dict)  # allow-listed names formatted into the SQL


def unique_key_checks(*tables: Any) -> list[Check]:
    """A ``unique_natural_key`` check for each schema table (no two rows share its natural key)."""
    return [Check("unique_natural_key", t.name, "count_duplicate_keys", "==", 0,
                  identifiers={"table": t.name, "key_columns": ",".join(t.key)}) for t in tables]


@dataclass(frozen=True)
class CheckResult:
    check_name: str
    table_name: str
    passed: bool
    observed_value: float | None
    threshold: float
    details: str | None = None


_OPS = {"==": lambda a, b: a == b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


def run_checks(cfg: MySqlConfig, run: RunInfo, checks: list[Check]) -> list[CheckResult]:
    """Evaluate ``checks`` for ``run`` and replace the run's rows in ``data_quality_results``."""
    base_params = {"dag_id": run.dag_id, "run_id": run.run_id, "source": run.partition.source,
                   "partition_key": run.partition.key, "dt": run.partition.dt}
    results = []
    with connection(cfg) as conn:
        with conn.cursor() as cur:
            for check in checks:
                statement = sql_text(f"quality/{check.sql}.sql").format(
                    **{k: ", ".join(quote_identifier(n) for n in v.split(",")) for k, v in check.identifiers.items()})
                cur.execute(statement, {**base_params, **check.params})
                row = cur.fetchone()
                observed = float(row[0]) if row and row[0] is not None else None
                details = str(row[1])[:1000] if row and len(row) > 1 and row[1] is not None else None
                passed = observed is not None and _OPS[check.op](observed, check.threshold)
                results.append(CheckResult(check.name, check.table, passed, observed, check.threshold, details))
            now = wall_clock()
            cur.execute("DELETE FROM data_quality_results WHERE dag_id = %s AND run_id = %s",
                        (run.dag_id, run.run_id))
            cur.executemany(
                "INSERT INTO data_quality_results (dag_id, run_id, partition_key, check_name, table_name, passed, "
                "observed_value, threshold, details, checked_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(run.dag_id, run.run_id, run.partition.key, r.check_name, r.table_name, r.passed, r.observed_value,
                  r.threshold, r.details, now) for r in results],
            )
        conn.commit()
    return results
