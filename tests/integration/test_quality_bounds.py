"""Every quality check reads only what it judges: the partition, the run, or a window of days around it.

A check that groups or scans a whole table costs more every day the history grows (issue: a run must cost the
same on day 400 as on day 1). The SQL files are read for a bound, and every check of every source is
``EXPLAIN``-ed on a database holding 40 days of flights, codeshares and positions: no full scan (``ALL``) nor
full index scan (``index``) of ``flights``, ``flight_positions`` or ``flight_codeshares`` is allowed. The position
link, which runs in every load, is held to index lookups the same way, and the web API's ``/flights`` to the
day's index entries.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timedelta

import pytest
from stage_support import flights_frame, handler_reads, publish_flights, query

from aerolake.sources import SOURCES, spec_of
from aerolake.sql import SQL_DIR, quote_identifier, sql_text
from aerolake.stores.mysql.db import connection

QUALITY_DIR = SQL_DIR / "quality"
BIG_TABLES = {"flights", "flight_positions", "flight_codeshares"}
BOUNDS = ("%(dt)s", "%(partition_key)s", "%(run_id)s", "%(linked_since)s")
DAYS = 40
FIRST = date(2026, 2, 1)


def test_every_quality_query_names_a_bound() -> None:
    files = sorted(QUALITY_DIR.glob("*.sql"))
    assert files
    unbounded = [f.name for f in files if not any(bound in f.read_text() for bound in BOUNDS)]
    assert unbounded == []


@pytest.fixture(scope="module")
def history():
    """A migrated database with 40 days of history, analyzed (module-wide: filling it takes a few seconds)."""
    import os
    import uuid

    from aerolake.core.connections import MySqlConfig
    from aerolake.stores.mysql.migrate import migrate

    cfg = MySqlConfig(os.environ.get("AEROLAKE_TEST_MYSQL_HOST", "127.0.0.1"),
                      int(os.environ.get("AEROLAKE_TEST_MYSQL_PORT", "3306")),
                      os.environ.get("AEROLAKE_TEST_MYSQL_USER", "root"), os.environ.get("AEROLAKE_TEST_MYSQL_PASSWORD", ""),
                      f"aerolake_test_{uuid.uuid4().hex[:12]}")
    migrate(cfg)
    rng = random.Random(7)
    airports = ["FRA", "MUC", "JFK", "LHR", "CDG", "ZRH", "VIE", "HAM", "BER", "DUS"]
    now = datetime(2026, 3, 20)
    flights, codeshares, positions = [], [], []
    for day in range(DAYS):
        dt = FIRST + timedelta(days=day)
        for n in range(300):
            dep, arr = rng.sample(airports, 2)
            sched = datetime.combine(dt, datetime.min.time()) + timedelta(minutes=rng.randrange(1440))
            source = ("lufthansa", "airlabs", "aviationstack", "opensky")[n % 4]
            flights.append(("LH", str(n), dt, dep, arr, sched, sched + timedelta(hours=2), "scheduled", source, now))
            if n % 3 == 0:
                codeshares.append(("UA", str(9000 + n), dt, dep, "LH", str(n), source, now))
            flight_id = len(flights) if n % 33 else None  # ids in insertion order; 3% of positions unlinked
            for k in range(2):
                positions.append((f"{day:02x}{n:04x}", sched + timedelta(minutes=10 * k), flight_id, 50.0, 8.5, source,
                                  now))
    with connection(cfg) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO countries (country_code, name, source, updated_at) VALUES ('DE', 'Germany', "
                        "'iso3166', %s)", [(now,)])
        cur.executemany("INSERT INTO airports (airport_code, country_code, source, updated_at) VALUES (%s, 'DE', "
                        "'lufthansa', %s)", [(a, now) for a in airports])
        cur.executemany("INSERT INTO flights (airline_code, flight_number, departure_date, dep_airport, arr_airport, "
                        "scheduled_departure, scheduled_arrival, status, source, updated_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", flights)
        cur.executemany("INSERT INTO flight_codeshares (marketing_airline_code, marketing_flight_number, "
                        "departure_date, dep_airport, airline_code, flight_number, source, updated_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", codeshares)
        cur.executemany("INSERT INTO flight_positions (icao24, observed_at, flight_id, latitude, longitude, source, "
                        "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)", positions)
        for table in ("flights", "flight_codeshares", "flight_positions", "airports", "pipeline_runs"):
            cur.execute(f"ANALYZE TABLE {quote_identifier(table)}")
            cur.fetchall()
        conn.commit()
    yield cfg
    with connection(cfg, database=False, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_identifier(cfg.database)}")


CHECKS = [(name, check) for name in SOURCES for check in spec_of(name).quality]


@pytest.mark.parametrize(("source", "check"), CHECKS, ids=[f"{s}:{c.name}:{c.table}" for s, c in CHECKS])
def test_no_check_scans_a_whole_big_table(history, source, check) -> None:
    statement = sql_text(f"quality/{check.sql}.sql").format(
        **{k: ", ".join(quote_identifier(n) for n in v.split(",")) for k, v in check.identifiers.items()})
    snapshot = "1200" if spec_of(source).name in ("airlabs", "opensky") else None
    dt = FIRST + timedelta(days=DAYS // 2)
    params = {"dag_id": f"{source}_lakehouse", "run_id": "run-1", "source": source,
              "partition_key": f"{dt}/{snapshot}" if snapshot else str(dt), "dt": str(dt),
              "linked_since": datetime.combine(dt, datetime.min.time()),
              "linked_until": datetime.combine(dt, datetime.min.time()) + timedelta(minutes=1), **check.params}
    with connection(history, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"EXPLAIN {statement}", params)
        names = [d[0] for d in cur.description]
        plan = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    aliases = _aliases(statement)
    scans = [(row["table"], row["type"], row["rows"]) for row in plan
             if aliases.get(row["table"], row["table"]) in BIG_TABLES and row["type"] in ("ALL", "index")]
    assert scans == [], plan
    # a day's flights come from the day's covering index alone: no row read per entry
    lookups = [row for row in plan if aliases.get(row["table"], row["table"]) == "flights"
               and row["key"] != "PRIMARY" and "Using index" not in (row["Extra"] or "").split("; ")]
    assert lookups == [], plan


def test_the_orphan_airports_check_judges_the_sources_flights_of_the_day(history) -> None:
    """A source's gate counts its own flights of the day with an airport missing from airports (the foreign keys
    off, as a hand-made row could be): Lufthansa's finds its orphan; an OpenSky snapshot, which writes no flights,
    judges none of the day's other flights (it read all of them, two airport probes each, every 10 minutes)."""
    from aerolake.stores.lake import Partition
    from aerolake.stores.mysql.ledger import RunInfo
    from aerolake.stores.mysql.quality import evaluate

    dt = FIRST + timedelta(days=DAYS // 2)
    sched = datetime.combine(dt, datetime.min.time()) + timedelta(hours=9)
    judged = {}
    with connection(history) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION foreign_key_checks = 0")
        cur.execute("INSERT INTO flights (airline_code, flight_number, departure_date, dep_airport, arr_airport, "
                    "scheduled_departure, status, source, updated_at) "
                    "VALUES ('LH', '9999', %s, 'FRA', 'ZZZ', %s, 'scheduled', 'lufthansa', %s)", (dt, sched, sched))
        cur.execute("SET SESSION foreign_key_checks = 1")
        for source, snapshot in (("lufthansa", None), ("opensky", "1200")):
            check = next(c for c in spec_of(source).quality if c.name == "orphan_airports")
            run = RunInfo(f"{source}_lakehouse", "run-1", Partition(source, dt.isoformat(), snapshot))
            judged[source] = evaluate(conn, run, [check])[0]
        conn.rollback()
    assert (judged["lufthansa"].passed, judged["lufthansa"].observed_value) == (False, 1.0)
    assert judged["lufthansa"].details == "FRA->ZZZ"
    assert (judged["opensky"].passed, judged["opensky"].observed_value) == (True, 0.0)


def test_a_publish_keeps_the_day_statistics_from_its_own_flights(history) -> None:
    """A publish of a few of a date's flights keeps its flight_day_stats by difference, in its transaction: the
    stored versions of its staged flights are read by their natural key, one lookup each, not by aggregating the
    whole date."""
    from aerolake.schema import FLIGHTS
    from aerolake.stores.mysql.load import stage_frames

    statement = sql_text("queries/select_staged_flights_stored.sql")
    select = statement[statement.index("SELECT"):]
    dt = FIRST + timedelta(days=DAYS // 2)
    with connection(history) as conn, conn.cursor() as cur:
        staging, _ = stage_frames(conn, FLIGHTS, [_flights_frame(dt, "LH", [datetime.combine(dt, datetime.min.time())]
                                                                 * 3)])
        key_match = " AND ".join(f"t.{quote_identifier(k)} = s.{quote_identifier(k)}" for k in FLIGHTS.key)
        cur.execute(f"EXPLAIN {select.format(staging=staging, key_match=key_match)}", {"dates": [dt]})
        names = [d[0] for d in cur.description]
        plan = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        conn.rollback()
    assert [(row["type"], row["key"]) for row in plan if row["table"] == "t"] == [("eq_ref", "uq_flights_natural")], \
        plan


def test_a_rebuild_of_the_day_statistics_reads_the_days_index_alone(history) -> None:
    """A publish of many of a date's flights (and recount) aggregate the date again into flight_day_stats: each
    dimension reads the dates' entries of the covering index."""
    from aerolake.stores.mysql.stats import add_to_flight_days_statements

    dt = FIRST + timedelta(days=DAYS // 2)
    reads = []
    with connection(history, autocommit=True) as conn, conn.cursor() as cur:
        for statement in add_to_flight_days_statements("flights", "departure_date IN %(dates)s"):
            select = statement[statement.index("SELECT"):statement.index("ON DUPLICATE")]
            cur.execute(f"EXPLAIN {select}", {"dates": [dt, dt + timedelta(days=1)]})
            names = [d[0] for d in cur.description]
            plan = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            reads += [(row["table"], row["type"], row["key"], "Using index" in (row["Extra"] or "").split("; "))
                      for row in plan]
    assert reads == [("flights", "range", "ix_flights_day_order", True)] * 4, reads


def _aliases(statement: str) -> dict[str, str]:
    """``alias -> table`` of the statement's FROM and JOIN clauses."""
    return {alias: table for table, alias in re.findall(r"(?:FROM|JOIN|UPDATE)\s+`?(\w+)`?\s+(?:AS\s+)?(\w+)",
                                                         statement)}


def test_the_position_link_looks_each_flight_up_by_its_key(history) -> None:
    """The link runs after every load: a snapshot's positions each look their flight up by index lookups
    (departure date, airline, number), one per date it may have, joined, never by reading a day's or the
    history's flights per position, and each lookup's answer (origin, scheduled departure, id) is in the index's
    entries: no flight row is read."""
    from aerolake.stores.mysql.load import link_statements, make_link_tables

    statement = link_statements()[0]
    dt = FIRST + timedelta(days=DAYS // 2)
    with connection(history, autocommit=True) as conn, conn.cursor() as cur:
        make_link_tables(cur)
        cur.execute(f"EXPLAIN {statement}", {"since": datetime.combine(dt, datetime.min.time()),
                                               "until": datetime.combine(dt, datetime.min.time()) + timedelta(hours=1)})
        names = [d[0] for d in cur.description]
        plan = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    aliases = _aliases(statement)
    assert [aliases.get(row["table"]) for row in plan if aliases.get(row["table"])] == [
        "flight_positions", "flights"], plan  # the positions drive, each joined to its flights
    lookups = [row for row in plan if aliases.get(row["table"]) == "flights"]
    assert [(row["type"], row["key"], row["select_type"]) for row in lookups] == [
        ("ref", "ix_flights_link", "PRIMARY")], plan  # a join, not a subquery per position
    assert "Using index" in (lookups[0]["Extra"] or "").split("; "), plan
    positions = [row for row in plan if aliases.get(row["table"]) == "flight_positions"]
    # the unlinked positions of the window: a range of (flight_id, observed_at), two key parts (NULL, then time)
    assert [(row["type"], row["key"]) for row in positions] == [("range", "ix_positions_flight")], plan
    assert int(positions[0]["key_len"]) > 9, plan  # flight_id alone (9 bytes) would be a month's unlinked rows


def test_the_history_is_there(history) -> None:
    assert query(history, "SELECT COUNT(*) FROM flights")[0][0] == DAYS * 300
    linked = query(history, "SELECT COUNT(*) FROM flight_positions p JOIN flights f ON f.flight_id = p.flight_id "
                            "AND f.flight_number = CONV(RIGHT(p.icao24, 4), 16, 10)")[0][0]
    assert linked == 2 * (DAYS * 300 - DAYS * 10)  # every flight's two positions but every 33rd flight's


def test_the_position_link_reads_only_unlinked_positions(history) -> None:
    """A window of already linked positions costs the link nearly nothing: it reads the unlinked ones of the
    window, not every position observed in it (at world scale 60,000 an hour, 97% linked)."""
    from aerolake.stores.mysql.load import link_positions_to_flights

    since = datetime.combine(FIRST + timedelta(days=DAYS // 2), datetime.min.time())
    with connection(history) as conn, conn.cursor() as cur:
        cur.execute("UPDATE flight_positions SET flight_id = 1 WHERE flight_id IS NULL AND observed_at >= %s "
                    "AND observed_at < %s", (since, since + timedelta(days=2)))
        cur.execute("SELECT COUNT(*) FROM flight_positions WHERE observed_at >= %s AND observed_at < %s",
                    (since, since + timedelta(days=2)))
        in_window = cur.fetchone()[0]
        before = handler_reads(cur)
        linked = link_positions_to_flights(conn, since, since + timedelta(days=2))
        spent = handler_reads(cur) - before
        conn.rollback()
    assert in_window > 1000
    assert linked == 0
    assert spent < 10, spent


def test_the_position_link_reads_a_few_index_entries_per_position(history) -> None:
    """What the server did, not only what EXPLAIN planned: MariaDB has run this statement with another index than
    the one EXPLAIN showed. Handler reads counted around a link of 100 positions (rolled back afterwards)."""
    from aerolake.stores.mysql.load import link_positions_to_flights

    dt = FIRST + timedelta(days=DAYS // 2)
    since = datetime.combine(dt, datetime.min.time())
    with connection(history) as conn, conn.cursor() as cur:
        cur.execute("SELECT flight_number, scheduled_departure FROM flights WHERE departure_date = %s "
                    "ORDER BY flight_number LIMIT 100", (dt,))
        flights = cur.fetchall()
        cur.executemany("INSERT INTO flight_positions (icao24, observed_at, airline_code, flight_number, latitude, "
                        "longitude, source, updated_at) VALUES (%s, %s, 'LH', %s, 50.0, 8.5, 'opensky', %s)",
                        [(f"f{n:05x}", sched + timedelta(minutes=31), number, since)
                         for n, (number, sched) in enumerate(flights)])
        before = handler_reads(cur)
        linked = link_positions_to_flights(conn, since - timedelta(hours=1), since + timedelta(days=1, hours=2))
        spent = handler_reads(cur) - before
        conn.rollback()
    assert linked == len(flights) == 100
    # a position's own row, then four lookups of a row or two each: about 10; a day's flights per position: 1,200
    assert spent < 30 * len(flights), spent


def _flights_frame(day: date, airline: str, departures: list[datetime]):
    """Cleaned ``flights`` rows of ``airline`` 0, 1, ... departing FRA for MUC on ``day`` at ``departures``."""
    return flights_frame(({"flight_number": str(n), "scheduled_departure": at, "updated_at": at}
                          for n, at in enumerate(departures)), airline_code=airline, departure_date=day,
                         dep_airport="FRA", arr_airport="MUC", status="scheduled", source="airlabs")


def test_a_load_of_flights_looks_up_only_the_positions_its_flights_may_match(history) -> None:
    """After a load of flights the link looks at the unlinked positions of a day and more, and most of them, at
    world scale, carry an airline none of our flights is (OpenSky sees every airline; our schedules are a few
    hubs'): only those near a flight the load added or changed are looked up, the others cost one probe each.
    The same link of every unlinked position would link no more: nothing else can match."""
    from aerolake.stores.mysql.load import (
        forget_changed_flights,
        link_positions_to_flights,
    )

    dt = FIRST + timedelta(days=DAYS // 2)
    since = datetime.combine(dt, datetime.min.time())
    strangers = [(f"a{n:05x}", since + timedelta(minutes=2 * n), "ZZ", str(n)) for n in range(300)]
    waiting = [(f"b{n:05x}", since + timedelta(hours=3, minutes=n), "QQ", str(n)) for n in range(3)]
    with connection(history) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO flight_positions (icao24, observed_at, airline_code, flight_number, latitude, "
                        "longitude, source, updated_at) VALUES (%s, %s, %s, %s, 50.0, 8.5, 'opensky', %s)",
                        [(*row, since) for row in strangers + waiting])
        # the load: three QQ flights departing at 02:30
        frame = _flights_frame(dt, "QQ", [since + timedelta(hours=2, minutes=30)] * 3)
        publish_flights(conn, frame)
        cur.execute("SELECT airline_code, flight_number FROM changed_flights ORDER BY flight_number")
        changed = cur.fetchall()
        before = handler_reads(cur)
        linked = link_positions_to_flights(conn, since - timedelta(hours=1), since + timedelta(days=1),
                                           near_changed_flights=True)
        near = handler_reads(cur) - before
        forget_changed_flights(conn)
        before = handler_reads(cur)
        relinked = link_positions_to_flights(conn, since - timedelta(hours=1), since + timedelta(days=1))
        every = handler_reads(cur) - before
        cur.execute("SELECT f.airline_code, f.flight_number FROM flight_positions p JOIN flights f "
                    "ON f.flight_id = p.flight_id WHERE p.icao24 LIKE 'b%%' ORDER BY p.icao24")
        links = cur.fetchall()
        conn.rollback()
    assert changed == (("QQ", "0"), ("QQ", "1"), ("QQ", "2"))
    assert linked == 3 and links == (("QQ", "0"), ("QQ", "1"), ("QQ", "2"))
    assert relinked == 0
    # each unlinked position of the window: its index entry and one probe (about 2); looked up, three more
    assert near < 3 * len(strangers) < every, (near, every)


def test_the_positions_a_load_of_flights_may_link_are_found_in_the_index_alone(history) -> None:
    """The link after a load of flights finds its candidates in ix_positions_flight's entries (airline, number,
    icao24 with the time), probing the changed flights by their key: the rows of the window's other unlinked
    positions (no airline, or an airline the load has no flight of) are never read. Then it reads and updates
    the candidates' rows by their primary key, and looks their flights up by ix_flights_link."""
    from aerolake.stores.mysql.load import (
        forget_changed_flights,
        link_candidates_statement,
        link_statements,
        make_link_tables,
    )

    dt = FIRST + timedelta(days=DAYS // 2)
    since = datetime.combine(dt, datetime.min.time())
    window = {"since": since - timedelta(hours=1), "until": since + timedelta(days=1)}
    with connection(history) as conn, conn.cursor() as cur:
        frame = _flights_frame(dt, "QQ", [since + timedelta(hours=2, minutes=30)] * 3)
        publish_flights(conn, frame)
        make_link_tables(cur)
        plans = {}
        find, write = link_statements(near_changed_flights=True)
        for name, statement in (("candidates", link_candidates_statement()), ("find", find), ("write", write)):
            cur.execute(f"EXPLAIN {statement}", window)
            names = [d[0] for d in cur.description]
            plans[name] = (_aliases(statement), [dict(zip(names, row, strict=True)) for row in cur.fetchall()])
        forget_changed_flights(conn)
        conn.rollback()
    aliases, plan = plans["candidates"]
    positions = [row for row in plan if aliases.get(row["table"]) == "flight_positions"]
    assert [(row["type"], row["key"]) for row in positions] == [("range", "ix_positions_flight")], plan
    assert "Using index" in (positions[0]["Extra"] or "").split("; "), plan  # no row read
    probes = [row for row in plan if aliases.get(row["table"]) == "changed_flights"]
    assert [(row["type"], row["key"]) for row in probes] == [("ref", "ix_changed_flights")], plan
    assert probes[0]["select_type"] == "DEPENDENT SUBQUERY", plan  # one probe a position, not a join of both
    aliases, plan = plans["find"]
    # the candidates drive the link, each position's row read by its primary key, its flights by ix_flights_link
    assert [aliases.get(row["table"]) for row in plan if aliases.get(row["table"])] == [
        "link_candidates", "flight_positions", "flights"], plan
    assert (plan[1]["type"], plan[1]["key"]) == ("eq_ref", "PRIMARY"), plan
    lookups = [row for row in plan if aliases.get(row["table"]) == "flights"]
    assert [(row["type"], row["key"]) for row in lookups] == [("ref", "ix_flights_link")], plan
    aliases, plan = plans["write"]
    # the matches drive the write, each position's row found by its primary key
    assert [(aliases.get(row["table"]), row["type"], row["key"]) for row in plan] == [
        ("link_matches", "ALL", None), ("flight_positions", "eq_ref", "PRIMARY")], plan


def test_the_link_skips_the_departure_dates_an_observation_cannot_have(history) -> None:
    """A departure 20 hours before to an hour after an observation is, in local time, 32 hours before to 15
    after it: an observation at noon UTC cannot see a flight of the day before yesterday (local date), one at
    03:00 UTC none of tomorrow's. Each position costs three lookups, and a flight departing on a date its position
    can see still links, yesterday's and tomorrow's included."""
    from aerolake.stores.mysql.load import link_positions_to_flights

    dt = FIRST + timedelta(days=DAYS // 2)
    since = datetime.combine(dt, datetime.min.time())
    with connection(history) as conn, conn.cursor() as cur:
        # LH 9005 departs on dt - 1 (local date) at 23:30 UTC of dt - 1, LH 9006 on dt + 1 at 12:30 UTC of dt (local
        # time 00:30 or later: UTC+12 and over, Auckland in summer): both in reach of an observation at 12:00 on dt
        cur.execute("UPDATE flights SET flight_number = '9005', scheduled_departure = %s WHERE departure_date = %s "
                    "AND flight_number = '5'", (since - timedelta(minutes=30), dt - timedelta(days=1)))
        cur.execute("UPDATE flights SET flight_number = '9006', scheduled_departure = %s WHERE departure_date = %s "
                    "AND flight_number = '7'", (since + timedelta(hours=12, minutes=30), dt + timedelta(days=1)))
        noon = since + timedelta(hours=12)
        rows = [(f"c{n:05x}", noon + timedelta(seconds=n), "LH", str(n)) for n in range(200)]
        rows += [("d09005", noon, "LH", "9005"), ("d09006", noon, "LH", "9006")]
        cur.executemany("INSERT INTO flight_positions (icao24, observed_at, airline_code, flight_number, latitude, "
                        "longitude, source, updated_at) VALUES (%s, %s, %s, %s, 50.0, 8.5, 'opensky', %s)",
                        [(*row, since) for row in rows])
        before = handler_reads(cur)
        linked = link_positions_to_flights(conn, noon, noon + timedelta(minutes=10))
        spent = handler_reads(cur) - before
        cur.execute("SELECT p.flight_number, f.departure_date FROM flight_positions p JOIN flights f "
                    "ON f.flight_id = p.flight_id WHERE p.icao24 LIKE 'd%%' ORDER BY p.icao24")
        links = cur.fetchall()
        conn.rollback()
    assert links == (("9005", dt - timedelta(days=1)), ("9006", dt + timedelta(days=1)))
    assert linked >= 2
    # per position: its index entry and row, then three lookups (the dates dt - 1, dt and dt + 1) of 3 to 4 handler
    # reads each: 12 a position measured here, 15 with the day before yesterday's lookup too
    assert spent < 13.5 * len(rows), spent


FLIGHT_FILTERS = [{}, {"airport": "FRA"}, {"airline": "LH"}, {"status": "scheduled"},
                  {"airport": "FRA", "airline": "LH", "status": "scheduled"}]


@pytest.mark.parametrize("filters", FLIGHT_FILTERS, ids=lambda f: "+".join(f) or "none")
def test_flights_of_a_day_are_read_from_the_days_index(history, filters) -> None:
    """/flights counts from the day's index entries alone (covering: no row read per entry, which past the buffer
    pool is a random read each) and pages them in index order (no sort), whatever the filters; the count is the
    one a plain query gives."""
    from aerolake.api.store import flights_statements

    dt = FIRST + timedelta(days=DAYS // 2)
    count, select, params = flights_statements(**{"airport": None, "airline": None, "status": None, **filters},
                                               day=dt)
    with connection(history, autocommit=True) as conn, conn.cursor() as cur:
        plans = []
        for statement, values in ((count, params), (select, [*params, 50, 0])):
            cur.execute(f"EXPLAIN {statement}", values)
            names = [d[0] for d in cur.description]
            plans.append([dict(zip(names, row, strict=True)) for row in cur.fetchall()])
        cur.execute(count, params)
        counted = cur.fetchone()[0]
        cur.execute(count.replace(" FORCE INDEX (ix_flights_day_order)", "").replace("COUNT(*)", "SUM(1)"), params)
        plain = cur.fetchone()[0]
    (counting,), (paging,) = plans
    assert (counting["type"], counting["key"]) == ("ref", "ix_flights_day_order"), counting
    assert "Using index" in (counting["Extra"] or "").split("; "), counting
    assert (paging["type"], paging["key"]) == ("ref", "ix_flights_day_order"), paging
    assert "filesort" not in (paging["Extra"] or ""), paging
    assert counted == plain > 0


def test_the_latest_position_of_a_days_flights_costs_a_few_reads_per_flight(history) -> None:
    """write_curated and publish_to_kafka read each flight's newest position every snapshot: a few index reads per
    flight of the date, not one per position (by evening a flight has dozens: 1.4 million positions a day)."""
    dt = FIRST + timedelta(days=DAYS // 2)
    statement = sql_text("queries/select_latest_flight_positions.sql")
    with connection(history) as conn, conn.cursor() as cur:
        cur.execute("SELECT flight_id, scheduled_departure FROM flights WHERE departure_date = %s", (dt,))
        flights = cur.fetchall()
        cur.executemany("INSERT INTO flight_positions (icao24, observed_at, flight_id, latitude, longitude, source, "
                        "updated_at) VALUES (%s, %s, %s, 50.0, 8.5, 'opensky', %s)",
                        [(f"e{fid:05x}", sched + timedelta(minutes=20 + 2 * k), fid, sched)
                         for fid, sched in flights for k in range(40)])
        before = handler_reads(cur)
        cur.execute(statement, {"day": dt})
        rows = cur.fetchall()
        spent = handler_reads(cur) - before
        conn.rollback()
    newest = {fid: sched + timedelta(minutes=20 + 2 * 39) for fid, sched in flights}
    assert {row[0]: row[1] for row in rows} == newest
    # about 10 a flight; ranking its 40 positions would be over 80
    assert spent < 15 * len(flights), (spent, len(flights))
