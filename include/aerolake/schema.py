"""The relational contract: one declaration per MySQL table.

Each :class:`Table` is used three ways: to coerce a cleaned pandas frame to exactly its columns and types
(:func:`conform`), to build the bulk-load SQL (column lists come from here, never from data), and by a test
that checks the migrated DDL in MySQL against it. Unknown values are ``NULL``, never placeholders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

FLIGHT_STATUSES = ("scheduled", "active", "landed", "cancelled", "diverted", "incident", "unknown")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # str | int | float | datetime | date | bool
    nullable: bool = True
    length: int | None = None  # max characters for str columns


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    #: columns the loader never writes (surrogate ids filled by MySQL, values derived in MySQL)
    generated: tuple[str, ...] = ()
    #: generated columns a new row copies from one of its load columns: (column, load column)
    derived_on_insert: tuple[tuple[str, str], ...] = ()
    #: AUTO_INCREMENT ids (and columns that refer to them): internal to MySQL, never published. A load
    #: rolled back (a crash, a failed check) burns the values it took, so a crash and rerun numbers rows
    #: differently from a clean run; the natural ``key`` is the identity outside MySQL.
    surrogate_ids: tuple[str, ...] = ()

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


def _audit() -> tuple[Column, ...]:
    return (Column("source", "str", False, 20), Column("updated_at", "datetime", False))


COUNTRIES = Table(
    "countries",
    (Column("country_code", "str", False, 2), Column("name", "str", True, 100), *_audit()),
    key=("country_code",),
)
CITIES = Table(
    "cities",
    (
        Column("city_code", "str", False, 3),
        Column("country_code", "str", True, 2),
        Column("name", "str", True, 100),
        Column("latitude", "float"),
        Column("longitude", "float"),
        Column("timezone", "str", True, 64),
        *_audit(),
    ),
    key=("city_code",),
)
AIRPORTS = Table(
    "airports",
    (
        Column("airport_code", "str", False, 3),
        Column("icao_code", "str", True, 4),
        Column("name", "str", True, 120),
        Column("city_code", "str", True, 3),
        Column("country_code", "str", True, 2),
        Column("latitude", "float"),
        Column("longitude", "float"),
        Column("timezone", "str", True, 64),
        Column("location_type", "str", True, 20),
        *_audit(),
    ),
    key=("airport_code",),
)
AIRLINES = Table(
    "airlines",
    (
        Column("airline_code", "str", False, 3),
        Column("icao_code", "str", True, 3),
        Column("name", "str", True, 100),
        *_audit(),
    ),
    key=("airline_code",),
)
AIRCRAFT_TYPES = Table(
    "aircraft_types",
    (
        Column("aircraft_code", "str", False, 4),
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
        Column("airline_code", "str", False, 3),
        Column("flight_number", "str", False, 5),
        Column("departure_date", "date", False),
        Column("dep_airport", "str", False, 3),
        Column("arr_airport", "str", False, 3),
        Column("operating_airline_code", "str", True, 3),
        Column("operating_flight_number", "str", True, 5),
        Column("scheduled_departure", "datetime", False),
        Column("estimated_departure", "datetime"),
        Column("actual_departure", "datetime"),
        Column("scheduled_arrival", "datetime"),
        Column("estimated_arrival", "datetime"),
        Column("actual_arrival", "datetime"),
        Column("dep_terminal", "str", True, 10),
        Column("dep_gate", "str", True, 10),
        Column("arr_terminal", "str", True, 10),
        Column("arr_gate", "str", True, 10),
        Column("status", "str", False, 10),
        Column("dep_delay_min", "int"),
        Column("arr_delay_min", "int"),
        Column("aircraft_code", "str", True, 4),
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
    surrogate_ids=("flight_id",),
)
FLIGHT_POSITIONS = Table(
    "flight_positions",
    (
        Column("position_id", "int", False),
        Column("icao24", "str", False, 6),
        Column("observed_at", "datetime", False),
        Column("flight_id", "int"),
        Column("airline_code", "str", True, 3),
        Column("flight_number", "str", True, 5),
        Column("dep_airport", "str", True, 3),
        Column("arr_airport", "str", True, 3),
        Column("registration", "str", True, 10),
        Column("aircraft_code", "str", True, 4),
        Column("latitude", "float", False),
        Column("longitude", "float", False),
        Column("altitude_m", "float"),
        Column("heading", "float"),
        Column("speed_kmh", "float"),
        Column("vertical_speed", "float"),
        Column("on_ground", "bool"),
        *_audit(),
    ),
    key=("icao24", "observed_at"),
    # flight_id is resolved in MySQL from the flight identity after each load (stages.link_positions_to_flights)
    generated=("position_id", "flight_id"),
    surrogate_ids=("position_id", "flight_id"),
)

FLIGHT_CODESHARES = Table(
    "flight_codeshares",
    (
        Column("codeshare_id", "int", False),
        Column("marketing_airline_code", "str", False, 3),
        Column("marketing_flight_number", "str", False, 5),
        Column("departure_date", "date", False),
        Column("dep_airport", "str", False, 3),
        Column("airline_code", "str", False, 3),
        Column("flight_number", "str", False, 5),
        *_audit(),
    ),
    key=("marketing_airline_code", "marketing_flight_number", "departure_date", "dep_airport"),
    generated=("codeshare_id",),
    surrogate_ids=("codeshare_id",),
)

#: The tables a pipeline loads, in foreign-key order.
DATA_TABLES: tuple[Table, ...] = (COUNTRIES, CITIES, AIRPORTS, AIRLINES, AIRCRAFT_TYPES, FLIGHTS, FLIGHT_CODESHARES,
                                  FLIGHT_POSITIONS)
TABLES: dict[str, Table] = {t.name: t for t in DATA_TABLES}


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
