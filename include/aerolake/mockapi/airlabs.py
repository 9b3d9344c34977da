"""The Airlabs v9 API (``/airlabs/api/v9``) as it really behaves, quirks included.

Routes (``GET``, key in the query string as ``api_key``):

* ``flights`` - real-time positions of the flights in the air (and just landed) at the mock clock
  (``MockConfig.now``), filtered by ``dep_iata``/``arr_iata`` (or ``_icao``), ``airline_iata``,
  ``flight_iata``, ``hex``, ``reg_number``; unfiltered: every flight of the configured hubs; ``_limit``.
* ``schedules`` - the departure/arrival board of an airport: needs one of ``dep_iata``, ``dep_icao``,
  ``arr_iata``, ``arr_icao``, ``airline_iata``, ``airline_icao`` (else ``wrong_params``); flights scheduled
  from 4 hours before the mock clock to 10 hours after it; ``limit`` (default 50, capped at the
  ``airlabs_max_limit`` knob) and ``offset``, with ``request.has_more``; an empty board is the ``not_found``
  error body (as the real API answers).
* ``airports`` (``iata_code``, ``icao_code``, ``country_code``) and ``airlines`` (``iata_code``,
  ``icao_code``): the reference listings, unfiltered: all of them in one answer.
* every route honours ``_fields`` (a comma list of the fields to keep).

The same world flights as the Lufthansa mock (``aerolake.mockapi.world``), seen through this API: the
marketing flight LH400 operated by CityLine is two schedule records, the operating one (``CL400``, no ``cs_``
fields) and the marketing one (``LH400`` with ``cs_airline_iata``/``cs_flight_number`` naming CL400); some
group flights carry a partner's marketing number too. Real-time status (scheduled, active, landed, cancelled)
and estimated/actual times follow the mock clock. Positions come from the flight's great-circle path.

Quirks, decided per flight by a stable hash (so the same every call): ``cs_airline_iata``/``cs_flight_iata``
in lower case on about half the codeshares; ``hex`` null on about 3% of positions, ``reg_number`` null on about
5%, ``alt`` null on about 2%, ``lat``/``lng`` null on about 1%, ``dep_iata``/``dep_icao`` null on about 3%;
``hex`` in upper case; registrations with the national-mark dash ("D-AIXY"); some airlines listed with
``"name": "empty"``, an ICAO-only airline (``iata_code`` null) and a reused IATA code (two "LH" entries). The
success envelope echoes the key in ``request.key.api_key``, as the real one does: clients must keep it out of
their stores.

Errors are ``{"error": {"message", "code"}, "terms"}``: ``unknown_api_key``/``expired_api_key`` (401),
``unknown_method`` (404), ``wrong_params`` (400), ``not_found`` (200), ``minute_limit_exceeded`` /
``hour_limit_exceeded`` / ``month_limit_exceeded`` (429), ``internal_error`` (500); the
``airlabs_errors_as_200`` knob sends all of them with HTTP 200.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from aerolake.aircraft import AIRCRAFT_ICAO
from aerolake.mockapi import reference_data as ref
from aerolake.mockapi.server import MockServer, Request, Response, Source
from aerolake.mockapi.world import (
    EPOCH,
    Flight,
    format_minutes,
    great_circle_point,
    initial_bearing,
    stable_hash,
    utc_to_local,
)

TERMS = ("Unauthorized access is prohibited and punishable by law. \nReselling data 'As Is' without AirLabs.Co "
         "permission is strictly prohibited. \nFull terms on https://airlabs.co/.\nContact us info@airlabs.co")
METHODS = ("flights", "schedules", "airports", "airlines")
SCHEDULES_DEFAULT_LIMIT = 50
BOARD_BEFORE = timedelta(hours=4)  # a board still shows flights scheduled this long ago
BOARD_AHEAD = timedelta(hours=10)  # "the Schedules API returns results up to 10 hours ahead at most"
LANDED_VISIBLE = timedelta(minutes=10)  # a landed aircraft stays in /flights this long after arrival
MONTH = 30 * 86400.0

ERROR_STATUS = {
    "unknown_api_key": 401, "expired_api_key": 401, "unknown_method": 404, "wrong_params": 400, "not_found": 200,
    "minute_limit_exceeded": 429, "hour_limit_exceeded": 429, "month_limit_exceeded": 429, "internal_error": 500,
}
ERROR_MESSAGE = {
    "unknown_api_key": "Unknown API Key", "expired_api_key": "API Key was expired",
    "unknown_method": "Unknown method", "wrong_params": "Wrong params", "not_found": "Nothing found",
    "minute_limit_exceeded": "Minute limit exceeded", "hour_limit_exceeded": "Hour limit exceeded",
    "month_limit_exceeded": "Month limit exceeded", "internal_error": "Internal error",
}


#: national registration marks -> ISO country (the ``flag`` of a position); marks printed without a dash
REGISTRATION_MARKS = {
    "D": "DE", "HB": "CH", "OE": "AT", "OO": "BE", "I": "IT", "N": "US", "C": "CA", "JA": "JP", "9V": "SG",
    "TC": "TR", "F": "FR", "PH": "NL", "G": "GB", "EC": "ES", "OH": "FI", "SE": "SE", "SP": "PL", "CS": "PT",
    "SX": "GR", "9A": "HR", "YU": "RS", "B": "CN", "HL": "KR", "ET": "ET", "SU": "EG", "HS": "TH", "ZK": "NZ",
    "VT": "IN", "ZS": "ZA", "CC": "CL", "HP": "PA", "A6": "AE", "A7": "QA", "EI": "IE",
}  # fmt: skip
_NO_DASH = frozenset({"N", "JA", "HL"})

#: partners that put their marketing number on group flights (a second codeshare record)
CODESHARE_PARTNERS = ("UA", "AC", "NH", "SQ", "TK", "TP")
_GROUP = frozenset({"LH", "LX", "OS", "EW", "SN", "4Y", "EN", "CL", "WK", "2L"})

#: listings quirks: an "empty" name, an ICAO-only airline, a reused IATA code (after the real holder)
EXTRA_AIRLINES: tuple[dict[str, Any], ...] = (
    {"name": "empty", "iata_code": "XQ", "icao_code": "SXS"},
    {"name": "Lufthansa Cargo", "iata_code": None, "icao_code": "GEC"},
    {"name": "Lufthansa Italia", "iata_code": "LH", "icao_code": "LHI"},
)


class AirlabsError(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code, self.message = code, message or ERROR_MESSAGE[code]


def _ts(minutes: int) -> int:
    return minutes * 60


def _utc_text(minutes: int) -> str:
    return format_minutes(minutes).replace("T", " ")


def _minutes(moment: datetime) -> int:
    return int((moment.astimezone(UTC).replace(tzinfo=None) - EPOCH).total_seconds() // 60)


def registration_with_dash(registration: str) -> str:
    """"DAIXY" -> "D-AIXY", "HBJXA" -> "HB-JXA"; US, Japanese and Korean marks carry no dash."""
    mark = next((m for m in (registration[:2], registration[:1]) if m in REGISTRATION_MARKS), None)
    if mark is None or mark in _NO_DASH:
        return registration
    return f"{mark}-{registration[len(mark):]}"


def hex_of(registration: str) -> str:
    """A stable 24-bit ICAO address per airframe, in upper case as Airlabs prints it."""
    return f"{stable_hash('hex', registration) % 0xFFFFFF:06X}"


def _airportsdata() -> dict[str, dict[str, Any]]:
    from aerolake.cleaning import airportsdata_iata

    return airportsdata_iata()


class AirlabsSource(Source):
    name = "airlabs"
    prefix = "/airlabs/api/v9"

    def __init__(self, server: MockServer) -> None:
        super().__init__(server)
        self._lock = threading.Lock()
        self._minute: deque[float] = deque()
        self._hour: deque[float] = deque()
        self._total = 0

    # ---- Source hooks -------------------------------------------------------------------------

    def endpoint_group(self, req: Request) -> str:
        method = req.subpath.strip("/")
        return f"airlabs/{method if method in METHODS else 'unknown'}"

    def reset(self) -> None:
        with self._lock:
            self._minute.clear()
            self._hour.clear()
            self._total = 0

    def authenticate(self, req: Request) -> tuple[str | None, Response | None]:
        cfg = self.server.config
        key = req.param("api_key") or ""
        if not key or (cfg.airlabs_api_key and not secrets.compare_digest(key, cfg.airlabs_api_key)):
            return None, self.error("unknown_api_key")
        if cfg.airlabs_key_expired:
            return None, self.error("expired_api_key")
        over = self._charge()
        if over:
            return None, self.error(over)
        return key, None

    def _charge(self) -> str | None:
        """Count one call against the key's limits; the error code when a limit is already used up."""
        cfg = self.server.config
        now = time.monotonic()
        with self._lock:
            for window, span in ((self._minute, 60.0), (self._hour, 3600.0)):
                while window and window[0] <= now - span:
                    window.popleft()
            if cfg.airlabs_month_limit is not None and self._total >= cfg.airlabs_month_limit:
                return "month_limit_exceeded"
            if cfg.airlabs_hour_limit is not None and len(self._hour) >= cfg.airlabs_hour_limit:
                return "hour_limit_exceeded"
            if cfg.airlabs_minute_limit is not None and len(self._minute) >= cfg.airlabs_minute_limit:
                return "minute_limit_exceeded"
            self._minute.append(now)
            self._hour.append(now)
            self._total += 1
        return None

    def over_limit(self) -> Response:
        return self.error("minute_limit_exceeded")

    def server_error(self, status: int) -> Response:
        if status in (502, 503):  # the CDN in front of the API answers these, in HTML
            title = "502 Bad Gateway" if status == 502 else "503 Service Temporarily Unavailable"
            html = f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center></body></html>"
            return Response(status, html.encode(), "text/html")
        return self.error("internal_error")

    def not_found(self, req: Request) -> Response:
        return self.error("unknown_method")

    def error(self, code: str, message: str | None = None) -> Response:
        status = 200 if self.server.config.airlabs_errors_as_200 else ERROR_STATUS[code]
        return Response.json(status, {"error": {"message": message or ERROR_MESSAGE[code], "code": code},
                                      "terms": TERMS})

    # ---- routing ------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        method = req.subpath.strip("/")
        if req.method not in {"GET", "HEAD"} or method not in METHODS:
            return self.not_found(req)
        try:
            records, extra = getattr(self, f"_{method}")(req)
        except AirlabsError as err:
            return self.error(err.code, err.message)
        if not records and method == "schedules":
            return self.error("not_found")
        fields = [f for f in (req.param("_fields") or "").split(",") if f]
        if fields:
            records = [{k: r.get(k) for k in fields} for r in records]
        return Response.json(200, {"request": self._request_echo(req, method, extra), "response": records,
                                   "terms": TERMS})

    def _request_echo(self, req: Request, method: str, extra: dict[str, Any]) -> dict[str, Any]:
        cfg = self.server.config
        key = req.param("api_key") or ""
        params = {k: v for k, v in req.query if k != "api_key"}
        now = cfg.current_time()
        return {
            "lang": "en", "currency": "USD", "time": 1 + stable_hash("time", req.path) % 40,
            "id": f"{stable_hash('id', req.path, sorted(params.items()), now.isoformat()) % 36**11:011x}"[:11],
            "server": "a", "host": "airlabs.co", "pid": 100000 + stable_hash("pid", key) % 900000,
            "key": {"id": 10000 + stable_hash("keyid", key) % 90000, "api_key": key, "type": "free",
                    "expired": None, "registered": "2025-01-01T00:00:00.000Z", "upgraded": None,
                    "limits_by_hour": cfg.airlabs_hour_limit or 2500,
                    "limits_by_minute": cfg.airlabs_minute_limit or 250,
                    "limits_by_month": cfg.airlabs_month_limit or 1000, "limits_total": self._total},
            "params": {**params, "lang": "en"}, "version": 9, "method": method, **extra,
            "client": {"ip": "127.0.0.1", "geo": {"country_code": "DE", "country": "Germany", "continent": "Europe",
                                                   "city": "Frankfurt am Main", "lat": 50.1109, "lng": 8.6821,
                                                   "timezone": "Europe/Berlin"},
                       "connection": {}, "device": {}, "agent": {},
                       "karma": {"is_blocked": False, "is_crawler": False, "is_bot": False, "is_friend": False,
                                 "is_regular": True}},
        }

    # ---- helpers ------------------------------------------------------------------------------

    def _airport_param(self, req: Request, side: str) -> str | None:
        """The IATA code asked for by ``{side}_iata`` or ``{side}_icao`` (None when neither is given)."""
        iata, icao = req.param(f"{side}_iata"), req.param(f"{side}_icao")
        if iata:
            code = iata.strip().upper()
        elif icao:
            code = next((c for c, a in _airportsdata().items() if a.get("icao") == icao.strip().upper()), "")
        else:
            return None
        if self.server.world.known_airport(code) is None:
            raise AirlabsError("wrong_params", f"Unknown airport {iata or icao}")
        return code

    def _world_flights(self, airport: str, side: str, lo: int, hi: int) -> list[Flight]:
        """World flights departing (side dep) or arriving (arr) at ``airport`` with that UTC time in [lo, hi)."""
        world = self.server.world
        tz = world.ref.airports[airport].tz
        start = utc_to_local(tz, lo) - 120
        hours = (hi - lo) // 60 + 5
        flights = world.window(side, airport, EPOCH + timedelta(minutes=start), hours)
        key = (lambda f: f.dep_utc) if side == "dep" else (lambda f: f.arr_utc)
        seen: set[int] = set()
        out = []
        for f in sorted(flights, key=lambda f: (key(f), f.carrier, f.number, f.origin)):
            if lo <= key(f) < hi and id(f) not in seen:
                seen.add(id(f))
                out.append(f)
        return out

    def _filtered(self, req: Request, lo: int, hi: int) -> list[Flight]:
        """Hub or airport flights matching the request's dep/arr filters, each once."""
        dep, arr = self._airport_param(req, "dep"), self._airport_param(req, "arr")
        if dep:
            flights = self._world_flights(dep, "dep", lo, hi)
            if arr:
                flights = [f for f in flights if f.dest == arr]
        elif arr:
            flights = self._world_flights(arr, "arr", lo, hi)
        else:
            found: dict[int, Flight] = {}
            for hub in self.server.world.hubs:
                for side in ("dep", "arr"):
                    for f in self._world_flights(hub, side, lo, hi):
                        found.setdefault(id(f), f)
            flights = sorted(found.values(), key=lambda f: (f.dep_utc, f.carrier, f.number, f.origin))
        return flights

    # ---- schedules ----------------------------------------------------------------------------

    def _schedules(self, req: Request) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        if not any(req.param(p) for p in ("dep_iata", "dep_icao", "arr_iata", "arr_icao", "airline_iata",
                                          "airline_icao")):
            raise AirlabsError("wrong_params", "One of dep_iata, dep_icao, arr_iata, arr_icao, airline_iata or "
                                               "airline_icao is required")
        now = _minutes(self.server.config.current_time())
        lo, hi = now - BOARD_BEFORE.seconds // 60, now + BOARD_AHEAD.seconds // 60
        by_arrival = bool(req.param("arr_iata") or req.param("arr_icao")) and not (
            req.param("dep_iata") or req.param("dep_icao"))
        flights = self._filtered(req, lo, hi)  # without an airport (airline boards): the hubs' flights
        records = [r for f in flights for r in self.schedule_records(f, now)]
        airline = (req.param("airline_iata") or "").strip().upper()
        airline_icao = (req.param("airline_icao") or "").strip().upper()
        if airline:
            records = [r for r in records if r["airline_iata"] == airline]
        if airline_icao:
            records = [r for r in records if r["airline_icao"] == airline_icao]
        if by_arrival:
            records.sort(key=lambda r: (r["arr_time_ts"], r["airline_iata"], r["flight_number"] or ""))
        limit = _int_param(req, "limit", SCHEDULES_DEFAULT_LIMIT)
        limit = min(max(limit, 1), self.server.config.airlabs_max_limit)
        offset = max(0, _int_param(req, "offset", 0))
        page = records[offset:offset + limit]
        return page, {"has_more": offset + limit < len(records)}

    def schedule_records(self, f: Flight, now: int) -> list[dict[str, Any]]:
        """The board records of one flight: the operating flight, plus one record per marketing codeshare."""
        base = self._schedule_base(f, now)
        operating = {"airline_iata": f.op_carrier, "airline_icao": _airline_icao(f.op_carrier),
                     "flight_iata": f"{f.op_carrier}{f.op_number}",
                     "flight_icao": _flight_icao(f.op_carrier, f.op_number),
                     "flight_number": str(f.op_number), "cs_airline_iata": None, "cs_flight_number": None,
                     "cs_flight_iata": None}
        records = [{**operating, **base}]
        shares: list[tuple[str, int | None]] = []
        if f.carrier != f.op_carrier:
            shares.append((f.carrier, None if f.number_missing else f.number))
        h = stable_hash("codeshare", f.origin, f.dest, f.dep_utc, f.op_carrier, f.op_number)
        if f.op_carrier in _GROUP and h % 4 == 0:
            shares.append((CODESHARE_PARTNERS[(h >> 8) % len(CODESHARE_PARTNERS)], 8000 + (h >> 16) % 1999))
        for carrier, number in shares:
            lower = stable_hash("cslower", carrier, number) % 2 == 0
            cs_airline = f.op_carrier.lower() if lower else f.op_carrier
            marketing = {"airline_iata": carrier, "airline_icao": _airline_icao(carrier),
                         "flight_iata": None if number is None else f"{carrier}{number}",
                         "flight_icao": None if number is None else _flight_icao(carrier, number),
                         "flight_number": None if number is None else str(number),
                         "cs_airline_iata": cs_airline, "cs_flight_number": str(f.op_number),
                         "cs_flight_iata": f"{cs_airline}{f.op_number}"}
            records.append({**marketing, **base})
        if f.number_missing and f.carrier == f.op_carrier:  # the anomaly: no flight number at all
            records[0].update(flight_number=None, flight_iata=None, flight_icao=None)
        return records

    def _schedule_base(self, f: Flight, now: int) -> dict[str, Any]:
        world = self.server.world
        ad = _airportsdata()
        dep_eff, arr_eff = f.dep_utc + f.dep_delay, f.arr_utc + f.arr_delay
        cancelled = f.status == "CD"
        if cancelled:
            status = "cancelled"
        elif now < dep_eff:
            status = "scheduled"
        elif now < arr_eff:
            status = "active"
        else:
            status = "landed"
        out: dict[str, Any] = {"dep_iata": f.origin, "dep_icao": (ad.get(f.origin) or {}).get("icao") or None,
                               "dep_terminal": f.dep_term, "dep_gate": f.dep_gate}
        for side, airport, sched, eff, delay in (("dep", f.origin, f.dep_utc, dep_eff, f.dep_delay),
                                                 ("arr", f.dest, f.arr_utc, arr_eff, f.arr_delay)):
            tz = world.ref.airports[airport].tz
            if side == "arr":
                out.update({"arr_iata": f.dest, "arr_icao": (ad.get(f.dest) or {}).get("icao") or None,
                            "arr_terminal": f.arr_term, "arr_gate": f.arr_gate,
                            "arr_baggage": None if cancelled or stable_hash("belt", f.dest, sched) % 3 == 0
                            else str(1 + stable_hash("belt", f.dest, sched) % 24)})
            out[f"{side}_time"] = _utc_text(utc_to_local(tz, sched))
            out[f"{side}_time_utc"] = _utc_text(sched)
            out[f"{side}_time_ts"] = _ts(sched)
            known = not cancelled and (now >= eff or delay != 0)
            estimated = known and now < eff
            actual = known and now >= eff
            for label, show in (("estimated", estimated), ("actual", actual)):
                out[f"{side}_{label}"] = _utc_text(utc_to_local(tz, eff)) if show else None
                out[f"{side}_{label}_utc"] = _utc_text(eff) if show else None
                out[f"{side}_{label}_ts"] = _ts(eff) if show else None
        out["status"] = status
        out["duration"] = f.arr_utc - f.dep_utc
        out["delayed"] = f.dep_delay if f.dep_delay > 0 and not cancelled else None
        out["dep_delayed"] = out["delayed"]
        out["arr_delayed"] = f.arr_delay if f.arr_delay > 0 and not cancelled else None
        out["aircraft_icao"] = AIRCRAFT_ICAO.get(f.aircraft)
        # the record's key order as the real API prints it
        order = ("dep_iata", "dep_icao", "dep_terminal", "dep_gate", "dep_time", "dep_time_utc", "dep_estimated",
                 "dep_estimated_utc", "dep_actual", "dep_actual_utc", "arr_iata", "arr_icao", "arr_terminal",
                 "arr_gate", "arr_baggage", "arr_time", "arr_time_utc", "arr_estimated", "arr_estimated_utc",
                 "arr_actual", "arr_actual_utc", "status", "duration", "delayed", "dep_delayed", "arr_delayed",
                 "aircraft_icao", "arr_time_ts", "dep_time_ts", "arr_estimated_ts", "dep_estimated_ts",
                 "arr_actual_ts", "dep_actual_ts")
        return {k: out[k] for k in order}

    # ---- real-time positions ------------------------------------------------------------------

    def _flights(self, req: Request) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        now = _minutes(self.server.config.current_time())
        now_s = int(self.server.config.current_time().timestamp())
        lo, hi = now - 24 * 60, now + 24 * 60
        dep, arr = req.param("dep_iata") or req.param("dep_icao"), req.param("arr_iata") or req.param("arr_icao")
        if dep and not arr:
            candidates = self._filtered(req, lo, now + 1)
        elif arr and not dep:
            candidates = self._filtered(req, now - 1, hi)
        else:
            candidates = self._filtered(req, lo, hi)
        records = [r for r in (self.position_record(f, now_s) for f in candidates) if r is not None]
        for name in ("airline_iata", "flight_iata", "hex", "reg_number"):
            wanted = (req.param(name) or "").strip().upper()
            if wanted:
                records = [r for r in records if (r.get(name) or "").upper() == wanted]
        limit = _int_param(req, "_limit", 0)
        return (records[:limit] if limit > 0 else records), {}

    def flight_state(self, f: Flight, now_s: int) -> dict[str, Any] | None:
        """Where a flight is as last reported at ``now_s`` (``updated``, up to 90 s before): position, altitude (m),
        heading, speed (km/h), vertical speed (m/s), airborne; None unless in the air or landed minutes ago. The
        kinematics every real-time view of the world shares (Airlabs positions, OpenSky state vectors)."""
        if f.status == "CD":
            return None
        dep_s, arr_s = _ts(f.dep_utc + f.dep_delay), _ts(f.arr_utc + f.arr_delay)
        h = stable_hash("pos", f.registration, f.origin, f.dep_utc)
        updated = now_s - (stable_hash("age", h, now_s // 60) % 90)
        if not dep_s <= updated < arr_s + LANDED_VISIBLE.seconds:
            return None
        world = self.server.world
        o, d = world.ref.airports[f.origin], world.ref.airports[f.dest]
        airborne = updated < arr_s
        fraction = min(1.0, (updated - dep_s) / max(60, arr_s - dep_s))
        lat, lng = great_circle_point(o.lat, o.lon, d.lat, d.lon, fraction)
        heading = initial_bearing(lat, lng, d.lat, d.lon) if fraction < 1.0 else initial_bearing(o.lat, o.lon, d.lat, d.lon)
        since, until = (updated - dep_s) / 60, (arr_s - updated) / 60
        cruise = 7600 if f.aircraft in {a[0] for a in ref.AIRCRAFT if a[4] == "R"} else 11300
        if not airborne:
            alt, speed, v_speed = 0, 12, 0
        elif since < 20:
            alt, speed, v_speed = round(cruise * since / 20), round(300 + 540 * since / 20), 9.1
        elif until < 25:
            alt, speed, v_speed = round(cruise * until / 25), round(280 + 560 * until / 25), -7.2
        else:
            alt, speed, v_speed = cruise + 20 * (h % 31), 820 + h % 90, 0
        return {"hash": h, "updated": updated, "lat": round(lat, 6), "lng": round(lng, 6), "alt": alt,
                "dir": round(heading, 1), "speed": speed, "v_speed": v_speed, "airborne": airborne}

    def position_record(self, f: Flight, now_s: int) -> dict[str, Any] | None:
        """The /flights record of a flight in the air (or landed minutes ago) at ``now_s``, else None."""
        state = self.flight_state(f, now_s)
        if state is None:
            return None
        h, updated, airborne = state["hash"], state["updated"], state["airborne"]
        ad = _airportsdata()
        reg = registration_with_dash(f.registration)
        record = {
            "hex": hex_of(f.registration), "reg_number": reg,
            "flag": REGISTRATION_MARKS.get(reg.split("-")[0]) if "-" in reg else REGISTRATION_MARKS.get(reg[:1]),
            "lat": state["lat"], "lng": state["lng"], "alt": state["alt"], "dir": state["dir"],
            "speed": state["speed"], "v_speed": state["v_speed"], "squawk": None, "flight_number": str(f.op_number),
            "flight_icao": _flight_icao(f.op_carrier, f.op_number), "flight_iata": f"{f.op_carrier}{f.op_number}",
            "dep_icao": (ad.get(f.origin) or {}).get("icao") or None, "dep_iata": f.origin,
            "arr_icao": (ad.get(f.dest) or {}).get("icao") or None, "arr_iata": f.dest,
            "airline_icao": _airline_icao(f.op_carrier), "airline_iata": f.op_carrier,
            "aircraft_icao": AIRCRAFT_ICAO.get(f.aircraft), "updated": updated,
            "status": "en-route" if airborne else "landed", "type": "adsb",
        }
        quirk = h % 100
        if quirk < 3:
            record["hex"] = None
        elif quirk < 8:
            record["reg_number"] = None
        elif quirk < 10:
            record["alt"] = None
        elif quirk < 11:
            record["lat"] = record["lng"] = None
        elif quirk < 14:
            record["dep_iata"] = record["dep_icao"] = None
        return record

    # ---- references ---------------------------------------------------------------------------

    def _airports(self, req: Request) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        ad = _airportsdata()
        records = []
        for code in sorted(ad):
            entry = ad[code]
            records.append({"name": entry.get("name") or None, "iata_code": code,
                            "icao_code": entry.get("icao") or None,
                            "lat": float(entry["lat"]), "lng": float(entry["lon"]),
                            "country_code": entry.get("country") or None})
        return _match(records, req, ("iata_code", "icao_code", "country_code")), {}

    def _airlines(self, req: Request) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        records: list[dict[str, Any]] = [{"name": a[2], "iata_code": a[0], "icao_code": a[1]} for a in ref.AIRLINES]
        records.sort(key=lambda r: r["icao_code"])
        records.extend(dict(r) for r in EXTRA_AIRLINES)
        return _match(records, req, ("iata_code", "icao_code")), {}


def _match(records: list[dict[str, Any]], req: Request, fields: Iterable[str]) -> list[dict[str, Any]]:
    for name in fields:
        wanted = (req.param(name) or "").strip().upper()
        if wanted:
            records = [r for r in records if (r.get(name) or "").upper() == wanted]
    return records


def _int_param(req: Request, name: str, default: int) -> int:
    return req.int_param(name, default, lambda: AirlabsError("wrong_params", f"{name} must be an integer"))


_ICAO_BY_IATA = {a[0]: a[1] for a in ref.AIRLINES}


def _airline_icao(carrier: str) -> str | None:
    return _ICAO_BY_IATA.get(carrier)


def _flight_icao(carrier: str, number: int) -> str | None:
    icao = _airline_icao(carrier)
    return f"{icao}{number}" if icao else None
