"""Airlabs v9: API-key client, the snapshot fetch plan, record extraction and the normalizers.

A partition is one snapshot (``dt=YYYY-MM-DD/snapshot=HHMM``) of what the live API says at that moment:

``flights``
    real-time positions, one call per hub and direction (``dep_iata=HUB``, ``arr_iata=HUB``): the flights in
    the air to or from the hubs (a flight between two hubs comes twice: a duplicate, counted);
``schedules``
    the departure and arrival boards of each hub (``dep_iata``/``arr_iata``; the API covers a few hours back
    to 10 hours ahead), ``limit``/``offset`` pages of :data:`SCHEDULES_PAGE_SIZE` followed while
    ``request.has_more`` says so: one page per board at a hub's usual traffic;
``airports``, ``airlines``
    the full reference listings (one call each), fetched only in the day's first snapshot (``snapshot`` before
    :data:`REFERENCE_SNAPSHOTS_BEFORE`, or a partition without snapshot); every other snapshot plans no call
    for them and writes an empty manifest. They only fill gaps (``PUBLISH`` fill-only): Airlabs has no time
    zones or cities, so its rows never overwrite a richer source's; flights' airports missing everywhere else
    are filled from ``airportsdata`` in every snapshot.

Calls per snapshot with the default two hubs: 4 (flights) + 4 (schedules) = **8**, plus 2 once a day. The
free plan's 1,000 calls a month therefore cover about 4 snapshots a day (1000 / 30 / 8): the 10-minute default
schedule of ``airlabs_lakehouse`` needs a paid plan or a wider interval; the request budget
(:mod:`aerolake.quotas`) stops a run before it would overspend.

The real API's quirks handled here (aerolake/mockapi reproduces them): errors come as ``{"error": {"code", "message"}}`` bodies, often
with HTTP 200, so every answer is read; ``not_found`` is an empty answer; ``minute_limit_exceeded`` and
``hour_limit_exceeded`` are retried after a pause, ``month_limit_exceeded``, ``unknown_api_key``,
``expired_api_key``, ``wrong_params`` and ``unknown_method`` stop the run at once. The success envelope echoes
the API key (``request.key.api_key``): the client blanks it out of the body before the page goes anywhere, the
only change made to the bytes received. Codeshares come in lower case (``"cs_airline_iata": "lh"``), airline
names as ``"empty"``, ``hex``/``reg_number``/``lat``/``alt`` as null, registrations with a dash.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests

from aerolake.aircraft import AIRCRAFT_ICAO
from aerolake.cleaning import (
    AIRLINE_CODE,
    AIRPORT_CODE,
    COUNTRY_CODE,
    ICAO_AIRPORT,
    Rejects,
    audit,
    float_or_none,
    normalize_flight_number,
    text_or_none,
    upper_code,
    valid_timezones,
)
from aerolake.connections import ApiCredentials, api_key_credentials
from aerolake.errors import MalformedBody
from aerolake.gapfill import airport_from_gazetteer, country_rows, gazetteer_timezone
from aerolake.gapfill import frame as _frame
from aerolake.http import ApiError, HttpClient, Page, Request, RetryableError, RetryPolicy
from aerolake.lake import Partition
from aerolake.quality import Check, unique_key_checks
from aerolake.schema import AIRLINES as AIRLINES_T
from aerolake.schema import AIRPORTS as AIRPORTS_T
from aerolake.schema import COUNTRIES as COUNTRIES_T
from aerolake.schema import FLIGHT_CODESHARES as CODESHARES_T
from aerolake.schema import FLIGHT_POSITIONS as POSITIONS_T
from aerolake.schema import FLIGHTS as FLIGHTS_T
from aerolake.settings import AIRLABS_CONN_ID, Settings
from aerolake.stores import mongo
from aerolake.stores.clean_zone import CleanZoneWriter

log = logging.getLogger(__name__)

SOURCE = "airlabs"
FLIGHTS, SCHEDULES, AIRPORTS, AIRLINES = "flights", "schedules", "airports", "airlines"
ENDPOINTS: tuple[str, ...] = (AIRPORTS, AIRLINES, SCHEDULES, FLIGHTS)
SCHEDULES_PAGE_SIZE = 500  # asked per page; the API may serve fewer (then more pages follow)
MAX_PAGES = 100  # a board longer than this is a paging bug, not traffic
MAX_BLIND_MALFORMED_PAGES = 3
REFERENCE_SNAPSHOTS_BEFORE = "0010"  # snapshots of the day's first ten minutes (UTC) fetch the references
#: how far a snapshot may lie from "now" for the live API to still serve it
SNAPSHOT_TOLERANCE = timedelta(minutes=30)
MINUTE_LIMIT_RETRY_AFTER = 61.0  # seconds: the API's minute window has surely turned
RETRY = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=65.0)

#: error codes: retried after a pause / an empty answer; every other code stops the run
RETRYABLE_ERRORS = frozenset({"minute_limit_exceeded", "hour_limit_exceeded", "internal_error"})
EMPTY_ANSWER = "not_found"
_ERROR_HINTS = {
    "unknown_api_key": "the API key is not known to Airlabs; check the connection's password (the key)",
    "expired_api_key": "the API key has expired; renew it and update the connection's password",
    "month_limit_exceeded": ("the key's monthly request quota is used up; the run stops, and can be resumed once the "
                             "quota renews (next month) or the plan is raised"),
    "wrong_params": "the API rejected the request's parameters (a bug in the fetch plan)",
    "unknown_method": "the API does not know this method; check the connection's host (the base URL)",
}


def _error_of(payload: Any) -> tuple[str, str] | None:
    """(code, message) of an ``{"error": {...}}`` body, else None."""
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
        return None
    error = payload["error"]
    return str(error.get("code") or "unknown_error"), str(error.get("message") or "")


class AirlabsClient:
    """API-key client: the key rides in the query string (redacted from every log line and message)."""

    def __init__(self, credentials: ApiCredentials, *, calls_per_second: float | None = 1.0,
                 retry: RetryPolicy | None = None, timeout: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, before_request: Callable[[], None] | None = None):
        if not credentials.client_secret:
            raise ValueError(f"connection {AIRLABS_CONN_ID} has no API key")
        self.credentials = credentials
        self.http = HttpClient(SOURCE, calls_per_second=calls_per_second, retry=retry or RETRY, timeout=timeout,
                               sleep=sleep, seed=0, before_request=before_request)

    @property
    def public_base_url(self) -> str:
        """The base URL, safe to record (the key is a query parameter, never part of it)."""
        return self.credentials.base_url

    @property
    def _key(self) -> str:
        return self.credentials.client_secret or ""

    def _scrub(self, data: bytes) -> bytes:
        """The body without the API key the envelope echoes (``"api_key": "<key>"`` in ``request.key``); a key
        of some length found anywhere else is blanked too (a short one would match ordinary text)."""
        key = self._key.encode()
        if not key or key not in data:
            return data
        data = re.sub(rb'("api_key"\s*:\s*")' + re.escape(key) + rb'"', rb'\1***"', data)
        return data.replace(key, b"***") if len(key) >= 12 else data

    def _classify(self, response: requests.Response) -> None:
        status = response.status_code
        try:
            payload = json.loads(response.content)
        except ValueError as exc:
            if status >= 500 or status == 429:
                raise RetryableError(f"airlabs: HTTP {status} (not JSON)", status, response=response) from exc
            if status == 200:
                raise MalformedBody(f"airlabs: malformed JSON body ({len(response.content)} bytes)", status,
                                    response=response) from exc
            raise ApiError(f"airlabs: HTTP {status} with a body that is not JSON", status) from exc
        error = _error_of(payload)
        if error is None:
            if status != 200:
                raise (RetryableError if status >= 500 or status == 429 else ApiError)(
                    f"airlabs: HTTP {status} without an error body", status)
            return
        code, message = error
        message = message.replace(self._key, "***") if self._key else message
        if code == EMPTY_ANSWER:
            return
        if code in RETRYABLE_ERRORS:
            retry_after = MINUTE_LIMIT_RETRY_AFTER if code == "minute_limit_exceeded" else None
            raise RetryableError(f"airlabs: {code} ({message})", status, retry_after=retry_after, response=response)
        hint = _ERROR_HINTS.get(code, "an error code this client does not know")
        raise ApiError(f"airlabs: {code} ({message}) on connection {AIRLABS_CONN_ID}: {hint}", status)

    def get(self, method: str, params: dict[str, Any] | None = None) -> Page:
        """One call of ``method``. A ``not_found`` answer is an empty page; a body still malformed after the
        retries is returned as such (``malformed=True``) for the pipeline to quarantine."""
        url = f"{self.credentials.base_url}/{method}"
        params = dict(params or {})
        sent = {**params, "api_key": self._key}  # the key only here: Page.params goes to the manifest
        try:
            response = self.http.send("GET", url, params=sent, classify=self._classify)
        except ApiError as exc:
            if isinstance(exc.__cause__, MalformedBody) and exc.response is not None:
                log.error("airlabs: %s still malformed after retries; kept as received for quarantine", method)
                return Page(method, params, exc.response.status_code, self._scrub(exc.response.content),
                            malformed=True)
            raise
        body = self._scrub(response.content)
        return Page(method, params, response.status_code, body, payload=json.loads(body))

    def iter_pages(self, path: str, params: dict[str, Any], page_size: int,
                   extract: Callable[[Any], tuple[list[dict], int | None]]) -> Iterator[Page]:
        """Every page of one request: a single call when ``page_size`` is 0, else ``limit``/``offset`` pages
        while the answer's ``request.has_more`` says so (or, without it, while pages come full)."""
        if not page_size:
            page = self.get(path, params)
            if not page.malformed:
                page.records, page.total_count = extract(page.payload)
            yield page
            return
        offset, step, malformed_in_a_row = 0, page_size, 0
        for _ in range(MAX_PAGES):
            page = self.get(path, {**params, "limit": page_size, "offset": offset})
            if not page.malformed:
                page.records, page.total_count = extract(page.payload)
            yield page
            if page.malformed:
                malformed_in_a_row += 1
                if malformed_in_a_row >= MAX_BLIND_MALFORMED_PAGES:
                    raise ApiError(f"airlabs: {malformed_in_a_row} malformed pages in a row from {path}: cannot tell "
                                   "where the listing ends; retry the task later")
                offset += step
                continue
            malformed_in_a_row = 0
            more = _has_more(page.payload)
            if not page.records or more is False or (more is None and len(page.records) < page_size):
                return
            step = len(page.records)
            offset += step
        raise ApiError(f"airlabs: more than {MAX_PAGES} pages from {path} {params}; refusing to page on")


def _has_more(payload: Any) -> bool | None:
    request = payload.get("request") if isinstance(payload, dict) else None
    more = request.get("has_more") if isinstance(request, dict) else None
    return bool(more) if more is not None else None


# -- record extraction ------------------------------------------------------------------------------------
def extract_records(endpoint: str, payload: Any) -> tuple[list[dict], int | None]:
    """The records of one answer (an error body, e.g. ``not_found``, holds none); Airlabs sends no total."""
    if not isinstance(payload, dict) or not isinstance(payload.get("response"), list):
        return [], None
    return [r for r in payload["response"] if isinstance(r, dict)], None


def flight_identity(airline_iata: Any, airline_icao: Any, number: Any, flight_iata: Any = None
                    ) -> tuple[str | None, str | None]:
    """(airline code, flight number): IATA airline else ICAO; the number, else taken from ``flight_iata``."""
    airline = upper_code(airline_iata) or upper_code(airline_icao)
    flight = normalize_flight_number(number)
    iata = upper_code(flight_iata)
    if flight is None and iata and airline and iata.startswith(airline):
        flight = normalize_flight_number(iata[len(airline):])
    return airline, flight


def natural_key(endpoint: str, record: dict[str, Any]) -> str | None:
    """The record's key within its partition, or None when a key field is missing (then quarantined)."""
    if endpoint == FLIGHTS:
        hex_code, updated = upper_code(record.get("hex")), record.get("updated")
        if not hex_code or updated in (None, ""):
            return None
        return f"{hex_code.lower()}|{updated}"
    if endpoint == SCHEDULES:
        airline, number = flight_identity(record.get("airline_iata"), record.get("airline_icao"),
                                          record.get("flight_number"), record.get("flight_iata"))
        origin, local = upper_code(record.get("dep_iata")), text_or_none(record.get("dep_time"))
        if not airline or not number or not origin or not local:
            return None
        return f"{airline}{number}|{origin}|{local[:10]}"
    if endpoint == AIRPORTS:
        return upper_code(record.get("iata_code")) or upper_code(record.get("icao_code"))
    if endpoint == AIRLINES:
        return upper_code(record.get("iata_code")) or upper_code(record.get("icao_code"))
    raise ValueError(f"airlabs has no endpoint {endpoint!r}")


def missing_key_reason(endpoint: str, record: dict[str, Any]) -> str:
    return {
        FLIGHTS: "missing natural key: a position needs hex (the aircraft's ICAO 24-bit address) and updated",
        SCHEDULES: "missing natural key: needs airline_iata or airline_icao, flight_number (or flight_iata), "
                   "dep_iata and dep_time",
        AIRPORTS: "missing natural key: neither iata_code nor icao_code",
        AIRLINES: "missing natural key: neither iata_code nor icao_code",
    }[endpoint]


# -- the fetch plan ---------------------------------------------------------------------------------------
def fetches_references(partition: Partition) -> bool:
    """Whether this partition fetches the airports and airlines listings (once a day: see the docstring)."""
    return partition.snapshot is None or partition.snapshot < REFERENCE_SNAPSHOTS_BEFORE


def partition_plan(partition: Partition, settings: Settings) -> dict[str, list[Request]]:
    hubs = settings.airlabs_hubs
    references = fetches_references(partition)
    return {
        AIRPORTS: [Request(AIRPORTS, AIRPORTS, {}, 0)] if references else [],
        AIRLINES: [Request(AIRLINES, AIRLINES, {}, 0)] if references else [],
        SCHEDULES: [Request(SCHEDULES, SCHEDULES, {f"{side}_iata": hub}, SCHEDULES_PAGE_SIZE)
                    for hub in hubs for side in ("dep", "arr")],
        FLIGHTS: [Request(FLIGHTS, FLIGHTS, {f"{side}_iata": hub}, 0) for hub in hubs for side in ("dep", "arr")],
    }


def snapshot_time(partition: Partition) -> datetime | None:
    """The UTC moment (naive) a snapshot partition stands for; None for a partition without snapshot."""
    if partition.snapshot is None:
        return None
    return datetime.strptime(f"{partition.dt} {partition.snapshot}", "%Y-%m-%d %H%M")


def servable(partition: Partition, now: datetime) -> str | None:
    """None if the live API can serve ``partition`` at UTC time ``now``, else why not.

    Airlabs answers only "now": a snapshot is servable within :data:`SNAPSHOT_TOLERANCE` of its time.
    """
    moment = snapshot_time(partition)
    now = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now
    if moment is None:
        return (f"Airlabs serves only real-time snapshots (dt=.../snapshot=HHMM/); the partition {partition.key} "
                "has no snapshot time")
    lag = now - moment
    if abs(lag) <= SNAPSHOT_TOLERANCE:
        return None
    when = "in the past" if lag > timedelta(0) else "in the future"
    return (f"snapshot {partition.key} is {abs(lag)} {when} (now {now:%Y-%m-%d %H:%M} UTC); the live API serves only "
            f"the present, within {int(SNAPSHOT_TOLERANCE.total_seconds() // 60)} minutes")


def cannot_serve_hint(partition: Partition) -> str:
    return (f"Airlabs serves only real-time data, and the lake has no complete raw partition for {partition.key} to "
            "replay; a past snapshot can only be rebuilt from the lake.")


def make_client(settings: Settings, before_request: Callable[[], None] | None = None) -> AirlabsClient:
    return AirlabsClient(api_key_credentials(AIRLABS_CONN_ID, settings),
                         calls_per_second=settings.airlabs_calls_per_second, before_request=before_request)


# -- normalizers: MongoDB documents (raw records + _lake) -> canonical rows --------------------------------
#: Airlabs status -> the contract's (schedules: scheduled/active/landed/cancelled; positions: en-route...)
STATUS_MAP = {
    "scheduled": "scheduled", "active": "active", "en-route": "active", "started": "active", "landed": "landed",
    "cancelled": "cancelled", "canceled": "cancelled", "diverted": "diverted", "incident": "incident",
}
#: ICAO aircraft type designator (what Airlabs sends) -> IATA type code (what ``aircraft_types`` holds)
AIRCRAFT_IATA = {icao: iata for iata, icao in AIRCRAFT_ICAO.items()} | {"E75S": "E75", "AT76": "AT7"}
_HEX = re.compile(r"^[0-9a-f]{6}$")
_PLACEHOLDER_NAMES = frozenset({"empty", "null", "none", "n/a", "-"})
_SHORT = 10


def _aircraft_code(value: Any) -> str | None:
    """The IATA type for a known ICAO designator; an unknown designator is kept as sent (4 characters)."""
    code = upper_code(value)
    if code is None:
        return None
    return AIRCRAFT_IATA.get(code) or (code if re.fullmatch(r"[A-Z0-9]{2,4}", code) else None)


def _name(value: Any, max_len: int) -> str | None:
    """A name, None for blanks and placeholders such as ``"empty"``."""
    text = text_or_none(value, max_len)
    return None if text is None or text.lower() in _PLACEHOLDER_NAMES else text


def _registration(value: Any) -> str | None:
    """"D-AIXY" -> "DAIXY" (as Lufthansa prints it: one spelling per airframe across sources)."""
    text = upper_code(value)
    return text.replace("-", "").replace(" ", "")[:_SHORT] or None if text else None


def _utc(value: Any) -> datetime | None:
    text = text_or_none(value)
    if text is None:
        return None
    try:
        return datetime.strptime(text[:16], "%Y-%m-%d %H:%M")
    except ValueError:
        return None


def _reject(rejects: Rejects, reason: str, doc: dict[str, Any]) -> None:
    rejects.add(reason, doc, doc.get("_key"), doc.get("_lake"))


def clean_airports(docs: Iterable[dict], rejects: Rejects) -> list[dict[str, Any]]:
    """``airports`` rows; no IATA code (the table's key) or an impossible position -> quarantine."""
    rows = []
    for doc in docs:
        code = upper_code(doc.get("iata_code"))
        if not code or not AIRPORT_CODE.match(code):
            _reject(rejects, f"no usable IATA code (iata_code {doc.get('iata_code')!r}); the airports table is keyed "
                             "by IATA", doc)
            continue
        lat, lon = float_or_none(doc.get("lat")), float_or_none(doc.get("lng"))
        reason = _position_reason(lat, lon, allow_missing=True)
        if reason:
            _reject(rejects, reason, doc)
            continue
        icao, country = upper_code(doc.get("icao_code")), upper_code(doc.get("country_code"))
        rows.append({"airport_code": code, "icao_code": icao if icao and ICAO_AIRPORT.match(icao) else None,
                     "name": _name(doc.get("name"), 120), "city_code": None,
                     "country_code": country if country and COUNTRY_CODE.match(country) else None,
                     "latitude": lat, "longitude": lon, "timezone": gazetteer_timezone(code),
                     "location_type": "Airport", **audit(SOURCE, doc)})
    return rows


def clean_airlines(docs: Iterable[dict], rejects: Rejects) -> list[dict[str, Any]]:
    """``airlines`` rows keyed by IATA, else ICAO code; ``"empty"`` names are NULL."""
    rows = []
    for doc in docs:
        iata, icao = upper_code(doc.get("iata_code")), upper_code(doc.get("icao_code"))
        icao = icao if icao and re.fullmatch(r"[A-Z]{3}", icao) else None
        code = iata or icao
        if not code or not AIRLINE_CODE.match(code):
            _reject(rejects, f"invalid airline code (iata_code {doc.get('iata_code')!r}, icao_code "
                             f"{doc.get('icao_code')!r})", doc)
            continue
        rows.append({"airline_code": code, "icao_code": icao, "name": _name(doc.get("name"), 100), **audit(SOURCE, doc)})
    return rows


def _position_reason(lat: float | None, lon: float | None, allow_missing: bool = False) -> str | None:
    if lat is None or lon is None:
        return None if allow_missing else "missing position (lat/lng null)"
    if not -90 <= lat <= 90:
        return f"latitude {lat} out of range [-90, 90]"
    if not -180 <= lon <= 180:
        return f"longitude {lon} out of range [-180, 180]"
    return None


class Reject(ValueError):
    """A record the normalizer refuses; the message is the quarantine reason."""


def _local_date(local_text: str | None, utc: datetime | None, tz: str | None) -> date | None:
    """The local calendar date at the origin: from the local time the API gives, else from UTC and the zone."""
    if local_text and len(local_text) >= 10:
        try:
            return date.fromisoformat(local_text[:10])
        except ValueError:
            pass
    if utc is not None and tz in valid_timezones():
        from zoneinfo import ZoneInfo

        return utc.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()
    return None


def _local_to_utc(local_text: str | None, tz: str | None) -> datetime | None:
    local = _utc(local_text)  # same text format, read as a wall-clock time
    if local is None or tz not in valid_timezones():
        return None
    from zoneinfo import ZoneInfo

    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


def _times(doc: dict[str, Any], side: str, tz: str | None) -> dict[str, datetime | None]:
    """Scheduled, estimated and actual UTC times of one side; UTC as sent, else the local time converted."""
    out = {}
    for kind, field in (("scheduled", "time"), ("estimated", "estimated"), ("actual", "actual")):
        utc = _utc(doc.get(f"{side}_{field}_utc"))
        if utc is None:
            ts = doc.get(f"{side}_{field}_ts")
            utc = datetime.fromtimestamp(ts, UTC).replace(tzinfo=None) if isinstance(ts, int | float) else None
        if utc is None:
            utc = _local_to_utc(doc.get(f"{side}_{field}"), tz)
        out[kind] = utc
    return out


def _delay(reported: Any, reference: datetime | None, scheduled: datetime | None) -> int | None:
    value = float_or_none(reported)
    if value is not None:
        return int(value)
    if reference is None or scheduled is None:
        return None
    return int((reference - scheduled).total_seconds() // 60)


def normalize_schedule(doc: dict[str, Any], airport_tz: dict[str, str | None]
                       ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A schedules record -> (``flights`` row, ``flight_codeshares`` row or None); raises :class:`Reject`.

    A record with ``cs_*`` fields is the marketing view of another carrier's flight: it becomes the codeshare
    row (and the flight row returned is only its identity, not published); otherwise it is a flight.
    ``airport_tz`` maps every known airport to its zone (None: known, zone unknown).
    """
    airline, number = flight_identity(doc.get("airline_iata"), doc.get("airline_icao"), doc.get("flight_number"),
                                      doc.get("flight_iata"))
    if not airline or not AIRLINE_CODE.match(airline):
        raise Reject(f"missing or invalid airline code (airline_iata {doc.get('airline_iata')!r})")
    if not number or len(number) > 5:
        raise Reject(f"missing or invalid flight_number {doc.get('flight_number')!r}")
    dep, arr = upper_code(doc.get("dep_iata")), upper_code(doc.get("arr_iata"))
    for label, code in (("dep_iata", dep), ("arr_iata", arr)):
        if not code or not AIRPORT_CODE.match(code):
            raise Reject(f"missing or invalid {label} {doc.get(label)!r}")
        if code not in airport_tz:
            raise Reject(f"unknown airport {code} (not in the Airlabs airports nor airportsdata)")
    dep_times = _times(doc, "dep", airport_tz[dep])
    arr_times = _times(doc, "arr", airport_tz[arr])
    if dep_times["scheduled"] is None:
        raise Reject("missing or unparseable dep_time_utc/dep_time: no scheduled departure")
    departure_date = _local_date(text_or_none(doc.get("dep_time")), dep_times["scheduled"], airport_tz[dep])
    if departure_date is None:
        raise Reject(f"cannot determine the local departure date (no dep_time, zone {airport_tz[dep]!r})")
    cs_airline, cs_number = flight_identity(doc.get("cs_airline_iata"), None, doc.get("cs_flight_number"),
                                            doc.get("cs_flight_iata"))
    if cs_airline or cs_number:
        if not cs_airline or not AIRLINE_CODE.match(cs_airline) or not cs_number or len(cs_number) > 5:
            raise Reject(f"invalid codeshare operator (cs_airline_iata {doc.get('cs_airline_iata')!r}, "
                         f"cs_flight_number {doc.get('cs_flight_number')!r})")
        if (cs_airline, cs_number) == (airline, number):
            cs_airline = cs_number = None  # a record naming itself as its operator is simply a flight
    flight = {
        "airline_code": airline, "flight_number": number, "departure_date": departure_date, "dep_airport": dep,
        "arr_airport": arr, "operating_airline_code": cs_airline or airline,
        "operating_flight_number": cs_number or number,
        "scheduled_departure": dep_times["scheduled"], "estimated_departure": dep_times["estimated"],
        "actual_departure": dep_times["actual"], "scheduled_arrival": arr_times["scheduled"],
        "estimated_arrival": arr_times["estimated"], "actual_arrival": arr_times["actual"],
        **{name: text_or_none(doc.get(name), _SHORT) for name in ("dep_terminal", "dep_gate", "arr_terminal",
                                                                    "arr_gate")},
        "status": STATUS_MAP.get(str(doc.get("status") or "").strip().lower(), "unknown"),
        "dep_delay_min": _delay(doc.get("dep_delayed") if doc.get("dep_delayed") is not None else doc.get("delayed"),
                                dep_times["actual"] or dep_times["estimated"], dep_times["scheduled"]),
        "arr_delay_min": _delay(doc.get("arr_delayed"), arr_times["actual"] or arr_times["estimated"],
                                arr_times["scheduled"]),
        "aircraft_code": _aircraft_code(doc.get("aircraft_icao")), "registration": _registration(doc.get("reg_number")),
        **audit(SOURCE, doc),
    }
    if not cs_airline:
        return flight, None
    codeshare = {"marketing_airline_code": airline, "marketing_flight_number": number,
                 "departure_date": departure_date, "dep_airport": dep, "airline_code": cs_airline,
                 "flight_number": cs_number, **audit(SOURCE, doc)}
    return flight, codeshare


def normalize_position(doc: dict[str, Any]) -> dict[str, Any]:
    """A /flights record -> a ``flight_positions`` row (``flight_id`` left NULL); raises :class:`Reject`."""
    icao24 = (text_or_none(doc.get("hex")) or "").lower()
    if not _HEX.match(icao24):
        raise Reject(f"missing or invalid hex {doc.get('hex')!r}: a position needs the aircraft's 24-bit address")
    updated = float_or_none(doc.get("updated"))
    if updated is None or updated <= 0:
        raise Reject(f"missing or invalid updated {doc.get('updated')!r}: no observation time")
    lat, lon = float_or_none(doc.get("lat")), float_or_none(doc.get("lng"))
    reason = _position_reason(lat, lon)
    if reason:
        raise Reject(reason)
    airline, number = flight_identity(doc.get("airline_iata"), doc.get("airline_icao"), doc.get("flight_number"),
                                      doc.get("flight_iata"))
    dep, arr = upper_code(doc.get("dep_iata")), upper_code(doc.get("arr_iata"))
    status = str(doc.get("status") or "").strip().lower()
    return {
        "icao24": icao24, "observed_at": datetime.fromtimestamp(int(updated), UTC).replace(tzinfo=None),
        "airline_code": airline if airline and AIRLINE_CODE.match(airline) else None,
        "flight_number": number if number and len(number) <= 5 else None,
        "dep_airport": dep if dep and AIRPORT_CODE.match(dep) else None,
        "arr_airport": arr if arr and AIRPORT_CODE.match(arr) else None,
        "registration": _registration(doc.get("reg_number")), "aircraft_code": _aircraft_code(doc.get("aircraft_icao")),
        "latitude": lat, "longitude": lon, "altitude_m": float_or_none(doc.get("alt")),
        "heading": float_or_none(doc.get("dir")), "speed_kmh": float_or_none(doc.get("speed")),
        "vertical_speed": float_or_none(doc.get("v_speed")),
        "on_ground": True if status in ("landed", "scheduled") else (False if status == "en-route" else None),
        **audit(SOURCE, doc),
    }


def clean_schedules(docs: Iterable[dict], airport_tz: dict[str, str | None], rejects: Rejects
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Flights and codeshares of the partition's schedule documents: (flights, codeshares, duplicates).

    Flights first; then each codeshare is kept only if its operating flight is among those flights (the table's
    foreign key), else quarantined. Duplicates (the same natural key twice) are counted, not kept.
    """
    flights: dict[tuple, dict[str, Any]] = {}
    pending: list[tuple[dict[str, Any], dict[str, Any]]] = []
    duplicates = 0
    for doc in docs:
        try:
            flight, codeshare = normalize_schedule(doc, airport_tz)
        except Reject as exc:
            _reject(rejects, str(exc), doc)
            continue
        if codeshare is not None:
            pending.append((codeshare, doc))
            continue
        key = (flight["airline_code"], flight["flight_number"], flight["departure_date"], flight["dep_airport"])
        if key in flights:
            duplicates += 1
            continue
        flights[key] = flight
    codeshares: dict[tuple, dict[str, Any]] = {}
    for codeshare, doc in pending:
        key = (codeshare["marketing_airline_code"], codeshare["marketing_flight_number"],
               codeshare["departure_date"], codeshare["dep_airport"])
        if key in codeshares:
            duplicates += 1
            continue
        if key in flights:  # the marketing number is also reported as an operating flight of its own
            _reject(rejects, f"codeshare {key[0]}{key[1]} is also a flight of this partition; kept as the flight", doc)
            continue
        operating = (codeshare["airline_code"], codeshare["flight_number"], codeshare["departure_date"],
                     codeshare["dep_airport"])
        if operating not in flights:
            _reject(rejects, f"codeshare operating flight {operating[0]}{operating[1]} from {operating[3]} on "
                             f"{operating[2]} is not among the partition's flights", doc)
            continue
        codeshares[key] = codeshare
    return list(flights.values()), list(codeshares.values()), duplicates


def clean_positions(docs: Iterable[dict], rejects: Rejects) -> tuple[list[dict[str, Any]], int]:
    """``flight_positions`` rows of the partition's /flights documents, and the duplicates dropped."""
    rows: dict[tuple, dict[str, Any]] = {}
    duplicates = 0
    for doc in docs:
        try:
            row = normalize_position(doc)
        except Reject as exc:
            _reject(rejects, str(exc), doc)
            continue
        key = (row["icao24"], row["observed_at"])
        if key in rows:
            duplicates += 1
            continue
        rows[key] = row
    return list(rows.values()), duplicates


# -- what the stages need from this source ---------------------------------------------------------------
#: (clean-zone entity, MySQL table, pipeline_runs endpoint, fill gaps only) in foreign-key order.
PUBLISH: tuple[tuple[str, str, str, bool], ...] = (
    ("countries_fill", "countries", "countries_fill", True),
    ("airports", "airports", AIRPORTS, True),
    ("airports_fill", "airports", "airports_fill", True),
    ("airlines", "airlines", AIRLINES, True),
    ("flights", "flights", SCHEDULES, False),
    ("flight_codeshares", "flight_codeshares", SCHEDULES, False),
    ("flight_positions", "flight_positions", FLIGHTS, False),
)
_ENTITY_TABLE = {entity: table for entity, table, _endpoint, _fill in PUBLISH}

QUALITY: list[Check] = [
    Check("row_count", "flights", "loaded_of_run", ">=", 1, params={"endpoint": SCHEDULES}),
    *unique_key_checks(COUNTRIES_T, AIRPORTS_T, AIRLINES_T, FLIGHTS_T, CODESHARES_T, POSITIONS_T),
    Check("orphan_airports", "flights", "airlabs_count_orphan_flight_airports", "==", 0),
    Check("orphan_codeshares", "flight_codeshares", "airlabs_count_orphan_codeshares", "==", 0),
    Check("share_unknown_status", "flights", "airlabs_share_of_unknown_status", "<=", 0.05),
    Check("count_balance", "pipeline_runs", "count_unbalanced_endpoints", "==", 0),
    Check("quarantine_rate", "pipeline_runs", "airlabs_quarantine_rate_of_run", "<=", 0.05),
]


def clean_partition(ctx: Any) -> dict[str, dict[str, int]]:
    """Clean the snapshot's four endpoints into the clean zone; fill airport/country gaps; quarantine rejects."""
    from aerolake.quarantine import replace_quarantine

    part = ctx.partition
    counts: dict[str, dict[str, int]] = {}
    frames: dict[str, Any] = {}

    def finish(endpoint: str, rejects: Rejects, cleaned: int, duplicates: int) -> None:
        replace_quarantine(ctx.s3, ctx.bucket, ctx.mongo, part, endpoint, "clean", rejects.items)
        counts[endpoint] = {"cleaned": cleaned, "quarantined_at_cleaning": len(rejects),
                            "duplicates_at_cleaning": duplicates}

    def docs_of(endpoint: str) -> list[dict]:
        return [doc for chunk in mongo.iter_documents(ctx, endpoint) for doc in chunk]

    for endpoint, cleaner, table in ((AIRPORTS, clean_airports, AIRPORTS_T), (AIRLINES, clean_airlines, AIRLINES_T)):
        rejects = Rejects()
        frame = _frame(cleaner(docs_of(endpoint), rejects), table.name)
        before = len(frame)
        frames[table.name] = frame = frame.drop_duplicates(subset=list(table.key))  # the first listed wins
        finish(endpoint, rejects, len(frame), before - len(frame))

    schedule_docs, position_docs = docs_of(SCHEDULES), docs_of(FLIGHTS)
    fetched_at = next((d["_lake"]["fetched_at"] for d in (*schedule_docs, *position_docs) if d.get("_lake")),
                      frames["airports"]["updated_at"].max() if len(frames["airports"]) else None)
    # every airport the flights and positions name: this partition's Airlabs rows, else airportsdata (filled)
    airports = frames["airports"]
    airport_tz: dict[str, str | None] = dict(zip(airports["airport_code"], airports["timezone"], strict=True))
    fills: dict[str, dict[str, Any]] = {}
    for doc in (*schedule_docs, *position_docs):
        for field in ("dep_iata", "arr_iata"):
            code = upper_code(doc.get(field))
            if code and AIRPORT_CODE.match(code) and code not in airport_tz and code not in fills:
                row = airport_from_gazetteer(code, (doc.get("_lake") or {}).get("fetched_at"))
                if row is not None:
                    fills[code] = row
                    airport_tz[code] = row["timezone"]

    rejects = Rejects()
    flights, codeshares, duplicates = clean_schedules(schedule_docs, airport_tz, rejects)
    frames["flights"], frames["flight_codeshares"] = _frame(flights, "flights"), _frame(codeshares, "flight_codeshares")
    finish(SCHEDULES, rejects, len(flights) + len(codeshares), duplicates)

    rejects = Rejects()
    positions, duplicates = clean_positions(position_docs, rejects)
    frames["flight_positions"] = _frame(positions, "flight_positions")
    finish(FLIGHTS, rejects, len(positions), duplicates)

    frames["airports_fill"] = _frame(list(fills.values()), "airports")
    referenced = set(airports["country_code"].dropna()) | {r["country_code"] for r in fills.values()}
    frames["countries_fill"] = _frame(country_rows(referenced, (), fetched_at), "countries")
    counts["airports_fill"] = {"cleaned": len(fills)}
    counts["countries_fill"] = {"cleaned": len(frames["countries_fill"])}

    for entity, table in _ENTITY_TABLE.items():
        writer = CleanZoneWriter(ctx, entity, table)
        if len(frames[entity]):
            writer.write(frames[entity])
        writer.close()
    for endpoint, c in counts.items():
        log.info("airlabs/%s %s: cleaned %d, quarantined %d, duplicates %d", endpoint, part.key, c["cleaned"],
                 c.get("quarantined_at_cleaning", 0), c.get("duplicates_at_cleaning", 0))
    return counts
