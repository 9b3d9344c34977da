"""Property: whatever JSON a record holds, every normalizer returns rows or rejects (with a reason), never
raises, and each record ends as exactly one row, reject or duplicate (hypothesis draws the values).

Real-shaped records (tests/fixtures/) have some fields, top-level or nested, replaced by drawn JSON: any
scalar (years 1 and 9999 in the source's own time formats, NaN and infinity, huge numbers, blanks), lists
and objects.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aerolake.cleaning import Rejects, encode_keys
from aerolake.gapfill import gazetteer_timezone
from aerolake.sources.airlabs import normalize as airlabs
from aerolake.sources.airlabs.client import extract_records as airlabs_records
from aerolake.sources.aviationstack import normalize as aviationstack
from aerolake.sources.aviationstack.client import extract_records as aviationstack_records
from aerolake.sources.lufthansa import normalize as lufthansa
from aerolake.sources.lufthansa.client import extract_records as lufthansa_records
from aerolake.sources.opensky import normalize as opensky
from aerolake.sources.opensky.client import extract_records as opensky_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
#: times at the edges of what a datetime can hold, in the sources' own formats
EDGE_TIMES = ["0001-01-01T00:00", "9999-12-31T23:59", "0001-01-01 00:00", "9999-12-31 23:59",
              "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00", "9999-12-31", "0001-01-01", "2026-13-45T99:99"]
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=20) | st.sampled_from(EDGE_TIMES))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                          max_size=3), max_leaves=8)
ZONES = {code: gazetteer_timezone(code) for code in ("FRA", "JFK", "MUC", "ORD", "BCN", "ZRH", "LHR", "IAH")}
PROPERTY = settings(max_examples=int(__import__("os").environ.get("AEROLAKE_PROPERTY_EXAMPLES", "60")), deadline=None, suppress_health_check=list(HealthCheck))


def fixture_records(extract: Any, endpoint: str, path: str) -> list[dict[str, Any]]:
    return extract(endpoint, json.loads((FIXTURES / path).read_text()))[0]


def paths_of(record: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for key, value in record.items():
        found.append((*prefix, key))
        if isinstance(value, dict):
            found += paths_of(value, (*prefix, key))
    return found


@st.composite
def spoiled(draw: st.DrawFn, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records, some of them with a few fields replaced by drawn JSON."""
    out = []
    for record in records:
        record = copy.deepcopy(record)
        paths = paths_of(record)
        for _ in range(draw(st.integers(0, 3))):
            path = draw(st.sampled_from(paths))
            target = record
            for key in path[:-1]:
                target = target.get(key) if isinstance(target, dict) else None
            if isinstance(target, dict):
                target[path[-1]] = draw(JSON)
        out.append(record)
    return out


def staged(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"_id": str(i), "_key": f"key{i}", "_lake": {"fetched_at": "2026-03-01T12:06:00Z", "s3_key": "raw/part"},
             **encode_keys(record)} for i, record in enumerate(records)]


AIRLABS_SCHEDULES = fixture_records(airlabs_records, "schedules", "airlabs/schedules_page.json")
AIRLABS_POSITIONS = fixture_records(airlabs_records, "flights", "airlabs/flights_page.json")
AVIATIONSTACK = fixture_records(aviationstack_records, "flights", "aviationstack/flights_page.json")
LUFTHANSA = fixture_records(lufthansa_records, "flightstatus", "lufthansa/flightstatus_page.json")
OPENSKY_STATES = fixture_records(opensky_records, "states", "opensky/states_all_extended.json")
OPENSKY_FLIGHTS = [*fixture_records(opensky_records, "departures", "opensky/flights_departure.json"),
                   *fixture_records(opensky_records, "arrivals", "opensky/flights_arrival.json")]


@PROPERTY
@given(spoiled(AIRLABS_SCHEDULES[:6]))
def test_airlabs_schedules_never_raise(records: list[dict[str, Any]]) -> None:
    docs = staged(records)
    rejects = Rejects()
    flights, codeshares, duplicates = airlabs.clean_schedules(docs, ZONES, rejects)
    assert len(flights) + len(codeshares) + len(rejects) + duplicates == len(docs)
    assert all(item["reason"] for item in rejects.items)


@PROPERTY
@given(spoiled(AIRLABS_POSITIONS[:6]))
def test_airlabs_positions_never_raise(records: list[dict[str, Any]]) -> None:
    docs = staged(records)
    rejects = Rejects()
    rows, duplicates = airlabs.clean_positions(docs, rejects)
    assert len(rows) + len(rejects) + duplicates == len(docs)
    assert all(item["reason"] for item in rejects.items)


@PROPERTY
@given(spoiled(AVIATIONSTACK[:6]))
def test_aviationstack_flights_never_raise(records: list[dict[str, Any]]) -> None:
    docs = staged(records)
    result = aviationstack.clean_documents(docs)
    assert len(result["flights"]) + len(result["codeshares"]) + len(result["rejects"]) + result["duplicates"] == \
        len(docs)
    assert all(item["reason"] for item in result["rejects"].items)


@PROPERTY
@given(spoiled(LUFTHANSA[:6]))
def test_lufthansa_flights_never_raise(records: list[dict[str, Any]]) -> None:
    docs = staged(records)
    frame = lufthansa.flight_frame(lufthansa.flight_table(docs))
    rows, reasons = lufthansa.clean_flights(frame, ZONES)  # per row: why it is rejected, or NA
    assert len(reasons) == len(docs) and set(rows.index) <= set(frame.index)
    assert (reasons.dropna().str.len() > 0).all()  # the clean stage keeps the rows without a reason


@PROPERTY
@given(spoiled(OPENSKY_STATES))
def test_opensky_state_vectors_never_raise(records: list[dict[str, Any]]) -> None:
    docs = staged(records)
    rejects = Rejects()
    rows, duplicates = opensky.clean_states(docs, rejects)
    assert len(rows) + len(rejects) + duplicates == len(docs)
    assert all(item["reason"] for item in rejects.items)


@PROPERTY
@given(spoiled(OPENSKY_FLIGHTS[:8]))
def test_opensky_flights_never_raise(records: list[dict[str, Any]]) -> None:
    docs = staged(records)
    rejects = Rejects()
    zones = {**ZONES, "JFK": "America/New_York", "ZRH": "Europe/Zurich", "IAD": "America/New_York"}
    rows, duplicates = opensky.clean_flights(docs, zones, rejects)
    assert len(rows) + len(rejects) + duplicates == len(docs)
    assert all(item["reason"] for item in rejects.items)
