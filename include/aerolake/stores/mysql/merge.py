"""How a load merges into stored rows (the ``ON DUPLICATE KEY UPDATE`` of each table): freshest observation wins,
and for ``flights`` the precedence rules by which three sources merge into one row.

The same flight (airline, number, local departure date, origin) arrives from several sources, each load
upserting its partition. Column groups follow different rules, all decided in SQL per row,
so the result does not depend on which load ran first and a replay never regresses newer data:

**Schedule and times** (``arr_airport``, scheduled/estimated/actual times, delays; with them ``source`` and
``updated_at``): the source with the higher *authority* wins; between equal authorities the fresher
observation wins (``updated_at``, the time the lake fetched it):

each source's :class:`Authority` (its ``SourceSpec.authority``; today: Lufthansa 3 for a Lufthansa Group airline,
as the operator's own system, else 2; Airlabs 2, UTC times as published; Aviation Stack 1, local clock times
labelled "+00:00" and converted). A source this table does not know ranks 0.

**Status** (``status``, with ``status_source`` and ``status_updated_at``): the freshest observation wins,
whatever its source: a flight's state changes by the minute and the latest look is the best.

**Details** (terminals, gates, aircraft, registration, operating carrier): the fresher observation's value,
but a known value is never replaced by an unknown (NULL) one. Freshness is tracked per row, not per column:
when the freshest observation lacks a detail, the known value kept is the one the row already had.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aerolake.sql import quote_identifier as q

if TYPE_CHECKING:
    from aerolake.schema import Table


_AIRLINE = re.compile(r"[A-Z0-9]{2}")
_SOURCE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Authority:
    """How much a source's flight times count: ``rank``, or ``own_rank`` for a flight of ``own_airlines`` (the
    operator's own system knows its flights best). Higher wins; 0 is a source no spec declares."""

    rank: int
    own_airlines: tuple[str, ...] = ()  # IATA airline codes
    own_rank: int | None = None

    def __post_init__(self) -> None:
        if bool(self.own_airlines) != (self.own_rank is not None):
            raise ValueError("own_airlines and own_rank go together")
        bad = [code for code in self.own_airlines if not _AIRLINE.fullmatch(code)]
        if bad:
            raise ValueError(f"not IATA airline codes: {bad}")


def _literals(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


TIME_COLUMNS = (
    "arr_airport", "scheduled_departure", "estimated_departure", "actual_departure", "scheduled_arrival",
    "estimated_arrival", "actual_arrival", "dep_delay_min", "arr_delay_min",
)
DETAIL_COLUMNS = (
    "operating_airline_code", "operating_flight_number", "dep_terminal", "dep_gate", "arr_terminal", "arr_gate",
    "aircraft_code", "registration",
)


def authority_sql(source: str, airline: str, authorities: Mapping[str, Authority]) -> str:
    """SQL for the authority of an observation by ``source`` about a flight of ``airline`` (SQL expressions),
    by source name. The names and codes become SQL literals, so they are checked first."""
    bad = [name for name in authorities if not _SOURCE.fullmatch(name)]
    if bad:
        raise ValueError(f"not source names: {bad}")
    whens = [f"WHEN {source} = '{name}' AND {airline} IN ({_literals(a.own_airlines)}) THEN {int(a.own_rank or 0)}"
             for name, a in sorted(authorities.items()) if a.own_airlines]
    for rank in sorted({a.rank for a in authorities.values()}, reverse=True):
        names = _literals(name for name, a in sorted(authorities.items()) if a.rank == rank)
        whens.append(f"WHEN {source} IN ({names}) THEN {int(rank)}")
    return f"(CASE {' '.join(whens)} ELSE 0 END)"


def flight_merge_assignments(authorities: Mapping[str, Authority], table: str = "flights") -> str:
    """The ``ON DUPLICATE KEY UPDATE`` list of the flights load.

    MySQL and MariaDB apply these left to right and later ones see earlier results, so every condition is
    evaluated before the columns it reads are assigned: times (reading ``source``/``updated_at``), details
    and status (reading ``status_updated_at``), then the provenance columns last, in an order that keeps
    each condition's value (see the comment there). ``tests/integration/test_flight_precedence.py`` loads
    the observations in every order and expects one result.
    """
    t = q(table)

    def own(column: str) -> str:
        return f"{t}.{q(column)}"

    def new(column: str) -> str:
        return f"VALUES({q(column)})"

    new_auth = authority_sql(new("source"), own("airline_code"), authorities)
    old_auth = authority_sql(own("source"), own("airline_code"), authorities)
    times_win = (f"({new_auth} > {old_auth} OR ({new_auth} = {old_auth} "
                 f"AND {new('updated_at')} >= {own('updated_at')}))")
    status_win = f"({new('updated_at')} >= COALESCE({own('status_updated_at')}, {own('updated_at')}))"
    parts = [f"{own(c)} = IF({times_win}, {new(c)}, {own(c)})" for c in TIME_COLUMNS]
    parts += [f"{own(c)} = IF({status_win}, COALESCE({new(c)}, {own(c)}), COALESCE({own(c)}, {new(c)}))"
              for c in DETAIL_COLUMNS]
    parts += [
        f"{own('status')} = IF({status_win}, {new('status')}, {own('status')})",
        f"{own('status_source')} = IF({status_win}, {new('source')}, {own('status_source')})",
        f"{own('status_updated_at')} = IF({status_win}, {new('updated_at')}, {own('status_updated_at')})",
        # updated_at before source: re-evaluated after updated_at is assigned, times_win still holds exactly
        # when it held before (equal authority and now equal times), which it would not after source changed
        f"{own('updated_at')} = IF({times_win}, {new('updated_at')}, {own('updated_at')})",
        f"{own('source')} = IF({times_win}, {new('source')}, {own('source')})",
    ]
    return ", ".join(parts)


def upsert_assignments(table: Table, authorities: Mapping[str, Authority] | None = None) -> str:
    """``ON DUPLICATE KEY UPDATE`` assignments where the freshest observation wins.

    A row replayed from an older partition never overwrites what a newer one wrote: each column takes the
    incoming value only if the incoming ``updated_at`` is not older, and ``updated_at`` is assigned last
    (MySQL and MariaDB evaluate these assignments left to right, so the comparisons see the old value).
    """
    if table.name == "flights":  # several sources, one row: precedence rules per column group
        if not authorities:
            raise ValueError("the flights merge needs the sources' authorities (aerolake.sources.authorities())")
        return flight_merge_assignments(authorities, table.name)
    cols = [c for c in table.load_columns if c not in table.key and c != "updated_at"]
    if "updated_at" not in table.load_columns:
        return ", ".join(f"{q(c)} = VALUES({q(c)})" for c in cols)
    target = q(table.name)  # qualified: the staging table has the same column names

    def own(column: str) -> str:
        return f"{target}.{q(column)}"

    fresh = f"VALUES(`updated_at`) >= {own('updated_at')}"
    parts = [f"{own(c)} = IF({fresh}, VALUES({q(c)}), {own(c)})" for c in cols]
    return ", ".join([*parts, f"{own('updated_at')} = GREATEST({own('updated_at')}, VALUES(`updated_at`))"])
