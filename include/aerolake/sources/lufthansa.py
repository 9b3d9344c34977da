"""Lufthansa Open API: OAuth2 client, the day's fetch plan, and record extraction.

The real API's quirks handled here (aerolake/mockapi reproduces them): any one-member array comes as a plain object; numbers come as int or
string; ``Position`` may be ``{"@nil": "true"}``; a 404 ``ProcessingErrors`` answer means "no data for this
window"; the gateway answers 401 ``{"Error": "Not Authorized"}`` for an expired token and 403 "Account Over
Queries Per Second Limit" when called too fast (retried with backoff, never fatal on its own).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests

from aerolake.cleaning import (
    AIRCRAFT_CODE,
    AIRLINE_CODE,
    AIRPORT_CODE,
    COUNTRY_CODE,
    FLIGHT_NUMBER_LEADING_ZEROS,
    ICAO_AIRLINE,
    ICAO_AIRPORT,
    Rejects,
    airportsdata_iata,
    audit,
    float_or_none,
    gc_paused,
    local_to_utc,
    map_distinct,
    normalize_flight_number,
    parse_distinct,
    text_or_none,
    upper_code,
    utc_to_local_date,
    valid_timezones,
)
from aerolake.connections import ApiCredentials, lufthansa_credentials
from aerolake.errors import MalformedBody
from aerolake.gapfill import airport_from_gazetteer, country_rows
from aerolake.gapfill import frame as _frame
from aerolake.http import ApiError, HttpClient, Page, Request, RetryableError, RetryPolicy, offset_pages
from aerolake.lake import Partition
from aerolake.projection import FieldPaths
from aerolake.quality import Check, unique_key_checks
from aerolake.schema import AIRCRAFT_TYPES as AIRCRAFT_T
from aerolake.schema import AIRLINES as AIRLINES_T
from aerolake.schema import AIRPORTS as AIRPORTS_T
from aerolake.schema import CITIES as CITIES_T
from aerolake.schema import COUNTRIES as COUNTRIES_T
from aerolake.schema import FLIGHTS as FLIGHTS_T
from aerolake.schema import TABLES as TABLES_BY_NAME
from aerolake.settings import Settings
from aerolake.stores import mongo
from aerolake.stores.clean_zone import CleanZoneWriter

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

SOURCE = "lufthansa"
REFERENCE_PAGE_SIZE = 100  # the API's maximum for references
FLIGHTSTATUS_PAGE_SIZE = 80  # the API's maximum for flight status
WINDOW_HOURS = 4  # a departures/arrivals call covers four hours from its start

#: endpoint name in the lake -> (API path, resource key, collection key, record key)
REFERENCE_ENDPOINTS: dict[str, tuple[str, str, str, str]] = {
    "countries": ("references/countries", "CountryResource", "Countries", "Country"),
    "cities": ("references/cities", "CityResource", "Cities", "City"),
    "airports": ("references/airports", "AirportResource", "Airports", "Airport"),
    "airlines": ("references/airlines", "AirlineResource", "Airlines", "Airline"),
    "aircraft": ("references/aircraft", "AircraftResource", "AircraftSummaries", "AircraftSummary"),
}
FLIGHTSTATUS = "flightstatus"
ENDPOINTS: tuple[str, ...] = (*REFERENCE_ENDPOINTS, FLIGHTSTATUS)


def as_list(value: Any) -> list[Any]:
    """The dict-or-list quirk: None -> [], a lone object -> [object], a list -> itself."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class LufthansaClient:
    """OAuth2 client-credentials client. The token is cached, refreshed before expiry and on a 401."""

    def __init__(
        self,
        credentials: ApiCredentials,
        *,
        calls_per_second: float | None = 5.0,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin: float = 300.0,
        before_request: Callable[[], None] | None = None,
    ):
        self.credentials = credentials
        self.http = HttpClient(SOURCE, calls_per_second=calls_per_second, retry=retry, timeout=timeout,
                               sleep=sleep, seed=0, before_request=before_request)
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.token_fetches = 0

    @property
    def public_base_url(self) -> str:
        """The base URL, safe to record (it carries no credentials)."""
        return self.credentials.base_url

    # -- auth -------------------------------------------------------------------------------------------
    def _fetch_token(self) -> None:
        def classify(response: requests.Response) -> None:
            if response.status_code in (400, 401):
                raise ApiError(
                    f"lufthansa: token request rejected with HTTP {response.status_code}; check the client id "
                    "and secret of connection lufthansa_api", response.status_code)
            _raise_for_gateway(response)

        response = self.http.send(
            "POST", f"{self.credentials.base_url}/oauth/token",
            data={"client_id": self.credentials.client_id, "client_secret": self.credentials.client_secret,
                  "grant_type": "client_credentials"},
            classify=classify,
        )
        body = response.json()
        expires_in = float(body.get("expires_in") or 0)
        self._token = body["access_token"]
        # refresh early: a margin of five minutes, or a tenth of a short lifetime
        margin = min(self._refresh_margin, expires_in / 10)
        self._expires_at = self._clock() + expires_in - margin
        self.token_fetches += 1
        log.info("lufthansa: new access token, valid for %.0f s", expires_in)

    def _headers(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._fetch_token()
            return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    def _invalidate(self) -> None:
        with self._lock:
            self._token = None

    # -- calls ------------------------------------------------------------------------------------------
    def get(self, path: str, params: dict[str, Any] | None = None) -> Page:
        """One call. 404 ``ResourceNotFound`` is a valid empty answer; malformed bodies are retried and, if
        still malformed, returned as such (``malformed=True``) for the pipeline to quarantine."""
        url = f"{self.credentials.base_url}/{path}"
        params = dict(params or {})
        try:
            response = self.http.send("GET", url, params=params, headers=self._headers,
                                      classify=_classify_data_answer, on_unauthorized=self._invalidate)
        except ApiError as exc:
            if isinstance(exc.__cause__, MalformedBody) and exc.response is not None:
                log.error("lufthansa: %s still malformed after retries; kept as received for quarantine", path)
                return Page(path, params, exc.response.status_code, exc.response.content, malformed=True)
            raise
        page = Page(path, params, response.status_code, response.content, payload=response.json())
        return page

    def iter_pages(self, path: str, params: dict[str, Any], page_size: int,
                   extract: Callable[[Any], tuple[list[dict], int | None]]) -> Iterator[Page]:
        """Every page of a listing, following ``offset``/``limit`` until ``TotalCount`` is reached.

        A page still malformed after retries is yielded as such (it goes to quarantine) and the walk goes on
        at the next offset; if the listing's size is still unknown after a few malformed pages in a row, the
        walk fails rather than guess where the listing ends.
        """
        return offset_pages(self.get, path, params, page_size, extract, name=SOURCE,
                            last_page=lambda page: page.status == 404 or _has_next_link(page.payload) is False)


def _raise_for_gateway(response: requests.Response) -> None:
    if response.status_code == 403:
        text = response.text[:200]
        if "Over" in text and ("Limit" in text or "Rate" in text):
            raise RetryableError(f"lufthansa: rate limited (403 {text.strip()})", 403)
        raise ApiError(f"lufthansa: forbidden (403 {text.strip()}); check the API plan of the client id", 403)


def _classify_data_answer(response: requests.Response) -> None:
    status = response.status_code
    _raise_for_gateway(response)
    if status == 401:
        raise ApiError("lufthansa: 401 Not Authorized even with a fresh token; check connection lufthansa_api",
                       401)
    if status >= 500:
        raise RetryableError(f"lufthansa: HTTP {status}", status, retry_after=_retry_after(response),
                             response=response)
    if status == 404:
        if _is_not_found(response):
            return
        raise ApiError(f"lufthansa: 404 for {response.url.split('?')[0]}", 404)
    if status != 200:
        raise ApiError(f"lufthansa: HTTP {status}: {_processing_error(response)}", status)
    try:
        json.loads(response.content)
    except ValueError as exc:
        raise MalformedBody(f"lufthansa: malformed JSON body ({len(response.content)} bytes)", status,
                            response=response) from exc


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds when the server sent a number (an HTTP date is ignored)."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _is_not_found(response: requests.Response) -> bool:
    try:
        err = as_list(response.json()["ProcessingErrors"]["ProcessingError"])[0]
    except (ValueError, KeyError, TypeError, IndexError):
        return False
    return err.get("Type") == "ResourceNotFound"


def _processing_error(response: requests.Response) -> str:
    try:
        err = as_list(response.json()["ProcessingErrors"]["ProcessingError"])[0]
        return f"{err.get('Type')} {err.get('Code')}: {err.get('Description')}"
    except (ValueError, KeyError, TypeError, IndexError):
        return response.text[:200]


def _has_next_link(payload: Any) -> bool | None:
    meta = _meta(payload)
    if meta is None:
        return None
    return any(link.get("@Rel") == "next" for link in as_list(meta.get("Link")))


def _meta(payload: Any) -> dict | None:
    if not isinstance(payload, dict) or not payload:
        return None
    resource = next(iter(payload.values()))
    return resource.get("Meta") if isinstance(resource, dict) else None


# -- record extraction from a page ------------------------------------------------------------------------
def extract_records(endpoint: str, payload: Any) -> tuple[list[dict], int | None]:
    """The records of one page body and the listing's ``TotalCount`` (None when absent)."""
    if not isinstance(payload, dict):
        return [], None
    if endpoint == FLIGHTSTATUS:
        resource = payload.get("FlightStatusResource") or {}
        records = as_list((resource.get("Flights") or {}).get("Flight"))
    else:
        _, resource_key, collection_key, record_key = REFERENCE_ENDPOINTS[endpoint]
        resource = payload.get(resource_key) or {}
        records = as_list((resource.get(collection_key) or {}).get(record_key))
    meta = resource.get("Meta") if isinstance(resource, dict) else None
    total = meta.get("TotalCount") if isinstance(meta, dict) else None
    try:
        total = int(total) if total is not None else None
    except (TypeError, ValueError):
        total = None
    return [r for r in records if isinstance(r, dict)], total


def natural_key(endpoint: str, record: dict[str, Any]) -> str | None:
    """The record's natural key, or None when a key field is missing (the record is quarantined)."""
    if endpoint == FLIGHTSTATUS:
        carrier = record.get("MarketingCarrier") or {}
        dep = record.get("Departure") or {}
        airline, number = carrier.get("AirlineID"), carrier.get("FlightNumber")
        origin = dep.get("AirportCode")
        local = (dep.get("ScheduledTimeLocal") or {}).get("DateTime")
        if not airline or number in (None, "") or not origin or not local:
            return None
        return f"{str(airline).strip().upper()}{normalize_flight_number(number)}|{origin}|{str(local)[:10]}"
    field_name = {"countries": "CountryCode", "cities": "CityCode", "airports": "AirportCode",
                  "airlines": "AirlineID", "aircraft": "AircraftCode"}[endpoint]
    value = record.get(field_name)
    if value is None or isinstance(value, dict | list):
        return None
    return str(value).strip().upper() or None


# -- the fetch plan for one day ---------------------------------------------------------------------------
def day_plan(day: date, hubs: tuple[str, ...], lang: str = "en") -> dict[str, list[Request]]:
    """Every request for one day: the references, then departures and arrivals of each hub in 4-hour
    windows covering the whole local day at the hub."""
    plan: dict[str, list[Request]] = {
        endpoint: [Request(endpoint, path, {"lang": lang}, REFERENCE_PAGE_SIZE)]
        for endpoint, (path, *_rest) in REFERENCE_ENDPOINTS.items()
    }
    windows = []
    for hub in hubs:
        for direction in ("departures", "arrivals"):
            start = datetime(day.year, day.month, day.day)
            while start.date() == day:
                path = f"operations/flightstatus/{direction}/{hub}/{start:%Y-%m-%dT%H:%M}"
                windows.append(Request(FLIGHTSTATUS, path, {"serviceType": "passenger"}, FLIGHTSTATUS_PAGE_SIZE))
                start += timedelta(hours=WINDOW_HOURS)
    plan[FLIGHTSTATUS] = windows
    return plan


# -- normalizers: MongoDB documents (raw records + _lake) -> canonical rows --------------------------------
_DOLLAR = ("$", "\uff04")

#: Lufthansa FlightStatus.Code -> the contract's status.
STATUS_MAP = {
    "DP": "active",  # departed
    "LD": "landed",
    "CD": "cancelled",
    "RT": "diverted",  # rerouted
    "DV": "diverted",
    "NA": "scheduled",  # no status yet
}


def _name(record: dict[str, Any], lang: str = "en") -> str | None:
    names = as_list((record.get("Names") or {}).get("Name"))
    best = None
    for entry in names:
        if not isinstance(entry, dict):
            continue
        text = next((entry[k] for k in _DOLLAR if k in entry), None)
        if text is None:
            continue
        if entry.get("@LanguageCode") == lang:
            return text_or_none(text, 120)
        best = best or text_or_none(text, 120)
    return best


def _position(record: dict[str, Any]) -> tuple[float | None, float | None]:
    coordinate = ((record.get("Position") or {}).get("Coordinate")) or {}
    if not isinstance(coordinate, dict):
        return None, None
    return float_or_none(coordinate.get("Latitude")), float_or_none(coordinate.get("Longitude"))


def _check_position(lat: float | None, lon: float | None) -> str | None:
    if lat is not None and not -90 <= lat <= 90:
        return f"latitude {lat} out of range [-90, 90]"
    if lon is not None and not -180 <= lon <= 180:
        return f"longitude {lon} out of range [-180, 180]"
    return None


def clean_countries(docs: Iterable[dict], rejects: Rejects) -> list[dict[str, Any]]:
    rows = []
    for doc in docs:
        code = upper_code(doc.get("CountryCode"))
        if not code or not COUNTRY_CODE.match(code):
            rejects.add(f"invalid country code {doc.get('CountryCode')!r}", doc, doc.get("_key"), doc.get("_lake"))
            continue
        rows.append({"country_code": code, "name": _name(doc), **audit(SOURCE, doc)})
    return rows


def _location_reason(doc: dict[str, Any], code_field: str, kind: str) -> tuple[str | None, dict[str, Any]]:
    """Validate a located reference (city or airport): its code, country, time zone and position.

    Returns the reject reason (None when valid) and the parsed values."""
    values = {"code": upper_code(doc.get(code_field)), "country": upper_code(doc.get("CountryCode")),
              "tz": text_or_none(doc.get("TimeZoneId"))}
    values["lat"], values["lon"] = _position(doc)
    if not values["code"] or not AIRPORT_CODE.match(values["code"]):
        return f"invalid {kind} code {doc.get(code_field)!r}", values
    if values["country"] is not None and not COUNTRY_CODE.match(values["country"]):
        return f"invalid country code {doc.get('CountryCode')!r}", values
    if values["tz"] is not None and values["tz"] not in valid_timezones():
        return f"unknown timezone {values['tz']!r}", values
    return _check_position(values["lat"], values["lon"]), values


def clean_cities(docs: Iterable[dict], rejects: Rejects) -> list[dict[str, Any]]:
    rows = []
    for doc in docs:
        reason, v = _location_reason(doc, "CityCode", "city")
        if reason:
            rejects.add(reason, doc, doc.get("_key"), doc.get("_lake"))
            continue
        rows.append({"city_code": v["code"], "country_code": v["country"], "name": _name(doc),
                     "latitude": v["lat"], "longitude": v["lon"], "timezone": v["tz"], **audit(SOURCE, doc)})
    return rows


def clean_airports(docs: Iterable[dict], rejects: Rejects) -> list[dict[str, Any]]:
    rows = []
    for doc in docs:
        reason, v = _location_reason(doc, "AirportCode", "airport")
        if reason:
            rejects.add(reason, doc, doc.get("_key"), doc.get("_lake"))
            continue
        code, city = v["code"], upper_code(doc.get("CityCode"))
        icao = (airportsdata_iata().get(code) or {}).get("icao") or None
        rows.append({
            "airport_code": code, "icao_code": icao if icao and ICAO_AIRPORT.match(icao) else None,
            "name": _name(doc), "city_code": city if city and AIRPORT_CODE.match(city) else None,
            "country_code": v["country"], "latitude": v["lat"], "longitude": v["lon"], "timezone": v["tz"],
            "location_type": text_or_none(doc.get("LocationType"), 20), **audit(SOURCE, doc),
        })
    return rows


def clean_airlines(docs: Iterable[dict], rejects: Rejects) -> list[dict[str, Any]]:
    rows = []
    for doc in docs:
        code = upper_code(doc.get("AirlineID"))
        if not code or not AIRLINE_CODE.match(code):
            rejects.add(f"invalid airline code {doc.get('AirlineID')!r}", doc, doc.get("_key"), doc.get("_lake"))
            continue
        icao = upper_code(doc.get("AirlineID_ICAO"))
        rows.append({"airline_code": code, "icao_code": icao if icao and ICAO_AIRLINE.match(icao) else None,
                     "name": _name(doc), **audit(SOURCE, doc)})
    return rows


def clean_aircraft(docs: Iterable[dict], rejects: Rejects) -> list[dict[str, Any]]:
    rows = []
    for doc in docs:
        code = upper_code(doc.get("AircraftCode"))
        if not code or not AIRCRAFT_CODE.match(code):
            rejects.add(f"invalid aircraft code {doc.get('AircraftCode')!r}", doc, doc.get("_key"),
                        doc.get("_lake"))
            continue
        rows.append({"aircraft_code": code, "name": _name(doc),
                     "airline_equip_code": _equip_code(doc.get("AirlineEquipCode")), **audit(SOURCE, doc)})
    return rows


def _equip_code(value: Any) -> str | None:
    """``AirlineEquipCode``: the API writes "*" for "none"; that is NULL, not a code."""
    text = text_or_none(value, 10)
    return None if text in (None, "*") else text


_END = {"dep": "Departure", "arr": "Arrival"}
_TIME = {"sched": "Scheduled", "est": "Estimated", "act": "Actual"}
#: Where each raw flight field is in a Flight record (the row fields :func:`flight_frame` reads).
FLIGHT_PATHS = FieldPaths({
    "airline_code": "MarketingCarrier.AirlineID", "flight_number": "MarketingCarrier.FlightNumber",
    "dep_airport": "Departure.AirportCode", "arr_airport": "Arrival.AirportCode",
    "operating_airline_code": "OperatingCarrier.AirlineID", "operating_flight_number": "OperatingCarrier.FlightNumber",
    **{f"{kind}_{end}_{zone.lower()}": f"{_END[end]}.{_TIME[kind]}Time{zone}.DateTime"
       for end in ("dep", "arr") for kind in ("sched", "est", "act") for zone in ("Local", "UTC")},
    "dep_terminal": "Departure.Terminal.Name", "dep_gate": "Departure.Terminal.Gate",
    "arr_terminal": "Arrival.Terminal.Name", "arr_gate": "Arrival.Terminal.Gate",
    "status_code": "FlightStatus.Code", "aircraft_code": "Equipment.AircraftCode",
    "registration": "Equipment.AircraftRegistration", "updated_at": "_lake.fetched_at",
})
#: The raw flight fields, in this order (all as text; parsed vectorized afterwards), and each row's position.
FLIGHT_FIELDS = (*FLIGHT_PATHS.fields, "_row")


_CODES = ("airline_code", "dep_airport", "arr_airport", "operating_airline_code", "status_code", "aircraft_code")
_NUMBERS = ("flight_number", "operating_flight_number")
_UPPER = frozenset(_CODES + _NUMBERS)
_SHORT_TEXTS = frozenset(("dep_terminal", "dep_gate", "arr_terminal", "arr_gate", "registration"))


def flight_table(docs: Iterable[dict[str, Any]]) -> pa.Table:
    """Flight documents as the flat rows of text MongoDB returns for :data:`FLIGHT_PATHS` (in Python)."""
    return FLIGHT_PATHS.table(FLIGHT_PATHS.project(doc) for doc in docs)


def flight_frame(rows: pa.Table, start: int = 0) -> pd.DataFrame:
    """Flat flight rows (:data:`FLIGHT_PATHS`, from ``stores.mongo.iter_projected`` or :func:`flight_table`) as a
    frame of :data:`FLIGHT_FIELDS`, normalized as text.

    The rows hold each field as text or null already (a number as its digits; an ``{"@nil": "true"}`` object,
    a list or anything else as null: :mod:`aerolake.projection`). Trimming, upper-casing, leading zeros of
    flight numbers and blanks-to-NULL are done per column in Arrow compute. ``_row`` is the row's position
    (``start`` + index), to find it again for quarantine.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    frame = {}
    for name in FLIGHT_PATHS.fields:
        text = pc.utf8_trim_whitespace(rows.column(name).cast(pa.string()))
        if name in _UPPER:
            text = pc.utf8_upper(text)
        if name in _NUMBERS:
            text = pc.replace_substring_regex(text, *FLIGHT_NUMBER_LEADING_ZEROS)
        if name in _SHORT_TEXTS:
            text = pc.utf8_slice_codeunits(text, 0, 10)
        text = pc.if_else(pc.equal(text, ""), None, text)
        frame[name] = pd.Series(pd.arrays.ArrowStringArray(text))
    frame["_row"] = pd.Series(range(start, start + rows.num_rows), dtype="int64")
    return pd.DataFrame(frame)


def clean_flights(frame: pd.DataFrame, airport_tz: dict[str, str | None]) -> tuple[pd.DataFrame, pd.Series]:
    """Typed flight rows from :func:`flight_frame` output, and per row the reason it is rejected (or NA).

    UTC times are taken as given; where only the local time is present it is converted with the airport's
    IANA zone. ``departure_date`` is the local date at the origin. ``airport_tz`` maps every airport the
    pipeline knows (this partition's references plus filled gaps) to its zone; an airport missing from it
    is unknown and its flights are rejected. Times, zones and statuses are parsed or looked up once per
    distinct value (``cleaning.parse_distinct``/``map_distinct``): a day's values repeat across rows.
    """
    import pandas as pd

    out = frame[["airline_code", "flight_number", "dep_airport", "arr_airport", "operating_airline_code",
                 "operating_flight_number", "dep_terminal", "dep_gate", "arr_terminal", "arr_gate",
                 "aircraft_code", "registration"]].copy()
    reason = pd.Series(pd.NA, index=frame.index, dtype="string")

    def reject(mask: pd.Series, text: Callable[[pd.Index], pd.Series | str]) -> None:
        """Give rows in ``mask`` without a reason yet the reason ``text(rows)`` (built only for them)."""
        nonlocal reason
        fresh = mask.fillna(False).astype(bool) & reason.isna()
        if fresh.any():
            rows = fresh[fresh].index
            reason.loc[rows] = text(rows)

    zones = {code: (zone or "") for code, zone in airport_tz.items()}  # "" = a known airport without a zone
    dep_zone = map_distinct(out["dep_airport"], zones)
    arr_zone = map_distinct(out["arr_airport"], zones)
    airline, number = out["airline_code"], out["flight_number"]
    reject(~airline.str.fullmatch(AIRLINE_CODE.pattern).fillna(False).astype(bool),
           lambda rows: "missing or invalid MarketingCarrier.AirlineID")
    reject(number.isna() | (number.str.len() > 5), lambda rows: "missing or invalid MarketingCarrier.FlightNumber")
    for end, label, zone in (("dep", "Departure", dep_zone), ("arr", "Arrival", arr_zone)):
        code = out[f"{end}_airport"]
        bad = ~code.str.fullmatch(AIRPORT_CODE.pattern).fillna(False).astype(bool)
        reject(bad, lambda rows, label=label: f"missing or invalid {label}.AirportCode")
        reject(~bad & zone.isna(), lambda rows, code=code: "unknown airport " + code.loc[rows]
               + " (not in the reference data nor airportsdata)")

    dep_tz = dep_zone.mask(dep_zone == "")
    arr_tz = arr_zone.mask(arr_zone == "")
    for end, tz in (("dep", dep_tz), ("arr", arr_tz)):
        for kind, target in (("sched", "scheduled"), ("est", "estimated"), ("act", "actual")):
            name = f"{target}_{'departure' if end == 'dep' else 'arrival'}"
            utc = parse_distinct(frame[f"{kind}_{end}_utc"], format="%Y-%m-%dT%H:%MZ").astype("datetime64[us]")
            local_text = frame[f"{kind}_{end}_local"]
            missing_utc = utc.isna() & local_text.notna()
            if missing_utc.any():  # only then parse local times: the API usually sends both
                local = parse_distinct(local_text.where(missing_utc), format="%Y-%m-%dT%H:%M")
                utc = utc.where(~missing_utc, local_to_utc(local.astype("datetime64[us]"), tz))
                if kind == "sched" and end == "dep":
                    reject(missing_utc & utc.isna(),
                           lambda rows, tz=tz: "unknown timezone " + tz.loc[rows].fillna("<none>") + " for airport "
                           + out["dep_airport"].loc[rows].fillna("")
                           + ": cannot convert the local departure time to UTC")
            out[name] = utc
    reject(out["scheduled_departure"].isna(), lambda rows: "missing or unparseable Departure.ScheduledTime")

    departure_date = parse_distinct(frame["sched_dep_local"].str.slice(0, 10), format="%Y-%m-%d")
    departure_date = departure_date.astype("datetime64[us]")
    no_local_date = departure_date.isna() & out["scheduled_departure"].notna()
    if no_local_date.any():
        from_utc = utc_to_local_date(out["scheduled_departure"].where(no_local_date), dep_tz)
        departure_date = departure_date.where(~no_local_date, from_utc)
    out["departure_date"] = departure_date
    reject(out["departure_date"].isna(), lambda rows: "cannot determine the local departure date")

    out["status"] = map_distinct(frame["status_code"], STATUS_MAP).fillna("unknown")
    dep_ref = out["actual_departure"].fillna(out["estimated_departure"])
    arr_ref = out["actual_arrival"].fillna(out["estimated_arrival"])
    out["dep_delay_min"] = ((dep_ref - out["scheduled_departure"]).dt.total_seconds() // 60).astype("Int64")
    out["arr_delay_min"] = ((arr_ref - out["scheduled_arrival"]).dt.total_seconds() // 60).astype("Int64")
    out["source"] = SOURCE
    out["updated_at"] = parse_distinct(frame["updated_at"], format="ISO8601", utc=True).dt.tz_localize(None)
    return out, reason


# -- what the stages need from this source ---------------------------------------------------------------
def make_client(settings: Settings, before_request: Callable[[], None] | None = None) -> LufthansaClient:
    return LufthansaClient(lufthansa_credentials(settings), calls_per_second=settings.lufthansa_calls_per_second,
                           before_request=before_request)


def partition_plan(partition: Partition, settings: Settings) -> dict[str, list[Request]]:
    return day_plan(date.fromisoformat(partition.dt), settings.lufthansa_hubs)


def servable(partition: Partition, now: datetime) -> str | None:
    """Always None: the Lufthansa API says itself (HTTP 400) which days it cannot serve, and the extract then
    adds :func:`cannot_serve_hint`."""
    return None


def cannot_serve_hint(partition: Partition) -> str:
    return ("The Lufthansa API serves flight status only from yesterday to five days ahead, and the lake has no "
            f"complete raw partition for {partition.dt} to replay; a past date can only be rebuilt from the lake.")


def missing_key_reason(endpoint: str, record: dict[str, Any]) -> str:
    if endpoint == FLIGHTSTATUS:
        return ("missing natural key: needs MarketingCarrier.AirlineID, MarketingCarrier.FlightNumber, "
                "Departure.AirportCode and Departure.ScheduledTimeLocal")
    return f"missing natural key field of {endpoint}"


#: (clean-zone entity, MySQL table, pipeline_runs endpoint, fill gaps only) in foreign-key order.
PUBLISH: tuple[tuple[str, str, str, bool], ...] = (
    ("countries", "countries", "countries", False),
    ("countries_fill", "countries", "countries_fill", True),
    ("cities", "cities", "cities", False),
    ("airports", "airports", "airports", False),
    ("airports_fill", "airports", "airports_fill", True),
    ("airlines", "airlines", "airlines", False),
    ("aircraft_types", "aircraft_types", "aircraft", False),
    ("flights", "flights", FLIGHTSTATUS, False),
)

QUALITY: list[Check] = [
    Check("row_count", "flights", "count_flights_of_partition", ">=", 1),
    *unique_key_checks(COUNTRIES_T, CITIES_T, AIRPORTS_T, AIRLINES_T, AIRCRAFT_T, FLIGHTS_T),
    Check("orphan_airports", "flights", "count_orphan_flight_airports", "==", 0),
    Check("null_rate_scheduled_arrival", "flights", "null_rate_of_column", "<=", 0.05,
          identifiers={"column": "scheduled_arrival"}),
    Check("null_rate_arr_airport", "flights", "null_rate_of_column", "==", 0, identifiers={"column": "arr_airport"}),
    Check("share_unknown_status", "flights", "share_of_unknown_status", "<=", 0.05),
    Check("count_balance", "pipeline_runs", "count_unbalanced_endpoints", "==", 0),
    Check("quarantine_rate", "pipeline_runs", "quarantine_rate_of_run", "<=", 0.05),
]


def _clean_flight_chunk(rows: pa.Table, airport_tz: dict[str, str | None],
                        fill_rows: dict[str, dict[str, Any]], seen: set[str],
                        rejected: list[tuple[str, Any]]) -> tuple[pd.DataFrame, int]:
    """One chunk of flat flight rows (:data:`FLIGHT_PATHS`, an Arrow table) cleaned: the rows to write and how many were
    duplicates.

    Airports the chunk needs that the references lack are filled from ``airportsdata`` (``fill_rows`` and
    ``airport_tz`` grow); each rejected row adds (reason, document ``_id``) to ``rejected``; ``seen`` holds
    the natural keys of every chunk so far, a key seen again (here or earlier) being a duplicate.
    """
    gazetteer = airportsdata_iata()
    raw = flight_frame(rows)
    for col in ("dep_airport", "arr_airport"):
        for code in raw[col].dropna().unique():
            if code not in airport_tz and code in gazetteer and code not in fill_rows:
                fill_rows[code] = airport_from_gazetteer(code, rows.column("updated_at")[0].as_py())
                airport_tz[code] = gazetteer[code]["tz"]
    cleaned, reason = clean_flights(raw, airport_tz)
    bad = reason.notna()
    if bad.any():
        ids = rows.column("_id").take(raw.loc[bad, "_row"].to_numpy()).to_pylist()
        rejected.extend(zip(reason[bad].astype(str).tolist(), ids, strict=True))
    good = cleaned[~bad]
    # one key string per row; a key already written in an earlier chunk (or this one) is a duplicate
    keys = good["airline_code"].str.cat([good["flight_number"], good["dep_airport"],
                                         good["departure_date"].dt.strftime("%Y-%m-%d")], sep="|")
    fresh = []
    for key in keys.tolist():
        fresh.append(key not in seen)
        seen.add(key)
    unique = good[fresh]
    return unique, len(good) - len(unique)


def _quarantine_flights(ctx: Any, rejected: list[tuple[str, Any]], rejects: Rejects) -> None:
    """The whole documents of rejected flight rows into ``rejects`` (quarantine keeps records whole)."""

    docs = mongo.documents_by_id(ctx, FLIGHTSTATUS, [doc_id for _reason, doc_id in rejected])
    for reason, doc_id in rejected:
        doc = docs.get(doc_id)
        if doc is None:  # replaced by a concurrent load_to_mongo of this partition: that run cleans it again
            raise RuntimeError(f"lufthansa/{FLIGHTSTATUS}: document {doc_id!r} left MongoDB while it was cleaned; "
                               "another load_to_mongo of this partition ran meanwhile: run clean again")
        rejects.add(reason, doc, doc.get("_key"), doc.get("_lake"))


def clean_partition(ctx: Any) -> dict[str, dict[str, int]]:
    """Clean every endpoint of the partition into the clean zone; fill reference gaps; quarantine rejects.

    References first (small, in memory), then flights in chunks: memory stays flat however large the day.
    """

    from aerolake.quarantine import replace_quarantine

    part = ctx.partition
    counts: dict[str, dict[str, int]] = {}
    cleaners = {"countries": (clean_countries, "countries", "countries"),
                "cities": (clean_cities, "cities", "cities"),
                "airports": (clean_airports, "airports", "airports"),
                "airlines": (clean_airlines, "airlines", "airlines"),
                "aircraft": (clean_aircraft, "aircraft_types", "aircraft_types")}
    frames: dict[str, pd.DataFrame] = {}
    for endpoint, (cleaner, entity, table_name) in cleaners.items():
        rejects = Rejects()
        rows: list[dict[str, Any]] = []
        for docs in mongo.iter_documents(ctx, endpoint):
            rows.extend(cleaner(docs, rejects))
        frame = _frame(rows, table_name)
        key = list(TABLES_BY_NAME[table_name].key)
        before = len(frame)
        frame = frame.drop_duplicates(subset=key, keep="first")
        frames[entity] = frame
        replace_quarantine(ctx.s3, ctx.bucket, ctx.mongo, part, endpoint, "clean", rejects.items)
        counts[endpoint] = {"cleaned": len(frame), "quarantined_at_cleaning": len(rejects),
                            "duplicates_at_cleaning": before - len(frame)}

    # flights, chunk by chunk; airports they need that the references lack are filled from airportsdata
    airports = frames["airports"]
    airport_tz: dict[str, str | None] = dict(zip(airports["airport_code"], airports["timezone"], strict=True))
    gazetteer = airportsdata_iata()
    for code, tz in list(airport_tz.items()):
        if tz is None and code in gazetteer:
            airport_tz[code] = gazetteer[code]["tz"]
    fill_rows: dict[str, dict[str, Any]] = {}
    writer = CleanZoneWriter(ctx, "flights", "flights")
    seen: set[str] = set()
    rejected: list[tuple[str, Any]] = []
    duplicates = 0
    # MongoDB flattens the records into rows of text (FLIGHT_PATHS) that arrive as Arrow columns: decoding
    # nested records into dicts cost five times as much as cleaning them. The collector stays paused across
    # the loop (the in-process path still builds a dict per record, and pandas many small objects); the loop
    # makes next to no cyclic garbage: each chunk is freed by reference counting before the next is read.
    with gc_paused():
        for rows in mongo.iter_projected(ctx, FLIGHTSTATUS, FLIGHT_PATHS):
            unique, chunk_duplicates = _clean_flight_chunk(rows, airport_tz, fill_rows, seen, rejected)
            duplicates += chunk_duplicates
            writer.write(unique)
            del rows, unique  # one chunk alive at a time: freed before the next is read
    rejects = Rejects()
    _quarantine_flights(ctx, rejected, rejects)
    flights_written = writer.close()
    replace_quarantine(ctx.s3, ctx.bucket, ctx.mongo, part, FLIGHTSTATUS, "clean", rejects.items)
    counts[FLIGHTSTATUS] = {"cleaned": flights_written, "quarantined_at_cleaning": len(rejects),
                            "duplicates_at_cleaning": duplicates}

    fills = _frame(list(fill_rows.values()), "airports")
    frames["airports_fill"] = fills
    # countries referenced by cities and airports but absent from the countries listing
    referenced = set(frames["cities"]["country_code"].dropna()) | set(airports["country_code"].dropna()) | set(
        fills["country_code"].dropna())
    updated_at = frames["countries"]["updated_at"].max() if len(frames["countries"]) else None
    frames["countries_fill"] = _frame(
        country_rows(referenced, frames["countries"]["country_code"], updated_at or fills["updated_at"].max()),
        "countries")

    for entity, frame in frames.items():
        writer = CleanZoneWriter(ctx, entity, _ENTITY_TABLE[entity])
        if len(frame):
            writer.write(frame)
        writer.close()
    counts["airports_fill"] = {"cleaned": len(fills)}
    counts["countries_fill"] = {"cleaned": len(frames["countries_fill"])}
    for endpoint, c in counts.items():
        log.info("lufthansa/%s %s: cleaned %d, quarantined %d, duplicates %d", endpoint, part.key, c["cleaned"],
                 c.get("quarantined_at_cleaning", 0), c.get("duplicates_at_cleaning", 0))
    return counts


_ENTITY_TABLE = {entity: table for entity, table, _endpoint, _fill in PUBLISH}
