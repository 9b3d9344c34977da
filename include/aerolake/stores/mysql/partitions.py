"""Monthly partitions of the time-partitioned tables (``Table.partition_column``: today ``flight_positions`` by
``observed_at``), and retention by whole partitions.

A partitioned table's layout (migration 0010 makes it) is ``p_start | pYYYYMM ... | pmax``:

- ``pYYYYMM`` holds the month: ``VALUES LESS THAN`` the first instant of the next month. Its range starts where
  the partition before it ends, so a month without a partition of its own (one that held no rows when the table
  was partitioned, or one retention dropped) is held by the next month's partition;
- ``p_start`` (below the first month) and ``pmax`` (``MAXVALUE``) hold nothing in normal operation: a month
  before or after the monthly partitions is split out of them (``REORGANIZE PARTITION``), which moves no row and
  is instant. A month *inside* the monthly span that lacks its own partition is not split out of the partition
  that holds it: that would copy a month of rows. Its rows live there, and go when that partition goes.

Partition DDL commits implicitly and waits for every transaction that touched the table: it never runs inside a
load's transaction. ``load_to_mysql`` calls :func:`ensure_load_window` before it opens its transaction, and the
maintenance DAG makes the coming months (:func:`ensure_months_ahead`) and applies retention
(:func:`apply_retention`). All of them take a server lock per table, so two of them never plan from the same
stale layout, and wait at most :data:`LOCK_WAIT_SECONDS` for the table: a DDL queued behind a long transaction
holds up every reader of the table meanwhile, so it gives up (and its task retries) rather than stall them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aerolake.core.connections import MySqlConfig
from aerolake.core.errors import PermanentError
from aerolake.schema import DATA_TABLES, Table
from aerolake.sql import quote_identifier
from aerolake.stores.mysql.db import connection

log = logging.getLogger(__name__)

START, MAX = "p_start", "pmax"
_MONTH = re.compile(r"^p(\d{4})(\d{2})$")
#: how many months after the current one the maintenance DAG keeps ready (a load then never has to make one)
MONTHS_AHEAD = 2
#: the longest a partition DDL waits for the table's metadata lock (and for the per-table server lock)
LOCK_WAIT_SECONDS = 60
_ER_UNKNOWN_SYSTEM_VARIABLE = 1193


class PartitionLayoutError(PermanentError):
    """The table is not partitioned as this module expects (a migration not applied, or a manual change)."""


@dataclass(frozen=True)
class Partition:
    """One partition: it holds ``lower <= value < upper`` (``None``: unbounded), about ``rows`` rows (the
    server's estimate)."""

    name: str
    lower: datetime | None
    upper: datetime | None
    rows: int

    @property
    def month(self) -> date | None:
        """The month a ``pYYYYMM`` partition is named for (``None`` for ``p_start`` and ``pmax``)."""
        found = _MONTH.match(self.name)
        return date(int(found[1]), int(found[2]), 1) if found else None

    def holds(self, moment: datetime) -> bool:
        return (self.lower is None or self.lower <= moment) and (self.upper is None or moment < self.upper)


def partitioned_tables(names: Iterable[str] | None = None) -> list[Table]:
    """The tables with a ``partition_column`` (of ``names``, when given)."""
    wanted = set(names) if names is not None else None
    return [t for t in DATA_TABLES if t.partition_column and (wanted is None or t.name in wanted)]


def month_of(moment: date | datetime) -> date:
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """Every month from the one of ``first`` to the one of ``last``, both included."""
    out, month, end = [], month_of(first), month_of(last)
    while month <= end:
        out.append(month)
        month = next_month(month)
    return out


def partition_name(month: date) -> str:
    return f"p{month:%Y%m}"


def _bound(month: date) -> str:
    return f"'{month:%Y-%m-%d} 00:00:00'"


def _month_partition(month: date) -> str:
    return f"PARTITION {partition_name(month)} VALUES LESS THAN ({_bound(next_month(month))})"


def _parse_bound(description: str | None) -> datetime | None:
    if description is None or description.strip().upper() == "MAXVALUE":
        return None
    return datetime.fromisoformat(description.strip().strip("'"))


def _fresh_statistics(cur: Any) -> None:
    """MySQL 8 caches information_schema's row estimates for a day by default; ask for current ones (MariaDB has
    no such cache, nor the variable)."""
    import pymysql

    try:
        cur.execute("SET SESSION information_schema_stats_expiry = 0")
    except pymysql.err.MySQLError as exc:
        if exc.args[0] != _ER_UNKNOWN_SYSTEM_VARIABLE:
            raise


def _analyze(cur: Any, table: str, names: Iterable[str]) -> None:
    """Refresh the row estimates of partitions ``names`` (a few sampled pages each: milliseconds). After a bulk
    change (the migration's copy, a big load) InnoDB's estimates lag behind until it recalculates them."""
    names = list(names)
    if names:
        cur.execute(f"ALTER TABLE {quote_identifier(table)} ANALYZE PARTITION "
                    + ", ".join(quote_identifier(n) for n in names))
        cur.fetchall()


def list_partitions(cur: Any, database: str, table: str) -> list[Partition]:
    """The partitions of ``table``, in order, with their ranges and estimated rows."""
    cur.execute("SELECT PARTITION_NAME, PARTITION_DESCRIPTION, TABLE_ROWS FROM information_schema.PARTITIONS "
                "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY PARTITION_ORDINAL_POSITION", (database, table))
    rows = cur.fetchall()
    if not rows or rows[0][0] is None:
        raise PartitionLayoutError(
            f"{database}.{table} is not partitioned: apply the migrations (`aerolake migrate`, or any load_to_mysql)")
    out: list[Partition] = []
    for name, description, estimate in rows:
        upper = _parse_bound(description)
        out.append(Partition(name, out[-1].upper if out else None, upper, int(estimate or 0)))
    if out[0].name != START or out[-1].name != MAX or out[-1].upper is not None:
        raise PartitionLayoutError(f"{database}.{table}: expected partitions {START}, pYYYYMM..., {MAX}; found "
                                   f"{[p.name for p in out]}")
    for p in out[1:-1]:
        if p.month is None or p.upper != datetime.combine(next_month(p.month), datetime.min.time()):
            raise PartitionLayoutError(f"{database}.{table}: partition {p.name} does not end where its month does "
                                       f"({p.upper})")
    return out


@dataclass(frozen=True)
class _Split:
    """One ``REORGANIZE PARTITION``: ``source`` partitions (empty in normal operation) into ``into``, making the
    partitions ``made``."""

    source: tuple[str, ...]
    into: tuple[str, ...]
    made: tuple[str, ...]

    def statement(self, table: Table) -> str:
        return (f"ALTER TABLE {quote_identifier(table.name)} REORGANIZE PARTITION {', '.join(self.source)} "
                f"INTO ({', '.join(self.into)})")


def _split(table: Table, parts: list[Partition], months: list[date]) -> list[_Split]:
    """What gives each of ``months`` (sorted, contiguous) a partition of its own when it lies in ``p_start`` or
    ``pmax``. Months between the monthly partitions and the new ones are made too, so that the monthly
    partitions stay contiguous."""
    start, top, monthly = parts[0], parts[-1], parts[1:-1]
    maxvalue = f"PARTITION {MAX} VALUES LESS THAN (MAXVALUE)"
    low = [m for m in months if start.holds(_instant(m))]
    high = [m for m in months if top.holds(_instant(m))]
    if not monthly:
        if not months:
            return []
        span = months_between(months[0], months[-1])
        return [_Split((START, MAX), (f"PARTITION {START} VALUES LESS THAN ({_bound(span[0])})",
                                      *map(_month_partition, span), maxvalue), tuple(map(partition_name, span)))]
    splits = []
    if high:
        span = months_between(month_of(top.lower), high[-1])
        splits.append(_Split((MAX,), (*map(_month_partition, span), maxvalue), tuple(map(partition_name, span))))
    if low:
        first_kept = month_of(start.upper)
        if start.upper != _instant(first_kept):
            raise PartitionLayoutError(f"{table.name}: {START} ends at {start.upper}, not at a month's start")
        span = months_between(low[0], first_kept)[:-1]
        splits.append(_Split((START,), (f"PARTITION {START} VALUES LESS THAN ({_bound(span[0])})",
                                        *map(_month_partition, span)), tuple(map(partition_name, span))))
    return splits


def _instant(month: date) -> datetime:
    return datetime.combine(month, datetime.min.time())


class _TableLock:
    """A server lock per partitioned table (``GET_LOCK``), and the session's wait for metadata locks."""

    def __init__(self, cur: Any, database: str, table: str):
        self.cur, self.name = cur, f"aerolake_partitions.{database}.{table}"[:64]

    def __enter__(self) -> None:
        self.cur.execute("SELECT GET_LOCK(%s, %s)", (self.name, LOCK_WAIT_SECONDS))
        if self.cur.fetchone()[0] != 1:
            raise TimeoutError(f"another task has been changing the partitions ({self.name}) for "
                               f"{LOCK_WAIT_SECONDS} s; a retry will find it done")
        self.cur.execute("SET SESSION lock_wait_timeout = %s", (LOCK_WAIT_SECONDS,))

    def __exit__(self, *exc: object) -> None:
        self.cur.execute("SELECT RELEASE_LOCK(%s)", (self.name,))


def ensure_months(cfg: MySqlConfig, table: Table, first: date | datetime, last: date | datetime) -> list[str]:
    """Give every month from ``first``'s to ``last``'s a partition of ``table`` where it has none (it lies in
    ``p_start`` or ``pmax``); returns the partitions made (none when all are there: no lock, no DDL).

    Never call it inside a transaction: partition DDL commits it."""
    months = months_between(first, last)
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        if not _split(table, list_partitions(cur, cfg.database, table.name), months):
            return []
        with _TableLock(cur, cfg.database, table.name):
            _fresh_statistics(cur)
            _analyze(cur, table.name, (START, MAX))
            parts = list_partitions(cur, cfg.database, table.name)  # again: another task may have made them
            made: list[str] = []
            for split in _split(table, parts, months):
                moved = sum(p.rows for p in parts if p.name in split.source)
                log.info("%s: making partitions %s out of %s (about %d rows to move)", table.name,
                         ", ".join(split.made), ", ".join(split.source), moved)
                cur.execute(split.statement(table))
                made += split.made
            return made


def ensure_load_window(cfg: MySqlConfig, tables: Iterable[str], dt: str) -> dict[str, list[str]]:
    """Before a load of the partition day ``dt``: every month the partitioned ``tables`` may receive rows in (the
    ``window`` of their partition column around ``dt``, the plausibility rule every row passed) has its
    partition; returns the partitions made per table."""
    day = date.fromisoformat(dt)
    made = {}
    for table in partitioned_tables(tables):
        window = table.column(table.partition_column).window
        if window is None:
            raise PartitionLayoutError(f"{table.name}.{table.partition_column} declares no window: which months a "
                                       "load may touch is unknown")
        first = day - timedelta(days=window.days_before)
        last = day + timedelta(days=window.days_after)  # the window ends before the next day starts
        made[table.name] = ensure_months(cfg, table, first, last)
    return made


def ensure_months_ahead(cfg: MySqlConfig, now: datetime, months_ahead: int = MONTHS_AHEAD) -> dict[str, list[str]]:
    """The current month and the next ``months_ahead`` have their partitions, in every partitioned table."""
    last = month_of(now)
    for _ in range(months_ahead):
        last = next_month(last)
    return {table.name: ensure_months(cfg, table, now, last) for table in partitioned_tables()}


def partitions_of(cfg: MySqlConfig, table: str) -> list[Partition]:
    """The partitions of ``table`` as they are now (estimated rows freshly taken)."""
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        _fresh_statistics(cur)
        return list_partitions(cur, cfg.database, table)


def expired(parts: list[Partition], cutoff: datetime, now: datetime) -> list[Partition]:
    """The monthly partitions whose whole range lies before ``cutoff``: a partition straddling it stays, and so do
    the current month's, every later one, ``p_start`` and ``pmax``."""
    current = _instant(month_of(now))
    return [p for p in parts if p.month is not None and p.upper is not None and p.upper <= min(cutoff, current)]


def apply_retention(cfg: MySqlConfig, table: Table, retention_days: int | None, now: datetime) -> list[Partition]:
    """Drop the partitions of ``table`` whose whole range is older than ``now - retention_days`` (one
    ``ALTER TABLE ... DROP PARTITION``: whole files, no row deleted one by one); returns them. ``None``: keep
    everything, drop nothing.

    The raw lake keeps every partition's pages: a dropped month comes back by a backfill of its days (after
    raising the retention, or the next run drops it again)."""
    if retention_days is None:
        log.info("%s: no retention set (AEROLAKE_POSITIONS_RETENTION_DAYS): every partition is kept", table.name)
        return []
    if retention_days < 1:
        raise ValueError(f"retention must be at least one day, got {retention_days}")
    cutoff = now - timedelta(days=retention_days)
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur, _TableLock(cur, cfg.database, table.name):
        _fresh_statistics(cur)
        drop = expired(list_partitions(cur, cfg.database, table.name), cutoff, now)
        if drop:  # the log's row estimates: fresh ones
            _analyze(cur, table.name, (p.name for p in drop))
            drop = expired(list_partitions(cur, cfg.database, table.name), cutoff, now)
        if not drop:
            log.info("%s: no partition lies wholly before %s (retention %d days): nothing dropped", table.name,
                     cutoff, retention_days)
            return []
        for p in drop:
            log.info("%s: dropping partition %s (month %s, about %d rows, observed before %s; retention %d days, "
                     "cutoff %s)", table.name, p.name, f"{p.month:%Y-%m}", p.rows, p.upper, retention_days, cutoff)
        cur.execute(f"ALTER TABLE {quote_identifier(table.name)} DROP PARTITION "
                    + ", ".join(quote_identifier(p.name) for p in drop))
        # the months they held leave the kept row counts (table_stats, aerolake.stores.mysql.stats)
        cur.executemany("DELETE FROM table_stats WHERE table_name = %s AND period >= %s AND period < %s",
                        [(table.name, f"{p.lower:%Y-%m}" if p.lower else "0000-00", f"{p.upper:%Y-%m}") for p in drop])
    log.info("%s: dropped %d partitions, about %d rows", table.name, len(drop), sum(p.rows for p in drop))
    return drop

