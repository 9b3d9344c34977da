"""Lufthansa documents -> rows of the MySQL model: natural keys, the reference cleaners, and the flights
cleaned as columns (flat text rows that MongoDB projects, typed and validated in Arrow and pandas, chunk by
chunk: memory stays flat however large the day)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

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
from aerolake.projection import FieldPaths
from aerolake.schema import DOC_ID, table_frame

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
from aerolake.sources.base import CleanRun
from aerolake.sources.lufthansa.client import as_list
from aerolake.sources.lufthansa.spec import FLIGHTSTATUS, SOURCE

log = logging.getLogger(__name__)

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
            return text_or_none(text)
        best = best or text_or_none(text)
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
            "location_type": text_or_none(doc.get("LocationType")), **audit(SOURCE, doc),
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
    text = text_or_none(value)
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


def missing_key_reason(endpoint: str, record: dict[str, Any]) -> str:
    if endpoint == FLIGHTSTATUS:
        return ("missing natural key: needs MarketingCarrier.AirlineID, MarketingCarrier.FlightNumber, "
                "Departure.AirportCode and Departure.ScheduledTimeLocal")
    return f"missing natural key field of {endpoint}"


def _clean_flight_chunk(rows: pa.Table, run: CleanRun, seen: set[str], rejected: list[tuple[str, Any]]
                        ) -> tuple[pd.DataFrame, int]:
    """One chunk of flat flight rows (:data:`FLIGHT_PATHS`, an Arrow table) cleaned: the rows to write and how many
    were duplicates.

    Airports the chunk needs that the references lack are filled from the gazetteer (``run.airport_zone``);
    each rejected row adds (reason, document ``_id``) to ``rejected``; ``seen`` holds the natural keys of every
    chunk so far, a key seen again (here or earlier) being a duplicate.
    """
    raw = flight_frame(rows)
    for col in ("dep_airport", "arr_airport"):
        for code in raw[col].dropna().unique():
            run.airport_zone(code, rows.column("updated_at")[0].as_py())
    cleaned, reason = clean_flights(raw, run.zones())
    cleaned[DOC_ID] = rows.column("_id").to_pylist()  # a row refused later is quarantined as its document
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


def _quarantine_flights(run: CleanRun, rejected: list[tuple[str, Any]], rejects: Rejects) -> None:
    """The whole documents of rejected flight rows into ``rejects`` (quarantine keeps records whole)."""
    docs = run.documents_by_id(FLIGHTSTATUS, [doc_id for _reason, doc_id in rejected])
    for reason, doc_id in rejected:
        doc = docs.get(doc_id)
        if doc is None:  # replaced by a concurrent load_to_mongo of this partition: that run cleans it again
            raise RuntimeError(f"lufthansa/{FLIGHTSTATUS}: document {doc_id!r} left MongoDB while it was cleaned; "
                               "another load_to_mongo of this partition ran meanwhile: run clean again")
        rejects.add(reason, doc, doc.get("_key"), doc.get("_lake"))


_REFERENCE_CLEANERS = {"countries": clean_countries, "cities": clean_cities, "airports": clean_airports,
                       "airlines": clean_airlines, "aircraft": clean_aircraft}


def clean_reference(endpoint: str, docs: Iterable[dict[str, Any]], rejects: Rejects) -> list[dict[str, Any]]:
    """Rows of one reference endpoint; the documents refused go to ``rejects``."""
    return _REFERENCE_CLEANERS[endpoint](docs, rejects)


def clean_observations(run: CleanRun) -> None:
    """The day's flight status into ``flights``, chunk by chunk: memory stays flat however large the day.

    MongoDB flattens the records into rows of text (:data:`FLIGHT_PATHS`) that arrive as Arrow columns:
    decoding nested records into dicts cost five times as much as cleaning them. The collector stays paused
    across the loop (the in-process path still builds a dict per record, and pandas many small objects); the
    loop makes next to no cyclic garbage: each chunk is freed by reference counting before the next is read.
    """
    seen: set[str] = set()
    rejected: list[tuple[str, Any]] = []
    duplicates = 0
    run.write("flights", table_frame([], "flights"))  # a day without flights still writes its (empty) object
    with gc_paused():
        for rows in run.projected(FLIGHTSTATUS, FLIGHT_PATHS):
            unique, chunk_duplicates = _clean_flight_chunk(rows, run, seen, rejected)
            duplicates += chunk_duplicates
            run.write("flights", unique)
            del rows, unique  # one chunk alive at a time: freed before the next is read
    _quarantine_flights(run, rejected, run.rejects(FLIGHTSTATUS))
    run.count(FLIGHTSTATUS, run.written("flights"), duplicates)
