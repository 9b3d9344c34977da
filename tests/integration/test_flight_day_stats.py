"""flight_day_stats (migration 0014): the dashboard's aggregates per departure date, kept by every publish of flights
in its transaction, filled by the migration from the flights a database already holds, rebuilt by recount; always
equal to aggregating the flights themselves."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from stage_support import flights_frame, publish_flights

from aerolake.schema import FLIGHTS
from aerolake.stores.mysql import stats
from aerolake.stores.mysql.db import connection
from aerolake.stores.mysql.load import stage_frames
from aerolake.stores.mysql.migrate import migrate

#: what /stats aggregated from flights before the table existed: the truth the kept rows must equal
DIRECT = """
SELECT 'status', departure_date, status, COUNT(*), NULL, NULL FROM flights GROUP BY departure_date, status
UNION ALL
SELECT 'dep_airport', departure_date, dep_airport, COUNT(*), SUM(dep_delay_min), NULL FROM flights
WHERE dep_delay_min IS NOT NULL GROUP BY departure_date, dep_airport
UNION ALL
SELECT 'airline_code', departure_date, airline_code, COUNT(*), SUM(dep_delay_min), NULL FROM flights
WHERE dep_delay_min IS NOT NULL GROUP BY departure_date, airline_code
UNION ALL
SELECT 'on_time', departure_date, '', COUNT(*), NULL,
       SUM(CASE WHEN COALESCE(arr_delay_min, dep_delay_min) < 15 THEN 1 ELSE 0 END) FROM flights
WHERE status <> 'cancelled' AND COALESCE(arr_delay_min, dep_delay_min) IS NOT NULL GROUP BY departure_date
"""


def _kept_and_direct(cfg) -> tuple[set, set]:
    def rows(statement: str) -> set:
        cur.execute(statement)
        return {tuple(None if v is None else (int(v) if not isinstance(v, str | date) else v) for v in row)
                for row in cur.fetchall()}

    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        return (rows("SELECT dimension, departure_date, code, flights, delay_sum, on_time FROM flight_day_stats"),
                rows(DIRECT))


def _references(cfg) -> None:
    with connection(cfg) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO countries VALUES ('DE', 'Germany', 'test', '2026-03-01 00:00:00')")
        for code in ("FRA", "MUC", "HAM"):
            cur.execute("INSERT INTO airports (airport_code, country_code, latitude, longitude, location_type, source, "
                        "updated_at) VALUES (%s, 'DE', 50, 8, 'Airport', 'test', '2026-03-01 00:00:00')", (code,))
        conn.commit()


def _flights(rows: list[tuple]) -> pd.DataFrame:
    """(airline, number, date, origin, status, departure delay, arrival delay) -> conformed flights rows."""
    return flights_frame(({
        "airline_code": airline, "flight_number": number, "departure_date": day, "dep_airport": origin,
        "scheduled_departure": datetime.combine(day, datetime.min.time()).replace(hour=8), "status": status,
        "dep_delay_min": dep_delay, "arr_delay_min": arr_delay} for airline, number, day, origin, status, dep_delay,
        arr_delay in rows), arr_airport="HAM", source="lufthansa", updated_at=datetime(2026, 3, 2, 6, 0))


def _publish(cfg, frame: pd.DataFrame, *, commit: bool = True) -> None:
    with connection(cfg) as conn:
        publish_flights(conn, frame)
        conn.commit() if commit else conn.rollback()


D1, D2 = date(2026, 3, 1), date(2026, 3, 2)


@pytest.mark.parametrize("by_difference_below", [0, 10**9], ids=["by-difference", "aggregated-again"])
def test_a_publish_keeps_the_day_aggregates_equal_to_the_flights(migrated_mysql, monkeypatch,
                                                                 by_difference_below) -> None:
    """Either way a publish keeps a date's aggregates (by difference where it changes a few of the date's flights,
    0 here: every date that holds flights; aggregated again where it changes many), they equal the flights'."""
    monkeypatch.setattr(stats, "BY_DIFFERENCE_BELOW", by_difference_below)
    _references(migrated_mysql)
    _publish(migrated_mysql, _flights([("LH", "400", D1, "FRA", "landed", 20, 10),
                                        ("LH", "401", D1, "MUC", "landed", 5, None),
                                        ("LH", "402", D1, "FRA", "cancelled", None, None),
                                        ("4U", "10", D2, "FRA", "scheduled", None, None)]))
    kept, direct = _kept_and_direct(migrated_mysql)
    assert kept == direct
    assert ("dep_airport", D1, "FRA", 1, 20, None) in kept and ("on_time", D1, "", 2, None, 2) in kept

    # a later publish changes a flight of D2 only: D2 refreshed, D1 untouched and still right
    _publish(migrated_mysql, _flights([("4U", "10", D2, "FRA", "landed", 45, 40)]))
    kept, direct = _kept_and_direct(migrated_mysql)
    assert kept == direct
    assert ("on_time", D2, "", 1, None, 0) in kept

    # a rolled-back load changes neither the flights nor their aggregates
    _publish(migrated_mysql, _flights([("LH", "403", D1, "HAM", "landed", 3, 1)]), commit=False)
    assert _kept_and_direct(migrated_mysql) == (kept, direct)

    # kept by difference: a flight moving from one status, origin's delay and on-time count to others, one
    # staged identical (dropped), and a fill of gaps that adds one flight and leaves a stored one as it was
    _publish(migrated_mysql, _flights([("LH", "400", D1, "FRA", "cancelled", None, None),
                                        ("LH", "401", D1, "MUC", "landed", 5, None)]))
    with connection(migrated_mysql) as conn:
        publish_flights(conn, _flights([("LH", "401", D1, "MUC", "landed", 50, 50),
                                        ("LH", "404", D1, "HAM", "landed", 7, 2)]), insert_missing_only=True)
        conn.commit()
    kept, direct = _kept_and_direct(migrated_mysql)
    assert kept == direct
    assert ("status", D1, "cancelled", 2, None, None) in kept and ("on_time", D1, "", 2, None, 2) in kept
    assert not any(row[:3] == ("dep_airport", D1, "FRA") for row in kept)  # FRA's one delay went: its row too


def test_a_publish_chooses_per_date_between_the_difference_and_a_new_aggregate(migrated_mysql) -> None:
    _references(migrated_mysql)
    _publish(migrated_mysql, _flights([("LH", str(n), D1, "FRA", "landed", n, n) for n in range(10)]))
    with connection(migrated_mysql) as conn, conn.cursor() as cur:
        staging, _ = stage_frames(conn, FLIGHTS, [_flights([("LH", "1", D1, "FRA", "landed", 99, 99),
                                                            ("LH", "1", D2, "FRA", "landed", 1, 1)])])
        assert stats.flight_days_of_publish(cur, staging) == ([D1], [D2])  # 1 of D1's 10; D2 holds none yet
        conn.rollback()


def test_the_migration_aggregates_what_the_flights_held_and_recount_rebuilds(mysql_cfg) -> None:
    migrate(mysql_cfg, up_to="0013")
    _references(mysql_cfg)
    with connection(mysql_cfg) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO flights (airline_code, flight_number, departure_date, dep_airport, arr_airport, "
                        "scheduled_departure, status, dep_delay_min, arr_delay_min, source, updated_at) VALUES "
                        "('LH', %s, %s, 'FRA', 'MUC', %s, %s, %s, %s, 'test', '2026-03-02 00:00:00')",
                        [(str(n), D1 if n % 2 else D2, f"{D1 if n % 2 else D2} 09:00", ("landed", "cancelled")[n % 5 == 0],
                          n if n % 3 else None, n - 2 if n % 4 else None) for n in range(40)])
        conn.commit()
    assert migrate(mysql_cfg, up_to="0014") == ["0014_flight_day_stats"]
    kept, direct = _kept_and_direct(mysql_cfg)
    assert kept == direct and len(kept) > 6

    with connection(mysql_cfg) as conn, conn.cursor() as cur:  # written around the loads: the aggregates drift
        cur.execute("UPDATE flights SET dep_delay_min = 90 WHERE flight_number = '1'")
        conn.commit()
    assert _kept_and_direct(mysql_cfg)[0] != _kept_and_direct(mysql_cfg)[1]
    stats.recount(mysql_cfg)
    kept, direct = _kept_and_direct(mysql_cfg)
    assert kept == direct
