"""Airlabs record extraction, natural keys and normalizers on real-shaped fixture pages (every quirk).

Cleaners are fed what ``load_to_mongo`` stages: records with a natural key, once per key, plus ``_id``,
``_key`` and ``_lake``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from frames import model_rows, rows_of

from aerolake.cleaning import Rejects, normalize_flight_number
from aerolake.schema import FLIGHT_CODESHARES, FLIGHT_POSITIONS, FLIGHTS, conform
from aerolake.sources.airlabs.client import extract_records
from aerolake.sources.airlabs.normalize import (
    clean_airlines,
    clean_airports,
    clean_positions,
    clean_schedules,
    flight_identity,
    missing_key_reason,
    natural_key,
)
from aerolake.sources.airlabs.spec import AIRLINES, AIRPORTS, SCHEDULES
from aerolake.sources.airlabs.spec import FLIGHTS as POSITIONS_ENDPOINT  # /flights: the positions

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "airlabs"
FETCHED_AT = "2026-03-01T12:06:00Z"
TZ = {"FRA": "Europe/Berlin", "MUC": "Europe/Berlin", "JFK": "America/New_York", "ZRH": "Europe/Zurich",
      "ORD": "America/Chicago", "PMI": "Europe/Madrid"}


def records(name: str, endpoint: str) -> list[dict[str, Any]]:
    return extract_records(endpoint, json.loads((FIXTURES / name).read_text(encoding="utf-8")))[0]


def staged(endpoint: str, raw: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
    """(documents, records without a key, duplicates) as load_to_mongo leaves them."""
    docs, seen, missing, duplicates = [], set(), 0, 0
    for index, record in enumerate(raw):
        key = natural_key(endpoint, record)
        if key is None:
            missing += 1
            continue
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        docs.append({"_id": f"{key}|2026-03-01/1200", "_key": key,
                     "_lake": {"source": "airlabs", "endpoint": endpoint, "dt": "2026-03-01", "snapshot": "1200",
                               "s3_key": f"raw/{endpoint}/part-00000.json.gz", "index": index,
                               "fetched_at": FETCHED_AT},
                     **record})
    return docs, missing, duplicates


def by(rows: list[dict[str, Any]], *fields: str) -> dict[Any, dict[str, Any]]:
    """Rows by one field's value, or by a tuple of several fields' values."""
    return {(r[fields[0]] if len(fields) == 1 else tuple(r[f] for f in fields)): r for r in rows}


# -- extraction and keys ----------------------------------------------------------------------------------
def test_extract_records_reads_the_response_list_and_nothing_from_error_bodies() -> None:
    assert len(records("schedules_page.json", SCHEDULES)) == 10
    errors = json.loads((FIXTURES / "errors.json").read_text())
    for body in errors.values():
        assert extract_records(SCHEDULES, body) == ([], None)
    # items that are not objects are kept (staging quarantines and counts them); another shape is an error
    assert extract_records(SCHEDULES, {"response": [1, "x", {"a": 1}]}) == ([1, "x", {"a": 1}], None)
    for other in (None, [], {"response": "oops"}, {"data": []}):
        with pytest.raises(ValueError, match="expected an object with a response list"):
            extract_records(SCHEDULES, other)


def test_natural_keys_and_the_reasons_for_missing_ones() -> None:
    sched = records("schedules_page.json", SCHEDULES)
    assert natural_key(SCHEDULES, sched[0]) == "LH400|FRA|2026-03-01"
    assert natural_key(SCHEDULES, sched[2]) == "CL1010|FRA|2026-03-01"  # "01010": leading zero dropped
    assert natural_key(SCHEDULES, sched[5]) == "GEC8160|FRA|2026-03-01"  # ICAO airline when IATA is null
    assert natural_key(SCHEDULES, sched[6]) == "LX1071|FRA|2026-03-01"  # number from flight_iata
    assert natural_key(SCHEDULES, sched[7]) is None
    assert natural_key(SCHEDULES, sched[9]) == "LH403|JFK|2026-02-28"  # the local date at the origin
    pos = records("flights_page.json", POSITIONS_ENDPOINT)
    assert natural_key(POSITIONS_ENDPOINT, pos[0]) == "3c4b26|1772367000"  # hex lower-cased
    assert natural_key(POSITIONS_ENDPOINT, pos[2]) is None
    assert natural_key(AIRPORTS, records("airports_page.json", AIRPORTS)[2]) == "EDRP"
    assert natural_key(AIRLINES, records("airlines_page.json", AIRLINES)[4]) is None
    assert "hex" in missing_key_reason(POSITIONS_ENDPOINT, pos[2])
    assert "flight_number" in missing_key_reason(SCHEDULES, sched[7])


@pytest.mark.parametrize(("value", "expected"), [("0400", "400"), (400, "400"), (" 74 ", "74"), ("400A", "400A"),
                                                 ("0", "0"), ("", None), (None, None)])
def test_flight_numbers_are_normalized(value: Any, expected: str | None) -> None:
    assert normalize_flight_number(value) == expected


def test_flight_identity_prefers_iata_and_falls_back_to_icao_and_flight_iata() -> None:
    assert flight_identity("lh", "DLH", "0400") == ("LH", "400")
    assert flight_identity(None, "gec", "8160") == ("GEC", "8160")
    assert flight_identity("LX", "SWR", None, "LX1071") == ("LX", "1071")
    assert flight_identity("LX", "SWR", None, None) == ("LX", None)


# -- schedules: flights and codeshares ----------------------------------------------------------------------
def test_schedules_become_flights_codeshares_and_quarantined_records() -> None:
    docs, missing, duplicates = staged(SCHEDULES, records("schedules_page.json", SCHEDULES))
    assert (len(docs), missing, duplicates) == (9, 1, 0)
    rejects = Rejects()
    flights, codeshares, dupes = clean_schedules(docs, TZ, rejects)
    flights, codeshares = rows_of(flights), rows_of(codeshares)

    flights_by_key = by(flights, "airline_code", "flight_number", "dep_airport")
    assert set(flights_by_key) == {("LH", "400", "FRA"), ("CL", "1010", "FRA"), ("GEC", "8160", "FRA"),
                                   ("LX", "1071", "FRA"), ("LH", "403", "JFK")}
    assert by(codeshares, "marketing_airline_code", "marketing_flight_number") == {
        ("UA", "8840"): {"marketing_airline_code": "UA", "marketing_flight_number": "8840",
                         "departure_date": date(2026, 3, 1), "dep_airport": "FRA", "airline_code": "LH",
                         "flight_number": "400", "source": "airlabs", "updated_at": FETCHED_AT},
        ("LH", "1010"): {"marketing_airline_code": "LH", "marketing_flight_number": "1010",
                         "departure_date": date(2026, 3, 1), "dep_airport": "FRA", "airline_code": "CL",
                         "flight_number": "1010", "source": "airlabs", "updated_at": FETCHED_AT},
    }
    assert dupes == 0
    assert sorted(r["reason"] for r in rejects.items) == [
        "codeshare operating flight LH456 from FRA on 2026-03-01 is not among the partition's flights",
        "unknown airport ZZZ (not in the Airlabs airports nor airportsdata)",
    ]
    assert all("_lake" not in r["record"] and r["s3_key"] for r in rejects.items)  # the record as the API sent it

    lh400 = flights_by_key[("LH", "400", "FRA")]
    assert lh400 == {
        "airline_code": "LH", "flight_number": "400", "departure_date": date(2026, 3, 1), "dep_airport": "FRA",
        "arr_airport": "JFK", "operating_airline_code": "LH", "operating_flight_number": "400",
        "scheduled_departure": datetime(2026, 3, 1, 12, 10), "estimated_departure": None,
        "actual_departure": datetime(2026, 3, 1, 12, 32), "scheduled_arrival": datetime(2026, 3, 1, 21, 5),
        "estimated_arrival": datetime(2026, 3, 1, 21, 20), "actual_arrival": None,
        "dep_terminal": "1", "dep_gate": "B44", "arr_terminal": "1", "arr_gate": None, "status": "active",
        "dep_delay_min": 22, "arr_delay_min": 15, "aircraft_code": "74H", "registration": None,
        "source": "airlabs", "updated_at": FETCHED_AT,
    }
    # only local times: converted with the airports' zones; an unknown status code is 'unknown'
    cargo = flights_by_key[("GEC", "8160", "FRA")]
    assert cargo["scheduled_departure"] == datetime(2026, 3, 1, 15, 45)  # 16:45 CET
    assert cargo["scheduled_arrival"] == datetime(2026, 3, 2, 1, 15)  # 19:15 CST
    assert (cargo["status"], cargo["aircraft_code"]) == ("unknown", "77F")
    night = flights_by_key[("LH", "403", "JFK")]
    assert (night["departure_date"], night["scheduled_departure"], night["status"]) == (
        date(2026, 2, 28), datetime(2026, 3, 1, 3, 15), "cancelled")
    assert flights_by_key[("CL", "1010", "FRA")]["aircraft_code"] == "CR9"

    # the rows conform to the contract (types, lengths, required columns)
    import pandas as pd

    conformed = conform(pd.DataFrame(flights), FLIGHTS)
    assert conformed["scheduled_departure"].notna().all() and len(conformed) == 5
    assert len(conform(pd.DataFrame(codeshares), FLIGHT_CODESHARES)) == 2


def test_a_codeshare_also_reported_as_a_flight_and_a_repeated_codeshare_are_not_duplicated() -> None:
    docs, _, _ = staged(SCHEDULES, records("schedules_page.json", SCHEDULES))
    flight_doc = next(d for d in docs if d["_key"] == "LH400|FRA|2026-03-01")
    share_doc = next(d for d in docs if d["_key"] == "UA8840|FRA|2026-03-01")
    clash = {**share_doc, "airline_iata": "LH", "flight_number": "400", "flight_iata": "LH400", "cs_airline_iata": "lx",
             "cs_flight_number": "400", "_key": "x"}
    again = {**share_doc, "_key": "y"}
    rejects = Rejects()
    flights, codeshares, duplicates = clean_schedules([flight_doc, share_doc, again, clash], TZ, rejects)
    flights, codeshares = rows_of(flights), rows_of(codeshares)
    assert (len(flights), len(codeshares), duplicates) == (1, 1, 1)
    assert [r["reason"] for r in rejects.items] == [
        "codeshare LH400 is also a flight of this partition; kept as the flight"]


def test_a_schedule_without_arrival_airport_or_departure_time_is_quarantined_with_its_reason() -> None:
    docs, _, _ = staged(SCHEDULES, records("schedules_page.json", SCHEDULES))
    base = docs[0]
    broken = [
        {**base, "arr_iata": None},
        {**base, "dep_time_utc": None, "dep_time": None, "dep_time_ts": None},
        {**base, "airline_iata": "L$", "airline_icao": None},
        {**base, "flight_number": "123456"},
        {**base, "cs_airline_iata": "l", "cs_flight_number": "1"},
    ]
    rejects = Rejects()
    flights, codeshares, _ = clean_schedules(broken, TZ, rejects)
    flights, codeshares = rows_of(flights), rows_of(codeshares)
    assert (flights, codeshares) == ([], [])
    assert [r["reason"].split(" (")[0].split(" '")[0] for r in rejects.items] == [
        "missing or invalid arr_iata None",
        "missing or unparseable dep_time_utc/dep_time: no scheduled departure",
        "missing or invalid airline code",
        "missing or invalid flight_number",
        "invalid codeshare operator",
    ]


# -- positions ----------------------------------------------------------------------------------------------
def test_positions_keep_units_and_identity_and_quarantine_what_cannot_be_placed() -> None:
    docs, missing, duplicates = staged(POSITIONS_ENDPOINT, records("flights_page.json", POSITIONS_ENDPOINT))
    assert (len(docs), missing, duplicates) == (6, 1, 1)  # no hex: no key; the repeated observation: a duplicate
    rejects = Rejects()
    rows, dupes = clean_positions(docs, rejects)
    rows = rows_of(rows)
    assert dupes == 0
    assert sorted(r["reason"] for r in rejects.items) == ["latitude 123.4 out of range [-90, 90]",
                                                          "missing position (lat/lng null)"]
    got = by(rows, "icao24")
    assert set(got) == {"3c4b26", "3c6dd4", "3c65a1", "4b1812"}
    assert got["3c4b26"] == {
        "icao24": "3c4b26", "observed_at": datetime(2026, 3, 1, 12, 10), "airline_code": "LH", "flight_number": "400",
        "dep_airport": "FRA", "arr_airport": "JFK", "registration": "DABYT", "aircraft_code": "74H",
        "latitude": 51.472, "longitude": -1.9541, "altitude_m": 11582.0, "heading": 284.6, "speed_kmh": 871.0,
        "vertical_speed": 0.0, "on_ground": False, "source": "airlabs", "updated_at": FETCHED_AT,
    }
    ground = got["3c6dd4"]
    assert (ground["on_ground"], ground["registration"], ground["speed_kmh"], ground["airline_code"]) == (
        True, None, 14.0, "CL")
    assert (got["3c65a1"]["altitude_m"], got["3c65a1"]["dep_airport"], got["3c65a1"]["arr_airport"]) == (
        None, None, "BCN")
    assert (got["4b1812"]["aircraft_code"], got["4b1812"]["registration"], got["4b1812"]["vertical_speed"]) == (
        "ZZ99", "HBJNA", -6.5)
    import pandas as pd

    conformed = conform(pd.DataFrame(rows), FLIGHT_POSITIONS)
    assert list(conformed.columns) == FLIGHT_POSITIONS.load_columns


def test_a_position_with_a_bad_hex_or_no_time_is_quarantined() -> None:
    docs, _, _ = staged(POSITIONS_ENDPOINT, records("flights_page.json", POSITIONS_ENDPOINT))
    rejects = Rejects()
    rows, _ = clean_positions([{**docs[0], "hex": "XYZ123"}, {**docs[0], "updated": None}], rejects)
    rows = rows_of(rows)
    assert rows == []
    assert [r["reason"] for r in rejects.items] == [
        "missing or invalid hex 'XYZ123': a position needs the aircraft's 24-bit address",
        "missing or invalid updated None: no observation time"]


# -- references ---------------------------------------------------------------------------------------------
def test_airports_need_an_iata_code_and_a_possible_position_and_get_the_gazetteer_zone() -> None:
    docs, missing, _ = staged(AIRPORTS, records("airports_page.json", AIRPORTS))
    assert missing == 0
    rejects = Rejects()
    rows = by(model_rows(clean_airports(docs, rejects)), "airport_code")
    assert set(rows) == {"FRA", "JFK", "ZRH"}
    assert rows["FRA"] == {"airport_code": "FRA", "icao_code": "EDDF", "name": "Frankfurt am Main Airport",
                           "city_code": None, "country_code": "DE", "latitude": 50.026421, "longitude": 8.543125,
                           "timezone": "Europe/Berlin", "location_type": "Airport", "source": "airlabs",
                           "updated_at": FETCHED_AT}
    assert rows["ZRH"]["name"] is None  # "empty" is no name
    assert sorted(r["reason"] for r in rejects.items) == [
        "latitude 95.5 out of range [-90, 90]",
        "no usable IATA code (iata_code None); the airports table is keyed by IATA"]


def test_airlines_key_by_iata_else_icao_and_drop_placeholder_names() -> None:
    docs, missing, duplicates = staged(AIRLINES, records("airlines_page.json", AIRLINES))
    assert (missing, duplicates) == (1, 1)  # the nameless record without codes; the second "LH"
    rejects = Rejects()
    rows = by(clean_airlines(docs, rejects), "airline_code")
    assert len(rejects) == 0
    assert {code: (r["icao_code"], r["name"]) for code, r in rows.items()} == {
        "LH": ("DLH", "Lufthansa"), "XQ": ("SXS", None), "GEC": ("GEC", "Lufthansa Cargo")}
