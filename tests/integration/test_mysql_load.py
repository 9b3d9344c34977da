"""Migrations, the schema contract, and the bulk load paths against real MariaDB/MySQL."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pymysql
import pytest

from aerolake.schema import AIRLINES, DATA_TABLES, FLIGHTS, conform
from aerolake.stores.mysql import migrate as migrations_module
from aerolake.stores.mysql.db import connection
from aerolake.stores.mysql.load import publish_staging, stage_frames
from aerolake.stores.mysql.migrate import migrate, migrations

SQL_TYPES = {"str": {"char", "varchar"}, "int": {"int", "bigint"}, "float": {"double"},
             "datetime": {"datetime"}, "date": {"date"}, "bool": {"tinyint"}}


def test_migrations_apply_once_and_match_the_schema_contract(mysql_cfg):
    versions = [version for version, *_ in migrations()]
    assert versions[:4] == ["0001_create_reference_tables", "0002_create_flights", "0003_create_operations_tables",
                            "0004_three_sources_one_model"]
    assert migrate(mysql_cfg) == versions
    assert migrate(mysql_cfg) == []
    with connection(mysql_cfg, autocommit=True) as conn, conn.cursor() as cur:
        for table in DATA_TABLES:
            cur.execute("SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH FROM "
                        "information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
                        "ORDER BY ORDINAL_POSITION", (mysql_cfg.database, table.name))
            columns = cur.fetchall()
            assert [c[0] for c in columns] == table.column_names, table.name
            for name, data_type, nullable, length in columns:
                col = table.column(name)
                assert data_type in SQL_TYPES[col.kind], (table.name, name, data_type)
                assert (nullable == "YES") == col.nullable, (table.name, name)
                if col.kind == "str":
                    assert length == col.length, (table.name, name)


def test_an_edited_migration_is_refused(mysql_cfg, tmp_path, monkeypatch):
    for path in migrations_module.MIGRATIONS_DIR.glob("*.sql"):
        (tmp_path / path.name).write_text(path.read_text())
    monkeypatch.setattr(migrations_module, "MIGRATIONS_DIR", tmp_path)
    migrate(mysql_cfg)
    (tmp_path / "0002_create_flights.sql").write_text("-- edited\n" + (tmp_path / "0002_create_flights.sql").read_text())
    with pytest.raises(RuntimeError, match="0002_create_flights was changed after it was applied"):
        migrate(mysql_cfg)


NASTY = ["tab\there", 'quote " inside', "back\\slash", "new\nline", "Zürich – ✈ 東京", r"\N", "NULL", ""]


def _airlines_frame() -> pd.DataFrame:
    return conform(pd.DataFrame({
        "airline_code": [f"A{i}" for i in range(len(NASTY))] + ["ZZ"],
        "icao_code": ["ABC"] * len(NASTY) + [None],
        "name": [*NASTY, None],
        "source": "test",
        "updated_at": datetime(2026, 3, 1, 12, 30, 45),
    }), AIRLINES)


@pytest.mark.parametrize("use_load_data", [True, False], ids=["load-data-infile", "multi-row-insert"])
def test_both_load_paths_keep_every_value_exactly(migrated_mysql, use_load_data):
    frame = _airlines_frame()
    with connection(migrated_mysql) as conn:
        staging, rows = stage_frames(conn, AIRLINES, [frame.iloc[:4], frame.iloc[4:]], use_load_data=use_load_data)
        assert rows == len(frame)
        publish_staging(conn, AIRLINES, staging)
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("SELECT airline_code, icao_code, name, updated_at FROM airlines ORDER BY airline_code")
            got = {code: (icao, name, ts) for code, icao, name, ts in cur.fetchall()}
    for i, text in enumerate(NASTY):
        expected = text or None  # blank is unknown: NULL by the contract, on both paths
        assert got[f"A{i}"] == ("ABC", expected, datetime(2026, 3, 1, 12, 30, 45)), repr(text)
    assert got["ZZ"] == (None, None, datetime(2026, 3, 1, 12, 30, 45))


def test_upsert_updates_changed_rows_and_fill_never_overwrites(migrated_mysql):
    first = _airlines_frame().iloc[:2]
    with connection(migrated_mysql) as conn:
        publish_staging(conn, AIRLINES, stage_frames(conn, AIRLINES, [first])[0])
        changed = first.copy()
        changed.loc[changed.index[0], "name"] = "renamed"
        publish_staging(conn, AIRLINES, stage_frames(conn, AIRLINES, [changed])[0])
        fill = first.copy()
        fill["name"] = "from a gap filler"
        fill["airline_code"] = ["A0", "NEW"]
        publish_staging(conn, AIRLINES, stage_frames(conn, AIRLINES, [fill])[0], insert_missing_only=True)
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("SELECT airline_code, name FROM airlines ORDER BY airline_code")
            assert cur.fetchall() == (("A0", "renamed"), ("A1", NASTY[1]), ("NEW", "from a gap filler"))


@pytest.mark.parametrize("use_load_data", [True, False], ids=["load-data-infile", "multi-row-insert"])
def test_a_key_twice_in_one_load_is_an_error_not_a_silent_merge(migrated_mysql, use_load_data):
    frame = _airlines_frame().iloc[:2].copy()
    frame["airline_code"] = ["DUP", "DUP"]
    with connection(migrated_mysql) as conn, pytest.raises(RuntimeError, match=r"1 key\(s\) occur more than once"):
        stage_frames(conn, AIRLINES, [frame], use_load_data=use_load_data)


def test_a_value_the_server_would_truncate_is_an_error_not_a_silent_change(migrated_mysql):
    frame = _airlines_frame().iloc[:1].copy()
    frame["icao_code"] = ["TOOLONG"]  # CHAR(3): LOAD DATA LOCAL would truncate it with a warning
    with connection(migrated_mysql) as conn, pytest.raises(RuntimeError, match="1 of 1 rows loaded with 1 warnings"):
        stage_frames(conn, AIRLINES, [frame], use_load_data=True)


def test_flights_check_constraint_rejects_an_unknown_status(migrated_mysql):
    with connection(migrated_mysql, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO countries VALUES ('DE', 'Germany', 't', '2026-03-01')")
        cur.execute("INSERT INTO airports (airport_code, country_code, source, updated_at) VALUES "
                    "('FRA', 'DE', 't', '2026-03-01')")
        with pytest.raises(pymysql.err.MySQLError, match="ck_flights_status"):
            cur.execute("INSERT INTO flights (airline_code, flight_number, departure_date, dep_airport, arr_airport, "
                        "scheduled_departure, status, source, updated_at) VALUES ('LH', '1', '2026-03-01', 'FRA', "
                        "'FRA', '2026-03-01 10:00', 'boarding', 't', '2026-03-01')")
    assert FLIGHTS.key == ("airline_code", "flight_number", "departure_date", "dep_airport")


def test_an_older_replay_never_overwrites_a_newer_row(migrated_mysql):
    newer = _airlines_frame().iloc[:1].copy()
    newer["name"], newer["updated_at"] = "new name", pd.Timestamp("2026-03-02 06:00")
    older = newer.copy()
    older["name"], older["updated_at"] = "old name", pd.Timestamp("2026-03-01 06:00")
    with connection(migrated_mysql) as conn:
        publish_staging(conn, AIRLINES, stage_frames(conn, AIRLINES, [newer])[0])
        publish_staging(conn, AIRLINES, stage_frames(conn, AIRLINES, [older])[0])
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("SELECT name, updated_at FROM airlines")
            assert cur.fetchall() == (("new name", datetime(2026, 3, 2, 6, 0)),)
        same_time = newer.copy()
        same_time["name"] = "corrected"
        publish_staging(conn, AIRLINES, stage_frames(conn, AIRLINES, [same_time])[0])
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM airlines")
            assert cur.fetchall() == (("corrected",),)


@pytest.mark.parametrize("use_load_data", [True, False], ids=["load-data-infile", "multi-row-insert"])
def test_arrow_tables_load_like_frames_and_a_key_twice_across_chunks_is_found(migrated_mysql, use_load_data):
    import pyarrow as pa

    frame = _airlines_frame()
    tables = [pa.Table.from_pandas(frame.iloc[:4], preserve_index=False),
              pa.Table.from_pandas(frame.iloc[4:], preserve_index=False)]
    with connection(migrated_mysql) as conn:
        staging, rows = stage_frames(conn, AIRLINES, tables, use_load_data=use_load_data)
        assert rows == len(frame)
        publish_staging(conn, AIRLINES, staging)
        conn.commit()
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*), SUM(name IS NULL) FROM airlines")
            assert cur.fetchone() == (len(frame), 2)  # "" and the row without a name are NULL
        twice = [tables[0], tables[0].slice(0, 1)]
        with pytest.raises(RuntimeError, match=r"1 key\(s\) occur more than once"):
            stage_frames(conn, AIRLINES, twice, use_load_data=use_load_data)


def test_a_position_without_origin_links_by_airline_number_and_time(migrated_mysql):
    """A transponder's callsign names airline and number only: such a position links to the leg in the air
    (the latest scheduled at most an hour after it); one with an origin still needs the same origin."""
    from aerolake.stores.mysql.load import day_window, link_positions_to_flights

    with connection(migrated_mysql) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO countries VALUES ('DE', 'Germany', 'test', '2026-03-01 00:00:00')")
        for code in ("FRA", "MUC", "HAM"):
            cur.execute("INSERT INTO airports (airport_code, country_code, latitude, longitude, location_type, source, "
                        "updated_at) VALUES (%s, 'DE', 50, 8, 'Airport', 'test', '2026-03-01 00:00:00')", (code,))
        for origin, dest, departure in (("FRA", "MUC", "08:00"), ("MUC", "HAM", "11:00")):
            cur.execute("INSERT INTO flights (airline_code, flight_number, departure_date, dep_airport, arr_airport, "
                        "scheduled_departure, status, source, updated_at) VALUES ('LH', '400', '2026-03-01', %s, %s, "
                        "%s, 'landed', 'test', '2026-03-01 00:00:00')", (origin, dest, f"2026-03-01 {departure}"))
        for icao24, observed, origin in (("3c6444", "09:00", None), ("3c6444", "11:30", None),
                                         ("3c6445", "09:00", "MUC"), ("3c6446", "07:00", "FRA")):
            cur.execute("INSERT INTO flight_positions (icao24, observed_at, airline_code, flight_number, dep_airport, "
                        "latitude, longitude, source, updated_at) VALUES (%s, %s, 'LH', '400', %s, 49, 9, 'test', "
                        "'2026-03-01 12:00:00')", (icao24, f"2026-03-01 {observed}", origin))
        assert link_positions_to_flights(conn, *day_window("2026-03-01")) == 3
        conn.commit()
        cur.execute("SELECT p.icao24, TIME(p.observed_at), f.dep_airport FROM flight_positions p "
                    "LEFT JOIN flights f ON f.flight_id = p.flight_id ORDER BY 1, 2")
        assert [(i, str(t), o) for i, t, o in cur.fetchall()] == [
            ("3c6444", "9:00:00", "FRA"), ("3c6444", "11:30:00", "MUC"), ("3c6445", "9:00:00", None),
            ("3c6446", "7:00:00", "FRA")]


def test_the_time_series_tables_are_indexed_day_first(migrated_mysql):
    """A load's uniqueness checks and lookups of one day touch the end of each index, not a page per flight number
    across history (migration 0013): the natural keys of flights and codeshares lead with departure_date, the
    positions' with observed_at."""
    with connection(migrated_mysql, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name, index_name, GROUP_CONCAT(column_name ORDER BY seq_in_index) FROM "
                    "information_schema.statistics WHERE table_schema = %s AND non_unique = 0 "
                    "AND table_name IN ('flights', 'flight_codeshares', 'flight_positions') "
                    "GROUP BY table_name, index_name", (migrated_mysql.database,))
        unique = {(table, index): columns for table, index, columns in cur.fetchall()}
    assert unique == {
        ("flights", "PRIMARY"): "flight_id",
        ("flights", "uq_flights_natural"): "departure_date,airline_code,flight_number,dep_airport",
        ("flight_codeshares", "PRIMARY"): "codeshare_id",
        ("flight_codeshares", "uq_codeshares_natural"):
            "departure_date,marketing_airline_code,marketing_flight_number,dep_airport",
        ("flight_positions", "PRIMARY"): "observed_at,icao24",
    }


def test_bulk_reads_return_what_a_pymysql_connection_returns(migrated_mysql) -> None:
    """db.read_all (the C client when it imports) gives the same values, types and session (UTC) as connect()."""
    from decimal import Decimal

    from aerolake.stores.mysql.db import read_all

    rows = [(1, 2.5, Decimal("3.25"), "Zürich ✈", date(2026, 3, 1), datetime(2026, 3, 1, 12, 30, 5),
             datetime(2026, 3, 1, 23, 59, 59, 123000), True),
            (2, None, None, None, date(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59), datetime(2026, 3, 1), False),
            (3, None, None, None, None, None, None, None)]
    with connection(migrated_mysql) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE bulk_read_probe (id INT PRIMARY KEY, x DOUBLE, d DECIMAL(6, 2), t VARCHAR(20), "
                    "day DATE, moment DATETIME, precise DATETIME(3), flag BOOLEAN)")
        cur.executemany("INSERT INTO bulk_read_probe VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
        conn.commit()
        statement = "SELECT *, @@session.time_zone FROM bulk_read_probe WHERE id >= %(low)s ORDER BY id"
        cur.execute(statement, {"low": 1})
        expected = cur.fetchall()
    [(names, got)] = read_all(migrated_mysql, [(statement, {"low": 1})])
    assert names == ["id", "x", "d", "t", "day", "moment", "precise", "flag", "@@session.time_zone"]
    assert got == expected
    assert got[0][6] == datetime(2026, 3, 1, 23, 59, 59, 123000) and got[1][4] == date(1, 1, 1)
    assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]
    assert got[0][3] == "Zürich ✈" and got[0][-1] == "+00:00"
