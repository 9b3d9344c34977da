"""The relational contract: one declaration per MySQL table.

Each :class:`Table` is used three ways: to coerce a cleaned pandas frame to exactly its columns and types
(:func:`conform`), to build the bulk-load SQL (column lists come from here, never from data), and by a test
that checks the migrated DDL in MySQL against it. Unknown values are ``NULL``, never placeholders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FLIGHT_STATUSES = ("scheduled", "active", "landed", "cancelled", "diverted", "incident", "unknown")

# The code patterns of the model (the cleaners test raw values against the same ones).
AIRPORT_CODE = re.compile(r"^[A-Z]{3}$")
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
AIRLINE_CODE = re.compile(r"^[A-Z0-9]{2,3}$")
ICAO_AIRPORT = re.compile(r"^[A-Z0-9]{4}$")
ICAO_AIRLINE = re.compile(r"^[A-Z]{3}$")
AIRCRAFT_CODE = re.compile(r"^[A-Z0-9]{2,4}$")
FLIGHT_NUMBER = re.compile(r"^[0-9]{1,4}[A-Z]?$")
ICAO24 = re.compile(r"^[0-9a-f]{6}$")

#: The column a cleaned frame may carry beside its table's load columns: the ``_id`` of the staged document each
#: row was cleaned from, so that a row the plausibility rules refuse is quarantined as that document.
DOC_ID = "_doc_id"


@dataclass(frozen=True)
class Window:
    """A time column's plausible range around the partition's day ``dt``: from ``days_before`` days before
    it to ``days_after`` days after its end (``[dt - before, dt + 1 + after)``, UTC)."""

    days_before: int
    days_after: int


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # str | int | float | datetime | date | bool
    nullable: bool = True
    length: int | None = None  # max characters for str columns (a longer value is refused, never cut)
    # plausibility (aerolake.plausibility), each checked on non-NULL values, each violation named
    # ``<table>.<column>.<rule>`` in quarantine:
    pattern: re.Pattern[str] | None = None  # str: the whole value must match
    bounds: tuple[float, float] | None = None  # numbers: inclusive range
    window: Window | None = None  # datetime/date: the partition's window


@dataclass(frozen=True)
class Span:
    """A plausible duration between two time columns of a row: ``end - start`` within ``[min, max]`` minutes
    (checked when both are known); a violation is named ``<table>.<name>.span``."""

    name: str
    start: str
    end: str
    min_minutes: int
    max_minutes: int


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    #: columns the loader never writes (surrogate ids filled by MySQL, values derived in MySQL)
    generated: tuple[str, ...] = ()
    #: generated columns a new row copies from one of its load columns: (column, load column)
    derived_on_insert: tuple[tuple[str, str], ...] = ()
    #: plausible durations between its time columns
    spans: tuple[Span, ...] = ()
    #: the date column whose month its row counts are kept by (``table_stats.period``; None: one period, ``-``)
    period_column: str | None = None
    #: AUTO_INCREMENT ids (and columns that refer to them): internal to MySQL, never published. A load
    #: rolled back (a crash, a failed check) burns the values it took, so a crash and rerun numbers rows
    #: differently from a clean run; the natural ``key`` is the identity outside MySQL.
    surrogate_ids: tuple[str, ...] = ()
    #: a datetime column the table is partitioned by, one partition per month (``PARTITION BY RANGE COLUMNS``;
    #: :mod:`aerolake.stores.mysql.partitions`); its ``window`` bounds the months one partition's load can touch
    partition_column: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def load_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.name not in self.generated]

    @property
    def published_columns(self) -> list[str]:
        """The columns a consumer outside MySQL may see (all but :attr:`surrogate_ids`)."""
        return [c.name for c in self.columns if c.name not in self.surrogate_ids]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if not c.nullable and c.name not in self.generated]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


# -- plausibility: what a real record can hold (docs/architecture.md, "Plausibility"); wide enough for every
#    real flight, narrow enough that a year 9999, a latitude of 123.4 or an altitude in feet stands out
LATITUDE, LONGITUDE, HEADING = (-90.0, 90.0), (-180.0, 180.0), (0.0, 360.0)
#: metres: below the Dead Sea shore to above any airliner or business jet's ceiling
ALTITUDE_M = (-500.0, 20_000.0)
#: ground speed, km/h: an airliner in the jet stream reaches about 1,300
SPEED_KMH = (0.0, 2_000.0)
#: as each source reports it (m/s, or km/h for Aviation Stack): no airliner climbs or sinks faster than
#: about 50 m/s (180 km/h)
VERTICAL_SPEED = (-200.0, 200.0)
#: a departure up to half a day early, or up to three days late
DELAY_MINUTES = (-720.0, 4_320.0)
#: gate to gate: the longest scheduled flights take about 19 hours
BLOCK_MINUTES = 24 * 60
#: a partition of day dt holds flights departing (local date) within two days of it: the arrivals of a hub on
#: dt include long-hauls that left the day before, a snapshot's boards reach ten hours ahead
DEPARTURE_DAYS = Window(2, 2)
#: their times, in UTC, a day wider on each side (time zones, overnight flights, delays)
FLIGHT_TIMES = Window(3, 4)
#: a position reported in a partition of day dt was observed within two days of it
OBSERVATION_TIMES = Window(2, 2)
STATUS = re.compile("^(" + "|".join(FLIGHT_STATUSES) + ")$")


def _audit() -> tuple[Column, ...]:
    return (Column("source", "str", False, 20), Column("updated_at", "datetime", False))


COUNTRIES = Table(
    "countries",
    (Column("country_code", "str", False, 2, COUNTRY_CODE), Column("name", "str", True, 100), *_audit()),
    key=("country_code",),
)
CITIES = Table(
    "cities",
    (
        Column("city_code", "str", False, 3, AIRPORT_CODE),
        Column("country_code", "str", True, 2, COUNTRY_CODE),
        Column("name", "str", True, 100),
        Column("latitude", "float", bounds=LATITUDE),
        Column("longitude", "float", bounds=LONGITUDE),
        Column("timezone", "str", True, 64),
        *_audit(),
    ),
    key=("city_code",),
)
AIRPORTS = Table(
    "airports",
    (
        Column("airport_code", "str", False, 3, AIRPORT_CODE),
        Column("icao_code", "str", True, 4, ICAO_AIRPORT),
        Column("name", "str", True, 120),
        Column("city_code", "str", True, 3, AIRPORT_CODE),
        Column("country_code", "str", True, 2, COUNTRY_CODE),
        Column("latitude", "float", bounds=LATITUDE),
        Column("longitude", "float", bounds=LONGITUDE),
        Column("timezone", "str", True, 64),
        Column("location_type", "str", True, 20),
        *_audit(),
    ),
    key=("airport_code",),
)
AIRLINES = Table(
    "airlines",
    (
        Column("airline_code", "str", False, 3, AIRLINE_CODE),
        Column("icao_code", "str", True, 3, ICAO_AIRLINE),
        Column("name", "str", True, 100),
        *_audit(),
    ),
    key=("airline_code",),
)
AIRCRAFT_TYPES = Table(
    "aircraft_types",
    (
        Column("aircraft_code", "str", False, 4, AIRCRAFT_CODE),
        Column("name", "str", True, 100),
        Column("airline_equip_code", "str", True, 10),
        *_audit(),
    ),
    key=("aircraft_code",),
)
FLIGHTS = Table(
    "flights",
    (
        Column("flight_id", "int", False),
        Column("airline_code", "str", False, 3, AIRLINE_CODE),
        Column("flight_number", "str", False, 5, FLIGHT_NUMBER),
        Column("departure_date", "date", False, window=DEPARTURE_DAYS),
        Column("dep_airport", "str", False, 3, AIRPORT_CODE),
        Column("arr_airport", "str", False, 3, AIRPORT_CODE),
        Column("operating_airline_code", "str", True, 3, AIRLINE_CODE),
        Column("operating_flight_number", "str", True, 5, FLIGHT_NUMBER),
        Column("scheduled_departure", "datetime", False, window=FLIGHT_TIMES),
        Column("estimated_departure", "datetime", window=FLIGHT_TIMES),
        Column("actual_departure", "datetime", window=FLIGHT_TIMES),
        Column("scheduled_arrival", "datetime", window=FLIGHT_TIMES),
        Column("estimated_arrival", "datetime", window=FLIGHT_TIMES),
        Column("actual_arrival", "datetime", window=FLIGHT_TIMES),
        Column("dep_terminal", "str", True, 32),
        Column("dep_gate", "str", True, 32),
        Column("arr_terminal", "str", True, 32),
        Column("arr_gate", "str", True, 32),
        Column("status", "str", False, 10, STATUS),
        Column("dep_delay_min", "int", bounds=DELAY_MINUTES),
        Column("arr_delay_min", "int", bounds=DELAY_MINUTES),
        Column("aircraft_code", "str", True, 4, AIRCRAFT_CODE),
        Column("registration", "str", True, 10),
        *_audit(),
        Column("status_source", "str", True, 20),
        Column("status_updated_at", "datetime"),
    ),
    key=("airline_code", "flight_number", "departure_date", "dep_airport"),
    # status_source/status_updated_at start as the row's own source/updated_at; the merge (aerolake.stores.mysql.merge)
    # then keeps the freshest status's
    generated=("flight_id", "status_source", "status_updated_at"),
    derived_on_insert=(("status_source", "source"), ("status_updated_at", "updated_at")),
    period_column="departure_date",
    spans=(Span("scheduled_block_time", "scheduled_departure", "scheduled_arrival", 0, BLOCK_MINUTES),
           Span("actual_block_time", "actual_departure", "actual_arrival", 0, BLOCK_MINUTES)),
    surrogate_ids=("flight_id",),
)
FLIGHT_POSITIONS = Table(
    "flight_positions",
    (
        Column("position_id", "int", False),
        Column("icao24", "str", False, 6, ICAO24),
        Column("observed_at", "datetime", False, window=OBSERVATION_TIMES),
        Column("flight_id", "int"),
        Column("airline_code", "str", True, 3, AIRLINE_CODE),
        Column("flight_number", "str", True, 5, FLIGHT_NUMBER),
        Column("dep_airport", "str", True, 3, AIRPORT_CODE),
        Column("arr_airport", "str", True, 3, AIRPORT_CODE),
        Column("registration", "str", True, 10),
        Column("aircraft_code", "str", True, 4, AIRCRAFT_CODE),
        Column("latitude", "float", False, bounds=LATITUDE),
        Column("longitude", "float", False, bounds=LONGITUDE),
        Column("altitude_m", "float", bounds=ALTITUDE_M),
        Column("heading", "float", bounds=HEADING),
        Column("speed_kmh", "float", bounds=SPEED_KMH),
        Column("vertical_speed", "float", bounds=VERTICAL_SPEED),
        Column("on_ground", "bool"),
        *_audit(),
    ),
    key=("icao24", "observed_at"),
    period_column="observed_at",
    # flight_id is resolved in MySQL from the flight identity after each load (stages.link_positions_to_flights)
    generated=("position_id", "flight_id"),
    surrogate_ids=("position_id", "flight_id"),
    # 1.4 million rows a day at world scale: months are partitions, retention drops whole ones (migration 0010)
    partition_column="observed_at",
)

FLIGHT_CODESHARES = Table(
    "flight_codeshares",
    (
        Column("codeshare_id", "int", False),
        Column("marketing_airline_code", "str", False, 3, AIRLINE_CODE),
        Column("marketing_flight_number", "str", False, 5, FLIGHT_NUMBER),
        Column("departure_date", "date", False, window=DEPARTURE_DAYS),
        Column("dep_airport", "str", False, 3, AIRPORT_CODE),
        Column("airline_code", "str", False, 3, AIRLINE_CODE),
        Column("flight_number", "str", False, 5, FLIGHT_NUMBER),
        *_audit(),
    ),
    key=("marketing_airline_code", "marketing_flight_number", "departure_date", "dep_airport"),
    period_column="departure_date",
    generated=("codeshare_id",),
    surrogate_ids=("codeshare_id",),
)

#: The tables a pipeline loads, in foreign-key order.
DATA_TABLES: tuple[Table, ...] = (COUNTRIES, CITIES, AIRPORTS, AIRLINES, AIRCRAFT_TYPES, FLIGHTS, FLIGHT_CODESHARES,
                                  FLIGHT_POSITIONS)
TABLES: dict[str, Table] = {t.name: t for t in DATA_TABLES}


def table_frame(rows: Any, table_name: str) -> pd.DataFrame:
    """Rows (a list of dicts, or a frame) with exactly ``table_name``'s load columns, and the :data:`DOC_ID` of
    each row's document when the rows carry it (an empty list gives an empty frame)."""
    import pandas as pd

    columns = TABLES[table_name].load_columns
    if isinstance(rows, pd.DataFrame):
        keep = [*columns, DOC_ID] if DOC_ID in rows.columns else columns
        return rows.reindex(columns=keep).reset_index(drop=True)
    frame = pd.DataFrame(rows, columns=[*columns, DOC_ID])
    return frame if frame[DOC_ID].notna().any() else frame.drop(columns=DOC_ID)


def conform(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """``frame`` reduced to ``table``'s load columns, in order, with pandas dtypes matching the contract.

    Missing nullable columns are added as all-NULL; a missing required column is a programming error.
    """
    import pandas as pd

    out = {}
    for name in table.load_columns:
        col = table.column(name)
        if name not in frame.columns:
            if not col.nullable:
                raise KeyError(f"{table.name}: required column {name!r} missing from the cleaned frame")
            series = pd.Series(pd.NA, index=frame.index)
        else:
            series = frame[name]
        dtype = str(series.dtype)
        if col.kind == "str":
            if dtype != "string":
                series = series.astype("string")
            series = series.mask(series == "")  # blank is unknown: NULL, as the load file also reads it
        elif col.kind == "int":
            if dtype != "Int64":
                series = pd.to_numeric(series, errors="coerce").astype("Int64")
        elif col.kind == "float":
            if dtype != "Float64":
                series = pd.to_numeric(series, errors="coerce").astype("Float64")
        elif col.kind == "bool":
            if dtype != "boolean":
                series = series.astype("boolean")
        elif col.kind == "datetime":
            if dtype != "datetime64[us]":
                series = pd.to_datetime(series, errors="coerce", utc=True).dt.tz_localize(None).astype(
                    "datetime64[us]")
        elif col.kind == "date":
            if dtype != "datetime64[us]":
                series = pd.to_datetime(series, errors="coerce").astype("datetime64[us]")
            series = series.dt.normalize()
        out[name] = series
    return pd.DataFrame(out, index=frame.index)
