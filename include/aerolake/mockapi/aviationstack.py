"""The Aviation Stack v1 API (``/aviationstack/v1``) as it really behaves, quirks included.

Route: ``GET flights?access_key=...`` with ``flight_date`` (YYYY-MM-DD, the local departure date; default the
mock clock's UTC date), ``dep_iata``, ``arr_iata`` (neither: the configured ``hubs``' departures),
``airline_iata``, ``flight_iata``, ``flight_number``, ``flight_status``, ``limit`` (default 100, more is
treated as 100, the free plan's maximum) and ``offset``. Envelope ``{"pagination": {limit, offset, count,
total}, "data": [...]}``. Any other function answers 404 ``invalid_api_function``.

The flights are the world's (:mod:`aerolake.mockapi.world`), the very ones the Lufthansa mock serves: a
flight's airline, number, airports and scheduled times are the same through both APIs. What differs is how
Aviation Stack shows them:

* times carry "+00:00" but are the airport's local clock time (``departure.timezone`` says which zone);
* the status and the estimated/actual times follow the mock clock ``now`` (``config.current_time()``):
  ``scheduled`` before the departure, ``active`` in the air, ``landed`` after; cancelled and diverted
  flights as the world says;
* ``live`` is filled for flights airborne at ``now`` only, and not for all of them (about a quarter are
  null anyway, as on the real API); ``aircraft`` is null for about one record in ten, and ``registration``
  or ``icao24`` (upper-case hex) may be null inside it; the aircraft's ``iata`` is the IATA type code, its
  ``icao`` the ICAO designator;
* about 30% of flights leaving a core airport are also listed under one or two partner airlines' numbers:
  each such codeshare record repeats the flight with the partner as ``airline`` and
  ``flight.codeshared`` naming the operating flight, mostly in lower case (``"lh"``, ``"lh400"``);
* about 5% of records have ``"airline": {"name": "empty", ...}`` (codes still present); ``delay`` is null
  when there is no delay; ``live`` holds the undocumented ``speed_is_ground``.

Anomalies (``anomalies=True``): the world's flight without a flight number comes with a null flight
number and an ``"empty"`` airline without codes (unkeyed), and always with at least one codeshare record
pointing at it (an orphan codeshare); in every departures day the middle flight has the undocumented status
``"en-route"``; the first airborne flight with a ``live`` block reports latitude 123.4.

Errors (``{"error": {"code", "message", "context"}}``): 401 ``missing_access_key`` / ``invalid_access_key``
(knob ``aviationstack_access_key``; None accepts any key); 403 ``function_access_restricted`` for a
``flight_date`` other than the mock clock's today or yesterday when ``aviationstack_restrict_dates`` is on;
422 ``validation_error`` with the offending parameters in ``context``; 429 ``usage_limit_reached`` once
``aviationstack_monthly_limit`` calls were served in the mock clock's month, ``rate_limit_reached`` over
``aviationstack_minute_limit`` calls in 60 s or over ``qps_limit``/``rate_limit_rate``; 500
``internal_error`` (``error_rate``; 502/503 come as gateway pages).
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections import Counter, deque
from datetime import date, datetime, timedelta
from typing import Any

from aerolake.aircraft import AIRCRAFT_ICAO
from aerolake.mockapi.server import MockServer, Request, Response, Source
from aerolake.mockapi.world import (
    ANOMALY_LATITUDE,
    EPOCH,
    Flight,
    World,
    format_minutes,
    great_circle_point,
    initial_bearing,
    minutes_to_datetime,
    stable_hash,
    utc_to_local,
)

PAGE_DEFAULT = PAGE_MAX = 100
CODESHARE_SHARE = 30  # percent of flights leaving a core airport that are also sold by partners
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_IATA_AIRPORT_RE = re.compile(r"^[A-Za-z]{3}$")
#: airlines that sell seats on other carriers' flights (codeshare partners)
PARTNERS = ("UA", "AC", "NH", "SQ", "TK", "LX", "OS", "SN", "LO", "TP", "A3", "OU", "CA", "OZ", "ET", "AI", "TG")


class ApiError(Exception):
    """Raised inside handlers; becomes an ``{"error": ...}`` body."""

    def __init__(self, status: int, code: str, message: str, context: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.context = status, code, message, context

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message, self.context)


def error_response(status: int, code: str, message: str, context: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if context is not None:
        body["context"] = context
    return Response.json(status, {"error": body})


def validation_error(param: str, key: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", "Request failed with validation error",
                    {param: [{"key": key, "message": message}]})


@functools.cache
def _gazetteer() -> dict[str, dict[str, Any]]:
    import airportsdata

    return airportsdata.load("IATA")


def _iso_local(minutes: int | None) -> str | None:
    """Local wall-clock minutes rendered the Aviation Stack way: local time with a "+00:00" offset."""
    return None if minutes is None else format_minutes(minutes) + ":00+00:00"


def _minutes(moment: datetime) -> int:
    return int((moment.replace(tzinfo=None) - EPOCH).total_seconds() // 60)


# ---- rendering ---------------------------------------------------------------------------------


def _status_and_times(f: Flight, now: int) -> tuple[str, dict[str, int | None]]:
    """The status at ``now`` and the UTC minutes known then (estimated before a movement, actual after)."""
    dep_at, arr_at = f.dep_utc + f.dep_delay, f.arr_utc + f.arr_delay
    times: dict[str, int | None] = dict.fromkeys(("dep_est", "dep_act", "arr_est", "arr_act"))
    if f.status == "CD":
        return "cancelled", times
    if now < dep_at:
        times.update(dep_est=dep_at, arr_est=arr_at)
        return "scheduled", times
    times["dep_act"] = dep_at
    if f.status in ("DV", "RT"):
        return "diverted", times
    if now < arr_at:
        times["arr_est"] = arr_at
        return "active", times
    times["arr_act"] = arr_at
    return "landed", times


def _side(world: World, f: Flight, side: str, times: dict[str, int | None]) -> dict[str, Any]:
    code = f.origin if side == "dep" else f.dest
    airport = world.ref.airports[code]
    est, act = times[f"{side}_est"], times[f"{side}_act"]
    sched_loc = f.dep_loc if side == "dep" else f.arr_loc
    sched_utc = f.dep_utc if side == "dep" else f.arr_utc
    moved = act if act is not None else est
    delay = (moved - sched_utc) if moved is not None else None

    def local(minutes: int | None) -> int | None:
        return None if minutes is None else utc_to_local(airport.tz, minutes)

    out: dict[str, Any] = {
        "airport": airport.name_en,
        "timezone": airport.tz,
        "iata": code,
        "icao": (_gazetteer().get(code) or {}).get("icao") or None,
        "terminal": f.dep_term if side == "dep" else f.arr_term,
        "gate": f.dep_gate if side == "dep" else f.arr_gate,
    }
    if side == "arr":
        out["baggage"] = None if stable_hash("baggage", f.flight_id, f.dep_utc) % 3 else f"B{1 + f.quirks % 9}"
    out.update({
        "delay": delay if delay and delay > 0 else None,
        "scheduled": _iso_local(sched_loc),
        "estimated": _iso_local(local(est if est is not None else act)),
        "actual": _iso_local(local(act)),
        "estimated_runway": _iso_local(local(act)),
        "actual_runway": _iso_local(local(act)),
    })
    return out


def _aircraft(f: Flight, h: int) -> dict[str, Any] | None:
    if h % 10 == 0:
        return None
    icao24 = f"{stable_hash('icao24', f.registration) % 0xFFFFFF:06X}"
    return {
        "registration": None if (h >> 4) % 20 == 0 else f.registration,
        "iata": f.aircraft,
        "icao": AIRCRAFT_ICAO.get(f.aircraft),
        "icao24": None if (h >> 9) % 20 == 0 else icao24,
    }


def _live(world: World, f: Flight, now: int, h: int) -> dict[str, Any] | None:
    """Where the flight is at ``now`` (only while airborne, and not always reported)."""
    dep_at, arr_at = f.dep_utc + f.dep_delay, f.arr_utc + f.arr_delay
    if (h >> 14) % 4 == 0:
        return None
    updated = max(dep_at, now - (h >> 18) % 4)
    fraction = (updated - dep_at) / max(1, arr_at - dep_at)
    o, d = world.ref.airports[f.origin], world.ref.airports[f.dest]
    lat, lon = great_circle_point(o.lat, o.lon, d.lat, d.lon, fraction)
    climb = min(fraction, 1 - fraction) * (arr_at - dep_at)  # minutes from the nearer end of the flight
    altitude = min(10_000 + (h % 1500), 25 * 60 * max(climb, 0.5) / 1.5)
    vertical = 0.0 if altitude >= 10_000 else (round(40 + (h >> 3) % 30, 3) * (1 if fraction < 0.5 else -1))
    bearing = initial_bearing(lat, lon, d.lat, d.lon)
    return {
        "updated": minutes_to_datetime(updated).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "latitude": round(lat, 5),
        "longitude": round(lon, 5),
        "altitude": round(float(altitude), 3),
        "direction": round(bearing, 3),
        "speed_horizontal": round(780 + (h >> 6) % 120 + ((h >> 20) % 1000) / 1000, 3),
        "speed_is_ground": 0,
        "speed_vertical": vertical,
        "is_ground": False,
    }


def _airline(world: World, code: str, h: int) -> dict[str, Any]:
    airline = world.ref.airlines.get(code)
    name = airline.name_en if airline else None
    return {"name": "empty" if h % 20 == 0 else name, "iata": code, "icao": airline.icao if airline else None}


def _flight_block(world: World, carrier: str, number: int) -> dict[str, Any]:
    airline = world.ref.airlines.get(carrier)
    return {"number": str(number), "iata": f"{carrier}{number}",
            "icao": f"{airline.icao}{number}" if airline else None, "codeshared": None}


class _Day:
    """Per-request state of one departures day: which flight gets which anomaly."""

    def __init__(self) -> None:
        self.bad_live_done = False


def render_records(world: World, f: Flight, now: int, *, odd_status: bool, day: _Day) -> list[dict[str, Any]]:
    """The operating record of ``f`` followed by its codeshare records."""
    h = stable_hash("aviationstack", world.seed, f.carrier, f.number, f.origin, f.dep_utc)
    status, times = _status_and_times(f, now)
    live = _live(world, f, now, h) if status == "active" else None
    if live is not None and world.anomalies and not day.bad_live_done:
        live["latitude"] = ANOMALY_LATITUDE
        day.bad_live_done = True
    record: dict[str, Any] = {
        "flight_date": minutes_to_datetime(f.dep_loc).date().isoformat(),
        "flight_status": "en-route" if odd_status and status not in ("cancelled",) else status,
        "departure": _side(world, f, "dep", times),
        "arrival": _side(world, f, "arr", times),
        "airline": _airline(world, f.carrier, h),
        "flight": _flight_block(world, f.carrier, f.number),
        "aircraft": _aircraft(f, h),
        "live": live,
    }
    if f.number_missing:
        record["airline"] = {"name": "empty", "iata": None, "icao": None}
        record["flight"] = {"number": None, "iata": None, "icao": None, "codeshared": None}
    return [record, *_codeshares(world, f, record, h)]


def _codeshares(world: World, f: Flight, operating: dict[str, Any], h: int) -> list[dict[str, Any]]:
    if f.origin not in world.core:
        return []
    wanted = 1 if f.number_missing and world.anomalies else 0
    if h % 100 < CODESHARE_SHARE:
        wanted = 1 + (h >> 7) % 2
    if not wanted:
        return []
    day = minutes_to_datetime(f.dep_loc).date()
    taken = {(g.carrier, g.number) for g in world.departures(f.origin, day).flights}
    operator = world.ref.airlines.get(f.carrier)
    lower = (h >> 11) % 10 < 7
    case = str.lower if lower else str.upper
    codeshared = {
        "airline_name": case(operator.name_en) if operator else None,
        "airline_iata": case(f.carrier),
        "airline_icao": case(operator.icao) if operator else None,
        "flight_number": str(f.number),
        "flight_iata": case(f"{f.carrier}{f.number}"),
        "flight_icao": case(f"{operator.icao}{f.number}") if operator else None,
    }
    out = []
    partners = [p for p in PARTNERS if p != f.carrier]
    for k in range(wanted):
        partner = partners[((h >> 24) + k * (1 + (h >> 30) % (len(partners) - 1))) % len(partners)]  # distinct
        number = 1000 + (h >> (34 + 7 * k)) % 8000
        while (partner, number) in taken:
            number = 1000 + (number - 999) % 8999
        taken.add((partner, number))
        record = dict(operating)
        record["airline"] = _airline(world, partner, h >> (3 + k))
        record["flight"] = {**_flight_block(world, partner, number), "codeshared": dict(codeshared)}
        out.append(record)
    return out


# ---- the source --------------------------------------------------------------------------------


class AviationstackSource(Source):
    name = "aviationstack"
    prefix = "/aviationstack/v1"

    def __init__(self, server: MockServer) -> None:
        super().__init__(server)
        self._lock = threading.Lock()
        self._month_calls: Counter[tuple[str, str]] = Counter()  # (key, YYYY-MM) -> calls served
        self._minute: dict[str, deque[float]] = {}

    def reset(self) -> None:
        """Forget quota usage (``POST /_mock/reset``)."""
        with self._lock:
            self._month_calls.clear()
            self._minute.clear()

    def endpoint_group(self, req: Request) -> str:
        function = req.subpath.split("/")[0] or "root"
        return f"aviationstack/{function}"

    def authenticate(self, req: Request) -> tuple[str | None, Response | None]:
        cfg = self.server.config
        key = req.param("access_key") or ""
        if not key:
            return None, error_response(401, "missing_access_key", "You have not supplied an API Access Key. "
                                        "[Required format: access_key=YOUR_ACCESS_KEY]")
        if cfg.aviationstack_access_key is not None and key != cfg.aviationstack_access_key:
            return None, error_response(401, "invalid_access_key", "You have not supplied a valid API Access Key. "
                                        "[Technical Support: support@apilayer.com]")
        return key, self._charge(key)

    def _charge(self, key: str) -> Response | None:
        """Count the call against the key's monthly and per-minute allowance, or refuse it."""
        cfg = self.server.config
        month = cfg.current_time().strftime("%Y-%m")
        now = time.monotonic()
        with self._lock:
            if cfg.aviationstack_monthly_limit is not None and \
                    self._month_calls[(key, month)] >= cfg.aviationstack_monthly_limit:
                return error_response(429, "usage_limit_reached", "Your monthly usage limit has been reached. "
                                      "Please upgrade your Subscription Plan.")
            if cfg.aviationstack_minute_limit is not None:
                window = self._minute.setdefault(key, deque())
                while window and window[0] <= now - 60.0:
                    window.popleft()
                if len(window) >= cfg.aviationstack_minute_limit:
                    return self.over_limit()
                window.append(now)
            self._month_calls[(key, month)] += 1
        return None

    def over_limit(self) -> Response:
        return error_response(429, "rate_limit_reached", "You have exceeded the maximum rate limitation allowed "
                              "on your subscription plan. Please refer to the \"Rate Limits\" section of the API "
                              "Documentation for details. ")

    def server_error(self, status: int) -> Response:
        if status == 500:
            return error_response(500, "internal_error", "An internal error occurred.")
        title = "502 Bad Gateway" if status == 502 else "503 Service Temporarily Unavailable"
        return Response(status, f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1>"
                        "</center></body></html>".encode(), "text/html")

    def not_found(self, req: Request) -> Response:
        return error_response(404, "invalid_api_function", "This API Function does not exist.")

    def handle(self, req: Request) -> Response:
        if req.method not in {"GET", "HEAD"}:
            return self.not_found(req)
        if req.subpath != "flights":
            return self.not_found(req)
        try:
            return self._flights(req)
        except ApiError as err:
            return err.response()

    # ---- flights ------------------------------------------------------------------------------

    def _flights(self, req: Request) -> Response:
        cfg, world = self.server.config, self.server.world
        now_dt = cfg.current_time()
        day = self._flight_date(req, now_dt)
        dep, arr = self._airport(req, "dep_iata"), self._airport(req, "arr_iata")
        limit, offset = self._int(req, "limit", PAGE_DEFAULT), self._int(req, "offset", 0)
        limit = PAGE_DEFAULT if limit <= 0 else min(limit, PAGE_MAX)
        offset = max(0, offset)
        records = self._records(world, day, dep, arr, _minutes(now_dt))
        records = [r for r in records if _matches(req, r)]
        page = records[offset:offset + limit]
        return Response.json(200, {"pagination": {"limit": limit, "offset": offset, "count": len(page),
                                                  "total": len(records)}, "data": page})

    def _flight_date(self, req: Request, now: datetime) -> date:
        raw = req.param("flight_date")
        today = now.date()
        if raw is None or raw == "":
            return today
        try:
            if not _DATE_RE.match(raw):
                raise ValueError(raw)
            day = date.fromisoformat(raw)
        except ValueError:
            raise validation_error("flight_date", "invalid_flight_date",
                                   "The flight date must be a valid date in the format YYYY-MM-DD.") from None
        if self.server.config.aviationstack_restrict_dates and not today - timedelta(days=1) <= day <= today:
            raise ApiError(403, "function_access_restricted", "Your current Subscription Plan does not support "
                           "this API Function: historical and future flights (flight_date other than today or "
                           "yesterday).")
        return day

    def _airport(self, req: Request, name: str) -> str | None:
        raw = req.param(name)
        if raw is None or raw == "":
            return None
        if not _IATA_AIRPORT_RE.match(raw) or self.server.world.known_airport(raw.upper()) is None:
            raise validation_error(name, "invalid_iata_code", f"The {name} must be a valid 3-letter IATA code.")
        return raw.upper()

    @staticmethod
    def _int(req: Request, name: str, default: int) -> int:
        return req.int_param(name, default,
                             lambda: validation_error(name, f"invalid_{name}", f"The {name} must be an integer."))

    def _records(self, world: World, day: date, dep: str | None, arr: str | None, now: int) -> list[dict]:
        """Every record of the query, in a stable order (departure time, then flight)."""
        if dep is not None:
            sources = [(dep, list(world.departures(dep, day).flights))]
        elif arr is not None:
            sources = [(None, _arrivals_departing_on(world, arr, day))]
        else:
            sources = [(hub, list(world.departures(hub, day).flights)) for hub in world.hubs]
        out: list[dict] = []
        for origin, flights in sources:
            if arr is not None:
                flights = [f for f in flights if f.dest == arr]
            odd = flights[len(flights) // 2] if world.anomalies and origin is not None and flights else None
            state = _Day()
            for f in flights:
                out.extend(render_records(world, f, now, odd_status=f is odd and not f.number_missing, day=state))
        return out


def _arrivals_departing_on(world: World, airport: str, day: date) -> list[Flight]:
    """Flights landing at ``airport`` whose local departure date (the ``flight_date``) is ``day``."""
    found: dict[int, Flight] = {}
    for d in (day - timedelta(days=1), day, day + timedelta(days=1), day + timedelta(days=2)):
        for f in world.arrivals(airport, d).flights:
            if minutes_to_datetime(f.dep_loc).date() == day:
                found[id(f)] = f
    return sorted(found.values(), key=lambda f: (f.dep_utc, f.carrier, f.number, f.origin))


def _matches(req: Request, record: dict[str, Any]) -> bool:
    """The optional filters on airline, flight and status (case-insensitive, as the real API)."""
    airline, flight = record["airline"], record["flight"]
    checks = (("airline_iata", airline.get("iata")), ("flight_iata", flight.get("iata")),
              ("flight_number", flight.get("number")), ("flight_status", record.get("flight_status")))
    for name, value in checks:
        wanted = req.param(name)
        if wanted and (value or "").upper() != wanted.upper():
            return False
    return True
