"""``table_stats``: each data table's rows and newest ``updated_at``, kept by the loads instead of counted per
request (migration 0011).

Every publish (:func:`aerolake.stores.mysql.load.publish_staging`) adds, in its own transaction, the rows it
inserts by month of the table's period column (:attr:`aerolake.schema.Table.period_column`) and source, and the
newest ``updated_at`` it writes; retention subtracts the months it drops. The counts are exact as of the last
commit for rows the pipeline wrote; rows written around it (a manual ``INSERT`` or ``DELETE``) make them drift
until :func:`recount` (``aerolake recount``) counts the tables again, once, with full scans.

``flight_day_stats`` (migration 0014): the dashboard's aggregates per departure date, refreshed by every publish
of ``flights`` for the dates it changed (:func:`refresh_flight_days`) and rebuilt by :func:`recount`.
"""

from __future__ import annotations

import logging
from typing import Any

from aerolake.core.connections import MySqlConfig
from aerolake.schema import DATA_TABLES
from aerolake.sql import quote_identifier, sql_text
from aerolake.stores.mysql.db import connection

log = logging.getLogger(__name__)


def refresh_flight_days(cur: Any, dates: list[Any]) -> None:
    """Aggregate ``dates``' flights into ``flight_day_stats`` again, on ``cur``'s connection and transaction."""
    if dates:
        cur.execute("DELETE FROM flight_day_stats WHERE departure_date IN %(dates)s", {"dates": dates})
        cur.execute(sql_text("queries/insert_flight_day_stats.sql"), {"dates": dates})


def recount(cfg: MySqlConfig) -> dict[str, int]:
    """Count every data table again into ``table_stats`` and aggregate ``flight_day_stats`` again (full scans: an
    operator's repair, never per run); returns the rows per table."""
    totals: dict[str, int] = {}
    with connection(cfg) as conn:
        try:
            with conn.cursor() as cur:
                # the copies read the tables without locking each row they read: under REPEATABLE READ an INSERT
                # ... SELECT share-locks every source row, and 130 million positions exceed InnoDB's lock table
                # (error 1206 with a 128 MiB buffer pool)
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                cur.execute("DELETE FROM table_stats")
                for table in DATA_TABLES:
                    period = (f"DATE_FORMAT({quote_identifier(table.period_column)}, '%Y-%m')"
                              if table.period_column else "'-'")
                    cur.execute(f"INSERT INTO table_stats (table_name, period, source, row_count, newest) "
                                f"SELECT '{table.name}', {period}, source, COUNT(*), MAX(updated_at) "
                                f"FROM {quote_identifier(table.name)} GROUP BY {period}, source")
                cur.execute("SELECT table_name, SUM(row_count) FROM table_stats GROUP BY table_name")
                totals = {name: int(rows) for name, rows in cur.fetchall()}
                cur.execute("DELETE FROM flight_day_stats")
                cur.execute("SELECT DISTINCT departure_date FROM flights")
                days = [day for (day,) in cur.fetchall()]
                for start in range(0, len(days), 31):
                    refresh_flight_days(cur, days[start:start + 31])
            conn.commit()
        except Exception:
            conn.rollback()
            raise
    log.info("table_stats recounted: %s", totals)
    return totals
