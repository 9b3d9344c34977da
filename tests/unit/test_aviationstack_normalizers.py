"""Aviation Stack record extraction, natural keys and normalizers on a real-shaped fixture page.

The fixture holds one record per quirk (see the comments of ``EXPECTED_*``); cleaners are fed what
``load_to_mongo`` stages: the raw record plus ``_id``, ``_key`` and ``_lake``.
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from frames import model_rows, rows_of

from aerolake.cleaning import encode_keys
from aerolake.schema import FLIGHT_CODESHARES, FLIGHT_POSITIONS, FLIGHTS, conform
from aerolake.sources.aviationstack.client import extract_records
from aerolake.sources.aviationstack.normalize import clean_documents, natural_key, parse_time
from aerolake.sources.aviationstack.plan import servable
from aerolake.sources.aviationstack.spec import FLIGHTS as ENDPOINT
from aerolake.stores.lake import Partition

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aviationstack"
FETCHED_AT = "2026-03-01T12:00:00Z"


def page() -> dict[str, Any]:
    return json.loads((FIXTURES / "flights_page.json").read_text(encoding="utf-8"))


def staged(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records as load_to_mongo stores them (unkeyed ones are quarantined there, so not staged)."""
    docs = []
    for index, record in enumerate(records):
        key = natural_key(ENDPOINT, record)
        if key is None:
            continue
        docs.append({"_id": f"{key}|2026-03-01", "_key": key,
                     "_lake": {"source": "aviationstack", "endpoint": ENDPOINT, "dt": "2026-03-01", "index": index,
                               "s3_key": "raw/source=aviationstack/endpoint=flights/dt=2026-03-01/part-00000.json.gz",
                               "fetched_at": FETCHED_AT},
                     **encode_keys(record)})
    return docs


def clean(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """``clean_documents``, its frames as rows of plain values."""
    result = clean_documents(docs)
    return {**result, **{name: rows_of(result[name]) for name in ("flights", "codeshares", "positions")}}


@pytest.fixture(scope="module")
def cleaned() -> dict[str, Any]:
    records, _ = extract_records(ENDPOINT, page())
    return clean(staged(records))


def by_flight(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{r['airline_code']}{r['flight_number']}": r for r in rows}


# -- extraction and keys ----------------------------------------------------------------------------------
def test_extract_records_and_total() -> None:
    records, total = extract_records(ENDPOINT, page())
    assert (len(records), total) == (16, 16)


def test_extract_records_of_an_empty_page() -> None:
    assert extract_records(ENDPOINT, {"data": [], "pagination": None}) == ([], None)


@pytest.mark.parametrize("payload", [{}, None, [], "x", {"data": None}, {"data": "x", "pagination": None},
                                     {"error": {"code": "usage_limit_reached"}}])
def test_a_body_of_another_shape_is_an_error_not_an_empty_page(payload: Any) -> None:
    with pytest.raises(ValueError, match="expected an object with a data list"):
        extract_records(ENDPOINT, payload)


def test_items_that_are_not_objects_are_kept_for_staging_to_quarantine() -> None:
    assert extract_records(ENDPOINT, {"data": ["junk", 42, None, [], {"a": 1}]})[0] == ["junk", 42, None, [], {"a": 1}]


def test_extract_records_reads_a_string_total_and_ignores_a_bad_one() -> None:
    body = page()
    body["pagination"]["total"] = "16"
    assert extract_records(ENDPOINT, body)[1] == 16
    body["pagination"]["total"] = "many"
    assert extract_records(ENDPOINT, body)[1] is None


def test_natural_keys_marketing_listings_have_their_own_and_unkeyed_records_none() -> None:
    keys = [natural_key(ENDPOINT, r) for r in extract_records(ENDPOINT, page())[0]]
    assert keys[:4] == ["LH400|FRA|2026-03-01", "UA9050|FRA|2026-03-01", "AC9551|FRA|2026-03-01",
                        "LX1071|FRA|2026-03-01"]
    assert keys[8] is None  # "name": "empty" airline without codes, null flight number
    assert keys[11] == "GEC8160|FRA|2026-03-01"  # no IATA code: the ICAO code is the airline key
    assert keys[13] == "LH401|FRA|2026-03-01"  # "0401"
    assert len(set(keys) - {None}) == 15


# -- times ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "tz", "utc", "local"), [
    # "+00:00" is the airport's local clock (the API's quirk)
    ("2026-03-01T10:00:00+00:00", "Europe/Berlin", datetime(2026, 3, 1, 9), datetime(2026, 3, 1, 10)),
    ("2026-03-01T12:50:00+00:00", "America/New_York", datetime(2026, 3, 1, 17, 50), datetime(2026, 3, 1, 12, 50)),
    ("2026-07-01T10:00:00+00:00", "Europe/Berlin", datetime(2026, 7, 1, 8), datetime(2026, 7, 1, 10)),
    # inside the spring-forward gap: moved forward; in the autumn repeat: the first (daylight) occurrence
    ("2026-03-29T02:30:00+00:00", "Europe/Berlin", datetime(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 2, 30)),
    ("2026-10-25T02:30:00+00:00", "Europe/Berlin", datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 2, 30)),
    # another offset is a true offset; the local clock is then the airport's
    ("2026-03-01T08:00:00+02:00", "Europe/Berlin", datetime(2026, 3, 1, 6), datetime(2026, 3, 1, 7)),
    ("2026-03-01T10:00:00+00:00", None, None, datetime(2026, 3, 1, 10)),
    (None, "Europe/Berlin", None, None), ("", "Europe/Berlin", None, None), ("yesterday", "UTC", None, None),
])
def test_parse_time(text: Any, tz: str | None, utc: datetime | None, local: datetime | None) -> None:
    assert parse_time(text, tz) == (utc, local)


# -- flights ----------------------------------------------------------------------------------------------
def test_every_staged_record_ends_as_exactly_one_outcome(cleaned: dict[str, Any]) -> None:
    staged_count = len(staged(extract_records(ENDPOINT, page())[0]))
    assert staged_count == 15
    assert (len(cleaned["flights"]), len(cleaned["codeshares"]), len(cleaned["rejects"]), cleaned["duplicates"]) \
        == (11, 2, 2, 0)
    assert len(cleaned["flights"]) + len(cleaned["codeshares"]) + len(cleaned["rejects"]) + cleaned["duplicates"] \
        == staged_count


def test_flight_values_times_in_utc_and_local_departure_date(cleaned: dict[str, Any]) -> None:
    lh400 = by_flight(cleaned["flights"])["LH400"]
    assert lh400 == {
        "airline_code": "LH", "flight_number": "400", "departure_date": date(2026, 3, 1), "dep_airport": "FRA",
        "arr_airport": "JFK", "operating_airline_code": None, "operating_flight_number": None,
        "scheduled_departure": datetime(2026, 3, 1, 9, 0), "estimated_departure": datetime(2026, 3, 1, 9, 12),
        "actual_departure": datetime(2026, 3, 1, 9, 12), "scheduled_arrival": datetime(2026, 3, 1, 17, 50),
        "estimated_arrival": datetime(2026, 3, 1, 17, 41), "actual_arrival": datetime(2026, 3, 1, 17, 41),
        "dep_terminal": "1", "dep_gate": "Z25", "arr_terminal": "1", "arr_gate": "B31", "status": "landed",
        "aircraft_code": "74H", "registration": "DABYT", "source": "aviationstack", "updated_at": FETCHED_AT,
        "dep_delay_min": 12, "arr_delay_min": -9,
    }


def test_statuses_map_and_unknown_codes_become_unknown(cleaned: dict[str, Any]) -> None:
    statuses = {k: r["status"] for k, r in by_flight(cleaned["flights"]).items()}
    assert statuses == {"LH400": "landed", "LX1071": "active", "EW9044": "scheduled", "LH1330": "active",
                        "OS128": "active", "LH982": "unknown", "GEC8160": "landed", "LH404": "cancelled",
                        "LH401": "landed", "TK1590": "incident", "4Y130": "landed"}


def test_nulls_stay_null_never_placeholders(cleaned: dict[str, Any]) -> None:
    flights = by_flight(cleaned["flights"])
    cancelled = flights["LH404"]
    assert [cancelled[c] for c in ("estimated_departure", "actual_departure", "dep_delay_min", "arr_delay_min",
                                   "dep_terminal", "dep_gate", "aircraft_code", "registration")] == [None] * 8
    assert flights["EW9044"]["aircraft_code"] is None and flights["EW9044"]["registration"] is None
    assert flights["EW9044"]["estimated_departure"] == datetime(2026, 3, 1, 17, 45)
    assert flights["EW9044"]["dep_delay_min"] == 15 and flights["EW9044"]["actual_departure"] is None
    assert flights["GEC8160"]["registration"] == "DALFA" and flights["GEC8160"]["aircraft_code"] == "77F"


def test_true_offset_times_and_leading_zeros(cleaned: dict[str, Any]) -> None:
    flights = by_flight(cleaned["flights"])
    assert flights["4Y130"]["scheduled_departure"] == datetime(2026, 3, 1, 6, 0)
    assert flights["4Y130"]["scheduled_arrival"] == datetime(2026, 3, 1, 9, 0)
    assert flights["4Y130"]["departure_date"] == date(2026, 3, 1)
    assert flights["LH401"]["flight_number"] == "401" and flights["LH401"]["dep_delay_min"] == 55


def test_rejected_records_carry_their_reason_and_the_raw_record(cleaned: dict[str, Any]) -> None:
    items = cleaned["rejects"].items
    assert [i["reason"] for i in items] == [
        "unknown airport XZZ (not in airportsdata, no timezone to convert its local times)",
        "codeshare: operating flight LH9999 of 2026-03-01 from FRA is not among the partition's cleaned flights "
        "(flight_codeshares references flights)",
    ]
    assert items[0]["record"]["arrival"]["iata"] == "XZZ" and "_lake" not in items[0]["record"]
    assert items[1]["key"] == "SQ7422|FRA|2026-03-01"


def test_clean_rows_conform_to_the_contract(cleaned: dict[str, Any]) -> None:
    from aerolake.schema import table_frame as frame

    for rows, table in ((cleaned["flights"], FLIGHTS), (cleaned["codeshares"], FLIGHT_CODESHARES),
                        (cleaned["positions"], FLIGHT_POSITIONS)):
        out = conform(frame(rows, table.name), table)
        assert list(out.columns) == table.load_columns
        for column in table.required:
            assert out[column].notna().all(), (table.name, column)
    flights = conform(frame(cleaned["flights"], "flights"), FLIGHTS)
    assert str(flights["departure_date"].iloc[0].date()) == "2026-03-01"
    assert str(flights["updated_at"].iloc[0]) == "2026-03-01 12:00:00"


# -- codeshares -------------------------------------------------------------------------------------------
def test_codeshare_listings_become_codeshares_never_flights(cleaned: dict[str, Any]) -> None:
    assert sorted(cleaned["codeshares"], key=lambda r: r["marketing_airline_code"]) == [
        {"marketing_airline_code": "AC", "marketing_flight_number": "9551", "departure_date": date(2026, 3, 1),
         "dep_airport": "FRA", "airline_code": "LH", "flight_number": "400", "source": "aviationstack",
         "updated_at": FETCHED_AT},  # upper case, operating number only in flight_iata
        {"marketing_airline_code": "UA", "marketing_flight_number": "9050", "departure_date": date(2026, 3, 1),
         "dep_airport": "FRA", "airline_code": "LH", "flight_number": "400", "source": "aviationstack",
         "updated_at": FETCHED_AT},  # lower case "lh" / "lh400"
    ]
    assert not {"UA9050", "AC9551", "SQ7422"} & set(by_flight(cleaned["flights"]))


def test_codeshare_operating_airline_from_its_icao_code() -> None:
    records = extract_records(ENDPOINT, page())[0]
    listing = copy.deepcopy(records[1])
    listing["flight"]["codeshared"].update(airline_iata=None, flight_number=None, flight_iata=None)
    listing["flight"]["codeshared"]["flight_number"] = "400"
    result = clean(staged([records[0], listing]))
    assert [(r["airline_code"], r["flight_number"]) for r in result["codeshares"]] == [("LH", "400")]


def test_codeshare_marketing_number_that_is_also_a_flight_is_quarantined() -> None:
    records = extract_records(ENDPOINT, page())[0]
    listing = copy.deepcopy(records[1])
    listing["airline"] = {"name": "Lufthansa", "iata": "LH", "icao": "DLH"}
    listing["flight"]["number"] = "401"  # LH401 is an operating flight of the page
    result = clean(staged([records[0], records[13], listing]))
    assert [i["reason"] for i in result["rejects"].items] == [
        "codeshare: marketing flight LH401 is also listed as an operating flight"]


# -- positions --------------------------------------------------------------------------------------------
def test_positions_from_live_blocks_with_the_flight_identity(cleaned: dict[str, Any]) -> None:
    assert cleaned["positions"] == [{
        "icao24": "4b1901", "observed_at": datetime(2026, 3, 1, 10, 45), "airline_code": "LX",
        "flight_number": "1071", "dep_airport": "FRA", "arr_airport": "ZRH", "registration": "HBJCA",
        "aircraft_code": "223", "latitude": 48.35, "longitude": 8.2, "altitude_m": 7620.0, "heading": 175.0,
        "speed_kmh": 720.5, "vertical_speed": -4.2, "on_ground": False, "source": "aviationstack",
        "updated_at": FETCHED_AT,
    }]
    reasons = [i["reason"] for i in cleaned["position_rejects"].items]
    assert reasons == ["live position without a valid aircraft.icao24 (None)",
                       "latitude 123.4 out of range [-90, 90]"]
    # the flights themselves still load: only their positions are rejected
    assert {"LH1330", "OS128"} <= set(by_flight(cleaned["flights"]))


def test_positions_of_codeshare_listings_are_not_counted_twice() -> None:
    records = extract_records(ENDPOINT, page())[0]
    operating, listing = copy.deepcopy(records[3]), copy.deepcopy(records[3])
    listing["airline"] = {"name": "Air Canada", "iata": "AC", "icao": "ACA"}
    listing["flight"] = {"number": "5001", "iata": "AC5001", "icao": "ACA5001",
                         "codeshared": {"airline_iata": "lx", "flight_number": "1071"}}
    result = clean(staged([operating, listing]))
    assert len(result["positions"]) == 1 and result["position_duplicates"] == 0
    assert len(result["codeshares"]) == 1


def test_duplicates_after_normalization_are_counted() -> None:
    records = extract_records(ENDPOINT, page())[0]
    again = copy.deepcopy(records[0])
    again["flight_date"] = "2026-02-28"  # a different staging key; the local departure date says the same flight
    docs = staged([records[0], again])
    assert docs[0]["_id"] != docs[1]["_id"]
    result = clean_documents(docs)
    assert (len(result["flights"]), result["duplicates"]) == (1, 1)


# -- reference gaps ---------------------------------------------------------------------------------------
def test_airlines_fill_without_placeholder_names(cleaned: dict[str, Any]) -> None:
    airlines = cleaned["airlines"]
    assert airlines["EW"]["name"] is None  # "name": "empty"
    assert model_rows([airlines["LH"]])[0] == {"airline_code": "LH", "icao_code": "DLH", "name": "Lufthansa",
                              "source": "aviationstack", "updated_at": FETCHED_AT}
    assert airlines["GEC"]["icao_code"] == "GEC"
    assert {"UA", "AC", "LX", "OS", "TK", "4Y"} <= set(airlines)


def test_airports_fill_from_airportsdata(cleaned: dict[str, Any]) -> None:
    from types import SimpleNamespace

    from aerolake.pipeline.clean import PartitionClean
    from aerolake.sources.aviationstack.spec import SPEC

    run = PartitionClean(SimpleNamespace(partition=Partition("aviationstack", "2026-03-01")), SPEC)
    for code in sorted({f[end] for f in cleaned["flights"] for end in ("dep_airport", "arr_airport")}):
        assert run.airport_zone(code, FETCHED_AT)[0]
    rows = run.airport_fills
    assert [r["airport_code"] for r in rows] == ["DUB", "FRA", "HER", "IST", "JFK", "ORD", "PMI", "VIE", "ZRH"]
    fra = rows[1]
    assert (fra["timezone"], fra["country_code"], fra["source"]) == ("Europe/Berlin", "DE", "airportsdata")


# -- servable ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("dt", "served"), [("2026-03-01", True), ("2026-02-28", True), ("2026-02-27", False),
                                            ("2026-03-02", False)])
def test_servable_today_and_yesterday_utc(dt: str, served: bool) -> None:
    reason = servable(Partition("aviationstack", dt), datetime(2026, 3, 1, 23, 30))
    assert (reason is None) == served
    if not served:
        assert "2026-02-28 and 2026-03-01" in reason and dt in reason


def test_servable_takes_an_aware_time_in_utc() -> None:
    from zoneinfo import ZoneInfo

    # 00:30 in Berlin on March 2nd is still March 1st in UTC
    now = datetime(2026, 3, 2, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert servable(Partition("aviationstack", "2026-02-28"), now) is None
    assert servable(Partition("aviationstack", "2026-03-02"), now) is not None
