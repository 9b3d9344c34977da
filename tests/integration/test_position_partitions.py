"""flight_positions partitioned by month (migration 0010, aerolake.stores.mysql.partitions) against real MariaDB:
the migration of a database the previous schema filled, partitions made before a load, retention by whole
partitions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial

import pandas as pd
import pytest
from stage_support import query, run_stages

from aerolake.core.errors import ConfigurationError, QualityCheckFailed
from aerolake.core.settings import Settings
from aerolake.mockapi import MockApi, MockConfig
from aerolake.pipeline import maintenance, stages
from aerolake.schema import FLIGHT_POSITIONS, conform
from aerolake.sql import MIGRATIONS_DIR
from aerolake.stores.lake import Partition
from aerolake.stores.mysql import partitions
from aerolake.stores.mysql import quality as quality_module
from aerolake.stores.mysql.db import connection
from aerolake.stores.mysql.ledger import RunInfo
from aerolake.stores.mysql.load import (
    day_window,
    link_positions_to_flights,
    link_statements,
    make_link_tables,
    publish_staging,
    stage_frames,
)
from aerolake.stores.mysql.migrate import migrate, split_statements
from aerolake.stores.mysql.stats import recount

MIGRATION = "0010_partition_flight_positions"
ALL_COLUMNS = ", ".join(FLIGHT_POSITIONS.column_names)


def partition_counts(cfg) -> dict[str, int]:
    """Rows per partition, counted (not estimated)."""
    out = {}
    for p in partitions.partitions_of(cfg, FLIGHT_POSITIONS.name):
        out[p.name] = query(cfg, f"SELECT COUNT(*) FROM flight_positions PARTITION ({p.name})")[0][0]
    return out


def all_positions(cfg, where: str = "1 = 1") -> tuple:
    return query(cfg, f"SELECT {ALL_COLUMNS} FROM flight_positions WHERE {where} ORDER BY icao24, observed_at")


# -- the migration, on a database the previous schema filled ---------------------------------------------------
FLIGHTS = [  # (airline, number, departure date, origin, scheduled departure UTC)
    ("LH", "400", "2025-12-31", "FRA", "2025-12-31 18:00:00"),  # its positions run into the new year
    ("LH", "400", "2026-01-15", "FRA", "2026-01-15 09:00:00"),
    ("LH", "402", "2026-02-27", "FRA", "2026-02-27 22:30:00"),
    ("UA", "932", "2026-04-02", "FRA", "2026-04-02 10:00:00"),
]


def fill_previous_schema(cfg) -> None:
    """Reference rows, flights and positions in December, January, February and April (none in March), some linked
    to their flights under the old foreign key, with NULLs, fractions, booleans and a burned AUTO_INCREMENT value."""
    with connection(cfg) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO countries VALUES ('DE', 'Germany', 't', '2026-01-01'), ('US', 'USA', 't', '2026-01-01')")
        cur.executemany("INSERT INTO airports (airport_code, country_code, latitude, longitude, source, updated_at) "
                        "VALUES (%s, %s, 50, 8, 't', '2026-01-01')", [("FRA", "DE"), ("MUC", "DE"), ("JFK", "US")])
        cur.executemany("INSERT INTO flights (airline_code, flight_number, departure_date, dep_airport, arr_airport, "
                        "scheduled_departure, status, source, updated_at) VALUES (%s, %s, %s, %s, 'JFK', %s, "
                        "'landed', 't', '2026-01-01')", FLIGHTS)
        rows = []
        for n, (airline, number, _day, origin, departure) in enumerate(FLIGHTS):
            start = datetime.fromisoformat(departure)
            for k in range(12):  # 12 positions an hour apart
                rows.append((f"3c6{n:03d}", start + timedelta(minutes=10 + 60 * k), airline, number,
                             origin if k % 3 else None, "JFK" if k % 2 else None, f"D-AB{n}" if k % 4 else None,
                             "A388" if k % 5 else None, 50.0 - 0.123456789 * k, 8.5 + k / 7, 1000.5 * k or None,
                             (35.25 * k) % 360, 850.125 if k else None, -1.5 if k % 2 else None,
                             None if k % 6 == 5 else k == 0, "airlabs" if n % 2 else "opensky",
                             start + timedelta(hours=k)))
        rows.append(("ffffff", datetime(2026, 1, 20, 12, 0), None, None, None, None, None, None, -33.9, 151.2,
                     None, None, None, None, None, "opensky", datetime(2026, 1, 20, 12, 0)))
        cur.executemany("INSERT INTO flight_positions (icao24, observed_at, airline_code, flight_number, dep_airport, "
                        "arr_airport, registration, aircraft_code, latitude, longitude, altitude_m, heading, "
                        "speed_kmh, vertical_speed, on_ground, source, updated_at) VALUES "
                        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
        # linked as the pipeline did then: through the natural key (ix_flights_link came with migration 0018)
        for day in ("2025-12-31", "2026-01-15", "2026-02-27"):
            since, until = day_window(day)
            make_link_tables(cur)
            for statement in link_statements():
                cur.execute(statement.replace("ix_flights_link", "uq_flights_natural"), {"since": since, "until": until})
        cur.execute("INSERT INTO flight_positions (icao24, observed_at, latitude, longitude, source, updated_at) "
                    "VALUES ('000000', '2026-01-01', 0, 0, 't', '2026-01-01')")
        cur.execute("DELETE FROM flight_positions WHERE icao24 = '000000'")  # a burned position_id, as a rollback
        conn.commit()


def test_the_migration_keeps_every_row_of_the_previous_schema_and_partitions_it_by_month(mysql_cfg):
    assert migrate(mysql_cfg, up_to="0009")[-1] == "0009_api_budget_plans"
    fill_previous_schema(mysql_cfg)
    before = all_positions(mysql_cfg)
    linked = query(mysql_cfg, "SELECT COUNT(*) FROM flight_positions WHERE flight_id IS NOT NULL")[0][0]
    assert len(before) == 49 and linked > 20

    assert MIGRATION in migrate(mysql_cfg)
    assert migrate(mysql_cfg) == []

    # every row, every value, the surrogate ids included
    assert all_positions(mysql_cfg) == before
    # a partition per month holding rows; March held none, so April's partition covers it; p_start and pmax empty
    assert partition_counts(mysql_cfg) == {"p_start": 0, "p202512": 6, "p202601": 19, "p202602": 12,
                                           "p202604": 12, "pmax": 0}
    # the keys: the natural key as primary key (time first), no foreign key either way, no leftover table
    assert query(mysql_cfg, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s "
                            "AND TABLE_NAME = 'flight_positions' AND CONSTRAINT_NAME = 'PRIMARY' "
                            "ORDER BY ORDINAL_POSITION", (mysql_cfg.database,)) == (("observed_at",), ("icao24",))
    assert query(mysql_cfg, "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE "
                            "CONSTRAINT_SCHEMA = %s AND 'flight_positions' IN (TABLE_NAME, REFERENCED_TABLE_NAME)",
                 (mysql_cfg.database,)) == ()
    assert query(mysql_cfg, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND "
                            "TABLE_NAME LIKE 'flight\\_positions%%'", (mysql_cfg.database,)) == (("flight_positions",),)

    # the pipeline's load and link still work: a new month's partition first, then stage, upsert, link
    assert partitions.ensure_load_window(mysql_cfg, ["flight_positions"], "2026-05-10") == {
        "flight_positions": ["p202605"]}
    new = conform(pd.DataFrame({
        "icao24": ["3c6001", "3c6003"], "observed_at": [datetime(2026, 1, 15, 9, 10), datetime(2026, 5, 10, 8)],
        "airline_code": ["LH", "UA"], "flight_number": ["400", "932"], "dep_airport": ["FRA", "FRA"],
        "latitude": [1.5, 2.5], "longitude": [3.5, 4.5], "source": "airlabs",
        "updated_at": [datetime(2026, 5, 1), datetime(2026, 5, 10, 8)]}), FLIGHT_POSITIONS)
    with connection(mysql_cfg) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO flights (airline_code, flight_number, departure_date, dep_airport, arr_airport, "
                    "scheduled_departure, status, source, updated_at) VALUES ('UA', '932', '2026-05-10', 'FRA', "
                    "'JFK', '2026-05-10 07:30', 'active', 't', '2026-05-10')")
        staging, rows = stage_frames(conn, FLIGHT_POSITIONS, [new])
        assert rows == 2 and publish_staging(conn, FLIGHT_POSITIONS, staging) == 3  # one update (2), one insert (1)
        assert link_positions_to_flights(conn, *day_window("2026-05-10")) == 1
        conn.commit()
    updated = query(mysql_cfg, "SELECT position_id, latitude, flight_id FROM flight_positions WHERE icao24 = '3c6001' "
                               "AND observed_at = '2026-01-15 09:10:00'")[0]
    old = next(r for r in before if r[1] == "3c6001" and r[2] == datetime(2026, 1, 15, 9, 10))
    assert updated == (old[0], 1.5, old[3])  # same surrogate id and link, the fresher value
    (position_id, flight), = query(mysql_cfg, "SELECT p.position_id, f.departure_date FROM flight_positions p "
                                              "JOIN flights f ON f.flight_id = p.flight_id WHERE p.icao24 = '3c6003' "
                                              "AND p.observed_at >= '2026-05-01'")
    assert flight == date(2026, 5, 10) and position_id > max(r[0] for r in before)
    assert partition_counts(mysql_cfg)["p202605"] == 1


def migration_statements() -> list[str]:
    return split_statements((MIGRATIONS_DIR / f"{MIGRATION}.sql").read_text())


@pytest.mark.parametrize("done", range(1, len(migration_statements())),
                         ids=lambda n: f"after-{n}-{migration_statements()[n - 1].split()[0].lower()}")
def test_a_migration_cut_short_anywhere_completes_on_the_next_run_without_losing_a_row(mysql_cfg, done):
    """The process dies after ``done`` statements of the migration (its connection gone, the migration not
    recorded): the next migrate() finishes it, and every row is there."""
    migrate(mysql_cfg, up_to="0009")
    fill_previous_schema(mysql_cfg)
    before = all_positions(mysql_cfg)
    with connection(mysql_cfg, autocommit=True) as conn, conn.cursor() as cur:
        for statement in migration_statements()[:done]:
            cur.execute(statement)
    assert MIGRATION in migrate(mysql_cfg)
    assert all_positions(mysql_cfg) == before
    assert list(partition_counts(mysql_cfg)) == ["p_start", "p202512", "p202601", "p202602", "p202604", "pmax"]
    assert query(mysql_cfg, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND "
                            "TABLE_NAME LIKE 'flight\\_positions%%'", (mysql_cfg.database,)) == (("flight_positions",),)


def test_a_fresh_database_starts_with_two_empty_partitions_and_migrate_up_to_refuses_an_unknown_version(mysql_cfg):
    with pytest.raises(ValueError, match="no migration '0999'"):
        migrate(mysql_cfg, up_to="0999")
    migrate(mysql_cfg)
    assert [p.name for p in partitions.partitions_of(mysql_cfg, "flight_positions")] == ["p_start", "pmax"]


def test_a_position_naming_a_missing_flight_fails_the_bounded_check(migrated_mysql):
    """No foreign key guards flight_id any more: the error-level check counts the positions the load linked (after
    the load: the partition's days) whose flight_id names no flight (a position outside is not its business)."""
    from aerolake.sources import source

    partitions.ensure_months(migrated_mysql, FLIGHT_POSITIONS, date(2026, 2, 1), date(2026, 3, 1))
    check = next(c for c in source("airlabs").SPEC.quality if c.name == "orphan_position_flights")
    run = RunInfo("airlabs_lakehouse", "r1", Partition("airlabs", "2026-03-01", "1200"))
    with connection(migrated_mysql) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO flight_positions (icao24, observed_at, flight_id, latitude, longitude, source, "
                        "updated_at) VALUES (%s, %s, %s, 1, 1, 't', '2026-03-01')",
                        [("aaaaaa", "2026-03-01 10:00", 424242), ("bbbbbb", "2026-02-20 10:00", 434343),
                         ("cccccc", "2026-03-01 11:00", None)])
        (result,) = quality_module.evaluate(conn, run, [check])
        # inside a load: only the moments it linked (a snapshot's minute), not the days around the partition
        (linked,) = quality_module.evaluate(conn, run, [check], linked=(datetime(2026, 3, 1, 10), datetime(2026, 3, 1, 10, 1)))
        (elsewhere,) = quality_module.evaluate(conn, run, [check],
                                              linked=(datetime(2026, 3, 1, 11), datetime(2026, 3, 1, 11, 1)))
        conn.rollback()
    assert (result.passed, result.observed_value, result.details, result.blocks) == (False, 1.0, "424242", True)
    assert (linked.passed, linked.observed_value) == (False, 1.0)
    assert (elsewhere.passed, elsewhere.observed_value) == (True, 0.0)


# -- a load into a month without a partition ---------------------------------------------------------------------
NOW = datetime(2026, 7, 1, 12, 5)  # a month migrate() made no partition for


@pytest.fixture(scope="module")
def api():
    with MockApi(MockConfig(seed=5, flights_per_hub=40, qps_limit=None, now=NOW.isoformat() + "Z")) as server:
        yield server


@pytest.fixture
def airlabs_ctx(api, s3, mongo, mysql_cfg):
    settings = Settings(bucket="aerolake-test", mock_api_url=api.base_url, calls_per_second={"airlabs": 0})
    run = RunInfo("airlabs_lakehouse", "run-1", Partition("airlabs", "2026-07-01", "1200"))
    return stages.StageContext(run, settings, s3, mongo, mysql_cfg)


def test_a_load_makes_its_months_partitions_before_its_transaction_and_its_rows_land_there(airlabs_ctx,
                                                                                              monkeypatch):
    events = []
    ensure, stage = partitions.ensure_load_window, stages.stage_frames

    def ensure_spy(cfg, tables, dt):
        events.append(("ensure", dt))
        return ensure(cfg, tables, dt)

    def stage_spy(conn, table, frames, **kwargs):
        if table.name == "flight_positions":  # the months exist before the load's first position is written
            events.append(("stage", [p.name for p in partitions.partitions_of(airlabs_ctx.mysql, table.name)]))
        return stage(conn, table, frames, **kwargs)

    monkeypatch.setattr(partitions, "ensure_load_window", ensure_spy)
    monkeypatch.setattr(stages, "stage_frames", stage_spy)
    partial(run_stages, now=NOW)(airlabs_ctx)

    # the window of observed_at (2 days before to 2 after the partition's day) spans June and July
    assert events == [("ensure", "2026-07-01"), ("stage", ["p_start", "p202606", "p202607", "pmax"])]
    loaded = query(airlabs_ctx.mysql, "SELECT COUNT(*) FROM flight_positions")[0][0]
    assert loaded > 10
    assert partition_counts(airlabs_ctx.mysql) == {"p_start": 0, "p202606": 0, "p202607": loaded, "pmax": 0}
    stored = query(airlabs_ctx.mysql, "SELECT passed FROM data_quality_results WHERE check_name = "
                                      "'orphan_position_flights'")
    assert stored == ((1,),)


def test_a_load_rolled_back_keeps_the_partitions_it_made_and_no_row(airlabs_ctx, monkeypatch):
    """The partitions were made before the transaction (DDL commits implicitly): rolling the load back removes its
    rows, and the partitions, made on a connection of their own, stay (the next try needs no DDL)."""
    failing = quality_module.CheckResult("forced", "flights", False, 1.0, 0.0)
    monkeypatch.setattr(stages.quality, "evaluate", lambda conn, run, checks, **_: [failing])
    ctx = airlabs_ctx
    with pytest.raises(QualityCheckFailed):
        partial(run_stages, now=NOW)(ctx)
    assert query(ctx.mysql, "SELECT COUNT(*) FROM flight_positions")[0][0] == 0
    assert [p.name for p in partitions.partitions_of(ctx.mysql, "flight_positions")] == [
        "p_start", "p202606", "p202607", "pmax"]


# -- retention --------------------------------------------------------------------------------------------------
MONTHS = [date(2026, m, 1) for m in range(1, 7)]  # January to June


def fill_months(cfg) -> None:
    partitions.ensure_months(cfg, FLIGHT_POSITIONS, MONTHS[0], MONTHS[-1] + timedelta(days=62))  # and 2 ahead
    with connection(cfg) as conn, conn.cursor() as cur:
        rows = [(f"{i:06x}", datetime.combine(month, datetime.min.time()) + timedelta(days=d, hours=h), 40.0 + i,
                 8.0 + d, "t", datetime(2026, 7, 1))
                for i, month in enumerate(MONTHS, start=1) for d in range(0, 27, 13) for h in range(i)]
        cur.executemany("INSERT INTO flight_positions (icao24, observed_at, latitude, longitude, source, updated_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s)", rows)
        conn.commit()
    recount(cfg)  # the rows went in around the loader


def test_retention_drops_exactly_the_partitions_wholly_older_than_the_setting(migrated_mysql, caplog):
    fill_months(migrated_mysql)
    before = partition_counts(migrated_mysql)
    kept_rows = all_positions(migrated_mysql, "observed_at >= '2026-03-01'")
    assert [before[f"p2026{m:02d}"] for m in range(1, 7)] == [3, 6, 9, 12, 15, 18]

    # now 2026-06-15, 100 days: the cutoff 2026-03-07 falls inside March, which stays
    caplog.set_level("INFO", logger="aerolake.stores.mysql.partitions")
    dropped = maintenance.apply_retention(migrated_mysql, datetime(2026, 6, 15),
                                          retention_days=100)
    assert dropped == [{"partition": "p202601", "month": "2026-01", "rows": 3},
                       {"partition": "p202602", "month": "2026-02", "rows": 6}]
    after = partition_counts(migrated_mysql)
    assert after == {name: n for name, n in before.items() if name not in ("p202601", "p202602")}
    assert all_positions(migrated_mysql, "observed_at >= '2026-03-01'") == kept_rows
    assert all_positions(migrated_mysql, "observed_at < '2026-03-01'") == ()
    logged = [r.getMessage() for r in caplog.records if "dropping partition" in r.getMessage()]
    assert len(logged) == 2 and "p202601 (month 2026-01, about 3 rows" in logged[0]
    # the kept row counts (table_stats, read by /status) lost exactly the dropped months
    assert query(migrated_mysql, "SELECT period, row_count FROM table_stats WHERE table_name = 'flight_positions' "
                                 "ORDER BY period") == (("2026-03", 9), ("2026-04", 12), ("2026-05", 15), ("2026-06", 18))

    # again: nothing more is old enough
    assert maintenance.apply_retention(migrated_mysql, datetime(2026, 6, 15),
                                       retention_days=100) == []
    assert partition_counts(migrated_mysql) == after


def test_retention_never_drops_the_current_or_a_later_month_and_unset_drops_nothing(migrated_mysql, monkeypatch):
    fill_months(migrated_mysql)
    before = partition_counts(migrated_mysql)
    cfg = migrated_mysql
    monkeypatch.delenv("AEROLAKE_POSITIONS_RETENTION_DAYS", raising=False)
    assert maintenance.apply_retention(cfg, datetime(2026, 6, 15)) == []  # unset: keep everything
    monkeypatch.setenv("AEROLAKE_POSITIONS_RETENTION_DAYS", "")
    assert maintenance.apply_retention(cfg, datetime(2026, 6, 15)) == []
    assert partition_counts(migrated_mysql) == before

    # one day, on the month's first day: every month before it goes; the current month and the two ahead stay
    monkeypatch.setenv("AEROLAKE_POSITIONS_RETENTION_DAYS", "1")
    dropped = maintenance.apply_retention(cfg, datetime(2026, 6, 1, 0, 30))
    assert [d["partition"] for d in dropped] == ["p202601", "p202602", "p202603", "p202604"]  # May ends after cutoff
    assert list(partition_counts(migrated_mysql)) == ["p_start", "p202605", "p202606", "p202607", "p202608", "pmax"]
    assert partition_counts(migrated_mysql)["p202606"] == before["p202606"]


@pytest.mark.parametrize("value", ["0", "-3", "ninety"])
def test_a_wrong_retention_fails_the_task_at_once_naming_the_setting(migrated_mysql, monkeypatch, value):
    from aerolake.core.errors import retry_can_help

    monkeypatch.setenv("AEROLAKE_POSITIONS_RETENTION_DAYS", value)
    with pytest.raises(ConfigurationError, match="AEROLAKE_POSITIONS_RETENTION_DAYS") as caught:
        maintenance.apply_retention(migrated_mysql, datetime(2026, 6, 15))
    assert not retry_can_help(caught.value)


def test_ensure_partitions_makes_the_current_and_next_months_once(migrated_mysql):
    cfg = migrated_mysql
    assert maintenance.ensure_partitions(cfg, datetime(2026, 11, 20)) == {
        "flight_positions": ["p202611", "p202612", "p202701"]}
    assert maintenance.ensure_partitions(cfg, datetime(2026, 11, 30)) == {"flight_positions": []}
    # a month later: one more ahead, split from the empty pmax
    assert maintenance.ensure_partitions(cfg, datetime(2026, 12, 1)) == {"flight_positions": ["p202702"]}
    # a backfill of an older month: split from the empty p_start, contiguous with the first month
    assert partitions.ensure_load_window(migrated_mysql, ["flights", "flight_positions"], "2026-09-15") == {
        "flight_positions": ["p202609", "p202610"]}
    assert [p.name for p in partitions.partitions_of(migrated_mysql, "flight_positions")] == [
        "p_start", "p202609", "p202610", "p202611", "p202612", "p202701", "p202702", "pmax"]


def test_the_partitioning_matches_the_schema_contract_and_the_checks_still_hold(migrated_mysql):
    import pymysql

    from aerolake.schema import DATA_TABLES

    for table in DATA_TABLES:
        (method, expression), *_ = query(
            migrated_mysql, "SELECT PARTITION_METHOD, PARTITION_EXPRESSION FROM information_schema.PARTITIONS WHERE "
                            "TABLE_SCHEMA = %s AND TABLE_NAME = %s", (migrated_mysql.database, table.name))
        if table.partition_column:
            assert (method, expression.strip("`")) == ("RANGE COLUMNS", table.partition_column), table.name
        else:
            assert (method, expression) == (None, None), table.name
    assert partitions.partitioned_tables() == [FLIGHT_POSITIONS]
    with connection(migrated_mysql, autocommit=True) as conn, conn.cursor() as cur:
        for latitude, longitude in ((90.5, 8.0), (50.0, -180.5)):
            with pytest.raises(pymysql.err.MySQLError) as refused:
                cur.execute("INSERT INTO flight_positions (icao24, observed_at, latitude, longitude, source, "
                            "updated_at) VALUES ('3c6444', '2026-03-01 10:00', %s, %s, 't', '2026-03-01')",
                            (latitude, longitude))
            assert refused.value.args[0] in (3819, 4025)  # a CHECK failed (MySQL's code, MariaDB's)
