"""Airports (the nearest ones, the map's, one by code), flights, the latest positions and the dashboard's stats."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError

from aerolake.api import store
from aerolake.api.models import (
    NOT_BLANK_PATTERN,
    Airport,
    AirportList,
    ClosestAirportRequest,
    ClosestAirportResponse,
    FlightPage,
    FlightStatus,
    PositionList,
    Problem,
    Stats,
    not_blank,
)
from aerolake.api.state import State

router = APIRouter()
T = TypeVar("T")

AirportCode = Annotated[str, Query(pattern=r"^[A-Za-z]{3}$", description="IATA airport code",
                                   examples=["FRA"])]
AirlineCode = Annotated[str, Query(pattern=r"^[A-Za-z0-9]{2,3}$", description="IATA (or ICAO) airline code",
                                   examples=["LH"])]


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(fn, *args, **kwargs)


def _airport_path_code(code: str) -> str:
    """The path's airport code, upper-cased; 422 unless it is three letters."""
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise RequestValidationError([{"loc": ("path", "code"), "type": "string_pattern_mismatch",
                                       "msg": "must be a three-letter IATA airport code"}])
    return code.upper()


def _json_value(value: Any) -> Any:
    """Decimals from ``AVG`` as floats (rounded), DATETIMEs marked UTC, everything else unchanged."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return round(float(value), 2)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _json_value(v) for k, v in row.items()} for row in rows]


@router.post("/closest_airport", response_model=ClosestAirportResponse,
             responses={503: {"model": Problem, "description": "no airports loaded yet, or MySQL unreachable"}})
async def closest_airport(state: State, body: ClosestAirportRequest) -> ClosestAirportResponse:
    """The k nearest airports (great-circle distance in km), from an index refreshed when ``airports``
    changes; no table scan per request."""
    index = state.index
    snapshot = index.snapshot() if index.built else await blocking(index.snapshot)
    if snapshot.size == 0:
        raise HTTPException(503, "No airports with coordinates in MySQL yet: run a pipeline (make demo) first")
    if body.location_type is not None and body.location_type.lower() not in snapshot.by_type:
        known = ", ".join(snapshot.location_types) or "none"
        raise HTTPException(422, f"location_type: unknown location type {body.location_type!r} (known: {known})")
    found = snapshot.nearest(body.latitude, body.longitude, body.k, body.location_type)
    return ClosestAirportResponse(
        latitude=body.latitude, longitude=body.longitude, k=body.k, location_type=body.location_type,
        airports=[{**n.airport, "distance_km": round(n.distance_km, 4)} for n in found],
        index_size=snapshot.size, index_built_at=snapshot.built_at,
    )


@router.get("/airports", response_model=AirportList)
def airports(
    state: State,
    q: Annotated[str | None, Query(max_length=60, json_schema_extra=NOT_BLANK_PATTERN,
                                   description="code, ICAO code or part of name; not blank"),
                 not_blank("to list the airports for the map")] = None,
    location_type: Annotated[str | None, Query(max_length=20, json_schema_extra=NOT_BLANK_PATTERN,
                                               description="only airports of this type; not blank"),
                             not_blank("for airports of any type")] = None,
    limit: Annotated[int, Query(ge=1, le=20000)] = 20000,
) -> AirportList:
    """Airports for the map (with coordinates), or a search by code or name when ``q`` is given (at most
    100). ``q`` and ``location_type`` are stripped; blank or whitespace only is a 422, not "everything"."""
    cfg = state.mysql()
    if q is not None:
        rows = store.search_airports(cfg, q, min(limit, 100))
    else:
        rows = store.airports_for_map(cfg, location_type, limit)
    return AirportList(count=len(rows), airports=rows)


@router.get("/airports/{code}", response_model=Airport,
            responses={404: {"model": Problem, "description": "no such airport"}})
def airport(state: State, code: Annotated[str, Depends(_airport_path_code)]) -> dict[str, Any]:
    """One airport by IATA code (case-insensitive)."""
    row = store.airport(state.mysql(), code)
    if row is None:
        raise HTTPException(404, f"No airport with IATA code {code!r}")
    return row


@router.get("/flights", response_model=FlightPage)
def flights(
    state: State,
    airport: AirportCode | None = None,
    airline: AirlineCode | None = None,
    date_: Annotated[date | None, Query(alias="date", description="local departure date at the origin; default: "
                                                                  "the newest day with flights")] = None,
    status: Annotated[FlightStatus | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> FlightPage:
    """Flights of one day (``date``, default the newest day with flights) filtered by airport (departing or
    arriving), airline and status; paginated. One day at a time: a request costs the same however many years
    of flights MySQL holds."""
    day, total, items = store.flights(state.mysql(), airport=airport.upper() if airport else None,
                                      airline=airline.upper() if airline else None, day=date_, status=status,
                                      page=page, page_size=page_size)
    return FlightPage(departure_date=day, total=total, page=page, page_size=page_size, pages=math.ceil(total / page_size),
                      items=items)


@router.get("/positions/latest", response_model=PositionList)
def latest_positions(
    state: State,
    window_minutes: Annotated[int, Query(ge=1, le=1440, description="before the newest observation")] = 30,
    limit: Annotated[int, Query(ge=1, le=20000)] = 5000,
) -> PositionList:
    """The latest position of each aircraft seen in the last ``window_minutes`` of data."""
    newest, rows = store.latest_positions(state.mysql(), window_minutes, limit)
    return PositionList(newest_observed_at=newest, window_minutes=window_minutes, count=len(rows), positions=rows)


@router.get("/stats", response_model=Stats)
def stats(
    state: State,
    days: Annotated[int, Query(ge=1, le=366, description="days up to date_to")] = 30,
    date_to: Annotated[date | None, Query(description="default: the newest departure date in flights")] = None,
    top: Annotated[int, Query(ge=1, le=50, description="airports/airlines in the delay charts")] = 15,
) -> Stats:
    """The dashboard's data: flights per day and status, delays by airport and airline, on-time rate,
    freshness per source."""
    data = store.window_stats(state.mysql(), days, date_to, top)
    return Stats(**{k: _plain(v) if isinstance(v, list) else v for k, v in data.items()})
