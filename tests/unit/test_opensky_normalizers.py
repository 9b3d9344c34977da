"""OpenSky record keys, normalizers and fetch plan on real-shaped fixtures (tests/fixtures/opensky): state vectors
into positions (units, observation time, callsign to flight), departures and arrivals into flights (observed
times at the lowest authority, what is quarantined and why), the box and credits of a plan, what can be served.

Normalizers are fed what ``load_to_mongo`` stages: records with a natural key, once per key, plus ``_id``,
``_key`` and ``_lake``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from aerolake.cleaning import Rejects
from aerolake.core.settings import Settings
from aerolake.mockapi import reference_data as ref
from aerolake.schema import FLIGHT_POSITIONS, FLIGHTS, conform
from aerolake.sources.opensky.client import extract_records
from aerolake.sources.opensky.normalize import (
    clean_flights,
    clean_states,
    flight_of_callsign,
    missing_key_reason,
    natural_key,
)
from aerolake.sources.opensky.plan import boxes, partition_plan, servable
from aerolake.sources.opensky.spec import (
    AIRLINE_IATA,
    ARRIVALS,
    DEPARTURES,
    STATES,
    flights_credits,
    states_credits,
)
from aerolake.stores.lake import Partition

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "opensky"
FETCHED_AT = "2026-03-01T12:00:30Z"
ZONES = {code: "Europe/Berlin" for code in ("FRA", "MUC", "HAM", "DUS")} | {
    "JFK": "America/New_York", "IAD": "America/New_York", "ZRH": "Europe/Zurich", "DUB": "Europe/Dublin",
    "VIE": "Europe/Vienna", "PEK": "Asia/Shanghai"}


def records(name: str, endpoint: str) -> list[Any]:
    return extract_records(endpoint, json.loads((FIXTURES / name).read_text()))[0]


def staged(endpoint: str, raw: list[Any]) -> tuple[list[dict[str, Any]], int, int]:
    """(documents, records without a key, duplicates) as load_to_mongo leaves them."""
    docs, seen, missing, duplicates = [], set(), 0, 0
    for index, record in enumerate(raw):
        key = natural_key(endpoint, record) if isinstance(record, dict) else None
        if key is None:
            missing += 1
            continue
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        docs.append({"_id": f"{key}|2026-03-01/1200", "_key": key,
                     "_lake": {"source": "opensky", "endpoint": endpoint, "fetched_at": FETCHED_AT,
                               "s3_key": f"raw/{endpoint}/part-00000.json.gz", "index": index}, **record})
    return docs, missing, duplicates


# -- keys --------------------------------------------------------------------------------------------------------
def test_natural_keys_are_the_aircraft_and_its_time() -> None:
    vectors = records("states_all.json", STATES)
    assert natural_key(STATES, vectors[0]) == "3c6444|1772366398"  # time_position
    assert natural_key(STATES, vectors[3]) == "3c66b0|1772366386"  # no position time: last_contact
    flights = records("flights_departure.json", DEPARTURES)
    assert natural_key(DEPARTURES, flights[0]) == "3c6444|1772262318"
    assert natural_key(STATES, {"icao24": "3c6444", "time_position": 1}) is None  # an object, not a state vector
    assert missing_key_reason(STATES, {"icao24": "3c6444"}).startswith("not a state vector")
    assert natural_key(ARRIVALS, {**flights[0], "firstSeen": None}) is None
    assert natural_key(STATES, {**vectors[0], "time_position": True, "last_contact": "1772366399"}) is None


# -- positions ---------------------------------------------------------------------------------------------------
def test_state_vectors_become_positions_in_the_models_units() -> None:
    docs, missing, duplicates = staged(STATES, records("states_all.json", STATES))
    assert (missing, duplicates) == (0, 1)  # 3c6444 twice in one answer
    rejects = Rejects()
    rows, repeated = clean_states(docs, rejects)
    assert repeated == 0
    assert [(r["key"], r["reason"]) for r in rejects.items] == [
        ("3c66b0|1772366386", "no position (latitude/longitude null: nothing received in the last 15 s)")]
    frame = conform(rows, FLIGHT_POSITIONS)
    assert len(frame) == len(docs) - 1 == 9
    by = {r["icao24"]: r for r in frame.to_dict("records")}
    lh = by["3c6444"]
    assert lh["observed_at"] == datetime(2026, 3, 1, 11, 59, 58)  # time_position, UTC
    assert (lh["airline_code"], lh["flight_number"], lh["dep_airport"]) == ("LH", "400", None)
    assert (lh["latitude"], lh["longitude"], lh["altitude_m"], lh["heading"]) == (50.3079, 8.8112, 3040.38, 243.68)
    assert lh["speed_kmh"] == pytest.approx(154.69 * 3.6) and lh["vertical_speed"] == -7.8
    assert not lh["on_ground"] and lh["source"] == "opensky"
    swiss = by["4b1805"]  # on the ground: no barometric altitude, none geometric either
    assert swiss["on_ground"] and is_null(swiss["altitude_m"])
    assert (swiss["airline_code"], swiss["flight_number"]) == ("LX", "1071")
    assert is_null(by["3c4b26"]["airline_code"])  # DLH9KT: an ATC callsign, no flight number
    assert is_null(by["4ca7b5"]["airline_code"])  # RYR4TN
    assert is_null(by["3c6587"]["airline_code"]) and is_null(by["3d1fd2"]["airline_code"])  # blank, null
    assert (by["3c4a91"]["airline_code"], by["3c4a91"]["flight_number"]) == ("CL", "2026")
    assert (by["a8c2b1"]["airline_code"], by["440c92"]["airline_code"]) == ("UA", "OS")


def is_null(value: Any) -> bool:
    """NULL as a frame gives it back (None, NA or NaT)."""
    import pandas as pd

    return value is None or bool(pd.isna(value))


def test_geo_altitude_stands_in_for_a_missing_barometric_one_and_odd_values_are_rejected_with_a_reason() -> None:
    vector = records("states_all.json", STATES)[0]
    docs, _, _ = staged(STATES, [
        {**vector, "baro_altitude": None, "geo_altitude": 3139.44},
        {**vector, "icao24": "3c6445", "velocity": "154.69", "on_ground": "false"},  # strings for numbers
        {**vector, "icao24": "~3c6446"},  # not an ICAO 24-bit address
        {**vector, "icao24": "3c6447", "latitude": 123.4},
    ])
    rejects = Rejects()
    rows, _ = clean_states(docs, rejects)
    assert rows["altitude_m"].tolist()[0] == 3139.44
    assert rows["speed_kmh"].tolist()[1] == pytest.approx(556.884) and rows["on_ground"].tolist()[1] is None
    assert sorted(r["reason"] for r in rejects.items) == [
        "icao24 '~3c6446' is not an ICAO 24-bit address (six hex digits)", "latitude 123.4 out of range [-90, 90]"]


def test_an_empty_box_gives_no_positions() -> None:
    rows, duplicates = clean_states([], Rejects())
    assert (len(rows), duplicates) == (0, 0)
    assert list(rows.columns) == [*FLIGHT_POSITIONS.load_columns, "_doc_id"]  # and each row's document id


def test_callsigns_name_flights_through_the_airlines_icao_codes() -> None:
    assert flight_of_callsign("DLH400  ") == ("LH", "400")
    assert flight_of_callsign("dlh0400") == ("LH", "400")
    assert flight_of_callsign("SWR8A   ") == ("LX", "8A")
    for callsign in ("DLH9KT  ", "DEXAB   ", "XYZ123  ", "        ", None, 42, ["DLH400"], "DLH12345"):
        assert flight_of_callsign(callsign) == (None, None), callsign


def test_the_airline_table_knows_every_airline_the_mock_world_flies() -> None:
    assert {icao: iata for iata, icao, *_ in ref.AIRLINES} == {icao: AIRLINE_IATA[icao] for _, icao, *_ in
                                                               ref.AIRLINES}
    assert len(set(AIRLINE_IATA)) == len(AIRLINE_IATA) and all(len(k) == 3 for k in AIRLINE_IATA)


# -- flights -------------------------------------------------------------------------------------------------------
def test_departures_and_arrivals_become_flights_at_their_observed_times() -> None:
    departures, _, _ = staged(DEPARTURES, records("flights_departure.json", DEPARTURES))
    arrivals, _, _ = staged(ARRIVALS, records("flights_arrival.json", ARRIVALS))
    known: set = set()
    dep_rejects, arr_rejects = Rejects(), Rejects()
    dep_rows, dep_duplicates = clean_flights(departures, ZONES, dep_rejects, known)
    arr_rows, arr_duplicates = clean_flights(arrivals, ZONES, arr_rejects, known)
    assert (dep_duplicates, arr_duplicates) == (0, 1)  # DLH100 FRA-MUC: in both lists, one flight
    flights = {(r["airline_code"], r["flight_number"]): r for r in
               conform(dep_rows, FLIGHTS).to_dict("records") + conform(arr_rows, FLIGHTS).to_dict("records")}
    assert sorted(flights) == sorted(
        [("LH", "100"), ("LH", "400"), ("LX", "1071"), ("UA", "932"), ("OS", "115"), ("CA", "961")])
    lh = flights[("LH", "400")]
    assert (lh["dep_airport"], lh["arr_airport"], lh["departure_date"]) == ("FRA", "JFK", datetime(2026, 2, 28))
    assert lh["actual_departure"] == lh["scheduled_departure"] == datetime(2026, 2, 28, 9, 5, 42)  # firstSeen
    assert lh["actual_arrival"] == datetime(2026, 2, 28, 17, 16, 41)  # lastSeen
    for unknown in ("scheduled_arrival", "estimated_departure", "estimated_arrival", "dep_delay_min",
                    "arr_delay_min", "dep_gate", "aircraft_code", "registration"):
        assert is_null(lh[unknown]), unknown
    assert (lh["status"], lh["operating_airline_code"], lh["operating_flight_number"], lh["source"]) == (
        "landed", "LH", "400", "opensky")
    # the local date at the origin: UA932 first seen 18:05 UTC, 19:05 in Frankfurt
    assert flights[("UA", "932")]["departure_date"] == datetime(2026, 2, 28)
    assert flights[("CA", "961")]["departure_date"] == datetime(2026, 2, 28)  # 03:43 UTC, 11:43 in Beijing
    reasons = {r["key"]: r["reason"] for r in dep_rejects.items + arr_rejects.items}
    assert reasons == {
        "3c66b0|1772271260": "no estArrivalAirport: OpenSky could not tell the airport",
        "3d1fd2|1772280003": "callsign 'DEXAB' is no airline flight (an ICAO airline designator and a flight number)",
        "3c4a91|1772294601": "no callsign: the flight cannot be named",
        "3c6587|1772318416": "callsign 'DLH9KT' is no airline flight (an ICAO airline designator and a flight number)",
        "4ca7b5|1772258401": "callsign 'RYR4TN' is no airline flight (an ICAO airline designator and a flight number)",
        "3c5ef1|1772276300": "no estDepartureAirport: OpenSky could not tell the airport",
        "3c4a91|1772306112": "callsign 'XYZ123': airline designator XYZ is not in the ICAO-to-IATA airline table",
    }
    assert len(dep_rows) + len(dep_rejects) == len(departures)
    assert len(arr_rows) + len(arr_rejects) + arr_duplicates == len(arrivals)


def test_an_airport_without_iata_code_or_zone_is_named_in_the_reason() -> None:
    flight = records("flights_departure.json", DEPARTURES)[0]
    docs, _, _ = staged(DEPARTURES, [{**flight, "estArrivalAirport": "EDFE"},
                                     {**flight, "icao24": "3c6445", "estArrivalAirport": "LSZH"}])
    rejects = Rejects()
    rows, _ = clean_flights(docs, {"FRA": None}, rejects)
    assert len(rows) == 0
    assert [r["reason"] for r in rejects.items] == [
        "estArrivalAirport 'EDFE' has no IATA code in airportsdata (the flights table is keyed by IATA)",
        "unknown airport ZRH (neither in the references nor in airportsdata)"]
    rejects = Rejects()
    clean_flights(docs[1:], {"FRA": None, "ZRH": "Europe/Zurich"}, rejects)
    assert [r["reason"] for r in rejects.items] == ["cannot determine the local departure date (zone of FRA unknown)"]


# -- the plan ------------------------------------------------------------------------------------------------------
def test_a_snapshot_fetches_state_vectors_of_one_cheap_box_and_a_day_fetches_flights() -> None:
    snapshot = partition_plan(Partition("opensky", "2026-03-01", "1210"), Settings())
    assert (snapshot[DEPARTURES], snapshot[ARRIVALS]) == ([], [])
    (states,) = snapshot[STATES]
    box = {k: states.params[k] for k in ("lamin", "lomin", "lamax", "lomax")}
    assert states.path == "states/all" and states.params["time"] == 1772367000 and states.params["extended"] == 1
    assert states_credits(**box) == 1  # 143 snapshots a day: 143 credits
    for hub in ((50.03, 8.57), (48.35, 11.79)):  # FRA, MUC with room around them
        assert box["lamin"] + 0.9 < hub[0] < box["lamax"] - 0.9 and box["lomin"] + 0.9 < hub[1] < box["lomax"] - 0.9
    day = partition_plan(Partition("opensky", "2026-02-28"), Settings(hubs={"opensky": ("FRA", "MUC", "HAM")}))
    assert day[STATES] == []
    assert [(r.path, r.params["airport"]) for r in day[DEPARTURES] + day[ARRIVALS]] == [
        ("flights/departure", "EDDF"), ("flights/departure", "EDDM"), ("flights/departure", "EDDH"),
        ("flights/arrival", "EDDF"), ("flights/arrival", "EDDM"), ("flights/arrival", "EDDH")]
    assert {(r.params["begin"], r.params["end"]) for r in day[DEPARTURES]} == {(1772236800, 1772323199)}
    assert flights_credits(1772236800, 1772323199) == 4


def test_hubs_far_apart_get_a_box_each() -> None:
    assert len(boxes(("FRA", "MUC"))) == 1
    apart = boxes(("FRA", "JFK"))
    assert len(apart) == 2 and sum(states_credits(**b) for b in apart) == 2


@pytest.mark.parametrize(("partition", "now", "servable_then"), [
    (Partition("opensky", "2026-03-01", "1200"), datetime(2026, 3, 1, 12, 20), True),
    (Partition("opensky", "2026-03-01", "1200"), datetime(2026, 3, 1, 13, 0), False),
    (Partition("opensky", "2026-03-01", "1200"), datetime(2026, 3, 1, 11, 0), False),
    (Partition("opensky", "2026-02-28"), datetime(2026, 3, 1, 0, 0), True),  # the midnight run: yesterday
    (Partition("opensky", "2024-06-01"), datetime(2026, 3, 1, 9, 0), True),  # years back: the backfill
    (Partition("opensky", "2026-03-01"), datetime(2026, 3, 1, 23, 59), False),  # today: not computed yet
    (Partition("opensky", "2026-03-05"), datetime(2026, 3, 1, 9, 0), False),
])
def test_what_the_api_can_serve(partition: Partition, now: datetime, servable_then: bool) -> None:
    assert (servable(partition, now) is None) == servable_then


def test_the_local_departure_date_follows_the_origins_zone() -> None:
    flight = records("flights_departure.json", DEPARTURES)[0]
    late = {**flight, "firstSeen": int(datetime(2026, 2, 28, 23, 30).timestamp()) + 3600}  # 23:30 UTC
    docs, _, _ = staged(DEPARTURES, [late])
    rows, _ = clean_flights(docs, ZONES, Rejects())
    assert rows["departure_date"].tolist() == [date(2026, 3, 1)]  # 00:30 in Frankfurt
