"""The plausibility rules of the table contract (aerolake.schema), as aerolake.plausibility applies them."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from aerolake.plausibility import violations, window_of
from aerolake.schema import FLIGHT_POSITIONS, FLIGHTS

DAY = date(2026, 11, 20)


def flight(**changes) -> dict:
    row = {"airline_code": "LH", "flight_number": "400", "departure_date": date(2026, 11, 20), "dep_airport": "FRA",
           "arr_airport": "JFK", "scheduled_departure": datetime(2026, 11, 20, 9), "scheduled_arrival":
           datetime(2026, 11, 20, 17, 50), "actual_departure": None, "actual_arrival": None, "dep_gate": "Z25",
           "status": "active", "dep_delay_min": 5, "registration": "DABVM"}
    return {**row, **changes}


@pytest.mark.parametrize(("changes", "reason"), [
    ({}, None),
    ({"departure_date": date(9999, 12, 31)}, "flights.departure_date.window: 9999-12-31 is outside "
                                             "[2026-11-18, 2026-11-23) (the partition's day 2026-11-20 -2/+2 days)"),
    ({"departure_date": date(1, 1, 1)}, "flights.departure_date.window: 0001-01-01"),
    ({"scheduled_departure": datetime(2026, 11, 16, 23, 59)}, "flights.scheduled_departure.window: 2026-11-16 23:59"),
    ({"scheduled_departure": datetime(2026, 11, 17), "scheduled_arrival": datetime(2026, 11, 17, 8)}, None),  # its start
    ({"scheduled_arrival": datetime(2026, 11, 20, 8)}, "flights.scheduled_block_time.span: -60.0 minutes from "
                                                       "scheduled_departure to scheduled_arrival is outside [0, 1440]"),
    ({"actual_departure": datetime(2026, 11, 20, 9), "actual_arrival": datetime(2026, 11, 21, 10)},
     "flights.actual_block_time.span: 1500.0"),
    ({"dep_gate": "G" * 33}, f"flights.dep_gate.length: {'G' * 33} is longer than the 32 characters"),
    ({"dep_gate": "G" * 32}, None),
    ({"airline_code": "L$"}, "flights.airline_code.pattern: L$ does not match"),
    ({"flight_number": "40000"}, "flights.flight_number.pattern: 40000"),
    ({"status": "boarding"}, "flights.status.pattern: boarding"),
    ({"dep_delay_min": 5000}, "flights.dep_delay_min.range: 5000 is outside [-720, 4320]"),
    ({"registration": "DABVMDABVMX"}, "flights.registration.length: DABVMDABVMX"),
])
def test_each_flight_rule_names_itself(changes: dict, reason: str | None) -> None:
    found = violations(pd.DataFrame([flight(**changes)]), FLIGHTS, DAY).iloc[0]
    if reason is None:
        assert pd.isna(found)
    else:
        assert found.startswith(reason), found


def test_position_ranges_and_nulls_pass() -> None:
    rows = pd.DataFrame([
        {"icao24": "3c6444", "observed_at": datetime(2026, 11, 20, 12), "latitude": 50.0, "longitude": 8.5,
         "altitude_m": None, "speed_kmh": 800.0, "heading": 359.9, "vertical_speed": None},
        {"icao24": "3c6444", "observed_at": datetime(2026, 11, 20, 12), "latitude": 123.4, "longitude": 8.5,
         "altitude_m": 11000.0, "speed_kmh": 800.0, "heading": 90.0, "vertical_speed": 0.0},
        {"icao24": "3C6444", "observed_at": datetime(2026, 11, 20, 12), "latitude": 50.0, "longitude": 8.5,
         "altitude_m": 36000.0, "speed_kmh": 800.0, "heading": 90.0, "vertical_speed": 0.0},
        {"icao24": "3c6444", "observed_at": datetime(2026, 11, 20, 12), "latitude": 50.0, "longitude": 8.5,
         "altitude_m": 36000.0, "speed_kmh": float("inf"), "heading": 90.0, "vertical_speed": 0.0},
    ])
    reasons = violations(rows, FLIGHT_POSITIONS, DAY).tolist()
    assert pd.isna(reasons[0])
    assert reasons[1] == "flight_positions.latitude.range: 123.4 is outside [-90, 90]"
    assert reasons[2].startswith("flight_positions.icao24.pattern: 3C6444")
    assert reasons[3] == "flight_positions.altitude_m.range: 36000.0 is outside [-500, 20000]"


def test_the_window_is_whole_days_around_the_partition() -> None:
    column = FLIGHTS.column("scheduled_departure")
    assert window_of(column, DAY) == (datetime(2026, 11, 17), datetime(2026, 11, 25))
