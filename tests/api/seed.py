"""Test data for the web API and the pages: real airports (every IATA airport of airportsdata), a few days
of flights, latest positions and pipeline runs, inserted straight into a test database.

Everything is deterministic; ``DAY`` is the newest departure date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from aerolake.core.connections import MySqlConfig
from aerolake.gapfill import airport_from_gazetteer, country_rows
from aerolake.stores.mysql.db import connection
from aerolake.stores.mysql.stats import recount

DAY = date(2026, 3, 1)
UPDATED = datetime(2026, 3, 1, 23, 0, 0)
STATIONS = [  # Lufthansa Express Rail stations: the non-airport location type
    {"airport_code": "QKL", "name": "Cologne Central Station", "latitude": 50.9430, "longitude": 6.9589},
    {"airport_code": "ZWS", "name": "Stuttgart Central Station", "latitude": 48.7843, "longitude": 9.1817},
]
HUBS = ("FRA", "MUC", "JFK", "VIE", "ZRH")
AIRLINES = {"LH": "Lufthansa", "OS": "Austrian", "UA": "United Airlines"}
STATUSES = ("landed", "landed", "landed", "active", "scheduled", "cancelled", "diverted", "landed")


def insert(cfg: MySqlConfig, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    statement = (f"INSERT INTO `{table}` ({', '.join(f'`{c}`' for c in columns)}) "
                 f"VALUES ({', '.join(['%s'] * len(columns))})")
    with connection(cfg) as conn, conn.cursor() as cur:
        cur.executemany(statement, [tuple(r[c] for c in columns) for r in rows])
        conn.commit()


def airport_rows() -> list[dict[str, Any]]:
    import airportsdata

    rows = [airport_from_gazetteer(code, UPDATED) for code in sorted(airportsdata.load("IATA"))]
    rows = [r for r in rows if r is not None and r["airport_code"] not in {s["airport_code"] for s in STATIONS}]
    for station in STATIONS:
        rows.append({**rows[0], **station, "icao_code": None, "country_code": "DE", "timezone": "Europe/Berlin",
                     "location_type": "RailwayStation", "source": "lufthansa"})
    for row in rows:
        if row["airport_code"] == "FRA":
            row.update(city_code="FRA", source="lufthansa")
    return rows


def flight_rows() -> list[dict[str, Any]]:
    """Three days x 5 hubs x 3 airlines x 2 flights: 90 flights, statuses and delays varied."""
    rows, n = [], 0
    for day_offset in (2, 1, 0):
        day = DAY - timedelta(days=day_offset)
        for h, dep in enumerate(HUBS):
            for airline in AIRLINES:
                for leg in range(2):
                    n += 1
                    arr = HUBS[(h + 1 + leg) % len(HUBS)]
                    status = STATUSES[n % len(STATUSES)]
                    sched = datetime.combine(day, datetime.min.time()) + timedelta(hours=6 + 2 * leg + h)
                    delay = None if status in ("scheduled", "cancelled") else (n * 7) % 45
                    rows.append({
                        "airline_code": airline, "flight_number": str(100 + n), "departure_date": day,
                        "dep_airport": dep, "arr_airport": arr, "scheduled_departure": sched,
                        "actual_departure": sched + timedelta(minutes=delay) if delay is not None else None,
                        "scheduled_arrival": sched + timedelta(hours=2), "status": status,
                        "dep_delay_min": delay, "arr_delay_min": None if delay is None else max(0, delay - 5),
                        "source": "lufthansa" if airline == "LH" else "aviationstack", "updated_at": UPDATED,
                    })
    return rows


def position_rows() -> list[dict[str, Any]]:
    """Five aircraft over Europe, two observations each (the later one is the latest)."""
    rows = []
    for i in range(5):
        for minute in (0, 10):
            rows.append({
                "icao24": f"3c6{i:03x}", "observed_at": datetime(2026, 3, 1, 12, minute), "airline_code": "LH",
                "flight_number": str(400 + i), "dep_airport": "FRA", "arr_airport": HUBS[1 + i % 4],
                "latitude": 50.0 + i * 0.5 + minute / 100, "longitude": 8.5 + i + minute / 100,
                "altitude_m": 10000.0 + i * 100, "heading": 90.0, "speed_kmh": 800.0, "on_ground": False,
                "source": "airlabs", "updated_at": datetime(2026, 3, 1, 12, minute),
            })
    return rows


def pipeline_rows() -> list[dict[str, Any]]:
    def run(dag: str, run_id: str, endpoint: str, source: str, started: datetime, status: str, stage: str,
            fetched: int, loaded: int) -> dict[str, Any]:
        return {"dag_id": dag, "run_id": run_id, "endpoint": endpoint, "source": source, "partition_key": str(
            started.date()), "fetched": fetched, "api_calls": 3, "staged": fetched, "cleaned": loaded,
            "loaded": loaded, "quarantined_at_cleaning": fetched - loaded, "started_at": started,
            "finished_at": started + timedelta(minutes=5), "status": status, "last_stage": stage}

    old = datetime(2026, 2, 28, 1, 0)
    new = datetime(2026, 3, 1, 1, 0)
    return [
        run("lufthansa_lakehouse", "scheduled__2026-02-28", "flightstatus", "lufthansa", old, "success",
            "load_to_mysql", 50, 50),
        run("lufthansa_lakehouse", "scheduled__2026-03-01", "flightstatus", "lufthansa", new, "success",
            "load_to_mysql", 60, 58),
        run("lufthansa_lakehouse", "scheduled__2026-03-01", "airports", "lufthansa", new, "success",
            "load_to_mysql", 20, 20),
        run("airlabs_lakehouse", "scheduled__2026-03-01T12:00", "flights", "airlabs", new, "failed", "clean",
            10, 0),
    ]


def seed(cfg: MySqlConfig, countries: set[str] | None = None) -> dict[str, int]:
    """Insert the whole test data set into the migrated database ``cfg``; returns row counts.

    ``countries``: keep only the airports of these countries (and the hubs the flights use)."""
    airports = airport_rows()
    if countries is not None:
        airports = [a for a in airports if a["country_code"] in countries or a["airport_code"] in HUBS]
    insert(cfg, "countries", country_rows((a["country_code"] for a in airports), (), UPDATED))
    insert(cfg, "cities", [{"city_code": "FRA", "country_code": "DE", "name": "Frankfurt", "latitude": 50.11,
                            "longitude": 8.68, "timezone": "Europe/Berlin", "source": "lufthansa",
                            "updated_at": UPDATED}])
    insert(cfg, "airports", airports)
    insert(cfg, "airlines", [{"airline_code": c, "icao_code": None, "name": n, "source": "lufthansa",
                              "updated_at": UPDATED} for c, n in AIRLINES.items()])
    flights = flight_rows()
    insert(cfg, "flights", flights)
    positions = position_rows()
    insert(cfg, "flight_positions", positions)
    insert(cfg, "pipeline_runs", pipeline_rows())
    recount(cfg)  # the rows went in around the loader, which keeps table_stats
    return {"airports": len(airports), "flights": len(flights), "positions": len(positions)}
