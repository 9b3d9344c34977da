"""Lufthansa record extraction, natural keys and normalizers on real-shaped fixture pages.

Cleaners are fed what ``load_to_mongo`` stages: the raw record with ``$``/``.`` keys escaped plus
``_id``, ``_key`` and ``_lake``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from frames import model_rows

from aerolake.cleaning import (
    Rejects,
    decode_keys,
    encode_keys,
    float_or_none,
    local_to_utc,
    normalize_flight_number,
    text_or_none,
)
from aerolake.sources.lufthansa.client import as_list, extract_records
from aerolake.sources.lufthansa.normalize import (
    FLIGHT_FIELDS,
    STATUS_MAP,
    clean_aircraft,
    clean_airlines,
    clean_airports,
    clean_cities,
    clean_countries,
    clean_flights,
    flight_frame,
    flight_table,
    natural_key,
)
from aerolake.sources.lufthansa.spec import FLIGHTSTATUS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lufthansa"
FETCHED_AT = "2026-03-02T06:00:00Z"
S3_KEY = "raw/lufthansa/{endpoint}/dt=2026-03-02/part-00000.json.gz"

AIRPORT_TZ = {
    "FRA": "Europe/Berlin", "MUC": "Europe/Berlin", "JFK": "America/New_York", "LHR": "Europe/London",
    "ZRH": "Europe/Zurich", "BKK": "Asia/Bangkok", "LEJ": "Mars/Olympus_Mons",
}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def records_of(endpoint: str, name: str) -> list[dict[str, Any]]:
    return extract_records(endpoint, load(name))[0]


def staged(endpoint: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records as MongoDB documents (what the cleaners read)."""
    docs = []
    for index, record in enumerate(records):
        key = natural_key(endpoint, record)
        docs.append({
            "_id": f"{key}|2026-03-02", "_key": key,
            "_lake": {"source": "lufthansa", "endpoint": endpoint, "dt": "2026-03-02", "index": index,
                      "s3_key": S3_KEY.format(endpoint=endpoint), "fetched_at": FETCHED_AT},
            **encode_keys(record),
        })
    return docs


def audit() -> dict[str, str]:
    return {"source": "lufthansa", "updated_at": FETCHED_AT}


# -- extract_records --------------------------------------------------------------------------------------
def test_extract_records_of_a_lone_object() -> None:
    records, total = extract_records("airports", load("airports_single.json"))
    assert total == 1
    assert len(records) == 1
    assert records[0]["AirportCode"] == "FRA"


def test_extract_records_of_a_list() -> None:
    records, total = extract_records("airports", load("airports_page.json"))
    assert total == 1263
    assert [r["AirportCode"] for r in records] == ["AAL", "QKL", "BRE", "LEJ", "F1"]


@pytest.mark.parametrize(("endpoint", "name", "count", "total"), [
    ("countries", "countries_page.json", 5, 165),
    ("cities", "cities_page.json", 6, 1229),
    ("airports", "airports_page.json", 5, 1263),
    ("airports", "airports_single.json", 1, 1),
    ("airlines", "airlines_page.json", 4, 44),
    ("aircraft", "aircraft_page.json", 4, 42),
    (FLIGHTSTATUS, "flightstatus_page.json", 13, 13),
    (FLIGHTSTATUS, "flightstatus_single.json", 1, 1),
])
def test_extract_records_of_every_fixture(endpoint: str, name: str, count: int, total: int) -> None:
    records, got_total = extract_records(endpoint, load(name))
    assert len(records) == count
    assert got_total == total
    assert all(isinstance(r, dict) for r in records)


def test_extract_records_of_a_single_flight() -> None:
    records, _ = extract_records(FLIGHTSTATUS, load("flightstatus_single.json"))
    assert records[0]["MarketingCarrier"] == {"AirlineID": "LH", "FlightNumber": 400}


def test_extract_records_of_a_resource_without_records() -> None:
    assert extract_records("airports", {"AirportResource": None}) == ([], None)
    assert extract_records(FLIGHTSTATUS, {"FlightStatusResource": {"Flights": None}}) == ([], None)


@pytest.mark.parametrize("payload", [load("error_404.json"), {}, None, [], "not json",
                                     {"AirportResource": {"Airports": "oops"}}, {"AirportResource": [1]}])
def test_a_body_of_another_shape_is_an_error_not_an_empty_page(payload: Any) -> None:
    """Only a 200 answer is read for records (a 404 is an empty window, known by its status)."""
    with pytest.raises(ValueError, match=r"AirportResource|not an object"):
        extract_records("airports", payload)


def test_items_that_are_not_objects_are_kept_for_staging_to_quarantine() -> None:
    body = {"FlightStatusResource": {"Flights": {"Flight": ["junk", 42, None, [1], {"a": 1}]}}}
    assert extract_records(FLIGHTSTATUS, body)[0] == ["junk", 42, None, [1], {"a": 1}]
    assert extract_records(FLIGHTSTATUS, {"FlightStatusResource": {"Flights": {"Flight": "not-a-record"}}})[0] == \
        ["not-a-record"]


def test_extract_records_reads_a_string_total_and_ignores_a_bad_one() -> None:
    payload = load("airports_page.json")
    payload["AirportResource"]["Meta"]["TotalCount"] = "1263"
    assert extract_records("airports", payload)[1] == 1263
    payload["AirportResource"]["Meta"]["TotalCount"] = "lots"
    assert extract_records("airports", payload)[1] is None
    del payload["AirportResource"]["Meta"]
    assert extract_records("airports", payload)[1] is None


@pytest.mark.parametrize(("value", "expected"), [(None, []), ({"a": 1}, [{"a": 1}]), ([1, 2], [1, 2]), ([], [])])
def test_as_list(value: Any, expected: list) -> None:
    assert as_list(value) == expected


# -- natural_key ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("endpoint", "name", "expected"), [
    ("countries", "countries_page.json", ["DE", "US", "AT", "XK", "DEU"]),
    ("cities", "cities_page.json", ["LON", "FRA", "MIL", "BER", "AKL", "OLY"]),
    ("airports", "airports_page.json", ["AAL", "QKL", "BRE", "LEJ", "F1"]),
    ("airlines", "airlines_page.json", ["LH", "4Y", "EN", "X"]),
    ("aircraft", "aircraft_page.json", ["744", "32N", "74H", "A320NEO"]),
])
def test_natural_key_of_references(endpoint: str, name: str, expected: list[str]) -> None:
    assert [natural_key(endpoint, r) for r in records_of(endpoint, name)] == expected


def test_natural_key_of_flights() -> None:
    single = records_of(FLIGHTSTATUS, "flightstatus_single.json")
    page = records_of(FLIGHTSTATUS, "flightstatus_page.json")
    assert natural_key(FLIGHTSTATUS, single[0]) == "LH400|FRA|2026-03-01"
    assert [natural_key(FLIGHTSTATUS, r) for r in page] == [
        "LH400|FRA|2026-03-02",  # FlightNumber "0400"
        "LH400|FRA|2026-03-03",  # FlightNumber "400"
        "LH2472|MUC|2026-03-02",
        "LX1071|FRA|2026-03-02",
        "LH100|FRA|2026-03-02",
        "LH102|FRA|2026-03-02",
        "LH103|MUC|2026-03-02",
        "TG921|FRA|2026-03-02",  # local date, though 23:30Z the day before
        "LH96|FRA|2026-03-29",
        "LH97|MUC|2026-10-25",
        None,  # no MarketingCarrier.FlightNumber
        "LH1998|FRA|2026-03-02",
        "LH160|LEJ|2026-03-02",
    ]


@pytest.mark.parametrize("path", [
    ("MarketingCarrier", "AirlineID"),
    ("MarketingCarrier", "FlightNumber"),
    ("Departure", "AirportCode"),
    ("Departure", "ScheduledTimeLocal"),
    ("MarketingCarrier",),
    ("Departure",),
])
def test_natural_key_of_a_flight_missing_a_key_field_is_none(path: tuple[str, ...]) -> None:
    record = copy.deepcopy(records_of(FLIGHTSTATUS, "flightstatus_single.json")[0])
    parent = record
    for name in path[:-1]:
        parent = parent[name]
    del parent[path[-1]]
    assert natural_key(FLIGHTSTATUS, record) is None


@pytest.mark.parametrize("endpoint", ["countries", "cities", "airports", "airlines", "aircraft"])
@pytest.mark.parametrize("value", [None, ""])
def test_natural_key_of_a_reference_missing_its_code_is_none(endpoint: str, value: Any) -> None:
    field = {"countries": "CountryCode", "cities": "CityCode", "airports": "AirportCode",
             "airlines": "AirlineID", "aircraft": "AircraftCode"}[endpoint]
    assert natural_key(endpoint, {field: value, "Names": {}}) is None
    assert natural_key(endpoint, {"Names": {}}) is None


def test_natural_key_trims_and_upper_cases() -> None:
    assert natural_key("airports", {"AirportCode": " fra "}) == "FRA"
    assert natural_key("aircraft", {"AircraftCode": 744}) == "744"


# -- normalize_flight_number ------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    (400, "400"), ("400", "400"), ("0400", "400"), (" 0400 ", "400"), ("00400", "400"),
    ("400A", "400A"), ("0400a", "400A"), (7, "7"), ("0007", "7"), (0, "0"), ("0000", "0"), ("A400", "A400"),
])
def test_normalize_flight_number(value: Any, expected: str) -> None:
    assert normalize_flight_number(value) == expected


# -- reference cleaners -----------------------------------------------------------------------------------
def _reject_summary(rejects: Rejects) -> list[tuple[str, str | None, str | None]]:
    return [(r["reason"], r["key"], r["s3_key"]) for r in rejects.items]


def test_clean_countries() -> None:
    rejects = Rejects()
    rows = model_rows(clean_countries(staged("countries", records_of("countries", "countries_page.json")), rejects))
    assert rows == [
        {"country_code": "DE", "name": "Germany", **audit()},
        {"country_code": "US", "name": "United States", **audit()},
        {"country_code": "AT", "name": "Österreich", **audit()},  # only a German name: better than none
        {"country_code": "XK", "name": None, **audit()},  # no names: NULL, not a placeholder
    ]
    assert _reject_summary(rejects) == [
        ("invalid country code 'DEU'", "DEU", S3_KEY.format(endpoint="countries")),
    ]


def test_clean_cities() -> None:
    rejects = Rejects()
    rows = model_rows(clean_cities(staged("cities", records_of("cities", "cities_page.json")), rejects))
    assert rows == [
        {"city_code": "LON", "country_code": "GB", "name": "London", "latitude": 51.5, "longitude": -0.1667,
         "timezone": "Europe/London", **audit()},
        {"city_code": "FRA", "country_code": "DE", "name": "Frankfurt", "latitude": 50.0333, "longitude": 8.5706,
         "timezone": "Europe/Berlin", **audit()},
        {"city_code": "MIL", "country_code": "IT", "name": "Milan", "latitude": None, "longitude": None,
         "timezone": "Europe/Rome", **audit()},  # Position {"@nil": "true"}
    ]
    assert _reject_summary(rejects) == [
        ("invalid country code 'DEU'", "BER", S3_KEY.format(endpoint="cities")),
        ("longitude 200.0 out of range [-180, 180]", "AKL", S3_KEY.format(endpoint="cities")),
        ("unknown timezone 'Mars/Olympus_Mons'", "OLY", S3_KEY.format(endpoint="cities")),
    ]


def test_clean_airports_page() -> None:
    rejects = Rejects()
    rows = model_rows(clean_airports(staged("airports", records_of("airports", "airports_page.json")), rejects))
    assert rows == [
        {"airport_code": "AAL", "icao_code": "EKYT", "name": "Aalborg Airport", "city_code": "AAL",
         "country_code": "DK", "latitude": 57.09305556, "longitude": 9.85, "timezone": "Europe/Copenhagen",
         "location_type": "Airport", **audit()},
        # a railway station: nil position, no zone, not in airportsdata -> NULLs, never placeholders
        {"airport_code": "QKL", "icao_code": None, "name": "Köln Hauptbahnhof", "city_code": "CGN",
         "country_code": "DE", "latitude": None, "longitude": None, "timezone": None,
         "location_type": "RailwayStation", **audit()},
    ]
    assert _reject_summary(rejects) == [
        ("latitude 123.4 out of range [-90, 90]", "BRE", S3_KEY.format(endpoint="airports")),
        ("unknown timezone 'Mars/Olympus_Mons'", "LEJ", S3_KEY.format(endpoint="airports")),
        ("invalid airport code 'F1'", "F1", S3_KEY.format(endpoint="airports")),
    ]


def test_clean_airports_lone_object() -> None:
    rejects = Rejects()
    rows = model_rows(clean_airports(staged("airports", records_of("airports", "airports_single.json")), rejects))
    assert rows == [
        {"airport_code": "FRA", "icao_code": "EDDF", "name": "Frankfurt am Main International Airport",
         "city_code": "FRA", "country_code": "DE", "latitude": 50.0264, "longitude": 8.54313,
         "timezone": "Europe/Berlin", "location_type": "Airport", **audit()},
    ]
    assert len(rejects) == 0


def test_clean_airlines() -> None:
    rejects = Rejects()
    rows = model_rows(clean_airlines(staged("airlines", records_of("airlines", "airlines_page.json")), rejects))
    assert rows == [
        {"airline_code": "LH", "icao_code": "DLH", "name": "Lufthansa", **audit()},
        {"airline_code": "4Y", "icao_code": "OCN", "name": "Discover Airlines", **audit()},
        {"airline_code": "EN", "icao_code": None, "name": "Air Dolomiti", **audit()},
    ]
    assert _reject_summary(rejects) == [("invalid airline code 'X'", "X", S3_KEY.format(endpoint="airlines"))]


def test_clean_aircraft() -> None:
    rejects = Rejects()
    rows = model_rows(clean_aircraft(staged("aircraft", records_of("aircraft", "aircraft_page.json")), rejects))
    assert rows == [
        {"aircraft_code": "744", "name": "Boeing 747-400", "airline_equip_code": "744", **audit()},  # int 744
        {"aircraft_code": "32N", "name": "Airbus A320neo", "airline_equip_code": "32N", **audit()},
        {"aircraft_code": "74H", "name": "Boeing 747-8", "airline_equip_code": "74H", **audit()},
    ]
    assert _reject_summary(rejects) == [
        ("invalid aircraft code 'A320NEO'", "A320NEO", S3_KEY.format(endpoint="aircraft")),
    ]


@pytest.mark.parametrize(("endpoint", "name", "cleaner"), [
    ("countries", "countries_page.json", clean_countries),
    ("cities", "cities_page.json", clean_cities),
    ("airports", "airports_page.json", clean_airports),
    ("airlines", "airlines_page.json", clean_airlines),
    ("aircraft", "aircraft_page.json", clean_aircraft),
])
def test_rejects_hold_the_record_as_the_api_sent_it(endpoint: str, name: str, cleaner) -> None:
    raw = records_of(endpoint, name)
    rejects = Rejects()
    rows = cleaner(staged(endpoint, raw), rejects)
    assert len(rows) + len(rejects) == len(raw)
    by_key = {natural_key(endpoint, r): r for r in raw}
    for item in rejects.items:
        assert item["record"] == by_key[item["key"]]  # "$" keys back, _id/_key/_lake gone


def test_cleaners_read_raw_records_as_well_as_staged_documents() -> None:
    raw = records_of("airports", "airports_page.json")
    assert clean_airports(raw, Rejects())[0]["name"] == "Aalborg Airport"
    assert clean_airports(raw, Rejects())[0]["updated_at"] is None


# -- flights ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def flight_docs() -> list[dict[str, Any]]:
    records = records_of(FLIGHTSTATUS, "flightstatus_single.json") + records_of(FLIGHTSTATUS, "flightstatus_page.json")
    return staged(FLIGHTSTATUS, records)


@pytest.fixture(scope="module")
def cleaned(flight_docs) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    frame = flight_frame(flight_table(flight_docs))
    out, reason = clean_flights(frame, AIRPORT_TZ)
    out.index = frame["airline_code"] + frame["flight_number"].fillna("?") + "/" + frame["sched_dep_local"].str[:10]
    reason.index = out.index
    return out, reason, frame


def ts(text: str | None) -> pd.Timestamp | Any:
    return pd.Timestamp(text) if text else pd.NaT


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts with None for NULL (the frame is pyarrow-backed)."""
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


def test_flight_frame_flattens_every_field(flight_docs) -> None:
    frame = flight_frame(flight_table(flight_docs))
    assert list(frame.columns) == list(FLIGHT_FIELDS)
    assert len(frame) == 14
    first = _rows(frame)[0]
    assert first == {
        "airline_code": "LH", "flight_number": "400", "dep_airport": "FRA", "arr_airport": "JFK",
        "operating_airline_code": "LH", "operating_flight_number": "400",
        "sched_dep_local": "2026-03-01T10:00", "sched_dep_utc": "2026-03-01T09:00Z",
        "est_dep_local": "2026-03-01T10:25", "est_dep_utc": "2026-03-01T09:25Z",
        "act_dep_local": None, "act_dep_utc": None,
        "sched_arr_local": "2026-03-01T12:50", "sched_arr_utc": "2026-03-01T17:50Z",
        "est_arr_local": "2026-03-01T13:10", "est_arr_utc": "2026-03-01T18:10Z",
        "act_arr_local": None, "act_arr_utc": None,
        "dep_terminal": "1", "dep_gate": "Z25", "arr_terminal": "1", "arr_gate": "B22",
        "status_code": "DP", "aircraft_code": "744", "registration": "DABVM",
        "updated_at": FETCHED_AT, "_row": 0,
    }
    assert flight_frame(flight_table(flight_docs), start=100)["_row"].tolist() == list(range(100, 114))


def test_flight_frame_normalizes_numbers_and_terminals(flight_docs) -> None:
    rows = _rows(flight_frame(flight_table(flight_docs)))
    # FlightNumber 400, "0400", "400" -> "400"
    assert [r["flight_number"] for r in rows[:3]] == ["400", "400", "400"]
    assert [r["operating_flight_number"] for r in rows[:3]] == ["400", "400", "400"]
    # Terminal.Name 1 and "1" -> "1"; AircraftCode 744 -> "744"
    assert (rows[0]["dep_terminal"], rows[1]["dep_terminal"], rows[1]["arr_terminal"]) == ("1", "1", "1")
    assert rows[3]["dep_terminal"] == "2" and rows[3]["arr_terminal"] == "2" and rows[3]["arr_gate"] is None
    assert rows[0]["aircraft_code"] == "744" and rows[2]["aircraft_code"] == "74H"
    # no FlightNumber -> None, not "None" or ""
    assert rows[11]["flight_number"] is None
    assert rows[11]["operating_flight_number"] is None
    # no Terminal at all -> None
    assert rows[13]["dep_terminal"] is None and rows[13]["dep_gate"] is None


FLIGHT_TIMES = {
    # key: (scheduled_departure, estimated_departure, actual_departure,
    #       scheduled_arrival, estimated_arrival, actual_arrival, departure_date)
    "LH400/2026-03-01": ("2026-03-01 09:00", "2026-03-01 09:25", None,
                         "2026-03-01 17:50", "2026-03-01 18:10", None, "2026-03-01"),
    "LH400/2026-03-02": ("2026-03-02 09:00", None, "2026-03-02 08:55",
                         "2026-03-02 17:50", "2026-03-02 18:02", None, "2026-03-02"),
    "LH400/2026-03-03": ("2026-03-03 09:00", None, "2026-03-03 09:20",
                         "2026-03-03 17:50", None, "2026-03-03 18:05", "2026-03-03"),
    "LH2472/2026-03-02": ("2026-03-02 06:10", None, None, "2026-03-02 08:15", None, None, "2026-03-02"),
    # late evening UTC, already the next day in Frankfurt
    "TG921/2026-03-02": ("2026-03-01 23:30", None, None, "2026-03-02 10:15", None, None, "2026-03-02"),
    # local times only; spring forward at 02:00 CET: 01:30 CET = 00:30Z, 03:10/03:30/04:40 CEST = -2 h
    "LH96/2026-03-29": ("2026-03-29 00:30", "2026-03-29 01:10", None,
                        "2026-03-29 01:30", "2026-03-29 02:40", None, "2026-03-29"),
    # local times only; fall back at 03:00 CEST: 01:30 CEST = 23:30Z the day before, 03:30 CET = 02:30Z
    "LH97/2026-10-25": ("2026-10-24 23:30", None, None, "2026-10-25 02:30", None, None, "2026-10-25"),
}


@pytest.mark.parametrize("key", list(FLIGHT_TIMES))
def test_clean_flights_times_are_exact_utc(cleaned, key: str) -> None:
    out, reason, _ = cleaned
    row = out.loc[key]
    columns = ("scheduled_departure", "estimated_departure", "actual_departure", "scheduled_arrival",
               "estimated_arrival", "actual_arrival", "departure_date")
    got = tuple(row[c] for c in columns)
    expected = tuple(ts(v) for v in FLIGHT_TIMES[key])
    for column, g, e in zip(columns, got, expected, strict=True):
        if e is pd.NaT:
            assert pd.isna(g), (key, column, g)
        else:
            assert g == e, (key, column, g, e)
    assert pd.isna(reason.loc[key])


def test_clean_flights_dtypes_are_naive_datetimes(cleaned) -> None:
    out, _, _ = cleaned
    for column in ("scheduled_departure", "estimated_departure", "actual_departure", "scheduled_arrival",
                   "estimated_arrival", "actual_arrival", "departure_date"):
        assert str(out[column].dtype) == "datetime64[us]", column
    assert str(out["dep_delay_min"].dtype) == "Int64"
    assert str(out["status"].dtype) == "string"


def test_departure_date_from_utc_when_the_local_time_is_missing() -> None:
    record = copy.deepcopy(records_of(FLIGHTSTATUS, "flightstatus_page.json")[7])  # TG921 23:30Z
    del record["Departure"]["ScheduledTimeLocal"]
    late = copy.deepcopy(record)
    late["Departure"]["ScheduledTimeUTC"]["DateTime"] = "2026-03-01T22:59Z"
    frame = flight_frame(flight_table([record, late]))
    out, reason = clean_flights(frame, AIRPORT_TZ)
    assert out["scheduled_departure"].tolist() == [ts("2026-03-01 23:30"), ts("2026-03-01 22:59")]
    # local date at the origin (CET, UTC+1), not the UTC date
    assert out["departure_date"].tolist() == [ts("2026-03-02"), ts("2026-03-01")]
    assert reason.isna().all()


@pytest.mark.parametrize(("local", "expected_utc"), [
    ("2026-03-29T01:59", "2026-03-29 00:59"),
    ("2026-03-29T02:30", "2026-03-29 01:00"),  # inside the spring gap: shifted forward to 03:00 CEST
    ("2026-03-29T03:00", "2026-03-29 01:00"),
    ("2026-10-25T01:59", "2026-10-24 23:59"),
    ("2026-10-25T02:30", "2026-10-25 00:30"),  # ambiguous autumn hour: the first (daylight) occurrence
    ("2026-10-25T03:00", "2026-10-25 02:00"),
])
def test_local_only_departure_across_dst_changes(local: str, expected_utc: str) -> None:
    record = copy.deepcopy(records_of(FLIGHTSTATUS, "flightstatus_page.json")[8])  # LH96, local times only
    record["Departure"]["ScheduledTimeLocal"]["DateTime"] = local
    frame = flight_frame(flight_table([record]))
    out, reason = clean_flights(frame, AIRPORT_TZ)
    assert out["scheduled_departure"].iloc[0] == ts(expected_utc)
    assert out["departure_date"].iloc[0] == ts(local[:10])
    assert pd.isna(reason.iloc[0])


def test_local_to_utc_per_row_zone() -> None:
    local = pd.Series(pd.to_datetime(["2026-03-29T01:30", "2026-03-29T01:30", "2026-07-01T12:00",
                                      "2026-07-01T12:00", None]))
    tz = pd.Series(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Mars/Olympus_Mons", "UTC"],
                   dtype="string")
    out = local_to_utc(local, tz)
    assert out.iloc[0] == ts("2026-03-29 00:30")
    assert out.iloc[1] == ts("2026-03-29 05:30")  # EDT since 8 March
    assert out.iloc[2] == ts("2026-07-01 06:30")
    assert pd.isna(out.iloc[3])  # unknown zone -> NaT
    assert pd.isna(out.iloc[4])


DELAYS = {
    "LH400/2026-03-01": (25, 20),  # estimated, late
    "LH400/2026-03-02": (-5, 12),  # departed five minutes early (actual), arrival estimated late
    "LH400/2026-03-03": (20, 15),  # actual both ends
    "LH2472/2026-03-02": (None, None),  # cancelled: nothing to compare
    "LX1071/2026-03-02": (0, 30),
    "LH100/2026-03-02": (12, None),
    "LH102/2026-03-02": (0, 0),
    "LH96/2026-03-29": (40, 70),  # across the spring change: 40 real minutes, not 100 on the wall clock
}


@pytest.mark.parametrize("key", list(DELAYS))
def test_clean_flights_delays_in_minutes(cleaned, key: str) -> None:
    out, _, _ = cleaned
    dep, arr = DELAYS[key]
    got_dep, got_arr = out.loc[key, "dep_delay_min"], out.loc[key, "arr_delay_min"]
    assert (None if pd.isna(got_dep) else int(got_dep)) == dep
    assert (None if pd.isna(got_arr) else int(got_arr)) == arr


def test_clean_flights_status_for_every_code(cleaned) -> None:
    out, _, _ = cleaned
    assert out["status"].to_dict() == {
        "LH400/2026-03-01": "active",  # DP
        "LH400/2026-03-02": "active",  # DP
        "LH400/2026-03-03": "landed",  # LD
        "LH2472/2026-03-02": "cancelled",  # CD
        "LX1071/2026-03-02": "diverted",  # RT
        "LH100/2026-03-02": "diverted",  # DV
        "LH102/2026-03-02": "scheduled",  # NA
        "LH103/2026-03-02": "unknown",  # XX
        "TG921/2026-03-02": "scheduled",
        "LH96/2026-03-29": "scheduled",
        "LH97/2026-10-25": "scheduled",
        "LH?/2026-03-02": "scheduled",
        "LH1998/2026-03-02": "scheduled",
        "LH160/2026-03-02": "scheduled",
    }


def test_status_map_covers_every_documented_code() -> None:
    assert STATUS_MAP == {"DP": "active", "LD": "landed", "CD": "cancelled", "RT": "diverted",
                          "DV": "diverted", "NA": "scheduled"}


def test_clean_flights_reject_reasons(cleaned) -> None:
    _, reason, _ = cleaned
    assert reason.dropna().to_dict() == {
        "LH?/2026-03-02": "missing or invalid MarketingCarrier.FlightNumber",
        "LH1998/2026-03-02": "unknown airport XYZ (not in the reference data nor airportsdata)",
        "LH160/2026-03-02": "unknown timezone Mars/Olympus_Mons for airport LEJ: cannot convert the local "
                            "departure time to UTC",
    }


def test_clean_flights_rejects_an_airport_missing_from_the_map() -> None:
    record = copy.deepcopy(records_of(FLIGHTSTATUS, "flightstatus_page.json")[8])  # LH96 FRA -> MUC
    frame = flight_frame(flight_table([record]))
    _, reason = clean_flights(frame, {"MUC": "Europe/Berlin"})
    assert reason.iloc[0] == "unknown airport FRA (not in the reference data nor airportsdata)"


def test_clean_flights_rejects_a_known_airport_without_a_zone_when_only_local_times_exist() -> None:
    record = copy.deepcopy(records_of(FLIGHTSTATUS, "flightstatus_page.json")[8])  # LH96 FRA -> MUC
    frame = flight_frame(flight_table([record]))
    _, reason = clean_flights(frame, {"FRA": None, "MUC": "Europe/Berlin"})
    assert reason.iloc[0] == ("unknown timezone <none> for airport FRA: cannot convert the local departure "
                              "time to UTC")


def test_clean_flights_other_columns(cleaned) -> None:
    out, _, _ = cleaned
    row = out.loc["LH400/2026-03-02"]
    assert row["airline_code"] == "LH"
    assert row["flight_number"] == "400"
    assert (row["dep_airport"], row["arr_airport"]) == ("FRA", "JFK")
    assert (row["operating_airline_code"], row["operating_flight_number"]) == ("LH", "400")
    assert (row["dep_terminal"], row["dep_gate"], row["arr_terminal"], row["arr_gate"]) == ("1", "Z25", "1", "B22")
    assert (row["aircraft_code"], row["registration"]) == ("744", "DABVM")
    assert row["source"] == "lufthansa"
    assert row["updated_at"] == pd.Timestamp("2026-03-02 06:00:00")
    lx = out.loc["LX1071/2026-03-02"]
    assert (lx["dep_terminal"], lx["arr_terminal"]) == ("1", "E")
    bkk = out.loc["TG921/2026-03-02"]
    assert pd.isna(bkk["arr_terminal"]) and pd.isna(bkk["arr_gate"])  # NULL, not "" or "None"
    assert out["dep_terminal"].dropna().map(type).eq(str).all()
    assert out["arr_terminal"].dropna().map(type).eq(str).all()


def test_clean_flights_keys_are_unique_for_the_kept_rows(cleaned) -> None:
    out, reason, _ = cleaned
    kept = out[reason.isna()]
    keys = list(zip(kept["airline_code"], kept["flight_number"], kept["departure_date"], kept["dep_airport"],
                    strict=True))
    assert len(keys) == len(set(keys)) == 11


# -- cleaning helpers -------------------------------------------------------------------------------------
def test_encode_decode_keys_round_trip() -> None:
    record = copy.deepcopy(records_of("airports", "airports_page.json")[0])
    record["Odd.Key"] = [{"$": "x", "a.b": {"$ref": 1}}]
    encoded = encode_keys(record)

    def keys(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [k for k in value] + [k2 for v in value.values() for k2 in keys(v)]
        if isinstance(value, list):
            return [k for v in value for k in keys(v)]
        return []

    assert not any(k.startswith("$") or "$" in k or "." in k for k in keys(encoded))
    assert encoded["Names"]["Name"][1] == {"@LanguageCode": "en", "\uff04": "Aalborg Airport"}
    assert decode_keys(encoded) == record
    # a staged document decodes to the raw record: the pipeline's own fields are dropped
    assert decode_keys({"_id": "AAL|2026-03-02", "_key": "AAL", "_lake": {"dt": "2026-03-02"}, **encoded}) == record


def test_encode_keys_leaves_values_alone() -> None:
    assert encode_keys({"Name": "a.b $c"}) == {"Name": "a.b $c"}
    assert encode_keys([1, "x", None]) == [1, "x", None]


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), ("", None), ("   ", None), ({"@nil": "true"}, None), ([1], None), (1, "1"), (1.0, "1"),
    (2.5, "2.5"), (" T1 ", "T1"), ("Terminal 1", "Terminal 1"),
])
def test_text_or_none(value: Any, expected: str | None) -> None:
    assert text_or_none(value) == expected


def test_text_or_none_never_cuts() -> None:
    # a text longer than its column is refused with a reason by the plausibility rules, never cut to fit
    assert text_or_none(" Terminal 1 (Concourse B, remote stands) ") == "Terminal 1 (Concourse B, remote stands)"


@pytest.mark.parametrize(("value", "expected"), [
    (57.09305556, 57.09305556), ("57.1", 57.1), (9, 9.0), (None, None), ("", None), ("abc", None),
    (float("nan"), None), (True, None), ({"@nil": "true"}, None), ([1.0], None),
])
def test_float_or_none(value: Any, expected: float | None) -> None:
    assert float_or_none(value) == expected
