"""``table_stats``: each data table's rows and newest ``updated_at``, kept by the loads instead of counted per
request (migration 0011).

Every publish (:func:`aerolake.stores.mysql.load.publish_staging`) adds, in its own transaction, the rows it
inserts by month of the table's period column (:attr:`aerolake.schema.Table.period_column`) and source, and the
newest ``updated_at`` it writes; retention subtracts the months it drops. The counts are exact as of the last
commit for rows the pipeline wrote; rows written around it (a manual ``INSERT`` or ``DELETE``) make them drift
until :func:`recount` (``aerolake recount``) counts the tables again, once, with full scans.

``flight_day_stats`` (migration 0014): the dashboard's aggregates per departure date, kept by every publish of
``flights`` for the dates it changes (:func:`flight_days_of_publish`): by difference where it changes a few of a
date's flights (:func:`count_staged_flights`: less the versions it replaces, plus those it writes), aggregated
again where it changes many (:func:`refresh_flight_days`); rebuilt by :func:`recount`.
"""

from __future__ import annotations

import logging
from typing import Any

from aerolake.core.connections import MySqlConfig
from aerolake.schema import DATA_TABLES
from aerolake.sql import quote_identifier, sql_text, sql_uncommented
from aerolake.stores.mysql.db import connection

log = logging.getLogger(__name__)


#: ``flight_day_stats``' dimensions: the code, the sums ({sign}: '' or '-'), which flights count, the grouping
_DIMENSIONS = {
    "status": ("status", "NULL", "NULL", "TRUE", "departure_date, status"),
    "dep_airport": ("dep_airport", "{sign}SUM(dep_delay_min)", "NULL", "dep_delay_min IS NOT NULL",
                    "departure_date, dep_airport"),
    "airline_code": ("airline_code", "{sign}SUM(dep_delay_min)", "NULL", "dep_delay_min IS NOT NULL",
                     "departure_date, airline_code"),
    "on_time": ("''", "NULL", "{sign}SUM(CASE WHEN COALESCE(arr_delay_min, dep_delay_min) < 15 THEN 1 ELSE 0 END)",
                "status <> 'cancelled' AND COALESCE(arr_delay_min, dep_delay_min) IS NOT NULL", "departure_date"),
}
_FLIGHT_DAY_ROWS = "flight_day_rows"


def add_to_flight_days_statements(rows: str, bound: str = "TRUE", sign: str = "") -> list[str]:
    """``add_to_flight_day_stats.sql`` once per dimension: add (``sign`` '') or take away (``-``) the flights of
    table ``rows`` that ``bound`` selects."""
    template = sql_uncommented("queries/add_to_flight_day_stats.sql")
    return [template.format(dimension=dimension, code=code, sign=sign, delay_sum=delay_sum.format(sign=sign),
                            on_time=on_time.format(sign=sign), rows=rows, condition=f"{bound} AND {counted}",
                            group_by=group_by)
            for dimension, (code, delay_sum, on_time, counted, group_by) in _DIMENSIONS.items()]


def refresh_flight_days(cur: Any, dates: list[Any]) -> None:
    """Aggregate ``dates``' flights into ``flight_day_stats`` again, on ``cur``'s connection and transaction."""
    if dates:
        cur.execute("DELETE FROM flight_day_stats WHERE departure_date IN %(dates)s", {"dates": dates})
        for statement in add_to_flight_days_statements("flights", "departure_date IN %(dates)s"):
            cur.execute(statement, {"dates": dates})


#: a date's statistics are kept by difference when it holds over this many times the flights a publish changes on
#: it, else aggregated again: the difference costs two key lookups per changed flight (about 9 µs), the aggregate
#: four passes over the date's index entries (about 2.4 µs a flight), measured at world scale (bench/README.md)
BY_DIFFERENCE_BELOW = 4


def flight_days_of_publish(cur: Any, staging: str) -> tuple[list[Any], list[Any]]:
    """The departure dates of the flights left in ``staging`` (those a publish adds or changes): (those whose
    statistics it keeps by difference, those it aggregates again after the upsert). A snapshot that changes a
    hundred flights of a day reads those hundred; a day's load of 84,000 new flights aggregates its day once."""
    cur.execute(f"SELECT departure_date, COUNT(*) FROM {staging} GROUP BY departure_date")
    staged = dict(cur.fetchall())
    if not staged:
        return [], []
    cur.execute("SELECT departure_date, SUM(flights) FROM flight_day_stats WHERE dimension = 'status' "
                "AND departure_date IN %(dates)s GROUP BY departure_date", {"dates": list(staged)})
    held = {day: int(flights) for day, flights in cur.fetchall()}
    by_difference = sorted(d for d, n in staged.items() if n * BY_DIFFERENCE_BELOW < held.get(d, 0))
    return by_difference, sorted(d for d in staged if d not in by_difference)


def count_staged_flights(cur: Any, staging: str, key_match: str, dates: list[Any], *, replaced: bool) -> None:
    """Keep ``dates``' statistics by difference, in the publish's transaction: before the upsert (``replaced``)
    take the stored versions of the flights staged on them away, after it add the versions now stored and drop
    the rows left empty (:func:`flight_days_of_publish` chooses the dates)."""
    if not dates:
        return
    cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {_FLIGHT_DAY_ROWS}")
    cur.execute(sql_text("queries/select_staged_flights_stored.sql").format(
        into=_FLIGHT_DAY_ROWS, staging=staging, key_match=key_match), {"dates": dates})
    for statement in add_to_flight_days_statements(_FLIGHT_DAY_ROWS, sign="-" if replaced else ""):
        cur.execute(statement)
    cur.execute(f"DROP TEMPORARY TABLE {_FLIGHT_DAY_ROWS}")
    if not replaced:
        cur.execute("DELETE FROM flight_day_stats WHERE dimension IN %(dimensions)s AND departure_date IN %(dates)s "
                    "AND flights = 0", {"dimensions": tuple(_DIMENSIONS), "dates": dates})


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
