"""The OpenSky Network REST API (``/opensky/api``) and its auth server, as they really behave.

Routes:

* ``POST auth/realms/opensky-network/protocol/openid-connect/token`` (the auth server's token endpoint, served
  below the API's base here): form ``grant_type=client_credentials``, ``client_id``, ``client_secret``; answers
  ``{"access_token", "expires_in": 1800, "refresh_expires_in": 0, "token_type": "Bearer", "not-before-policy": 0,
  "scope"}`` (``opensky_token_ttl``), 401 ``{"error": "invalid_client", ...}`` for bad credentials (any non-empty
  pair is good unless ``opensky_client_id``/``_secret`` are set), 400 ``unsupported_grant_type``. Never faulted.
* ``GET states/all`` (``lamin``, ``lomin``, ``lamax``, ``lomax``, ``time``, ``icao24`` repeatable,
  ``extended=1``): ``{"time": t, "states": [[17 or 18 values], ...] | null}`` at the mock clock (``now``), rounded
  to 10 s for an anonymous caller (who may not ask for ``time``: ignored) and 5 s for a registered one (``time``
  up to an hour back, else 400). The aircraft are the Airlabs mock's at the same moment (the same world flights,
  positions, altitudes, headings and speeds: ``AirlabsSource.flight_state``), ``icao24`` the lower-case Airlabs
  ``hex``; velocity in m/s, floats as JSON numbers, the callsign padded to 8 characters. Bounded by the box.
* ``GET flights/departure`` and ``flights/arrival`` (``airport`` ICAO, ``begin``, ``end``): an array of the
  12-member flight objects, first seen (departures) or last seen (arrivals) in ``[begin, end]``; only flights
  before the mock clock's UTC day (the nightly batch); an interval over seven days or ``end < begin``: 400 with
  the API's message; nothing: 404 with an empty body. Registered callers only (anonymous: 401).

Credits per caller and UTC day of the mock clock (``opensky_daily_credits``, ``opensky_anonymous_credits``; None:
unlimited): ``/states/all`` by the box's square degrees (25: 1, 100: 2, 400: 3, more or none: 4), ``/flights/*``
4 under 24 hours, else by day partitions (1-2: 30, 3-10: 60 each, 11-25: 480 each, more: 960 each). Every
answer carries ``X-Rate-Limit-Remaining``; a request the credits cannot pay is 429 with
``X-Rate-Limit-Retry-After-Seconds`` (until the next UTC midnight). The fault knobs answer 429 with a short
retry-after, 500 (JSON) and 502/503 (the proxy's HTML).

Quirks, per flight by a stable hash (so the same in every view and every call): about 2% without callsign
(``null``), about 10% with an alphanumeric ATC callsign (``DLH9KT``: no flight number), about 3% of flights
whose departure airport OpenSky could not tell and 5% whose arrival airport (``null``), a diverted flight
without arrival airport; on the ground ``baro_altitude``/``geo_altitude``/``vertical_rate`` are null, about 2% of
airborne vectors lack ``baro_altitude``; an unbounded query also lists aircraft without a position in the
last 15 s (``time_position``, ``longitude``, ``latitude`` null); squawk null on about 5%.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aerolake.mockapi import reference_data as ref
from aerolake.mockapi.airlabs import REGISTRATION_MARKS, AirlabsSource, hex_of
from aerolake.mockapi.server import MockServer, Request, Response, Source
from aerolake.mockapi.world import Flight, stable_hash

TOKEN_PATH = "auth/realms/opensky-network/protocol/openid-connect/token"  # noqa: S105 (a path)
STATES_PATH = "states/all"
FLIGHT_PATHS = {"flights/departure": "dep", "flights/arrival": "arr"}
MAX_INTERVAL = 7 * 86_400  # "The given time interval must not be larger than seven days!"
HISTORY = 3_600  # a registered caller's ``time`` may be up to an hour back
DAY = 86_400
#: the fault knob's 429 (a burst, not the day's credits): retry after this many seconds
SHORT_RETRY_AFTER = 2
_ICAO_BY_IATA = {a[0]: a[1] for a in ref.AIRLINES}
_WIDE = {a[0] for a in ref.AIRCRAFT if a[4] == "W"}


def states_credits(box: tuple[float, float, float, float] | None) -> int:
    if box is None:
        return 4
    area = max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])
    return 1 if area <= 25 else 2 if area <= 100 else 3 if area <= 400 else 4


def flights_credits(begin: int, end: int) -> int:
    if end - begin < DAY:
        return 4
    partitions = end // DAY - begin // DAY + 1
    if partitions <= 2:
        return 30
    return (60 if partitions <= 10 else 480 if partitions <= 25 else 960) * partitions


class BadRequest(Exception):
    """A request the API refuses with 400 and a message."""


def _airportsdata() -> dict[str, dict[str, Any]]:
    from aerolake.cleaning import airportsdata_iata

    return airportsdata_iata()


def _iata_of_icao(icao: str) -> str | None:
    code = icao.strip().upper()
    return next((iata for iata, a in sorted(_airportsdata().items()) if (a.get("icao") or "") == code), None)


def _icao_of(iata: str) -> str | None:
    return (_airportsdata().get(iata) or {}).get("icao") or None


def callsign_of(f: Flight) -> str | None:
    """The flight's callsign as its transponder sends it (padded to 8), the same in every answer: the operating
    carrier's ICAO designator and number; about 10% an alphanumeric ATC callsign, about 2% none."""
    h = stable_hash("callsign", f.registration, f.origin, f.dep_utc)
    icao = _ICAO_BY_IATA.get(f.op_carrier)
    if icao is None or h % 100 < 2:
        return None
    if h % 100 < 12:  # an ATC callsign: digits and letters, no flight number
        letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
        return f"{icao}{1 + (h >> 8) % 9}{letters[(h >> 12) % 23]}{letters[(h >> 17) % 23]}".ljust(8)
    return f"{icao}{f.op_number}".ljust(8)


def _country_name(registration: str) -> str:
    from aerolake.cleaning import country_names

    mark = next((m for m in (registration[:2], registration[:1]) if m in REGISTRATION_MARKS), None)
    return country_names().get(REGISTRATION_MARKS.get(mark or "", ""), "Germany")


class OpenskySource(Source):
    name = "opensky"
    prefix = "/opensky/api"

    def __init__(self, server: MockServer) -> None:
        super().__init__(server)
        self._kinematics = AirlabsSource(server)  # the positions every real-time view shares (not mounted)
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (client id, monotonic expiry)
        self._spent: dict[tuple[str, str], int] = {}  # (caller, UTC day) -> credits spent
        self._lock = threading.Lock()

    # ---- Source hooks -------------------------------------------------------------------------

    def endpoint_group(self, req: Request) -> str:
        path = req.subpath.strip("/")
        if path == TOKEN_PATH:
            return "opensky/auth/token"
        return f"opensky/{path}" if path == STATES_PATH or path in FLIGHT_PATHS else "opensky/unknown"

    def is_public(self, req: Request) -> bool:
        return req.subpath.strip("/") == TOKEN_PATH

    def _caller(self, req: Request) -> tuple[str | None, bool]:
        """(caller, known): ``anonymous`` without a bearer token, the client id of a valid one, (None, False) for
        an invalid or expired token."""
        header = req.headers.get("Authorization") or ""
        if not header:
            return "anonymous", True
        token = header[len("Bearer "):].strip() if header.startswith("Bearer ") else ""
        now = time.monotonic()
        with self._lock:
            entry = self._tokens.get(token) if token else None
            if entry is not None and entry[1] <= now:
                del self._tokens[token]
                entry = None
        return (f"client:{entry[0]}", True) if entry else (None, False)

    def authenticate(self, req: Request) -> tuple[str | None, Response | None]:
        caller, known = self._caller(req)
        if not known:
            return None, self._unauthorized('Bearer error="invalid_token"')
        return caller, None

    @staticmethod
    def _unauthorized(challenge: str) -> Response:
        return Response(401, b"", "text/plain", {"WWW-Authenticate": challenge})

    def over_limit(self) -> Response:
        return Response(429, b"Too many requests", "text/plain",
                        {"X-Rate-Limit-Retry-After-Seconds": str(SHORT_RETRY_AFTER)})

    def server_error(self, status: int) -> Response:
        if status in (502, 503):  # the proxy in front of the API answers these, in HTML
            title = "502 Bad Gateway" if status == 502 else "503 Service Temporarily Unavailable"
            html = f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center></body></html>"
            return Response(status, html.encode(), "text/html")
        return Response.json(500, {"timestamp": 0, "status": 500, "error": "Internal Server Error",
                                    "path": f"{self.prefix}/"})

    def not_found(self, req: Request) -> Response:
        return Response(404, b"", "text/plain")

    def expire_tokens(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count

    def reset(self) -> None:
        with self._lock:
            self._spent.clear()

    # ---- credits ------------------------------------------------------------------------------

    def _allowance(self, caller: str) -> int | None:
        cfg = self.server.config
        return cfg.opensky_anonymous_credits if caller == "anonymous" else cfg.opensky_daily_credits

    def _spend(self, caller: str, cost: int) -> tuple[int | None, Response | None]:
        """Charge ``cost`` credits: (credits left, None), or (None, the 429) when they cannot be paid."""
        allowance = self._allowance(caller)
        if allowance is None:
            return None, None
        now = self.server.config.current_time()
        key = (caller, now.date().isoformat())
        with self._lock:
            spent = self._spent.get(key, 0)
            if spent + cost > allowance:
                midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
                wait = max(1, math.ceil((midnight - now).total_seconds()))
                return None, Response(429, b"Too many requests", "text/plain",
                                      {"X-Rate-Limit-Retry-After-Seconds": str(wait)})
            self._spent[key] = spent + cost
            return allowance - spent - cost, None

    # ---- routing ------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        path = req.subpath.strip("/")
        if path == TOKEN_PATH:
            return self._token(req)
        if req.method not in {"GET", "HEAD"} or (path != STATES_PATH and path not in FLIGHT_PATHS):
            return self.not_found(req)
        caller, _known = self._caller(req)
        assert caller is not None  # authenticate refused the rest
        try:
            if path == STATES_PATH:
                cost, answer = self._states(req, caller)
            else:
                if caller == "anonymous":
                    return self._unauthorized('Bearer realm="opensky-network"')
                cost, answer = self._flights(req, FLIGHT_PATHS[path])
        except BadRequest as err:
            return Response(400, str(err).encode(), "text/plain")
        left, refused = self._spend(caller, cost)
        if refused is not None:
            return refused
        if left is not None:
            answer.headers["X-Rate-Limit-Remaining"] = str(left)
        return answer

    def _token(self, req: Request) -> Response:
        if req.method != "POST":
            return Response.json(405, {"error": "invalid_request", "error_description": "HTTP method not allowed"})
        form = req.form()
        if form.get("grant_type") != "client_credentials":
            return Response.json(400, {"error": "unsupported_grant_type",
                                       "error_description": "Unsupported grant_type"})
        cfg = self.server.config
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        good = bool(client_id and client_secret)
        if good and cfg.opensky_client_id and cfg.opensky_client_secret:
            good = secrets.compare_digest(client_id, cfg.opensky_client_id) and secrets.compare_digest(
                client_secret, cfg.opensky_client_secret)
        if not good:
            return Response.json(401, {"error": "invalid_client",
                                       "error_description": "Invalid client or Invalid client credentials"})
        token = "eyJ" + secrets.token_urlsafe(48)
        with self._lock:
            now = time.monotonic()
            self._tokens = {t: e for t, e in self._tokens.items() if e[1] > now}
            self._tokens[token] = (client_id, now + cfg.opensky_token_ttl)
        return Response.json(200, {"access_token": token, "expires_in": cfg.opensky_token_ttl,
                                   "refresh_expires_in": 0, "token_type": "Bearer", "not-before-policy": 0,
                                   "scope": "email profile"})

    # ---- state vectors --------------------------------------------------------------------------

    def _states(self, req: Request, caller: str) -> tuple[int, Response]:
        box_params = [req.param(k) for k in ("lamin", "lomin", "lamax", "lomax")]
        box: tuple[float, float, float, float] | None = None
        if any(p not in (None, "") for p in box_params):
            try:
                box = tuple(float(p) for p in box_params)  # type: ignore[assignment, arg-type]
            except (TypeError, ValueError):
                raise BadRequest("lamin, lomin, lamax and lomax must all be given, as numbers") from None
        now = int(self.server.config.current_time().timestamp())
        moment = now - now % 10
        if caller != "anonymous":
            asked = req.param("time")
            try:
                moment = int(asked) if asked not in (None, "") else now
            except ValueError:
                raise BadRequest("time must be an integer (Unix seconds)") from None
            if moment < now - HISTORY:
                raise BadRequest("The time parameter is too far in the past: at most one hour back")
            moment = min(moment, now)
            moment -= moment % 5
        wanted = {v.strip().lower() for k, v in req.query if k == "icao24" and v.strip()}
        extended = req.param("extended") == "1"
        states = []
        for f in self._in_the_air(moment):
            vector = self.state_vector(f, moment, extended, positionless=box is None)
            if vector is None or (wanted and vector[0] not in wanted):
                continue
            if box is not None and not (vector[6] is not None and box[0] <= vector[6] <= box[2]
                                        and box[1] <= vector[5] <= box[3]):
                continue
            states.append(vector)
        states.sort(key=lambda v: v[0])
        return states_credits(box), Response.json(200, {"time": moment, "states": states or None})

    def _in_the_air(self, moment: int) -> list[Flight]:
        """The hubs' flights around ``moment`` (the Airlabs mock's unfiltered /flights: the same aircraft)."""
        minutes = moment // 60
        found: dict[int, Flight] = {}
        for hub in self.server.world.hubs:
            for side in ("dep", "arr"):
                for f in self._kinematics._world_flights(hub, side, minutes - 24 * 60, minutes + 24 * 60):
                    found.setdefault(id(f), f)
        return sorted(found.values(), key=lambda f: (f.dep_utc, f.carrier, f.number, f.origin))

    def state_vector(self, f: Flight, moment: int, extended: bool = False, positionless: bool = False
                     ) -> list[Any] | None:
        """The state vector of a flight at ``moment`` (None when it is not about), by position as OpenSky sends it."""
        state = self._kinematics.flight_state(f, moment)
        if state is None:
            return None
        h, airborne = state["hash"], state["airborne"]
        quirk = stable_hash("osquirk", h) % 100
        no_position = quirk < 1
        if no_position and not positionless:
            return None  # a box holds only aircraft with a position
        seen = state["updated"]
        alt = float(state["alt"])
        vector: list[Any] = [
            hex_of(f.registration).lower(), callsign_of(f), _country_name(f.registration),
            None if no_position else seen, min(moment, seen + h % 4),
            None if no_position else state["lng"], None if no_position else state["lat"],
            (None if quirk in (1, 2) else alt) if airborne else None,
            not airborne, round(state["speed"] / 3.6, 2), state["dir"],
            float(state["v_speed"]) if airborne else None, None,
            alt + float(h % 120) if airborne else None,
            None if quirk >= 95 else f"{(h >> 4) % 8}{(h >> 7) % 8}{(h >> 10) % 8}{(h >> 13) % 8}",
            False, 2 if quirk in (10, 11, 12) else 0,
        ]
        if extended:
            vector.append(6 if f.aircraft in _WIDE else 4)
        return vector

    # ---- flights --------------------------------------------------------------------------------

    def _flights(self, req: Request, side: str) -> tuple[int, Response]:
        airport = (req.param("airport") or "").strip().upper()
        try:
            begin, end = int(req.param("begin") or ""), int(req.param("end") or "")
        except ValueError:
            raise BadRequest("airport, begin and end are required (begin and end: Unix seconds)") from None
        if not airport:
            raise BadRequest("airport, begin and end are required (begin and end: Unix seconds)")
        if end < begin:
            raise BadRequest("The end of the interval must not be before its beginning!")
        if end - begin > MAX_INTERVAL:
            raise BadRequest("The given time interval must not be larger than seven days!")
        cost = flights_credits(begin, end)
        iata = _iata_of_icao(airport)
        now = self.server.config.current_time()
        computed_until = int(datetime(now.year, now.month, now.day, tzinfo=UTC).timestamp())  # the nightly batch
        records = []
        if iata is not None and self.server.world.known_airport(iata) is not None:
            # scheduled times around the interval: a flight is seen up to 7 hours after its schedule (delays)
            lo, hi = (begin - 8 * 3600) // 60, (end + 3600) // 60 + 1
            for f in self._kinematics._world_flights(iata, side, lo, hi):
                record = self.flight_record(f)
                if record is None:
                    continue
                at = record["firstSeen"] if side == "dep" else record["lastSeen"]
                if begin <= at <= end and at < computed_until:
                    records.append(record)
        records.sort(key=lambda r: (r["firstSeen"] if side == "dep" else r["lastSeen"], r["icao24"]))
        if not records:
            return cost, Response(404, b"", "text/plain")
        return cost, Response.json(200, records)

    def flight_record(self, f: Flight) -> dict[str, Any] | None:
        """The flight as OpenSky's batch lists it (None for a cancelled one: nothing flew)."""
        if f.status == "CD":
            return None
        h = stable_hash("osflight", f.registration, f.origin, f.dep_utc)
        first = (f.dep_utc + f.dep_delay) * 60 + h % 60
        last = (f.arr_utc + f.arr_delay) * 60 - (h >> 6) % 60
        origin = None if h % 100 < 3 else _icao_of(f.origin)
        dest = _icao_of(f.origin) if f.status == "RT" else _icao_of(f.dest)
        if f.status == "DV" or (h >> 12) % 100 < 5:
            dest = None
        return {
            "icao24": hex_of(f.registration).lower(), "firstSeen": first, "estDepartureAirport": origin,
            "lastSeen": last, "estArrivalAirport": dest, "callsign": callsign_of(f),
            "estDepartureAirportHorizDistance": 200 + (h >> 20) % 2800 if origin else None,
            "estDepartureAirportVertDistance": 10 + (h >> 24) % 90 if origin else None,
            "estArrivalAirportHorizDistance": 150 + (h >> 28) % 3200 if dest else None,
            "estArrivalAirportVertDistance": 5 + (h >> 32) % 60 if dest else None,
            "departureAirportCandidatesCount": 1 + (h >> 36) % 3 if origin else 0,
            "arrivalAirportCandidatesCount": 1 + (h >> 40) % 3 if dest else 0,
        }
