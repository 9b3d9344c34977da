"""What a demo day left in MySQL, as one digest per table: the proof that a restructuring changed no row.

    python bench/demo_digest.py --database aerolake            # after `make demo DATE=...`

Each line is ``table rows sha256``: the rows, ordered by their natural key, of every column that the data
decides. Left out are the columns the clock or the load order decides (``updated_at``, ``status_updated_at``:
when the record was fetched; the tables' surrogate ids, ``aerolake.schema.Table.surrogate_ids``, but
``flight_positions.flight_id``, reported only as linked or not) and the operational tables but two facts of
them: each quality check's observed value and outcome, and each run's counts per endpoint but its API calls
(a call the mock answers "over the rate limit" is made again: the count depends on timing, not on the code).
"""

from __future__ import annotations

import argparse
import hashlib

import pymysql

from aerolake.schema import DATA_TABLES

#: table -> (columns left out, order): the surrogate ids, by the natural key
TABLES = {t.name: (tuple(c for c in t.surrogate_ids if (t.name, c) != ("flight_positions", "flight_id")),
                   ", ".join(t.key)) for t in DATA_TABLES}
CLOCK_COLUMNS = {"updated_at", "status_updated_at"}
OPERATIONS = {
    "quality": "SELECT dag_id, partition_key, check_name, table_name, observed_value, passed "
               "FROM data_quality_results ORDER BY dag_id, partition_key, check_name, table_name",
    "stage_counts": "SELECT dag_id, partition_key, endpoint, fetched, staged, quarantined_at_staging, "
                    "duplicates_at_staging, cleaned, quarantined_at_cleaning, duplicates_at_cleaning, loaded, "
                    "status, last_stage FROM pipeline_runs ORDER BY dag_id, partition_key, endpoint",
}


def digest(rows: list[tuple]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(repr(tuple(str(v) if v is not None else None for v in row)).encode())
    return h.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="aerolake")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    conn = pymysql.connect(host=args.host, user="root", password="", database=args.database)
    with conn.cursor() as cur:
        for table, (left_out, order) in TABLES.items():
            cur.execute(f"SELECT * FROM {table} LIMIT 0")
            columns = [d[0] for d in cur.description if d[0] not in CLOCK_COLUMNS and d[0] not in left_out]
            if table == "flight_positions":
                columns = [c if c != "flight_id" else "flight_id IS NOT NULL" for c in columns]
            cur.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")
            rows = cur.fetchall()
            print(f"{table:20} {len(rows):6d} {digest(rows)}")
        for name, sql in OPERATIONS.items():
            try:
                cur.execute(sql)
            except pymysql.err.OperationalError as exc:  # a column this version does not have
                print(f"{name:20} {'-':>6} ({exc.args[1]})")
                continue
            rows = cur.fetchall()
            print(f"{name:20} {len(rows):6d} {digest(rows)}")
    conn.close()


if __name__ == "__main__":
    main()
