"""Airlabs documents -> rows of the MySQL model: natural keys, the airports and airlines listings, and the
schedules (flights and codeshares) and positions cleaned as columns: each scalar rule of
:mod:`aerolake.cleaning` once per distinct value, checks as masks, the first failed check a record's
quarantine reason."""

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
    Reasons,
    Rejects,
    audit,
    audit_columns,
    columns_of,
    float_or_none,
    matches,
    normalize_flight_number,
    parse_distinct,
    per_distinct,
    registration,
    text_or_none,
    upper_code,
    valid_timezones,
)
from aerolake.gapfill import gazetteer_timezone
from aerolake.schema import table_frame
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


def _aircraft_code(value: Any) -> str | None:
    """The IATA type for a known ICAO designator; an unknown designator is kept as sent (4 characters)."""
    code = upper_code(value)
    if code is None:
        return None
    return AIRCRAFT_IATA.get(code) or (code if re.fullmatch(r"[A-Z0-9]{2,4}", code) else None)


def _name(value: Any) -> str | None:
    """A name, None for blanks and placeholders such as ``"empty"``."""
    text = text_or_none(value)
    return None if text is None or text.lower() in _PLACEHOLDER_NAMES else text


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
                     "name": _name(doc.get("name")), "city_code": None,
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
        rows.append({"airline_code": code, "icao_code": icao, "name": _name(doc.get("name")), **audit(SOURCE, doc)})
    return rows


def _position_reason(lat: float | None, lon: float | None, allow_missing: bool = False) -> str | None:
    if lat is None or lon is None:
        return None if allow_missing else "missing position (lat/lng null)"
    if not -90 <= lat <= 90:
        return f"latitude {lat} out of range [-90, 90]"
    if not -180 <= lon <= 180:
        return f"longitude {lon} out of range [-180, 180]"
    return None


def _date_in_zone(utc: datetime, tz: str | None) -> date | None:
    """The calendar date of UTC time ``utc`` in zone ``tz`` (None for an unknown zone)."""
    if tz in valid_timezones():
        from zoneinfo import ZoneInfo

        try:
            return utc.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()
        except OverflowError:  # year 1 or 9999: no date in that zone a datetime can hold
            return None
    return None


def _local_to_utc(local_text: str | None, tz: str | None) -> datetime | None:
    local = _utc(local_text)  # same text format, read as a wall-clock time
    if local is None or tz not in valid_timezones():
        return None
    from zoneinfo import ZoneInfo

    try:
        return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # a local time at the edge of what a datetime holds (year 1 or 9999)
        return None


def _minutes(values: list[Any]) -> Any:
    """:func:`_utc` of a column, vectorized (pandas parses the format as ``strptime`` does)."""
    import pandas as pd

    text = pd.Series([v.strip()[:16] or None if v.__class__ is str else None for v in values], dtype=object)
    return parse_distinct(text, format="%Y-%m-%d %H:%M").astype("datetime64[us]")


def _from_epoch(value: Any) -> datetime | None:
    """A ``*_ts`` epoch (seconds) as naive UTC; None for a value that is not one a datetime can hold (NaN, a
    boolean, a year outside 1 to 9999)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return None


def _moments(utc_text: list[Any], ts: list[Any], local_text: list[Any], tz: list[str | None]) -> Any:
    """UTC times (naive): the ``*_utc`` text as sent, else the ``*_ts`` epoch, else the local time converted
    with the airport's zone."""
    import numpy as np

    utc = _minutes(utc_text)
    for i in np.flatnonzero(utc.isna().to_numpy()):
        moment = _from_epoch(ts[i])
        if moment is not None:
            utc.iat[i] = moment
    rest = [i for i in np.flatnonzero(utc.isna().to_numpy()) if local_text[i] is not None]
    if rest:
        local = per_distinct(_local_to_utc, [local_text[i] for i in rest], [tz[i] for i in rest])
        for i, value in zip(rest, local, strict=True):
            if value is not None:
                utc.iat[i] = value
    return utc


def _date_of(local_text: Any) -> date | None:
    text = text_or_none(local_text)
    if text and len(text) >= 10:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            pass
    return None


def _status(value: Any) -> str:
    return STATUS_MAP.get(str(value or "").strip().lower(), "unknown")


_KINDS = (("scheduled", "time"), ("estimated", "estimated"), ("actual", "actual"))
_EVENT = {"dep": "departure", "arr": "arrival"}


def _identity(c: dict[str, list[Any]], iata: str, icao: str | None, number: str, flight_iata: str
              ) -> tuple[Any, Any]:
    """Columns (airline, flight number) of :func:`flight_identity`, computed per distinct value."""
    import numpy as np

    airline = per_distinct(upper_code, c[iata])
    if icao is not None:
        by_icao = per_distinct(upper_code, c[icao])
        airline = [a or b for a, b in zip(airline, by_icao, strict=True)]
    flight = per_distinct(normalize_flight_number, c[number])
    missing = [i for i, f in enumerate(flight) if f is None and airline[i]]
    if missing:  # the number, else taken from flight_iata ("LX1071" -> "1071")
        rest = per_distinct(lambda a, code: flight_identity(a, None, None, code)[1],
                            [airline[i] for i in missing], [c[flight_iata][i] for i in missing])
        for i, value in zip(missing, rest, strict=True):
            flight[i] = value
    return np.array(airline, dtype=object), np.array(flight, dtype=object)


def _delays(reported: list[Any], reference: Any, scheduled: Any) -> Any:
    """Minutes late: the API's figure (truncated), else from the times (floored); Int64."""
    import numpy as np
    import pandas as pd

    given = pd.array(per_distinct(float_or_none, reported), dtype="Float64")
    computed = ((reference - scheduled).dt.total_seconds() // 60).astype("Int64")
    return pd.Series(np.trunc(given), index=computed.index).astype("Int64").fillna(computed)


SCHEDULE_FIELDS = ("airline_iata", "airline_icao", "flight_number", "flight_iata", "cs_airline_iata",
                   "cs_flight_number", "cs_flight_iata", "dep_iata", "arr_iata", "status", "dep_delayed", "delayed",
                   "arr_delayed", "aircraft_icao", "reg_number", "dep_terminal", "dep_gate", "arr_terminal", "arr_gate",
                   *(f"{side}_{field}{suffix}" for side in _EVENT for _kind, field in _KINDS
                     for suffix in ("", "_utc", "_ts")))


def schedule_rows(docs: list[dict[str, Any]], airport_tz: dict[str, str | None]) -> tuple[Any, list[str | None]]:
    """Schedules records as one frame of flight rows (with the codeshare operator, ``cs_airline_code`` and
    ``cs_flight_number``, where the record is a marketing listing), and per record why it is rejected (None:
    kept). Columnar: each scalar rule runs once per distinct value.

    A record with ``cs_*`` fields is the marketing view of another carrier's flight; a record naming itself
    as its operator is simply a flight. ``airport_tz`` maps every known airport to its zone (None: known, zone
    unknown).
    """
    import numpy as np
    import pandas as pd

    c = columns_of(docs, SCHEDULE_FIELDS)
    why = Reasons(len(docs))
    airline, number = _identity(c, "airline_iata", "airline_icao", "flight_number", "flight_iata")
    why.add(~matches(airline, AIRLINE_CODE),
            lambda i: f"missing or invalid airline code (airline_iata {c['airline_iata'][i]!r})")
    why.add(np.array([not n or len(n) > 5 for n in number], dtype=bool),
            lambda i: f"missing or invalid flight_number {c['flight_number'][i]!r}")
    rows: dict[str, Any] = {"airline_code": airline, "flight_number": number}
    zones = {}
    for side in _EVENT:
        field = f"{side}_iata"
        code = np.array(per_distinct(upper_code, c[field]), dtype=object)
        valid = matches(code, AIRPORT_CODE)
        why.add(~valid, lambda i, field=field: f"missing or invalid {field} {c[field][i]!r}")
        known = np.array([k in airport_tz for k in code], dtype=bool)
        why.add(valid & ~known,
                lambda i, code=code: f"unknown airport {code[i]} (not in the Airlabs airports nor airportsdata)")
        zones[side] = [airport_tz.get(k) for k in code]
        rows[f"{side}_airport"] = code
        for kind, name in _KINDS:
            column = f"{side}_{name}"
            rows[f"{kind}_{_EVENT[side]}"] = _moments(c[f"{column}_utc"], c[f"{column}_ts"], c[column], zones[side])
    why.add(rows["scheduled_departure"].isna().to_numpy(),
            lambda i: "missing or unparseable dep_time_utc/dep_time: no scheduled departure")
    # the local date of the local time the API gives, else of the UTC time in the airport's zone
    departure_date = per_distinct(_date_of, c["dep_time"])
    scheduled = rows["scheduled_departure"]
    for i in [i for i, d in enumerate(departure_date) if d is None and not pd.isna(scheduled.iat[i])]:
        departure_date[i] = _date_in_zone(scheduled.iat[i].to_pydatetime(), zones["dep"][i])
    why.add(np.array([d is None for d in departure_date], dtype=bool),
            lambda i: f"cannot determine the local departure date (no dep_time, zone {zones['dep'][i]!r})")
    rows["departure_date"] = departure_date

    cs_airline, cs_number = _identity(c, "cs_airline_iata", None, "cs_flight_number", "cs_flight_iata")
    shared = np.array([bool(a or n) for a, n in zip(cs_airline, cs_number, strict=True)], dtype=bool)
    why.add(shared & (~matches(cs_airline, AIRLINE_CODE) | np.array([not n or len(n) > 5 for n in cs_number], dtype=bool)),
            lambda i: f"invalid codeshare operator (cs_airline_iata {c['cs_airline_iata'][i]!r}, "
                      f"cs_flight_number {c['cs_flight_number'][i]!r})")
    itself = shared & (cs_airline == airline) & (cs_number == number)
    cs_airline[~shared | itself], cs_number[~shared | itself] = None, None
    rows["cs_airline_code"], rows["cs_flight_number"] = cs_airline, cs_number
    rows["operating_airline_code"] = np.where(cs_airline == None, airline, cs_airline)  # noqa: E711 (elementwise)
    rows["operating_flight_number"] = np.where(cs_number == None, number, cs_number)  # noqa: E711
    for name in ("dep_terminal", "dep_gate", "arr_terminal", "arr_gate"):
        rows[name] = per_distinct(text_or_none, c[name])
    rows["status"] = per_distinct(_status, c["status"])
    dep_reported = [d if d is not None else late for d, late in zip(c["dep_delayed"], c["delayed"], strict=True)]
    rows["dep_delay_min"] = _delays(dep_reported, rows["actual_departure"].fillna(rows["estimated_departure"]),
                                    rows["scheduled_departure"])
    rows["arr_delay_min"] = _delays(c["arr_delayed"], rows["actual_arrival"].fillna(rows["estimated_arrival"]),
                                    rows["scheduled_arrival"])
    rows["aircraft_code"] = per_distinct(_aircraft_code, c["aircraft_icao"])
    rows["registration"] = per_distinct(registration, c["reg_number"])
    rows.update(audit_columns(SOURCE, docs))
    return pd.DataFrame(rows), why.reason


def clean_schedules(docs: list[dict[str, Any]], airport_tz: dict[str, str | None], rejects: Rejects
                    ) -> tuple[Any, Any, int]:
    """Flights and codeshares of the partition's schedule documents: (flights, codeshares, duplicates), two
    frames of the tables' load columns.

    Flights first; then each codeshare is kept only if its operating flight is among those flights (the table's
    foreign key), else quarantined. Duplicates (the same natural key twice) are counted, not kept; a repeated
    codeshare is a duplicate of the first one kept.
    """
    import numpy as np

    rows, reason = schedule_rows(docs, airport_tz)
    ok = np.array([r is None for r in reason], dtype=bool)
    shared = rows["cs_airline_code"].notna().to_numpy()
    key = ["airline_code", "flight_number", "departure_date", "dep_airport"]
    candidates = rows[ok & ~shared]
    repeated = candidates.duplicated(subset=key, keep="first")
    flights = candidates[~repeated]

    listings = rows[ok & shared]
    marketing = listings[key].apply(tuple, axis=1) if len(listings) else listings.index.to_series()
    operating = listings[["cs_airline_code", "cs_flight_number", "departure_date", "dep_airport"]].apply(
        tuple, axis=1) if len(listings) else marketing
    known = set(flights[key].itertuples(index=False, name=None))
    is_flight = marketing.isin(known).to_numpy()
    has_operator = operating.isin(known).to_numpy()
    accepted = ~is_flight & has_operator
    kept_before = listings.assign(_ok=accepted).groupby(key, sort=False)["_ok"].cumsum().to_numpy() - accepted
    duplicate = kept_before > 0
    keep = accepted & ~duplicate
    late: dict[int, str] = {}
    for i, (index, m, o) in enumerate(zip(listings.index, marketing, operating, strict=True)):
        if duplicate[i] or keep[i]:
            continue
        late[index] = (f"codeshare {m[0]}{m[1]} is also a flight of this partition; kept as the flight" if is_flight[i]
                       else f"codeshare operating flight {o[0]}{o[1]} from {o[3]} on {o[2]} is not among the "
                            "partition's flights")
    for index in np.flatnonzero(~ok):
        _reject(rejects, reason[index], docs[index])
    for index, text in late.items():
        _reject(rejects, text, docs[index])

    codeshares = listings[keep].rename(columns={"airline_code": "marketing_airline_code",
                                                "flight_number": "marketing_flight_number"})
    codeshares = codeshares.assign(airline_code=codeshares["cs_airline_code"],
                                   flight_number=codeshares["cs_flight_number"])
    duplicates = int(repeated.sum()) + int(duplicate.sum())
    return (table_frame(flights, "flights"), table_frame(codeshares, "flight_codeshares"), duplicates)


POSITION_FIELDS = ("hex", "updated", "lat", "lng", "alt", "dir", "speed", "v_speed", "status", "airline_iata",
                   "airline_icao", "flight_number", "flight_iata", "dep_iata", "arr_iata", "reg_number",
                   "aircraft_icao")
_ON_GROUND = {"landed": True, "scheduled": True, "en-route": False}


def clean_positions(docs: list[dict[str, Any]], rejects: Rejects) -> tuple[Any, int]:
    """``flight_positions`` rows (a frame) of the partition's /flights documents, and the duplicates dropped
    (the same aircraft and observation time twice: the first is kept)."""
    import numpy as np
    import pandas as pd

    c = columns_of(docs, POSITION_FIELDS)
    why = Reasons(len(docs))
    icao24 = per_distinct(lambda v: (text_or_none(v) or "").lower(), c["hex"])
    why.add(~np.array(per_distinct(lambda v: _HEX.match(v) is not None, icao24), dtype=bool),
            lambda i: f"missing or invalid hex {c['hex'][i]!r}: a position needs the aircraft's 24-bit address")
    updated = per_distinct(float_or_none, c["updated"])
    why.add(np.array([u is None or u <= 0 for u in updated], dtype=bool),
            lambda i: f"missing or invalid updated {c['updated'][i]!r}: no observation time")
    lat, lon = per_distinct(float_or_none, c["lat"]), per_distinct(float_or_none, c["lng"])
    placed = per_distinct(_position_reason, lat, lon)
    why.add(np.array([p is not None for p in placed], dtype=bool), lambda i: placed[i])
    ok = why.ok()
    for index in np.flatnonzero(~ok):
        _reject(rejects, why.reason[index], docs[index])

    airline, number = _identity(c, "airline_iata", "airline_icao", "flight_number", "flight_iata")
    rows: dict[str, Any] = {
        "icao24": icao24,
        "observed_at": per_distinct(lambda u: datetime.fromtimestamp(int(u), UTC).replace(tzinfo=None)
                                    if u is not None and u > 0 else None, updated),
        "airline_code": np.where(matches(airline, AIRLINE_CODE), airline, None),
        "flight_number": [n if n and len(n) <= 5 else None for n in number],
    }
    for side in _EVENT:
        code = np.array(per_distinct(upper_code, c[f"{side}_iata"]), dtype=object)
        rows[f"{side}_airport"] = np.where(matches(code, AIRPORT_CODE), code, None)
    rows["registration"] = per_distinct(registration, c["reg_number"])
    rows["aircraft_code"] = per_distinct(_aircraft_code, c["aircraft_icao"])
    rows["latitude"], rows["longitude"] = lat, lon
    for name, field in (("altitude_m", "alt"), ("heading", "dir"), ("speed_kmh", "speed"), ("vertical_speed", "v_speed")):
        rows[name] = per_distinct(float_or_none, c[field])
    rows["on_ground"] = per_distinct(lambda v: _ON_GROUND.get(str(v or "").strip().lower()), c["status"])
    rows.update(audit_columns(SOURCE, docs))
    frame = pd.DataFrame(rows)[ok]
    repeated = frame.duplicated(subset=["icao24", "observed_at"], keep="first")
    return table_frame(frame[~repeated], "flight_positions"), int(repeated.sum())


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
    docs = [*schedule_docs, *position_docs]
    codes = columns_of(docs, ("dep_iata", "arr_iata"))
    dep, arr = per_distinct(upper_code, codes["dep_iata"]), per_distinct(upper_code, codes["arr_iata"])
    first_met: dict[str, int] = {}  # each code, in the order the documents name it
    for i, pair in enumerate(zip(dep, arr, strict=True)):
        for code in pair:
            if code is not None and code not in first_met:
                first_met[code] = i
    for code, i in first_met.items():
        if AIRPORT_CODE.match(code):
            run.airport_zone(code, (docs[i].get("_lake") or {}).get("fetched_at"))

    flights, codeshares, duplicates = clean_schedules(schedule_docs, run.zones(), run.rejects(SCHEDULES))
    positions, position_duplicates = clean_positions(position_docs, run.rejects(FLIGHTS))
    run.write("flights", flights)
    run.write("flight_codeshares", codeshares)
    run.count(SCHEDULES, len(flights) + len(codeshares), duplicates)

    run.write("flight_positions", positions)
    run.count(FLIGHTS, len(positions), position_duplicates)
