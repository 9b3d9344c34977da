"""Cleaning machinery shared by the sources: reference lookups, time zones, quarantine records.

A source's normalizer turns raw records into rows of plain values and names what is wrong with a record;
this module supplies what those checks need (valid IANA zones, the ``airportsdata`` gap filler, country
names) and the vectorized local-time-to-UTC conversion.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from aerolake.schema import (  # noqa: F401 - the code patterns, re-exported for the cleaners
    AIRCRAFT_CODE,
    AIRLINE_CODE,
    AIRPORT_CODE,
    COUNTRY_CODE,
    DOC_ID,
    ICAO_AIRLINE,
    ICAO_AIRPORT,
)

#: MongoDB field names may not start with "$" or hold "."; raw keys are stored with these stand-ins.
_KEY_ESCAPES = {"$": "\uff04", ".": "\uff0e"}


def encode_keys(value: Any) -> Any:
    """A raw record made storable in MongoDB: "$" and "." in keys become full-width stand-ins."""
    if isinstance(value, dict):
        return {
            (k.replace("$", _KEY_ESCAPES["$"]).replace(".", _KEY_ESCAPES["."]) if ("$" in k or "." in k) else k):
            encode_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [encode_keys(v) for v in value]
    return value


def decode_keys(value: Any) -> Any:
    """The inverse of :func:`encode_keys` (quarantined records are stored as the API sent them)."""
    if isinstance(value, dict):
        return {
            k.replace(_KEY_ESCAPES["$"], "$").replace(_KEY_ESCAPES["."], "."): decode_keys(v)
            for k, v in value.items()
            if k not in ("_id", "_key", "_lake")
        }
    if isinstance(value, list):
        return [decode_keys(v) for v in value]
    return value


@cache
def valid_timezones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


@cache
def airportsdata_iata() -> dict[str, dict[str, Any]]:
    """``airportsdata``'s IATA table (about 7,800 airports), loaded once per process."""
    import airportsdata

    return airportsdata.load("IATA")


@cache
def country_names() -> dict[str, str]:
    """ISO 3166 alpha-2 code -> English name (from babel's CLDR data)."""
    from babel import Locale

    return {code: name for code, name in Locale("en").territories.items() if COUNTRY_CODE.match(code)}


def text_or_none(value: Any) -> str | None:
    """A trimmed string, or None for null, blank, and ``{"@nil": "true"}``; numbers become their text. Never cut:
    a text longer than its column is refused by the plausibility rules (:mod:`aerolake.plausibility`)."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        return None
    return text


#: leading zeros of a flight number (a regex for vectorized cleaning; :func:`normalize_flight_number` is the
#: same rule for one value): "0400" -> "400", "0400A" -> "400A", "000" -> "0"
FLIGHT_NUMBER_LEADING_ZEROS = (r"^0+([0-9])", r"\1")


def normalize_flight_number(value: Any) -> str | None:
    """"0400", 400, " 400 " -> "400"; "400A" stays (upper case); blank -> None."""
    text = text_or_none(value)
    if text is None:
        return None
    text = text.upper()
    digits = text.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return (digits.lstrip("0") or "0") + text[len(digits):] if digits.isdigit() else text


def upper_code(value: Any) -> str | None:
    """A code (airline, airport, aircraft, ICAO 24-bit address) as text in upper case, or None when blank."""
    text = text_or_none(value)
    return text.upper() if text else None


def audit(source: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The audit columns of a row cleaned from the Mongo document ``doc``: its source, and its partition's
    ``fetched_at`` as ``updated_at`` (what "freshest observation wins" compares); and the document's ``_id``
    (:data:`DOC_ID`: a row the plausibility rules refuse is quarantined as that document)."""
    return {"source": source, "updated_at": (doc.get("_lake") or {}).get("fetched_at"), DOC_ID: doc.get("_id")}


def audit_columns(source: str, docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """:func:`audit` of every document, as columns (``source`` one value for all)."""
    return {"source": source, "updated_at": [(doc.get("_lake") or {}).get("fetched_at") for doc in docs],
            DOC_ID: [doc.get("_id") for doc in docs]}


def registration(value: Any) -> str | None:
    """An aircraft registration as Lufthansa prints it: "D-AIXY", "d aixy" -> "DAIXY" (one spelling per
    airframe across sources); blank -> None."""
    text = upper_code(value)
    return text.replace("-", "").replace(" ", "") or None if text else None


def float_or_none(value: Any) -> float | None:
    if value is None or isinstance(value, dict | list | bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is unknown


@dataclass
class Rejects:
    """Records a cleaner refused, each with the reason, to be written to quarantine."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, reason: str, record: Any, key: str | None = None, lake: dict | None = None) -> None:
        self.items.append({"reason": reason, "key": key, "record": decode_keys(record),
                           "s3_key": (lake or {}).get("s3_key")})

    def __len__(self) -> int:
        return len(self.items)


def local_to_utc(local: pd.Series, tz: pd.Series) -> pd.Series:
    """Naive local wall-clock datetimes -> naive UTC, per row time zone (vectorized per zone).

    Non-existent or ambiguous local times (DST changes) resolve to NaT only when the zone is unknown: a
    spring-forward gap shifts forward, an autumn repeat takes the first (daylight) occurrence.
    """
    import pandas as pd

    out = pd.Series(pd.NaT, index=local.index, dtype="datetime64[us]")
    mask = local.notna() & tz.notna()
    if not mask.any():
        return out
    for zone, idx in local[mask].groupby(tz[mask]).groups.items():
        if zone not in valid_timezones():
            continue
        values = local.loc[idx].dt.tz_localize(zone, ambiguous=True, nonexistent="shift_forward")
        out.loc[idx] = values.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    return out


def utc_to_local_date(utc: pd.Series, tz: pd.Series) -> pd.Series:
    """Local calendar date of naive UTC datetimes in each row's zone (NaT where the zone is unknown)."""
    import pandas as pd

    out = pd.Series(pd.NaT, index=utc.index, dtype="datetime64[us]")
    mask = utc.notna() & tz.notna()
    for zone, idx in utc[mask].groupby(tz[mask]).groups.items():
        if zone not in valid_timezones():
            continue
        local = utc.loc[idx].dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
        out.loc[idx] = local.astype("datetime64[us]")
    return out


def map_distinct(values: pd.Series, mapping: dict[Any, Any]) -> pd.Series:
    """``values.map(mapping).astype("string")``, looked up once per distinct value.

    A chunk of flights holds a few hundred airports and statuses among tens of thousands of rows; pandas'
    dict ``map`` builds an index of the whole dict and probes it per row, while factorizing first (hashing
    in C) leaves a Python lookup per distinct value. Missing keys, None values and NA rows give NA.
    """
    import pandas as pd

    codes, uniques = pd.factorize(values)
    looked_up = pd.array([mapping.get(u) for u in uniques] + [None], dtype="string")
    return pd.Series(looked_up.take(codes), index=values.index, name=values.name)  # code -1 (NA) takes the None


def parse_distinct(text: pd.Series, **to_datetime: Any) -> pd.Series:
    """``pd.to_datetime(text, errors="coerce", **to_datetime)``, each distinct text parsed once.

    A day's flight times are minutes of one day and repeat across rows; the same parser run over the
    distinct values (then taken back per row) gives the same result as parsing every row, several times
    faster than pandas' own cache. NA rows give NaT.
    """
    import pandas as pd

    codes, uniques = pd.factorize(text)
    parsed = pd.to_datetime(uniques, errors="coerce", cache=False, **to_datetime)
    return pd.Series(parsed.take(codes, allow_fill=True, fill_value=pd.NaT), index=text.index, name=text.name)


def per_distinct(function: Callable[..., Any], *columns: Sequence[Any]) -> list[Any]:
    """``function(*row)`` for every row of ``columns``, computed once per distinct row.

    The columnar normalizers apply the scalar rules of this module (``text_or_none``, ``upper_code``, …) this
    way: a partition's codes, times and zones repeat across its records, so each distinct value costs one
    call, and the result is exactly the scalar rule's. Values equal under ``==`` share one result (``400``
    and ``400.0`` clean alike), except booleans (``True`` is not ``1``); an unhashable value (an object or
    an array where a scalar belongs) is computed in place.
    """
    import numpy as np
    import pandas as pd

    plain = all(set(map(type, column)) <= _FACTORIZABLE for column in columns)
    if plain and len(columns) == 1:  # hashed in C; None gets code -1: the last result
        codes, uniques = pd.factorize(np.asarray(columns[0], dtype=object))
        results = np.empty(len(uniques) + 1, dtype=object)
        results[:] = [*(function(u) for u in uniques), function(None) if (codes < 0).any() else None]
        return results.take(codes).tolist()
    cache: dict[Any, Any] = {}
    out: list[Any] = []
    append = out.append
    if plain:
        for row in zip(*columns, strict=True):
            result = cache.get(row, _MISSING)
            if result is _MISSING:
                result = cache[row] = function(*row)
            append(result)
        return out
    for row in zip(*columns, strict=True):
        if any(v.__class__ is dict or v.__class__ is list for v in row):
            append(function(*row))
            continue
        key = tuple((bool, v) if v.__class__ is bool else v for v in row)
        result = cache.get(key, _MISSING)
        if result is _MISSING:
            result = cache[key] = function(*row)
        append(result)
    return out


def columns_of(docs: Sequence[dict[str, Any]], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    """The documents' ``fields`` as columns (None where a document lacks one)."""
    rows = [tuple(map(doc.get, fields)) for doc in docs]
    return dict(zip(fields, map(list, zip(*rows, strict=True)) if rows else ([] for _ in fields), strict=True))


def matches(values: Sequence[Any], pattern: re.Pattern[str]) -> Any:
    """Per value, whether it is text matching ``pattern`` (a boolean array)."""
    import numpy as np

    return np.array(per_distinct(lambda v: bool(v) and pattern.match(v) is not None, values), dtype=bool)


class Reasons:
    """Per row of a columnar normalizer, why it is rejected: the first failing check names it (a later check
    skips rows already rejected)."""

    def __init__(self, n: int):
        self.reason: list[str | None] = [None] * n

    def add(self, mask: Any, text: Callable[[int], str]) -> None:
        """Reject the rows of boolean ``mask`` that have no reason yet with ``text(row)``."""
        import numpy as np

        for i in np.flatnonzero(mask):
            if self.reason[i] is None:
                self.reason[i] = text(i)

    def ok(self) -> Any:
        """The rows kept (a boolean array)."""
        import numpy as np

        return np.array([r is None for r in self.reason], dtype=bool)


_MISSING = object()
_FACTORIZABLE = frozenset({str, int, float, type(None)})


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one bounded chunk of work.

    Flattening tens of thousands of nested records allocates millions of small containers; with a large
    heap alive (documents in memory, an in-process MongoDB) every automatic full collection walks all of it,
    which was measured to triple the time of the flight flattening. Reference counting still frees
    everything as usual; cycles created meanwhile are collected once the collector is back on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
