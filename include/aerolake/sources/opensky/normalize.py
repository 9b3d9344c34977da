"""OpenSky documents -> rows of the MySQL model: natural keys, the state vectors into ``flight_positions`` and
the departures and arrivals into ``flights``, cleaned as columns (each scalar rule of :mod:`aerolake.cleaning`
once per distinct value, the first failed check a record's quarantine reason).

**Positions.** ``observed_at`` = ``time_position``, else ``last_contact`` (UTC); ``speed_kmh`` = ``velocity`` (m/s)
x 3.6; ``altitude_m`` = ``baro_altitude``, else ``geo_altitude`` (metres, as sent); ``heading`` = ``true_track``;
``vertical_speed`` = ``vertical_rate`` (m/s, as the model stores it); ``on_ground`` as sent. The callsign names the
flight where it can (:func:`flight_of_callsign`): ``DLH400  `` -> airline ``LH``, number ``400``; a state vector
names no airports, so ``link_positions_to_flights`` links such a position by airline, number and time.

**Flights.** OpenSky observes flights; it has no schedule. A departure or arrival becomes a ``flights`` row when
it names both airports (ICAO codes with an IATA code in ``airportsdata``) and a callsign that is an airline's
flight; anything else (private and training flights, ATC callsigns such as ``DLH9KT``, an airport OpenSky could
not tell) is quarantined with its reason. The mapping:

* ``actual_departure`` = ``firstSeen`` and ``actual_arrival`` = ``lastSeen``: when OpenSky's receivers first and
  last saw the aircraft, close to take-off and landing (later than off-block, earlier than on-block);
* ``scheduled_departure`` = ``firstSeen`` only because the column is NOT NULL; ``scheduled_arrival``, the
  estimates and the delays stay NULL (unknown). OpenSky ranks lowest in the flights merge (``Authority(0)``):
  any schedule source's times replace these;
* ``departure_date`` = the local date of ``firstSeen`` at the origin (its zone from the references or
  ``airportsdata``); a flight that left after midnight although scheduled before it gets the next date (OpenSky
  cannot know the schedule);
* ``status`` = ``landed`` (the nightly batch lists completed flights); the operating carrier is the callsign's.

The same flight in the departures of one hub and the arrivals of another is one row: the arrival is counted
as a duplicate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from aerolake.cleaning import (
    AIRPORT_CODE,
    Reasons,
    Rejects,
    airportsdata_iata,
    audit_columns,
    columns_of,
    float_or_none,
    normalize_flight_number,
    per_distinct,
    text_or_none,
    valid_timezones,
)
from aerolake.schema import table_frame
from aerolake.sources.base import CleanRun
from aerolake.sources.opensky.spec import (
    AIRLINE_IATA,
    ARRIVAL_FLIGHTS,
    ARRIVALS,
    DEPARTURE_FLIGHTS,
    DEPARTURES,
    SOURCE,
    STATE_FIELDS,
    STATE_MEMBERS,
    STATES,
)

_ICAO24 = re.compile(r"^[0-9a-f]{6}$")
#: an airline's flight: ICAO designator, then 1-4 digits and an optional letter ("DLH400", "SWR8A"); an
#: alphanumeric ATC callsign ("DLH9KT", "EZY45LK") is no flight number
_AIRLINE_CALLSIGN = re.compile(r"^([A-Z]{3})([0-9]{1,4}[A-Z]?)$")
KMH_PER_MS = 3.6


# -- keys ---------------------------------------------------------------------------------------------------
def _epoch(value: Any) -> int | None:
    """Unix seconds as an int; None for anything else (null, text, a boolean, NaN, out of range)."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        return None
    try:
        return int(value) if 0 < value < 253_402_300_800 else None  # before year 10000
    except OverflowError:
        return None


def _is_state(record: dict[str, Any]) -> bool:
    """Whether a record is a named state vector (what the client makes of an array of 17 or 18 members)."""
    return all(name in record for name in STATE_FIELDS[:STATE_MEMBERS])


def natural_key(endpoint: str, record: dict[str, Any]) -> str | None:
    """The record's key within its partition, or None when a key field is missing (then quarantined):
    a state vector is its aircraft and observation time, a flight its aircraft and first-seen time."""
    icao24 = text_or_none(record.get("icao24"))
    if endpoint == STATES:
        if not _is_state(record) or not icao24:
            return None
        seen = _epoch(record.get("time_position")) or _epoch(record.get("last_contact"))
        return f"{icao24.lower()}|{seen}" if seen else None
    if endpoint in (DEPARTURES, ARRIVALS):
        first = _epoch(record.get("firstSeen"))
        return f"{icao24.lower()}|{first}" if icao24 and first else None
    raise ValueError(f"opensky has no endpoint {endpoint!r}")


def missing_key_reason(endpoint: str, record: dict[str, Any]) -> str:
    if endpoint == STATES:
        if not _is_state(record):
            return ("not a state vector: OpenSky sends each as an array of 17 or 18 positional values (icao24, "
                    "callsign, ..., position_source[, category])")
        return "missing natural key: a state vector needs icao24 and time_position or last_contact"
    return "missing natural key: a flight needs icao24 and firstSeen"


# -- shared rules ------------------------------------------------------------------------------------------
def flight_of_callsign(callsign: Any) -> tuple[str | None, str | None]:
    """(IATA airline, flight number) of an ICAO callsign (``"DLH400  "`` -> ``("LH", "400")``); (None, None) for
    a callsign that is no airline's flight or an airline :data:`AIRLINE_IATA` does not know."""
    text = text_or_none(callsign)
    match = _AIRLINE_CALLSIGN.match(text.upper()) if text else None
    if match is None or match.group(1) not in AIRLINE_IATA:
        return None, None
    return AIRLINE_IATA[match.group(1)], normalize_flight_number(match.group(2))


def _identity(callsigns: list[Any]) -> tuple[list[str | None], list[str | None]]:
    """:func:`flight_of_callsign` of a column: (airlines, flight numbers), each computed once per callsign."""
    return (per_distinct(lambda v: flight_of_callsign(v)[0], callsigns),
            per_distinct(lambda v: flight_of_callsign(v)[1], callsigns))


def _callsign_reason(callsign: Any) -> str:
    text = text_or_none(callsign)
    if text is None:
        return "no callsign: the flight cannot be named"
    match = _AIRLINE_CALLSIGN.match(text.upper())
    if match is None:
        return f"callsign {text!r} is no airline flight (an ICAO airline designator and a flight number)"
    return f"callsign {text!r}: airline designator {match.group(1)} is not in the ICAO-to-IATA airline table"


@cache
def iata_by_icao() -> dict[str, str]:
    """ICAO airport code -> IATA code, from ``airportsdata`` (an airport without an IATA code is not in it)."""
    out: dict[str, str] = {}
    for iata, entry in sorted(airportsdata_iata().items()):
        icao = entry.get("icao")
        if icao and AIRPORT_CODE.match(iata):
            out.setdefault(icao.upper(), iata)
    return out


def _airport(value: Any) -> str | None:
    code = text_or_none(value)
    return iata_by_icao().get(code.upper()) if code else None


def _number(value: Any) -> float | None:
    """A finite number (text holding one too: lenient), else None: infinity is no measurement."""
    number = float_or_none(value)
    return number if number is not None and math.isfinite(number) else None


def _utc(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _local_date(moment: datetime | None, tz: str | None) -> date | None:
    if moment is None or tz not in valid_timezones():
        return None
    from zoneinfo import ZoneInfo

    try:
        return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()
    except OverflowError:
        return None


def _reject(rejects: Rejects, reason: str, doc: dict[str, Any]) -> None:
    rejects.add(reason, doc, doc.get("_key"), doc.get("_lake"))


def _position_reason(lat: float | None, lon: float | None) -> str | None:
    if lat is None or lon is None:
        return "no position (latitude/longitude null: nothing received in the last 15 s)"
    if not -90 <= lat <= 90:
        return f"latitude {lat} out of range [-90, 90]"
    if not -180 <= lon <= 180:
        return f"longitude {lon} out of range [-180, 180]"
    return None


# -- state vectors -> positions ------------------------------------------------------------------------------
def clean_states(docs: list[dict[str, Any]], rejects: Rejects) -> tuple[Any, int]:
    """``flight_positions`` rows (a frame) of a snapshot's state vectors, and the duplicates dropped (the same
    aircraft and observation time twice: the first is kept)."""
    import numpy as np
    import pandas as pd

    c = columns_of(docs, STATE_FIELDS)
    why = Reasons(len(docs))
    icao24 = per_distinct(lambda v: (text_or_none(v) or "").lower(), c["icao24"])
    why.add(~np.array(per_distinct(lambda v: _ICAO24.match(v) is not None, icao24), dtype=bool),
            lambda i: f"icao24 {c['icao24'][i]!r} is not an ICAO 24-bit address (six hex digits)")
    seen = [p or last for p, last in zip(per_distinct(_epoch, c["time_position"]), per_distinct(_epoch, c["last_contact"]),
                                         strict=True)]
    why.add(np.array([s is None for s in seen], dtype=bool),
            lambda i: f"no observation time (time_position {c['time_position'][i]!r}, last_contact "
                      f"{c['last_contact'][i]!r})")
    lat, lon = per_distinct(float_or_none, c["latitude"]), per_distinct(float_or_none, c["longitude"])
    placed = per_distinct(_position_reason, lat, lon)
    why.add(np.array([p is not None for p in placed], dtype=bool), lambda i: placed[i])
    ok = why.ok()
    for index in np.flatnonzero(~ok):
        _reject(rejects, why.reason[index], docs[index])

    airline, number = _identity(c["callsign"])
    baro, geo = per_distinct(_number, c["baro_altitude"]), per_distinct(_number, c["geo_altitude"])
    velocity = per_distinct(_number, c["velocity"])
    rows: dict[str, Any] = {
        "icao24": icao24,
        "observed_at": per_distinct(_utc, seen),
        "airline_code": airline,
        "flight_number": number,
        "dep_airport": None, "arr_airport": None, "registration": None, "aircraft_code": None,
        "latitude": lat, "longitude": lon,
        "altitude_m": [b if b is not None else g for b, g in zip(baro, geo, strict=True)],
        "heading": per_distinct(_number, c["true_track"]),
        "speed_kmh": [None if v is None else v * KMH_PER_MS for v in velocity],
        "vertical_speed": per_distinct(_number, c["vertical_rate"]),
        "on_ground": [v if v.__class__ is bool else None for v in c["on_ground"]],
    }
    rows.update(audit_columns(SOURCE, docs))
    frame = pd.DataFrame(rows)[ok]
    repeated = frame.duplicated(subset=["icao24", "observed_at"], keep="first")
    return table_frame(frame[~repeated], "flight_positions"), int(repeated.sum())


# -- departures and arrivals -> flights ----------------------------------------------------------------------
_FLIGHT_COLUMNS = ("icao24", "firstSeen", "lastSeen", "estDepartureAirport", "estArrivalAirport", "callsign")
FLIGHT_KEY = ["airline_code", "flight_number", "departure_date", "dep_airport"]


def clean_flights(docs: list[dict[str, Any]], airport_tz: dict[str, str | None], rejects: Rejects,
                  known: set[tuple[Any, ...]] | None = None) -> tuple[Any, int]:
    """``flights`` rows (a frame) of departure or arrival documents, and the duplicates dropped: a key seen
    earlier in ``docs`` or in ``known`` (the keys of rows already made, e.g. by the other endpoint), which
    receives the keys of the rows kept. ``airport_tz`` maps every known airport to its zone."""
    import numpy as np
    import pandas as pd

    known = set() if known is None else known
    c = columns_of(docs, _FLIGHT_COLUMNS)
    why = Reasons(len(docs))
    airline, number = _identity(c["callsign"])
    why.add(np.array([a is None for a in airline], dtype=bool), lambda i: _callsign_reason(c["callsign"][i]))
    airports = {}
    for side, field in (("dep", "estDepartureAirport"), ("arr", "estArrivalAirport")):
        code = per_distinct(_airport, c[field])
        why.add(np.array([k is None for k in code], dtype=bool),
                lambda i, field=field: (f"no {field}: OpenSky could not tell the airport" if c[field][i] is None else
                                        f"{field} {c[field][i]!r} has no IATA code in airportsdata (the flights "
                                        "table is keyed by IATA)"))
        why.add(np.array([k is not None and k not in airport_tz for k in code], dtype=bool),
                lambda i, code=code: f"unknown airport {code[i]} (neither in the references nor in airportsdata)")
        airports[side] = code
    first = per_distinct(lambda v: _utc(_epoch(v)), c["firstSeen"])
    last = per_distinct(lambda v: _utc(_epoch(v)), c["lastSeen"])
    why.add(np.array([f is None for f in first], dtype=bool), lambda i: f"invalid firstSeen {c['firstSeen'][i]!r}")
    departure_date = per_distinct(_local_date, first, [airport_tz.get(k) if k else None for k in airports["dep"]])
    why.add(np.array([d is None for d in departure_date], dtype=bool),
            lambda i: f"cannot determine the local departure date (zone of {airports['dep'][i]} unknown)")
    ok = why.ok()
    rows = pd.DataFrame({
        "airline_code": airline, "flight_number": number,
        "departure_date": departure_date, "dep_airport": airports["dep"], "arr_airport": airports["arr"],
        "operating_airline_code": airline, "operating_flight_number": number,
        "scheduled_departure": first, "actual_departure": first, "actual_arrival": last, "status": "landed",
        **audit_columns(SOURCE, docs),
    })
    for index in np.flatnonzero(~ok):
        _reject(rejects, why.reason[index], docs[index])
    candidates = rows[ok]
    keys = list(candidates[FLIGHT_KEY].itertuples(index=False, name=None))
    keep = []
    for key in keys:
        keep.append(key not in known)
        known.add(key)
    kept = candidates[np.array(keep, dtype=bool)] if keys else candidates
    return table_frame(kept, "flights"), len(keys) - len(kept)


# -- the clean stage ------------------------------------------------------------------------------------------
def clean_reference(endpoint: str, docs: Iterable[dict[str, Any]], rejects: Rejects) -> list[dict[str, Any]]:
    """OpenSky lists no references (its flights name ICAO airports, its callsigns airlines)."""
    raise ValueError(f"opensky has no reference endpoint {endpoint!r}")


def clean_observations(run: CleanRun) -> None:
    """A snapshot's state vectors into positions; a day's departures and arrivals into flights (the arrivals
    after the departures: a flight between two hubs is one row). The flights' airports are known first: the
    gazetteer fills those MySQL may lack."""
    states, departures, arrivals = run.documents(STATES), run.documents(DEPARTURES), run.documents(ARRIVALS)
    run.fill_time = next((d["_lake"]["fetched_at"] for d in (*states, *departures, *arrivals) if d.get("_lake")),
                         None)
    positions, duplicates = clean_states(states, run.rejects(STATES))
    run.write("flight_positions", positions)
    run.count(STATES, len(positions), duplicates)

    flights = [*departures, *arrivals]
    codes = columns_of(flights, ("estDepartureAirport", "estArrivalAirport"))
    for i, pair in enumerate(zip(per_distinct(_airport, codes["estDepartureAirport"]),
                                 per_distinct(_airport, codes["estArrivalAirport"]), strict=True)):
        for code in pair:
            if code is not None and code not in run.zones():
                run.airport_zone(code, (flights[i].get("_lake") or {}).get("fetched_at"))
    known: set[tuple[Any, ...]] = set()
    for endpoint, entity, docs in ((DEPARTURES, DEPARTURE_FLIGHTS, departures), (ARRIVALS, ARRIVAL_FLIGHTS, arrivals)):
        rows, repeated = clean_flights(docs, run.zones(), run.rejects(endpoint), known)
        run.write(entity, rows)
        run.count(endpoint, len(rows), repeated)
