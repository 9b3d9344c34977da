"""aviationstack normalize."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

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
from aerolake.gapfill import frame as _frame
from aerolake.gapfill import gazetteer_timezone
from aerolake.sources.aviationstack.spec import FLIGHTS, POSITIONS, SOURCE
from aerolake.sources.base import CleanRun

log = logging.getLogger(__name__)

#: Aviation Stack ``flight_status`` -> the contract's status (anything else becomes ``unknown``)
STATUS_MAP = {s: s for s in ("scheduled", "active", "landed", "cancelled", "incident", "diverted")}
_ICAO24 = re.compile(r"^[0-9a-f]{6}$")


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


def clean_reference(endpoint: str, docs: Iterable[dict[str, Any]], rejects: Rejects) -> list[dict[str, Any]]:
    """Aviation Stack lists no references (its flights name their airlines and airports)."""
    raise ValueError(f"aviationstack has no reference endpoint {endpoint!r}")


def clean_observations(run: CleanRun) -> None:
    """The day's flights into flights, codeshares, positions and the airlines they name (in memory: the API
    quota keeps a partition to a few thousand records). Their airports are filled from the gazetteer."""
    docs = run.documents(FLIGHTS)
    result = clean_documents(docs)
    run.fill_time = min(((d.get("_lake") or {}).get("fetched_at") for d in docs), default=None, key=str)
    for code in sorted({f[end] for f in result["flights"] for end in ("dep_airport", "arr_airport")}):
        run.airport_zone(code, run.fill_time)
    run.write("flights", _frame(result["flights"], "flights"))
    run.write("flight_codeshares", _frame(result["codeshares"], "flight_codeshares"))
    run.write("flight_positions", _frame(result["positions"], "flight_positions"))
    run.rejects(FLIGHTS).items.extend(result["rejects"].items)
    run.rejects(POSITIONS).items.extend(result["position_rejects"].items)
    run.count(FLIGHTS, len(result["flights"]) + len(result["codeshares"]), result["duplicates"])
    run.count(POSITIONS, len(result["positions"]), result["position_duplicates"])
    run.fill("airlines_fill", "airlines_fill", _frame(list(result["airlines"].values()), "airlines"))
