"""``aerolake``: operator commands that need no Airflow scheduler.

    aerolake migrate                 apply the MySQL migrations (idempotent)
    aerolake recount                 count the data tables again into table_stats (after manual SQL)
    aerolake offline up|down|status  the offline stack (mock API, local S3)
    aerolake stack up|down|status    the production-like stack as local processes (``make up``)
    aerolake report --date D         what landed for a day: rows per table, per-endpoint counts, quarantine
    aerolake demo --date D           every source's DAG for the day, offline (``make demo``), then the report
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path

from aerolake.core.connections import mysql_config
from aerolake.core.settings import load_settings

_COUNT_COLUMNS = ("fetched", "api_calls", "staged", "cleaned", "loaded", "quarantined", "duplicates")


def _report(date: str, dag_ids: list[str] | None = None) -> int:
    """Rows per table, then per DAG and partition of the day (snapshots too) the latest run's counts."""
    from aerolake.schema import DATA_TABLES
    from aerolake.sql import quote_identifier
    from aerolake.stores.mysql.db import connection

    cfg = mysql_config(load_settings())
    with connection(cfg, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT dag_id, partition_key, run_id FROM pipeline_runs p WHERE (partition_key = %s OR "
                    "partition_key LIKE %s) AND finished_at = (SELECT MAX(finished_at) FROM pipeline_runs q WHERE "
                    "q.dag_id = p.dag_id AND q.partition_key = p.partition_key) GROUP BY dag_id, partition_key, run_id "
                    "ORDER BY dag_id, partition_key", (date, f"{date}/%"))
        runs = [r for r in cur.fetchall() if not dag_ids or r[0] in dag_ids]
        if not runs:
            print(f"No run for {date} in {cfg.database}", file=sys.stderr)
            return 1
        print(f"\nWhat landed for {date}  (MySQL {cfg.host}:{cfg.port}/{cfg.database})\n")
        print(f"{'table':<20}{'rows':>10}{'of this day':>13}   by source (this day)")
        for table in DATA_TABLES:
            name = quote_identifier(table.name)
            cur.execute(f"SELECT COUNT(*) FROM {name}")
            total = cur.fetchone()[0]
            day, by_source = "", ""
            if table.name in ("flights", "flight_codeshares"):
                cur.execute(f"SELECT source, COUNT(*) FROM {name} WHERE departure_date = %s GROUP BY source "
                            "ORDER BY source", (date,))
                rows = cur.fetchall()
                day, by_source = str(sum(n for _s, n in rows)), ", ".join(f"{s} {n}" for s, n in rows)
            elif table.name == "flight_positions":
                cur.execute("SELECT source, COUNT(*), SUM(flight_id IS NOT NULL) FROM flight_positions WHERE "
                            "observed_at >= %s AND observed_at < %s + INTERVAL 1 DAY GROUP BY source ORDER BY source",
                            (date, date))
                rows = cur.fetchall()
                day = str(sum(n for _s, n, _l in rows))
                by_source = ", ".join(f"{s} {n} ({int(linked)} linked to flights)" for s, n, linked in rows)
            print(f"{table.name:<20}{total:>10}{day:>13}   {by_source}")
        header = f"{'endpoint':<16}" + "".join(f"{c.replace('_', ' '):>12}" for c in _COUNT_COLUMNS)
        for dag_id, partition, run_id in runs:
            print(f"\n{dag_id} {partition}  (run {run_id})\n{header}")
            cur.execute(f"SELECT endpoint, {', '.join(_COUNT_COLUMNS)} FROM pipeline_runs WHERE dag_id = %s AND "
                        "run_id = %s ORDER BY endpoint", (dag_id, run_id))
            for endpoint, *values in cur.fetchall():
                print(f"{endpoint:<16}" + "".join(f"{'' if v is None else v:>12}" for v in values))
            cur.execute("SELECT check_name, table_name, passed, observed_value, severity, details "
                        "FROM data_quality_results WHERE dag_id = %s AND run_id = %s ORDER BY result_id",
                        (dag_id, run_id))
            checks = cur.fetchall()
            failed = [c for c in checks if not c[2] and c[4] == "error"]
            warned = [c for c in checks if not c[2] and c[4] != "error"]
            print(f"quality checks: {len(checks) - len(failed) - len(warned)} passed, {len(failed)} failed, "
                  f"{len(warned)} warnings"
                  + "".join(f"\n  {'FAILED' if c in failed else 'WARNING'} {c[0]} [{c[1]}] observed={c[3]}"
                            + (f" ({c[5]})" if c[5] else "") for c in failed + warned))
        budgets = _budget_lines(cfg)
        if budgets:
            print("\nAPI budgets (now):\n" + "\n".join(f"  {line}" for line in budgets))
    return 0


def _budget_lines(cfg: object) -> list[str]:
    """Each budgeted source's budget: used, left, what the pace allows now, the next scheduled run that calls."""
    from aerolake.sources import SOURCES, budget_of
    from aerolake.stores.mysql.quotas import budget_status, describe_status

    settings = load_settings()
    lines = []
    for name in SOURCES:
        budget = budget_of(settings, name)
        if budget.per_day is not None or budget.per_month is not None:
            lines.append(describe_status(budget_status(cfg, name, budget)))
    return lines


def _stack(action: str, state_dir: Path) -> int:
    from aerolake.devstack import stack
    from aerolake.sources import SOURCES

    cfg = stack.StackConfig.load(state_dir)
    if action == "up":
        stack.up(cfg)
        print(f"Next: open the UI, log in, unpause a source's DAG ({', '.join(f'{s}_lakehouse' for s in SOURCES)}) "
              "and trigger it (Trigger, with a logical date and refetch if you like); `make down` stops the stack, "
              f"its data stays in {cfg.state_dir}.")
        return 0
    if action == "down":
        stopped = stack.down(cfg)
        print(f"stopped {len(stopped)} process(es); data kept in {cfg.state_dir}")
        return 0
    states = stack.status(cfg)
    for name, ok in states.items():
        print(f"{name:<24}{'up' if ok else 'down'}")
    answer = stack.health(cfg)
    if answer:
        print("Airflow health: " + ", ".join(f"{k} {v.get('status')}" for k, v in answer.items()
                                            if isinstance(v, dict)))
    return 0 if all(states.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aerolake", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply the MySQL migrations")
    sub.add_parser("recount", help="count the data tables again into table_stats (full scans; after manual SQL)")
    offline = sub.add_parser("offline", help="the offline stack")
    offline.add_argument("action", choices=["up", "down", "status"])
    offline.add_argument("--state-dir", type=Path, default=Path(".aerolake"))
    stack = sub.add_parser("stack", help="the production-like stack as local processes (make up / make down)")
    stack.add_argument("action", choices=["up", "down", "status"])
    stack.add_argument("--state-dir", type=Path, default=Path(".aerolake/stack"))
    report = sub.add_parser("report", help="what landed for a day")
    report.add_argument("--date", required=True)
    report.add_argument("--dag-id", action="append", help="only these DAGs (repeatable; default all)")
    demo = sub.add_parser("demo", help="every source's DAG for one day, offline (make demo)")
    demo.add_argument("--date", required=True, type=date.fromisoformat)
    demo.add_argument("--log-dir", type=Path, default=Path(".aerolake"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aerolake").setLevel(logging.WARNING)
    settings = load_settings()
    if args.command == "migrate":
        from aerolake.stores.mysql.migrate import migrate

        cfg = mysql_config(settings)
        applied = migrate(cfg)
        print(f"{cfg.database}: applied {applied or 'nothing (up to date)'}")
        return 0
    if args.command == "recount":
        from aerolake.stores.mysql.stats import recount

        cfg = mysql_config(settings)
        print(f"{cfg.database}: table_stats recounted: {recount(cfg)}")
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
    if args.command == "stack":
        return _stack(args.action, args.state_dir)
    if args.command == "demo":
        from aerolake import demo as demo_runs

        if demo_runs.run(args.date, settings, args.log_dir):
            return 1
        return _report(args.date.isoformat())
    return _report(args.date, args.dag_id)


if __name__ == "__main__":
    sys.exit(main())
