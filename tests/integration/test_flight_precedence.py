"""Three sources, one flights row: the merge rules of aerolake.stores.mysql.merge, against the real MariaDB."""

from __future__ import annotations

import itertools
from datetime import datetime

import pandas as pd
import pytest
from stage_support import flights_frame, publish_flights

from aerolake.stores.mysql.db import connection

KEY = {"flight_number": "400", "departure_date": pd.Timestamp("2026-03-01"), "dep_airport": "FRA"}


def _observation(airline: str, source: str, fetched: str, **values) -> pd.DataFrame:
    return flights_frame([{"airline_code": airline, **KEY, "arr_airport": "JFK",
                           "scheduled_departure": pd.Timestamp("2026-03-01 09:00"), "status": "scheduled",
                           "source": source, "updated_at": pd.Timestamp(fetched), **values}])


@pytest.fixture
def flights_db(migrated_mysql):
    with connection(migrated_mysql, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO countries VALUES ('DE', 'Germany', 't', '2026-03-01'), ('US', 'USA', 't', '2026-03-01')")
        cur.execute("INSERT INTO airports (airport_code, country_code, source, updated_at) VALUES "
                    "('FRA', 'DE', 't', '2026-03-01'), ('JFK', 'US', 't', '2026-03-01'), ('EWR', 'US', 't', '2026-03-01')")
    return migrated_mysql


def _load(cfg, frames) -> tuple:
    with connection(cfg) as conn:
        for frame in frames:
            publish_flights(conn, frame)
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("SELECT arr_airport, scheduled_departure, actual_departure, dep_gate, registration, status, "
                        "source, updated_at, status_source, status_updated_at FROM flights")
            rows = cur.fetchall()
            cur.execute("DELETE FROM flights")
        conn.commit()
    assert len(rows) == 1
    return rows[0]


def test_lufthansa_owns_group_times_the_freshest_owns_status_in_any_load_order(flights_db):
    observations = [
        _observation("LH", "lufthansa", "2026-03-01 08:00", scheduled_departure=pd.Timestamp("2026-03-01 09:00"),
                     dep_gate="A10", registration="DAIMA"),
        _observation("LH", "airlabs", "2026-03-01 08:30", scheduled_departure=pd.Timestamp("2026-03-01 09:05"),
                     actual_departure=pd.Timestamp("2026-03-01 09:20"), status="active", dep_gate=None),
        _observation("LH", "aviationstack", "2026-03-01 08:10", arr_airport="EWR", status="cancelled",
                     dep_gate="B20"),
    ]
    results = [_load(flights_db, order) for order in itertools.permutations(observations)]
    assert {r[:3] + r[4:] for r in results} == {(
        "JFK", datetime(2026, 3, 1, 9, 0), None,  # Lufthansa's times for an LH flight, never Airlabs' 09:05
        "DAIMA", "active", "lufthansa", datetime(2026, 3, 1, 8, 0), "airlabs", datetime(2026, 3, 1, 8, 30),
    )}
    # details: the freshest observation (Airlabs) has no gate, so a known one is kept, never erased to NULL;
    # which of the older known gates survives is not tracked per column
    assert {r[3] for r in results} <= {"A10", "B20"}


def test_for_other_airlines_the_freshest_equal_authority_wins_and_aviationstack_ranks_last(flights_db):
    observations = [
        _observation("UA", "lufthansa", "2026-03-01 08:00", scheduled_departure=pd.Timestamp("2026-03-01 09:00")),
        _observation("UA", "airlabs", "2026-03-01 08:30", scheduled_departure=pd.Timestamp("2026-03-01 09:05")),
        _observation("UA", "aviationstack", "2026-03-01 09:00", scheduled_departure=pd.Timestamp("2026-03-01 11:00"),
                     status="landed"),
    ]
    results = {_load(flights_db, order) for order in itertools.permutations(observations)}
    assert results == {(
        "JFK", datetime(2026, 3, 1, 9, 5), None, None, None,
        "landed", "airlabs", datetime(2026, 3, 1, 8, 30), "aviationstack", datetime(2026, 3, 1, 9, 0),
    )}


def test_a_replay_of_the_same_observations_changes_nothing(flights_db):
    obs = [_observation("LH", "lufthansa", "2026-03-01 08:00"),
           _observation("LH", "airlabs", "2026-03-01 08:30", status="active")]
    with connection(flights_db) as conn:
        for frame in [*obs, *obs, obs[0]]:
            publish_flights(conn, frame)
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("SELECT status, source, status_source FROM flights")
            assert cur.fetchall() == (("active", "lufthansa", "airlabs"),)
