"""Reference gaps filled from ``airportsdata`` and ISO 3166, shared by every source.

A flight whose airport the partition's references lack still loads: the airport row is filled from the
``airportsdata`` gazetteer (``source = airportsdata``) and inserted only if MySQL lacks it (the ``fill gaps
only`` publish mode), and so is any country those airports reference. An airport the gazetteer does not know
either is unknown: its flights are quarantined by the source's cleaner, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aerolake.cleaning import (
    COUNTRY_CODE,
    ICAO_AIRPORT,
    airportsdata_iata,
    country_names,
    float_or_none,
    text_or_none,
    valid_timezones,
)

if TYPE_CHECKING:
    pass


def airport_from_gazetteer(code: str, updated_at: Any) -> dict[str, Any] | None:
    """An ``airports`` row for IATA ``code`` from airportsdata, or None if it does not know the code."""
    entry = airportsdata_iata().get(code)
    if entry is None:
        return None
    icao = entry.get("icao") or None
    country = entry.get("country") or ""
    return {"airport_code": code, "icao_code": icao if icao and ICAO_AIRPORT.match(icao) else None,
            "name": text_or_none(entry.get("name")), "city_code": None,
            "country_code": country if COUNTRY_CODE.match(country) else None,
            "latitude": float_or_none(entry.get("lat")), "longitude": float_or_none(entry.get("lon")),
            "timezone": entry.get("tz") if entry.get("tz") in valid_timezones() else None,
            "location_type": "Airport", "source": "airportsdata", "updated_at": updated_at}


def gazetteer_timezone(code: str) -> str | None:
    """The IANA zone of IATA airport ``code`` per airportsdata (None if unknown)."""
    entry = airportsdata_iata().get(code)
    tz = entry.get("tz") if entry else None
    return tz if tz in valid_timezones() else None


def country_rows(referenced: Iterable[str | None], known: Iterable[str], updated_at: Any) -> list[dict[str, Any]]:
    """``countries`` rows (ISO 3166 names, ``source = iso3166``) for referenced codes not in ``known``."""
    names = country_names()
    missing = {c for c in referenced if c} - set(known)
    return [{"country_code": c, "name": names.get(c), "source": "iso3166", "updated_at": updated_at}
            for c in sorted(missing)]

