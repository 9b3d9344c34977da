"""Canonical flight records from MySQL: every flights column plus the joined details, typed for Avro."""

from __future__ import annotations

from datetime import UTC, date, datetime

import fastavro
import pytest

from aerolake.schema import FLIGHTS
from aerolake.streaming.records import fingerprint, flight_records, message_key
from aerolake.streaming.schema import field_names, flight_schema, parsed_flight_schema, schema_version

from .conftest import DT, NEXT_DT, expected_records

pytestmark = pytest.mark.mysql


def test_schema_contract() -> None:
    schema = flight_schema()
    assert (schema["namespace"], schema["name"], schema_version()) == ("io.aerolake.flights", "Flight", 2)
    names = field_names()
    assert len(names) == 50 and len(set(names)) == len(names)
    assert set(FLIGHTS.published_columns) <= set(names), "every flights column but the surrogate id is in the schema"
    assert not set(FLIGHTS.surrogate_ids) & set(names), "MySQL's surrogate ids are never published"
    fields = {f["name"]: f for f in schema["fields"]}
    assert all(f.get("doc") for f in schema["fields"])
    position = fields["latest_position"]["type"][1]
    assert all(f.get("doc") for f in position["fields"])
    assert fields["departure_date"]["type"] == {"type": "int", "logicalType": "date"}
    for name in ("scheduled_departure", "updated_at"):
        assert fields[name]["type"] == {"type": "long", "logicalType": "timestamp-millis"}
    for name in ("estimated_departure", "actual_arrival"):
        assert fields[name]["type"] == ["null", {"type": "long", "logicalType": "timestamp-millis"}]
        assert fields[name]["default"] is None
    # a required DB column is required in Avro; a nullable one is an optional union with a null default
    for column in (c for c in FLIGHTS.columns if c.name in FLIGHTS.published_columns):
        avro_type = fields[column.name]["type"]
        assert (isinstance(avro_type, list) and avro_type[0] == "null") == column.nullable, column.name


def test_records_are_the_rows_of_the_date(flights_db) -> None:
    records = flight_records(flights_db, DT)
    expected = expected_records(flights_db, DT)
    assert len(records) == 5
    assert {message_key(r): r for r in records} == expected
    assert all(set(r) == set(field_names()) for r in records)
    # ordered by natural key, and the flight of the next day with the same number is not among them
    assert [message_key(r) for r in records] == sorted(expected, key=lambda k: (k.split("_")[0], k.split("_")[1],
                                                                               k.split("_")[3]))
    assert "LH_400_2026-03-02_FRA" not in {message_key(r) for r in records}
    for record in records:
        fastavro.validation.validate(record, parsed_flight_schema(), raise_errors=True)


def test_record_details(flights_db) -> None:
    by_key = {message_key(r): r for r in flight_records(flights_db, date.fromisoformat(DT))}
    lh400 = by_key["LH_400_2026-03-01_FRA"]
    assert lh400["departure_date"] == date(2026, 3, 1)
    assert lh400["scheduled_departure"] == datetime(2026, 3, 1, 9, 55, tzinfo=UTC)
    assert lh400["actual_arrival"] is None
    assert (lh400["airline_name"], lh400["airline_icao"], lh400["aircraft_type_name"]) == (
        "Lufthansa", "DLH", "Airbus A350-900")
    assert (lh400["dep_airport_icao"], lh400["dep_city_name"], lh400["dep_country_name"]) == (
        "EDDF", "Frankfurt am Main", "Germany")
    assert (lh400["arr_airport_timezone"], lh400["arr_airport_latitude"]) == ("America/New_York", 40.6398)
    assert lh400["codeshares"] == ["AC9100", "UA9051"]
    # the newest of three positions, typed
    assert lh400["latest_position"] == {
        "observed_at": datetime(2026, 3, 1, 11, 30, tzinfo=UTC), "icao24": "3c4b26", "latitude": 53.9,
        "longitude": -4.8, "altitude_m": 11280.0, "heading": 295.5, "speed_kmh": 905.5, "vertical_speed": -0.5,
        "on_ground": False}
    assert by_key["UA_932_2026-03-01_FRA"]["latest_position"]["on_ground"] is True
    cancelled = by_key["LH_1234_2026-03-01_MUC"]
    assert cancelled["status"] == "cancelled"
    assert (cancelled["operating_airline_code"], cancelled["operating_flight_number"]) == ("LX", "1111")
    assert cancelled["operating_airline_name"] is None  # LX is not in airlines
    # an airport known by code only: nulls, never placeholders
    assert (cancelled["arr_airport_name"], cancelled["arr_city_name"], cancelled["arr_airport_latitude"]) == (
        None, None, None)
    assert cancelled["arr_country_name"] == "Switzerland"
    assert cancelled["codeshares"] == [] and cancelled["latest_position"] is None
    assert flight_records(flights_db, NEXT_DT)[0]["latest_position"]["icao24"] == "3c4b27"
    assert flight_records(flights_db, "2026-03-03") == []


def test_latest_position_ties_go_to_the_lowest_icao24(flights_db) -> None:
    """Two aircraft reported for one flight at its newest moment (a swap, a bad callsign): one position, the same
    one every run, the lowest icao24; an older position does not count, however low its icao24."""
    from aerolake.stores.mysql.db import connection

    with connection(flights_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT flight_id FROM flights WHERE airline_code = 'LH' AND flight_number = '400'")
        (flight_id,) = cur.fetchone()
        cur.executemany("INSERT INTO flight_positions (icao24, observed_at, flight_id, latitude, longitude, source, "
                        "updated_at) VALUES (%s, %s, %s, 50.0, 8.0, 'test', %s)",
                        [(icao, at, flight_id, datetime(2026, 3, 2)) for icao, at in (
                            ("3c4b99", datetime(2026, 3, 1, 11, 30)), ("3c4b25", datetime(2026, 3, 1, 11, 30)),
                            ("000001", datetime(2026, 3, 1, 11, 29)))])
        conn.commit()
    by_key = {message_key(r): r for r in flight_records(flights_db, DT)}
    latest = by_key["LH_400_2026-03-01_FRA"]["latest_position"]
    assert (latest["icao24"], latest["observed_at"], latest["latitude"]) == (
        "3c4b25", datetime(2026, 3, 1, 11, 30, tzinfo=UTC), 50.0)


def test_fingerprint_ignores_only_observation_times(flights_db) -> None:
    record = flight_records(flights_db, DT)[0]
    same = {**record, "updated_at": datetime(2030, 1, 1, tzinfo=UTC),
            "status_updated_at": datetime(2030, 1, 1, tzinfo=UTC)}
    assert fingerprint(same) == fingerprint(record)
    assert fingerprint({**record, "dep_gate": "Z99"}) != fingerprint(record)
    assert fingerprint({**record, "status": "landed"}) != fingerprint(record)
    assert len(fingerprint(record)) == 64
