"""Aviation Stack documents -> rows of the MySQL model: natural keys, and the flights, codeshare listings,
live positions and the airlines they name, cleaned as columns ("+00:00" times are the airport's local clock,
converted with its zone once per distinct time and zone)."""

from __future__ import annotations

import logging
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
    Reasons,
    Rejects,
    audit,
    audit_columns,
    columns_of,
    float_or_none,
    matches,
    normalize_flight_number,
    per_distinct,
    registration,
    text_or_none,
    upper_code,
)
from aerolake.gapfill import gazetteer_timezone
from aerolake.schema import table_frame
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
        return _parse_time(text, tz)
    except (ValueError, OverflowError):  # a time a datetime cannot hold once converted (years 1 and 9999)
        return None, None


def _parse_time(text: str, tz: str | None) -> tuple[datetime | None, datetime | None]:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
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


def _number(value: Any) -> str | None:
    raw = text_or_none(value)
    return normalize_flight_number(raw) if raw else None


def _status(value: Any) -> str:
    return STATUS_MAP.get((text_or_none(value) or "").lower(), "unknown")


def _airline_name(value: Any) -> str | None:
    name = text_or_none(value)
    return None if name is None or name.lower() == "empty" else name


_TIMES = ("scheduled", "estimated", "actual")
_ENDS = ("departure", "arrival")
class _Records:
    """The partition's records as columns, each read on first use: ``self["departure.iata"]`` is every
    record's ``departure.iata`` (None where a record lacks it or its block is not an object)."""

    def __init__(self, docs: list[dict[str, Any]]):
        self.docs = docs
        self._blocks: dict[str, list[dict[str, Any]]] = {}
        self._columns: dict[str, list[Any]] = {}

    def block(self, name: str) -> list[dict[str, Any]]:
        if name not in self._blocks:
            self._blocks[name] = [_block(doc, name) for doc in self.docs]
        return self._blocks[name]

    def __getitem__(self, name: str) -> list[Any]:
        column = self._columns.get(name)
        if column is None:
            block, _, field = name.rpartition(".")
            column = self._columns[name] = [row.get(field) for row in (self.block(block) if block else self.docs)]
        return column

    def take(self, rows: Any) -> _Records:
        """The records at positions ``rows``, in that order."""
        return _Records([self.docs[int(i)] for i in rows])


def _airline_codes(r: _Records) -> Any:
    import numpy as np

    by_iata, by_icao = per_distinct(upper_code, r["airline.iata"]), per_distinct(upper_code, r["airline.icao"])
    return np.array([a or b for a, b in zip(by_iata, by_icao, strict=True)], dtype=object)


def _times(values: list[Any], zones: list[str | None]) -> tuple[Any, Any]:
    """:func:`parse_time` of a column, once per distinct value and zone: (UTC times, local clock times), two
    datetime columns. (Converting per zone in pandas was slower: a day's flights name a few hundred zones.)"""
    import pandas as pd

    pairs = per_distinct(parse_time, values, zones)
    utc = pd.to_datetime(pd.Series([utc for utc, _local in pairs], dtype=object)).astype("datetime64[us]")
    local = pd.to_datetime(pd.Series([local for _utc, local in pairs], dtype=object)).astype("datetime64[us]")
    return utc, local


def _dates(local: Any) -> list[date | None]:
    return [None if pd_na else t.date() for t, pd_na in zip(local, local.isna(), strict=True)]


def _delays(scheduled: Any, moved: Any, reported: list[Any]) -> Any:
    """Minutes late (negative when early) from the times, as for Lufthansa; the API's ``delay`` otherwise."""
    import numpy as np
    import pandas as pd

    computed = np.floor((moved - scheduled).dt.total_seconds() / 60).astype("Int64")
    given = pd.array(per_distinct(float_or_none, reported), dtype="Float64")
    return computed.fillna(pd.Series(np.trunc(given), index=computed.index).astype("Int64"))


def flight_rows(r: _Records) -> tuple[Any, list[str | None]]:
    """Operating records as ``flights`` rows (a frame), and per record why it is rejected (None: kept)."""
    import numpy as np
    import pandas as pd

    why = Reasons(len(r.docs))
    code = _airline_codes(r)
    why.add(~matches(code, AIRLINE_CODE), lambda i: "missing or invalid airline.iata/icao "
            f"({r['airline.iata'][i]!r}/{r['airline.icao'][i]!r})")
    number = per_distinct(_number, r["flight.number"])
    why.add(np.array([not n or len(n) > 5 for n in number], dtype=bool),
            lambda i: f"missing or invalid flight.number {r['flight.number'][i]!r}")
    rows: dict[str, Any] = {"airline_code": code, "flight_number": number}
    zones = {}
    for end in _ENDS:
        airport = np.array(per_distinct(upper_code, r[f"{end}.iata"]), dtype=object)
        valid = matches(airport, AIRPORT_CODE)
        why.add(~valid, lambda i, end=end: f"missing or invalid {end}.iata {r[f'{end}.iata'][i]!r}")
        zones[end] = per_distinct(gazetteer_timezone, [a if v else None for a, v in zip(airport, valid, strict=True)])
        why.add(valid & np.array([z is None for z in zones[end]], dtype=bool), lambda i, airport=airport: (
            f"unknown airport {airport[i]} (not in airportsdata, no timezone to convert its local times)"))
        rows[f"{end[:3]}_airport"] = airport
    locals_ = {}
    for end in _ENDS:
        for kind in _TIMES:
            rows[f"{kind}_{end}"], locals_[f"{kind}_{end}"] = _times(r[f"{end}.{kind}"], zones[end])
    scheduled_local = locals_["scheduled_departure"]
    why.add((rows["scheduled_departure"].isna() | scheduled_local.isna()).to_numpy(),
            lambda i: f"missing or unparseable departure.scheduled {r['departure.scheduled'][i]!r}")
    rows["departure_date"] = _dates(scheduled_local)  # the local date at the origin
    rows["operating_airline_code"] = rows["operating_flight_number"] = None  # Aviation Stack does not say
    for end in _ENDS:
        for field in ("terminal", "gate"):
            rows[f"{end[:3]}_{field}"] = per_distinct(text_or_none, r[f"{end}.{field}"])
    rows["status"] = per_distinct(_status, r["flight_status"])
    aircraft = np.array(per_distinct(upper_code, r["aircraft.iata"]), dtype=object)
    rows["aircraft_code"] = np.where(matches(aircraft, AIRCRAFT_CODE), aircraft, None)
    rows["registration"] = per_distinct(registration, r["aircraft.registration"])
    rows.update(audit_columns(SOURCE, r.docs))
    for end in _ENDS:
        rows[f"{end[:3]}_delay_min"] = _delays(rows[f"scheduled_{end}"],
                                               rows[f"actual_{end}"].fillna(rows[f"estimated_{end}"]),
                                               r[f"{end}.delay"])
    return pd.DataFrame(rows), why.reason


def position_rows(r: _Records, flights: Any) -> tuple[Any, list[str | None]]:
    """``flight_positions`` rows of the records' ``live`` blocks (``flights``: their flight rows, same order),
    and per record why not (None: kept)."""
    import numpy as np
    import pandas as pd

    why = Reasons(len(r.docs))
    icao24 = per_distinct(lambda v: (text_or_none(v) or "").lower(), r["aircraft.icao24"])
    why.add(~np.array([_ICAO24.match(v) is not None for v in icao24], dtype=bool),
            lambda i: f"live position without a valid aircraft.icao24 ({r['aircraft.icao24'][i]!r})")
    observed, _ = _times(r["live.updated"], ["UTC"] * len(r.docs))  # live.updated is a true UTC time
    why.add(observed.isna().to_numpy(),
            lambda i: f"live position without a valid updated time ({r['live.updated'][i]!r})")
    lat, lon = per_distinct(float_or_none, r["live.latitude"]), per_distinct(float_or_none, r["live.longitude"])
    why.add(np.array([a is None or b is None for a, b in zip(lat, lon, strict=True)], dtype=bool),
            lambda i: "live position without latitude/longitude")
    why.add(np.array([a is not None and not -90 <= a <= 90 for a in lat], dtype=bool),
            lambda i: f"latitude {lat[i]} out of range [-90, 90]")
    why.add(np.array([b is not None and not -180 <= b <= 180 for b in lon], dtype=bool),
            lambda i: f"longitude {lon[i]} out of range [-180, 180]")
    rows: dict[str, Any] = {"icao24": icao24, "observed_at": observed, "flight_id": None}
    for name in ("airline_code", "flight_number", "dep_airport", "arr_airport", "registration", "aircraft_code"):
        rows[name] = flights[name].to_numpy()
    rows["latitude"], rows["longitude"] = lat, lon
    for name, field in (("altitude_m", "altitude"), ("heading", "direction"), ("speed_kmh", "speed_horizontal"),
                        ("vertical_speed", "speed_vertical")):
        rows[name] = per_distinct(float_or_none, r[f"live.{field}"])
    rows["on_ground"] = [g if isinstance(g, bool) else None for g in r["live.is_ground"]]
    rows.update(audit_columns(SOURCE, r.docs))
    return pd.DataFrame(rows), why.reason


def codeshare_rows(r: _Records, icao_to_iata: dict[str, str]) -> tuple[Any, list[str | None]]:
    """Marketing listings (``flight.codeshared`` set) as ``flight_codeshares`` rows, and per listing why not."""
    import numpy as np
    import pandas as pd

    why = Reasons(len(r.docs))
    code = _airline_codes(r)
    why.add(~matches(code, AIRLINE_CODE),
            lambda i: f"codeshare: missing or invalid airline.iata/icao ({r['airline.iata'][i]!r})")
    number = per_distinct(_number, r["flight.number"])
    why.add(np.array([not n or len(n) > 5 for n in number], dtype=bool),
            lambda i: f"codeshare: missing or invalid flight.number {r['flight.number'][i]!r}")
    shared = [_block(flight, "codeshared") for flight in r.block("flight")]
    c = columns_of(shared, ("airline_iata", "airline_icao", "flight_number", "flight_iata"))
    operating = per_distinct(upper_code, c["airline_iata"])
    by_icao = per_distinct(upper_code, c["airline_icao"])
    operating = [op or (icao_to_iata.get(icao, icao) if icao else None)
                 for op, icao in zip(operating, by_icao, strict=True)]
    op_number = per_distinct(_operating_number, operating, c["flight_number"], c["flight_iata"])
    why.add(~matches(operating, AIRLINE_CODE) | np.array([not n or len(n) > 5 for n in op_number], dtype=bool), lambda i: (
        "codeshare: flight.codeshared names no valid operating airline and flight number "
        f"({c['airline_iata'][i]!r}, {c['flight_number'][i]!r})"))
    airport = np.array(per_distinct(upper_code, r["departure.iata"]), dtype=object)
    valid = matches(airport, AIRPORT_CODE)
    why.add(~valid, lambda i: f"codeshare: missing or invalid departure.iata {r['departure.iata'][i]!r}")
    zones = per_distinct(gazetteer_timezone, [a if v else None for a, v in zip(airport, valid, strict=True)])
    _utc, local = _times(r["departure.scheduled"], zones)
    why.add(local.isna().to_numpy(),
            lambda i: f"codeshare: missing or unparseable departure.scheduled {r['departure.scheduled'][i]!r}")
    rows = {"marketing_airline_code": code, "marketing_flight_number": number,
            "departure_date": _dates(local), "dep_airport": airport,
            "airline_code": operating, "flight_number": op_number, **audit_columns(SOURCE, r.docs)}
    return pd.DataFrame(rows), why.reason


def _operating_number(operating: str | None, number: Any, flight_iata: Any) -> str | None:
    """The operating flight's number: ``flight_number``, else ``flight_iata`` without the airline ("lh400")."""
    raw = text_or_none(number)
    if raw is None:
        iata = upper_code(flight_iata) or ""
        raw = iata[len(operating):] if operating and iata.startswith(operating) else None
    return normalize_flight_number(raw) if raw else None


def _airline_rows(r: _Records) -> dict[str, dict[str, Any]]:
    """``airlines`` rows (fill gaps only) for the carriers the records name; "empty" names are NULL. A
    carrier's row is its first record with a name, else its first record."""
    import numpy as np

    docs = r.docs
    code = _airline_codes(r)
    valid = matches(code, AIRLINE_CODE)
    icao = per_distinct(upper_code, r["airline.icao"])
    name = per_distinct(_airline_name, r["airline.name"])
    rows: dict[str, dict[str, Any]] = {}
    for i in np.flatnonzero(valid):
        known = rows.get(code[i])
        if known is None or (known["name"] is None and name[i] is not None):
            rows[code[i]] = {"airline_code": code[i],
                             "icao_code": icao[i] if icao[i] and ICAO_AIRLINE.match(icao[i]) else None,
                             "name": name[i], **audit(SOURCE, docs[i])}
    return rows


_KEY = ["airline_code", "flight_number", "departure_date", "dep_airport"]


def clean_documents(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every cleaned entity of a partition's documents, with rejects and duplicate counts.

    Returns ``flights``, ``codeshares``, ``positions`` (frames of the tables' load columns), ``airlines``
    (rows by code), ``rejects`` / ``position_rejects`` (:class:`Rejects`) and ``duplicates`` /
    ``position_duplicates``. Each document ends as exactly one of: flight, codeshare, reject, duplicate (the
    count balance); a kept flight's ``live`` block is a position, a rejected or a duplicate one.
    """
    import numpy as np

    rejects, position_rejects = Rejects(), Rejects()
    every = _Records(docs)
    listing = np.array([bool(_block(flight, "codeshared")) for flight in every.block("flight")], dtype=bool)
    operating_at = np.flatnonzero(~listing)
    flights, reason = flight_rows(every.take(operating_at))
    ok = np.array([x is None for x in reason], dtype=bool)
    repeated = flights[ok].duplicated(subset=_KEY, keep="first").to_numpy()
    kept = np.flatnonzero(ok)[~repeated]  # rows of `flights`
    for i in np.flatnonzero(~ok):
        doc = docs[operating_at[i]]
        rejects.add(reason[i], doc, doc.get("_key"), doc.get("_lake"))
    flights = flights.iloc[kept].reset_index(drop=True)
    operating = every.take(operating_at[kept])
    operating_docs = operating.docs

    live = [i for i, doc in enumerate(operating_docs) if doc.get("live") is not None]
    positions, why = position_rows(operating.take(live), flights.iloc[live])
    placed = np.array([x is None for x in why], dtype=bool)
    for j in np.flatnonzero(~placed):
        doc = operating_docs[live[j]]
        position_rejects.add(why[j], doc, doc.get("_key"), doc.get("_lake"))
    positions = positions[placed]
    again = positions.duplicated(subset=["icao24", "observed_at"], keep="first")
    positions = positions[~again.to_numpy()]

    icao_to_iata = {}  # a carrier's ICAO code -> its IATA code, as the operating records say (the last one wins)
    for code, icao, raw_icao in zip(_airline_codes(operating), per_distinct(upper_code, operating["airline.icao"]),
                                    operating["airline.icao"], strict=True):
        if code and raw_icao:
            icao_to_iata[icao] = code
    listings = every.take(np.flatnonzero(listing))
    listing_docs = listings.docs
    codeshares, reason = codeshare_rows(listings, icao_to_iata)
    known = set(flights[_KEY].itertuples(index=False, name=None))
    taken: set[tuple] = set()
    keep = []
    duplicates = int(repeated.sum())
    for i, row in enumerate(codeshares.itertuples(index=False)):
        text = reason[i]
        if text is None:
            operating = (row.airline_code, row.flight_number, row.departure_date, row.dep_airport)
            marketing = (row.marketing_airline_code, row.marketing_flight_number, row.departure_date, row.dep_airport)
            if operating == marketing:
                text = "codeshare: flight.codeshared names the listing itself"
            elif operating not in known:
                text = (f"codeshare: operating flight {operating[0]}{operating[1]} of {operating[2]} from "
                        f"{operating[3]} is not among the partition's cleaned flights (flight_codeshares references "
                        "flights)")
            elif marketing in known:
                text = (f"codeshare: marketing flight {marketing[0]}{marketing[1]} is also listed as an operating "
                        "flight")
        if text is not None:
            doc = listing_docs[i]
            rejects.add(text, doc, doc.get("_key"), doc.get("_lake"))
        elif marketing in taken:
            duplicates += 1
        else:
            taken.add(marketing)
            keep.append(i)
    return {"flights": table_frame(flights, "flights"),
            "codeshares": table_frame(codeshares.iloc[keep], "flight_codeshares"),
            "positions": table_frame(positions, "flight_positions"),
            "airlines": _airline_rows(every.take([*operating_at[kept], *np.flatnonzero(listing)])), "rejects": rejects,
            "position_rejects": position_rejects, "duplicates": duplicates,
            "position_duplicates": int(again.sum())}


def clean_reference(endpoint: str, docs: Iterable[dict[str, Any]], rejects: Rejects) -> list[dict[str, Any]]:
    """Aviation Stack lists no references (its flights name their airlines and airports)."""
    raise ValueError(f"aviationstack has no reference endpoint {endpoint!r}")


def clean_observations(run: CleanRun) -> None:
    """The day's flights into flights, codeshares, positions and the airlines they name (in memory: the API
    quota keeps a partition to a few thousand records). Their airports are filled from the gazetteer."""
    docs = run.documents(FLIGHTS)
    result = clean_documents(docs)
    run.fill_time = min(((d.get("_lake") or {}).get("fetched_at") for d in docs), default=None, key=str)
    for code in sorted(set(result["flights"]["dep_airport"]) | set(result["flights"]["arr_airport"])):
        run.airport_zone(code, run.fill_time)
    run.write("flights", result["flights"])
    run.write("flight_codeshares", result["codeshares"])
    run.write("flight_positions", result["positions"])
    run.rejects(FLIGHTS).items.extend(result["rejects"].items)
    run.rejects(POSITIONS).items.extend(result["position_rejects"].items)
    run.count(FLIGHTS, len(result["flights"]) + len(result["codeshares"]), result["duplicates"])
    run.count(POSITIONS, len(result["positions"]), result["position_duplicates"])
    run.fill("airlines_fill", "airlines_fill", table_frame(list(result["airlines"].values()), "airlines"))
