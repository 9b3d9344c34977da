"""Read-only MySQL queries of the web API (SQL in ``api/sql/``, values always bound parameters).

One short connection per call (``aerolake.stores.mysql.db.connection``, UTC, strict mode): the API's queries are few and
small, and the nearest-airport endpoint does not touch MySQL per request at all. A call that reads several times
(:func:`flights`, :func:`latest_positions`, :func:`window_stats`) reads on one connection, in one transaction: a
connect costs about ten times a small query's round trip (1 ms against 0.1 ms here), and the reads see one snapshot
(a page's total and its rows, the stats and their freshness, agree).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from aerolake.core.connections import MySqlConfig
from aerolake.schema import DATA_TABLES, FLIGHTS
from aerolake.sql import quote_identifier
from aerolake.stores.mysql.db import connection

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent / "sql"

#: Tables /status reports, with the column that says how fresh each is.
STATUS_TABLES: tuple[tuple[str, str], ...] = (
    *((t.name, "updated_at") for t in DATA_TABLES),
    ("pipeline_runs", "finished_at"),
    ("data_quality_results", "checked_at"),
)
#: Tables whose rows carry the source they came from (freshness per source on the dashboard).
SOURCE_TABLES: tuple[str, ...] = ("flights", "flight_positions", "airports", "airlines")

#: what ``/flights`` answers: no surrogate ``flight_id`` (MySQL-internal, renumbered by a rolled-back load);
#: the natural key (airline_code, flight_number, departure_date, dep_airport) identifies a flight
FLIGHT_COLUMNS = (
    "airline_code", "flight_number", "departure_date", "dep_airport", "arr_airport",
    "operating_airline_code", "operating_flight_number", "scheduled_departure", "estimated_departure",
    "actual_departure", "scheduled_arrival", "estimated_arrival", "actual_arrival", "dep_terminal", "dep_gate",
    "arr_terminal", "arr_gate", "status", "dep_delay_min", "arr_delay_min", "aircraft_code", "registration",
    "source", "updated_at",
)


@cache
def sql(name: str) -> str:
    """The text of ``api/sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text()


Rows = Callable[..., list[dict[str, Any]]]


@contextmanager
def _reads(cfg: MySqlConfig) -> Iterator[Rows]:
    """``rows(statement, params)`` on one connection, in one read-only transaction (a consistent snapshot, InnoDB's
    default REPEATABLE READ), rolled back when the connection closes."""
    import pymysql.cursors

    with connection(cfg) as conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("START TRANSACTION READ ONLY")

        def rows(statement: str, params: Any = None) -> list[dict[str, Any]]:
            cur.execute(statement, params)
            return list(cur.fetchall())

        yield rows


def _rows(cfg: MySqlConfig, statement: str, params: Any = None) -> list[dict[str, Any]]:
    import pymysql.cursors

    with connection(cfg, autocommit=True) as conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(statement, params)
        return list(cur.fetchall())


def ping(cfg: MySqlConfig) -> None:
    """Raise unless MySQL answers ``SELECT 1`` on the configured database."""
    _rows(cfg, "SELECT 1 AS ok")


def airports_for_index(cfg: MySqlConfig) -> list[dict[str, Any]]:
    return _rows(cfg, sql("select_airports_for_index"))


def airports_signature(cfg: MySqlConfig) -> tuple[Any, ...]:
    row = _rows(cfg, sql("select_airports_signature"))[0]
    return (int(row["row_count"]), row["newest"], int(row["checksum"]))


def airport(cfg: MySqlConfig, code: str) -> dict[str, Any] | None:
    rows = _rows(cfg, sql("select_airport"), (code,))
    return rows[0] if rows else None


def search_airports(cfg: MySqlConfig, query: str, limit: int) -> list[dict[str, Any]]:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _rows(cfg, sql("search_airports"), {"code": query.upper(), "contains": f"%{escaped}%",
                                                "prefix": f"{escaped}%", "limit": limit})


def airports_for_map(cfg: MySqlConfig, location_type: str | None, limit: int) -> list[dict[str, Any]]:
    return _rows(cfg, sql("select_airports_for_map"), {"location_type": location_type, "limit": limit})


def flights(cfg: MySqlConfig, *, airport: str | None, airline: str | None, day: date | None,
            status: str | None, page: int, page_size: int) -> tuple[date | None, int, list[dict[str, Any]]]:
    """(the day, total matching, one page of the day's flights ordered by scheduled departure, then natural key:
    the same pages however MySQL numbered the rows). ``day`` None: the newest departure date (None, 0 and no rows
    when there are no flights). Filters are ANDed; ``airport`` matches departures and arrivals."""
    with _reads(cfg) as rows:
        day = day or _newest_departure_date(rows)
        if day is None:
            return None, 0, []
        count, select, params = flights_statements(airport=airport, airline=airline, day=day, status=status)
        total = rows(count, params)[0]["n"]
        items = rows(select, [*params, page_size, (page - 1) * page_size])
    return day, int(total), items


def flights_statements(*, airport: str | None, airline: str | None, day: date, status: str | None
                       ) -> tuple[str, str, list[Any]]:
    """The count and the page (``LIMIT %s OFFSET %s`` last) of :func:`flights`, and their common parameters.

    The day bounds the read: ``ix_flights_day_order`` holds the day's rows in page order with every filtered
    column (migration 0016), so the count reads the day's index entries and nothing else, and a page filters in
    the index and looks up only the matching rows up to its end. The index is named: with the airport indexes
    at hand, the optimizer may otherwise merge that airport's flights of every day, which grows with the history.
    """
    where, params = [], []
    if airport:
        where.append("(dep_airport = %s OR arr_airport = %s)")
        params += [airport, airport]
    if airline:
        where.append("(airline_code = %s OR operating_airline_code = %s)")
        params += [airline, airline]
    where.append("departure_date = %s")
    params.append(day)
    if status:
        where.append("status = %s")
        params.append(status)
    source = f"flights FORCE INDEX (ix_flights_day_order) WHERE {' AND '.join(where)}"
    columns = ", ".join(quote_identifier(c) for c in FLIGHT_COLUMNS)
    order = ", ".join(quote_identifier(c) for c in ("scheduled_departure", *FLIGHTS.key))
    return (f"SELECT COUNT(*) AS n FROM {source}",
            f"SELECT {columns} FROM {source} ORDER BY {order} LIMIT %s OFFSET %s", params)


def latest_positions(cfg: MySqlConfig, window_minutes: int, limit: int) -> tuple[datetime | None, list[dict]]:
    """(newest observation time, the latest position per aircraft within ``window_minutes`` before it)."""
    with _reads(cfg) as rows:
        newest = rows("SELECT MAX(observed_at) AS newest FROM flight_positions")[0]["newest"]
        if newest is None:
            return None, []
        since = newest - timedelta(minutes=window_minutes)
        return newest, rows(sql("select_latest_positions"), {"since": since, "limit": limit})


def table_status(cfg: MySqlConfig) -> list[dict[str, Any]]:
    """Per table: row count and newest freshness column, without reading the tables (their cost must not grow
    with the history kept): the data tables' from ``table_stats``, which every load keeps in its own
    transaction (exact as of the last commit, for rows the pipeline wrote); the operational tables' newest by
    index and their rows as InnoDB's estimate (``rows_exact`` false). A missing table is reported, not an
    error."""
    import pymysql

    data = {t.name for t in DATA_TABLES}
    out = []
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        try:
            cur.execute("SELECT table_name, SUM(row_count), MAX(newest) FROM table_stats GROUP BY table_name")
            kept = {name: (int(rows), newest) for name, rows, newest in cur.fetchall()}
        except pymysql.err.ProgrammingError as exc:  # 1146: not migrated
            if exc.args[0] != 1146:
                raise
            kept = None
        cur.execute("SELECT table_name, table_rows FROM information_schema.tables WHERE table_schema = DATABASE()")
        estimates = {name: int(rows or 0) for name, rows in cur.fetchall()}
        for table, column in STATUS_TABLES:
            if table not in estimates or kept is None:
                out.append({"table": table, "exists": False, "rows": 0, "newest": None, "rows_exact": False})
            elif table in data:
                rows, newest = kept.get(table, (0, None))
                out.append({"table": table, "exists": True, "rows": rows, "newest": newest, "rows_exact": True})
            else:
                cur.execute(f"SELECT MAX({quote_identifier(column)}) FROM {quote_identifier(table)}")  # by index
                out.append({"table": table, "exists": True, "rows": estimates[table], "newest": cur.fetchone()[0],
                            "rows_exact": False})
    return out


def latest_pipeline_runs(cfg: MySqlConfig) -> list[dict[str, Any]]:
    return _rows(cfg, sql("select_latest_pipeline_runs"))


def _source_freshness(rows: Rows) -> list[dict[str, Any]]:
    """Per table and source: the rows it added and the newest ``updated_at`` it loaded (``table_stats``: no scan
    of the tables). A row another source later merged into keeps counting for the source that added it."""
    return rows("SELECT table_name AS `table`, source, SUM(row_count) AS `rows`, MAX(newest) AS newest "
                "FROM table_stats WHERE table_name IN %(tables)s GROUP BY table_name, source "
                "ORDER BY table_name, source", {"tables": SOURCE_TABLES})


def _newest_departure_date(rows: Rows) -> date | None:
    return rows("SELECT MAX(departure_date) AS last FROM flights")[0]["last"]  # the end of an index


def window_stats(cfg: MySqlConfig, days: int, date_to: date | None, top: int) -> dict[str, Any]:
    """The dashboard's data: ``freshness`` per source, and the aggregates over the ``days`` up to ``date_to``
    (default: the newest departure date; a window starts no earlier than 1 AD): ``date_from``, ``date_to``
    (both None, and the aggregates empty, when there are no flights), ``per_day_and_status``,
    ``delays_by_airport`` and ``delays_by_airline`` (the ``top`` of each by flights), ``on_time``."""
    with _reads(cfg) as rows:
        out: dict[str, Any] = {"freshness": _source_freshness(rows), "date_from": None,
                               "date_to": date_to or _newest_departure_date(rows)}
        if out["date_to"] is None:
            return {**out, "per_day_and_status": [], "delays_by_airport": [], "delays_by_airline": [], "on_time": []}
        out["date_from"] = out["date_to"] - timedelta(days=min(days - 1, (out["date_to"] - date.min).days))
        params = {"date_from": out["date_from"], "date_to": out["date_to"], "limit": top}
        return {
            **out,
            "per_day_and_status": rows(sql("count_flights_per_day_and_status"), params),
            "delays_by_airport": rows(sql("summarize_delays_by_group"), {**params, "dimension": "dep_airport"}),
            "delays_by_airline": rows(sql("summarize_delays_by_group"), {**params, "dimension": "airline_code"}),
            "on_time": rows(sql("summarize_on_time_rate"), params),
        }
