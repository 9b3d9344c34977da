"""Data quality checks of a partition, with a severity each; results go to ``data_quality_results``.

Checks are SQL files in ``aerolake/sql/quality/`` (one purpose each) returning one number (and optionally a
detail text and the size of the sample the number is a rate of), compared to a threshold. A source declares
which checks apply to it and with which parameters. Each reads only what it judges (the partition's rows, the
run's ledger, a window of days around it: a test runs ``EXPLAIN`` on every file), so a check costs the same on
day 400 as on day 1; an invariant a constraint already enforces (unique natural keys, foreign keys) is not
counted again per run.

Write, audit, publish: ``load_to_mysql`` evaluates the **error**-level checks (:data:`ERROR`) on its own
connection after writing the partition and **before it commits** (:func:`evaluate`); a failed one rolls the
load back, so the previous good state stays what readers see. ``check_quality`` then evaluates the **warn**-level
checks (:data:`WARN`) on the published data: they are recorded and logged, never block. A rate check over fewer
items than its ``min_sample`` cannot tell a small sample from a bad feed (one bad position of three is 33%): it
then only warns, saying so in its details.
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
from aerolake.stores.mysql.load import day_window

log = logging.getLogger(__name__)

#: blocks the load: evaluated inside its transaction, a failure rolls it back
ERROR = "error"
#: recorded and logged after the load; never blocks
WARN = "warn"
SEVERITIES = (ERROR, WARN)
#: the default ``min_sample`` of the rate checks the sources declare
RATE_MIN_SAMPLE = 50


@dataclass(frozen=True)
class Check:
    """``sql`` (a file under aerolake/sql/quality) yields one number; ``op`` compares it to ``threshold``.

    ``severity``: :data:`ERROR` (the load is rolled back when it fails) or :data:`WARN`. ``min_sample``: for
    a rate, the fewest items (the SQL's third column) it must be taken over to be judged at its severity;
    below that it only warns."""

    name: str
    table: str
    sql: str
    op: str  # one of == <= >=
    threshold: float
    params: dict[str, Any] = field(default_factory=dict)
    identifiers: dict[str, str] = field(default_factory=dict)  # allow-listed names formatted into the SQL
    severity: str = ERROR
    min_sample: int | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"check {self.name}: severity must be one of {SEVERITIES}, got {self.severity!r}")
        if self.op not in _OPS:
            raise ValueError(f"check {self.name}: op must be one of {sorted(_OPS)}, got {self.op!r}")


@dataclass(frozen=True)
class CheckResult:
    check_name: str
    table_name: str
    passed: bool
    observed_value: float | None
    threshold: float
    details: str | None = None
    #: the severity it was judged at: the check's, or :data:`WARN` for a rate below its minimum sample
    severity: str = ERROR
    sample: int | None = None  # how many items a rate was taken over (None: not a rate)

    @property
    def blocks(self) -> bool:
        """A failed error-level check: the partition must not be published."""
        return not self.passed and self.severity == ERROR

    def describe(self) -> str:
        return f"{self.check_name}[{self.table_name}] observed={self.observed_value} {self.details or ''}".rstrip()


_OPS = {"==": lambda a, b: a == b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


def gates(checks: Any) -> list[Check]:
    """The error-level checks of ``checks`` (the load's gate)."""
    return [c for c in checks if c.severity == ERROR]


def warnings(checks: Any) -> list[Check]:
    """The warn-level checks of ``checks``."""
    return [c for c in checks if c.severity == WARN]


def evaluate(conn: Any, run: RunInfo, checks: list[Check], *, linked: tuple[Any, Any] | None = None
             ) -> list[CheckResult]:
    """Evaluate ``checks`` for ``run`` on ``conn`` (inside the caller's transaction: a load sees its own
    uncommitted rows). Writes nothing.

    ``linked``: the moments ``[since, until)`` whose positions the run's load linked to flights (parameters
    ``linked_since``, ``linked_until``: what the position checks judge); unknown (a check after the load), the
    days around the partition's a load may link (``load.day_window``).
    """
    since, until = linked if linked is not None else day_window(run.partition.dt)
    base_params = {"dag_id": run.dag_id, "run_id": run.run_id, "source": run.partition.source,
                   "partition_key": run.partition.key, "dt": run.partition.dt, "linked_since": since,
                   "linked_until": until}
    results = []
    with conn.cursor() as cur:
        for check in checks:
            statement = sql_text(f"quality/{check.sql}.sql").format(
                **{k: ", ".join(quote_identifier(n) for n in v.split(",")) for k, v in check.identifiers.items()})
            cur.execute(statement, {**base_params, **check.params})
            row = cur.fetchone() or ()
            observed = float(row[0]) if row and row[0] is not None else None
            details = str(row[1])[:900] if len(row) > 1 and row[1] is not None else None
            sample = int(row[2]) if len(row) > 2 and row[2] is not None else None
            passed = observed is not None and _OPS[check.op](observed, check.threshold)
            severity = check.severity
            if check.min_sample is not None and (sample or 0) < check.min_sample:
                severity = WARN
                note = f"sample of {sample or 0} < {check.min_sample}: too small to judge, warns only"
                details = f"{note}; {details}" if details else note
            results.append(CheckResult(check.name, check.table, passed, observed, check.threshold, details,
                                       severity, sample))
    return results


def record(cfg: MySqlConfig, run: RunInfo, results: list[CheckResult]) -> None:
    """Replace these checks' rows of ``run`` in ``data_quality_results`` (other checks' rows stay: the load
    records its gate, ``check_quality`` its warnings)."""
    if not results:
        return
    now = wall_clock()
    with connection(cfg) as conn:
        try:
            with conn.cursor() as cur:
                cur.executemany(
                    "DELETE FROM data_quality_results WHERE dag_id = %s AND run_id = %s AND check_name = %s "
                    "AND table_name = %s", [(run.dag_id, run.run_id, r.check_name, r.table_name) for r in results])
                cur.executemany(
                    "INSERT INTO data_quality_results (dag_id, run_id, partition_key, check_name, table_name, "
                    "passed, observed_value, threshold, details, severity, sample, checked_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(run.dag_id, run.run_id, run.partition.key, r.check_name, r.table_name, r.passed,
                      r.observed_value, r.threshold, r.details, r.severity, r.sample, now) for r in results])
            conn.commit()
        except Exception:
            conn.rollback()
            raise


def recorded(cfg: MySqlConfig, run: RunInfo, checks: list[Check]) -> list[CheckResult]:
    """The stored results of ``checks`` for ``run`` (those never evaluated are missing)."""
    wanted = {(c.name, c.table) for c in checks}
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT check_name, table_name, passed, observed_value, threshold, details, severity, sample "
                    "FROM data_quality_results WHERE dag_id = %s AND run_id = %s ORDER BY result_id",
                    (run.dag_id, run.run_id))
        rows = cur.fetchall()
    return [CheckResult(name, table, bool(passed), observed, threshold, details, severity, sample)
            for name, table, passed, observed, threshold, details, severity, sample in rows
            if (name, table) in wanted]


def run_checks(cfg: MySqlConfig, run: RunInfo, checks: list[Check]) -> list[CheckResult]:
    """Evaluate ``checks`` for ``run`` on the published data and record them."""
    with connection(cfg, autocommit=True) as conn:
        results = evaluate(conn, run, checks)
    record(cfg, run, results)
    return results


def log_results(results: list[CheckResult], what: str) -> None:
    for r in results:
        status = "PASS" if r.passed else ("FAIL" if r.severity == ERROR else "WARN")
        log.log(logging.INFO if r.passed else logging.WARNING, "quality %s %-34s %-18s %s observed=%s threshold=%s%s %s",
                what, r.check_name, r.table_name, status, r.observed_value, r.threshold,
                "" if r.sample is None else f" sample={r.sample}", r.details or "")
