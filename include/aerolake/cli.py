"""``aerolake``: operator commands that need no Airflow scheduler.

    aerolake migrate                 apply the MySQL migrations (idempotent)
    aerolake offline up|down|status  the offline stack (mock API, local S3)
    aerolake report --date D         what landed for a day: rows per table, per-endpoint counts, quarantine
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from aerolake.connections import mysql_config
from aerolake.settings import load_settings


def _report(date: str, dag_id: str) -> int:
    from aerolake.mysql import connection, quote_identifier
    from aerolake.schema import DATA_TABLES

    cfg = mysql_config(load_settings())
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT run_id FROM pipeline_runs WHERE dag_id = %s AND partition_key = %s "
                    "ORDER BY finished_at DESC LIMIT 1", (dag_id, date))
        row = cur.fetchone()
        if row is None:
            print(f"No run of {dag_id} for {date} in {cfg.database}", file=sys.stderr)
            return 1
        run_id = row[0]
        print(f"\n{dag_id} {date}  (run {run_id}, MySQL {cfg.host}:{cfg.port}/{cfg.database})\n")
        print(f"{'table':<18}{'rows':>10}{'rows of this day':>18}")
        for table in DATA_TABLES:
            cur.execute(f"SELECT COUNT(*) FROM {quote_identifier(table.name)}")
            total = cur.fetchone()[0]
            day = ""
            if table.name == "flights":
                cur.execute("SELECT COUNT(*) FROM flights WHERE departure_date = %s", (date,))
                day = str(cur.fetchone()[0])
            print(f"{table.name:<18}{total:>10}{day:>18}")
        cur.execute(
            "SELECT endpoint, fetched, api_calls, staged, cleaned, loaded, quarantined, duplicates FROM pipeline_runs "
            "WHERE dag_id = %s AND run_id = %s ORDER BY endpoint", (dag_id, run_id))
        print(f"\n{'endpoint':<16}{'fetched':>9}{'api calls':>10}{'staged':>8}{'cleaned':>9}{'loaded':>8}"
              f"{'quarantined':>13}{'duplicates':>12}")
        for endpoint, *values in cur.fetchall():
            print(f"{endpoint:<16}" + "".join(f"{'' if v is None else v:>{w}}"
                                              for v, w in zip(values, (9, 10, 8, 9, 8, 13, 12), strict=True)))
        cur.execute("SELECT check_name, table_name, passed, observed_value FROM data_quality_results "
                    "WHERE dag_id = %s AND run_id = %s ORDER BY result_id", (dag_id, run_id))
        checks = cur.fetchall()
        failed = [c for c in checks if not c[2]]
        print(f"\nquality checks: {len(checks) - len(failed)} passed, {len(failed)} failed"
              + "".join(f"\n  FAILED {c[0]} [{c[1]}] observed={c[3]}" for c in failed))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aerolake", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply the MySQL migrations")
    offline = sub.add_parser("offline", help="the offline stack")
    offline.add_argument("action", choices=["up", "down", "status"])
    offline.add_argument("--state-dir", type=Path, default=Path(".aerolake"))
    report = sub.add_parser("report", help="what landed for a day")
    report.add_argument("--date", required=True)
    report.add_argument("--dag-id", default="lufthansa_lakehouse")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aerolake").setLevel(logging.WARNING)
    settings = load_settings()
    if args.command == "migrate":
        from aerolake.mysql import migrate

        cfg = mysql_config(settings)
        applied = migrate(cfg)
        print(f"{cfg.database}: applied {applied or 'nothing (up to date)'}")
        return 0
    if args.command == "offline":
        from aerolake import offline as stack

        if args.action == "up":
            stack.up(settings, args.state_dir)
        elif args.action == "down":
            stack.down(settings, args.state_dir)
        else:
            for name, ok in stack.status(settings).items():
                print(f"{name}: {'up' if ok else 'down'}")
        return 0
    return _report(args.date, args.dag_id)


if __name__ == "__main__":
    sys.exit(main())
