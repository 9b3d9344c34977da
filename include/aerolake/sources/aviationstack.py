"""Aviation Stack v1: API-key client, the partition's fetch plan, record extraction and normalizers.

**Calls per partition.** One listing per hub: ``flights?flight_date={dt}&dep_iata={hub}``, paged by 100 (the
free plan's maximum) to ``pagination.total``. A partition costs ``sum(ceil(records_at_hub / 100))`` calls,
at least one per hub: with the default hubs FRA and MUC and the mock's default 200 flights per hub (about 270
records each with the codeshare listings) that is 6 calls; a real FRA day (about 1,300 departures plus their
codeshares) is about 30. The free plan allows 100 calls a month, so the DAG's schedule must be budgeted
(:mod:`aerolake.quotas` stops a run before it would overspend).

**Why departures only.** Arrivals (``arr_iata``) would double the calls for little: a flight's row is keyed
by its departure airport and date, every flight leaving the hubs is in the departures listings, and flights
into the hubs are the departures of other airports (Lufthansa's hub arrivals and Airlabs' schedules cover
them). What is lost is the ``live`` position of inbound flights: accepted for the quota.

**The real API's quirks handled** (aerolake/mockapi reproduces them): times carry "+00:00" but are the airport's local clock time
(converted with the airport's IANA zone; a time with another offset is taken as a true offset); codeshare
listings (``flight.codeshared``, often lower case) become ``flight_codeshares`` rows pointing at the
operating flight, never extra flights; ``"name": "empty"`` airlines and null ``aircraft``, ``live``,
``registration``, ``icao24`` become NULL, never placeholders; registrations lose their dash; ``icao24`` is
lower-cased. Error bodies ``{"error": {"code", ...}}`` are detected by content, whatever the HTTP status.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import requests

from aerolake.cleaning import (
    AIRCRAFT_CODE,
    AIRLINE_CODE,
    AIRPORT_CODE,
    ICAO_AIRLINE,
    Rejects,
    audit,
    float_or_none,
    normalize_flight_number,
    text_or_none,
    upper_code,
)
from aerolake.connections import ApiCredentials, api_key_credentials
from aerolake.errors import MalformedBody
from aerolake.gapfill import airport_from_gazetteer, country_rows, gazetteer_timezone
from aerolake.gapfill import frame as _frame
from aerolake.http import (
    ApiError,
    HttpClient,
    Page,
    Request,
    RetryableError,
    RetryPolicy,
    offset_pages,
    redact_params,
)
from aerolake.lake import Partition
from aerolake.quality import Check, unique_key_checks
from aerolake.schema import AIRLINES as AIRLINES_T
from aerolake.schema import AIRPORTS as AIRPORTS_T
from aerolake.schema import COUNTRIES as COUNTRIES_T
from aerolake.schema import FLIGHT_CODESHARES as CODESHARES_T
from aerolake.schema import FLIGHT_POSITIONS as POSITIONS_T
from aerolake.schema import FLIGHTS as FLIGHTS_T
from aerolake.settings import AVIATIONSTACK_CONN_ID, Settings
from aerolake.stores import mongo
from aerolake.stores.clean_zone import CleanZoneWriter

log = logging.getLogger(__name__)

SOURCE = "aviationstack"
FLIGHTS = "flights"
ENDPOINTS: tuple[str, ...] = (FLIGHTS,)
#: the pipeline_runs endpoint of the positions taken from the flights' ``live`` blocks (no fetched count of
#: its own: its records are the flights endpoint's)
POSITIONS = "positions"
PAGE_SIZE = 100  # the maximum below the Professional plan
#: the live API serves the flights of the current UTC day and the day before (free plans: the current day)
SERVABLE_DAYS_BACK = 1

#: error code -> (retryable, what to do); anything unknown is fatal unless the status is 5xx
ERROR_CODES: dict[str, tuple[bool, str]] = {
    "usage_limit_reached": (False, "the plan's monthly request quota is used up; stop and resume after the "
                                   "quota resets (or upgrade the plan)"),
    "rate_limit_reached": (True, "too many requests per second or minute"),
    "invalid_access_key": (False, "check the access key (password) of connection aviationstack_api"),
    "missing_access_key": (False, "set the access key (password) of connection aviationstack_api"),
    "inactive_user": (False, "the account is inactive; check the subscription of connection aviationstack_api"),
    "https_access_restricted": (False, "the plan does not allow HTTPS; use an http:// host in connection "
                                       "aviationstack_api or upgrade the plan"),
    "function_access_restricted": (False, "the plan does not include this function or parameter"),
    "validation_error": (False, "the request parameters were refused"),
    "invalid_api_function": (False, "the API has no such function; check the host of connection "
                                    "aviationstack_api"),
    "404_not_found": (False, "the resource does not exist"),
    "internal_error": (True, "the API failed internally"),
}

#: Aviation Stack ``flight_status`` -> the contract's status (anything else becomes ``unknown``)
STATUS_MAP = {s: s for s in ("scheduled", "active", "landed", "cancelled", "incident", "diverted")}
_ICAO24 = re.compile(r"^[0-9a-f]{6}$")


# -- client -----------------------------------------------------------------------------------------------
class AviationstackClient:
    """``GET`` with the access key in the query string (added here, never in ``Page.params``), paging by
    ``limit``/``offset`` to ``pagination.total``, errors classified by their body."""

    def __init__(
        self,
        credentials: ApiCredentials,
        *,
        calls_per_second: float | None = 1.0,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        before_request: Callable[[], None] | None = None,
    ):
        self.credentials = credentials
        self.http = HttpClient(SOURCE, calls_per_second=calls_per_second, retry=retry, timeout=timeout,
                               sleep=sleep, seed=0, before_request=before_request)

    @property
    def public_base_url(self) -> str:
        """The base URL, safe to record (the key travels in the query string, not in the URL)."""
        return self.credentials.base_url

    def get(self, path: str, params: dict[str, Any] | None = None) -> Page:
        """One call. A body still not JSON after the retries is returned as ``malformed`` (quarantined)."""
        params = dict(params or {})
        url = f"{self.credentials.base_url}/{path}"
        try:
            response = self.http.send("GET", url, params={**params, "access_key": self.credentials.client_secret},
                                      classify=classify)
        except ApiError as exc:
            if isinstance(exc.__cause__, MalformedBody) and exc.response is not None:
                log.error("aviationstack: %s %s still malformed after retries; kept as received for quarantine",
                          path, redact_params(params))
                return Page(path, params, exc.response.status_code, exc.response.content, malformed=True)
            raise
        return Page(path, params, response.status_code, response.content, payload=response.json())

    def iter_pages(self, path: str, params: dict[str, Any], page_size: int,
                   extract: Callable[[Any], tuple[list[dict], int | None]]) -> Iterator[Page]:
        """Every page of a listing, following ``offset`` until ``pagination.total`` is reached.

        A malformed page is yielded as such and the walk goes on at the next offset; if the total is still
        unknown after a few malformed pages in a row, the walk fails rather than guess where the listing ends.
        """
        # an empty page ends the listing whatever the total claims
        return offset_pages(self.get, path, params, page_size, extract, name=SOURCE,
                            last_page=lambda page: not page.records)


def classify(response: requests.Response) -> None:
    """Raise for any answer that is not data: an ``{"error": ...}`` body (whatever the status), a non-JSON
    error page, or a 200 body that is not JSON (retried as malformed)."""
    status = response.status_code
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        raise _api_error(status, error)
    if status == 429:
        raise RetryableError(f"aviationstack: HTTP 429 ({_text(response)})", status, _retry_after(response))
    if status >= 500:
        raise RetryableError(f"aviationstack: HTTP {status} ({_text(response)})", status, _retry_after(response),
                             response=response)
    if status != 200:
        raise ApiError(f"aviationstack: HTTP {status} ({_text(response)}); connection {AVIATIONSTACK_CONN_ID}",
                       status)
    if body is None:
        raise MalformedBody(f"aviationstack: malformed JSON body ({len(response.content)} bytes)", status,
                            response=response)
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ApiError("aviationstack: a 200 answer without a data list (keys: "
                       f"{sorted(body)[:10] if isinstance(body, dict) else type(body).__name__}); the API's "
                       "answer shape changed", status)


def _api_error(status: int, error: dict[str, Any]) -> ApiError:
    code = str(error.get("code") or "unknown")
    message = str(error.get("message") or "").strip()
    retryable, advice = ERROR_CODES.get(code, (status >= 500, "unexpected error code"))
    text = f"aviationstack: {code} (HTTP {status}): {message}"
    context = error.get("context")
    if context:
        safe = redact_params(context) if isinstance(context, dict) else context
        text += f"; context: {json.dumps(safe, ensure_ascii=False, default=str)[:500]}"
    text += f"; {advice} (connection {AVIATIONSTACK_CONN_ID})"
    if retryable:
        return RetryableError(text, status)
    return ApiError(text, status)


def _text(response: requests.Response) -> str:
    return " ".join(response.text[:200].split())


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


# -- what the stages need from this source ---------------------------------------------------------------
def make_client(settings: Settings, before_request: Callable[[], None] | None = None) -> AviationstackClient:
    return AviationstackClient(api_key_credentials(AVIATIONSTACK_CONN_ID, settings),
                               calls_per_second=settings.aviationstack_calls_per_second, before_request=before_request)


def partition_plan(partition: Partition, settings: Settings) -> dict[str, list[Request]]:
    """One departures listing per hub for the partition's ``flight_date`` (snapshots use the same plan)."""
    return {FLIGHTS: [Request(FLIGHTS, "flights", {"flight_date": partition.dt, "dep_iata": hub}, PAGE_SIZE)
                      for hub in settings.aviationstack_hubs]}


def servable(partition: Partition, now: datetime) -> str | None:
    """None if the live API can serve ``partition`` at UTC time ``now``, else why not."""
    now_utc = now.astimezone(UTC) if now.tzinfo else now
    today = now_utc.date()
    first = today - timedelta(days=SERVABLE_DAYS_BACK)
    day = date.fromisoformat(partition.dt)
    if first <= day <= today:
        return None
    when = "in the past" if day < first else "in the future"
    return (f"Aviation Stack serves the flights of {first.isoformat()} and {today.isoformat()} only (today and "
            f"yesterday, UTC), and {partition.dt} is {when}.")


def cannot_serve_hint(partition: Partition) -> str:
    return ("Aviation Stack serves the flights of today and yesterday (UTC) only, and the lake has no complete raw "
            f"partition for {partition.dt} to replay; a past date can only be rebuilt from the lake.")


def extract_records(endpoint: str, payload: Any) -> tuple[list[dict], int | None]:
    """The records of one page and ``pagination.total`` (None when absent)."""
    if not isinstance(payload, dict):
        return [], None
    data = payload.get("data")
    records = [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []
    pagination = payload.get("pagination")
    total = pagination.get("total") if isinstance(pagination, dict) else None
    try:
        total = int(total) if total is not None else None
    except (TypeError, ValueError):
        total = None
    return records, total


def _block(record: dict[str, Any], name: str) -> dict[str, Any]:
    value = record.get(name)
    return value if isinstance(value, dict) else {}


def airline_code(airline: dict[str, Any]) -> str | None:
    """IATA, else ICAO (the contract's airline key)."""
    return upper_code(airline.get("iata")) or upper_code(airline.get("icao"))


def natural_key(endpoint: str, record: dict[str, Any]) -> str | None:
    """``{airline}{number}|{dep_iata}|{flight_date}``: a codeshare listing has its own (marketing) key."""
    airline = airline_code(_block(record, "airline"))
    number = text_or_none(_block(record, "flight").get("number"))
    dep = upper_code(_block(record, "departure").get("iata"))
    day = text_or_none(record.get("flight_date")) or (text_or_none(_block(record, "departure").get("scheduled"))
                                                       or "")[:10] or None
    if not airline or not number or not dep or not day:
        return None
    return f"{airline}{normalize_flight_number(number)}|{dep}|{day}"


def missing_key_reason(endpoint: str, record: dict[str, Any]) -> str:
    return ("missing natural key: needs airline.iata (or icao), flight.number, departure.iata and flight_date "
            "(or departure.scheduled)")


# -- normalizers: MongoDB documents (raw records + _lake) -> canonical rows --------------------------------
@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_time(value: Any, tz: str | None) -> tuple[datetime | None, datetime | None]:
    """An Aviation Stack time as (naive UTC, naive local clock) or (None, None).

    "+00:00" times are the airport's local clock (the API's quirk): converted with ``tz``; a time with
    another offset is a true offset and converted as such. A local time inside a DST gap moves forward, an
    ambiguous one takes its first (daylight) occurrence, as :func:`aerolake.cleaning.local_to_utc`.
    """
    text = text_or_none(value)
    if not text:
        return None, None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None, None
    local = moment.replace(tzinfo=None)
    offset = moment.utcoffset()
    if offset is not None and offset != timedelta(0):
        utc = (moment - offset).replace(tzinfo=None)
        return utc, (moment.astimezone(_zone(tz)).replace(tzinfo=None) if tz else local)
    if tz is None:
        return None, local
    zone = _zone(tz)
    aware = local.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:  # in a DST gap: shift forward
        aware = (local + timedelta(hours=1)).replace(tzinfo=zone)
    return aware.astimezone(UTC).replace(tzinfo=None), local


def _minutes_between(start: datetime | None, end: datetime | None) -> int | None:
    return None if start is None or end is None else math.floor((end - start).total_seconds() / 60)


def _registration(value: Any) -> str | None:
    text = text_or_none(value)
    if not text:
        return None
    return text.replace("-", "").replace(" ", "").upper()[:10] or None


def flight_row(doc: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """A ``flights`` row from one (operating) record, or the reason it is rejected."""
    airline, flight = _block(doc, "airline"), _block(doc, "flight")
    dep, arr = _block(doc, "departure"), _block(doc, "arrival")
    code = airline_code(airline)
    if not code or not AIRLINE_CODE.match(code):
        return None, f"missing or invalid airline.iata/icao ({airline.get('iata')!r}/{airline.get('icao')!r})"
    raw_number = text_or_none(flight.get("number"))
    number = normalize_flight_number(raw_number) if raw_number else None
    if not number or len(number) > 5:
        return None, f"missing or invalid flight.number {flight.get('number')!r}"
    zones = {}
    for end, block in (("departure", dep), ("arrival", arr)):
        airport = upper_code(block.get("iata"))
        if not airport or not AIRPORT_CODE.match(airport):
            return None, f"missing or invalid {end}.iata {block.get('iata')!r}"
        zones[end] = gazetteer_timezone(airport)
        if zones[end] is None:
            return None, f"unknown airport {airport} (not in airportsdata, no timezone to convert its local times)"
    times = {f"{kind}_{end}": parse_time(block.get(kind), zones[label])
             for end, label, block in (("departure", "departure", dep), ("arrival", "arrival", arr))
             for kind in ("scheduled", "estimated", "actual")}
    scheduled_utc, scheduled_local = times["scheduled_departure"]
    if scheduled_utc is None or scheduled_local is None:
        return None, f"missing or unparseable departure.scheduled {dep.get('scheduled')!r}"
    aircraft = _block(doc, "aircraft")
    aircraft_code = upper_code(aircraft.get("iata"))
    row = {
        "airline_code": code, "flight_number": number,
        "departure_date": scheduled_local.date(),  # the local date at the origin
        "dep_airport": upper_code(dep.get("iata")), "arr_airport": upper_code(arr.get("iata")),
        "operating_airline_code": None, "operating_flight_number": None,  # Aviation Stack does not say
        **{f"{kind}_{end}": times[f"{kind}_{end}"][0] for end in ("departure", "arrival")
           for kind in ("scheduled", "estimated", "actual")},
        "dep_terminal": text_or_none(dep.get("terminal"), 10), "dep_gate": text_or_none(dep.get("gate"), 10),
        "arr_terminal": text_or_none(arr.get("terminal"), 10), "arr_gate": text_or_none(arr.get("gate"), 10),
        "status": STATUS_MAP.get((text_or_none(doc.get("flight_status")) or "").lower(), "unknown"),
        "aircraft_code": aircraft_code if aircraft_code and AIRCRAFT_CODE.match(aircraft_code) else None,
        "registration": _registration(aircraft.get("registration")),
        **audit(SOURCE, doc),
    }
    row["dep_delay_min"] = _delay(row["scheduled_departure"], row["actual_departure"] or row["estimated_departure"],
                                  dep.get("delay"))
    row["arr_delay_min"] = _delay(row["scheduled_arrival"], row["actual_arrival"] or row["estimated_arrival"],
                                  arr.get("delay"))
    return row, None


def _delay(scheduled: datetime | None, moved: datetime | None, reported: Any) -> int | None:
    """Minutes late (negative when early) from the times, as for Lufthansa; the API's ``delay`` otherwise."""
    computed = _minutes_between(scheduled, moved)
    if computed is not None:
        return computed
    value = float_or_none(reported)
    return int(value) if value is not None else None


def codeshare_row(doc: dict[str, Any], icao_to_iata: dict[str, str]) -> tuple[dict[str, Any] | None, str | None]:
    """A ``flight_codeshares`` row from a marketing listing (``flight.codeshared`` set), or the reason not."""
    airline, flight, dep = _block(doc, "airline"), _block(doc, "flight"), _block(doc, "departure")
    shared = _block(flight, "codeshared")
    code = airline_code(airline)
    if not code or not AIRLINE_CODE.match(code):
        return None, f"codeshare: missing or invalid airline.iata/icao ({airline.get('iata')!r})"
    raw_number = text_or_none(flight.get("number"))
    number = normalize_flight_number(raw_number) if raw_number else None
    if not number or len(number) > 5:
        return None, f"codeshare: missing or invalid flight.number {flight.get('number')!r}"
    operating = upper_code(shared.get("airline_iata"))
    if not operating:
        icao = upper_code(shared.get("airline_icao"))
        operating = icao_to_iata.get(icao, icao) if icao else None
    op_raw = text_or_none(shared.get("flight_number"))
    if op_raw is None:  # "lh400" -> "400"
        iata = upper_code(shared.get("flight_iata")) or ""
        op_raw = iata[len(operating):] if operating and iata.startswith(operating) else None
    op_number = normalize_flight_number(op_raw) if op_raw else None
    if not operating or not AIRLINE_CODE.match(operating) or not op_number or len(op_number) > 5:
        return None, ("codeshare: flight.codeshared names no valid operating airline and flight number "
                      f"({shared.get('airline_iata')!r}, {shared.get('flight_number')!r})")
    airport = upper_code(dep.get("iata"))
    if not airport or not AIRPORT_CODE.match(airport):
        return None, f"codeshare: missing or invalid departure.iata {dep.get('iata')!r}"
    _, local = parse_time(dep.get("scheduled"), gazetteer_timezone(airport))
    if local is None:
        return None, f"codeshare: missing or unparseable departure.scheduled {dep.get('scheduled')!r}"
    return {"marketing_airline_code": code, "marketing_flight_number": number, "departure_date": local.date(),
            "dep_airport": airport, "airline_code": operating, "flight_number": op_number, **audit(SOURCE, doc)}, None


def position_row(doc: dict[str, Any], flight: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """A ``flight_positions`` row from the record's ``live`` block (with the flight's identity), or why not."""
    live, aircraft = _block(doc, "live"), _block(doc, "aircraft")
    icao24 = (text_or_none(aircraft.get("icao24")) or "").lower()
    if not _ICAO24.match(icao24):
        return None, f"live position without a valid aircraft.icao24 ({aircraft.get('icao24')!r})"
    observed, _ = parse_time(live.get("updated"), "UTC")  # live.updated is a true UTC time
    if observed is None:
        return None, f"live position without a valid updated time ({live.get('updated')!r})"
    lat, lon = float_or_none(live.get("latitude")), float_or_none(live.get("longitude"))
    if lat is None or lon is None:
        return None, "live position without latitude/longitude"
    if not -90 <= lat <= 90:
        return None, f"latitude {lat} out of range [-90, 90]"
    if not -180 <= lon <= 180:
        return None, f"longitude {lon} out of range [-180, 180]"
    ground = live.get("is_ground")
    return {
        "icao24": icao24, "observed_at": observed, "flight_id": None,
        **{k: flight[k] for k in ("airline_code", "flight_number", "dep_airport", "arr_airport", "registration",
                                  "aircraft_code")},
        "latitude": lat, "longitude": lon, "altitude_m": float_or_none(live.get("altitude")),
        "heading": float_or_none(live.get("direction")), "speed_kmh": float_or_none(live.get("speed_horizontal")),
        "vertical_speed": float_or_none(live.get("speed_vertical")),
        "on_ground": ground if isinstance(ground, bool) else None, **audit(SOURCE, doc),
    }, None


def airline_rows(docs: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``airlines`` rows (fill gaps only) for the carriers the records name; "empty" names are NULL."""
    rows: dict[str, dict[str, Any]] = {}
    for doc in docs:
        airline = _block(doc, "airline")
        code = airline_code(airline)
        if not code or not AIRLINE_CODE.match(code):
            continue
        icao = upper_code(airline.get("icao"))
        name = text_or_none(airline.get("name"), 100)
        name = None if name is None or name.lower() == "empty" else name
        known = rows.get(code)
        if known is None or (known["name"] is None and name is not None):
            rows[code] = {"airline_code": code, "icao_code": icao if icao and ICAO_AIRLINE.match(icao) else None,
                          "name": name, **audit(SOURCE, doc)}
    return rows


def _flight_key(row: dict[str, Any]) -> tuple[str, str, date, str]:
    return row["airline_code"], row["flight_number"], row["departure_date"], row["dep_airport"]


def clean_documents(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every cleaned entity of a partition's documents, with rejects and duplicate counts.

    Returns ``flights``, ``codeshares``, ``positions`` (row lists), ``airlines`` (rows by code),
    ``rejects`` / ``position_rejects`` (:class:`Rejects`) and ``duplicates`` / ``position_duplicates``.
    Each document ends as exactly one of: flight, codeshare, reject, duplicate (the count balance).
    """
    rejects, position_rejects = Rejects(), Rejects()
    flights: dict[tuple, dict[str, Any]] = {}
    positions: dict[tuple, dict[str, Any]] = {}
    listings: list[dict[str, Any]] = []
    duplicates = position_duplicates = 0
    operating_docs = []
    for doc in docs:
        if _block(_block(doc, "flight"), "codeshared"):
            listings.append(doc)
            continue
        row, reason = flight_row(doc)
        if row is None:
            rejects.add(reason or "rejected", doc, doc.get("_key"), doc.get("_lake"))
            continue
        key = _flight_key(row)
        if key in flights:
            duplicates += 1
            continue
        flights[key] = row
        operating_docs.append(doc)
        if doc.get("live") is not None:
            position, why = position_row(doc, row)
            if position is None:
                position_rejects.add(why or "rejected", doc, doc.get("_key"), doc.get("_lake"))
            elif (position["icao24"], position["observed_at"]) in positions:
                position_duplicates += 1
            else:
                positions[(position["icao24"], position["observed_at"])] = position

    icao_to_iata = {upper_code(_block(d, "airline").get("icao")): row_code for d in operating_docs
                    if (row_code := airline_code(_block(d, "airline"))) and _block(d, "airline").get("icao")}
    codeshares: dict[tuple, dict[str, Any]] = {}
    for doc in listings:
        row, reason = codeshare_row(doc, icao_to_iata)
        if row is not None:
            operating = (row["airline_code"], row["flight_number"], row["departure_date"], row["dep_airport"])
            marketing = (row["marketing_airline_code"], row["marketing_flight_number"], row["departure_date"],
                         row["dep_airport"])
            if operating == marketing:
                reason, row = "codeshare: flight.codeshared names the listing itself", None
            elif operating not in flights:
                reason, row = (f"codeshare: operating flight {operating[0]}{operating[1]} of {operating[2]} from "
                               f"{operating[3]} is not among the partition's cleaned flights "
                               "(flight_codeshares references flights)"), None
            elif marketing in flights:
                reason, row = (f"codeshare: marketing flight {marketing[0]}{marketing[1]} is also listed as an "
                               "operating flight"), None
        if row is None:
            rejects.add(reason or "rejected", doc, doc.get("_key"), doc.get("_lake"))
            continue
        if marketing in codeshares:
            duplicates += 1
            continue
        codeshares[marketing] = row
    airlines = airline_rows([*operating_docs, *(d for d in listings)])
    return {"flights": list(flights.values()), "codeshares": list(codeshares.values()),
            "positions": list(positions.values()), "airlines": airlines, "rejects": rejects,
            "position_rejects": position_rejects, "duplicates": duplicates,
            "position_duplicates": position_duplicates}


def airport_fill_rows(flights: Iterable[dict[str, Any]], updated_at: Any) -> list[dict[str, Any]]:
    """``airports`` rows from airportsdata for every airport the flights use (published as gap fills)."""
    codes = sorted({f[end] for f in flights for end in ("dep_airport", "arr_airport")})
    return [row for code in codes if (row := airport_from_gazetteer(code, updated_at)) is not None]


def clean_partition(ctx: Any) -> dict[str, dict[str, int]]:
    """Clean the partition's flights into flights, codeshares, positions and gap-filling references.

    A partition is at most a few thousand records (the API quota sees to that): it is cleaned in memory.
    """
    from aerolake.quarantine import replace_quarantine

    part = ctx.partition
    docs = [doc for chunk in mongo.iter_documents(ctx, FLIGHTS) for doc in chunk]
    result = clean_documents(docs)
    updated_at = min(((d.get("_lake") or {}).get("fetched_at") for d in docs), default=None, key=str)
    airports = airport_fill_rows(result["flights"], updated_at)
    frames = {
        "flights": _frame(result["flights"], "flights"),
        "flight_codeshares": _frame(result["codeshares"], "flight_codeshares"),
        "flight_positions": _frame(result["positions"], "flight_positions"),
        "airlines_fill": _frame(list(result["airlines"].values()), "airlines"),
        "airports_fill": _frame(airports, "airports"),
        "countries_fill": _frame(country_rows({a["country_code"] for a in airports}, (), updated_at), "countries"),
    }
    for entity, frame in frames.items():
        writer = CleanZoneWriter(ctx, entity, _ENTITY_TABLE[entity])
        if len(frame):
            writer.write(frame)
        writer.close()
    replace_quarantine(ctx.s3, ctx.bucket, ctx.mongo, part, FLIGHTS, "clean", result["rejects"].items)
    replace_quarantine(ctx.s3, ctx.bucket, ctx.mongo, part, POSITIONS, "clean", result["position_rejects"].items)
    counts = {
        FLIGHTS: {"cleaned": len(frames["flights"]) + len(frames["flight_codeshares"]),
                  "quarantined_at_cleaning": len(result["rejects"]), "duplicates_at_cleaning": result["duplicates"]},
        POSITIONS: {"cleaned": len(frames["flight_positions"]),
                    "quarantined_at_cleaning": len(result["position_rejects"]),
                    "duplicates_at_cleaning": result["position_duplicates"]},
        "airlines_fill": {"cleaned": len(frames["airlines_fill"])},
        "airports_fill": {"cleaned": len(frames["airports_fill"])},
        "countries_fill": {"cleaned": len(frames["countries_fill"])},
    }
    log.info("aviationstack %s: %d flights, %d codeshares, %d positions; %d quarantined, %d duplicates; fills: "
             "%d airports, %d countries, %d airlines", part.key, len(frames["flights"]),
             len(frames["flight_codeshares"]), len(frames["flight_positions"]), len(result["rejects"]),
             result["duplicates"], len(airports), len(frames["countries_fill"]), len(frames["airlines_fill"]))
    return counts


#: (clean-zone entity, MySQL table, pipeline_runs endpoint, fill gaps only) in foreign-key order.
PUBLISH: tuple[tuple[str, str, str, bool], ...] = (
    ("countries_fill", "countries", "countries_fill", True),
    ("airports_fill", "airports", "airports_fill", True),
    ("airlines_fill", "airlines", "airlines_fill", True),
    ("flights", "flights", FLIGHTS, False),
    ("flight_codeshares", "flight_codeshares", FLIGHTS, False),
    ("flight_positions", "flight_positions", POSITIONS, False),
)
_ENTITY_TABLE = {entity: table for entity, table, _endpoint, _fill in PUBLISH}

QUALITY: list[Check] = [
    Check("row_count", "flights", "loaded_of_run", ">=", 1, params={"endpoint": FLIGHTS}),
    *unique_key_checks(COUNTRIES_T, AIRPORTS_T, AIRLINES_T, FLIGHTS_T, CODESHARES_T, POSITIONS_T),
    Check("orphan_airports", "flights", "count_orphan_flight_airports", "==", 0),
    Check("orphan_codeshares", "flight_codeshares", "aviationstack_orphan_codeshares", "==", 0),
    Check("null_rate_scheduled_arrival", "flights", "null_rate_of_column", "<=", 0.05,
          identifiers={"column": "scheduled_arrival"}),
    Check("share_unknown_status", "flights", "share_of_unknown_status", "<=", 0.05),
    Check("count_balance", "pipeline_runs", "count_unbalanced_endpoints", "==", 0),
    Check("quarantine_rate", "pipeline_runs", "quarantine_rate_of_run", "<=", 0.05),
]
