"""The Lufthansa Open API (``/lufthansa/v1``) as it really behaves, quirks included.

Routes (``references`` may also be spelled ``mds-references``):

* ``POST oauth/token`` (form: client_id, client_secret, grant_type=client_credentials)
* ``GET references/{countries|cities|airports|airlines|aircraft}[/{code}]`` with ``lang``
  (default en; de supported; a comma list such as ``en,de`` returns several names), ``limit``
  (default 20, max 100), ``offset``; airports also ``LHoperated=0|1``
* ``GET references/airports/nearest/{lat},{lon}`` (5 nearest, with Distance)
* ``GET operations/flightstatus/departures|arrivals/{airport}/{YYYY-MM-DDTHH:mm}`` (4-hour local
  window, ``limit`` default 20 max 80, ``offset``, ``serviceType`` accepted)
* ``GET operations/flightstatus/route/{origin}/{destination}/{YYYY-MM-DD}``
* ``GET operations/flightstatus/{flightNumber}/{YYYY-MM-DD}`` (e.g. LH400; local departure date;
  searches the flights of the configured ``hubs``)

Quirks, decided per record (stable across pages, endpoints and servers with the same seed): a
one-member array is a plain object (``Flight``, ``Airport``, ``Names.Name``, ``Link``,
``Airports.AirportCode``...); ``FlightNumber`` and ``Terminal.Name`` are int or string;
``AircraftCode`` is int when numeric-looking (about half the records) else string; ``UtcOffset``
is an int number of hours or a "+01:00" string; about 1% of positions are ``{"@nil": "true"}``.

Anomalies (``anomalies=True``; see also ``aerolake.mockapi.world``):

* in every departures(X, D) the earliest own flight has no ``MarketingCarrier.FlightNumber``;
* airport BRE is published with ``Latitude`` 123.4 and airport LEJ with ``TimeZoneId``
  "Mars/Olympus_Mons";
* every departures window that spans more than one page serves the flight at offset limit-1
  again at offset limit (last of page 1 and first of page 2; ``TotalCount`` counts it twice).
"""

from __future__ import annotations

import heapq
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from aerolake.mockapi import reference_data as ref
from aerolake.mockapi.server import MockServer, Request, Response, Source
from aerolake.mockapi.world import (
    Airport,
    City,
    Flight,
    World,
    format_minutes,
    great_circle_km,
    stable_hash,
    standard_utc_offset_minutes,
    utc_to_local,
)

INFO_URL = "https://developer.lufthansa.com/docs/read/api_basics/Error_Handling"
REFERENCE_DEFAULT_LIMIT, REFERENCE_MAX_LIMIT = 20, 100
FLIGHTS_DEFAULT_LIMIT, FLIGHTS_MAX_LIMIT = 20, 80
WINDOW_HOURS = 4
OVER_QPS = "Account Over Queries Per Second Limit"
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FLIGHT_NUMBER_RE = re.compile(r"^([A-Z0-9]{2})(\d{1,4})$")
_REFERENCE_KINDS = ("countries", "cities", "airports", "airlines", "aircraft")


class ApiError(Exception):
    """Raised inside handlers; becomes a ProcessingErrors body."""

    def __init__(self, status: int, kind: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status, self.kind, self.code, self.description = status, kind, code, description

    def response(self) -> Response:
        return processing_error(self.status, self.kind, self.code, self.description)


def processing_error(status: int, kind: str, code: int, description: str, retry: bool = False) -> Response:
    return Response.json(
        status,
        {
            "ProcessingErrors": {
                "ProcessingError": {
                    "@RetryIndicator": retry,
                    "Type": kind,
                    "Code": code,
                    "Description": description,
                    "InfoURL": INFO_URL,
                }
            }
        },
    )


def not_found(description: str) -> ApiError:
    return ApiError(404, "ResourceNotFound", 3001, description)


def invalid(description: str) -> ApiError:
    return ApiError(400, "InputValidation", 2001, description)


def one_or_many(items: list[Any]) -> Any:
    """The dict-or-list quirk: a one-member array is rendered as the member itself."""
    return items[0] if len(items) == 1 else items


# ---- rendering helpers ------------------------------------------------------------------------


def _languages(req: Request) -> list[str]:
    raw = (req.param("lang") or "en").lower()
    langs = [lang.strip() for lang in raw.split(",") if lang.strip() in {"en", "de"}]
    return langs or ["en"]


def _names(langs: list[str], en: str, de: str) -> dict[str, Any]:
    by_lang = {"en": en, "de": de}
    return {"Name": one_or_many([{"@LanguageCode": lang, "$": by_lang[lang]} for lang in langs])}


def _position(lat: float, lon: float, nil: bool) -> dict[str, Any]:
    if nil:
        return {"@nil": "true"}
    return {"Coordinate": {"Latitude": lat, "Longitude": lon}}


def _utc_offset(code: str, tz: str) -> int | str:
    minutes = standard_utc_offset_minutes(tz)
    if minutes % 60 == 0 and stable_hash("utcoffset", code) % 2 == 0:
        return minutes // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _maybe_int(value: str, as_int: bool) -> int | str:
    return int(value) if as_int and value.isdigit() else value


def render_airport(world: World, airport: Airport, langs: list[str]) -> dict[str, Any]:
    real_tz = world.ref.airports[airport.code].tz
    return {
        "AirportCode": airport.code,
        "Position": _position(airport.lat, airport.lon, airport.position_nil),
        "CityCode": airport.city_code,
        "CountryCode": airport.country,
        "LocationType": airport.location_type,
        "Names": _names(langs, airport.name_en, airport.name_de),
        "UtcOffset": _utc_offset(airport.code, real_tz),
        "TimeZoneId": airport.tz,
    }


def render_city(city: City, langs: list[str]) -> dict[str, Any]:
    return {
        "CityCode": city.code,
        "CountryCode": city.country,
        "Position": _position(city.lat, city.lon, city.position_nil),
        "Names": _names(langs, city.name_en, city.name_de),
        "Airports": {"AirportCode": one_or_many(list(city.airports))},
        "UtcOffset": _utc_offset("city:" + city.code, city.tz),
        "TimeZoneId": city.tz,
    }


def _event(world: World, f: Flight, side: str) -> dict[str, Any]:
    if side == "dep":
        airport, loc, utc, kind, delay, ts = f.origin, f.dep_loc, f.dep_utc, f.dep_kind, f.dep_delay, f.dep_ts
        term, gate = f.dep_term, f.dep_gate
    else:
        airport, loc, utc, kind, delay, ts = f.dest, f.arr_loc, f.arr_utc, f.arr_kind, f.arr_delay, f.arr_ts
        term, gate = f.arr_term, f.arr_gate
    out: dict[str, Any] = {
        "AirportCode": airport,
        "ScheduledTimeLocal": {"DateTime": format_minutes(loc)},
        "ScheduledTimeUTC": {"DateTime": format_minutes(utc) + "Z"},
    }
    if kind:
        label = "Actual" if kind == "A" else "Estimated"
        when = utc + delay
        out[f"{label}TimeLocal"] = {
            "DateTime": format_minutes(utc_to_local(world.ref.airports[airport].tz, when))
        }
        out[f"{label}TimeUTC"] = {"DateTime": format_minutes(when) + "Z"}
    out["TimeStatus"] = {"Code": ts, "Definition": ref.TIME_STATUS[ts]}
    if term is not None:
        terminal: dict[str, Any] = {"Name": _maybe_int(term, bool(f.quirks & 4))}
        if gate is not None:
            terminal["Gate"] = gate
        out["Terminal"] = terminal
    return out


def render_flight(world: World, f: Flight) -> dict[str, Any]:
    number: int | str = f.number if f.quirks & 1 else str(f.number)
    marketing: dict[str, Any] = {"AirlineID": f.carrier}
    if not f.number_missing:
        marketing["FlightNumber"] = number
    op_number: int | str = f.op_number if f.quirks & 1 else str(f.op_number)
    return {
        "Departure": _event(world, f, "dep"),
        "Arrival": _event(world, f, "arr"),
        "MarketingCarrier": marketing,
        "OperatingCarrier": {"AirlineID": f.op_carrier, "FlightNumber": op_number},
        "Equipment": {
            "AircraftCode": _maybe_int(f.aircraft, bool(f.quirks & 8)),
            "AircraftRegistration": f.registration,
        },
        "FlightStatus": {"Code": f.status, "Definition": ref.FLIGHT_STATUS[f.status]},
    }


# ---- paging -----------------------------------------------------------------------------------


def _int_param(req: Request, name: str, default: int) -> int:
    return req.int_param(name, default, lambda: invalid(f"Parameter {name} must be an integer, got "
                                                        f"{req.param(name)!r}"))


def paginate(req: Request, total: int, default_limit: int, max_limit: int) -> tuple[int, int, dict[str, Any]]:
    """(offset, limit, Meta) for a listing of ``total`` records."""
    limit = _int_param(req, "limit", default_limit)
    limit = default_limit if limit <= 0 else min(limit, max_limit)
    offset = max(0, _int_param(req, "offset", 0))
    links = [{"@Href": req.url_with(limit=limit, offset=offset), "@Rel": "self"}]
    if total > limit:
        if offset + limit < total:
            links.append({"@Href": req.url_with(limit=limit, offset=offset + limit), "@Rel": "next"})
        last = ((total - 1) // limit) * limit
        links.append({"@Href": req.url_with(limit=limit, offset=last), "@Rel": "last"})
    meta = {"@Version": "1.0.0", "Link": one_or_many(links), "TotalCount": total}
    return offset, limit, meta


# ---- the source -------------------------------------------------------------------------------


class LufthansaSource(Source):
    name = "lufthansa"
    prefix = "/lufthansa/v1"

    def __init__(self, server: MockServer) -> None:
        super().__init__(server)
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self._tokens_lock = threading.Lock()

    # ---- Source hooks -------------------------------------------------------------------------

    def endpoint_group(self, req: Request) -> str:
        parts = req.subpath.split("/")
        if parts[0] == "mds-references":
            parts[0] = "references"
        if parts[:2] == ["oauth", "token"]:
            return "lufthansa/oauth/token"
        if parts[0] == "references" and len(parts) > 1 and parts[1] in _REFERENCE_KINDS:
            if parts[1] == "airports" and len(parts) > 2 and parts[2] == "nearest":
                return "lufthansa/references/airports/nearest"
            return f"lufthansa/references/{parts[1]}"
        if parts[:2] == ["operations", "flightstatus"] and len(parts) > 2:
            if parts[2] in {"departures", "arrivals", "route"}:
                return f"lufthansa/operations/flightstatus/{parts[2]}"
            return "lufthansa/operations/flightstatus"
        return "lufthansa/unknown"

    def is_public(self, req: Request) -> bool:
        return req.subpath == "oauth/token"

    def authenticate(self, req: Request) -> tuple[str | None, Response | None]:
        header = req.headers.get("Authorization") or ""
        token = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else ""
        now = time.monotonic()
        with self._tokens_lock:
            expiry = self._tokens.get(token) if token else None
            if expiry is not None and expiry <= now:
                del self._tokens[token]
                expiry = None
        if expiry is None:
            return None, Response.json(401, {"Error": "Not Authorized"})
        return token, None

    def over_limit(self) -> Response:
        return Response.json(403, {"Error": OVER_QPS})

    def server_error(self, status: int) -> Response:
        if status == 502:
            html = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
            return Response(502, html.encode(), "text/html")
        if status == 503:
            return Response.json(503, {"Error": "Service Unavailable"}, **{"Retry-After": "1"})
        return processing_error(
            500, "InternalError", 1000, "An internal error occurred; please retry", retry=True
        )

    def expire_tokens(self) -> int:
        with self._tokens_lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count

    # ---- routing ------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        parts = [p for p in req.subpath.split("/") if p]
        try:
            if parts == ["oauth", "token"]:
                return self._token(req)
            if req.method not in {"GET", "HEAD"}:
                return Response.json(405, {"Error": "Method Not Allowed"})
            if parts and parts[0] in {"references", "mds-references"} and len(parts) >= 2:
                return self._references(req, parts[1:])
            if parts[:2] == ["operations", "flightstatus"] and len(parts) >= 4:
                return self._flightstatus(req, parts[2:])
        except ApiError as err:
            return err.response()
        return self.not_found(req)

    def _token(self, req: Request) -> Response:
        if req.method != "POST":
            return Response.json(405, {"error": "invalid_request", "error_description": "use POST"})
        form = req.form()
        if form.get("grant_type") != "client_credentials":
            return Response.json(400, {"error": "unsupported_grant_type"})
        cfg = self.server.config
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or not client_secret:
            return Response.json(401, {"error": "invalid_client"})
        if cfg.client_id and cfg.client_secret:
            ok = secrets.compare_digest(client_id, cfg.client_id) and secrets.compare_digest(
                client_secret, cfg.client_secret
            )
            if not ok:
                return Response.json(401, {"error": "invalid_client"})
        token = secrets.token_hex(12)
        with self._tokens_lock:
            now = time.monotonic()
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + cfg.token_ttl
        return Response.json(
            200, {"access_token": token, "token_type": "bearer", "expires_in": cfg.token_ttl}
        )

    # ---- references ---------------------------------------------------------------------------

    def _references(self, req: Request, parts: list[str]) -> Response:
        world = self.server.world
        kind, rest = parts[0], parts[1:]
        langs = _languages(req)
        if kind == "airports" and rest[:1] == ["nearest"] and len(rest) == 2:
            return self._nearest(req, world, rest[1], langs)
        if len(rest) > 1:
            raise not_found("Resource not found")
        code = rest[0].upper() if rest else None
        table: dict[str, tuple[str, Callable[[], list[Any]], Callable[[Any], dict[str, Any]]]] = {
            "countries": (
                "CountryResource",
                lambda: list(world.ref.countries.items()),
                lambda c: {"CountryCode": c[0], "Names": _names(langs, c[1][0], c[1][1])},
            ),
            "cities": (
                "CityResource",
                lambda: list(world.ref.cities.values()),
                lambda c: render_city(c, langs),
            ),
            "airports": (
                "AirportResource",
                lambda: self._airports(req, world),
                lambda a: render_airport(world, a, langs),
            ),
            "airlines": (
                "AirlineResource",
                lambda: list(world.ref.airlines.values()),
                lambda a: {
                    "AirlineID": a.code,
                    "AirlineID_ICAO": a.icao,
                    "Names": _names(langs, a.name_en, a.name_de),
                },
            ),
            "aircraft": (
                "AircraftResource",
                lambda: list(world.ref.aircraft.values()),
                lambda a: {
                    "AircraftCode": _maybe_int(a.code, stable_hash("aircraft", a.code) % 2 == 0),
                    "Names": _names(langs, a.name_en, a.name_de),
                    "AirlineEquipCode": a.airline_equip_code,
                },
            ),
        }
        if kind not in table:
            raise not_found("Resource not found")
        resource, records, render = table[kind]
        items = records()
        if code is not None:
            items = [r for r in items if _record_code(kind, r) == code]
            if not items:
                raise not_found(f"No {kind} found for code {code}")
        offset, limit, meta = paginate(req, len(items), REFERENCE_DEFAULT_LIMIT, REFERENCE_MAX_LIMIT)
        page = items[offset : offset + limit]
        if not page:
            raise not_found(f"No {kind} found at offset {offset}")
        container, member = {
            "countries": ("Countries", "Country"),
            "cities": ("Cities", "City"),
            "airports": ("Airports", "Airport"),
            "airlines": ("Airlines", "Airline"),
            "aircraft": ("AircraftSummaries", "AircraftSummary"),
        }[kind]
        body = {resource: {container: {member: one_or_many([render(r) for r in page])}, "Meta": meta}}
        return Response.json(200, body)

    @staticmethod
    def _airports(req: Request, world: World) -> list[Airport]:
        lh_only = (req.param("LHoperated") or "0").strip().lower() in {"1", "true"}
        codes = world.lh_operated if lh_only else world.listing
        return [a for a in (world.airport(c) for c in codes) if a is not None]

    def _nearest(self, req: Request, world: World, spec: str, langs: list[str]) -> Response:
        try:
            lat_s, lon_s = spec.split(",")
            lat, lon = float(lat_s), float(lon_s)
        except ValueError:
            raise invalid(f"Expected nearest/{{latitude}},{{longitude}}, got {spec!r}") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise invalid(f"Coordinates out of range: {lat},{lon}")
        real = world.ref.airports
        nearest = heapq.nsmallest(
            5, world.listing, key=lambda c: (great_circle_km(lat, lon, real[c].lat, real[c].lon), c)
        )
        airports = []
        for code in nearest:
            record = render_airport(world, world.airport(code) or real[code], langs)
            km = great_circle_km(lat, lon, real[code].lat, real[code].lon)
            record["Distance"] = {"Value": round(km), "UOM": "KM"}
            airports.append(record)
        _, _, meta = paginate(req, len(airports), 5, 5)
        return Response.json(
            200, {"NearestAirportResource": {"Airports": {"Airport": airports}, "Meta": meta}}
        )

    # ---- flight status ------------------------------------------------------------------------

    def _check_date(self, day: date) -> None:
        today = self.server.config.today
        if today is None:
            return
        first, last = today - timedelta(days=1), today + timedelta(days=5)
        if not first <= day <= last:
            raise invalid(
                f"Date {day.isoformat()} is out of range: flight status is available from "
                f"{first.isoformat()} to {last.isoformat()}"
            )

    @staticmethod
    def _airport_code(world: World, raw: str) -> str:
        code = raw.upper()
        if len(code) != 3 or world.known_airport(code) is None:
            raise invalid(f"Invalid airport code {raw!r}")
        return code

    @staticmethod
    def _parse_date(raw: str) -> date:
        try:
            if not _DATE_RE.match(raw):
                raise ValueError(raw)
            return date.fromisoformat(raw)
        except ValueError:
            raise invalid(f"Invalid date {raw!r}; expected YYYY-MM-DD") from None

    def _flightstatus(self, req: Request, parts: list[str]) -> Response:
        world = self.server.world
        anomaly_duplicate = False
        if parts[0] in {"departures", "arrivals"} and len(parts) == 3:
            airport = self._airport_code(world, parts[1])
            if not _DATETIME_RE.match(parts[2]):
                raise invalid(f"Invalid fromDateTime {parts[2]!r}; expected YYYY-MM-DDTHH:mm")
            try:
                start = datetime.strptime(parts[2], "%Y-%m-%dT%H:%M")
            except ValueError:
                raise invalid(f"Invalid fromDateTime {parts[2]!r}; expected YYYY-MM-DDTHH:mm") from None
            self._check_date(start.date())
            flights = world.window("dep" if parts[0] == "departures" else "arr", airport, start, WINDOW_HOURS)
            anomaly_duplicate = world.anomalies and parts[0] == "departures"
        elif parts[0] == "route" and len(parts) == 4:
            origin, dest = self._airport_code(world, parts[1]), self._airport_code(world, parts[2])
            day = self._parse_date(parts[3])
            self._check_date(day)
            flights = [f for f in world.departures(origin, day).flights if f.dest == dest]
        elif len(parts) == 2:
            match = _FLIGHT_NUMBER_RE.match(parts[0].upper())
            if not match:
                raise invalid(f"Invalid flight number {parts[0]!r}; expected e.g. LH400")
            day = self._parse_date(parts[1])
            self._check_date(day)
            flights = world.flights_by_number(match.group(1), int(match.group(2)), day)
        else:
            raise not_found("Resource not found")
        if not flights:
            raise not_found("No flights found")
        limit = min(
            max(_int_param(req, "limit", FLIGHTS_DEFAULT_LIMIT), 0) or FLIGHTS_DEFAULT_LIMIT,
            FLIGHTS_MAX_LIMIT,
        )
        if anomaly_duplicate and len(flights) > limit:
            flights = [*flights[:limit], flights[limit - 1], *flights[limit:]]
        offset, limit, meta = paginate(req, len(flights), FLIGHTS_DEFAULT_LIMIT, FLIGHTS_MAX_LIMIT)
        page = flights[offset : offset + limit]
        if not page:
            raise not_found("No flights found")
        rendered = [render_flight(world, f) for f in page]
        return Response.json(
            200, {"FlightStatusResource": {"Flights": {"Flight": one_or_many(rendered)}, "Meta": meta}}
        )


def _record_code(kind: str, record: Any) -> str:
    if kind == "countries":
        return record[0]
    return record.code
