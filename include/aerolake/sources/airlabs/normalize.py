"""airlabs normalize."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

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
from aerolake.gapfill import frame as _frame
from aerolake.gapfill import gazetteer_timezone
from aerolake.sources.airlabs.spec import AIRLINES, AIRPORTS, FLIGHTS, SCHEDULES, SOURCE
from aerolake.sources.base import CleanRun

log = logging.getLogger(__name__)

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


def clean_reference(endpoint: str, docs: Iterable[dict[str, Any]], rejects: Rejects) -> list[dict[str, Any]]:
    """Rows of the airports or airlines listing; the documents refused go to ``rejects``."""
    return {AIRPORTS: clean_airports, AIRLINES: clean_airlines}[endpoint](docs, rejects)


def clean_observations(run: CleanRun) -> None:
    """The snapshot's schedules into flights and codeshares, its /flights into positions (in memory: a snapshot
    is a few thousand records). Every airport they name is known first: the snapshot's Airlabs rows, else the
    gazetteer's (filled)."""
    schedule_docs, position_docs = run.documents(SCHEDULES), run.documents(FLIGHTS)
    airports = run.references["airports"]
    run.fill_time = next((d["_lake"]["fetched_at"] for d in (*schedule_docs, *position_docs) if d.get("_lake")),
                         airports["updated_at"].max() if len(airports) else None)
    for doc in (*schedule_docs, *position_docs):
        for field in ("dep_iata", "arr_iata"):
            code = upper_code(doc.get(field))
            if code and AIRPORT_CODE.match(code):
                run.airport_zone(code, (doc.get("_lake") or {}).get("fetched_at"))

    flights, codeshares, duplicates = clean_schedules(schedule_docs, run.zones(), run.rejects(SCHEDULES))
    run.write("flights", _frame(flights, "flights"))
    run.write("flight_codeshares", _frame(codeshares, "flight_codeshares"))
    run.count(SCHEDULES, len(flights) + len(codeshares), duplicates)

    positions, duplicates = clean_positions(position_docs, run.rejects(FLIGHTS))
    run.write("flight_positions", _frame(positions, "flight_positions"))
    run.count(FLIGHTS, len(positions), duplicates)
