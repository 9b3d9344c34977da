"""MySQL: connections, versioned migrations, and the bulk partition load.

A partition is published in one transaction: every table's rows go to a session-private staging table
(``LOAD DATA LOCAL INFILE`` when the server allows it, multi-row ``INSERT`` otherwise), then one
``INSERT ... SELECT ... ON DUPLICATE KEY UPDATE`` per table moves them into place. Identifiers come from the
schema contract only; values are bound parameters or go through the load file, a scratch file without a
name (:mod:`aerolake.core.scratch`): a process killed mid-load leaves no file behind.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from aerolake.core.scratch import ScratchFile
from aerolake.schema import Table
from aerolake.sql import quote_identifier, sql_text
from aerolake.stores.mysql import stats
from aerolake.stores.mysql.merge import Authority, upsert_assignments

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pymysql

log = logging.getLogger(__name__)


def local_infile_enabled(conn: pymysql.Connection) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.local_infile")
        return bool(int(cur.fetchone()[0]))


def _load_file_table(frame: pd.DataFrame | pa.Table, table: Table) -> pa.Table:
    """The rows (a pandas frame or an Arrow table) as Arrow, typed for the load file: whole-second
    timestamps, booleans as 0/1."""
    import pyarrow as pa

    if isinstance(frame, pa.Table):
        arrow = frame.select(table.load_columns)
    else:
        arrow = pa.Table.from_pandas(frame[table.load_columns], preserve_index=False)
    for i, name in enumerate(table.load_columns):
        kind = table.column(name).kind
        if kind == "datetime":
            arrow = arrow.set_column(i, name, arrow.column(i).cast(pa.timestamp("s"), safe=False))
        elif kind == "date":
            arrow = arrow.set_column(i, name, arrow.column(i).cast(pa.date32(), safe=False))
        elif kind == "bool":
            arrow = arrow.set_column(i, name, arrow.column(i).cast(pa.int8()))
    return arrow


def _write_load_file(frames: Iterable[pd.DataFrame], table: Table, scratch: ScratchFile) -> int:
    """Write the rows as the file ``load_data_into_staging.sql`` reads (Arrow's CSV writer, in C++):
    every non-NULL value enclosed in quotes, NULL as an empty unenclosed field."""
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="all_valid")
    rows = 0
    for frame in frames:
        if not len(frame):
            continue
        pacsv.write_csv(_load_file_table(frame, table), scratch.handle, options)
        rows += len(frame)
    scratch.flush()
    return rows


def _insert_rows(cur: Any, staging: str, table: Table, frames: Iterable[pd.DataFrame | pa.Table],
                 batch: int = 5000) -> int:
    columns = table.load_columns
    statement = (
        f"INSERT INTO {staging} ({', '.join(quote_identifier(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    import pyarrow as pa

    rows = 0
    for rows_in in frames:
        frame = rows_in.to_pandas() if isinstance(rows_in, pa.Table) else rows_in
        records = frame[columns].astype(object).where(frame[columns].notna(), None)
        values = [tuple(v.to_pydatetime() if hasattr(v, "to_pydatetime") else v for v in row)
                  for row in records.itertuples(index=False, name=None)]
        for start in range(0, len(values), batch):
            cur.executemany(statement, values[start:start + batch])
        rows += len(values)
    return rows


class _KeyWatch:
    """Collects the key columns of the frames passing through, to find keys that occur twice (in Arrow:
    a group-by over the keys alone, instead of a GROUP BY over the staging table in the server)."""

    def __init__(self, table: Table):
        self.table = table
        self.parts: list[pa.Table] = []

    def watch(self, frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pyarrow as pa

        key = list(self.table.key)
        for frame in frames:
            if len(frame):
                self.parts.append(frame.select(key) if isinstance(frame, pa.Table)
                                  else pa.Table.from_pandas(frame[key], preserve_index=False))
            yield frame

    def duplicated(self) -> int:
        """How many keys occur more than once."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not self.parts:
            return 0
        keys = pa.concat_tables(self.parts, promote_options="permissive")
        counts = keys.group_by(list(self.table.key)).aggregate([([], "count_all")])
        return int(pc.sum(pc.greater(counts["count_all"], 1).cast("int64")).as_py() or 0)


def stage_frames(conn: pymysql.Connection, table: Table, frames: Iterable[pd.DataFrame | pa.Table],
                 use_load_data: bool | None = None) -> tuple[str, int]:
    """Load ``frames`` (pandas frames or Arrow tables) into a fresh temporary staging table; returns its name
    and the rows staged.

    Every row must arrive: a row count or a warning that says otherwise is an error, never a silent drop;
    a key that occurs twice in one load is an error too, never a silent merge.
    """
    staging = quote_identifier(f"stg_{table.name}")
    target = quote_identifier(table.name)
    if use_load_data is None:
        use_load_data = local_infile_enabled(conn)
    keys = _KeyWatch(table)
    frames = keys.watch(frames)
    with conn.cursor() as cur:
        cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {staging}")
        cur.execute(sql_text("queries/create_staging_table.sql").format(
            staging=staging, table=target, columns=", ".join(quote_identifier(c) for c in table.load_columns)))
        if use_load_data:
            # PyMySQL opens the file name the server echoes back, in this process: /proc/self/fd/N works
            with ScratchFile(f"aerolake-{table.name}-", ".tsv") as scratch:
                expected = _write_load_file(frames, table, scratch)
                if expected:
                    columns = table.load_columns
                    statement = sql_text("queries/load_data_into_staging.sql").format(
                        staging=staging, variables=", ".join(f"@v{i}" for i in range(len(columns))),
                        assignments=", ".join(f"{quote_identifier(c)} = NULLIF(@v{i}, '')"
                                              for i, c in enumerate(columns)))
                    cur.execute(statement, (scratch.path,))
                    loaded = cur.rowcount
                    cur.execute("SHOW COUNT(*) WARNINGS")
                    warnings = cur.fetchone()[0]
                    if loaded != expected or warnings:
                        cur.execute("SHOW WARNINGS LIMIT 5")
                        raise RuntimeError(
                            f"staging {table.name}: {loaded} of {expected} rows loaded with {warnings} warnings: "
                            f"{cur.fetchall()}"
                        )
        else:
            expected = _insert_rows(cur, staging, table, frames)
        if expected:
            duplicated = keys.duplicated()
            if duplicated:
                raise RuntimeError(f"staging {table.name}: {duplicated} key(s) occur more than once in one load; "
                                   "the cleaned partition should hold each key once")
    return staging, expected


def publish_staging(conn: pymysql.Connection, table: Table, staging: str, *, insert_missing_only: bool = False,
                    authorities: Mapping[str, Authority] | None = None) -> int:
    """Move staged rows into ``table``: upsert by its unique key, or only fill keys that are absent. The
    ``flights`` upsert ranks the sources by ``authorities`` (:mod:`aerolake.stores.mysql.merge`).

    Rows identical to the stored ones are dropped from the staging table first: they cannot change anything,
    and a replayed partition (all rows identical) then costs one join instead of one upsert per row.
    """
    columns = ", ".join(quote_identifier(c) for c in table.load_columns)
    target = quote_identifier(table.name)
    key_match = " AND ".join(f"t.{quote_identifier(k)} = s.{quote_identifier(k)}" for k in table.key)
    with conn.cursor() as cur:
        if not insert_missing_only:
            cur.execute(sql_text("queries/drop_unchanged_from_staging.sql").format(
                staging=staging, table=target, key_match=key_match,
                same=" AND ".join(f"t.{quote_identifier(c)} <=> s.{quote_identifier(c)}"
                                  for c in table.load_columns if c not in table.key)))
        added = _added_by_period_and_source(cur, table, staging, key_match, insert_missing_only)
        by_difference: list[Any] = []
        again: list[Any] = []
        if table.name == "flights":  # the positions to link again; the dashboard's aggregates of the dates changed
            _remember_changed_flights(cur, staging)
            by_difference, again = stats.flight_days_of_publish(cur, staging)
            stats.count_staged_flights(cur, staging, key_match, by_difference, replaced=True)
        if insert_missing_only:
            statement = sql_text("queries/insert_missing_from_staging.sql").format(
                table=target, staging=staging, columns=columns, key_match=key_match,
                select_columns=", ".join(f"s.{quote_identifier(c)}" for c in table.load_columns))
        else:
            derived = table.derived_on_insert
            statement = sql_text("queries/upsert_from_staging.sql").format(
                table=target, staging=staging, updates=upsert_assignments(table, authorities),
                columns=", ".join([columns, *(quote_identifier(c) for c, _source in derived)]),
                select_columns=", ".join([columns, *(quote_identifier(source) for _c, source in derived)]))
        cur.execute(statement)
        affected = cur.rowcount
        stats.count_staged_flights(cur, staging, key_match, by_difference, replaced=False)
        cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {staging}")
        stats.refresh_flight_days(cur, again)
        if added:
            cur.executemany(sql_text("queries/add_to_table_stats.sql"),
                            [(table.name, period, source, rows, newest) for period, source, rows, newest in added])
    return affected


def _added_by_period_and_source(cur: Any, table: Table, staging: str, key_match: str, fill_only: bool
                                ) -> list[tuple[Any, ...]]:
    """The rows of ``staging`` that ``table`` lacks (the ones the publish adds), by month of the table's
    period column and source, with the newest ``updated_at`` the publish writes: what ``table_stats`` gains.
    Read before the publish, in its transaction."""
    period = (f"DATE_FORMAT(s.{quote_identifier(table.period_column)}, '%Y-%m')" if table.period_column else "'-'")
    target = quote_identifier(table.name)
    written = f"NOT EXISTS (SELECT 1 FROM {target} t WHERE {key_match})" if fill_only else "TRUE"
    cur.execute(sql_text("queries/select_added_from_staging.sql").format(
        period=period, staging=staging, table=target, key_match=key_match, written=written))
    return [row for row in cur.fetchall() if row[2] or row[3] is not None]


#: the session's temporary table of the identities and scheduled departures of the flights its publishes of
#: ``flights`` added or changed (``link_near_changed_flights.sql``)
CHANGED_FLIGHTS = "changed_flights"


def _remember_changed_flights(cur: Any, staging: str) -> None:
    """Add the flights left in ``staging`` (the ones this publish adds or changes) to :data:`CHANGED_FLIGHTS`."""
    cur.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {CHANGED_FLIGHTS} "
                "(KEY ix_changed_flights (airline_code, flight_number, scheduled_departure)) "
                "SELECT airline_code, flight_number, scheduled_departure FROM flights WHERE 1 = 0")
    cur.execute(f"INSERT INTO {CHANGED_FLIGHTS} (airline_code, flight_number, scheduled_departure) "
                f"SELECT airline_code, flight_number, scheduled_departure FROM {staging} "
                "WHERE airline_code IS NOT NULL AND flight_number IS NOT NULL AND scheduled_departure IS NOT NULL")


def changed_flights_span(conn: Any) -> tuple[Any, Any]:
    """The earliest and latest scheduled departure in :data:`CHANGED_FLIGHTS` ((None, None) when it is empty); call
    it after a publish of ``flights`` on this connection (which makes the table)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT MIN(scheduled_departure), MAX(scheduled_departure) FROM {CHANGED_FLIGHTS}")
        first, last = cur.fetchone()
    return first, last


def forget_changed_flights(conn: Any) -> None:
    """Drop the session's :data:`CHANGED_FLIGHTS` (after a load's link: the next load on the connection starts anew)."""
    with conn.cursor() as cur:
        cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {CHANGED_FLIGHTS}")


#: the session's temporary table of the positions the link after a load of flights updates: those a flight in
#: :data:`CHANGED_FLIGHTS` may match (``link_near_changed_flights.sql``)
LINK_CANDIDATES = "link_candidates"

#: the session's temporary table of the link's matches: each position's key and the flight it is linked to
#: (``link_positions_to_flights.sql``, then ``link_matched_positions.sql``)
LINK_MATCHES = "link_matches"


def link_statements(near_changed_flights: bool = False) -> list[str]:
    """The link, in order: ``link_positions_to_flights.sql`` (each matched position's flight, into
    :data:`LINK_MATCHES`) of the unlinked positions of its window, or (``near_changed_flights``) of those in
    :data:`LINK_CANDIDATES`; then ``link_matched_positions.sql``, which writes them."""
    positions = (f"{LINK_CANDIDATES} k STRAIGHT_JOIN flight_positions p "
                 "ON p.observed_at = k.observed_at AND p.icao24 = k.icao24" if near_changed_flights
                 else "flight_positions p FORCE INDEX (ix_positions_flight)")
    return [sql_text("queries/link_positions_to_flights.sql").format(matches=LINK_MATCHES, positions=positions),
            sql_text("queries/link_matched_positions.sql").format(matches=LINK_MATCHES)]


def link_candidates_statement() -> str:
    """``link_near_changed_flights.sql``: the keys of the positions a flight in :data:`CHANGED_FLIGHTS` may match,
    into :data:`LINK_CANDIDATES`."""
    return sql_text("queries/link_near_changed_flights.sql").format(candidates=LINK_CANDIDATES,
                                                                     changed=CHANGED_FLIGHTS)


def make_link_tables(cur: Any) -> None:
    """(Re)make the session's empty :data:`LINK_CANDIDATES` and :data:`LINK_MATCHES`."""
    cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {LINK_CANDIDATES}, {LINK_MATCHES}")
    cur.execute(f"CREATE TEMPORARY TABLE {LINK_CANDIDATES} (PRIMARY KEY (observed_at, icao24)) "
                "SELECT observed_at, icao24 FROM flight_positions WHERE 1 = 0")
    cur.execute(f"CREATE TEMPORARY TABLE {LINK_MATCHES} (PRIMARY KEY (observed_at, icao24)) "
                "SELECT observed_at, icao24, flight_id FROM flight_positions WHERE 1 = 0")


def link_positions_to_flights(conn: Any, since: Any, until: Any, *, near_changed_flights: bool = False) -> int:
    """Set ``flight_positions.flight_id`` where the reported flight is now known, for the unlinked positions
    observed in ``[since, until)`` (see the SQL's comment and ``pipeline.stages.link_windows``): all of them, or
    only those a flight this session's publishes added or changed may match (``near_changed_flights``: found in
    the index first, then only they are looked up). Returns the positions linked."""
    window = {"since": since, "until": until}
    linked = 0
    with conn.cursor() as cur:
        make_link_tables(cur)
        candidates = True
        if near_changed_flights:
            cur.execute(link_candidates_statement(), window)
            candidates = cur.rowcount > 0
        if candidates:
            find, write = link_statements(near_changed_flights)
            cur.execute(find, window)
            if cur.rowcount:
                cur.execute(write)
                linked = cur.rowcount
        cur.execute(f"DROP TEMPORARY TABLE {LINK_CANDIDATES}, {LINK_MATCHES}")
    return linked


def day_window(dt: str) -> tuple[Any, Any]:
    """The moments around day ``dt`` whose positions a day of flights may link: a day before to two after."""
    from datetime import date, datetime, timedelta

    day = datetime.combine(date.fromisoformat(dt), datetime.min.time())
    return day - timedelta(days=1), day + timedelta(days=2)
